// SPDX-License-Identifier: Apache-2.0
// Expired log cleanup.
#include "tarn/delta/log_cleanup.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "tarn/delta/log_segment.hpp"

namespace tarn::delta {

Result<LogCleanupResult> CleanupExpiredLogs(storage::ObjectStore& store, const std::string& table_root,
                                            int64_t retention_millis, int64_t now_millis) {
  std::string log_prefix = table_root + "_delta_log/";
  storage::ListOptions list_options;
  list_options.recursive = false;
  auto listed = store.List(log_prefix, list_options);
  if (!listed.has_value()) return listed.status().WithContext("listing {}", log_prefix);
  const int64_t cutoff = now_millis - retention_millis;

  struct VersionFiles {
    std::vector<LogFile> files;
    bool expired = true;
    bool complete_checkpoint = false;
    std::map<int32_t, std::set<int32_t>> multipart;  // num_parts -> parts seen
  };
  std::map<int64_t, VersionFiles> versions;
  std::vector<LogFile> compactions;
  for (const storage::ObjectInfo& info : *listed) {
    auto file = ParseLogFileName(info);
    if (!file) continue;
    if (file->type == LogFileType::kCompaction) {
      compactions.push_back(*file);
      continue;
    }
    VersionFiles& entry = versions[file->version];
    entry.expired &= file->modification_time < cutoff;
    if (file->type == LogFileType::kClassicCheckpoint || file->type == LogFileType::kV2Checkpoint) {
      entry.complete_checkpoint = true;
    } else if (file->type == LogFileType::kMultiPartCheckpoint) {
      auto& parts = entry.multipart[file->num_parts];
      parts.insert(file->part);
      if (static_cast<int32_t>(parts.size()) == file->num_parts) entry.complete_checkpoint = true;
    }
    entry.files.push_back(std::move(*file));
  }
  LogCleanupResult result;
  // K: newest complete checkpoint with every earlier version expired.
  int64_t keep_from = -1;
  for (const auto& [version, entry] : versions) {
    if (entry.complete_checkpoint) keep_from = version;
    if (!entry.expired) break;
  }
  auto oldest_from = [&](int64_t first_kept) {
    std::optional<int64_t> oldest;
    for (const auto& [version, entry] : versions) {
      if (version < first_kept) continue;
      for (const LogFile& file : entry.files) {
        if (!oldest || file.modification_time < *oldest) oldest = file.modification_time;
      }
    }
    return oldest;
  };
  if (keep_from <= 0) {
    result.oldest_remaining_mtime = oldest_from(0);
    return result;
  }
  result.oldest_remaining_mtime = oldest_from(keep_from);
  for (const auto& [version, entry] : versions) {
    if (version >= keep_from) break;
    for (const LogFile& file : entry.files) {
      Status st = store.Delete(file.key);
      if (!st.ok() && st.code() != ErrorCode::kResourceDoesNotExist) {
        return st.WithContext("deleting expired log file {}", file.key);
      }
      result.deleted_keys.push_back(file.key);
    }
  }
  for (const LogFile& file : compactions) {
    if (file.end_version >= keep_from) continue;
    Status st = store.Delete(file.key);
    if (!st.ok() && st.code() != ErrorCode::kResourceDoesNotExist) return st.WithContext("deleting {}", file.key);
    result.deleted_keys.push_back(file.key);
  }
  result.oldest_kept_version = keep_from;
  return result;
}

}  // namespace tarn::delta
