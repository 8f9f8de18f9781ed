// SPDX-License-Identifier: Apache-2.0
// Typed partition values: parses the strings the Delta log stores ("Partition Value Serialization").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/delta/schema.hpp"

namespace tarn::delta {

/// 128-bit integer for decimal(38) unscaled values (a GCC/Clang extension).
__extension__ using Int128 = __int128;

/// One typed value. Which member is meaningful depends on `kind`:
/// bool_value (kBoolean); int_value (kByte/kShort/kInteger/kLong; kDate = days since 1970-01-01;
/// kTimestamp/kTimestampNtz = microseconds since the epoch); double_value (kFloat/kDouble);
/// string_value (kString/kBinary bytes); decimal_unscaled with precision/scale (kDecimal).
struct Scalar {
  TypeKind kind = TypeKind::kVoid;
  bool is_null = true;
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0;
  std::string string_value;
  Int128 decimal_unscaled = 0;
  int precision = 0;
  int scale = 0;
};

/// Parses a partition value of `type`. nullopt and "" are null for every type. Timestamps accept
/// "YYYY-MM-DD HH:MM:SS[.ffffff]" (read as UTC: the log does not record the writer's zone) and ISO-8601 with 'T'
/// and a 'Z' or ±HH:MM offset. Malformed or out-of-range text is kInvalidTextRepresentation; nested types are
/// kFeatureNotSupported.
Result<Scalar> ParsePartitionValue(std::optional<std::string_view> raw, const DataType& type);

/// The partitionValues key of partition column `column` (a logical name): its physical name when the table uses
/// column mapping (`delta.columnMapping.mode` name or id, PROTOCOL.md "Column Mapping"), else `column` itself.
std::string PartitionValueKey(const std::map<std::string, std::string>& configuration, const Schema& schema,
                              std::string_view column);

/// Days since 1970-01-01 for a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace tarn::delta
