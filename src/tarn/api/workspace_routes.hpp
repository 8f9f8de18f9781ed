// SPDX-License-Identifier: Apache-2.0
// REST resources for the Workspace API 2.0 (/api/2.0/workspace/...).
#pragma once

#include "tarn/http/router.hpp"
#include "tarn/workspace/workspace_store.hpp"

namespace tarn::api {

/// Adds, for authenticated callers (401 without Request::user_id; each call first creates the caller's
/// /Users/<name> home folder when missing):
/// - GET  /api/2.0/workspace/get-status?path → ObjectInfo {path, object_type, object_id, resource_id, language?,
///   created_at, modified_at, size?}
/// - GET  /api/2.0/workspace/list?path[&notebooks_modified_after] → {objects: [ObjectInfo]} (key omitted if empty)
/// - POST /api/2.0/workspace/mkdirs {path} → {}
/// - POST /api/2.0/workspace/import: JSON {path, content (base64), format (SOURCE default, JUPYTER, AUTO, RAW),
///   language, overwrite} or multipart/form-data with the same fields and the file in part `content` → {}
/// - GET  /api/2.0/workspace/export?path[&format][&direct_download] → {content (base64), file_type}, or the raw
///   bytes (application/octet-stream) with direct_download=true
/// - POST /api/2.0/workspace/delete {path, recursive} → {}
/// Errors: 404 RESOURCE_DOES_NOT_EXIST, 400 RESOURCE_ALREADY_EXISTS, INVALID_PARAMETER_VALUE (missing/bad fields,
/// unknown format, bad content), MAX_NOTEBOOK_SIZE_EXCEEDED (> 10 MiB), DIRECTORY_NOT_EMPTY, MALFORMED_REQUEST.
/// GET parameters are read from the query string (or a JSON body, as some old clients send). Booleans accept
/// true/false in any case and 1/0. Caller keeps `store` alive as long as `router`.
void RegisterWorkspaceRoutes(http::Router& router, workspace::WorkspaceStore& store);

}  // namespace tarn::api
