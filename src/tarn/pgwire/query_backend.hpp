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

 protected:
  virtual Result<std::unique_ptr<engine::ResultStream>> DoExecute(std::string_view sql) = 0;
  virtual Result<std::unique_ptr<engine::PreparedStatement>> DoPrepare(std::string_view sql) = 0;
  virtual Result<std::string> DoTranslate(std::string_view sql) = 0;

 private:
  std::function<void()> before_call_;
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

/// Makes one QueryBackend per connection; `database` is the start-up packet's database name.
using BackendFactory = std::function<Result<std::unique_ptr<QueryBackend>>(const std::string& database)>;

/// Production: Databricks SQL sessions of `warehouse` (which must outlive every backend). A `database` naming an
/// existing catalog becomes the session's current catalog; other names (psql sends the user name) are ignored.
BackendFactory WarehouseBackendFactory(sql::Warehouse& warehouse);

/// Protocol tests: plain engine sessions of `database` (which must outlive every backend), no catalog.
BackendFactory EngineBackendFactory(engine::Database& database);

}  // namespace tarn::pgwire
