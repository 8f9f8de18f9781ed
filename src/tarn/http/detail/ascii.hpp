// SPDX-License-Identifier: Apache-2.0
// Module-private ASCII text helpers shared by the message helpers and the wire conversion.
#pragma once

#include <cstddef>
#include <string_view>

namespace tarn::http::detail {

/// ASCII case-insensitive equality (header names, tokens such as "close" or "100-continue"); locale-independent.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace tarn::http::detail
