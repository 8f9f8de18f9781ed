// SPDX-License-Identifier: Apache-2.0
// Checkpoint writing: the reconciled state of a snapshot handed to an injected Parquet writer, plus _last_checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/actions.hpp"
#include "tarn/delta/snapshot.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::delta {

/// The rows of one checkpoint, grouped per action column. The checkpoint file schema has the top-level struct
/// columns in this order: txn, add, remove, metaData, protocol, domainMetadata (plus checkpointMetadata for V2
/// content); each row sets exactly one of them. Rows are emitted as: protocol, metaData, txns, domainMetadata,
/// (checkpointMetadata), adds, removes.
struct CheckpointContent {
  int64_t version = 0;
  ProtocolAction protocol;
  MetadataAction metadata;
  std::vector<TxnAction> txns;
  std::vector<DomainMetadataAction> domain_metadata;  // live domains only
  std::vector<AddAction> adds;                         // dataChange=false, as Spark writes checkpoints
  /// Tombstones younger than delta.deletedFileRetentionDuration (dataChange=false, no stats or tags).
  std::vector<RemoveAction> removes;
  /// Set for tables with the v2Checkpoint feature: the checkpoint then carries V2 content under the classic name.
  std::optional<CheckpointMetadataAction> checkpoint_metadata;
  /// delta.checkpoint.writeStatsAsJson: write add.stats as JSON text (else leave the column null).
  bool write_stats_as_json = true;

  /// Number of rows (actions) in the checkpoint.
  int64_t NumActions() const;
  /// All rows as actions in the order documented above.
  std::vector<Action> ToActions() const;
};

/// What a CheckpointWriter reports about the file it wrote.
struct CheckpointFileInfo {
  int64_t size_in_bytes = 0;
};

/// Writes a checkpoint file in Delta's Parquet checkpoint schema (PROTOCOL.md "Checkpoint Schema"). The engine module
/// implements it with DuckDB's Parquet writer and injects it; delta never links a Parquet library.
/// Contract: write the whole file atomically at `key` (replacing an existing one is fine: concurrent checkpoints of
/// one version have identical content), with Spark's column types and nullability; return its size.
/// Implementations must be safe for concurrent use.
class CheckpointWriter {
 public:
  virtual ~CheckpointWriter() = default;
  virtual Result<CheckpointFileInfo> WriteCheckpoint(storage::ObjectStore& store, std::string_view key,
                                                     const CheckpointContent& content) = 0;
};

struct CheckpointOptions {
  /// Tombstones deleted before this time (epoch millis) are dropped from the checkpoint.
  int64_t tombstone_cutoff_millis = 0;
};

/// Returns the add action that re-adds a snapshot file (path re-encoded as a URI; tags are not kept by snapshots).
AddAction AddActionFromFileEntry(const FileEntry& file, bool data_change);

/// Returns the checkpoint content of `snapshot` (paths re-encoded as add.path URIs).
CheckpointContent BuildCheckpointContent(const Snapshot& snapshot, const CheckpointOptions& options);

/// What WriteCheckpoint produced.
struct CheckpointResult {
  int64_t version = 0;
  std::string key;
  int64_t num_actions = 0;
  int64_t num_add_files = 0;
  int64_t size_in_bytes = 0;
};

/// Writes the classic checkpoint `<v>.checkpoint.parquet` of `snapshot` through `writer`, then `_last_checkpoint`
/// ({"version","size","sizeInBytes","numOfAddFiles"}), which is replaced only when it does not already point at a
/// newer checkpoint. The table stays readable whatever step fails (the hint is written last, without fsync: a lost or
/// torn hint only makes readers list the log).
Result<CheckpointResult> WriteCheckpoint(storage::ObjectStore& store, const std::string& table_root,
                                         const Snapshot& snapshot, CheckpointWriter& writer,
                                         const CheckpointOptions& options);

}  // namespace tarn::delta
