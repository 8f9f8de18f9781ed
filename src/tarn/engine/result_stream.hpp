// SPDX-License-Identifier: Apache-2.0
// ResultStream: the streamed result of one statement, fetched chunk by chunk.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/engine/chunk.hpp"
#include "tarn/engine/types.hpp"

namespace tarn::engine {

/// The result of one executed statement. Rows are produced lazily: each Next() runs the query until the next chunk
/// is ready, so memory stays bounded by a few chunks however large the result.
///
/// DuckDB allows one open streaming result per connection: starting another statement on the same Session (Execute,
/// ExecuteScript or PreparedStatement::Execute) closes this stream first; afterwards Next() returns
/// kInvalidState. Destroying the stream early is fine (the query is abandoned). The Session must outlive the stream;
/// if it does not, the stream is closed when the Session goes away. Used by one thread at a time.
class ResultStream {
 public:
  ~ResultStream();
  ResultStream(const ResultStream&) = delete;
  ResultStream& operator=(const ResultStream&) = delete;

  const std::vector<Column>& columns() const;
  StatementType statement_type() const;
  ResultKind result_kind() const;
  /// Rows inserted/updated/deleted for kChangedRows results (the value of the "Count" column), else 0.
  int64_t rows_changed() const;

  /// Returns the next chunk (never empty), or nullptr at the end. Errors raised while running the query (division
  /// by zero, interrupt -> kCancelled ...) surface here. After an error or the end, Next() keeps returning nullptr.
  Result<std::unique_ptr<Chunk>> Next();

  /// Ends the stream now, abandoning unread rows. Idempotent.
  void Close();
  bool closed() const;

  /// Engine-internal (Impl is defined in detail/): streams come from Session / PreparedStatement.
  struct Impl;
  explicit ResultStream(std::unique_ptr<Impl> impl);
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tarn::engine
