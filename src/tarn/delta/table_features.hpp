// SPDX-License-Identifier: Apache-2.0
// Protocol validation: which reader versions and table features this reader accepts.
#pragma once

#include <set>
#include <string>

#include "tarn/base/status.hpp"
#include "tarn/delta/actions.hpp"

namespace tarn::delta {

/// The highest minReaderVersion this implementation understands.
inline constexpr int32_t kMaxReaderVersion = 3;

/// Reader features the Tarn read path implements: columnMapping, deletionVectors, timestampNtz, v2Checkpoint,
/// vacuumProtocolCheck, typeWidening(-preview), variantType(-preview).
const std::set<std::string>& DefaultSupportedReaderFeatures();

/// Refuses a protocol this reader cannot honour: minReaderVersion above kMaxReaderVersion, or (reader version 3) a
/// readerFeatures entry missing from `supported`. kFeatureNotSupported; the message names the version or feature.
Status ValidateReaderProtocol(const ProtocolAction& protocol, const std::set<std::string>& supported);

/// True when the table lists `feature` as a reader feature (reader 3) or implies it by its legacy reader version
/// (reader 2 ⇒ columnMapping).
bool HasReaderFeature(const ProtocolAction& protocol, std::string_view feature);

}  // namespace tarn::delta
