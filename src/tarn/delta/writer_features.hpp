// SPDX-License-Identifier: Apache-2.0
// Writer-side protocol rules: which table features Tarn can write, which a table needs, and protocol upgrades.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/actions.hpp"
#include "tarn/delta/schema.hpp"

namespace tarn::delta {

/// The highest minWriterVersion this implementation writes.
inline constexpr int32_t kMaxWriterVersion = 7;

/// Writer features the delta layer can honour. appendOnly, inCommitTimestamp, domainMetadata, v2Checkpoint,
/// vacuumProtocolCheck are enforced here; invariants, checkConstraints, generatedColumns and changeDataFeed need the
/// engine to evaluate expressions or write CDC files (listed because the engine above implements them);
/// deletionVectors, columnMapping, timestampNtz, typeWidening and variantType are preserved as written.
/// Not supported: rowTracking, identityColumns, clustering, catalogManaged, icebergCompat*.
const std::set<std::string>& DefaultSupportedWriterFeatures();

/// True for features that are also reader features (listed in readerFeatures on reader-3 tables).
bool IsReaderWriterFeature(std::string_view feature);

/// True when `protocol` supports `feature`: listed in writerFeatures (writer 7) or implied by a legacy writer version
/// (2: appendOnly, invariants; 3: checkConstraints; 4: changeDataFeed, generatedColumns; 5: columnMapping;
/// 6: identityColumns).
bool HasWriterFeature(const ProtocolAction& protocol, std::string_view feature);

/// Refuses a protocol Tarn cannot write: writer version above 7, a legacy writer 6 (identity columns), or a
/// writerFeatures entry missing from `supported`. kFeatureNotSupported naming the version or feature.
Status ValidateWriterProtocol(const ProtocolAction& protocol, const std::set<std::string>& supported);

/// Checks the consistency rules of a protocol action: readerFeatures iff reader 3, writerFeatures iff writer 7,
/// reader 3 needs writer 7, every reader feature also a writer feature. kProtocolViolation.
Status CheckProtocolShape(const ProtocolAction& protocol);

/// Returns the features a table with this configuration and schema needs (delta.enableInCommitTimestamps,
/// delta.enableDeletionVectors, delta.enableChangeDataFeed, delta.appendOnly, delta.checkpointPolicy=v2,
/// delta.columnMapping.mode, timestamp_ntz / variant columns, and explicit delta.feature.<name>=supported|enabled).
std::set<std::string> RequiredFeatures(const std::map<std::string, std::string>& configuration, const Schema& schema);

/// Returns the smallest protocol for a new table: (1,2) without features; (1,7) for writer-only features;
/// (3,7) as soon as one reader-writer feature is needed. Writer-7 protocols list appendOnly and invariants too (what
/// the legacy (1,2) protocol implied), as Spark does.
ProtocolAction ProtocolForFeatures(const std::set<std::string>& features);

/// Returns `current` upgraded so it supports `features` (nullopt when it already does). Upgrading a legacy protocol
/// to writer 7 keeps every feature the old versions implied.
std::optional<ProtocolAction> UpgradeProtocol(const ProtocolAction& current, const std::set<std::string>& features);

/// Removes the delta.feature.* keys (protocol requests, not properties) from a configuration.
void StripFeatureProperties(std::map<std::string, std::string>& configuration);

}  // namespace tarn::delta
