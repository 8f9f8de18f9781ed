// SPDX-License-Identifier: Apache-2.0
// DuckDB's text form of an element inside a nested value (LIST/STRUCT/MAP cast to VARCHAR).
#pragma once

#include <string>
#include <string_view>

namespace tarn::engine {

/// Appends `text` as DuckDB's VARCHAR cast writes one element of a nested value: unchanged, or in single quotes
/// (with `'` and `\` escaped by a backslash) when it could not be read back unambiguously (empty, the word NULL in
/// any case, leading/trailing white space, or one of `,'"[](){}:=`).
void AppendDuckNestedText(std::string& out, std::string_view text);

/// True when `text` is the word NULL in any letter case.
bool EqualsNullIgnoreCase(std::string_view text);

}  // namespace tarn::engine
