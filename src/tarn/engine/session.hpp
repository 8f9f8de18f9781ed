// SPDX-License-Identifier: Apache-2.0
// Session: one DuckDB connection; runs statements, scripts and prepared statements; interruptible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/base/status.hpp"
#include "tarn/engine/result_stream.hpp"
#include "tarn/engine/types.hpp"

namespace tarn::engine {

class Session;

/// A statement parsed and bound once, executed many times with different parameters ($1, $2 or ?).
/// The Session must outlive it. Used by the Session's thread only.
class PreparedStatement {
 public:
  ~PreparedStatement();
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;

  /// Number of parameters.
  size_t NumParams() const;
  /// Type DuckDB inferred for parameter `index` (1-based); kInvalid when it could not infer one.
  LogicalType ParamType(size_t index) const;
  /// Result columns known before execution (empty for statements without rows).
  const std::vector<Column>& columns() const;
  StatementType statement_type() const;

  /// Binds parameter `index` (1-based). Text is cast by DuckDB to the parameter's type at execution.
  /// Errors: kInvalidParameterValue (index out of range or value not accepted).
  Status Bind(size_t index, const ParamValue& value);
  /// Forgets all bound values.
  void ClearBindings();

  /// Runs the statement with the bound values. Closes any open stream of the Session first.
  /// Errors: as Session::Execute.
  Result<std::unique_ptr<ResultStream>> Execute();

  /// Engine-internal (Impl is defined in detail/).
  struct Impl;
  explicit PreparedStatement(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

/// Counters of a Session's plan cache (see Session::Execute).
struct PlanCacheStats {
  uint64_t hits = 0;    // Execute calls that reused a cached plan
  uint64_t misses = 0;  // single-statement Execute calls that prepared their text
  size_t entries = 0;   // plans cached now
};

/// Called once per statement of a script with its 0-based index and its result; a returned error stops the script.
/// The stream is closed after the callback returns (unread rows are dropped).
using StatementCallback = std::function<Status(size_t statement_index, ResultStream& result)>;

/// One DuckDB connection with its own transaction state and settings. Used by one thread at a time, except
/// Interrupt() and Progress(), which any thread may call at any time while the Session is alive.
/// The Database must outlive the Session.
class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Runs SQL and streams the result of its last statement. Meant for one statement; when `sql` holds several, all but
  /// the last run to completion first (their results are dropped). SQL without any statement (empty or only
  /// comments) yields an empty result (kNothing, no columns). Closes any open stream of this Session first.
  /// Plan cache: a single SELECT without parameters that reads only catalog objects and the front-end's pinned Delta
  /// scans (no file-reading table function, no replacement scan) keeps its prepared plan, keyed by the final
  /// (rewritten) text, in a bounded LRU; the same text later skips parse, bind and planning. Any other statement
  /// except BEGIN/COMMIT/ROLLBACK and INSERT/UPDATE/DELETE (so DDL, SET, PRAGMA, COPY...) clears this session's cache; DuckDB rebinds a cached
  /// plan itself when the catalog changed since (another session's DDL). Results equal the uncached path's.
  /// Errors: the DuckDB error mapped to an ErrorCode (kSyntaxError, kTableNotFound, kColumnNotFound, kCancelled...)
  /// with DuckDB's message (syntax errors keep the "LINE 1: ..." context; see SyntaxErrorPosition in errors.hpp).
  Result<std::unique_ptr<ResultStream>> Execute(std::string_view sql);

  /// Runs every statement of `sql` in order, one at a time, calling `on_result` after each statement has started
  /// producing its result. Stops at the first error (from DuckDB or from the callback) and returns it; the
  /// statements before it stay applied (autocommit). A script without statements calls nothing and returns OK.
  Status ExecuteScript(std::string_view sql, const StatementCallback& on_result);

  /// Splits `sql` into statements and returns how many there are (0 for empty or comment-only text).
  /// Errors: kSyntaxError when the text does not parse.
  Result<size_t> CountStatements(std::string_view sql);

  /// Parses and binds one statement for repeated execution. Errors: as Execute.
  Result<std::unique_ptr<PreparedStatement>> Prepare(std::string_view sql);

  /// Asks the running query (if any) to stop; it then fails with kCancelled. Safe from any thread.
  void Interrupt();

  /// Progress of the running query in percent [0, 100], or -1 when unknown or idle. Safe from any thread.
  double Progress() const;

  /// Nanoseconds the statement front-end (Delta snapshot load/refresh, file skipping, scan SQL generation) took in
  /// the last Execute, ExecuteScript or Prepare: the metadata cost paid before DuckDB parses the statement.
  int64_t last_front_end_nanos() const;

  /// Hits, misses and size of this session's plan cache (see Execute).
  PlanCacheStats plan_cache_stats() const;

  /// Engine-internal (Impl is defined in detail/): sessions come from Database::Connect().
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tarn::engine
