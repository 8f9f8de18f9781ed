// SPDX-License-Identifier: Apache-2.0
// Module-private JSON helpers for REST resources: request-body parsing, typed field access, JSON responses.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tarn/base/result.hpp"
#include "tarn/http/message.hpp"
#include "tarn/http/router.hpp"

namespace tarn::api::detail {

/// Parses the request body as a JSON object whatever the Content-Type (the legacy CLI sends `text/json`). An empty
/// body is `{}`. Errors: kMalformedRequest for invalid JSON or a non-object.
Result<nlohmann::json> ParseJsonObject(const http::Request& request);

/// Returns field `name` as an int64: a JSON integer, an integral float, or a decimal string (proto-JSON encodes
/// int64 as strings). Absent or null gives nullopt. Errors: kInvalidParameterValue naming the field.
Result<std::optional<int64_t>> OptionalInt64(const nlohmann::json& object, std::string_view name);
/// Returns field `name` as a string; absent or null gives nullopt. Errors: kInvalidParameterValue.
Result<std::optional<std::string>> OptionalString(const nlohmann::json& object, std::string_view name);

/// Serialises `value` (invalid UTF-8 replaced, never throws) into a JSON response.
http::Response JsonResponse(const nlohmann::json& value, int status = 200);

/// A resource body: returns the JSON answer or an error Status.
using JsonHandler = std::function<Result<nlohmann::json>(http::Request& request)>;
/// Adapts `handler` to the router: errors become Databricks error bodies, and a request without an authenticated
/// user (WithAuth did not run) is answered 401 before `handler` runs.
http::Handler AuthenticatedJson(JsonHandler handler);

}  // namespace tarn::api::detail
