// SPDX-License-Identifier: Apache-2.0
// The Delta log action model (PROTOCOL.md "Actions") and the visitor that log and checkpoint readers feed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tarn/base/result.hpp"

namespace tarn::delta {

/// One key of a string map whose values may be null (partitionValues, tags).
struct MapEntry {
  std::string key;
  std::optional<std::string> value;
  bool operator==(const MapEntry&) const = default;
};

struct ProtocolAction {
  int32_t min_reader_version = 1;
  int32_t min_writer_version = 2;
  std::optional<std::vector<std::string>> reader_features;  // present iff reader version 3
  std::optional<std::vector<std::string>> writer_features;  // present iff writer version 7
  bool operator==(const ProtocolAction&) const = default;
};

struct MetadataAction {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string format_provider = "parquet";
  std::map<std::string, std::string> format_options;
  std::string schema_string;
  std::vector<std::string> partition_columns;
  std::map<std::string, std::string> configuration;
  std::optional<int64_t> created_time;
  bool operator==(const MetadataAction&) const = default;
};

/// Deletion vector descriptor ("Deletion Vector Descriptor Schema").
struct DeletionVectorDescriptor {
  std::string storage_type;  // "u" (relative uuid), "i" (inline), "p" (absolute path)
  std::string path_or_inline_dv;
  std::optional<int32_t> offset;
  int32_t size_in_bytes = 0;
  int64_t cardinality = 0;
  std::optional<int64_t> max_row_index;
  /// storageType + pathOrInlineDv (+ "@" + offset): together with the path, the logical-file key.
  std::string UniqueId() const;
  bool operator==(const DeletionVectorDescriptor&) const = default;
};

struct AddAction {
  std::string path;  // as written: a URI-encoded relative path or absolute URI
  std::vector<MapEntry> partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;
  bool data_change = true;
  std::optional<std::string> stats;  // JSON text
  std::vector<MapEntry> tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  std::optional<std::string> clustering_provider;
  bool operator==(const AddAction&) const = default;
};

struct RemoveAction {
  std::string path;
  std::optional<int64_t> deletion_timestamp;
  bool data_change = true;
  bool extended_file_metadata = false;
  std::vector<MapEntry> partition_values;
  std::optional<int64_t> size;
  std::optional<std::string> stats;
  std::vector<MapEntry> tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  bool operator==(const RemoveAction&) const = default;
};

struct CdcAction {
  std::string path;
  std::vector<MapEntry> partition_values;
  int64_t size = 0;
  bool data_change = false;
  std::vector<MapEntry> tags;
  bool operator==(const CdcAction&) const = default;
};

struct TxnAction {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated;
  bool operator==(const TxnAction&) const = default;
};

/// commitInfo is free-form; the fields readers use are extracted and the whole object is kept as JSON text.
struct CommitInfoAction {
  std::optional<int64_t> timestamp;
  std::optional<int64_t> in_commit_timestamp;
  std::optional<std::string> operation;
  std::optional<int64_t> read_version;
  std::optional<bool> is_blind_append;
  std::optional<std::string> txn_id;
  std::string raw_json;
  bool operator==(const CommitInfoAction&) const = default;
};

struct DomainMetadataAction {
  std::string domain;
  std::string configuration;
  bool removed = false;
  bool operator==(const DomainMetadataAction&) const = default;
};

struct CheckpointMetadataAction {
  int64_t version = 0;
  std::vector<MapEntry> tags;
  bool operator==(const CheckpointMetadataAction&) const = default;
};

struct SidecarAction {
  std::string path;  // file name (or URI) inside _delta_log/_sidecars/
  int64_t size_in_bytes = 0;
  int64_t modification_time = 0;
  std::vector<MapEntry> tags;
  bool operator==(const SidecarAction&) const = default;
};

using Action = std::variant<ProtocolAction, MetadataAction, AddAction, RemoveAction, CdcAction, TxnAction,
                            CommitInfoAction, DomainMetadataAction, CheckpointMetadataAction, SidecarAction>;

/// Receives actions one at a time, in log order. The referenced action is only valid during the call (readers reuse
/// their buffers); copy what you keep. Returning an error stops the reader, which returns that error.
class ActionVisitor {
 public:
  virtual ~ActionVisitor() = default;
  virtual Status OnProtocol(const ProtocolAction&) { return Status::OK(); }
  virtual Status OnMetadata(const MetadataAction&) { return Status::OK(); }
  virtual Status OnAdd(const AddAction&) { return Status::OK(); }
  virtual Status OnRemove(const RemoveAction&) { return Status::OK(); }
  virtual Status OnCdc(const CdcAction&) { return Status::OK(); }
  virtual Status OnTxn(const TxnAction&) { return Status::OK(); }
  virtual Status OnCommitInfo(const CommitInfoAction&) { return Status::OK(); }
  virtual Status OnDomainMetadata(const DomainMetadataAction&) { return Status::OK(); }
  virtual Status OnCheckpointMetadata(const CheckpointMetadataAction&) { return Status::OK(); }
  virtual Status OnSidecar(const SidecarAction&) { return Status::OK(); }
};

/// Feeds every action of newline-delimited JSON log content (a commit or a V2 JSON checkpoint) to `visitor`.
/// Unknown actions and fields are ignored; blank lines are skipped. A malformed line is kCorruptData naming
/// `source` (e.g. "table t version 3 file _delta_log/…json") and the 1-based line number.
Status ReadJsonActions(std::string_view content, std::string_view source, ActionVisitor& visitor);
/// As above for one piece of a larger content split at line ends: numbering continues after `line_number` (the lines
/// read so far), which is advanced past the lines of `content`.
Status ReadJsonActions(std::string_view content, std::string_view source, ActionVisitor& visitor,
                       int64_t& line_number);

/// Parses all actions of newline-delimited JSON content into values (convenient for small commits and tests).
Result<std::vector<Action>> ParseJsonActions(std::string_view content, std::string_view source = "json");

/// Returns the value of `key` in `entries`; nullopt when missing, optional-of-nullopt when the value is null.
std::optional<std::optional<std::string>> FindMapEntry(const std::vector<MapEntry>& entries, std::string_view key);

}  // namespace tarn::delta
