// SPDX-License-Identifier: Apache-2.0
// Test fixture: a temporary data dir, an in-memory metadata store, a DuckDB database, the catalog and a session.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/sql/session.hpp"
#include "tarn/sql/warehouse.hpp"

namespace tarn::sql {

class SqlTestEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tarn_sql_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "dbfs");
    auto store = meta::SqliteMetaStore::Open(":memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto catalog = catalog::Catalog::Open(*store_, {(dir_ / "dbfs").string(), nullptr});
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
    auto database = engine::Database::Open({});
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = std::move(database).value();
    auto warehouse = Warehouse::Open(*database_, *catalog_);
    ASSERT_TRUE(warehouse.ok()) << warehouse.status().ToString();
    warehouse_ = std::move(warehouse).value();
    auto session = warehouse_->NewSession();
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
  }
  void TearDown() override {
    session_.reset();
    warehouse_.reset();
    database_.reset();
    catalog_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs SQL; returns rows as text ("NULL" for nulls), or the error as "ERROR <SQLSTATE>: <message>".
  std::vector<std::vector<std::string>> Rows(std::string_view sql, Session* session = nullptr) {
    auto result = (session ? session : session_.get())->Execute(sql);
    if (!result.ok()) {
      last_error_ = result.status();
      return {{"ERROR " + std::string(result.status().sqlstate()) + ": " + result.status().message()}};
    }
    std::vector<std::vector<std::string>> rows;
    while (true) {
      auto chunk = (*result)->Next();
      if (!chunk.ok()) return {{"ERROR " + std::string(chunk.status().sqlstate()) + ": " + chunk.status().message()}};
      if (!*chunk) break;
      for (size_t r = 0; r < (*chunk)->num_rows(); r++) {
        std::vector<std::string> row;
        for (size_t c = 0; c < (*chunk)->num_columns(); c++) {
          row.push_back((*chunk)->IsNull(c, r) ? "NULL" : (*chunk)->FormatValue(c, r, engine::ValueStyle::kDuckDb));
        }
        rows.push_back(std::move(row));
      }
    }
    return rows;
  }
  // The single value of a one-row, one-column result (or the error text).
  std::string Value(std::string_view sql) {
    auto rows = Rows(sql);
    if (rows.size() != 1 || rows[0].size() != 1) return "<" + std::to_string(rows.size()) + " rows>";
    return rows[0][0];
  }
  // Runs SQL that must succeed.
  void Ok(std::string_view sql) {
    auto result = session_->Execute(sql);
    ASSERT_TRUE(result.ok()) << sql << "\n" << result.status().ToString();
    while (true) {
      auto chunk = (*result)->Next();
      ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
      if (!*chunk) break;
    }
  }
  // Runs SQL that must fail with `code`.
  void Fails(std::string_view sql, ErrorCode code) {
    auto result = session_->Execute(sql);
    ASSERT_FALSE(result.ok()) << "expected an error from: " << sql;
    EXPECT_EQ(result.status().code(), code) << sql << "\n" << result.status().ToString();
  }

  std::filesystem::path dir_;
  std::unique_ptr<meta::SqliteMetaStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<engine::Database> database_;
  std::unique_ptr<Warehouse> warehouse_;
  std::unique_ptr<Session> session_;
  Status last_error_;
};

}  // namespace tarn::sql
