// SPDX-License-Identifier: Apache-2.0
// Action serialisation with nlohmann::ordered_json (field order as Spark writes it).
#include "tarn/delta/action_serializer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace tarn::delta {
namespace {

using nlohmann::ordered_json;

ordered_json MapToJson(const std::vector<MapEntry>& entries) {
  ordered_json out = ordered_json::object();
  for (const MapEntry& entry : entries) {
    if (entry.value) {
      out[entry.key] = *entry.value;
    } else {
      out[entry.key] = nullptr;
    }
  }
  return out;
}

ordered_json DeletionVectorToJson(const DeletionVectorDescriptor& dv) {
  ordered_json out;
  out["storageType"] = dv.storage_type;
  out["pathOrInlineDv"] = dv.path_or_inline_dv;
  if (dv.offset) out["offset"] = *dv.offset;
  out["sizeInBytes"] = dv.size_in_bytes;
  out["cardinality"] = dv.cardinality;
  if (dv.max_row_index) out["maxRowIndex"] = *dv.max_row_index;
  return out;
}

ordered_json ToJson(const ProtocolAction& p) {
  ordered_json out;
  out["minReaderVersion"] = p.min_reader_version;
  out["minWriterVersion"] = p.min_writer_version;
  if (p.reader_features) out["readerFeatures"] = *p.reader_features;
  if (p.writer_features) out["writerFeatures"] = *p.writer_features;
  return ordered_json{{"protocol", std::move(out)}};
}

ordered_json ToJson(const MetadataAction& m) {
  ordered_json out;
  out["id"] = m.id;
  if (m.name) out["name"] = *m.name;
  if (m.description) out["description"] = *m.description;
  ordered_json format;
  format["provider"] = m.format_provider;
  format["options"] = ordered_json::object();
  for (const auto& [key, value] : m.format_options) format["options"][key] = value;
  out["format"] = std::move(format);
  out["schemaString"] = m.schema_string;
  out["partitionColumns"] = m.partition_columns;
  out["configuration"] = ordered_json::object();
  for (const auto& [key, value] : m.configuration) out["configuration"][key] = value;
  if (m.created_time) out["createdTime"] = *m.created_time;
  return ordered_json{{"metaData", std::move(out)}};
}

ordered_json ToJson(const AddAction& a) {
  ordered_json out;
  out["path"] = a.path;
  out["partitionValues"] = MapToJson(a.partition_values);
  out["size"] = a.size;
  out["modificationTime"] = a.modification_time;
  out["dataChange"] = a.data_change;
  if (a.stats) out["stats"] = *a.stats;
  if (!a.tags.empty()) out["tags"] = MapToJson(a.tags);
  if (a.deletion_vector) out["deletionVector"] = DeletionVectorToJson(*a.deletion_vector);
  if (a.base_row_id) out["baseRowId"] = *a.base_row_id;
  if (a.default_row_commit_version) out["defaultRowCommitVersion"] = *a.default_row_commit_version;
  if (a.clustering_provider) out["clusteringProvider"] = *a.clustering_provider;
  return ordered_json{{"add", std::move(out)}};
}

ordered_json ToJson(const RemoveAction& r) {
  ordered_json out;
  out["path"] = r.path;
  if (r.deletion_timestamp) out["deletionTimestamp"] = *r.deletion_timestamp;
  out["dataChange"] = r.data_change;
  if (r.extended_file_metadata) {
    out["extendedFileMetadata"] = true;
    out["partitionValues"] = MapToJson(r.partition_values);
    if (r.size) out["size"] = *r.size;
  } else if (!r.partition_values.empty()) {
    out["partitionValues"] = MapToJson(r.partition_values);
  }
  if (!r.extended_file_metadata && r.size) out["size"] = *r.size;
  if (r.stats) out["stats"] = *r.stats;
  if (!r.tags.empty()) out["tags"] = MapToJson(r.tags);
  if (r.deletion_vector) out["deletionVector"] = DeletionVectorToJson(*r.deletion_vector);
  if (r.base_row_id) out["baseRowId"] = *r.base_row_id;
  if (r.default_row_commit_version) out["defaultRowCommitVersion"] = *r.default_row_commit_version;
  return ordered_json{{"remove", std::move(out)}};
}

ordered_json ToJson(const CdcAction& c) {
  ordered_json out;
  out["path"] = c.path;
  out["partitionValues"] = MapToJson(c.partition_values);
  out["size"] = c.size;
  out["dataChange"] = c.data_change;
  if (!c.tags.empty()) out["tags"] = MapToJson(c.tags);
  return ordered_json{{"cdc", std::move(out)}};
}

ordered_json ToJson(const TxnAction& t) {
  ordered_json out;
  out["appId"] = t.app_id;
  out["version"] = t.version;
  if (t.last_updated) out["lastUpdated"] = *t.last_updated;
  return ordered_json{{"txn", std::move(out)}};
}

ordered_json ToJson(const CommitInfoAction& c) {
  if (!c.raw_json.empty()) {
    ordered_json parsed = ordered_json::parse(c.raw_json, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded() && parsed.is_object()) return ordered_json{{"commitInfo", std::move(parsed)}};
  }
  ordered_json out = ordered_json::object();
  if (c.in_commit_timestamp) out["inCommitTimestamp"] = *c.in_commit_timestamp;
  if (c.timestamp) out["timestamp"] = *c.timestamp;
  if (c.operation) out["operation"] = *c.operation;
  if (c.read_version) out["readVersion"] = *c.read_version;
  if (c.is_blind_append) out["isBlindAppend"] = *c.is_blind_append;
  if (c.txn_id) out["txnId"] = *c.txn_id;
  return ordered_json{{"commitInfo", std::move(out)}};
}

ordered_json ToJson(const DomainMetadataAction& d) {
  ordered_json out;
  out["domain"] = d.domain;
  out["configuration"] = d.configuration;
  out["removed"] = d.removed;
  return ordered_json{{"domainMetadata", std::move(out)}};
}

ordered_json ToJson(const CheckpointMetadataAction& c) {
  ordered_json out;
  out["version"] = c.version;
  if (!c.tags.empty()) out["tags"] = MapToJson(c.tags);
  return ordered_json{{"checkpointMetadata", std::move(out)}};
}

ordered_json ToJson(const SidecarAction& s) {
  ordered_json out;
  out["path"] = s.path;
  out["sizeInBytes"] = s.size_in_bytes;
  out["modificationTime"] = s.modification_time;
  if (!s.tags.empty()) out["tags"] = MapToJson(s.tags);
  return ordered_json{{"sidecar", std::move(out)}};
}

// Direct writers for add and remove (the bulk of commits and checkpoints), byte-identical to the ordered_json dump
// above without building a DOM. Strings that need escaping or are not plain ASCII go through nlohmann's serializer
// (the same escaping and U+FFFD replacement); maps with duplicate keys fall back to the DOM path entirely.
void AppendString(std::string& out, std::string_view text) {
  bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out.append(text);
    out += '"';
    return;
  }
  out += ordered_json(std::string(text)).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

void AppendInt(std::string& out, int64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

void AppendKey(std::string& out, std::string_view key) {  // ,"key":  (key is a plain ASCII literal)
  if (out.back() != '{') out += ',';
  out += '"';
  out.append(key);
  out += "\":";
}

bool HasDuplicateKeys(const std::vector<MapEntry>& entries) {
  for (size_t i = 1; i < entries.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (entries[i].key == entries[j].key) return true;
    }
  }
  return false;
}

void AppendMap(std::string& out, const std::vector<MapEntry>& entries) {
  out += '{';
  bool first = true;
  for (const MapEntry& entry : entries) {
    if (!first) out += ',';
    first = false;
    AppendString(out, entry.key);
    out += ':';
    if (entry.value) {
      AppendString(out, *entry.value);
    } else {
      out += "null";
    }
  }
  out += '}';
}

void AppendDeletionVector(std::string& out, const DeletionVectorDescriptor& dv) {
  out += '{';
  AppendKey(out, "storageType");
  AppendString(out, dv.storage_type);
  AppendKey(out, "pathOrInlineDv");
  AppendString(out, dv.path_or_inline_dv);
  if (dv.offset) {
    AppendKey(out, "offset");
    AppendInt(out, *dv.offset);
  }
  AppendKey(out, "sizeInBytes");
  AppendInt(out, dv.size_in_bytes);
  AppendKey(out, "cardinality");
  AppendInt(out, dv.cardinality);
  if (dv.max_row_index) {
    AppendKey(out, "maxRowIndex");
    AppendInt(out, *dv.max_row_index);
  }
  out += '}';
}

std::string WriteAdd(const AddAction& a) {
  if (HasDuplicateKeys(a.partition_values) || HasDuplicateKeys(a.tags)) {
    return ToJson(a).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  }
  std::string out;
  out.reserve(96 + a.path.size() + (a.stats ? a.stats->size() + 8 : 0) + a.partition_values.size() * 32);
  out += "{\"add\":{";
  AppendKey(out, "path");
  AppendString(out, a.path);
  AppendKey(out, "partitionValues");
  AppendMap(out, a.partition_values);
  AppendKey(out, "size");
  AppendInt(out, a.size);
  AppendKey(out, "modificationTime");
  AppendInt(out, a.modification_time);
  AppendKey(out, "dataChange");
  out += a.data_change ? "true" : "false";
  if (a.stats) {
    AppendKey(out, "stats");
    AppendString(out, *a.stats);
  }
  if (!a.tags.empty()) {
    AppendKey(out, "tags");
    AppendMap(out, a.tags);
  }
  if (a.deletion_vector) {
    AppendKey(out, "deletionVector");
    AppendDeletionVector(out, *a.deletion_vector);
  }
  if (a.base_row_id) {
    AppendKey(out, "baseRowId");
    AppendInt(out, *a.base_row_id);
  }
  if (a.default_row_commit_version) {
    AppendKey(out, "defaultRowCommitVersion");
    AppendInt(out, *a.default_row_commit_version);
  }
  if (a.clustering_provider) {
    AppendKey(out, "clusteringProvider");
    AppendString(out, *a.clustering_provider);
  }
  out += "}}";
  return out;
}

std::string WriteRemove(const RemoveAction& r) {
  if (HasDuplicateKeys(r.partition_values) || HasDuplicateKeys(r.tags)) {
    return ToJson(r).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  }
  std::string out;
  out.reserve(96 + r.path.size() + (r.stats ? r.stats->size() + 8 : 0) + r.partition_values.size() * 32);
  out += "{\"remove\":{";
  AppendKey(out, "path");
  AppendString(out, r.path);
  if (r.deletion_timestamp) {
    AppendKey(out, "deletionTimestamp");
    AppendInt(out, *r.deletion_timestamp);
  }
  AppendKey(out, "dataChange");
  out += r.data_change ? "true" : "false";
  if (r.extended_file_metadata) {
    AppendKey(out, "extendedFileMetadata");
    out += "true";
    AppendKey(out, "partitionValues");
    AppendMap(out, r.partition_values);
    if (r.size) {
      AppendKey(out, "size");
      AppendInt(out, *r.size);
    }
  } else if (!r.partition_values.empty()) {
    AppendKey(out, "partitionValues");
    AppendMap(out, r.partition_values);
  }
  if (!r.extended_file_metadata && r.size) {
    AppendKey(out, "size");
    AppendInt(out, *r.size);
  }
  if (r.stats) {
    AppendKey(out, "stats");
    AppendString(out, *r.stats);
  }
  if (!r.tags.empty()) {
    AppendKey(out, "tags");
    AppendMap(out, r.tags);
  }
  if (r.deletion_vector) {
    AppendKey(out, "deletionVector");
    AppendDeletionVector(out, *r.deletion_vector);
  }
  if (r.base_row_id) {
    AppendKey(out, "baseRowId");
    AppendInt(out, *r.base_row_id);
  }
  if (r.default_row_commit_version) {
    AppendKey(out, "defaultRowCommitVersion");
    AppendInt(out, *r.default_row_commit_version);
  }
  out += "}}";
  return out;
}

}  // namespace

std::string SerializeAction(const Action& action) {
  if (const auto* add = std::get_if<AddAction>(&action)) return WriteAdd(*add);
  if (const auto* remove = std::get_if<RemoveAction>(&action)) return WriteRemove(*remove);
  ordered_json json = std::visit([](const auto& a) { return ToJson(a); }, action);
  return json.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

std::string SerializeAction(const AddAction& add) { return WriteAdd(add); }

std::string SerializeAction(const RemoveAction& remove) { return WriteRemove(remove); }

std::string SerializeActionWithDom(const AddAction& add) {
  return ToJson(add).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

std::string SerializeActionWithDom(const RemoveAction& remove) {
  return ToJson(remove).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

std::string SerializeActions(std::span<const Action> actions) {
  std::string out;
  for (const Action& action : actions) {
    out += SerializeAction(action);
    out += '\n';
  }
  return out;
}

}  // namespace tarn::delta
