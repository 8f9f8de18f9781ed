// SPDX-License-Identifier: Apache-2.0
// Log file name parsing, _last_checkpoint parsing and checkpoint/commit selection.
#include "tarn/delta/log_segment.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>

namespace tarn::delta {
namespace {

constexpr size_t kVersionDigits = 20;
constexpr size_t kPartDigits = 10;

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ParseNumber(std::string_view text, int64_t& out) {
  if (!AllDigits(text)) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string Label(const SegmentOptions& options) {
  return options.table_label.empty() ? std::string("table") : "table " + options.table_label;
}

}  // namespace

std::string VersionStem(int64_t version) { return fmt::format("{:020d}", version); }

std::optional<LogFile> ParseLogFileName(const storage::ObjectInfo& info) {
  std::string_view key = info.key;
  size_t slash = key.rfind('/');
  std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  if (name.size() < kVersionDigits + 2) return std::nullopt;
  int64_t version = 0;
  if (!ParseNumber(name.substr(0, kVersionDigits), version) || name[kVersionDigits] != '.') return std::nullopt;
  std::string_view rest = name.substr(kVersionDigits + 1);
  LogFile file;
  file.key = info.key;
  file.version = version;
  file.size = info.size;
  file.modification_time = info.modification_time_millis;
  if (rest == "json") {
    file.type = LogFileType::kCommit;
    return file;
  }
  if (rest == "crc") {
    file.type = LogFileType::kChecksum;
    return file;
  }
  if (rest == "checkpoint.parquet") {
    file.type = LogFileType::kClassicCheckpoint;
    return file;
  }
  if (rest.starts_with("checkpoint.")) {
    std::string_view middle = rest.substr(11);
    // Multi-part: <part>.<parts>.parquet with 10-digit numbers.
    if (middle.size() == kPartDigits * 2 + 1 + 8 && middle.ends_with(".parquet") && middle[kPartDigits] == '.') {
      int64_t part = 0;
      int64_t parts = 0;
      if (ParseNumber(middle.substr(0, kPartDigits), part) &&
          ParseNumber(middle.substr(kPartDigits + 1, kPartDigits), parts) && part >= 1 && part <= parts) {
        file.type = LogFileType::kMultiPartCheckpoint;
        file.part = static_cast<int32_t>(part);
        file.num_parts = static_cast<int32_t>(parts);
        return file;
      }
    }
    for (std::string_view extension : {std::string_view(".json"), std::string_view(".parquet")}) {
      if (middle.size() > extension.size() && middle.ends_with(extension)) {
        std::string_view uuid = middle.substr(0, middle.size() - extension.size());
        if (uuid.find('.') != std::string_view::npos || uuid.empty()) return std::nullopt;
        file.type = LogFileType::kV2Checkpoint;
        file.is_json = extension == ".json";
        return file;
      }
    }
    return std::nullopt;
  }
  // Log compaction: <v>.<end>.compacted.json
  if (rest.size() == kVersionDigits + 15 && rest.ends_with(".compacted.json")) {
    int64_t end_version = 0;
    if (ParseNumber(rest.substr(0, kVersionDigits), end_version) && end_version >= version) {
      file.type = LogFileType::kCompaction;
      file.end_version = end_version;
      return file;
    }
  }
  return std::nullopt;
}

std::optional<LastCheckpointHint> ParseLastCheckpoint(std::string_view json_text) {
  auto root = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) return std::nullopt;
  auto version = root.find("version");
  if (version == root.end() || !version->is_number_integer() || version->get<int64_t>() < 0) return std::nullopt;
  LastCheckpointHint hint;
  hint.version = version->get<int64_t>();
  auto parts = root.find("parts");
  if (parts != root.end() && parts->is_number_integer()) hint.parts = parts->get<int64_t>();
  auto size = root.find("size");
  if (size != root.end() && size->is_number_integer()) hint.size = size->get<int64_t>();
  return hint;
}

Result<LogSegment> BuildLogSegment(std::vector<LogFile> files, std::optional<int64_t> target,
                                   const SegmentOptions& options) {
  std::map<int64_t, const LogFile*> commits;
  // Candidate checkpoints per version: each candidate is the list of files that make it up.
  std::map<int64_t, std::vector<std::vector<const LogFile*>>> checkpoints;
  std::map<std::pair<int64_t, int32_t>, std::vector<const LogFile*>> multipart;  // (version, parts) → parts seen
  int64_t latest = -1;
  bool skipped_parquet = false;
  for (const LogFile& file : files) {
    switch (file.type) {
      case LogFileType::kCommit:
        commits[file.version] = &file;
        latest = std::max(latest, file.version);
        break;
      case LogFileType::kClassicCheckpoint:
      case LogFileType::kV2Checkpoint:
        if (!file.is_json && !options.use_parquet_checkpoints) {
          skipped_parquet = true;
          break;
        }
        checkpoints[file.version].push_back({&file});
        latest = std::max(latest, file.version);
        break;
      case LogFileType::kMultiPartCheckpoint:
        if (!options.use_parquet_checkpoints) {
          skipped_parquet = true;
          break;
        }
        multipart[{file.version, file.num_parts}].push_back(&file);
        break;
      default:
        break;
    }
  }
  for (auto& [id, parts] : multipart) {
    std::sort(parts.begin(), parts.end(), [](const LogFile* a, const LogFile* b) { return a->part < b->part; });
    parts.erase(std::unique(parts.begin(), parts.end(),
                            [](const LogFile* a, const LogFile* b) { return a->part == b->part; }),
                parts.end());
    if (static_cast<int32_t>(parts.size()) != id.second) continue;  // incomplete: ignore (PROTOCOL.md)
    checkpoints[id.first].push_back(parts);
    latest = std::max(latest, id.first);
  }
  if (latest < 0) {
    return Error(ErrorCode::kTableNotFound, "{}: no Delta log found (no commits or checkpoints in _delta_log)",
                 Label(options));
  }
  int64_t version = target.value_or(latest);
  if (version < 0 || version > latest) {
    return Error(ErrorCode::kInvalidParameterValue, "{}: version {} does not exist (latest version is {})",
                 Label(options), version, latest);
  }
  LogSegment segment;
  segment.version = version;
  segment.latest_version = latest;
  auto checkpoint = checkpoints.upper_bound(version);
  if (checkpoint != checkpoints.begin()) {
    --checkpoint;
    segment.checkpoint_version = checkpoint->first;
    // Prefer a single-file checkpoint (fewer reads), then the first complete multi-part set.
    const std::vector<const LogFile*>* chosen = &checkpoint->second.front();
    for (const auto& candidate : checkpoint->second) {
      if (candidate.size() < chosen->size()) chosen = &candidate;
    }
    for (const LogFile* file : *chosen) segment.checkpoint_files.push_back(*file);
  }
  int64_t first = segment.checkpoint_version ? *segment.checkpoint_version + 1 : 0;
  for (int64_t v = first; v <= version; ++v) {
    auto it = commits.find(v);
    if (it == commits.end()) {
      std::string hint = skipped_parquet ? " (Parquet checkpoints were skipped: no checkpoint reader configured)" : "";
      return Error(ErrorCode::kCorruptData, "{}: cannot reconstruct version {}: commit {} is missing from the log{}",
                   Label(options), version, v, hint);
    }
    segment.commits.push_back(*it->second);
  }
  return segment;
}

}  // namespace tarn::delta
