// SPDX-License-Identifier: Apache-2.0
// ResultStream: runs a prepared statement through DuckDB's streaming API and hands out its chunks.
#include "tarn/engine/result_stream.hpp"

#include <chrono>
#include <thread>

#include "tarn/engine/detail/duck_types.hpp"
#include "tarn/engine/detail/impl.hpp"
#include "tarn/engine/duck_error.hpp"

namespace tarn::engine {

ResultStream::ResultStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultStream::~ResultStream() { impl_->Close(); }

const std::vector<Column>& ResultStream::columns() const { return *impl_->columns; }
StatementType ResultStream::statement_type() const { return impl_->statement_type; }
ResultKind ResultStream::result_kind() const { return impl_->result_kind; }
int64_t ResultStream::rows_changed() const { return impl_->rows_changed; }
void ResultStream::Close() { impl_->Close(); }
bool ResultStream::closed() const { return impl_->closed; }

Result<std::unique_ptr<Chunk>> ResultStream::Next() {
  if (impl_->buffered) return std::move(impl_->buffered);
  if (impl_->closed) {
    return Error(ErrorCode::kInvalidState, "result stream was closed before its end (another statement ran on its "
                                           "session, or Close() was called)");
  }
  if (impl_->done) return std::unique_ptr<Chunk>();
  return impl_->Fetch();
}

namespace {
// Chunks (of up to 2048 rows) after which a stream counts as long for the task pool.
constexpr size_t kLongStream = 4;
}  // namespace

Result<std::unique_ptr<Chunk>> ResultStream::Impl::Fetch() {
  while (true) {
    duckdb_data_chunk chunk;
    if (session != nullptr) {
      // A streaming scan runs in here. From the kLongStream-th chunk on, the stream keeps the task pool's helpers
      // feeding it (parallel scan and decode) while the client consumes rows, until it ends or closes.
      if (++fetched == kLongStream) {
        session->activity.long_stream.store(true);
        if (session->pool != nullptr) session->pool->Notify();
      }
      detail::BusyScope busy(session->activity.busy_since, session->pool);
      chunk = duckdb_fetch_chunk(result.ref());
    } else {
      chunk = duckdb_fetch_chunk(result.ref());
    }
    if (chunk == nullptr) {
      done = true;
      const char* error = duckdb_result_error(result.get());
      Status status;
      if (error != nullptr && *error != '\0') status = DuckError(duckdb_result_error_type(result.get()), error);
      Close();
      if (!status.ok()) return status;
      return std::unique_ptr<Chunk>();
    }
    if (duckdb_data_chunk_get_size(chunk) == 0) {
      duckdb_destroy_data_chunk(&chunk);
      continue;
    }
    return detail::WrapChunk(chunk, columns);
  }
}

void ResultStream::Impl::Close() {
  if (session != nullptr && fetched >= kLongStream) session->activity.long_stream.store(false);
  if (session != nullptr && session->active == this) session->active = nullptr;
  session = nullptr;
  result.Reset();
  owned_prepared.Reset();
  buffered.reset();
  if (!done) closed = true;
  done = true;
}

namespace detail {

// How long the task loop waits when DuckDB's worker threads hold all runnable tasks.
constexpr std::chrono::microseconds kNoTaskBackoff{200};

Result<std::unique_ptr<ResultStream>> StartStream(Session::Impl& session, duckdb_prepared_statement prepared,
                                                  DuckPrepared owned) {
  session.CloseActive();
  duckdb_statement_type type = duckdb_prepared_statement_type(prepared);
  if (type != DUCKDB_STATEMENT_TYPE_SELECT && type != DUCKDB_STATEMENT_TYPE_TRANSACTION &&
      type != DUCKDB_STATEMENT_TYPE_INSERT && type != DUCKDB_STATEMENT_TYPE_UPDATE &&
      type != DUCKDB_STATEMENT_TYPE_DELETE) {
    // DDL, SET (TimeZone, search_path...), PRAGMA, ATTACH, COPY, CALL...: cached plans may no longer bind the same
    // way. Row changes do not change bindings. Never a cached statement itself (only SELECTs are cached).
    session.plans.Clear();
  }
  BusyScope busy(session.activity.busy_since, session.pool);
  DuckPending pending;
  if (duckdb_pending_prepared_streaming(prepared, pending.out()) == DuckDBError) {
    const char* error = pending ? duckdb_pending_error(pending.get()) : nullptr;
    return DuckErrorFromMessage(error != nullptr ? error : "could not start the query");
  }
  // Drive the work that precedes the first row (scans feeding aggregates, sorts, joins) from this thread: DuckDB
  // updates the query progress only from this task loop, not while a streaming result is fetched.
  while (true) {
    duckdb_pending_state state = duckdb_pending_execute_task(pending.get());
    if (state == DUCKDB_PENDING_RESULT_READY) break;
    if (state == DUCKDB_PENDING_ERROR) {
      const char* error = duckdb_pending_error(pending.get());
      return DuckErrorFromMessage(error != nullptr ? error : "query failed");
    }
    if (state == DUCKDB_PENDING_NO_TASKS_AVAILABLE) std::this_thread::sleep_for(kNoTaskBackoff);
  }
  auto impl = std::make_unique<ResultStream::Impl>();
  if (duckdb_execute_pending(pending.get(), impl->result.out()) == DuckDBError) {
    return DuckError(duckdb_result_error_type(impl->result.get()), duckdb_result_error(impl->result.get()));
  }
  impl->owned_prepared = std::move(owned);
  duckdb_result& result = impl->result.ref();
  auto columns = std::make_shared<std::vector<Column>>();
  idx_t num_columns = duckdb_column_count(&result);
  for (idx_t i = 0; i < num_columns; i++) {
    DuckLogicalType type(duckdb_column_logical_type(&result, i));
    const char* name = duckdb_column_name(&result, i);
    columns->push_back(Column{name != nullptr ? name : "", FromDuckLogicalType(type.get())});
  }
  impl->columns = std::move(columns);
  impl->statement_type = FromDuckStatementType(duckdb_result_statement_type(result));
  impl->result_kind = FromDuckResultType(duckdb_result_return_type(result));
  impl->session = &session;
  session.active = impl.get();
  if (impl->result_kind == ResultKind::kChangedRows) {
    // The count arrives as one BIGINT row; read it now so rows_changed() is known before the rows are.
    TARN_ASSIGN_OR_RETURN(impl->buffered, impl->Fetch());
    if (impl->buffered && impl->buffered->num_columns() == 1 && impl->buffered->num_rows() == 1 &&
        !impl->buffered->IsNull(0, 0)) {
      impl->rows_changed = impl->buffered->GetInt64(0, 0);
    }
  }
  return std::make_unique<ResultStream>(std::move(impl));
}

}  // namespace detail
}  // namespace tarn::engine
