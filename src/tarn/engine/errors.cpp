// SPDX-License-Identifier: Apache-2.0
// Extracts error positions from DuckDB messages ("LINE n: <context>" followed by a caret line).
#include "tarn/engine/errors.hpp"

#include <string>

namespace tarn::engine {
namespace {

constexpr std::string_view kEllipsis = "...";

// Counts UTF-8 characters in the first `bytes` bytes of `text` (PostgreSQL positions count characters).
size_t CountChars(std::string_view text, size_t bytes) {
  size_t chars = 0;
  for (size_t i = 0; i < bytes && i < text.size(); i++) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) chars++;
  }
  return chars;
}

}  // namespace

std::optional<size_t> SyntaxErrorPosition(std::string_view message, std::string_view sql) {
  // DuckDB repeats the context block in some paths; the first one is as good as any.
  size_t line_pos = message.find("\nLINE ");
  if (line_pos == std::string_view::npos) return std::nullopt;
  std::string_view rest = message.substr(line_pos + 1);
  size_t colon = rest.find(": ");
  size_t newline = rest.find('\n');
  if (colon == std::string_view::npos || newline == std::string_view::npos || colon > newline) return std::nullopt;
  size_t line_number = 0;
  for (char c : rest.substr(5, colon - 5)) {
    if (c < '0' || c > '9') return std::nullopt;
    line_number = line_number * 10 + static_cast<size_t>(c - '0');
  }
  if (line_number == 0) return std::nullopt;
  size_t prefix = colon + 2;
  std::string_view context = rest.substr(prefix, newline - prefix);
  std::string_view caret_line = rest.substr(newline + 1);
  size_t caret = caret_line.find('^');
  if (caret == std::string_view::npos || caret < prefix) return std::nullopt;
  size_t column_in_context = caret - prefix;  // bytes into `context`

  // Find the start of line `line_number` of the SQL.
  size_t line_start = 0;
  for (size_t n = 1; n < line_number; n++) {
    size_t next = sql.find('\n', line_start);
    if (next == std::string_view::npos) return std::nullopt;
    line_start = next + 1;
  }
  std::string_view line = sql.substr(line_start);
  line = line.substr(0, line.find('\n'));

  // A truncated context starts (and may end) with "..."; locate the visible part in the line.
  size_t offset_in_line = column_in_context;
  if (context.substr(0, kEllipsis.size()) == kEllipsis) {
    std::string_view visible = context.substr(kEllipsis.size());
    if (visible.size() >= kEllipsis.size() && visible.substr(visible.size() - kEllipsis.size()) == kEllipsis) {
      visible.remove_suffix(kEllipsis.size());
    }
    size_t found = line.find(visible);
    if (found == std::string_view::npos || column_in_context < kEllipsis.size()) return std::nullopt;
    offset_in_line = found + column_in_context - kEllipsis.size();
  }
  if (offset_in_line > line.size()) offset_in_line = line.size();
  return CountChars(sql, line_start + offset_in_line) + 1;
}

}  // namespace tarn::engine
