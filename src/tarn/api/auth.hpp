// SPDX-License-Identifier: Apache-2.0
// Authentication middleware: personal access tokens on every /api/ request.
#pragma once

#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/http/message.hpp"
#include "tarn/http/router.hpp"
#include "tarn/identity/token_service.hpp"

namespace tarn::api {

/// Wraps `inner` so that every request whose path is `/api` or starts with `/api/` must carry
/// `Authorization: Bearer <token>` or `Authorization: Basic base64(user:token)` (the legacy Databricks CLI; the
/// user must be `token` or the token owner's name). Missing, malformed, unknown, revoked and expired tokens get
/// 401 {"error_code": "UNAUTHENTICATED", "message": ...} with a WWW-Authenticate header, and `inner` is not called.
/// On success sets Request::user_name and Request::user_id, then calls `inner`. Other paths pass through with
/// user_name/user_id cleared. Caller keeps `tokens` alive as long as the handler.
http::Handler WithAuth(identity::TokenService& tokens, http::Handler inner);

/// Returns the token's owner for an Authorization header value (the rules of WithAuth). kUnauthenticated for
/// anything that does not identify an active token; store failures as they are. Also used by other front ends
/// that accept the same header.
Result<identity::Principal> AuthenticateAuthorization(identity::TokenService& tokens, std::string_view authorization);

}  // namespace tarn::api
