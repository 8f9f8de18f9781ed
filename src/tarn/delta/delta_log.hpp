// SPDX-License-Identifier: Apache-2.0
// DeltaLog: loads Snapshots of one table (latest, at a version, at a timestamp) and refreshes them incrementally.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/checkpoint_reader.hpp"
#include "tarn/delta/log_segment.hpp"
#include "tarn/delta/snapshot.hpp"
#include "tarn/delta/table_features.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::delta {

struct DeltaLogOptions {
  /// Reads Parquet checkpoints and sidecars; nullable. Without it, Parquet checkpoints are skipped and the log is
  /// replayed from JSON commits (an error when those were cleaned up). The caller keeps it alive.
  CheckpointReader* checkpoint_reader = nullptr;
  /// Reader features this process can honour (see ValidateReaderProtocol).
  std::set<std::string> supported_reader_features = DefaultSupportedReaderFeatures();
  /// Name used in error messages; defaults to the table root.
  std::string table_name;
  /// Full loads whose JSON commits total at least this many bytes parse ahead on a second thread while the calling
  /// thread reconciles (same result; 0 = always). Off by default: on the 2-vCPU development VM the parse-ahead thread
  /// cost twice the CPU of the single-threaded replay (see bench/RESULTS.md); delta_snapshot_bench measures both.
  size_t parse_ahead_min_bytes = SIZE_MAX;
};

/// Reads the Delta log of the table stored under `table_root` (a key prefix of `store`, "" for a table-rooted store).
/// Errors name the table, the version and the file: kTableNotFound (no _delta_log), kCorruptData (gaps, malformed
/// JSON, missing protocol/metaData, unreadable checkpoints), kFeatureNotSupported (unknown reader features),
/// kInvalidParameterValue (version or timestamp outside the log). Stateless apart from the references it holds:
/// safe for concurrent use if the store and checkpoint reader are. The caller keeps `store` alive.
class DeltaLog {
 public:
  DeltaLog(storage::ObjectStore& store, std::string table_root, DeltaLogOptions options = {});

  Result<SnapshotPtr> LoadLatest();
  Result<SnapshotPtr> LoadAtVersion(int64_t version);
  /// Loads the newest version committed at or before `timestamp_millis` (commit file mtimes, adjusted to increase
  /// strictly, or in-commit timestamps from delta.inCommitTimestampEnablementVersion on).
  Result<SnapshotPtr> LoadAtTimestamp(int64_t timestamp_millis);
  /// Applies only the commits after `previous` (returns `previous` itself when nothing changed). Falls back to a full
  /// load when those commits are no longer in the log.
  Result<SnapshotPtr> Refresh(const SnapshotPtr& previous);
  /// Applies the given commits (contiguous, starting at previous->version() + 1, as LogFile entries with key, version
  /// and modification time) to `previous` without listing the log: the writer's post-commit path, which knows the
  /// commit it just wrote. `last_commit_content`, when not empty, is the content of the last commit (the writer's own
  /// bytes), which is then parsed from memory instead of being read back from the store.
  Result<SnapshotPtr> ApplyCommits(const SnapshotPtr& previous, std::vector<LogFile> commits,
                                   std::string_view last_commit_content = {});

  /// Chooses the checkpoint and commits for a version (nullopt = latest), using _last_checkpoint when it helps.
  Result<LogSegment> ListSegment(std::optional<int64_t> version);
  /// Returns the commit timestamps (after monotonic adjustment, ICT where enabled) of every listed commit, by version.
  Result<std::vector<std::pair<int64_t, int64_t>>> CommitTimestamps();

  const std::string& log_prefix() const { return log_prefix_; }
  const std::string& table_label() const { return label_; }

 private:
  Result<std::vector<LogFile>> ListLogFiles(const std::string& start_after);
  Result<SnapshotPtr> Replay(const LogSegment& segment, const Snapshot* base, bool skip_file_actions,
                             std::string_view last_commit_content = {});
  Result<std::optional<int64_t>> ReadInCommitTimestamp(const LogFile& commit);

  storage::ObjectStore& store_;
  std::string table_root_;
  std::string log_prefix_;
  DeltaLogOptions options_;
  std::string label_;
  std::optional<std::string> local_root_;  // filesystem path of the table root, to relativise absolute paths
};

}  // namespace tarn::delta
