// SPDX-License-Identifier: Apache-2.0
// Module-private helpers for reading the JSON answers of REST calls, shared by the command files.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tarn/base/result.hpp"

namespace tarn::cli::detail {

/// Parses a REST answer body; an empty (all-whitespace) body means "{}". Errors: kProtocolViolation when the body
/// is not a JSON object (`what` names the request in the message).
Result<nlohmann::json> ParseAnswer(const std::string& body, std::string_view what);

/// The value of `key` as text: strings as-is, other values dumped as JSON, "" when absent or null.
std::string Field(const nlohmann::json& object, const char* key);

}  // namespace tarn::cli::detail
