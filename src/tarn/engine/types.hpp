// SPDX-License-Identifier: Apache-2.0
// Engine value model: column types, statement kinds and value styles, free of DuckDB headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tarn::engine {

/// Mirrors duckdb_type (same names; numeric values are ours, do not cast between them).
enum class TypeId : uint8_t {
  kInvalid,
  kBoolean,
  kTinyInt,
  kSmallInt,
  kInteger,
  kBigInt,
  kUTinyInt,
  kUSmallInt,
  kUInteger,
  kUBigInt,
  kFloat,
  kDouble,
  kTimestamp,     // microseconds, no time zone
  kDate,
  kTime,          // microseconds
  kInterval,
  kHugeInt,
  kUHugeInt,
  kVarchar,
  kBlob,
  kDecimal,       // see LogicalType::decimal_width / decimal_scale
  kTimestampS,
  kTimestampMs,
  kTimestampNs,
  kEnum,          // see LogicalType::enum_values
  kList,          // children[0] = element type
  kStruct,        // children = fields (name + type)
  kMap,           // children[0] = key, children[1] = value
  kArray,         // children[0] = element type, array_size
  kUuid,
  kUnion,         // children = members (name + type)
  kBit,
  kTimeTz,
  kTimestampTz,   // microseconds since epoch, UTC
  kAny,
  kBigNum,        // arbitrary-precision integer (DuckDB VARINT/BIGNUM)
  kSqlNull,       // type of a bare NULL literal
  kStringLiteral,
  kIntegerLiteral,
  kTimeNs,
};

/// Returns DuckDB's SQL spelling of the type id ("BIGINT", "TIMESTAMP WITH TIME ZONE", "DECIMAL", "LIST"...).
std::string_view TypeIdName(TypeId id);

struct LogicalType;
/// A named child of a nested type (struct field, union member; name empty for list/array/map children).
struct ChildType;

/// A column or value type: the type id plus what nested and parameterised types need.
struct LogicalType {
  TypeId id = TypeId::kInvalid;
  uint8_t decimal_width = 0;              // kDecimal only
  uint8_t decimal_scale = 0;              // kDecimal only
  uint64_t array_size = 0;                // kArray only
  std::vector<std::string> enum_values;   // kEnum only: dictionary in index order
  std::vector<ChildType> children;        // kList/kArray: 1; kMap: 2 (key, value); kStruct/kUnion: members
  std::string alias;                      // type alias DuckDB reports, e.g. "JSON" for a kVarchar; usually empty

  /// Returns DuckDB's SQL spelling: "INTEGER", "DECIMAL(18,3)", "INTEGER[]", "INTEGER[3]",
  /// "STRUCT(a INTEGER, b VARCHAR)", "MAP(VARCHAR, INTEGER)", "ENUM('a', 'b')"...
  std::string ToString() const;
  bool IsNested() const;
  bool operator==(const LogicalType& other) const;
};

struct ChildType {
  std::string name;
  LogicalType type;
  bool operator==(const ChildType& other) const = default;
};

/// One result column.
struct Column {
  std::string name;
  LogicalType type;
};

/// How a statement changes things; mirrors duckdb_statement_type.
enum class StatementType : uint8_t {
  kInvalid,
  kSelect,
  kInsert,
  kUpdate,
  kExplain,
  kDelete,
  kPrepare,
  kCreate,
  kExecute,
  kAlter,
  kTransaction,
  kCopy,
  kAnalyze,
  kVariableSet,
  kCreateFunc,
  kDrop,
  kExport,
  kPragma,
  kVacuum,
  kCall,
  kSet,
  kLoad,
  kRelation,
  kExtension,
  kLogicalPlan,
  kAttach,
  kDetach,
  kMulti,
};

/// What a result holds; mirrors duckdb_result_type.
enum class ResultKind : uint8_t {
  kInvalid,
  kChangedRows,  // INSERT/UPDATE/DELETE: one BIGINT column "Count"; see ResultStream::rows_changed()
  kNothing,      // DDL, SET, transaction statements: no meaningful rows
  kQueryResult,  // SELECT and friends: rows
};

/// Text formats for values (Chunk::FormatValue).
enum class ValueStyle : uint8_t {
  kDuckDb,    // what the duckdb CLI prints (DuckDB's VARCHAR cast): [1, 2], {'a': 1}, true, \xAA blobs
  kPostgres,  // PostgreSQL text output: t/f, {1,2}, (1,abc), \x hex bytea, timestamptz with +00
};

/// A prepared-statement parameter: NULL, bool, int64, double or text (text is cast by DuckDB to the parameter type).
using ParamValue = std::variant<std::monostate, bool, int64_t, double, std::string>;

}  // namespace tarn::engine
