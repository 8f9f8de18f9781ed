// SPDX-License-Identifier: Apache-2.0
// JsonNestingWithin: a linear pre-check of JSON nesting depth, so that recursive JSON code (nlohmann's copy and dump,
// our own type walkers) never sees hostile depth from a client or another engine.
#pragma once

#include <cstddef>
#include <string_view>

namespace tarn {

/// Deepest array/object nesting accepted from outside (REST bodies, notebooks, Delta schemaString).
inline constexpr int kMaxJsonDepth = 512;

/// Returns whether no array or object in `text` nests deeper than `max_depth`. Brackets inside strings do not count;
/// `text` need not be valid JSON (the parser reports that).
inline bool JsonNestingWithin(std::string_view text, int max_depth = kMaxJsonDepth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

}  // namespace tarn
