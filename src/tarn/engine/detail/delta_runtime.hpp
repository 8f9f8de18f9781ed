// SPDX-License-Identifier: Apache-2.0
// DeltaRuntime: per-database state of the Delta table functions (module-private: includes duckdb.h).
#pragma once

#include <duckdb.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tarn/engine/delta_table.hpp"
#include "tarn/engine/spark_sql_rewriter.hpp"
#include "tarn/engine/types.hpp"

namespace tarn::engine {

class Database;

/// Owned by Database::Impl; the table functions registered on that database point at it (extra_info), and
/// sessions use its loader to validate Delta references before DuckDB sees a statement. Safe for concurrent use.
struct DeltaRuntime {
  explicit DeltaRuntime(Database& database, duckdb_database handle) : db(handle), loader(database) {}
  duckdb_database db;  // the database the functions run their inner queries on (not owned)
  DeltaTableLoader loader;
  std::vector<std::shared_ptr<void>> function_infos;  // extra_info of the registered functions

  /// Physical (Parquet) schemas of inlined scans keyed by the read_parquet query over their files: data files never
  /// change in place, so the schema of a file list is fixed and statements skip the inner prepare that reads it.
  /// Bounded: cleared when it reaches kMaxPhysicalSchemas entries.
  static constexpr size_t kMaxPhysicalSchemas = 512;
  std::mutex physical_mutex;
  std::unordered_map<std::string, std::shared_ptr<const std::vector<Column>>> physical_schemas;

  /// Inlined scan SQL by table root, snapshot object and encoded skipping predicates (InlineScanKey). The loader hands
  /// out one snapshot object per table version and `_delta_log` identity (a refresh without new commits returns the
  /// same object), and the SQL of a snapshot is fixed, so a table read several times by one statement (TPC-H Q21:
  /// lineitem three times) or by successive statements plans its files once. Each entry holds its snapshot, so the
  /// address in the key is not reused while the entry lives. Bounded: cleared at kMaxInlineScans entries.
  struct InlineScan {
    std::shared_ptr<const void> snapshot;  // keeps the keyed snapshot alive
    std::string sql;
  };
  static constexpr size_t kMaxInlineScans = 64;
  std::mutex inline_mutex;
  std::unordered_map<std::string, InlineScan> inline_scans;
};

/// Creates the runtime of `database` and registers delta_scan, table_changes, delta_history, delta_detail,
/// delta_files and __tarn_deleted_rows. Errors: kInternal when DuckDB refuses a registration.
Result<std::unique_ptr<DeltaRuntime>> RegisterDeltaFunctions(Database& database, duckdb_database handle);

/// The statement front-end context of `runtime`: its loader, and inline scans (a query over read_parquet with
/// partition constants and an anti join on __tarn_deleted_rows for deletion vectors). The runtime must outlive it.
SparkSqlContext DeltaSqlContext(DeltaRuntime& runtime);

/// The deletion vectors of a plan's files in the form __tarn_deleted_rows(root, dvs) takes as `dvs`.
std::string EncodeDeletionVectors(const DeltaScanPlan& plan);

}  // namespace tarn::engine
