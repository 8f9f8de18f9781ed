// SPDX-License-Identifier: Apache-2.0
// DeltaTable: table creation, snapshot caching for writers, post-commit checkpoints and log cleanup.
#include "tarn/delta/delta_table.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "tarn/base/clock.hpp"
#include "tarn/base/logging.hpp"
#include "tarn/base/version.hpp"
#include "tarn/delta/log_segment.hpp"
#include "tarn/delta/schema_serializer.hpp"
#include "tarn/delta/table_properties.hpp"
#include "tarn/delta/transaction.hpp"
#include "tarn/delta/uuid.hpp"

namespace tarn::delta {
namespace {

// A cached snapshot younger than this is refreshed by probing for the next commit files instead of listing the log.
// Log cleanup only deletes files older than the log retention (days), so a missing next commit within this window
// really means there is none.
constexpr int64_t kProbeFreshnessMillis = 60 * 1000;

// Largest delta.columnMapping.id among the fields of `type` (nested included); 0 when none has one.
int64_t MaxColumnMappingId(const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kStruct: {
      int64_t max_id = 0;
      for (const StructField& field : type.fields()) {
        max_id = std::max({max_id, field.column_mapping_id.value_or(0), MaxColumnMappingId(*field.type)});
      }
      return max_id;
    }
    case TypeKind::kArray: return MaxColumnMappingId(*type.element_type());
    case TypeKind::kMap: return std::max(MaxColumnMappingId(*type.key_type()), MaxColumnMappingId(*type.value_type()));
    default: return 0;
  }
}

// Assigns column-mapping ids and physical names to every field without them (new tables in name/id mode).
DataTypePtr AssignColumnMapping(const DataType& type, int64_t& next_id) {
  switch (type.kind()) {
    case TypeKind::kStruct: {
      std::vector<StructField> fields;
      for (const StructField& field : type.fields()) {
        StructField copy = field;
        nlohmann::ordered_json metadata = nlohmann::ordered_json::parse(field.metadata_json, nullptr, false);
        if (metadata.is_discarded() || !metadata.is_object()) metadata = nlohmann::ordered_json::object();
        if (!metadata.contains("delta.columnMapping.id")) {
          int64_t id = ++next_id;
          std::string physical = "col-" + NewUuid();
          metadata["delta.columnMapping.id"] = id;
          metadata["delta.columnMapping.physicalName"] = physical;
          copy.column_mapping_id = id;
          copy.physical_name = physical;
        }
        copy.metadata_json = metadata.dump();
        copy.type = AssignColumnMapping(*field.type, next_id);
        fields.push_back(std::move(copy));
      }
      return DataType::Struct(std::move(fields));
    }
    case TypeKind::kArray:
      return DataType::Array(AssignColumnMapping(*type.element_type(), next_id), type.contains_null());
    case TypeKind::kMap:
      return DataType::Map(AssignColumnMapping(*type.key_type(), next_id),
                           AssignColumnMapping(*type.value_type(), next_id), type.value_contains_null());
    default:
      return type.kind() == TypeKind::kDecimal ? DataType::Decimal(type.precision(), type.scale())
                                               : DataType::Primitive(type.kind());
  }
}

std::string JsonArray(const std::vector<std::string>& values) {
  return nlohmann::json(values).dump();
}

}  // namespace

Result<Schema> ApplyColumnMapping(const Schema& schema, std::map<std::string, std::string>& configuration) {
  auto mode = configuration.find("delta.columnMapping.mode");
  if (mode == configuration.end() || mode->second == "none") return schema;
  if (mode->second != "name" && mode->second != "id") {
    return Error(ErrorCode::kInvalidParameterValue, "invalid delta.columnMapping.mode: {}", mode->second);
  }
  int64_t next_id = MaxColumnMappingId(*schema.type());
  Schema mapped(AssignColumnMapping(*schema.type(), next_id));
  configuration["delta.columnMapping.maxColumnId"] = std::to_string(next_id);
  return mapped;
}

DeltaTable::DeltaTable(storage::ObjectStore& store, std::string table_root, TableOptions options)
    : store_(store),
      options_(std::move(options)),
      log_(store, table_root,
           DeltaLogOptions{options_.checkpoint_reader, options_.supported_reader_features, options_.table_name,
                           DeltaLogOptions{}.parse_ahead_min_bytes}) {
  while (!table_root.empty() && table_root.front() == '/') table_root.erase(0, 1);
  if (!table_root.empty() && table_root.back() != '/') table_root += '/';
  table_root_ = std::move(table_root);
  log_prefix_ = table_root_ + "_delta_log/";
  if (options_.engine_info.empty()) options_.engine_info = std::string("Tarn/") + kVersion;
  label_ = log_.table_label();
  auto local = store_.LocalPath(table_root_.empty() ? "_delta_log" : table_root_ + "_delta_log");
  if (local && local->size() > 11) local_root_ = local->substr(0, local->size() - 11);
}

DeltaTable::~DeltaTable() = default;

int64_t DeltaTable::NowMillis() const { return options_.clock ? options_.clock() : ::tarn::NowMillis(); }

std::string DeltaTable::CommitKey(int64_t version) const { return log_prefix_ + VersionStem(version) + ".json"; }

int64_t DeltaTable::num_post_commit_failures() const {
  std::lock_guard lock(mu_);
  return num_post_commit_failures_;
}

Result<CommitResult> DeltaTable::Create(const CreateTableRequest& request) {
  storage::ListOptions list_options;
  list_options.recursive = false;
  auto listed = store_.List(log_prefix_, list_options);
  if (!listed.has_value()) return listed.status().WithContext("{}: listing {}", label_, log_prefix_);
  for (const storage::ObjectInfo& info : *listed) {
    if (ParseLogFileName(info)) {
      return Error(ErrorCode::kResourceAlreadyExists, "{}: a Delta table already exists at {}", label_, log_prefix_);
    }
  }
  MetadataAction metadata;
  metadata.id = NewUuid();
  metadata.name = request.name;
  metadata.description = request.description;
  metadata.partition_columns = request.partition_columns;
  metadata.configuration = request.configuration;
  metadata.created_time = NowMillis();
  TARN_ASSIGN_OR_RETURN(Schema schema, ApplyColumnMapping(request.schema, metadata.configuration));
  metadata.schema_string = SerializeSchema(schema);
  if (!request.domain_metadata.empty()) metadata.configuration["delta.feature.domainMetadata"] = "supported";

  OptimisticTransaction txn(*this, nullptr);
  std::map<std::string, std::string> properties = request.configuration;
  StripFeatureProperties(properties);
  TARN_RETURN_IF_ERROR(txn.UpdateMetadata(std::move(metadata)));
  for (const DomainMetadataAction& domain : request.domain_metadata) {
    TARN_RETURN_IF_ERROR(txn.SetDomainMetadata(domain.domain, domain.configuration));
  }
  for (const AddAction& add : request.initial_files) txn.AddFile(add);
  std::map<std::string, std::string> parameters;
  parameters["isManaged"] = request.is_managed ? "true" : "false";
  parameters["description"] = request.description.value_or("");
  parameters["partitionBy"] = JsonArray(request.partition_columns);
  parameters["properties"] = nlohmann::json(properties).dump();
  txn.SetOperation(request.initial_files.empty() ? operations::kCreateTable : operations::kCreateTableAsSelect,
                   std::move(parameters));
  return txn.Commit();
}

Result<SnapshotPtr> DeltaTable::Latest() {
  SnapshotPtr cached;
  int64_t checked_at = 0;
  {
    std::lock_guard lock(mu_);
    cached = latest_;
    checked_at = latest_checked_at_;
  }
  const int64_t now = NowMillis();
  Result<SnapshotPtr> refreshed = Status(ErrorCode::kInternal, "unset");
  if (cached == nullptr) {
    refreshed = log_.LoadLatest();
  } else if (now - checked_at <= kProbeFreshnessMillis && now >= checked_at) {
    std::vector<LogFile> commits;
    for (int64_t version = cached->version() + 1;; ++version) {
      std::string key = CommitKey(version);
      auto info = store_.Stat(key);
      if (!info.has_value()) {
        if (info.status().code() != ErrorCode::kResourceDoesNotExist) return info.status().WithContext("{}", label_);
        break;
      }
      LogFile file;
      file.key = key;
      file.version = version;
      file.size = info->size;
      file.modification_time = info->modification_time_millis;
      commits.push_back(std::move(file));
    }
    refreshed = commits.empty() ? Result<SnapshotPtr>(cached) : log_.ApplyCommits(cached, std::move(commits));
  } else {
    refreshed = log_.Refresh(cached);
  }
  if (!refreshed.has_value()) return refreshed.status();
  std::lock_guard lock(mu_);
  if (latest_ == nullptr || (*refreshed)->version() >= latest_->version()) {
    latest_ = *refreshed;
    latest_checked_at_ = now;
  }
  return *refreshed;
}

Result<std::unique_ptr<OptimisticTransaction>> DeltaTable::StartTransaction() {
  TARN_ASSIGN_OR_RETURN(SnapshotPtr snapshot, Latest());
  return StartTransactionAt(std::move(snapshot));
}

Result<std::unique_ptr<OptimisticTransaction>> DeltaTable::StartTransactionAt(SnapshotPtr snapshot) {
  if (snapshot == nullptr) return Error(ErrorCode::kInvalidParameterValue, "{}: no snapshot to write on", label_);
  Status writable = ValidateWriterProtocol(snapshot->protocol(), options_.supported_writer_features);
  if (!writable.ok()) return writable.WithContext("{}", label_);
  return std::make_unique<OptimisticTransaction>(*this, std::move(snapshot));
}

Result<CheckpointResult> DeltaTable::Checkpoint(const Snapshot& snapshot) {
  if (options_.checkpoint_writer == nullptr) {
    return Error(ErrorCode::kFeatureNotSupported, "{}: no checkpoint writer configured", label_);
  }
  TARN_ASSIGN_OR_RETURN(TableProperties properties, TableProperties::From(snapshot.metadata().configuration));
  CheckpointOptions checkpoint_options;
  checkpoint_options.tombstone_cutoff_millis = NowMillis() - properties.deleted_file_retention_millis;
  return WriteCheckpoint(store_, table_root_, snapshot, *options_.checkpoint_writer, checkpoint_options);
}

Result<LogCleanupResult> DeltaTable::CleanupLogs(const Snapshot& snapshot) {
  TARN_ASSIGN_OR_RETURN(TableProperties properties, TableProperties::From(snapshot.metadata().configuration));
  return CleanupExpiredLogs(store_, table_root_, properties.log_retention_millis, NowMillis());
}

void DeltaTable::OnCommitted(const SnapshotPtr& committed) {
  {
    std::lock_guard lock(mu_);
    if (latest_ == nullptr || committed->version() >= latest_->version()) {
      latest_ = committed;
      latest_checked_at_ = NowMillis();
    }
  }
  if (options_.post_commit_scheduler != nullptr && options_.post_commit_scheduler->Schedule(local_root_, committed)) {
    return;
  }
  if (options_.checkpoint_writer == nullptr) return;
  auto properties = TableProperties::From(committed->metadata().configuration);
  int interval = properties.has_value() ? properties->checkpoint_interval : kDefaultCheckpointInterval;
  if (committed->version() == 0 || committed->version() % interval != 0) return;
  if (options_.post_commit_executor) {
    options_.post_commit_executor([this, committed]() { RunPostCommit(committed); });
  } else {
    RunPostCommit(committed);
  }
}

void DeltaTable::RunPostCommit(SnapshotPtr committed) {
  auto checkpoint = Checkpoint(*committed);
  if (!checkpoint.has_value()) {
    TARN_LOG_WARN("{}: checkpoint at version {} failed (the commit is unaffected): {}", label_, committed->version(),
                  checkpoint.status().ToString());
    std::lock_guard lock(mu_);
    ++num_post_commit_failures_;
    return;
  }
  auto properties = TableProperties::From(committed->metadata().configuration);
  if (!properties.has_value() || !properties->enable_expired_log_cleanup) return;
  {
    // Listing the log is the expensive part of a cleanup; skip it while nothing can have expired yet.
    std::lock_guard lock(mu_);
    if (NowMillis() < next_cleanup_at_) return;
  }
  auto cleanup = CleanupLogs(*committed);
  if (cleanup.has_value()) {
    std::lock_guard lock(mu_);
    next_cleanup_at_ = cleanup->oldest_remaining_mtime
                           ? *cleanup->oldest_remaining_mtime + properties->log_retention_millis
                           : 0;
  } else {
    TARN_LOG_WARN("{}: log cleanup after version {} failed: {}", label_, committed->version(),
                  cleanup.status().ToString());
    std::lock_guard lock(mu_);
    ++num_post_commit_failures_;
  }
}

}  // namespace tarn::delta
