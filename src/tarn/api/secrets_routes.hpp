// SPDX-License-Identifier: Apache-2.0
// REST resources for the Secrets API 2.0 (/api/2.0/secrets/...).
#pragma once

#include "tarn/http/router.hpp"
#include "tarn/secrets/secret_store.hpp"

namespace tarn::api {

/// Adds, for authenticated callers (401 without Request::user_id; the user named `admin` manages every scope):
/// - POST /api/2.0/secrets/scopes/create {scope, initial_manage_principal?, scope_backend_type?} → {}
/// - GET  /api/2.0/secrets/scopes/list → {scopes: [{name, backend_type}]}
/// - POST /api/2.0/secrets/scopes/delete {scope} → {}
/// - POST /api/2.0/secrets/put {scope, key, string_value | bytes_value (base64), exactly one} → {}
/// - GET  /api/2.0/secrets/list?scope → {secrets: [{key, last_updated_timestamp}]} (never values)
/// - GET  /api/2.0/secrets/get?scope&key → {key, value (base64)} (READ permission)
/// - POST /api/2.0/secrets/delete {scope, key} → {}
/// - POST /api/2.0/secrets/acls/put {scope, principal, permission: READ|WRITE|MANAGE} → {}
/// - GET  /api/2.0/secrets/acls/get?scope&principal → {principal, permission}
/// - GET  /api/2.0/secrets/acls/list?scope → {items: [{principal, permission}]}
/// - POST /api/2.0/secrets/acls/delete {scope, principal} → {}
/// Empty lists omit their key. Errors: 400 RESOURCE_ALREADY_EXISTS, 404 RESOURCE_DOES_NOT_EXIST, 403
/// PERMISSION_DENIED, 400 INVALID_PARAMETER_VALUE (names, sizes, both or neither value), MALFORMED_REQUEST.
/// Caller keeps `store` alive as long as `router`.
void RegisterSecretsRoutes(http::Router& router, secrets::SecretStore& store);

}  // namespace tarn::api
