// SPDX-License-Identifier: Apache-2.0
// PostgreSQL type OIDs for engine types, and value encoding (text and binary) in both directions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/engine/chunk.hpp"
#include "tarn/engine/types.hpp"

namespace tarn::pgwire {

namespace oid {
inline constexpr int32_t kBool = 16;
inline constexpr int32_t kBytea = 17;
inline constexpr int32_t kName = 19;
inline constexpr int32_t kInt8 = 20;
inline constexpr int32_t kInt2 = 21;
inline constexpr int32_t kInt4 = 23;
inline constexpr int32_t kText = 25;
inline constexpr int32_t kOid = 26;
inline constexpr int32_t kJson = 114;
inline constexpr int32_t kFloat4 = 700;
inline constexpr int32_t kFloat8 = 701;
inline constexpr int32_t kUnknown = 705;
inline constexpr int32_t kBpchar = 1042;
inline constexpr int32_t kVarchar = 1043;
inline constexpr int32_t kDate = 1082;
inline constexpr int32_t kTime = 1083;
inline constexpr int32_t kTimestamp = 1114;
inline constexpr int32_t kTimestampTz = 1184;
inline constexpr int32_t kInterval = 1186;
inline constexpr int32_t kTimeTz = 1266;
inline constexpr int32_t kNumeric = 1700;
inline constexpr int32_t kUuid = 2950;
inline constexpr int32_t kJsonb = 3802;
}  // namespace oid

/// How an engine type appears in a RowDescription.
struct PgTypeInfo {
  int32_t oid = oid::kText;
  int16_t len = -1;     // pg_type.typlen
  int32_t typmod = -1;  // numeric: ((p << 16) | s) + 4
};

/// Maps an engine type to its PostgreSQL type (lists to the element's array type; structs, maps, unions, enums and
/// bit strings to text).
PgTypeInfo PgTypeOf(const engine::LogicalType& type);

/// True when AppendBinary can encode values of `type` (bool, integers, floats, numeric, text, bytea, date, time,
/// timestamp(tz), uuid).
bool BinarySupported(const engine::LogicalType& type);

/// Appends the PostgreSQL text output of the non-NULL value at (col, row).
void AppendText(const engine::Chunk& chunk, size_t col, size_t row, std::string& out);
/// Appends the PostgreSQL binary (send) form of the non-NULL value; the type must be BinarySupported.
void AppendBinary(const engine::Chunk& chunk, size_t col, size_t row, std::string& out);

/// numeric text ("-12.50", "NaN") -> binary numeric. Errors: kInvalidTextRepresentation.
Result<std::string> NumericTextToBinary(std::string_view text);
/// binary numeric -> text. Errors: kInvalidBinaryRepresentation.
Result<std::string> NumericBinaryToText(std::string_view bytes);

/// Decodes one Bind parameter of PostgreSQL type `type_oid` (0 = unspecified) sent in `binary` or text format into
/// an engine parameter (text is cast by the engine to the parameter's type). Errors: kInvalidBinaryRepresentation
/// for bad binary data, kFeatureNotSupported for binary input of an unsupported type.
Result<engine::ParamValue> DecodeParam(int32_t type_oid, bool binary, std::string_view bytes);

/// Formats days since 1970-01-01 as ISO date text.
std::string FormatDateDays(int64_t days_since_epoch);
/// Formats microseconds since 1970-01-01 as ISO timestamp text (fraction trimmed).
std::string FormatTimestampMicros(int64_t micros_since_epoch);

}  // namespace tarn::pgwire
