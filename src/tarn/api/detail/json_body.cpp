// SPDX-License-Identifier: Apache-2.0
// JSON request parsing and response helpers shared by the REST resources.
#include "tarn/api/detail/json_body.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "tarn/base/json_depth.hpp"

namespace tarn::api::detail {

Result<nlohmann::json> ParseJsonObject(const http::Request& request) {
  std::string_view body = request.body;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return nlohmann::json::object();
  if (!JsonNestingWithin(body)) {  // nlohmann copies and dumps recursively: deep bodies would overflow the stack
    return Error(ErrorCode::kMalformedRequest, "Request body nests JSON deeper than {} levels.", kMaxJsonDepth);
  }
  nlohmann::json parsed = nlohmann::json::parse(body, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Error(ErrorCode::kMalformedRequest, "Request body is not valid JSON.");
  if (!parsed.is_object()) return Error(ErrorCode::kMalformedRequest, "Request body must be a JSON object.");
  return parsed;
}

Result<std::optional<int64_t>> OptionalInt64(const nlohmann::json& object, std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::optional<int64_t>();
  auto invalid = [&] {
    return Error(ErrorCode::kInvalidParameterValue, "Invalid value for '{}': expected an integer, got {}", name,
                 it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  if (it->is_number_unsigned()) {
    auto value = it->get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return invalid();
    return std::optional<int64_t>(static_cast<int64_t>(value));
  }
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_float()) {
    double value = it->get<double>();
    // 2^63 is exactly representable, so the bounds are exact.
    if (!std::isfinite(value) || std::trunc(value) != value || value < -9223372036854775808.0 ||
        value >= 9223372036854775808.0) {
      return invalid();
    }
    return std::optional<int64_t>(static_cast<int64_t>(value));
  }
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return invalid();
    return std::optional<int64_t>(value);
  }
  return invalid();
}

Result<std::optional<std::string>> OptionalString(const nlohmann::json& object, std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Error(ErrorCode::kInvalidParameterValue, "Invalid value for '{}': expected a string, got {}", name,
                 it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return std::optional<std::string>(it->get<std::string>());
}

http::Response JsonResponse(const nlohmann::json& value, int status) {
  return http::Response::Json(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), status);
}

http::Handler AuthenticatedJson(JsonHandler handler) {
  return [handler = std::move(handler)](http::Request& request) -> http::Response {
    if (request.user_id == 0) {
      return http::Response::Error(Error(ErrorCode::kUnauthenticated, "Missing authentication."));
    }
    Result<nlohmann::json> answer = handler(request);
    if (!answer.has_value()) return http::Response::Error(answer.error());
    return JsonResponse(*answer);
  };
}

}  // namespace tarn::api::detail
