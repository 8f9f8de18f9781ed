// SPDX-License-Identifier: Apache-2.0
// Module-private pieces of the Statement Execution API: named-parameter binding, Databricks types, value text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/api/statement_manager.hpp"
#include "tarn/base/result.hpp"
#include "tarn/engine/chunk.hpp"
#include "tarn/engine/types.hpp"

namespace tarn::api::detail {

/// Replaces each `:name` parameter marker outside strings, quoted identifiers and comments with a typed SQL literal
/// (`CAST('value' AS <type>)`, `CAST(NULL AS <type>)`; no type = STRING). `::` casts and `expr:path` (a colon right
/// after a name, quote or bracket) are left alone. Errors: kUnboundParameter for a
/// marker without a value; kSyntaxError for an unknown parameter type; kInvalidParameterValue for a bad name.
Result<std::string> BindNamedParameters(std::string_view sql, const std::vector<StatementParameter>& parameters);

/// The Databricks description of an engine column type (type_name, type_text, precision/scale); `name` is copied.
ResultColumn DescribeColumn(const engine::Column& column);

/// The JSON_ARRAY text of one value (nullopt for NULL): booleans `true`/`false`, timestamps ISO 8601
/// (`2024-01-02T03:04:05.000Z`; without `Z` for TIMESTAMP_NTZ), binary base64, doubles `NaN`/`Infinity`, nested
/// values as JSON (NestedValueJson), everything else as the engine prints it.
std::optional<std::string> FormatCell(const engine::Chunk& chunk, size_t col, size_t row);

/// Compact JSON for a nested value (ARRAY/STRUCT/MAP) given DuckDB's text of it (ValueStyle::kDuckDb), as Databricks
/// returns nested values: `[1,2]`, `{"x":1,"y":"a b"}`, `{"k":1}`; numbers and booleans stay JSON scalars, other
/// leaves become JSON strings in DuckDB's text. nullopt when the text does not parse.
std::optional<std::string> NestedValueJson(std::string_view duck_text, const engine::LogicalType& type);

/// Formats epoch microseconds as `YYYY-MM-DDTHH:MM:SS.fff` (6 fraction digits when sub-millisecond digits exist).
std::string FormatTimestampMicros(int64_t micros);

/// Appends one RFC 4180 CSV record (NULL as `null`, CRLF line ends, fields quoted when needed).
void AppendCsvRecord(std::string& out, const std::optional<std::string>* cells, size_t count);

}  // namespace tarn::api::detail
