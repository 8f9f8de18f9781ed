// SPDX-License-Identifier: Apache-2.0
// CheckpointReader: how the delta module reads Parquet checkpoints and sidecars without depending on a Parquet library.
#pragma once

#include <string_view>

#include "tarn/base/status.hpp"
#include "tarn/delta/actions.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::delta {

struct CheckpointReadRequest {
  /// false: the caller only needs protocol, metaData, txn, domainMetadata, checkpointMetadata and sidecar rows, so an
  /// implementation may skip the add/remove columns.
  bool include_file_actions = true;
};

/// Reads the action rows of a Parquet checkpoint file (classic, multi-part part, V2) or sidecar. The engine module
/// implements it with DuckDB's Parquet reader and injects it (delta must not depend on DuckDB).
/// Contract for implementations:
/// - Call the visitor once per non-null action column of each row, in file order; one action per row.
/// - Columns missing from the file are null. Unknown columns are ignored.
/// - add.stats: when the JSON `stats` column is null or missing but `stats_parsed` is present, render stats_parsed
///   as the equivalent JSON text (numRecords, minValues, maxValues, nullCount, tightBounds).
/// - partitionValues: when missing but partitionValues_parsed exists, render the typed values back to their log strings.
/// - A file that cannot be read (missing, truncated, not Parquet) is kCorruptData (or kResourceDoesNotExist when
///   missing) naming `key`.
/// Implementations must be safe for concurrent use.
class CheckpointReader {
 public:
  virtual ~CheckpointReader() = default;
  virtual Status ReadCheckpointActions(storage::ObjectStore& store, std::string_view key,
                                       const CheckpointReadRequest& request, ActionVisitor& visitor) = 0;
};

}  // namespace tarn::delta
