// SPDX-License-Identifier: Apache-2.0
// DuckCheckpointWriter: writes classic Delta Parquet checkpoints (Spark's checkpoint schema) with DuckDB.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tarn/delta/checkpoint_writer.hpp"

namespace tarn::engine {

class Database;

/// Implements delta::CheckpointWriter with DuckDB's Parquet writer. The rows are filled straight into DuckDB vectors
/// (Appender + data chunks) of a temporary table with Spark's checkpoint column types (PROTOCOL.md "Checkpoint
/// Schema": txn, add, remove, metaData, protocol, domainMetadata[, checkpointMetadata]; add.stats as JSON text,
/// partitionValues/tags as MAP(VARCHAR, VARCHAR), deletionVector as a struct; stats_parsed is not written), then
/// copied to a snappy Parquet file in row order. The file is written under a hidden temporary name next to `key`
/// (".<name>.<uuid>.tmp", as Spark does), fsynced and renamed over it (or written with ObjectStore::Write for stores
/// without local paths), so readers never see a partial checkpoint.
/// Safe for concurrent use (one DuckDB connection, temporary table and file name per call). The Database must outlive
/// it.
class DuckCheckpointWriter final : public delta::CheckpointWriter {
 public:
  explicit DuckCheckpointWriter(Database& database) : database_(database) {}

  Result<delta::CheckpointFileInfo> WriteCheckpoint(storage::ObjectStore& store, std::string_view key,
                                                    const delta::CheckpointContent& content) override;

 private:
  Database& database_;
};

/// The DuckDB type of each checkpoint column, in file order (exposed for tests): {name, type}.
struct CheckpointColumn {
  std::string_view name;
  std::string_view type;
};
/// Columns of a classic checkpoint; `with_checkpoint_metadata` adds the V2 checkpointMetadata column.
std::vector<CheckpointColumn> CheckpointColumns(bool with_checkpoint_metadata);

}  // namespace tarn::engine
