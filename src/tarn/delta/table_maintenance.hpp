// SPDX-License-Identifier: Apache-2.0
// Log-level table maintenance: VACUUM (plan + delete), RESTORE (commit), OPTIMIZE (bin-packing plan + commit helper).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/conflict_checker.hpp"
#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/snapshot.hpp"

namespace tarn::delta {

struct VacuumOptions {
  /// Files unreferenced for longer than this are deleted; default: delta.deletedFileRetentionDuration (7 days).
  std::optional<int64_t> retention_millis = std::nullopt;
  /// Allows a retention shorter than the table's delta.deletedFileRetentionDuration (Spark's
  /// retentionDurationCheck.enabled=false). Without it such a request is kInvalidParameterValue.
  bool allow_short_retention = false;
  /// DRY RUN: only list the files.
  bool dry_run = false;
};

struct VacuumResult {
  /// Store keys of the files deleted (or that would be, for a dry run), sorted.
  std::vector<std::string> files;
  int64_t num_bytes = 0;
  int64_t retention_millis = 0;
  bool dry_run = false;
};

/// Lists every file under the table directory that is neither live in the latest snapshot nor referenced by a
/// tombstone younger than the retention (deletion vector files of those included) and that is itself older than the
/// retention, then deletes them (unless dry_run). Never touches _delta_log nor hidden ('_' or '.' prefixed) files and
/// directories, except _change_data and partition directories of partition columns that start with '_'.
/// Runs the writer protocol check first (vacuumProtocolCheck).
Result<VacuumResult> Vacuum(DeltaTable& table, const VacuumOptions& options);

/// RESTORE target: a version or a timestamp (epoch millis), exactly one.
struct RestoreTarget {
  std::optional<int64_t> version = std::nullopt;
  std::optional<int64_t> timestamp_millis = std::nullopt;
};

/// Restores the table to an earlier version: commits removes of files not in the target and re-adds (dataChange=true)
/// of target files no longer live, plus the target's metadata when it differs (the protocol is never downgraded).
/// Operation RESTORE with Spark's metrics (tableSizeAfterRestore, numOfFilesAfterRestore, numRemovedFiles,
/// numRestoredFiles, removedFilesSize, restoredFilesSize). A target file that no longer exists (vacuumed) is
/// kResourceDoesNotExist naming it; a target newer than the table is kInvalidParameterValue.
Result<CommitResult> RestoreTable(DeltaTable& table, const RestoreTarget& target);

struct OptimizeOptions {
  /// Bin size to pack towards (Spark optimize.maxFileSize: 1 GiB).
  int64_t target_file_size = int64_t{1} << 30;
  /// Files at least this big are left alone; default (0) = target_file_size.
  int64_t min_file_size = 0;
  /// Optional partition filter (OPTIMIZE ... WHERE on partition columns).
  FilePredicate partition_filter = nullptr;
};

/// One bin: files of one partition to rewrite into (about) one file of target size.
struct OptimizeBin {
  std::vector<MapEntry> partition_values;
  std::vector<FileEntry> files;  // views into the plan's snapshot
  int64_t total_bytes = 0;
};

struct OptimizePlan {
  SnapshotPtr snapshot;  // keeps the FileEntry views alive; the commit reads from it
  std::vector<OptimizeBin> bins;
  int64_t num_files = 0;
  int64_t num_bytes = 0;
};

/// Groups the snapshot's small files per partition and packs them (smallest first) into bins up to the target size.
/// Bins of a single file are dropped unless that file has a deletion vector to purge.
Result<OptimizePlan> PlanOptimize(SnapshotPtr snapshot, const OptimizeOptions& options);

/// Commits an executed plan: removes every planned file and adds the rewritten ones (new_files[i] replaces bin i),
/// all with dataChange=false, as operation OPTIMIZE with its metrics. The transaction reads exactly the planned files,
/// so concurrent appends never conflict while a concurrent delete of a planned file does.
Result<CommitResult> CommitOptimize(DeltaTable& table, const OptimizePlan& plan,
                                    std::vector<std::vector<AddAction>> new_files);

/// Decodes a Z85 string (ZeroMQ alphabet, length a multiple of 5); nullopt when malformed.
std::optional<std::string> DecodeZ85(std::string_view text);

/// Returns the table-relative file name of a deletion vector stored as 'u' (relative UUID) or 'p' (absolute path,
/// relativised when under the table root); nullopt for inline DVs or malformed descriptors.
std::optional<std::string> DeletionVectorFilePath(const DeletionVectorRef& dv, std::string_view local_root);

}  // namespace tarn::delta
