// SPDX-License-Identifier: Apache-2.0
// Reader protocol validation.
#include "tarn/delta/table_features.hpp"

#include <algorithm>

namespace tarn::delta {

const std::set<std::string>& DefaultSupportedReaderFeatures() {
  static const std::set<std::string> kFeatures = {
      "columnMapping",       "deletionVectors", "timestampNtz", "v2Checkpoint",        "vacuumProtocolCheck",
      "typeWidening",        "typeWidening-preview",             "variantType",         "variantType-preview",
  };
  return kFeatures;
}

Status ValidateReaderProtocol(const ProtocolAction& protocol, const std::set<std::string>& supported) {
  if (protocol.min_reader_version < 1) {
    return Error(ErrorCode::kCorruptData, "invalid minReaderVersion {}", protocol.min_reader_version);
  }
  if (protocol.min_reader_version > kMaxReaderVersion) {
    return Error(ErrorCode::kFeatureNotSupported,
                 "unsupported Delta reader version {} (this reader supports up to {})", protocol.min_reader_version,
                 kMaxReaderVersion);
  }
  if (protocol.min_reader_version == 2 && !supported.contains("columnMapping")) {
    return Error(ErrorCode::kFeatureNotSupported, "unsupported Delta reader feature: columnMapping (reader version 2)");
  }
  if (protocol.min_reader_version == 3 && protocol.reader_features) {
    for (const std::string& feature : *protocol.reader_features) {
      if (!supported.contains(feature)) {
        return Error(ErrorCode::kFeatureNotSupported, "unsupported Delta reader feature: {}", feature);
      }
    }
  }
  return Status::OK();
}

bool HasReaderFeature(const ProtocolAction& protocol, std::string_view feature) {
  if (protocol.min_reader_version == 2) return feature == "columnMapping";
  if (protocol.min_reader_version < 3 || !protocol.reader_features) return false;
  const auto& features = *protocol.reader_features;
  return std::find(features.begin(), features.end(), feature) != features.end();
}

}  // namespace tarn::delta
