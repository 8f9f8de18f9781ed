// SPDX-License-Identifier: Apache-2.0
// Private state behind the engine's public classes (module-private: includes duckdb.h).
#pragma once

#include <duckdb.h>

#include <atomic>
#include <memory>
#include <vector>

#include "tarn/engine/chunk.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/result_stream.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/engine/detail/delta_runtime.hpp"
#include "tarn/engine/detail/duck_handles.hpp"
#include "tarn/engine/detail/plan_cache.hpp"
#include "tarn/engine/detail/task_pool.hpp"

namespace tarn::engine {

using ColumnsPtr = std::shared_ptr<const std::vector<Column>>;

struct Chunk::Impl {
  detail::DuckDataChunk chunk;
  ColumnsPtr columns;
  idx_t num_rows = 0;
  std::vector<duckdb_vector> vectors;
  std::vector<const void*> data;          // duckdb_vector_get_data per column, read once (the getters' hot path)
  std::vector<const uint64_t*> validity;  // duckdb_vector_get_validity per column (nullptr: no NULLs)
};

struct ResultStream::Impl {
  Session::Impl* session = nullptr;  // set while this is the session's open stream
  detail::DuckPrepared owned_prepared;  // the statement, when the stream owns it (Session::Execute)
  detail::DuckResult result;
  ColumnsPtr columns;
  StatementType statement_type = StatementType::kInvalid;
  ResultKind result_kind = ResultKind::kNothing;
  int64_t rows_changed = 0;
  std::unique_ptr<Chunk> buffered;  // a chunk read ahead (the "Count" chunk of DML)
  size_t fetched = 0;                // chunks fetched so far (a long stream asks the task pool for helpers)
  bool done = false;
  bool closed = false;

  /// Fetches the next chunk from DuckDB (nullptr at the end).
  Result<std::unique_ptr<Chunk>> Fetch();
  /// Releases the DuckDB result and detaches from the session.
  void Close();
};

struct Session::Impl {
  detail::DuckConnection connection;
  ResultStream::Impl* active = nullptr;  // the open stream, closed before the next statement starts
  DeltaRuntime* delta = nullptr;         // the database's Delta functions (statement front-end); not owned
  int64_t front_end_nanos = 0;           // RewriteSparkSql time of the last Execute/ExecuteScript/Prepare
  const detail::TableFunctionNames* table_functions = nullptr;  // the database's (plan cache checks); not owned
  size_t generated_table_calls = 0;  // table function calls the front-end generated for the current statement
  // Prepared SELECTs by final text (Session::Execute). Declared after `connection`: destroyed before it closes.
  // Cleared whenever a statement other than SELECT, INSERT/UPDATE/DELETE or a transaction statement starts here.
  detail::PlanCache plans;
  detail::SessionActivity activity;  // what the task pool watches (inside DuckDB since, long stream)
  detail::TaskPool* pool = nullptr;  // the database's; `activity` is registered with it while this lives

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (pool != nullptr) pool->Unregister(&activity);
  }

  void CloseActive() {
    if (active != nullptr) active->Close();
    active = nullptr;
  }
};

struct PreparedStatement::Impl {
  Session::Impl* session = nullptr;
  detail::DuckPrepared prepared;
  std::vector<Column> columns;
  StatementType statement_type = StatementType::kInvalid;
};

struct Database::Impl {
  DatabaseOptions options;
  detail::DuckDatabase database;
  std::unique_ptr<DeltaRuntime> delta;  // declared after `database`: destroyed before it closes
  detail::TableFunctionNames table_functions;  // table functions and macros at open (plan cache checks)
  std::unique_ptr<detail::TaskPool> pool;      // after `database`: stopped before it closes
};

namespace detail {

/// Runs a prepared statement (closing the session's open stream first) and returns its stream, registered as the
/// session's open stream. `owned` (may be empty) is kept alive by the stream.
Result<std::unique_ptr<ResultStream>> StartStream(Session::Impl& session, duckdb_prepared_statement prepared,
                                                  DuckPrepared owned);
/// Wraps a fetched DuckDB chunk.
std::unique_ptr<Chunk> WrapChunk(duckdb_data_chunk chunk, ColumnsPtr columns);

}  // namespace detail
}  // namespace tarn::engine
