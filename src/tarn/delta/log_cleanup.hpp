// SPDX-License-Identifier: Apache-2.0
// Metadata cleanup: deletes expired commits and checkpoints before a checkpoint, keeping the log readable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::delta {

struct LogCleanupResult {
  /// Oldest version still reconstructible after the cleanup (the checkpoint the log now starts from); -1 when
  /// nothing was deleted.
  int64_t oldest_kept_version = -1;
  std::vector<std::string> deleted_keys;
  /// Oldest modification time among the log files left (commits, checkpoints); nullopt when none. Nothing can expire
  /// before this + retention, so callers may skip cleanups until then.
  std::optional<int64_t> oldest_remaining_mtime;
};

/// Deletes the log files (commits, checkpoints, .crc, compactions) of every version below K, where K is the newest
/// complete checkpoint such that every file of every version before K is older than `now_millis - retention_millis`.
/// K's checkpoint and K's JSON commit are kept (in-commit timestamps need it), so every version >= K stays readable
/// and latest reads never break. Files are deleted oldest first, so a crash midway leaves a shorter but valid log.
/// PROTOCOL.md "Metadata Cleanup"; Spark runs it after checkpoints with delta.logRetentionDuration.
Result<LogCleanupResult> CleanupExpiredLogs(storage::ObjectStore& store, const std::string& table_root,
                                            int64_t retention_millis, int64_t now_millis);

}  // namespace tarn::delta
