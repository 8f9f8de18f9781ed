// SPDX-License-Identifier: Apache-2.0
// Files API 2.0 (/api/2.0/fs/files{path}, /api/2.0/fs/directories{path}): raw-byte uploads, ranged downloads.
#pragma once

#include <cstdint>

#include "tarn/storage/dbfs_file_system.hpp"
#include "tarn/http/router.hpp"

namespace tarn::api {

struct FilesRouteOptions {
  /// Largest upload body (Databricks allows 5 GiB per file).
  uint64_t max_upload_bytes = uint64_t{5} << 30;
};

/// Registers the Files API on `router`, on the same tree as DBFS: an absolute path `/X` (Databricks uses
/// `/Volumes/<catalog>/<schema>/<volume>/...`; any absolute path is accepted) is the file `dbfs:/X`.
/// - `PUT fs/files{path}?overwrite=` streams the request body to a staged file published at the end (overwrite
///   defaults to true; false and an existing file: 409); missing parents are created; answers 204.
/// - `GET fs/files{path}` streams the file (chunked); a single `Range: bytes=a-b|a-|-n` gives 206 with
///   Content-Range, an unsatisfiable one 416. `HEAD` gives Content-Length, Content-Type and Last-Modified.
/// - `DELETE fs/files{path}` removes a file (204).
/// - `GET fs/directories{path}?page_size=&page_token=` lists `{contents:[{path,name,is_directory,file_size,
///   last_modified}], next_page_token}` (page_size default and maximum 1000); `PUT` creates it with parents;
///   `DELETE` removes an empty directory (400 DIRECTORY_NOT_EMPTY otherwise); `HEAD` answers 200 or 404.
/// The upload route is registered with http::Router::AddStreaming: when the server's
/// ServerOptions::streamed_body_limit consults the router, bodies of any size (up to max_upload_bytes) stream
/// through Request::body_reader; otherwise they arrive buffered in Request::body under the server's limit.
/// Caller keeps `dbfs` alive as long as the router.
void RegisterFilesRoutes(http::Router& router, storage::DbfsFileSystem& dbfs, FilesRouteOptions options = {});

}  // namespace tarn::api
