// SPDX-License-Identifier: Apache-2.0
// QueryBackend: the one place where a wire connection runs SQL (a Databricks SQL session of the warehouse).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/result_stream.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/engine/types.hpp"

namespace tarn::sql {
class Warehouse;
}

namespace tarn::pgwire {

/// One row of pg_stat_activity: a live connection of the server.
struct ActivityRow {
  int32_t pid = 0;
  std::string database;
  std::string user;  // the authenticated user (token owner)
  std::string application_name;
  std::string client_addr;
  int32_t client_port = -1;
  int64_t backend_start_us = 0;   // Unix microseconds
  int64_t xact_start_us = 0;      // 0: no transaction block
  int64_t query_start_us = 0;     // 0: no query yet
  int64_t state_change_us = 0;
  std::string state;  // "idle", "active", "idle in transaction", "idle in transaction (aborted)"
  std::string query;  // the current or last statement
};

/// What a connection knows when it opens its backend (after authentication).
struct BackendStart {
  std::string database;  // the start-up packet's database
  std::string user;      // the authenticated user name: current_user, session_user, pg_stat_activity.usename
  int32_t pid = 0;       // BackendKeyData: pg_backend_pid()
  int32_t secret = 0;    // BackendKeyData secret: authenticates this connection's pg_*_backend() calls
  int32_t server_port = 0;  // inet_server_port()
  /// The server's live connections (pg_stat_activity); empty function: none.
  std::function<std::vector<ActivityRow>()> activity;
};


/// Runs statements for one wire connection. The engine allows one open result stream per session; every call
/// here first runs the before-call hook so the connection can buffer a stream it still needs (a suspended portal
/// or an open cursor) before the engine closes it. `version()` calls are answered with a PostgreSQL 15 version
/// string (clients parse it). Used by the connection's thread, except Interrupt().
class QueryBackend {
 public:
  virtual ~QueryBackend() = default;

  /// Called before each engine call that would close the open result stream.
  void SetBeforeCall(std::function<void()> hook) { before_call_ = std::move(hook); }

  /// Runs one statement and streams its result.
  Result<std::unique_ptr<engine::ResultStream>> Execute(std::string_view sql);
  /// Prepares one statement ($1... parameters). Only for statements where RunsInSession() is false.
  Result<std::unique_ptr<engine::PreparedStatement>> Prepare(std::string_view sql);
  /// The engine text a query becomes (catalog names resolved to the tables' current versions). A statement
  /// prepared earlier must be prepared again when this changed (the tables moved on). No engine call.
  Result<std::string> Translate(std::string_view sql);
  /// Runs a prepared statement with its bound parameters.
  Result<std::unique_ptr<engine::ResultStream>> Execute(engine::PreparedStatement& statement);
  /// True when the statement is handled by the SQL session itself (catalog DDL, USE, SHOW, DESCRIBE, Delta
  /// writes): it cannot be prepared on the engine; the connection runs it through Execute() with its parameters
  /// inlined as literals (InlineParams).
  virtual bool RunsInSession(std::string_view sql) const = 0;
  /// Stops the running statement (it fails with kCancelled). Any thread.
  virtual void Interrupt() = 0;
  /// The engine session statements run on (server functions, pg_stat_activity).
  virtual engine::Session& engine_session() = 0;
  /// Makes pg_stat_activity read `source` (refreshed before each statement that mentions it). As in PostgreSQL, rows
  /// of other users show `<insufficient privilege>` as query and no state or client address, unless `viewer` is the
  /// admin.
  void SetActivitySource(std::function<std::vector<ActivityRow>()> source, std::string viewer) {
    activity_ = std::move(source);
    viewer_ = std::move(viewer);
  }
  /// The SQL creating this connection's server functions (temporary macros), run before the first statement that
  /// names one of them.
  void SetServerFunctions(std::string install_sql) { functions_sql_ = std::move(install_sql); }
  /// True inside a client transaction (temporary objects created there may roll back); unknown counts as true.
  virtual bool in_transaction() const = 0;

 protected:
  virtual Result<std::unique_ptr<engine::ResultStream>> DoExecute(std::string_view sql) = 0;
  virtual Result<std::unique_ptr<engine::PreparedStatement>> DoPrepare(std::string_view sql) = 0;
  virtual Result<std::string> DoTranslate(std::string_view sql) = 0;

 private:
  // Before a statement: creates the server functions when `sql` names one, refills the pg_stat_activity temporary
  // table when it mentions it.
  void PrepareServerObjects(std::string_view sql);

  std::function<void()> before_call_;
  std::function<std::vector<ActivityRow>()> activity_;
  std::string viewer_;
  std::string functions_sql_;
  bool functions_installed_ = false;  // created outside any transaction (so they stay)
};

/// The PostgreSQL-compatible answer of version(): "PostgreSQL 15.0 (Tarn <version>) on x86_64-pc-linux-gnu, ...".
std::string PgVersionString();
/// Replaces calls of version() / pg_catalog.version() outside strings and quoted names by PgVersionString() as a
/// literal.
std::string RewriteVersionCalls(std::string_view sql);
/// Replaces $n placeholders (outside strings, quoted names and comments) by SQL literals of `params` ($1 =
/// params[0]), cast to the DuckDB type of their PostgreSQL type OID (`type_oids`; text/unknown types stay string
/// literals, NULL stays untyped). Errors: kInvalidParameterValue for $n beyond the parameters.
Result<std::string> InlineParams(std::string_view sql, const std::vector<engine::ParamValue>& params,
                                 const std::vector<int32_t>& type_oids = {});
/// The highest $n in `sql` (0 when none).
size_t CountParams(std::string_view sql);

/// Makes one QueryBackend per connection. Every backend has the server functions of `start` as per-connection
/// SQL: pg_backend_pid(), pg_cancel_backend(pid), pg_terminate_backend(pid) (through the SignalRouter),
/// inet_server_port() and the pg_stat_activity table.
using BackendFactory = std::function<Result<std::unique_ptr<QueryBackend>>(const BackendStart& start)>;

/// Production: Databricks SQL sessions of `warehouse` (which must outlive every backend). A `database` naming an
/// existing catalog becomes the session's current catalog; other names (psql sends the user name) are ignored.
/// current_user / session_user / user / current_role return `start.user`.
BackendFactory WarehouseBackendFactory(sql::Warehouse& warehouse);

/// Protocol tests: plain engine sessions of `database` (which must outlive every backend), no catalog (current_user
/// stays DuckDB's).
BackendFactory EngineBackendFactory(engine::Database& database);

}  // namespace tarn::pgwire
