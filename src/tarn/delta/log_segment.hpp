// SPDX-License-Identifier: Apache-2.0
// Log listing: names of _delta_log files, the _last_checkpoint hint and the choice of checkpoint + commits for a version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::delta {

enum class LogFileType {
  kCommit,               // <v>.json
  kClassicCheckpoint,    // <v>.checkpoint.parquet (V1, or V2 content under the classic name)
  kMultiPartCheckpoint,  // <v>.checkpoint.<part>.<parts>.parquet
  kV2Checkpoint,         // <v>.checkpoint.<uuid>.json|parquet
  kCompaction,           // <v>.<end>.compacted.json
  kChecksum,             // <v>.crc
};

struct LogFile {
  std::string key;  // store key
  LogFileType type = LogFileType::kCommit;
  int64_t version = 0;
  int64_t end_version = 0;  // compactions: last version covered
  int32_t part = 0;         // multi-part checkpoints, 1-based
  int32_t num_parts = 0;
  bool is_json = false;     // V2 checkpoints: JSON (true) or Parquet
  int64_t size = 0;
  int64_t modification_time = 0;
};

/// Recognises a _delta_log entry by name; nullopt for anything else (_last_checkpoint, temp files, sub-folders).
std::optional<LogFile> ParseLogFileName(const storage::ObjectInfo& info);

/// The zero-padded (20 digits) file-name stem of a version.
std::string VersionStem(int64_t version);

/// The content of _delta_log/_last_checkpoint that readers use.
struct LastCheckpointHint {
  int64_t version = 0;
  std::optional<int64_t> parts;
  std::optional<int64_t> size;
};
/// Parses _last_checkpoint; nullopt when it is corrupt (readers then fall back to listing).
std::optional<LastCheckpointHint> ParseLastCheckpoint(std::string_view json);

/// The files that make up one table version: a checkpoint (all parts) plus the commits after it.
struct LogSegment {
  int64_t version = -1;
  std::optional<int64_t> checkpoint_version;
  std::vector<LogFile> checkpoint_files;  // empty without checkpoint; all parts of a multi-part one, in order
  std::vector<LogFile> commits;           // checkpoint_version+1 .. version, contiguous
  int64_t latest_version = -1;            // newest version seen in the listing
};

struct SegmentOptions {
  /// false: Parquet checkpoints are ignored (no CheckpointReader); JSON V2 checkpoints still count.
  bool use_parquet_checkpoints = true;
  /// Label used in error messages ("table <name>").
  std::string table_label;
};

/// Chooses the newest complete checkpoint <= target and the contiguous commits after it from a listing (any order).
/// `target` nullopt: the latest version. Errors: kTableNotFound (no log files), kInvalidParameterValue (version
/// not in the log), kCorruptData (a gap, naming the first missing version).
Result<LogSegment> BuildLogSegment(std::vector<LogFile> files, std::optional<int64_t> target,
                                   const SegmentOptions& options);

}  // namespace tarn::delta
