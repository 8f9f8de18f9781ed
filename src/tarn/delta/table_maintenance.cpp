// SPDX-License-Identifier: Apache-2.0
// VACUUM, RESTORE and OPTIMIZE planning over snapshots and the object store.
#include "tarn/delta/table_maintenance.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "tarn/base/crypto.hpp"
#include "tarn/delta/checkpoint_writer.hpp"
#include "tarn/delta/table_properties.hpp"
#include "tarn/delta/transaction.hpp"
#include "tarn/delta/writer_features.hpp"

namespace tarn::delta {
namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

// Spark's DeltaTableUtils.isHiddenDirectory, applied to directory and file names alike.
bool IsHidden(std::string_view name, const std::vector<std::string>& partition_columns) {
  if (name.starts_with(".")) return true;
  if (!name.starts_with("_")) return false;
  if (name.starts_with("_change_data")) return false;
  for (const std::string& column : partition_columns) {
    if (name.starts_with(column + "=")) return false;
  }
  return true;
}

std::string EntryKey(const FileEntry& file) {
  return file.deletion_vector ? std::string(file.path) + "\n" + std::string(file.deletion_vector->unique_id)
                              : std::string(file.path);
}

}  // namespace

std::optional<std::string> DecodeZ85(std::string_view text) {
  if (text.size() % 5 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t value = 0;
    for (size_t k = 0; k < 5; ++k) {
      size_t digit = kZ85Alphabet.find(text[i + k]);
      if (digit == std::string_view::npos) return std::nullopt;
      value = value * 85 + digit;
    }
    if (value > 0xffffffffull) return std::nullopt;
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
  }
  return out;
}

std::optional<std::string> DeletionVectorFilePath(const DeletionVectorRef& dv, std::string_view local_root) {
  if (dv.storage_type == 'u') {
    std::string_view text = dv.path_or_inline_dv;
    if (text.size() < 20) return std::nullopt;
    auto bytes = DecodeZ85(text.substr(text.size() - 20));
    if (!bytes || bytes->size() != 16) return std::nullopt;
    std::string hex = HexEncode(*bytes);
    std::string uuid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                       hex.substr(16, 4) + "-" + hex.substr(20);
    std::string prefix(text.substr(0, text.size() - 20));
    return (prefix.empty() ? "" : prefix + "/") + "deletion_vector_" + uuid + ".bin";
  }
  if (dv.storage_type == 'p') return CanonicalLogPath(dv.path_or_inline_dv, local_root);
  return std::nullopt;
}

Result<VacuumResult> Vacuum(DeltaTable& table, const VacuumOptions& options) {
  TARN_ASSIGN_OR_RETURN(SnapshotPtr snapshot, table.Latest());
  Status writable = ValidateWriterProtocol(snapshot->protocol(), table.options().supported_writer_features);
  if (!writable.ok()) return writable.WithContext("{}: VACUUM", table.label());
  TARN_ASSIGN_OR_RETURN(TableProperties properties, TableProperties::From(snapshot->metadata().configuration));
  VacuumResult result;
  result.dry_run = options.dry_run;
  result.retention_millis = options.retention_millis.value_or(properties.deleted_file_retention_millis);
  if (result.retention_millis < 0) {
    return Error(ErrorCode::kInvalidParameterValue, "{}: VACUUM retention must not be negative", table.label());
  }
  if (result.retention_millis < properties.deleted_file_retention_millis && !options.allow_short_retention) {
    return Error(ErrorCode::kInvalidParameterValue,
                 "{}: VACUUM retention of {} hours is shorter than delta.deletedFileRetentionDuration ({} hours); "
                 "files still needed by concurrent readers or time travel could be deleted. Pass the explicit "
                 "retention-check override to do it anyway",
                 table.label(), result.retention_millis / 3600000.0,
                 properties.deleted_file_retention_millis / 3600000.0);
  }
  const int64_t cutoff = table.NowMillis() - result.retention_millis;
  std::set<std::string, std::less<>> keep;
  auto keep_file = [&](const FileEntry& file) {
    keep.insert(std::string(file.path));
    if (file.deletion_vector != nullptr) {
      if (auto dv = DeletionVectorFilePath(*file.deletion_vector, table.local_root())) keep.insert(*dv);
    }
  };
  for (const FileEntry& file : snapshot->active_files()) keep_file(file);
  for (const FileEntry& file : snapshot->tombstones()) {
    if (file.deletion_timestamp >= cutoff) keep_file(file);
  }
  const std::vector<std::string>& partition_columns = snapshot->partition_columns();
  auto listed = table.store().List(table.table_root());
  if (!listed.has_value()) return listed.status().WithContext("{}: VACUUM listing", table.label());
  for (const storage::ObjectInfo& info : *listed) {
    std::string_view relative = std::string_view(info.key).substr(table.table_root().size());
    if (relative.starts_with("_delta_log/")) continue;
    bool hidden = false;
    std::string_view rest = relative;
    while (!rest.empty() && !hidden) {
      size_t slash = rest.find('/');
      hidden = IsHidden(rest.substr(0, slash), partition_columns);
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (hidden || keep.find(relative) != keep.end()) continue;
    if (info.modification_time_millis >= cutoff) continue;  // possibly an in-flight write
    result.files.push_back(info.key);
    result.num_bytes += info.size;
  }
  if (!options.dry_run) {
    for (const std::string& key : result.files) {
      Status st = table.store().Delete(key);
      if (!st.ok() && st.code() != ErrorCode::kResourceDoesNotExist) {
        return st.WithContext("{}: VACUUM deleting {}", table.label(), key);
      }
    }
  }
  return result;
}

Result<CommitResult> RestoreTable(DeltaTable& table, const RestoreTarget& target) {
  if (target.version.has_value() == target.timestamp_millis.has_value()) {
    return Error(ErrorCode::kInvalidParameterValue, "{}: RESTORE needs exactly one of version and timestamp",
                 table.label());
  }
  TARN_ASSIGN_OR_RETURN(SnapshotPtr current, table.Latest());
  if (target.version && *target.version > current->version()) {
    return Error(ErrorCode::kInvalidParameterValue, "{}: cannot restore to version {}: the latest version is {}",
                 table.label(), *target.version, current->version());
  }
  Result<SnapshotPtr> loaded = target.version ? table.log().LoadAtVersion(*target.version)
                                              : table.log().LoadAtTimestamp(*target.timestamp_millis);
  if (!loaded.has_value()) return loaded.status().WithContext("{}: RESTORE target", table.label());
  SnapshotPtr old = *loaded;
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<OptimisticTransaction> txn, table.StartTransactionAt(current));
  txn->ReadWholeTable();
  std::set<std::string> current_keys;
  std::set<std::string> target_keys;
  for (const FileEntry& file : current->active_files()) current_keys.insert(EntryKey(file));
  for (const FileEntry& file : old->active_files()) target_keys.insert(EntryKey(file));
  int64_t restored = 0, restored_bytes = 0, removed = 0, removed_bytes = 0;
  for (const FileEntry& file : old->active_files()) {
    if (current_keys.contains(EntryKey(file))) continue;
    if (!file.path.starts_with("/") && file.path.find("://") == std::string_view::npos) {
      auto exists = table.store().Stat(table.table_root() + std::string(file.path));
      if (!exists.has_value()) {
        return Error(ErrorCode::kResourceDoesNotExist,
                     "{}: cannot restore to version {}: data file {} no longer exists (was it vacuumed?)",
                     table.label(), old->version(), file.path);
      }
    }
    txn->AddFile(AddActionFromFileEntry(file, true));
    ++restored;
    restored_bytes += file.size;
  }
  for (const FileEntry& file : current->active_files()) {
    if (target_keys.contains(EntryKey(file))) continue;
    txn->RemoveFile(file, true);
    ++removed;
    removed_bytes += file.size;
  }
  if (!(old->metadata() == current->metadata())) {
    MetadataAction metadata = old->metadata();
    TARN_RETURN_IF_ERROR(txn->UpdateMetadata(std::move(metadata)));
  }
  std::map<std::string, std::string> parameters;
  if (target.version) {
    parameters["version"] = std::to_string(*target.version);
  } else {
    parameters["timestamp"] = std::to_string(*target.timestamp_millis);
  }
  txn->SetOperation(operations::kRestore, std::move(parameters));
  txn->SetOperationMetrics({
      {"tableSizeAfterRestore", std::to_string(old->TotalActiveBytes())},
      {"numOfFilesAfterRestore", std::to_string(old->num_active_files())},
      {"numRemovedFiles", std::to_string(removed)},
      {"numRestoredFiles", std::to_string(restored)},
      {"removedFilesSize", std::to_string(removed_bytes)},
      {"restoredFilesSize", std::to_string(restored_bytes)},
  });
  return txn->Commit();
}

Result<OptimizePlan> PlanOptimize(SnapshotPtr snapshot, const OptimizeOptions& options) {
  if (snapshot == nullptr) return Error(ErrorCode::kInvalidParameterValue, "OPTIMIZE needs a snapshot");
  if (options.target_file_size <= 0) {
    return Error(ErrorCode::kInvalidParameterValue, "OPTIMIZE target file size must be positive");
  }
  const int64_t min_size = options.min_file_size > 0 ? options.min_file_size : options.target_file_size;
  std::map<std::vector<std::pair<std::string, std::optional<std::string>>>, std::vector<FileEntry>> groups;
  for (const FileEntry& file : snapshot->active_files()) {
    if (file.size >= min_size && file.deletion_vector == nullptr) continue;
    if (options.partition_filter) {
      AddAction probe;
      for (const PartitionValueRef& value : file.partition_values) {
        probe.partition_values.push_back({std::string(value.name), value.is_null ? std::nullopt
                                                                                 : std::optional<std::string>(std::string(value.value))});
      }
      if (!options.partition_filter(probe)) continue;
    }
    std::vector<std::pair<std::string, std::optional<std::string>>> key;
    for (const PartitionValueRef& value : file.partition_values) {
      key.emplace_back(std::string(value.name),
                       value.is_null ? std::nullopt : std::optional<std::string>(std::string(value.value)));
    }
    std::sort(key.begin(), key.end());
    groups[std::move(key)].push_back(file);
  }
  OptimizePlan plan;
  plan.snapshot = snapshot;
  for (auto& [key, files] : groups) {
    std::stable_sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) { return a.size < b.size; });
    std::vector<OptimizeBin> bins;
    OptimizeBin bin;
    for (const FileEntry& file : files) {
      if (!bin.files.empty() && bin.total_bytes + file.size > options.target_file_size) {
        bins.push_back(std::move(bin));
        bin = OptimizeBin();
      }
      bin.files.push_back(file);
      bin.total_bytes += file.size;
    }
    if (!bin.files.empty()) bins.push_back(std::move(bin));
    for (OptimizeBin& candidate : bins) {
      if (candidate.files.size() < 2 && candidate.files.front().deletion_vector == nullptr) continue;
      for (const auto& [name, value] : key) candidate.partition_values.push_back({name, value});
      plan.num_files += static_cast<int64_t>(candidate.files.size());
      plan.num_bytes += candidate.total_bytes;
      plan.bins.push_back(std::move(candidate));
    }
  }
  return plan;
}

Result<CommitResult> CommitOptimize(DeltaTable& table, const OptimizePlan& plan,
                                    std::vector<std::vector<AddAction>> new_files) {
  if (new_files.size() != plan.bins.size()) {
    return Error(ErrorCode::kInvalidParameterValue, "{}: OPTIMIZE produced files for {} bins, the plan has {}",
                 table.label(), new_files.size(), plan.bins.size());
  }
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<OptimisticTransaction> txn, table.StartTransactionAt(plan.snapshot));
  int64_t removed_bytes = 0, added_bytes = 0, added = 0;
  for (size_t i = 0; i < plan.bins.size(); ++i) {
    for (const FileEntry& file : plan.bins[i].files) {
      txn->RemoveFile(file, /*data_change=*/false);
      removed_bytes += file.size;
    }
    for (AddAction& add : new_files[i]) {
      add.data_change = false;
      added_bytes += add.size;
      ++added;
      txn->AddFile(std::move(add));
    }
  }
  txn->SetOperation(operations::kOptimize, {{"predicate", "[]"}, {"zOrderBy", "[]"}, {"auto", "false"}});
  txn->SetOperationMetrics({
      {"numRemovedFiles", std::to_string(plan.num_files)},
      {"numAddedFiles", std::to_string(added)},
      {"numRemovedBytes", std::to_string(removed_bytes)},
      {"numAddedBytes", std::to_string(added_bytes)},
      {"numBatches", "1"},
      {"totalConsideredFiles", std::to_string(plan.snapshot->num_active_files())},
  });
  return txn->Commit();
}

}  // namespace tarn::delta
