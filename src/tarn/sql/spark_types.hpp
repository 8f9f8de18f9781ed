// SPDX-License-Identifier: Apache-2.0
// Spark SQL type names <-> Delta types <-> DuckDB result types, for CREATE TABLE, DESCRIBE and SHOW CREATE TABLE.
#pragma once

#include <string>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/delta/schema.hpp"
#include "tarn/engine/types.hpp"

namespace tarn::sql {

/// Parses a column type as written in CREATE TABLE / ADD COLUMNS: Spark spellings (STRING, BIGINT, INT, DECIMAL(p,s),
/// TIMESTAMP_NTZ, ARRAY<T>, MAP<K,V>, STRUCT<a: T, b T>) and the common DuckDB ones (VARCHAR, INTEGER, DOUBLE,
/// BLOB, T[], STRUCT(a T), MAP(K, V)). Errors: kSyntaxError naming the unknown type or the malformed text.
Result<delta::DataTypePtr> ParseSparkType(std::string_view text);

/// The Spark SQL name of a DuckDB result type (for views): "bigint", "string", "array<int>", "struct<a:int>".
std::string SparkTypeNameOf(const engine::LogicalType& type);

}  // namespace tarn::sql
