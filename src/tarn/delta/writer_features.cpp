// SPDX-License-Identifier: Apache-2.0
// Writer protocol checks and the features a table needs.
#include "tarn/delta/writer_features.hpp"

#include <algorithm>

#include "tarn/delta/table_properties.hpp"

namespace tarn::delta {
namespace {

struct LegacyFeature {
  std::string_view name;
  int32_t writer_version;
};
constexpr LegacyFeature kLegacyWriterFeatures[] = {
    {"appendOnly", 2},       {"invariants", 2},   {"checkConstraints", 3}, {"changeDataFeed", 4},
    {"generatedColumns", 4}, {"columnMapping", 5}, {"identityColumns", 6},
};

bool Contains(const std::optional<std::vector<std::string>>& list, std::string_view name) {
  return list && std::find(list->begin(), list->end(), name) != list->end();
}

bool SchemaHasType(const DataType& type, TypeKind kind) {
  if (type.kind() == kind) return true;
  switch (type.kind()) {
    case TypeKind::kStruct:
      for (const StructField& field : type.fields()) {
        if (SchemaHasType(*field.type, kind)) return true;
      }
      return false;
    case TypeKind::kArray: return SchemaHasType(*type.element_type(), kind);
    case TypeKind::kMap: return SchemaHasType(*type.key_type(), kind) || SchemaHasType(*type.value_type(), kind);
    default: return false;
  }
}

}  // namespace

const std::set<std::string>& DefaultSupportedWriterFeatures() {
  static const std::set<std::string> kFeatures = {
      "appendOnly",      "invariants",          "checkConstraints", "generatedColumns", "changeDataFeed",
      "columnMapping",   "deletionVectors",     "timestampNtz",     "domainMetadata",   "inCommitTimestamp",
      "v2Checkpoint",    "vacuumProtocolCheck", "typeWidening",     "typeWidening-preview",
      "variantType",     "variantType-preview",
  };
  return kFeatures;
}

bool IsReaderWriterFeature(std::string_view feature) {
  static const std::set<std::string, std::less<>> kReaderWriter = {
      "columnMapping", "deletionVectors",     "timestampNtz", "v2Checkpoint",     "vacuumProtocolCheck",
      "typeWidening",  "typeWidening-preview", "variantType", "variantType-preview", "variantShredding-preview",
      "catalogManaged", "catalogOwned-preview",
  };
  return kReaderWriter.find(feature) != kReaderWriter.end();
}

bool HasWriterFeature(const ProtocolAction& protocol, std::string_view feature) {
  if (protocol.min_writer_version >= 7) return Contains(protocol.writer_features, feature);
  for (const LegacyFeature& legacy : kLegacyWriterFeatures) {
    if (legacy.name == feature) return protocol.min_writer_version >= legacy.writer_version;
  }
  return false;
}

Status ValidateWriterProtocol(const ProtocolAction& protocol, const std::set<std::string>& supported) {
  if (protocol.min_writer_version > kMaxWriterVersion) {
    return Error(ErrorCode::kFeatureNotSupported, "unsupported Delta writer version {} (Tarn writes up to {})",
                 protocol.min_writer_version, kMaxWriterVersion);
  }
  if (protocol.min_writer_version == 6 && !supported.contains("identityColumns")) {
    return Error(ErrorCode::kFeatureNotSupported, "unsupported Delta writer feature: identityColumns (writer version 6)");
  }
  if (protocol.min_writer_version == 7 && protocol.writer_features) {
    for (const std::string& feature : *protocol.writer_features) {
      if (!supported.contains(feature)) {
        return Error(ErrorCode::kFeatureNotSupported, "unsupported Delta writer feature: {}", feature);
      }
    }
  }
  return Status::OK();
}

Status CheckProtocolShape(const ProtocolAction& protocol) {
  if (protocol.min_reader_version < 1 || protocol.min_writer_version < 1) {
    return Error(ErrorCode::kProtocolViolation, "protocol versions must be positive");
  }
  if ((protocol.min_reader_version == 3) != protocol.reader_features.has_value()) {
    return Error(ErrorCode::kProtocolViolation, "readerFeatures must be present exactly when minReaderVersion is 3");
  }
  if ((protocol.min_writer_version == 7) != protocol.writer_features.has_value()) {
    return Error(ErrorCode::kProtocolViolation, "writerFeatures must be present exactly when minWriterVersion is 7");
  }
  if (protocol.min_reader_version == 3 && protocol.min_writer_version != 7) {
    return Error(ErrorCode::kProtocolViolation, "minReaderVersion 3 requires minWriterVersion 7");
  }
  if (protocol.reader_features) {
    for (const std::string& feature : *protocol.reader_features) {
      if (!Contains(protocol.writer_features, feature)) {
        return Error(ErrorCode::kProtocolViolation, "reader feature {} is missing from writerFeatures", feature);
      }
    }
  }
  return Status::OK();
}

std::set<std::string> RequiredFeatures(const std::map<std::string, std::string>& configuration, const Schema& schema) {
  std::set<std::string> features;
  if (IsPropertyTrue(configuration, "delta.enableInCommitTimestamps")) features.insert("inCommitTimestamp");
  if (IsPropertyTrue(configuration, "delta.enableDeletionVectors")) features.insert("deletionVectors");
  if (IsPropertyTrue(configuration, "delta.enableChangeDataFeed")) features.insert("changeDataFeed");
  if (IsPropertyTrue(configuration, "delta.appendOnly")) features.insert("appendOnly");
  if (auto it = configuration.find("delta.checkpointPolicy"); it != configuration.end() && it->second == "v2") {
    features.insert("v2Checkpoint");
  }
  if (auto it = configuration.find("delta.columnMapping.mode");
      it != configuration.end() && (it->second == "name" || it->second == "id")) {
    features.insert("columnMapping");
  }
  if (SchemaHasType(*schema.type(), TypeKind::kTimestampNtz)) features.insert("timestampNtz");
  if (SchemaHasType(*schema.type(), TypeKind::kVariant)) features.insert("variantType");
  for (const auto& [key, value] : configuration) {
    if (key.starts_with("delta.feature.") && (value == "supported" || value == "enabled")) {
      features.insert(key.substr(14));
    }
  }
  return features;
}

ProtocolAction ProtocolForFeatures(const std::set<std::string>& features) {
  ProtocolAction protocol;  // (1, 2)
  bool legacy_only = true;
  for (const std::string& feature : features) {
    legacy_only &= feature == "appendOnly" || feature == "invariants";
  }
  if (legacy_only) return protocol;
  std::set<std::string> writer = features;
  writer.insert("appendOnly");
  writer.insert("invariants");
  std::vector<std::string> reader;
  for (const std::string& feature : writer) {
    if (IsReaderWriterFeature(feature)) reader.push_back(feature);
  }
  protocol.min_writer_version = 7;
  protocol.writer_features = std::vector<std::string>(writer.begin(), writer.end());
  if (!reader.empty()) {
    protocol.min_reader_version = 3;
    protocol.reader_features = std::move(reader);
  }
  return protocol;
}

std::optional<ProtocolAction> UpgradeProtocol(const ProtocolAction& current, const std::set<std::string>& features) {
  std::set<std::string> missing;
  for (const std::string& feature : features) {
    if (!HasWriterFeature(current, feature)) missing.insert(feature);
  }
  if (missing.empty()) return std::nullopt;
  std::set<std::string> writer(missing);
  if (current.writer_features) writer.insert(current.writer_features->begin(), current.writer_features->end());
  for (const LegacyFeature& legacy : kLegacyWriterFeatures) {
    if (current.min_writer_version < 7 && current.min_writer_version >= legacy.writer_version) {
      writer.insert(std::string(legacy.name));
    }
  }
  writer.insert("appendOnly");
  writer.insert("invariants");
  std::set<std::string> reader;
  if (current.reader_features) reader.insert(current.reader_features->begin(), current.reader_features->end());
  if (current.min_reader_version == 2) reader.insert("columnMapping");
  for (const std::string& feature : writer) {
    if (IsReaderWriterFeature(feature)) reader.insert(feature);
  }
  ProtocolAction out;
  out.min_writer_version = 7;
  out.writer_features = std::vector<std::string>(writer.begin(), writer.end());
  if (!reader.empty()) {
    out.min_reader_version = 3;
    out.reader_features = std::vector<std::string>(reader.begin(), reader.end());
  } else {
    out.min_reader_version = std::max(current.min_reader_version, 1);
  }
  return out;
}

void StripFeatureProperties(std::map<std::string, std::string>& configuration) {
  for (auto it = configuration.begin(); it != configuration.end();) {
    if (it->first.starts_with("delta.feature.")) {
      it = configuration.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace tarn::delta
