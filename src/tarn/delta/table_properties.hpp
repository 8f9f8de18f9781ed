// SPDX-License-Identifier: Apache-2.0
// Typed access to the delta.* table properties the write path obeys (intervals, isolation, retention, checkpoints).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"

namespace tarn::delta {

inline constexpr int64_t kMillisPerDay = 24LL * 60 * 60 * 1000;
inline constexpr int kDefaultCheckpointInterval = 10;
inline constexpr int64_t kDefaultLogRetentionMillis = 30 * kMillisPerDay;
inline constexpr int64_t kDefaultDeletedFileRetentionMillis = 7 * kMillisPerDay;

enum class IsolationLevel { kWriteSerializable, kSerializable };
std::string_view IsolationLevelName(IsolationLevel level);

/// Parses Spark calendar-interval text ("interval 30 days", "1 week", "168 hours", "interval 1 day 2 hours";
/// units millisecond(s)/second(s)/minute(s)/hour(s)/day(s)/week(s)) into milliseconds. kInvalidParameterValue
/// otherwise.
Result<int64_t> ParseIntervalMillis(std::string_view text);

/// Table properties read from metaData.configuration with Spark's defaults. Malformed values are
/// kInvalidParameterValue naming the property.
struct TableProperties {
  int checkpoint_interval = kDefaultCheckpointInterval;        // delta.checkpointInterval
  int64_t log_retention_millis = kDefaultLogRetentionMillis;  // delta.logRetentionDuration
  int64_t deleted_file_retention_millis = kDefaultDeletedFileRetentionMillis;  // delta.deletedFileRetentionDuration
  bool enable_expired_log_cleanup = true;                     // delta.enableExpiredLogCleanup
  IsolationLevel isolation_level = IsolationLevel::kWriteSerializable;  // delta.isolationLevel
  bool append_only = false;                                   // delta.appendOnly
  bool in_commit_timestamps = false;                          // delta.enableInCommitTimestamps
  bool checkpoint_write_stats_as_json = true;                 // delta.checkpoint.writeStatsAsJson

  static Result<TableProperties> From(const std::map<std::string, std::string>& configuration);
};

/// True when configuration[key] is "true" (case-insensitive).
bool IsPropertyTrue(const std::map<std::string, std::string>& configuration, std::string_view key);

}  // namespace tarn::delta
