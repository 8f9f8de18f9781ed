// SPDX-License-Identifier: Apache-2.0
// TablePrinter: renders rows as a readable, column-aligned text table for the CLI's default output.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace tarn::cli {

/// Collects a header and rows of text cells, then renders them with every column padded to its widest cell:
///
///     TOKEN ID  COMMENT  CREATED
///     --------  -------  --------------------
///     a1b2      ci       2024-05-01T12:00:00Z
///
/// Widths count UTF-8 code points; control characters in cells (newlines, tabs) render as spaces so a row stays
/// on one line. Rows shorter than the header are padded with empty cells, longer ones are cut. Not thread-safe.
class TablePrinter {
 public:
  explicit TablePrinter(std::vector<std::string> headers);

  /// Right-aligns `column` (numbers read better that way). Out-of-range columns are ignored.
  void SetRightAligned(size_t column, bool right_aligned = true);
  void AddRow(std::vector<std::string> cells);
  size_t num_rows() const { return rows_.size(); }

  /// Returns the rendered table, one line per row, each ending in '\n'; trailing spaces are trimmed.
  std::string ToString() const;
  void Print(std::ostream& out) const { out << ToString(); }

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;
};

/// Returns the display width of `text`: its number of UTF-8 code points.
size_t DisplayWidth(std::string_view text);

/// Formats epoch milliseconds as an ISO-8601 UTC time, "2024-05-01T12:00:00Z" (milliseconds are dropped).
std::string FormatEpochMillis(int64_t epoch_millis);

}  // namespace tarn::cli
