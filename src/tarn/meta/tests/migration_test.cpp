// SPDX-License-Identifier: Apache-2.0
// Tests for schema migrations: applied once, in order, atomically, and newer schemas refused.
#include "tarn/meta/migration.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tarn/base/crypto.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"

namespace tarn::meta {
namespace {

namespace fs = std::filesystem;

class MigrationTest : public ::testing::Test {
 protected:
  MigrationTest() : dir_(fs::temp_directory_path() / ("tarn-migration-test-" + RandomHex(8))) {
    fs::create_directories(dir_);
  }
  ~MigrationTest() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string DbPath() const { return (dir_ / "meta.db").string(); }

  Result<std::unique_ptr<SqliteMetaStore>> Open(const std::vector<Migration>* migrations = nullptr) {
    SqliteOptions options;
    options.migrations = migrations;
    return SqliteMetaStore::Open(DbPath(), options);
  }

  static std::vector<std::pair<int64_t, int64_t>> AppliedVersions(MetaStore& store) {
    std::vector<std::pair<int64_t, int64_t>> out;
    auto rows = store.Query("SELECT version, applied_at FROM schema_migrations ORDER BY version");
    EXPECT_TRUE(rows.has_value()) << rows.status().ToString();
    if (!rows.has_value()) return out;
    for (const auto& r : rows->rows) out.emplace_back(r.Int(0), r.Int(1));
    return out;
  }

 private:
  fs::path dir_;
};

TEST_F(MigrationTest, BuiltinMigrationsCreateIdentityTables) {
  auto store = Open();
  ASSERT_TRUE(store.has_value()) << store.status().ToString();
  auto version = (*store)->SchemaVersion();
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, LatestSchemaVersion());
  EXPECT_GE(LatestSchemaVersion(), 1);
  EXPECT_EQ(AppliedVersions(**store).size(), BuiltinMigrations().size());
  for (const char* table : {"users", "tokens"}) {
    EXPECT_TRUE((*store)->Query(std::string("SELECT * FROM ") + table).has_value()) << table;
  }
}

TEST_F(MigrationTest, ReopenDoesNotReapply) {
  std::vector<std::pair<int64_t, int64_t>> first;
  {
    auto store = Open();
    ASSERT_TRUE(store.has_value()) << store.status().ToString();
    first = AppliedVersions(**store);
  }
  auto store = Open();
  ASSERT_TRUE(store.has_value()) << store.status().ToString();
  EXPECT_EQ(AppliedVersions(**store), first);  // same versions, same applied_at
  // Running the migrator again by hand is also a no-op.
  EXPECT_TRUE(ApplyMigrations(**store, BuiltinMigrations()).ok());
  EXPECT_EQ(AppliedVersions(**store), first);
}

TEST_F(MigrationTest, NewMigrationsApplyInOrderOnTopOfOldOnes) {
  std::vector<Migration> v1 = {{1, "a", "CREATE TABLE a (x INTEGER)"}};
  std::vector<Migration> v3 = {
      {1, "a", "CREATE TABLE a (x INTEGER)"},
      {2, "b", "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (2)"},
      {3, "c", "ALTER TABLE b ADD COLUMN z TEXT; INSERT INTO b (y, z) VALUES ((SELECT MAX(x) FROM a), 'three')"},
  };
  {
    auto store = Open(&v1);
    ASSERT_TRUE(store.has_value()) << store.status().ToString();
    EXPECT_EQ(*(*store)->SchemaVersion(), 1);
  }
  auto store = Open(&v3);
  ASSERT_TRUE(store.has_value()) << store.status().ToString();
  EXPECT_EQ(*(*store)->SchemaVersion(), 3);
  auto row = (*store)->QueryRow("SELECT y, z FROM b");
  ASSERT_TRUE(row.has_value() && row->has_value()) << row.status().ToString();
  EXPECT_EQ((*row)->Int(0), 2);  // migration 3 saw migration 2's row
  EXPECT_EQ((*row)->String(1), "three");
  EXPECT_EQ(AppliedVersions(**store).size(), 3u);
}

TEST_F(MigrationTest, NewerSchemaIsRefused) {
  {
    auto store = Open();
    ASSERT_TRUE(store.has_value()) << store.status().ToString();
    ASSERT_TRUE((*store)
                    ->Execute("INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
                              {7, "from the future", 0})
                    .has_value());
  }
  auto store = Open();
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.status().code(), ErrorCode::kInvalidState);
  EXPECT_EQ(store.status().message(), fmt::format("metadata schema version 7 is newer than this tarn supports ({}); "
                                                  "upgrade tarn",
                                                  LatestSchemaVersion()));
}

TEST_F(MigrationTest, FailedMigrationLeavesPreviousVersion) {
  std::vector<Migration> broken = {
      {1, "a", "CREATE TABLE a (x INTEGER)"},
      {2, "half", "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1)"},
  };
  auto failed = Open(&broken);
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.status().message().find("migration 2"), std::string::npos) << failed.status().message();
  std::vector<Migration> good = {{1, "a", "CREATE TABLE a (x INTEGER)"}};
  auto store = Open(&good);
  ASSERT_TRUE(store.has_value()) << store.status().ToString();
  EXPECT_EQ(*(*store)->SchemaVersion(), 1);
  EXPECT_FALSE((*store)->Query("SELECT * FROM half").has_value());  // the partial migration rolled back
}

TEST_F(MigrationTest, MisorderedListIsRejected) {
  std::vector<Migration> misordered = {{2, "b", "CREATE TABLE b (x INTEGER)"}, {1, "a", "CREATE TABLE a (x INTEGER)"}};
  auto store = Open(&misordered);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.status().code(), ErrorCode::kInternal);
}

TEST(BuiltinMigrationsTest, VersionsAscendFromOne) {
  const auto& migrations = BuiltinMigrations();
  ASSERT_FALSE(migrations.empty());
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(migrations[i].description.empty());
    EXPECT_FALSE(migrations[i].sql.empty());
  }
}

}  // namespace
}  // namespace tarn::meta
