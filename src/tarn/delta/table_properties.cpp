// SPDX-License-Identifier: Apache-2.0
// Table property parsing.
#include "tarn/delta/table_properties.hpp"

#include <cctype>
#include <charconv>
#include <vector>

namespace tarn::delta {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int64_t UnitMillis(std::string_view unit) {
  if (unit.ends_with("s") && unit.size() > 1) unit.remove_suffix(1);
  if (unit == "millisecond" || unit == "ms") return 1;
  if (unit == "second") return 1000;
  if (unit == "minute") return 60 * 1000;
  if (unit == "hour") return 60 * 60 * 1000;
  if (unit == "day") return kMillisPerDay;
  if (unit == "week") return 7 * kMillisPerDay;
  return 0;
}

}  // namespace

std::string_view IsolationLevelName(IsolationLevel level) {
  return level == IsolationLevel::kSerializable ? "Serializable" : "WriteSerializable";
}

Result<int64_t> ParseIntervalMillis(std::string_view text) {
  std::string lowered = Lower(text);
  std::vector<std::string_view> words;
  std::string_view rest = lowered;
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    size_t end = rest.find(' ');
    std::string_view word = rest.substr(0, end);
    if (!word.empty()) words.push_back(word);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  size_t i = 0;
  if (i < words.size() && words[i] == "interval") ++i;
  if (i >= words.size()) return Error(ErrorCode::kInvalidParameterValue, "invalid interval: \"{}\"", text);
  int64_t total = 0;
  while (i < words.size()) {
    int64_t count = 0;
    std::string_view number = words[i];
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), count);
    if (ec != std::errc() || ptr != number.data() + number.size() || count < 0 || i + 1 >= words.size()) {
      return Error(ErrorCode::kInvalidParameterValue, "invalid interval: \"{}\"", text);
    }
    int64_t unit = UnitMillis(words[i + 1]);
    if (unit == 0) return Error(ErrorCode::kInvalidParameterValue, "invalid interval unit in \"{}\"", text);
    total += count * unit;
    i += 2;
  }
  return total;
}

bool IsPropertyTrue(const std::map<std::string, std::string>& configuration, std::string_view key) {
  auto it = configuration.find(std::string(key));
  return it != configuration.end() && Lower(it->second) == "true";
}

Result<TableProperties> TableProperties::From(const std::map<std::string, std::string>& configuration) {
  TableProperties out;
  if (auto it = configuration.find("delta.checkpointInterval"); it != configuration.end()) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size() || value <= 0) {
      return Error(ErrorCode::kInvalidParameterValue, "invalid delta.checkpointInterval: {}", it->second);
    }
    out.checkpoint_interval = value;
  }
  if (auto it = configuration.find("delta.logRetentionDuration"); it != configuration.end()) {
    auto millis = ParseIntervalMillis(it->second);
    if (!millis.has_value()) return millis.status().WithContext("delta.logRetentionDuration");
    out.log_retention_millis = *millis;
  }
  if (auto it = configuration.find("delta.deletedFileRetentionDuration"); it != configuration.end()) {
    auto millis = ParseIntervalMillis(it->second);
    if (!millis.has_value()) return millis.status().WithContext("delta.deletedFileRetentionDuration");
    out.deleted_file_retention_millis = *millis;
  }
  if (auto it = configuration.find("delta.enableExpiredLogCleanup"); it != configuration.end()) {
    out.enable_expired_log_cleanup = Lower(it->second) != "false";
  }
  if (auto it = configuration.find("delta.isolationLevel"); it != configuration.end()) {
    std::string level = Lower(it->second);
    if (level == "serializable") {
      out.isolation_level = IsolationLevel::kSerializable;
    } else if (level == "writeserializable") {
      out.isolation_level = IsolationLevel::kWriteSerializable;
    } else {
      return Error(ErrorCode::kInvalidParameterValue, "invalid delta.isolationLevel: {}", it->second);
    }
  }
  out.append_only = IsPropertyTrue(configuration, "delta.appendOnly");
  out.in_commit_timestamps = IsPropertyTrue(configuration, "delta.enableInCommitTimestamps");
  if (auto it = configuration.find("delta.checkpoint.writeStatsAsJson"); it != configuration.end()) {
    out.checkpoint_write_stats_as_json = Lower(it->second) != "false";
  }
  return out;
}

}  // namespace tarn::delta
