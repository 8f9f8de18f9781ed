// SPDX-License-Identifier: Apache-2.0
// StatementManager: asynchronous SQL statements for the Statement Execution API (worker pool, chunked results).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/base/status.hpp"

namespace tarn::sql {
class Warehouse;
}

namespace tarn::api {

/// Statement life cycle, as the Statement Execution API names it.
enum class StatementState { kPending, kRunning, kSucceeded, kFailed, kCanceled, kClosed };
/// "PENDING", "RUNNING", ...
std::string_view StatementStateName(StatementState state);

/// Result formats this server produces (ARROW_STREAM is refused by the routes).
enum class ResultFormat { kJsonArray, kCsv };
/// INLINE: rows in the JSON answers; EXTERNAL_LINKS: each chunk served as a file at an unauthenticated, secret URL.
enum class ResultDisposition { kInline, kExternalLinks };

/// A named parameter marker value (`:name` in the text). `value` nullopt is NULL; `type` empty is STRING.
struct StatementParameter {
  std::string name;
  std::optional<std::string> value;
  std::string type;
};

/// What to run and how to keep its result.
struct StatementRequest {
  std::string statement;
  std::string catalog;  // empty: main
  std::string schema;   // empty: default
  std::vector<StatementParameter> parameters;
  ResultFormat format = ResultFormat::kJsonArray;
  ResultDisposition disposition = ResultDisposition::kInline;
  std::optional<int64_t> row_limit;   // keep at most this many rows (truncated = true when more existed)
  std::optional<int64_t> byte_limit;  // keep rows while their text size stays within this (truncated likewise)
  int64_t owner_id = 0;               // only this user sees the statement
  std::string owner_name;             // its user name: what current_user returns
};

/// One result column with its Databricks type description.
struct ResultColumn {
  std::string name;
  std::string type_name;  // ColumnInfoTypeName: INT, LONG, STRING, DECIMAL, TIMESTAMP, ARRAY, STRUCT, ...
  std::string type_text;  // full SQL type: "INT", "DECIMAL(10,2)", "ARRAY<STRING>"
  std::optional<int> type_precision;  // DECIMAL only
  std::optional<int> type_scale;      // DECIMAL only
};

/// Where a chunk sits in the result.
struct ChunkInfo {
  int64_t chunk_index = 0;
  int64_t row_offset = 0;
  int64_t row_count = 0;
  int64_t byte_count = 0;  // EXTERNAL_LINKS: size of the served file; INLINE: size of the values' text
};

/// One chunk of a finished result. INLINE chunks hold `cells` (row-major, nullopt = NULL); EXTERNAL_LINKS chunks
/// hold the file `payload` in the statement's format (CSV: header row in chunk 0 only; JSON_ARRAY: compact array).
struct ResultChunk {
  ChunkInfo info;
  ResultFormat format = ResultFormat::kJsonArray;
  size_t num_columns = 0;
  std::vector<std::optional<std::string>> cells;
  std::string payload;
};

/// A consistent view of one statement.
struct StatementSnapshot {
  std::string statement_id;
  StatementState state = StatementState::kPending;
  Status error;  // FAILED only
  ResultFormat format = ResultFormat::kJsonArray;
  ResultDisposition disposition = ResultDisposition::kInline;
  // SUCCEEDED only:
  std::vector<ResultColumn> columns;
  std::vector<ChunkInfo> chunks;
  int64_t total_row_count = 0;
  int64_t total_byte_count = 0;
  bool truncated = false;
  std::shared_ptr<const ResultChunk> first_chunk;  // chunk 0, when there is one
  std::string link_secret;                         // EXTERNAL_LINKS: the secret in the chunk URLs
  int64_t expires_ms = 0;                          // when the result goes (state CLOSED afterwards)
};

struct StatementManagerOptions {
  int workers = 4;                 // statements running at once
  size_t max_queued = 1000;        // statements waiting for a worker; beyond: kResourceExhausted
  size_t max_statements = 10000;   // statements remembered; the oldest finished ones go first
  int64_t chunk_bytes = 1 << 20;   // a chunk is closed once its values reach this many bytes ...
  int64_t chunk_rows = 100000;     // ... or this many rows
  int64_t max_inline_bytes = 25LL << 20;         // INLINE result cap (as Databricks): larger results fail
  int64_t max_external_bytes = 512LL << 20;      // EXTERNAL_LINKS result cap (held in memory)
  int64_t result_ttl_ms = 60LL * 60 * 1000;      // results are dropped (CLOSED) this long after finishing
  int64_t forget_after_ms = 12LL * 60 * 60 * 1000;  // statements unknown (404) this long after finishing
  std::function<int64_t()> clock_ms;             // epoch milliseconds; empty = system clock
};

/// Runs statements on a bounded pool of worker threads, each in its own sql::Session (catalog/schema set), and keeps
/// their results in chunks until they expire. Thread-safe. The Warehouse must outlive the manager; the destructor
/// cancels running statements and joins the workers.
class StatementManager {
 public:
  StatementManager(sql::Warehouse& warehouse, StatementManagerOptions options = {});
  ~StatementManager();
  StatementManager(const StatementManager&) = delete;
  StatementManager& operator=(const StatementManager&) = delete;

  /// Queues a statement (state PENDING) and returns its id (UUID text). Errors: kResourceExhausted when the queue is
  /// full. SQL errors (syntax, unknown table, unbound parameter, bad parameter type) surface later as FAILED.
  Result<std::string> Submit(StatementRequest request);
  /// Waits up to `timeout_ms` for the statement to reach a terminal state; returns its snapshot either way.
  /// Errors: kNotFound for an unknown id or another owner's statement.
  Result<StatementSnapshot> Wait(std::string_view id, int64_t owner_id, int64_t timeout_ms);
  /// The statement now. Errors: kNotFound.
  Result<StatementSnapshot> Get(std::string_view id, int64_t owner_id) { return Wait(id, owner_id, 0); }
  /// Chunk `index` of a SUCCEEDED statement. Errors: kNotFound; kInvalidState when not SUCCEEDED (CLOSED included);
  /// kInvalidParameterValue for an index out of range.
  Result<std::shared_ptr<const ResultChunk>> GetChunk(std::string_view id, int64_t owner_id, int64_t index);
  /// Chunk `index` for an external link: checks `secret` instead of the owner. Errors as GetChunk (kNotFound also
  /// for a wrong secret).
  Result<std::shared_ptr<const ResultChunk>> GetLinkedChunk(std::string_view id, std::string_view secret,
                                                             int64_t index);
  /// Cancels a PENDING or RUNNING statement (the running DuckDB query is interrupted); it ends CANCELED. A finished
  /// statement is left as it is. Errors: kNotFound.
  Status Cancel(std::string_view id, int64_t owner_id);

 private:
  struct Entry;
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace tarn::api
