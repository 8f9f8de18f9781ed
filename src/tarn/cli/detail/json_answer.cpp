// SPDX-License-Identifier: Apache-2.0
// Parsing of REST answer bodies and field extraction shared by the secrets and workspace commands.
#include "tarn/cli/detail/json_answer.hpp"

namespace tarn::cli::detail {

using nlohmann::json;

Result<json> ParseAnswer(const std::string& body, std::string_view what) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  auto parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object())
    return Error(ErrorCode::kProtocolViolation, "unexpected answer to {}: not a JSON object", what);
  return parsed;
}

std::string Field(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace tarn::cli::detail
