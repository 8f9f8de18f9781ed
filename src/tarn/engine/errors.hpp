// SPDX-License-Identifier: Apache-2.0
// Error details the engine's Status messages carry beyond the ErrorCode (positions of syntax errors).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace tarn::engine {

/// Returns the 1-based character position (PostgreSQL ErrorResponse field 'P') of the error in `sql`, taken from a
/// DuckDB message's "LINE n: ..." context and caret line, or nullopt when the message has none.
/// `sql` is the text that was executed (used to resolve DuckDB's truncated context lines).
std::optional<size_t> SyntaxErrorPosition(std::string_view message, std::string_view sql);

}  // namespace tarn::engine
