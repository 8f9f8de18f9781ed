// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: SQL text from clients through the front end before DuckDB runs anything: tokenizer, statement
// splitting, type and qualified-name parsing, the Spark SQL rewriter, name resolution against a real catalog
// (Session::Translate, in-memory metadata and DuckDB) and the pg_catalog dialect rewrite. Nothing is executed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>

#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/spark_sql_rewriter.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/sql/detail/name_resolver.hpp"
#include "tarn/sql/detail/pg_catalog.hpp"
#include "tarn/sql/detail/spark_type_parser.hpp"
#include "tarn/sql/detail/tokens.hpp"
#include "tarn/sql/session.hpp"
#include "tarn/sql/spark_functions.hpp"
#include "tarn/sql/spark_types.hpp"
#include "tarn/sql/warehouse.hpp"

namespace {

// One warehouse for the whole process: a catalog with a partitioned table and a view, so that names resolve.
struct Env {
  std::filesystem::path dir;
  std::unique_ptr<tarn::meta::SqliteMetaStore> store;
  std::unique_ptr<tarn::catalog::Catalog> catalog;
  std::unique_ptr<tarn::engine::Database> database;
  std::unique_ptr<tarn::sql::Warehouse> warehouse;
  std::unique_ptr<tarn::sql::Session> session;
};

Env* MakeEnv() {
  auto* env = new Env();  // lives for the whole fuzzing process
  env->dir = std::filesystem::temp_directory_path() / ("tarn_sql_fuzzer_" + std::to_string(::getpid()));
  std::filesystem::remove_all(env->dir);
  std::filesystem::create_directories(env->dir / "dbfs");
  env->store = tarn::meta::SqliteMetaStore::Open(":memory:").value();
  env->catalog = tarn::catalog::Catalog::Open(*env->store, {(env->dir / "dbfs").string(), nullptr}).value();
  env->database = tarn::engine::Database::Open({}).value();
  env->warehouse = tarn::sql::Warehouse::Open(*env->database, *env->catalog).value();
  env->session = env->warehouse->NewSession().value();
  for (const char* setup : {"CREATE TABLE t (id BIGINT, s STRING, ts TIMESTAMP) PARTITIONED BY (s)",
                            "INSERT INTO t VALUES (1, 'a', TIMESTAMP '2024-01-01 00:00:00')",
                            "CREATE VIEW v AS SELECT id, s FROM t WHERE id > 0"}) {
    if (!env->session->Execute(setup).ok()) std::abort();
  }
  std::atexit([] { std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                               ("tarn_sql_fuzzer_" + std::to_string(::getpid()))); });
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tarn::sql;
  static Env* env = MakeEnv();
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  auto tokens = detail::Tokenize(sql);
  for (const auto& statement : detail::SplitStatements(sql)) (void)statement.tokens.size();
  for (size_t i = 0; i < tokens.size(); i++) {
    size_t j = i;
    detail::ParseTypeTokens(tokens, j).status().IgnoreError();
    if (auto name = detail::ReadQualifiedName(tokens, i)) {
      detail::Qualify(*name, {"main", "default"}).status().IgnoreError();
    }
  }
  ParseSparkType(sql).status().IgnoreError();
  ParseTimestampType(sql).status().IgnoreError();
  SparkPatternToStrftime(sql);
  detail::NeedsPgCatalog(tokens);
  detail::RewritePgDialect(sql);
  tarn::engine::RewriteSparkSql(sql, {}).status().IgnoreError();
  env->session->Translate(sql).status().IgnoreError();
  return 0;
}
