// SPDX-License-Identifier: Apache-2.0
// DuckCheckpointReader: reads Delta Parquet checkpoints and sidecars with DuckDB's Parquet reader.
#pragma once

#include <string_view>

#include "tarn/delta/checkpoint_reader.hpp"

namespace tarn::engine {

class Database;

/// Implements delta::CheckpointReader with DuckDB's read_parquet: one query per file projects the action columns the
/// request needs, and the action structs are decoded straight from DuckDB's vectors into delta actions (no JSON in
/// between). Null or missing fields follow the JSON log reader: optional ones are unset, required ones (add.path,
/// txn.version...) are kCorruptData naming the file and row. Handles classic, multi-part and V2 checkpoints and
/// sidecars; renders `stats_parsed` as the stats JSON (DuckDB's to_json) when `stats` is null or missing, and
/// `partitionValues_parsed` back to log strings when `partitionValues` is null or missing.
/// Objects of stores without local paths are copied to a temporary file first.
/// Safe for concurrent use (one DuckDB connection per call). The Database must outlive the reader.
class DuckCheckpointReader final : public delta::CheckpointReader {
 public:
  explicit DuckCheckpointReader(Database& database) : database_(database) {}

  Status ReadCheckpointActions(storage::ObjectStore& store, std::string_view key,
                               const delta::CheckpointReadRequest& request, delta::ActionVisitor& visitor) override;

 private:
  Database& database_;
};

}  // namespace tarn::engine
