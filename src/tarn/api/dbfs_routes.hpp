// SPDX-License-Identifier: Apache-2.0
// DBFS API 2.0 (/api/2.0/dbfs/...): get-status, list, mkdirs, put, read, create/add-block/close, delete, move.
#pragma once

#include <cstdint>
#include <functional>

#include "tarn/storage/dbfs_file_system.hpp"
#include "tarn/http/router.hpp"

namespace tarn::api {

struct DbfsRouteOptions {
  /// Largest decoded `contents` of put and `data` of add-block (MAX_BLOCK_SIZE_EXCEEDED above it).
  int64_t max_block_bytes = 1 << 20;
  /// Largest put body (the multipart file part streams to disk; Databricks' legacy CLI uses it below 2 GiB).
  uint64_t max_put_bytes = uint64_t{2} << 30;
  /// Largest `length` of read (MAX_READ_SIZE_EXCEEDED above it); 0 or absent reads default_read_bytes.
  int64_t max_read_bytes = 1 << 20;
  int64_t default_read_bytes = 512 * 1024;
  /// Entries one recursive delete call removes before answering 503 PARTIAL_DELETE.
  int64_t max_delete_entries = 10'000;
  /// A create handle unused for this long is dropped with its staged bytes.
  int64_t handle_idle_timeout_millis = 10 * 60 * 1000;
  /// Open handles at once (each holds a file descriptor); more is 429 RESOURCE_EXHAUSTED.
  int64_t max_open_handles = 1024;
  /// Epoch-millisecond clock for handle expiry; unset means the wall clock.
  std::function<int64_t()> clock;
};

/// Registers the DBFS API on `router`. Paths are absolute, with or without `dbfs:`; they map below `dbfs`'s root.
/// Errors follow Databricks: RESOURCE_DOES_NOT_EXIST (404), RESOURCE_ALREADY_EXISTS / MAX_BLOCK_SIZE_EXCEEDED /
/// MAX_READ_SIZE_EXCEEDED / INVALID_PARAMETER_VALUE / IO_ERROR (400), PARTIAL_DELETE (503). `put` takes JSON with
/// base64 `contents` or a multipart/form-data body (fields path, overwrite and a file part). Handles of
/// create/add-block/close belong to the user who created them. Caller keeps `dbfs` alive as long as the router.
void RegisterDbfsRoutes(http::Router& router, storage::DbfsFileSystem& dbfs, DbfsRouteOptions options = {});

}  // namespace tarn::api
