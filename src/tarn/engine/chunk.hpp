// SPDX-License-Identifier: Apache-2.0
// Chunk: one batch of result rows (a DuckDB data chunk) with typed getters and text formatting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/engine/types.hpp"

namespace tarn::engine {

/// A batch of up to 2048 rows. Owns its data; stays valid after the ResultStream that produced it is gone.
/// Indexes are 0-based and must be in range (programmer error otherwise). Not thread-safe; immutable after creation,
/// so concurrent const use is fine.
class Chunk {
 public:
  ~Chunk();
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  size_t num_rows() const;
  size_t num_columns() const;
  const LogicalType& column_type(size_t col) const;

  bool IsNull(size_t col, size_t row) const;

  /// Typed getters for non-NULL values of fixed-width columns. The column type must match (see each line); a
  /// mismatch is a programmer error and returns 0/false/empty.
  bool GetBool(size_t col, size_t row) const;          // kBoolean
  int64_t GetInt64(size_t col, size_t row) const;      // any signed or unsigned integer up to 64 bits (kUBigInt wraps)
  uint64_t GetUInt64(size_t col, size_t row) const;    // unsigned integers
  double GetDouble(size_t col, size_t row) const;      // kFloat, kDouble, and any integer or decimal (lossy)
  int32_t GetDateDays(size_t col, size_t row) const;   // kDate: days since 1970-01-01
  int64_t GetMicros(size_t col, size_t row) const;     // kTimestamp, kTimestampTz, kTime: microseconds
  /// Returns the bytes of a kVarchar, kBlob or kBit value (kBit: DuckDB's internal layout). Valid while the Chunk lives.
  std::string_view GetString(size_t col, size_t row) const;

  /// Formats a value as text in `style`. NULL yields "NULL" in kDuckDb style (top-level only; the caller decides how
  /// to print a top-level NULL) and "" in kPostgres style: callers send NULL on the wire without formatting it.
  /// Nested NULLs print as NULL in both styles.
  std::string FormatValue(size_t col, size_t row, ValueStyle style) const;
  /// Appends the text of the non-NULL value at (col, row) to `out` as FormatValue would return it, without a
  /// temporary string (the wire encoders' per-value path).
  void AppendValue(size_t col, size_t row, ValueStyle style, std::string& out) const;
  /// Formats a column a chunk slice at a time (the wire encoders' bulk path): clears `text` and `lengths`, then
  /// appends the text of rows [begin, end) back to back to `text` (as AppendValue, type dispatch once per call) and
  /// one entry per row to `lengths`: the byte length of its text, -1 for NULL. Requires begin <= end <= num_rows().
  void FormatColumn(size_t col, size_t begin, size_t end, ValueStyle style, std::string& text,
                    std::vector<int32_t>& lengths) const;

  /// Engine-internal (Impl is defined in detail/): chunks come from ResultStream::Next().
  struct Impl;
  explicit Chunk(std::unique_ptr<Impl> impl);
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tarn::engine
