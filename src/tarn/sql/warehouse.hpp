// SPDX-License-Identifier: Apache-2.0
// Warehouse: the engine database plus the catalog, and the factory of Databricks SQL sessions.
#pragma once

#include <memory>
#include <string>

#include "tarn/base/result.hpp"
#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/sql/spark_types.hpp"

namespace tarn::engine {
class DuckCheckpointReader;
class DeltaWriter;
}

namespace tarn::sql {

class Session;

/// Where a new session starts.
struct SessionOptions {
  std::string catalog = std::string(catalog::kDefaultCatalog);
  std::string schema = std::string(catalog::kDefaultSchema);
  /// spark.sql.timestampType at start (and for RESET): Databricks' TIMESTAMP_LTZ; PostgreSQL-wire sessions use
  /// TIMESTAMP_NTZ (PostgreSQL's TIMESTAMP, ADR 0004).
  TimestampType timestamp_type = TimestampType::kLtz;
  /// The authenticated user (PostgreSQL-wire login, REST caller): what current_user / session_user / user /
  /// current_role return. Empty: DuckDB's default.
  std::string user;
};

/// Holds the per-database state SQL sessions share: the Spark SQL functions are registered in the database once
/// (Open), the Delta checkpoint reader used for DDL commits and the Delta writer used by data-writing statements. The Database and Catalog must outlive
/// the Warehouse, the Warehouse its Sessions. Thread-safe: any thread may call NewSession().
class Warehouse {
 public:
  /// Registers the Spark SQL functions (see spark_functions.hpp). Errors: kInternal when DuckDB refuses them.
  static Result<std::unique_ptr<Warehouse>> Open(engine::Database& database, catalog::Catalog& catalog);
  ~Warehouse();
  Warehouse(const Warehouse&) = delete;
  Warehouse& operator=(const Warehouse&) = delete;

  /// A new session on its own DuckDB connection. Errors: kCatalogNotFound / kSchemaNotFound for a bad start
  /// namespace, engine errors.
  Result<std::unique_ptr<Session>> NewSession(const SessionOptions& options = {});

  engine::Database& database() { return database_; }
  catalog::Catalog& catalog() { return catalog_; }
  engine::DuckCheckpointReader& checkpoint_reader() { return *checkpoint_reader_; }
  /// Writes Delta tables for CTAS, INSERT, UPDATE, DELETE, MERGE (one per database, thread-safe).
  engine::DeltaWriter& writer() { return *writer_; }

 private:
  Warehouse(engine::Database& database, catalog::Catalog& catalog);
  engine::Database& database_;
  catalog::Catalog& catalog_;
  std::unique_ptr<engine::DuckCheckpointReader> checkpoint_reader_;
  std::unique_ptr<engine::DeltaWriter> writer_;
};

}  // namespace tarn::sql
