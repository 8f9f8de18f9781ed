// SPDX-License-Identifier: Apache-2.0
// Commit validation with nlohmann/json (strict DOM checks; speed does not matter here).
#include "tarn/delta/protocol_validator.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "tarn/delta/log_segment.hpp"
#include "tarn/delta/partition_value.hpp"
#include "tarn/delta/table_properties.hpp"
#include "tarn/delta/writer_features.hpp"

namespace tarn::delta {
namespace {

using nlohmann::json;

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// An RFC 2396 URI reference as Delta writers produce: escapes well-formed, nothing that must be escaped left raw.
std::optional<std::string> PathProblem(std::string_view path) {
  if (path.empty()) return "empty path";
  for (size_t i = 0; i < path.size(); ++i) {
    auto c = static_cast<unsigned char>(path[i]);
    if (c == '%') {
      if (i + 2 >= path.size() || !IsHex(path[i + 1]) || !IsHex(path[i + 2])) return "malformed percent escape";
      i += 2;
    } else if (c <= 0x20 || c >= 0x7F || c == '#' || c == '?' || c == '"' || c == '\\' || c == '{' || c == '}' ||
               c == '^' || c == '`' || c == '|' || c == '<' || c == '>') {
      return fmt::format("character 0x{:02x} must be percent-encoded", c);
    }
  }
  bool absolute_uri = path.find("://") != std::string_view::npos || path.starts_with("file:");
  if (!absolute_uri && path.front() == '/') return "relative paths must not start with '/'";
  return std::nullopt;
}

struct Checker {
  std::vector<std::string>& problems;
  int line = 0;

  template <typename... Args>
  void Fail(fmt::format_string<Args...> format, Args&&... args) {
    problems.push_back(fmt::format("line {}: ", line) + fmt::format(format, std::forward<Args>(args)...));
  }
  bool Require(const json& object, std::string_view action, const char* field, json::value_t type) {
    auto it = object.find(field);
    if (it == object.end() || it->is_null()) {
      Fail("{} lacks required field {}", action, field);
      return false;
    }
    bool ok = it->type() == type || (type == json::value_t::number_integer && it->is_number_integer());
    if (!ok) Fail("{}.{} has the wrong JSON type", action, field);
    return ok;
  }
  void Optional(const json& object, std::string_view action, const char* field, json::value_t type) {
    auto it = object.find(field);
    if (it == object.end() || it->is_null()) return;
    bool ok = it->type() == type || (type == json::value_t::number_integer && it->is_number_integer());
    if (!ok) Fail("{}.{} has the wrong JSON type", action, field);
  }
};

const StructField* FindColumn(const std::vector<StructField>& fields, std::string_view key) {
  for (const StructField& field : fields) {
    if (field.name == key || field.PhysicalName() == key) return &field;
  }
  return nullptr;
}

void CheckStatsLevel(Checker& checker, const json& values, const std::vector<StructField>& fields,
                     std::string_view section, bool counts) {
  for (auto it = values.begin(); it != values.end(); ++it) {
    const StructField* field = FindColumn(fields, it.key());
    if (field == nullptr) {
      checker.Fail("stats {} names unknown column {}", section, it.key());
      continue;
    }
    if (it->is_object()) {
      if (field->type->kind() != TypeKind::kStruct) {
        checker.Fail("stats {}.{} is an object for non-struct column", section, it.key());
      } else {
        CheckStatsLevel(checker, *it, field->type->fields(), section, counts);
      }
      continue;
    }
    if (counts && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
      checker.Fail("stats nullCount.{} must be a non-negative integer", it.key());
    }
    if (!counts && (it->is_array() || it->is_null())) checker.Fail("stats {}.{} must be a scalar", section, it.key());
  }
}

void CheckStats(Checker& checker, const std::string& stats, const Schema* schema) {
  json parsed = json::parse(stats, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    checker.Fail("add.stats is not a JSON object");
    return;
  }
  auto records = parsed.find("numRecords");
  if (records == parsed.end() || !records->is_number_integer() || records->get<int64_t>() < 0) {
    checker.Fail("add.stats.numRecords must be a non-negative integer");
  }
  for (const char* section : {"minValues", "maxValues", "nullCount"}) {
    auto it = parsed.find(section);
    if (it == parsed.end()) continue;
    if (!it->is_object()) {
      checker.Fail("add.stats.{} must be an object", section);
      continue;
    }
    if (schema != nullptr) CheckStatsLevel(checker, *it, schema->fields(), section, std::string_view(section) == "nullCount");
  }
  if (auto it = parsed.find("tightBounds"); it != parsed.end() && !it->is_boolean()) {
    checker.Fail("add.stats.tightBounds must be a boolean");
  }
}

void CheckPartitionValues(Checker& checker, const json& values, std::string_view action, const MetadataAction* metadata,
                          const Schema* schema) {
  if (!values.is_object()) {
    checker.Fail("{}.partitionValues must be an object", action);
    return;
  }
  for (auto it = values.begin(); it != values.end(); ++it) {
    if (!it->is_string() && !it->is_null()) checker.Fail("{}.partitionValues.{} must be a string or null", action, it.key());
  }
  if (metadata == nullptr) return;
  // Keys are the partition columns' physical names under column mapping, else their names (key -> column).
  std::map<std::string, std::string> expected;
  for (const std::string& column : metadata->partition_columns) {
    expected[schema != nullptr ? PartitionValueKey(metadata->configuration, *schema, column) : column] = column;
  }
  std::set<std::string> actual;
  for (auto it = values.begin(); it != values.end(); ++it) actual.insert(it.key());
  if (expected.size() != actual.size() ||
      !std::all_of(actual.begin(), actual.end(), [&](const std::string& key) { return expected.count(key) > 0; })) {
    checker.Fail("{}.partitionValues keys do not match the partition columns", action);
    return;
  }
  if (schema == nullptr) return;
  for (auto it = values.begin(); it != values.end(); ++it) {
    if (!it->is_string()) continue;
    const StructField* field = schema->FindField(expected[it.key()]);
    if (field == nullptr) continue;
    std::string value = it->get<std::string>();
    auto parsed = ParsePartitionValue(std::string_view(value), *field->type);
    if (!parsed.has_value()) checker.Fail("{}.partitionValues.{}: {}", action, it.key(), parsed.status().message());
  }
}

std::map<std::string, std::string> StringMap(const json& object) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  }
  return out;
}

}  // namespace

Status ProtocolValidator::ValidateCommit(int64_t version, std::string_view content) {
  std::vector<std::string> problems;
  if (version != next_version_) {
    problems.push_back(fmt::format("expected version {} next", next_version_));
  }
  Checker checker{problems};
  std::optional<ProtocolAction> protocol = protocol_;
  std::optional<MetadataAction> metadata = metadata_;
  std::optional<Schema> schema = schema_;
  int num_protocol = 0, num_metadata = 0, num_commit_info = 0;
  std::set<std::string> app_ids, add_keys, remove_keys;
  std::optional<int64_t> ict;
  bool commit_info_first = false;
  std::vector<json> file_actions;  // validated after metadata/protocol of this commit are known
  std::vector<int> file_lines;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view text = content.substr(start, end - start);
    start = end + 1;
    if (text.empty()) continue;
    ++checker.line;
    json line = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (line.is_discarded() || !line.is_object() || line.size() != 1) {
      checker.Fail("must be a JSON object with exactly one action");
      continue;
    }
    const std::string name = line.begin().key();
    const json& body = line.begin().value();
    if (!body.is_object()) {
      checker.Fail("{} must be an object", name);
      continue;
    }
    if (name == "commitInfo") {
      ++num_commit_info;
      if (checker.line == 1) commit_info_first = true;
      checker.Require(body, name, "timestamp", json::value_t::number_integer);
      checker.Require(body, name, "operation", json::value_t::string);
      checker.Optional(body, name, "operationParameters", json::value_t::object);
      checker.Optional(body, name, "operationMetrics", json::value_t::object);
      checker.Optional(body, name, "isBlindAppend", json::value_t::boolean);
      checker.Optional(body, name, "readVersion", json::value_t::number_integer);
      if (auto it = body.find("inCommitTimestamp"); it != body.end() && it->is_number_integer()) {
        ict = it->get<int64_t>();
      }
    } else if (name == "protocol") {
      ++num_protocol;
      if (checker.Require(body, name, "minReaderVersion", json::value_t::number_integer) &&
          checker.Require(body, name, "minWriterVersion", json::value_t::number_integer)) {
        ProtocolAction parsed;
        parsed.min_reader_version = body["minReaderVersion"].get<int32_t>();
        parsed.min_writer_version = body["minWriterVersion"].get<int32_t>();
        if (body.contains("readerFeatures")) parsed.reader_features = body["readerFeatures"].get<std::vector<std::string>>();
        if (body.contains("writerFeatures")) parsed.writer_features = body["writerFeatures"].get<std::vector<std::string>>();
        Status shape = CheckProtocolShape(parsed);
        if (!shape.ok()) checker.Fail("protocol: {}", shape.message());
        if (protocol && (parsed.min_reader_version < protocol->min_reader_version ||
                         parsed.min_writer_version < protocol->min_writer_version)) {
          checker.Fail("protocol downgrade");
        }
        protocol = std::move(parsed);
      }
    } else if (name == "metaData") {
      ++num_metadata;
      bool ok = checker.Require(body, name, "id", json::value_t::string);
      ok &= checker.Require(body, name, "schemaString", json::value_t::string);
      ok &= checker.Require(body, name, "partitionColumns", json::value_t::array);
      ok &= checker.Require(body, name, "format", json::value_t::object);
      checker.Optional(body, name, "configuration", json::value_t::object);
      checker.Optional(body, name, "createdTime", json::value_t::number_integer);
      if (ok && (!body["format"].contains("provider") || !body["format"]["provider"].is_string())) {
        checker.Fail("metaData.format.provider is required");
      }
      if (ok) {
        MetadataAction parsed;
        parsed.id = body["id"].get<std::string>();
        if (parsed.id.empty()) checker.Fail("metaData.id is empty");
        parsed.schema_string = body["schemaString"].get<std::string>();
        for (const json& column : body["partitionColumns"]) {
          if (column.is_string()) {
            parsed.partition_columns.push_back(column.get<std::string>());
          } else {
            checker.Fail("metaData.partitionColumns must hold strings");
          }
        }
        if (body.contains("configuration")) {
          for (auto it = body["configuration"].begin(); it != body["configuration"].end(); ++it) {
            if (!it->is_string()) checker.Fail("metaData.configuration.{} must be a string", it.key());
          }
          parsed.configuration = StringMap(body["configuration"]);
        }
        auto parsed_schema = ParseSchema(parsed.schema_string);
        if (!parsed_schema.has_value()) {
          checker.Fail("metaData.schemaString: {}", parsed_schema.status().message());
        } else {
          for (const std::string& column : parsed.partition_columns) {
            if (parsed_schema->FindField(column) == nullptr) checker.Fail("partition column {} not in schema", column);
          }
          schema = std::move(parsed_schema).value();
        }
        metadata = std::move(parsed);
      }
    } else if (name == "add" || name == "remove" || name == "cdc") {
      file_actions.push_back(line);
      file_lines.push_back(checker.line);
    } else if (name == "txn") {
      if (checker.Require(body, name, "appId", json::value_t::string) &&
          checker.Require(body, name, "version", json::value_t::number_integer)) {
        if (!app_ids.insert(body["appId"].get<std::string>()).second) checker.Fail("two txn actions for one appId");
      }
      checker.Optional(body, name, "lastUpdated", json::value_t::number_integer);
    } else if (name == "domainMetadata") {
      checker.Require(body, name, "domain", json::value_t::string);
      checker.Require(body, name, "configuration", json::value_t::string);
      checker.Require(body, name, "removed", json::value_t::boolean);
      if (!protocol || !HasWriterFeature(*protocol, "domainMetadata")) {
        checker.Fail("domainMetadata without the domainMetadata table feature");
      }
    } else {
      checker.Fail("unknown or unexpected action {}", name);
    }
  }
  if (num_protocol > 1) problems.push_back("more than one protocol action");
  if (num_metadata > 1) problems.push_back("more than one metaData action");
  if (num_commit_info > 1) problems.push_back("more than one commitInfo action");
  if (version == 0 && (num_protocol == 0 || num_metadata == 0)) problems.push_back("version 0 lacks protocol or metaData");
  if (num_commit_info == 0) problems.push_back("no commitInfo (Tarn always writes one)");
  bool ict_enabled = metadata && IsPropertyTrue(metadata->configuration, "delta.enableInCommitTimestamps");
  if (ict_enabled) {
    if (!commit_info_first || !ict) {
      problems.push_back("in-commit timestamps enabled: commitInfo must come first with inCommitTimestamp");
    } else if (last_ict_ && *ict <= *last_ict_) {
      problems.push_back(fmt::format("inCommitTimestamp {} does not increase (previous {})", *ict, *last_ict_));
    }
  }
  bool append_only = metadata && IsPropertyTrue(metadata->configuration, "delta.appendOnly");
  const Schema* schema_ptr = schema ? &*schema : nullptr;
  const MetadataAction* metadata_ptr = metadata ? &*metadata : nullptr;
  for (size_t i = 0; i < file_actions.size(); ++i) {
    checker.line = file_lines[i];
    const std::string name = file_actions[i].begin().key();
    const json& body = file_actions[i].begin().value();
    if (!checker.Require(body, name, "path", json::value_t::string)) continue;
    std::string path = body["path"].get<std::string>();
    if (auto problem = PathProblem(path)) checker.Fail("{}.path {}: {}", name, path, *problem);
    std::string key = path;
    if (body.contains("deletionVector") && body["deletionVector"].is_object()) {
      key = fmt::format("{}\n{}{}@{}", path, body["deletionVector"].value("storageType", ""),
                        body["deletionVector"].value("pathOrInlineDv", ""), body["deletionVector"].value("offset", -1));
      if (name == "add" && (!protocol || !HasWriterFeature(*protocol, "deletionVectors"))) {
        checker.Fail("add with a deletion vector without the deletionVectors feature");
      }
    }
    checker.Require(body, name, "dataChange", json::value_t::boolean);
    if (name == "add") {
      if (!add_keys.insert(key).second) checker.Fail("file {} added twice", path);
      checker.Require(body, name, "size", json::value_t::number_integer);
      checker.Require(body, name, "modificationTime", json::value_t::number_integer);
      if (checker.Require(body, name, "partitionValues", json::value_t::object)) {
        CheckPartitionValues(checker, body["partitionValues"], name, metadata_ptr, schema_ptr);
      }
      if (body.contains("stats") && !body["stats"].is_null()) {
        if (!body["stats"].is_string()) {
          checker.Fail("add.stats must be a JSON string");
        } else {
          CheckStats(checker, body["stats"].get<std::string>(), schema_ptr);
        }
      }
    } else if (name == "remove") {
      if (!remove_keys.insert(key).second) checker.Fail("file {} removed twice", path);
      checker.Optional(body, name, "deletionTimestamp", json::value_t::number_integer);
      if (body.value("extendedFileMetadata", false)) {
        checker.Require(body, name, "size", json::value_t::number_integer);
        if (checker.Require(body, name, "partitionValues", json::value_t::object)) {
          CheckPartitionValues(checker, body["partitionValues"], name, metadata_ptr, schema_ptr);
        }
      }
      if (append_only && body.value("dataChange", true)) checker.Fail("remove with dataChange on an append-only table");
    } else {
      checker.Require(body, name, "size", json::value_t::number_integer);
      checker.Require(body, name, "partitionValues", json::value_t::object);
    }
  }
  if (!problems.empty()) {
    std::string message = fmt::format("commit {} violates the Delta protocol:", version);
    for (const std::string& problem : problems) message += "\n  " + problem;
    next_version_ = version + 1;
    return Error(ErrorCode::kProtocolViolation, message);
  }
  protocol_ = std::move(protocol);
  metadata_ = std::move(metadata);
  schema_ = std::move(schema);
  if (ict) last_ict_ = ict;
  next_version_ = version + 1;
  return Status::OK();
}

Status ValidateTableLog(storage::ObjectStore& store, const std::string& table_root) {
  std::string prefix = table_root + "_delta_log/";
  storage::ListOptions options;
  options.recursive = false;
  auto listed = store.List(prefix, options);
  if (!listed.has_value()) return listed.status();
  ProtocolValidator validator;
  std::vector<std::string> failures;
  for (const storage::ObjectInfo& info : *listed) {
    auto file = ParseLogFileName(info);
    if (!file || file->type != LogFileType::kCommit) continue;
    auto content = store.Read(file->key);
    if (!content.has_value()) return content.status();
    Status st = validator.ValidateCommit(file->version, *content);
    if (!st.ok()) failures.push_back(st.message());
  }
  if (validator.num_commits() == 0) return Error(ErrorCode::kTableNotFound, "no commits under {}", prefix);
  if (!failures.empty()) {
    std::string message;
    for (const std::string& failure : failures) message += failure + "\n";
    return Error(ErrorCode::kProtocolViolation, message);
  }
  return Status::OK();
}

}  // namespace tarn::delta
