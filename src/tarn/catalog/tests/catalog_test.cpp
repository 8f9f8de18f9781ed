// SPDX-License-Identifier: Apache-2.0
// Catalog tests: default namespace, catalogs/schemas/tables/views in SQLite, managed data deletion, locations.
#include "tarn/catalog/catalog.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "tarn/meta/sqlite_meta_store.hpp"

namespace tarn::catalog {
namespace {

namespace fs = std::filesystem;

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tarn_catalog_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "dbfs");
    auto store = meta::SqliteMetaStore::Open(":memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto catalog = Catalog::Open(*store_, {(dir_ / "dbfs").string(), nullptr});
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  TableInfo Managed(std::string schema, std::string name) {
    TableInfo t;
    t.catalog_name = "main";
    t.schema_name = std::move(schema);
    t.name = std::move(name);
    t.location = catalog_->ManagedLocation("main", t.schema_name, t.name);
    fs::create_directories(fs::path(t.location) / "_delta_log");
    return t;
  }

  fs::path dir_;
  std::unique_ptr<meta::SqliteMetaStore> store_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, DefaultNamespaceExistsOnFirstStart) {
  auto catalogs = catalog_->ListCatalogs();
  ASSERT_TRUE(catalogs.ok());
  ASSERT_EQ(catalogs->size(), 1u);
  EXPECT_EQ((*catalogs)[0].name, "main");
  auto schemas = catalog_->ListSchemas("MAIN");
  ASSERT_TRUE(schemas.ok());
  ASSERT_EQ(schemas->size(), 1u);
  EXPECT_EQ((*schemas)[0].name, "default");
  // Opening again is idempotent.
  auto again = Catalog::Open(*store_, {(dir_ / "dbfs").string(), nullptr});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->ListCatalogs()->size(), 1u);
}

TEST_F(CatalogTest, CatalogsAndSchemasCreateDropWithCascade) {
  EXPECT_TRUE(*catalog_->CreateCatalog({"Sales", "c", {{"k", "v"}}, "", 0, 0}, false));
  auto dup = catalog_->CreateCatalog({"sales", "", {}, "", 0, 0}, false);
  EXPECT_EQ(dup.status().code(), ErrorCode::kDuplicateObject);
  EXPECT_FALSE(*catalog_->CreateCatalog({"sales", "", {}, "", 0, 0}, true));
  auto got = catalog_->GetCatalog("SALES");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->comment, "c");
  EXPECT_EQ(got->properties.at("k"), "v");
  // A new catalog has a default schema.
  EXPECT_TRUE(catalog_->GetSchema("sales", "default").ok());
  SchemaInfo s;
  s.catalog_name = "sales";
  s.name = "raw";
  EXPECT_TRUE(*catalog_->CreateSchema(s, false));
  EXPECT_EQ(catalog_->GetSchema("nope", "raw").status().code(), ErrorCode::kCatalogNotFound);
  EXPECT_EQ(catalog_->GetSchema("sales", "nope").status().code(), ErrorCode::kSchemaNotFound);
  EXPECT_EQ(catalog_->DropCatalog("sales", false, false).status().code(), ErrorCode::kInvalidState);
  EXPECT_TRUE(*catalog_->DropCatalog("sales", false, true));
  EXPECT_EQ(catalog_->GetCatalog("sales").status().code(), ErrorCode::kCatalogNotFound);
  EXPECT_FALSE(*catalog_->DropCatalog("sales", true, false));
  EXPECT_EQ(catalog_->DropCatalog("sales", false, false).status().code(), ErrorCode::kCatalogNotFound);
  EXPECT_EQ(catalog_->CreateCatalog({"a.b", "", {}, "", 0, 0}, false).status().code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(CatalogTest, ManagedTableDropDeletesDataExternalKeepsIt) {
  TableInfo managed = Managed("default", "T1");
  EXPECT_EQ(managed.location, (dir_ / "dbfs/user/hive/warehouse/t1").string());
  ASSERT_TRUE(catalog_->CreateTable(managed, false).ok());
  EXPECT_EQ(catalog_->CreateTable(managed, false).code(), ErrorCode::kDuplicateObject);

  TableInfo external;
  external.catalog_name = "main";
  external.schema_name = "default";
  external.name = "ext";
  external.type = TableType::kExternal;
  external.location = (dir_ / "ext").string();
  fs::create_directories(fs::path(external.location) / "_delta_log");
  ASSERT_TRUE(catalog_->CreateTable(external, false).ok());

  auto tables = catalog_->ListTables("main", "default");
  ASSERT_TRUE(tables.ok());
  ASSERT_EQ(tables->size(), 2u);
  EXPECT_EQ((*tables)[0].name, "ext");
  EXPECT_EQ((*tables)[1].name, "t1");
  EXPECT_FALSE((*tables)[1].table_id.empty());

  auto dropped = catalog_->DropTable("main", "default", "t1");
  ASSERT_TRUE(dropped.ok());
  ASSERT_TRUE(dropped->has_value());
  EXPECT_FALSE(fs::exists(managed.location));
  ASSERT_TRUE(catalog_->DropTable("main", "default", "ext").ok());
  EXPECT_TRUE(fs::exists(external.location));
  auto none = catalog_->DropTable("main", "default", "ext");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(catalog_->GetTable("main", "default", "ext").status().code(), ErrorCode::kTableNotFound);
  EXPECT_EQ(catalog_->FindTable("main", "nope", "ext").status().code(), ErrorCode::kSchemaNotFound);
}

TEST_F(CatalogTest, DropSchemaCascadeDeletesManagedData) {
  SchemaInfo s;
  s.catalog_name = "main";
  s.name = "raw";
  ASSERT_TRUE(catalog_->CreateSchema(s, false).ok());
  TableInfo t = Managed("raw", "events");
  EXPECT_EQ(t.location, (dir_ / "dbfs/user/hive/warehouse/raw.db/events").string());
  ASSERT_TRUE(catalog_->CreateTable(t, false).ok());
  EXPECT_EQ(catalog_->DropSchema("main", "raw", false, false).status().code(), ErrorCode::kInvalidState);
  EXPECT_TRUE(fs::exists(t.location));
  EXPECT_TRUE(*catalog_->DropSchema("main", "raw", false, true));
  EXPECT_FALSE(fs::exists(t.location));
  EXPECT_EQ(catalog_->GetSchema("main", "raw").status().code(), ErrorCode::kSchemaNotFound);
}

TEST_F(CatalogTest, ManagedLocationLayoutAndCollisionSuffix) {
  ASSERT_TRUE(catalog_->CreateCatalog({"dev", "", {}, "", 0, 0}, false).ok());
  EXPECT_EQ(catalog_->ManagedLocation("dev", "default", "x"),
            (dir_ / "dbfs/user/hive/warehouse/dev.catalog/default.db/x").string());
  fs::create_directories(dir_ / "dbfs/user/hive/warehouse/x");
  EXPECT_EQ(catalog_->ManagedLocation("main", "default", "X"), (dir_ / "dbfs/user/hive/warehouse/x_1").string());
}

TEST_F(CatalogTest, RenameUpdateAndViews) {
  TableInfo t = Managed("default", "a");
  t.comment = "first";
  ASSERT_TRUE(catalog_->CreateTable(t, false).ok());
  ASSERT_TRUE(catalog_->RenameTable("main", "default", "a", "default", "b").ok());
  EXPECT_EQ(catalog_->GetTable("main", "default", "a").status().code(), ErrorCode::kTableNotFound);
  auto b = catalog_->GetTable("main", "default", "b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->location, t.location);  // data does not move
  b->comment = "second";
  b->properties["x"] = "1";
  ASSERT_TRUE(catalog_->UpdateTable(*b).ok());
  auto b2 = catalog_->GetTable("main", "default", "b");
  EXPECT_EQ(b2->comment, "second");
  EXPECT_EQ(b2->properties.at("x"), "1");

  TableInfo v;
  v.catalog_name = "main";
  v.schema_name = "default";
  v.name = "v";
  v.type = TableType::kView;
  v.data_source_format = "";
  v.view_text = "SELECT 1";
  v.view_catalog = "main";
  v.view_schema = "default";
  ASSERT_TRUE(catalog_->CreateTable(v, false).ok());
  EXPECT_EQ(catalog_->RenameTable("main", "default", "v", "default", "b").code(), ErrorCode::kDuplicateObject);
  v.view_text = "SELECT 2";
  ASSERT_TRUE(catalog_->CreateTable(v, true).ok());
  EXPECT_EQ(catalog_->GetTable("main", "default", "v")->view_text, "SELECT 2");
  EXPECT_TRUE(fs::exists(t.location));  // replacing a view never touches table data
}

TEST_F(CatalogTest, ResolveLocation) {
  EXPECT_EQ(*catalog_->ResolveLocation("dbfs:/mnt/x/"), (dir_ / "dbfs/mnt/x").string());
  EXPECT_EQ(*catalog_->ResolveLocation("file:///tmp/a"), "/tmp/a");
  EXPECT_EQ(*catalog_->ResolveLocation("file:/tmp/a"), "/tmp/a");
  EXPECT_EQ(*catalog_->ResolveLocation("/tmp/a"), "/tmp/a");
  EXPECT_EQ(catalog_->ResolveLocation("s3://b/k").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(catalog_->ResolveLocation("rel/path").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(catalog_->ResolveLocation("dbfs:/a/../../etc").status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(CatalogTest, ConcurrentCreatesOfOneNameCreateItOnce) {
  std::atomic<int> created{0};
  std::atomic<int> duplicates{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; i++) {
    threads.emplace_back([&] {
      auto r = catalog_->CreateCatalog({"race", "", {}, "", 0, 0}, false);
      if (r.ok()) created++;
      else if (r.status().code() == ErrorCode::kDuplicateObject) duplicates++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(duplicates.load(), 7);
}

}  // namespace
}  // namespace tarn::catalog
