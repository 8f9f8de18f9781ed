// SPDX-License-Identifier: Apache-2.0
// Spark SQL type names <-> Delta types <-> DuckDB result types, for CREATE TABLE, DESCRIBE and SHOW CREATE TABLE.
#pragma once

#include <string>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/delta/schema.hpp"
#include "tarn/engine/types.hpp"

namespace tarn::sql {

/// What a bare `TIMESTAMP` means in DDL (Spark's `spark.sql.timestampType`, ADR 0004): kLtz = Delta `timestamp`
/// (instant, PostgreSQL timestamptz; Databricks' default), kNtz = Delta `timestamp_ntz` (PostgreSQL's meaning, the
/// default of PostgreSQL-wire sessions).
enum class TimestampType { kLtz, kNtz };
/// "TIMESTAMP_LTZ" / "TIMESTAMP_NTZ".
std::string_view TimestampTypeName(TimestampType type);
/// Parses a spark.sql.timestampType value (case-insensitive, optionally quoted by the caller already).
/// Errors: kInvalidParameterValue naming the accepted values.
Result<TimestampType> ParseTimestampType(std::string_view value);

/// Parses a column type as written in CREATE TABLE / ADD COLUMNS: Spark spellings (STRING, BIGINT, INT, DECIMAL(p,s),
/// TIMESTAMP_NTZ, ARRAY<T>, MAP<K,V>, STRUCT<a: T, b T>) and the common DuckDB ones (VARCHAR, INTEGER, DOUBLE,
/// BLOB, T[], STRUCT(a T), MAP(K, V)) and PostgreSQL's (`timestamp [(p)] with[out] time zone`, timestamptz).
/// A bare TIMESTAMP becomes `timestamp` or `timestamp_ntz` as `timestamp_type` says.
/// Errors: kSyntaxError naming the unknown type or the malformed text.
Result<delta::DataTypePtr> ParseSparkType(std::string_view text, TimestampType timestamp_type = TimestampType::kLtz);

/// The Spark SQL name of a DuckDB result type (for views): "bigint", "string", "array<int>", "struct<a:int>".
std::string SparkTypeNameOf(const engine::LogicalType& type);

}  // namespace tarn::sql
