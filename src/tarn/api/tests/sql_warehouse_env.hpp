// SPDX-License-Identifier: Apache-2.0
// Test fixture piece: a real SQL warehouse (temp dbfs root, in-memory metadata, in-memory DuckDB) for api tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/sql/warehouse.hpp"

namespace tarn::api {

/// Owns the services a sql::Warehouse needs; destroy after every StatementManager using it.
struct SqlWarehouseEnv {
  SqlWarehouseEnv() {
    dir = std::filesystem::temp_directory_path() /
          ("tarn_api_sql_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "dbfs");
    auto store = meta::SqliteMetaStore::Open(":memory:");
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    meta = std::move(store).value();
    auto opened = catalog::Catalog::Open(*meta, {(dir / "dbfs").string(), nullptr});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    catalog = std::move(opened).value();
    engine::DatabaseOptions options;
    options.dbfs_root = (dir / "dbfs").string();
    auto database_opened = engine::Database::Open(options);
    EXPECT_TRUE(database_opened.ok()) << database_opened.status().ToString();
    database = std::move(database_opened).value();
    auto warehouse_opened = sql::Warehouse::Open(*database, *catalog);
    EXPECT_TRUE(warehouse_opened.ok()) << warehouse_opened.status().ToString();
    warehouse = std::move(warehouse_opened).value();
  }
  ~SqlWarehouseEnv() {
    warehouse.reset();
    database.reset();
    catalog.reset();
    meta.reset();
    std::filesystem::remove_all(dir);
  }

  std::filesystem::path dir;
  std::unique_ptr<meta::SqliteMetaStore> meta;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<engine::Database> database;
  std::unique_ptr<sql::Warehouse> warehouse;
};

}  // namespace tarn::api
