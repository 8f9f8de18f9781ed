// SPDX-License-Identifier: Apache-2.0
// Optimistic transactions: validation, commit-file construction, put-if-absent commit with conflict-checked retries.
#include "tarn/delta/transaction.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "tarn/base/logging.hpp"
#include "tarn/delta/action_serializer.hpp"
#include "tarn/delta/partition_value.hpp"
#include "tarn/delta/schema_serializer.hpp"
#include "tarn/delta/table_features.hpp"
#include "tarn/delta/table_properties.hpp"
#include "tarn/delta/uuid.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::delta {
namespace {

using nlohmann::ordered_json;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

const StructField* FindByName(const std::vector<StructField>& fields, std::string_view name) {
  for (const StructField& field : fields) {
    if (field.name == name) return &field;
  }
  for (const StructField& field : fields) {
    if (EqualsIgnoreCase(field.name, name)) return &field;
  }
  return nullptr;
}

Result<std::vector<StructField>> MergeFields(const std::vector<StructField>& table,
                                             const std::vector<StructField>& data, const std::string& prefix,
                                             bool merge, const std::vector<std::string>* partition_columns,
                                             bool& changed) {
  std::vector<StructField> out = table;
  for (const StructField& column : data) {
    std::string name = prefix + column.name;
    auto it = std::find_if(out.begin(), out.end(), [&](const StructField& f) { return f.name == column.name; });
    if (it == out.end()) {
      it = std::find_if(out.begin(), out.end(),
                        [&](const StructField& f) { return EqualsIgnoreCase(f.name, column.name); });
    }
    if (it != out.end()) {
      if (it->type->kind() == TypeKind::kStruct && column.type->kind() == TypeKind::kStruct) {
        bool nested_changed = false;
        TARN_ASSIGN_OR_RETURN(std::vector<StructField> nested,
                              MergeFields(it->type->fields(), column.type->fields(), name + ".", merge, nullptr,
                                          nested_changed));
        if (nested_changed) {
          it->type = DataType::Struct(std::move(nested));
          changed = true;
        }
      } else if (!it->type->Equals(*column.type)) {
        return Error(ErrorCode::kSchemaMismatch,
                     "schema mismatch: column `{}` has type {} in the table but {} in the data", name,
                     it->type->ToString(), column.type->ToString());
      }
      continue;
    }
    if (!merge) {
      return Error(ErrorCode::kSchemaMismatch,
                   "schema mismatch: column `{}` is not in the table schema (enable mergeSchema to add it)", name);
    }
    StructField added = column;
    added.nullable = true;
    added.metadata_json = "{}";
    added.column_mapping_id.reset();
    added.physical_name.reset();
    out.push_back(std::move(added));
    changed = true;
  }
  for (const StructField& field : table) {
    if (field.nullable || FindByName(data, field.name) != nullptr) continue;
    if (partition_columns != nullptr &&
        std::find(partition_columns->begin(), partition_columns->end(), field.name) != partition_columns->end()) {
      continue;
    }
    return Error(ErrorCode::kSchemaMismatch, "schema mismatch: column `{}{}` is NOT NULL but missing from the data",
                 prefix, field.name);
  }
  return out;
}

std::optional<std::string> CommitInfoTxnId(const std::vector<Action>& actions) {
  for (const Action& action : actions) {
    if (const auto* info = std::get_if<CommitInfoAction>(&action)) return info->txn_id;
  }
  return std::nullopt;
}

std::optional<int64_t> NumRecords(const std::optional<std::string>& stats) {
  if (!stats) return std::nullopt;
  ordered_json parsed = ordered_json::parse(*stats, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  auto it = parsed.find("numRecords");
  if (it == parsed.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::string DvKey(const std::string& path, const std::optional<DeletionVectorDescriptor>& dv) {
  return dv ? path + "\n" + dv->UniqueId() : path;
}

}  // namespace

OptimisticTransaction::OptimisticTransaction(DeltaTable& table, SnapshotPtr snapshot)
    : table_(table), snapshot_(std::move(snapshot)), txn_id_(NewUuid()) {
  footprint_.supported_writer_features = &table_.options().supported_writer_features;
  footprint_.supported_reader_features = &table_.options().supported_reader_features;
  if (snapshot_) {
    auto properties = TableProperties::From(snapshot_->metadata().configuration);
    if (properties.has_value()) footprint_.isolation_level = properties->isolation_level;
  }
}

std::optional<int64_t> OptimisticTransaction::ReadAppTransactionVersion(const std::string& app_id) {
  footprint_.read_app_ids.insert(app_id);
  return snapshot_ ? snapshot_->AppTransactionVersion(app_id) : std::nullopt;
}

void OptimisticTransaction::AddFile(AddAction add) { adds_.push_back(std::move(add)); }

void OptimisticTransaction::RemoveFile(RemoveAction remove) {
  std::string canonical = CanonicalLogPath(remove.path, table_.local_root());
  footprint_.read_files.insert(canonical);
  footprint_.removed_files.insert(std::move(canonical));
  removes_.push_back(std::move(remove));
}

void OptimisticTransaction::RemoveFile(const FileEntry& file, bool data_change) {
  RemoveAction remove;
  remove.path = file.path.starts_with("/") ? "file://" + storage::PercentEncodePath(file.path)
                                           : storage::PercentEncodePath(file.path);
  remove.deletion_timestamp = table_.NowMillis();
  remove.data_change = data_change;
  remove.extended_file_metadata = true;
  for (const PartitionValueRef& value : file.partition_values) {
    remove.partition_values.push_back(
        {std::string(value.name), value.is_null ? std::nullopt : std::optional<std::string>(std::string(value.value))});
  }
  remove.size = file.size;
  if (!file.stats.empty()) remove.stats = std::string(file.stats);
  if (file.deletion_vector != nullptr) {
    DeletionVectorDescriptor dv;
    dv.storage_type = std::string(1, file.deletion_vector->storage_type);
    dv.path_or_inline_dv = std::string(file.deletion_vector->path_or_inline_dv);
    dv.offset = file.deletion_vector->offset;
    dv.size_in_bytes = file.deletion_vector->size_in_bytes;
    dv.cardinality = file.deletion_vector->cardinality;
    remove.deletion_vector = std::move(dv);
  }
  remove.base_row_id = file.base_row_id;
  remove.default_row_commit_version = file.default_row_commit_version;
  footprint_.read_files.emplace(file.path);
  footprint_.removed_files.emplace(file.path);
  removes_.push_back(std::move(remove));
}

const Schema& OptimisticTransaction::schema() const {
  static const Schema kEmpty;
  if (new_schema_) return *new_schema_;
  return snapshot_ ? snapshot_->schema() : kEmpty;
}

const MetadataAction& OptimisticTransaction::metadata() const {
  static const MetadataAction kEmpty;
  if (new_metadata_) return *new_metadata_;
  return snapshot_ ? snapshot_->metadata() : kEmpty;
}

const ProtocolAction& OptimisticTransaction::protocol() const {
  static const ProtocolAction kDefault;
  if (new_protocol_) return *new_protocol_;
  return snapshot_ ? snapshot_->protocol() : kDefault;
}

Status OptimisticTransaction::UpdateMetadata(MetadataAction metadata) {
  auto schema = ParseSchema(metadata.schema_string);
  if (!schema.has_value()) {
    return Error(ErrorCode::kInvalidParameterValue, "invalid table schema: {}", schema.status().message());
  }
  for (const std::string& column : metadata.partition_columns) {
    const StructField* field = schema->FindField(column);
    if (field == nullptr || field->name != column) {
      return Error(ErrorCode::kInvalidParameterValue, "partition column {} is not in the table schema", column);
    }
    if (!field->type->is_primitive()) {
      return Error(ErrorCode::kInvalidParameterValue, "partition column {} has non-primitive type {}", column,
                   field->type->ToString());
    }
  }
  std::set<std::string> seen;
  for (const StructField& field : schema->fields()) {
    std::string lowered = field.name;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!seen.insert(lowered).second) {
      return Error(ErrorCode::kInvalidParameterValue, "duplicate column name in the schema: {}", field.name);
    }
  }
  auto properties = TableProperties::From(metadata.configuration);
  if (!properties.has_value()) return properties.status();
  std::set<std::string> features = RequiredFeatures(metadata.configuration, *schema);
  StripFeatureProperties(metadata.configuration);
  bool had_ict = snapshot_ && IsPropertyTrue(snapshot_->metadata().configuration, "delta.enableInCommitTimestamps");
  newly_enables_ict_ = !had_ict && properties->in_commit_timestamps;
  if (snapshot_ == nullptr && !new_protocol_) {
    new_protocol_ = ProtocolForFeatures(features);
    footprint_.changes_protocol = true;
  } else if (auto upgraded = UpgradeProtocol(protocol(), features)) {
    new_protocol_ = std::move(*upgraded);
    footprint_.changes_protocol = true;
  }
  new_schema_ = std::move(schema).value();
  new_metadata_ = std::move(metadata);
  footprint_.changes_metadata = true;
  return Status::OK();
}

Status OptimisticTransaction::UpdateProtocol(ProtocolAction protocol) {
  TARN_RETURN_IF_ERROR(CheckProtocolShape(protocol));
  const ProtocolAction& current = this->protocol();
  if (snapshot_ && (protocol.min_reader_version < current.min_reader_version ||
                    protocol.min_writer_version < current.min_writer_version)) {
    return Error(ErrorCode::kInvalidParameterValue, "protocol downgrade from ({},{}) to ({},{}) is not allowed",
                 current.min_reader_version, current.min_writer_version, protocol.min_reader_version,
                 protocol.min_writer_version);
  }
  new_protocol_ = std::move(protocol);
  footprint_.changes_protocol = true;
  return Status::OK();
}

void OptimisticTransaction::SetAppTransaction(std::string app_id, int64_t version) {
  footprint_.read_app_ids.insert(app_id);
  TxnAction txn;
  txn.app_id = app_id;
  txn.version = version;
  txns_[std::move(app_id)] = std::move(txn);
}

Status OptimisticTransaction::SetDomainMetadata(std::string domain, std::string configuration) {
  if (domain.empty()) return Error(ErrorCode::kInvalidParameterValue, "domain name must not be empty");
  footprint_.domains.insert(domain);
  domains_[domain] = DomainMetadataAction{domain, std::move(configuration), false};
  return Status::OK();
}

Status OptimisticTransaction::RemoveDomainMetadata(std::string domain) {
  if (domain.empty()) return Error(ErrorCode::kInvalidParameterValue, "domain name must not be empty");
  std::string configuration;
  if (snapshot_) {
    auto it = snapshot_->domain_metadata().find(domain);
    if (it == snapshot_->domain_metadata().end()) {
      return Error(ErrorCode::kResourceDoesNotExist, "domain metadata {} does not exist", domain);
    }
    configuration = it->second.configuration;
  }
  footprint_.domains.insert(domain);
  domains_[domain] = DomainMetadataAction{domain, std::move(configuration), true};
  return Status::OK();
}

Status OptimisticTransaction::EnforceSchema(const Schema& data_schema, bool merge_schema) {
  bool changed = false;
  const std::vector<std::string>& partition_columns = metadata().partition_columns;
  TARN_ASSIGN_OR_RETURN(std::vector<StructField> merged,
                        MergeFields(schema().fields(), data_schema.fields(), "", merge_schema, &partition_columns,
                                    changed));
  if (!changed) return Status::OK();
  auto mode = metadata().configuration.find("delta.columnMapping.mode");
  if (mode != metadata().configuration.end() && mode->second != "none") {
    return Error(ErrorCode::kFeatureNotSupported, "schema evolution on column-mapped tables is not supported yet");
  }
  MetadataAction updated = metadata();
  updated.schema_string = SerializeSchema(Schema(DataType::Struct(std::move(merged))));
  return UpdateMetadata(std::move(updated));
}

void OptimisticTransaction::SetOperation(std::string_view operation, std::map<std::string, std::string> parameters) {
  operation_ = std::string(operation);
  parameters_ = std::move(parameters);
}

bool OptimisticTransaction::IsBlindAppend() const {
  if (!removes_.empty() || footprint_.read_whole_table || !footprint_.read_predicates.empty() ||
      !footprint_.read_files.empty()) {
    return false;
  }
  return std::all_of(adds_.begin(), adds_.end(), [](const AddAction& add) { return add.data_change; });
}

Status OptimisticTransaction::ValidateBeforeCommit() {
  if (snapshot_ == nullptr && (!new_metadata_ || !new_protocol_)) {
    return Error(ErrorCode::kInvalidParameterValue, "{}: creating a table needs protocol and metadata",
                 table_.label());
  }
  Status writable = ValidateWriterProtocol(protocol(), table_.options().supported_writer_features);
  if (!writable.ok()) return writable.WithContext("{}", table_.label());
  Status readable = ValidateReaderProtocol(protocol(), table_.options().supported_reader_features);
  if (!readable.ok()) return readable.WithContext("{}", table_.label());
  TARN_RETURN_IF_ERROR(CheckProtocolShape(protocol()));
  auto properties = TableProperties::From(metadata().configuration);
  if (!properties.has_value()) return properties.status().WithContext("{}", table_.label());
  if (properties->append_only) {
    for (const RemoveAction& remove : removes_) {
      if (remove.data_change) {
        return Error(ErrorCode::kInvalidState,
                     "{} is append-only (delta.appendOnly=true): cannot remove {} with dataChange=true",
                     table_.label(), remove.path);
      }
    }
  }
  if (!domains_.empty() && !HasWriterFeature(protocol(), "domainMetadata")) {
    return Error(ErrorCode::kFeatureNotSupported,
                 "{} does not support domain metadata (set delta.feature.domainMetadata=supported)", table_.label());
  }
  const std::vector<std::string>& partition_columns = metadata().partition_columns;
  std::set<std::string> seen;
  for (const AddAction& add : adds_) {
    if (add.path.empty()) return Error(ErrorCode::kInvalidParameterValue, "{}: add with an empty path", table_.label());
    if (!seen.insert(DvKey(add.path, add.deletion_vector)).second) {
      return Error(ErrorCode::kInvalidParameterValue, "{}: file {} is added twice in one commit", table_.label(),
                   add.path);
    }
    if (add.deletion_vector && !HasWriterFeature(protocol(), "deletionVectors")) {
      return Error(ErrorCode::kFeatureNotSupported, "{}: file {} has a deletion vector but the table does not support them",
                   table_.label(), add.path);
    }
    if (add.partition_values.size() != partition_columns.size()) {
      return Error(ErrorCode::kInvalidParameterValue,
                   "{}: file {} has {} partition values but the table has {} partition columns", table_.label(),
                   add.path, add.partition_values.size(), partition_columns.size());
    }
    for (const std::string& column : partition_columns) {
      auto value = FindMapEntry(add.partition_values, PartitionValueKey(metadata().configuration, schema(), column));
      if (!value) {
        return Error(ErrorCode::kInvalidParameterValue, "{}: file {} has no value for partition column {}",
                     table_.label(), add.path, column);
      }
      const StructField* field = schema().FindField(column);
      if (field != nullptr && value->has_value()) {
        auto parsed = ParsePartitionValue(std::string_view(**value), *field->type);
        if (!parsed.has_value()) {
          return parsed.status().WithContext("{}: file {} partition column {}", table_.label(), add.path, column);
        }
      }
    }
  }
  seen.clear();
  for (const RemoveAction& remove : removes_) {
    if (!seen.insert(DvKey(remove.path, remove.deletion_vector)).second) {
      return Error(ErrorCode::kInvalidParameterValue, "{}: file {} is removed twice in one commit", table_.label(),
                   remove.path);
    }
  }
  return Status::OK();
}

std::string OptimisticTransaction::BuildContent(int64_t version, std::optional<int64_t> ict, int64_t now) {
  ordered_json info;
  if (ict) info["inCommitTimestamp"] = *ict;
  info["timestamp"] = now;
  info["operation"] = operation_;
  ordered_json parameters = ordered_json::object();
  for (const auto& [key, value] : parameters_) parameters[key] = value;
  info["operationParameters"] = std::move(parameters);
  if (read_version() >= 0) info["readVersion"] = read_version();
  info["isolationLevel"] = IsolationLevelName(footprint_.isolation_level);
  info["isBlindAppend"] = IsBlindAppend();
  ordered_json metrics = ordered_json::object();
  if (metrics_.empty() && !adds_.empty() &&
      (operation_ == operations::kWrite || operation_ == operations::kCreateTableAsSelect ||
       operation_ == operations::kStreamingUpdate)) {
    int64_t bytes = 0;
    int64_t rows = 0;
    bool rows_known = true;
    for (const AddAction& add : adds_) {
      bytes += add.size;
      auto num = NumRecords(add.stats);
      if (num) {
        rows += *num;
      } else {
        rows_known = false;
      }
    }
    metrics["numFiles"] = std::to_string(adds_.size());
    if (rows_known) metrics["numOutputRows"] = std::to_string(rows);
    metrics["numOutputBytes"] = std::to_string(bytes);
  }
  for (const auto& [key, value] : metrics_) metrics[key] = value;
  info["operationMetrics"] = std::move(metrics);
  if (user_metadata_) info["userMetadata"] = *user_metadata_;
  info["engineInfo"] = table_.options().engine_info;
  info["txnId"] = txn_id_;

  std::string content = "{\"commitInfo\":";
  content += info.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  content += "}\n";
  if (new_protocol_) {
    content += SerializeAction(*new_protocol_);
    content += '\n';
  }
  if (new_metadata_) {
    if (newly_enables_ict_ && ict) {
      MetadataAction with_enablement = *new_metadata_;
      with_enablement.configuration["delta.inCommitTimestampEnablementVersion"] = std::to_string(version);
      with_enablement.configuration["delta.inCommitTimestampEnablementTimestamp"] = std::to_string(*ict);
      content += SerializeAction(with_enablement);
    } else {
      content += SerializeAction(*new_metadata_);
    }
    content += '\n';
  }
  for (const auto& [app_id, txn] : txns_) {
    TxnAction with_time = txn;
    with_time.last_updated = now;
    content += SerializeAction(with_time);
    content += '\n';
  }
  for (const auto& [domain, action] : domains_) {
    content += SerializeAction(action);
    content += '\n';
  }
  for (const RemoveAction& remove : removes_) {
    content += SerializeAction(remove);
    content += '\n';
  }
  for (const AddAction& add : adds_) {
    content += SerializeAction(add);
    content += '\n';
  }
  return content;
}

Result<std::vector<Action>> OptimisticTransaction::ReadCommit(int64_t version, bool& missing) {
  missing = false;
  std::string key = table_.CommitKey(version);
  auto content = table_.store().Read(key);
  if (!content.has_value()) {
    if (content.status().code() == ErrorCode::kResourceDoesNotExist) {
      missing = true;
      return std::vector<Action>();
    }
    return content.status().WithContext("{}: reading winning commit {}", table_.label(), version);
  }
  return ParseJsonActions(*content, fmt::format("{} version {} file {}", table_.label(), version, key));
}

SnapshotPtr OptimisticTransaction::BuildPostCommitSnapshot(int64_t committed_version, std::string_view content) {
  Result<SnapshotPtr> built = Status(ErrorCode::kInternal, "not built");
  if (snapshot_ == nullptr) {
    built = table_.log().LoadLatest();
  } else {
    std::vector<LogFile> commits;
    for (const auto& [version, mtime] : winners_) {
      if (version >= committed_version) break;
      LogFile file;
      file.key = table_.CommitKey(version);
      file.version = version;
      file.modification_time = mtime;
      commits.push_back(std::move(file));
    }
    LogFile ours;
    ours.key = table_.CommitKey(committed_version);
    ours.version = committed_version;
    auto info = table_.store().Stat(ours.key);
    ours.modification_time = info.has_value() ? info->modification_time_millis : table_.NowMillis();
    commits.push_back(std::move(ours));
    built = table_.log().ApplyCommits(snapshot_, std::move(commits), content);
  }
  if (!built.has_value()) {
    TARN_LOG_WARN("{}: version {} committed but the new snapshot could not be built: {}", table_.label(),
                  committed_version, built.status().ToString());
    return nullptr;
  }
  return *built;
}

Result<CommitResult> OptimisticTransaction::Commit() {
  if (committed_) {
    return Error(ErrorCode::kInvalidTransactionState, "{}: transaction {} was already committed", table_.label(),
                 txn_id_);
  }
  committed_ = true;
  CommitResult result;
  result.txn_id = txn_id_;
  if (snapshot_ && !txns_.empty()) {
    bool all_done = std::all_of(txns_.begin(), txns_.end(), [&](const auto& entry) {
      auto done = snapshot_->AppTransactionVersion(entry.first);
      return done && *done >= entry.second.version;
    });
    if (all_done) {
      TARN_LOG_INFO("{}: skipping idempotent write: txn {} version {} is already committed", table_.label(),
                    txns_.begin()->first, txns_.begin()->second.version);
      result.version = read_version();
      result.skipped = true;
      result.snapshot = snapshot_;
      return result;
    }
  }
  TARN_RETURN_IF_ERROR(ValidateBeforeCommit());
  auto properties = TableProperties::From(metadata().configuration);
  bool ict_enabled = properties.has_value() && properties->in_commit_timestamps;
  std::optional<int64_t> previous_ict;
  if (snapshot_) previous_ict = snapshot_->in_commit_timestamp().value_or(snapshot_->timestamp());
  const int64_t now = table_.NowMillis();
  int64_t version = read_version() + 1;
  const int max_attempts = std::max(1, table_.options().max_commit_attempts);
  for (int attempt = 1;; ++attempt) {
    std::optional<int64_t> ict;
    if (ict_enabled) ict = previous_ict ? std::max(now, *previous_ict + 1) : now;
    std::string content = BuildContent(version, ict, now);
    std::string key = table_.CommitKey(version);
    Status put = table_.store().PutIfAbsent(key, content);
    bool committed = put.ok();
    if (!committed && put.code() != ErrorCode::kAlreadyExists) {
      // Unknown outcome (e.g. the acknowledgement was lost): the commit counts only if the file holds our txnId.
      bool missing = false;
      auto actions = ReadCommit(version, missing);
      if (actions.has_value() && !missing && CommitInfoTxnId(*actions) == txn_id_) {
        committed = true;
      } else {
        return put.WithContext("{}: committing version {}", table_.label(), version);
      }
    }
    if (committed) {
      result.version = version;
      result.attempts = attempt;
      result.in_commit_timestamp = ict;
      result.snapshot = BuildPostCommitSnapshot(version, content);
      if (result.snapshot) table_.OnCommitted(result.snapshot);
      return result;
    }
    if (snapshot_ == nullptr) {
      return Error(ErrorCode::kResourceAlreadyExists, "{}: the table already exists (a concurrent create won)",
                   table_.label());
    }
    // Lost the race: check every winning commit from `version` on, then retry after the newest one.
    for (;;) {
      bool missing = false;
      TARN_ASSIGN_OR_RETURN(std::vector<Action> winner, ReadCommit(version, missing));
      if (missing) break;
      if (CommitInfoTxnId(winner) == txn_id_) {  // our own earlier attempt did land
        result.version = version;
        result.attempts = attempt;
        result.in_commit_timestamp = ict;
        result.snapshot = BuildPostCommitSnapshot(version, {});
        if (result.snapshot) table_.OnCommitted(result.snapshot);
        return result;
      }
      Status conflict = CheckConflicts(footprint_, version, winner, table_.local_root());
      if (!conflict.ok()) return conflict.WithContext("{}: commit of transaction {}", table_.label(), txn_id_);
      auto info = table_.store().Stat(table_.CommitKey(version));
      winners_.emplace_back(version, info.has_value() ? info->modification_time_millis : now);
      for (const Action& action : winner) {
        if (const auto* commit_info = std::get_if<CommitInfoAction>(&action)) {
          if (commit_info->in_commit_timestamp) previous_ict = commit_info->in_commit_timestamp;
        }
      }
      ++version;
    }
    if (attempt >= max_attempts) {
      return Error(ErrorCode::kCommitConflict, "{}: gave up committing after {} attempts (last tried version {})",
                   table_.label(), attempt, version);
    }
  }
}

}  // namespace tarn::delta
