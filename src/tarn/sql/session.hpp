// SPDX-License-Identifier: Apache-2.0
// sql::Session: runs Databricks SQL against the catalog: DDL, SHOW/DESCRIBE, USE, and queries over catalog tables.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/base/status.hpp"
#include "tarn/engine/result_stream.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/sql/spark_types.hpp"

namespace tarn::sql {

class Warehouse;
namespace detail {
class PgCatalog;
struct Token;
}

/// One SQL session: an engine::Session plus the current catalog and schema. Statements are Databricks SQL:
/// - catalog DDL (CREATE/DROP CATALOG|SCHEMA|TABLE|VIEW, ALTER TABLE, USE) runs against the Catalog and, for tables,
///   commits through the Delta layer;
/// - SHOW CATALOGS|SCHEMAS|TABLES|VIEWS|COLUMNS|CREATE TABLE|TBLPROPERTIES and DESCRIBE [EXTENDED] table answer
///   with Databricks' column names;
/// - any other statement is handed to DuckDB after catalog names (`t`, `s.t`, `c.s.t`, backticked too; with time
///   travel) are replaced by the engine's inlined Delta scans and views by their text.
/// Used by one thread at a time, except Interrupt(). Results follow engine::Session's stream rules.
class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Runs every statement of `sql` and streams the last one's result (an empty result for DDL).
  /// Inside BEGIN ... COMMIT, Delta writes of one table are staged and committed at COMMIT (see README.md).
  /// Errors: engine errors (42601 syntax with a position in `sql`, 42P01 unknown table, 42703 unknown column, 42804
  /// type mismatch), catalog errors (3D000, 3F000, 42P07), kFeatureNotSupported for what a transaction cannot make
  /// atomic (a second Delta table, catalog changes), kCommitConflict (40001) at COMMIT.
  Result<std::unique_ptr<engine::ResultStream>> Execute(std::string_view sql);
  /// Runs the statements of `sql` one by one, calling `on_result` after each (see engine::Session::ExecuteScript).
  Status ExecuteScript(std::string_view sql, const engine::StatementCallback& on_result);
  /// The DuckDB SQL one query statement becomes (names resolved); for tests and EXPLAIN-like tooling.
  Result<std::string> Translate(std::string_view sql);

  const std::string& current_catalog() const { return catalog_; }
  const std::string& current_schema() const { return schema_; }
  /// USE CATALOG / USE SCHEMA. Errors: kCatalogNotFound, kSchemaNotFound.
  Status UseCatalog(std::string_view catalog);
  Status UseSchema(std::string_view schema);
  /// spark.sql.timestampType: what a bare TIMESTAMP means in DDL (ADR 0004). Statements `SET [SESSION]
  /// spark.sql.timestampType = TIMESTAMP_NTZ|TIMESTAMP_LTZ`, `RESET spark.sql.timestampType` (back to the session's
  /// start value) and `SHOW spark.sql.timestampType` / `SET spark.sql.timestampType` change and read it.
  TimestampType timestamp_type() const { return timestamp_type_; }
  /// Sets the current value; `as_default` also makes it the value RESET returns to.
  void SetTimestampType(TimestampType type, bool as_default = false);
  /// Back to the start value (RESET).
  void ResetTimestampType() { timestamp_type_ = default_timestamp_type_; }
  /// The user `current_user`, `session_user`, `user`, `current_role` (also called with `()`, Spark's form) return;
  /// empty until SetUser (DuckDB's answer, "duckdb").
  const std::string& user() const { return user_; }
  /// Sets it (per-connection temporary macros shadowing DuckDB's, created when a statement first names them).
  Status SetUser(std::string_view user);
  /// True between BEGIN and COMMIT/ROLLBACK.
  bool in_transaction() const { return in_transaction_; }
  /// True after a statement failed inside BEGIN ... until COMMIT/ROLLBACK (statements then fail with
  /// kInvalidTransactionState, PostgreSQL's 25P02 message; COMMIT rolls back).
  bool transaction_failed() const;

  /// Builds or refreshes this session's PostgreSQL-shaped pg_catalog / information_schema (temporary DuckDB objects
  /// describing the current catalog; see detail/pg_catalog.hpp). Statements that mention them do this themselves.
  Status RefreshPgCatalog();

  /// Asks the running statement to stop (any thread).
  void Interrupt();
  engine::Session& engine() { return *engine_; }

  /// Sessions come from Warehouse::NewSession.
  Session(Warehouse& warehouse, std::unique_ptr<engine::Session> engine, std::string catalog, std::string schema);

  struct Statement;    // module-private
  struct Transaction;  // module-private: a client transaction's staged Delta writes

 private:
  Result<std::unique_ptr<engine::ResultStream>> Run(std::string_view script, const Statement& statement);
  Status EnsureUserMacros(const std::vector<detail::Token>& tokens);

  Warehouse& warehouse_;
  std::unique_ptr<engine::Session> engine_;
  std::string catalog_;
  std::string schema_;
  std::string user_;
  bool user_macros_ = false;  // the user functions exist outside any transaction
  bool in_transaction_ = false;
  TimestampType timestamp_type_ = TimestampType::kLtz;
  TimestampType default_timestamp_type_ = TimestampType::kLtz;
  std::unique_ptr<detail::PgCatalog> pg_catalog_;
  std::unique_ptr<Transaction> txn_;
};

}  // namespace tarn::sql
