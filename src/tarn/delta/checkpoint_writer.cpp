// SPDX-License-Identifier: Apache-2.0
// Checkpoint content reconciliation and the _last_checkpoint hint.
#include "tarn/delta/checkpoint_writer.hpp"

#include <nlohmann/json.hpp>

#include "tarn/delta/log_segment.hpp"
#include "tarn/delta/writer_features.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::delta {
namespace {

// FileEntry paths are percent-decoded and canonical ("/x" for file: URIs); the log stores URIs.
std::string EncodeEntryPath(std::string_view path) {
  if (path.starts_with("/")) return "file://" + storage::PercentEncodePath(path);
  if (path.find("://") != std::string_view::npos) return std::string(path);
  return storage::PercentEncodePath(path);
}

std::vector<MapEntry> ToMapEntries(std::span<const PartitionValueRef> values) {
  std::vector<MapEntry> out;
  out.reserve(values.size());
  for (const PartitionValueRef& value : values) {
    out.push_back(MapEntry{std::string(value.name),
                           value.is_null ? std::nullopt : std::optional<std::string>(std::string(value.value))});
  }
  return out;
}

std::optional<DeletionVectorDescriptor> ToDescriptor(const DeletionVectorRef* dv) {
  if (dv == nullptr) return std::nullopt;
  DeletionVectorDescriptor out;
  out.storage_type = std::string(1, dv->storage_type);
  out.path_or_inline_dv = std::string(dv->path_or_inline_dv);
  out.offset = dv->offset;
  out.size_in_bytes = dv->size_in_bytes;
  out.cardinality = dv->cardinality;
  return out;
}

}  // namespace

AddAction AddActionFromFileEntry(const FileEntry& file, bool data_change) {
  AddAction add;
  add.path = EncodeEntryPath(file.path);
  add.partition_values = ToMapEntries(file.partition_values);
  add.size = file.size;
  add.modification_time = file.modification_time;
  add.data_change = data_change;
  if (!file.stats.empty()) add.stats = std::string(file.stats);
  add.deletion_vector = ToDescriptor(file.deletion_vector);
  add.base_row_id = file.base_row_id;
  add.default_row_commit_version = file.default_row_commit_version;
  return add;
}

int64_t CheckpointContent::NumActions() const {
  return 2 + static_cast<int64_t>(txns.size() + domain_metadata.size() + adds.size() + removes.size()) +
         (checkpoint_metadata ? 1 : 0);
}

std::vector<Action> CheckpointContent::ToActions() const {
  std::vector<Action> out;
  out.reserve(static_cast<size_t>(NumActions()));
  out.emplace_back(protocol);
  out.emplace_back(metadata);
  for (const TxnAction& txn : txns) out.emplace_back(txn);
  for (const DomainMetadataAction& domain : domain_metadata) out.emplace_back(domain);
  if (checkpoint_metadata) out.emplace_back(*checkpoint_metadata);
  for (const AddAction& add : adds) {
    if (write_stats_as_json) {
      out.emplace_back(add);
    } else {
      AddAction copy = add;
      copy.stats.reset();
      out.emplace_back(std::move(copy));
    }
  }
  for (const RemoveAction& remove : removes) out.emplace_back(remove);
  return out;
}

CheckpointContent BuildCheckpointContent(const Snapshot& snapshot, const CheckpointOptions& options) {
  CheckpointContent content;
  content.version = snapshot.version();
  content.protocol = snapshot.protocol();
  content.metadata = snapshot.metadata();
  for (const auto& [app_id, txn] : snapshot.app_transactions()) content.txns.push_back(txn);
  for (const auto& [domain, action] : snapshot.domain_metadata()) content.domain_metadata.push_back(action);
  if (HasWriterFeature(snapshot.protocol(), "v2Checkpoint")) {
    content.checkpoint_metadata = CheckpointMetadataAction{snapshot.version(), {}};
  }
  auto stats_json = snapshot.Configuration("delta.checkpoint.writeStatsAsJson");
  content.write_stats_as_json = !(stats_json && *stats_json == "false");
  content.adds.reserve(snapshot.active_files().size());
  for (const FileEntry& file : snapshot.active_files()) content.adds.push_back(AddActionFromFileEntry(file, false));
  for (const FileEntry& file : snapshot.tombstones()) {
    if (file.deletion_timestamp < options.tombstone_cutoff_millis) continue;
    RemoveAction remove;
    remove.path = EncodeEntryPath(file.path);
    remove.deletion_timestamp = file.deletion_timestamp;
    remove.data_change = false;
    remove.extended_file_metadata = true;
    remove.partition_values = ToMapEntries(file.partition_values);
    remove.size = file.size;
    remove.deletion_vector = ToDescriptor(file.deletion_vector);
    remove.base_row_id = file.base_row_id;
    remove.default_row_commit_version = file.default_row_commit_version;
    content.removes.push_back(std::move(remove));
  }
  return content;
}

Result<CheckpointResult> WriteCheckpoint(storage::ObjectStore& store, const std::string& table_root,
                                         const Snapshot& snapshot, CheckpointWriter& writer,
                                         const CheckpointOptions& options) {
  std::string log_prefix = table_root + "_delta_log/";
  CheckpointContent content = BuildCheckpointContent(snapshot, options);
  CheckpointResult result;
  result.version = snapshot.version();
  result.key = log_prefix + VersionStem(snapshot.version()) + ".checkpoint.parquet";
  result.num_actions = content.NumActions();
  result.num_add_files = static_cast<int64_t>(content.adds.size());
  auto info = writer.WriteCheckpoint(store, result.key, content);
  if (!info.has_value()) return info.status().WithContext("writing checkpoint {}", result.key);
  result.size_in_bytes = info->size_in_bytes;

  std::string hint_key = log_prefix + "_last_checkpoint";
  auto existing = store.Read(hint_key);
  if (existing.has_value()) {
    auto hint = ParseLastCheckpoint(*existing);
    if (hint && hint->version > snapshot.version()) return result;  // a newer checkpoint already won
  }
  nlohmann::ordered_json hint;
  hint["version"] = result.version;
  hint["size"] = result.num_actions;
  hint["sizeInBytes"] = result.size_in_bytes;
  hint["numOfAddFiles"] = result.num_add_files;
  // The hint is not synced: readers treat a missing, stale or torn _last_checkpoint as absent and list the log, so
  // losing it in a power failure costs one listing, while syncing it costs two fsyncs per checkpoint.
  storage::WriteOptions hint_options;
  hint_options.sync = false;
  Status st = store.Write(hint_key, hint.dump(), hint_options);
  if (!st.ok()) return st.WithContext("writing {}", hint_key);
  return result;
}

}  // namespace tarn::delta
