// SPDX-License-Identifier: Apache-2.0
// REST resources for identity: Token API 2.0 and SCIM Me.
#pragma once

#include "tarn/http/router.hpp"
#include "tarn/identity/token_service.hpp"
#include "tarn/identity/user_store.hpp"

namespace tarn::api {

/// Adds, for the authenticated caller (Request::user_id, set by WithAuth; 401 without it):
/// - POST /api/2.0/token/create {lifetime_seconds?, comment?} → {token_value, token_info}
/// - GET  /api/2.0/token/list → {token_infos: [{token_id, creation_time, expiry_time, comment}]}
/// - POST /api/2.0/token/delete {token_id} → {} (404 RESOURCE_DOES_NOT_EXIST for an unknown id)
/// - GET  /api/2.0/preview/scim/v2/Me → the caller as a SCIM 2.0 User
/// Times are epoch milliseconds; expiry_time -1 means never. Bodies are parsed as JSON whatever the
/// Content-Type; unknown fields are ignored; invalid JSON → 400 MALFORMED_REQUEST, wrong field types → 400
/// INVALID_PARAMETER_VALUE. Caller keeps `tokens` and `users` alive as long as `router`.
void RegisterIdentityRoutes(http::Router& router, identity::TokenService& tokens, identity::UserStore& users);

}  // namespace tarn::api
