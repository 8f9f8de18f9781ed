// SPDX-License-Identifier: Apache-2.0
// ProtocolValidator: checks commits against PROTOCOL.md writer rules (used by tests over everything Tarn writes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/status.hpp"
#include "tarn/delta/actions.hpp"
#include "tarn/delta/schema.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::delta {

/// Validates commit files in version order, tracking protocol and metadata. Checks: one action per line with known
/// names; required fields and their JSON types (add, remove, metaData, protocol, txn, commitInfo, domainMetadata,
/// cdc); protocol shape (features iff 3/7, reader features also writer features); schemaString parses and partition
/// columns exist; partition values cover exactly the partition columns and parse for their types; add/remove paths
/// are valid relative URI references (percent-encoded, no raw space/#/?/non-ASCII); stats JSON shape (numRecords,
/// minValues, maxValues, nullCount with integer leaves, columns that exist); at most one metaData/protocol/commitInfo
/// and one txn per appId, unique add and remove paths per commit; version 0 has protocol and metaData; commitInfo
/// first with a strictly increasing inCommitTimestamp when in-commit timestamps are enabled; append-only and
/// domainMetadata/deletionVectors feature rules. Not thread-safe.
class ProtocolValidator {
 public:
  /// Validates commit `version` (the next one: 0, then 1, ...). kProtocolViolation listing every violation found.
  Status ValidateCommit(int64_t version, std::string_view content);
  /// Number of commits validated so far.
  int64_t num_commits() const { return next_version_; }

 private:
  int64_t next_version_ = 0;
  std::optional<ProtocolAction> protocol_;
  std::optional<MetadataAction> metadata_;
  std::optional<Schema> schema_;
  std::optional<int64_t> last_ict_;
};

/// Validates every JSON commit of the table under `table_root`, from version 0 to the latest (the log must still
/// start at 0). kProtocolViolation naming the version and the violations.
Status ValidateTableLog(storage::ObjectStore& store, const std::string& table_root);

}  // namespace tarn::delta
