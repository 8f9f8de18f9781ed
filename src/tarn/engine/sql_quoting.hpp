// SPDX-License-Identifier: Apache-2.0
// Quoting of SQL string literals and identifiers for SQL text the engine generates.
#pragma once

#include <string>
#include <string_view>

namespace tarn::engine {

/// Returns `text` as a SQL string literal: 'it''s'.
inline std::string QuoteSqlString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

/// Returns `name` as a quoted SQL identifier: "my ""col""".
inline std::string QuoteSqlIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace tarn::engine
