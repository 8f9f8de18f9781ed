// SPDX-License-Identifier: Apache-2.0
// Engine type descriptions: names, SQL spellings, and conversion from DuckDB's C type handles.
#include "tarn/engine/types.hpp"

#include <string>

#include "tarn/engine/detail/duck_handles.hpp"
#include "tarn/engine/detail/duck_types.hpp"

namespace tarn::engine {

std::string_view TypeIdName(TypeId id) {
  switch (id) {
    case TypeId::kInvalid: return "INVALID";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kTinyInt: return "TINYINT";
    case TypeId::kSmallInt: return "SMALLINT";
    case TypeId::kInteger: return "INTEGER";
    case TypeId::kBigInt: return "BIGINT";
    case TypeId::kUTinyInt: return "UTINYINT";
    case TypeId::kUSmallInt: return "USMALLINT";
    case TypeId::kUInteger: return "UINTEGER";
    case TypeId::kUBigInt: return "UBIGINT";
    case TypeId::kFloat: return "FLOAT";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kDate: return "DATE";
    case TypeId::kTime: return "TIME";
    case TypeId::kInterval: return "INTERVAL";
    case TypeId::kHugeInt: return "HUGEINT";
    case TypeId::kUHugeInt: return "UHUGEINT";
    case TypeId::kVarchar: return "VARCHAR";
    case TypeId::kBlob: return "BLOB";
    case TypeId::kDecimal: return "DECIMAL";
    case TypeId::kTimestampS: return "TIMESTAMP_S";
    case TypeId::kTimestampMs: return "TIMESTAMP_MS";
    case TypeId::kTimestampNs: return "TIMESTAMP_NS";
    case TypeId::kEnum: return "ENUM";
    case TypeId::kList: return "LIST";
    case TypeId::kStruct: return "STRUCT";
    case TypeId::kMap: return "MAP";
    case TypeId::kArray: return "ARRAY";
    case TypeId::kUuid: return "UUID";
    case TypeId::kUnion: return "UNION";
    case TypeId::kBit: return "BIT";
    case TypeId::kTimeTz: return "TIME WITH TIME ZONE";
    case TypeId::kTimestampTz: return "TIMESTAMP WITH TIME ZONE";
    case TypeId::kAny: return "ANY";
    case TypeId::kBigNum: return "BIGNUM";
    case TypeId::kSqlNull: return "\"NULL\"";
    case TypeId::kStringLiteral: return "STRING_LITERAL";
    case TypeId::kIntegerLiteral: return "INTEGER_LITERAL";
    case TypeId::kTimeNs: return "TIME_NS";
  }
  return "INVALID";
}

namespace {

void AppendQuotedName(std::string& out, std::string_view name) {
  bool plain = !name.empty();
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) plain = false;
  }
  if (plain && !(name[0] >= '0' && name[0] <= '9')) {
    out += name;
    return;
  }
  out += '"';
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string LogicalType::ToString() const {
  if (!alias.empty()) return alias;
  std::string out;
  switch (id) {
    case TypeId::kDecimal:
      return "DECIMAL(" + std::to_string(decimal_width) + "," + std::to_string(decimal_scale) + ")";
    case TypeId::kList:
      return (children.empty() ? std::string("ANY") : children[0].type.ToString()) + "[]";
    case TypeId::kArray:
      return (children.empty() ? std::string("ANY") : children[0].type.ToString()) + "[" +
             std::to_string(array_size) + "]";
    case TypeId::kMap:
      if (children.size() != 2) return "MAP";
      return "MAP(" + children[0].type.ToString() + ", " + children[1].type.ToString() + ")";
    case TypeId::kStruct:
    case TypeId::kUnion: {
      out = id == TypeId::kStruct ? "STRUCT(" : "UNION(";
      for (size_t i = 0; i < children.size(); i++) {
        if (i > 0) out += ", ";
        AppendQuotedName(out, children[i].name);
        out += ' ';
        out += children[i].type.ToString();
      }
      out += ')';
      return out;
    }
    case TypeId::kEnum: {
      out = "ENUM(";
      for (size_t i = 0; i < enum_values.size(); i++) {
        if (i > 0) out += ", ";
        out += '\'';
        for (char c : enum_values[i]) {
          if (c == '\'') out += '\'';
          out += c;
        }
        out += '\'';
      }
      out += ')';
      return out;
    }
    default:
      return std::string(TypeIdName(id));
  }
}

bool LogicalType::IsNested() const {
  return id == TypeId::kList || id == TypeId::kStruct || id == TypeId::kMap || id == TypeId::kArray ||
         id == TypeId::kUnion;
}

bool LogicalType::operator==(const LogicalType& other) const {
  return id == other.id && decimal_width == other.decimal_width && decimal_scale == other.decimal_scale &&
         array_size == other.array_size && enum_values == other.enum_values && children == other.children &&
         alias == other.alias;
}

namespace detail {

TypeId FromDuckTypeId(duckdb_type type) {
  switch (type) {
    case DUCKDB_TYPE_INVALID: return TypeId::kInvalid;
    case DUCKDB_TYPE_BOOLEAN: return TypeId::kBoolean;
    case DUCKDB_TYPE_TINYINT: return TypeId::kTinyInt;
    case DUCKDB_TYPE_SMALLINT: return TypeId::kSmallInt;
    case DUCKDB_TYPE_INTEGER: return TypeId::kInteger;
    case DUCKDB_TYPE_BIGINT: return TypeId::kBigInt;
    case DUCKDB_TYPE_UTINYINT: return TypeId::kUTinyInt;
    case DUCKDB_TYPE_USMALLINT: return TypeId::kUSmallInt;
    case DUCKDB_TYPE_UINTEGER: return TypeId::kUInteger;
    case DUCKDB_TYPE_UBIGINT: return TypeId::kUBigInt;
    case DUCKDB_TYPE_FLOAT: return TypeId::kFloat;
    case DUCKDB_TYPE_DOUBLE: return TypeId::kDouble;
    case DUCKDB_TYPE_TIMESTAMP: return TypeId::kTimestamp;
    case DUCKDB_TYPE_DATE: return TypeId::kDate;
    case DUCKDB_TYPE_TIME: return TypeId::kTime;
    case DUCKDB_TYPE_INTERVAL: return TypeId::kInterval;
    case DUCKDB_TYPE_HUGEINT: return TypeId::kHugeInt;
    case DUCKDB_TYPE_UHUGEINT: return TypeId::kUHugeInt;
    case DUCKDB_TYPE_VARCHAR: return TypeId::kVarchar;
    case DUCKDB_TYPE_BLOB: return TypeId::kBlob;
    case DUCKDB_TYPE_DECIMAL: return TypeId::kDecimal;
    case DUCKDB_TYPE_TIMESTAMP_S: return TypeId::kTimestampS;
    case DUCKDB_TYPE_TIMESTAMP_MS: return TypeId::kTimestampMs;
    case DUCKDB_TYPE_TIMESTAMP_NS: return TypeId::kTimestampNs;
    case DUCKDB_TYPE_ENUM: return TypeId::kEnum;
    case DUCKDB_TYPE_LIST: return TypeId::kList;
    case DUCKDB_TYPE_STRUCT: return TypeId::kStruct;
    case DUCKDB_TYPE_MAP: return TypeId::kMap;
    case DUCKDB_TYPE_ARRAY: return TypeId::kArray;
    case DUCKDB_TYPE_UUID: return TypeId::kUuid;
    case DUCKDB_TYPE_UNION: return TypeId::kUnion;
    case DUCKDB_TYPE_BIT: return TypeId::kBit;
    case DUCKDB_TYPE_TIME_TZ: return TypeId::kTimeTz;
    case DUCKDB_TYPE_TIMESTAMP_TZ: return TypeId::kTimestampTz;
    case DUCKDB_TYPE_ANY: return TypeId::kAny;
    case DUCKDB_TYPE_BIGNUM: return TypeId::kBigNum;
    case DUCKDB_TYPE_SQLNULL: return TypeId::kSqlNull;
    case DUCKDB_TYPE_STRING_LITERAL: return TypeId::kStringLiteral;
    case DUCKDB_TYPE_INTEGER_LITERAL: return TypeId::kIntegerLiteral;
    case DUCKDB_TYPE_TIME_NS: return TypeId::kTimeNs;
  }
  return TypeId::kInvalid;
}

LogicalType FromDuckLogicalType(duckdb_logical_type type) {
  LogicalType out;
  if (type == nullptr) return out;
  out.id = FromDuckTypeId(duckdb_get_type_id(type));
  {
    DuckString alias(duckdb_logical_type_get_alias(type));
    out.alias = alias.get();
  }
  switch (out.id) {
    case TypeId::kDecimal:
      out.decimal_width = duckdb_decimal_width(type);
      out.decimal_scale = duckdb_decimal_scale(type);
      break;
    case TypeId::kEnum: {
      uint32_t size = duckdb_enum_dictionary_size(type);
      out.enum_values.reserve(size);
      for (uint32_t i = 0; i < size; i++) {
        DuckString value(duckdb_enum_dictionary_value(type, i));
        out.enum_values.emplace_back(value.get());
      }
      break;
    }
    case TypeId::kList: {
      DuckLogicalType child(duckdb_list_type_child_type(type));
      out.children.push_back({"", FromDuckLogicalType(child.get())});
      break;
    }
    case TypeId::kArray: {
      DuckLogicalType child(duckdb_array_type_child_type(type));
      out.array_size = duckdb_array_type_array_size(type);
      out.children.push_back({"", FromDuckLogicalType(child.get())});
      break;
    }
    case TypeId::kMap: {
      DuckLogicalType key(duckdb_map_type_key_type(type));
      DuckLogicalType value(duckdb_map_type_value_type(type));
      out.children.push_back({"key", FromDuckLogicalType(key.get())});
      out.children.push_back({"value", FromDuckLogicalType(value.get())});
      break;
    }
    case TypeId::kStruct: {
      idx_t count = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < count; i++) {
        DuckString name(duckdb_struct_type_child_name(type, i));
        DuckLogicalType child(duckdb_struct_type_child_type(type, i));
        out.children.push_back({name.get(), FromDuckLogicalType(child.get())});
      }
      break;
    }
    case TypeId::kUnion: {
      idx_t count = duckdb_union_type_member_count(type);
      for (idx_t i = 0; i < count; i++) {
        DuckString name(duckdb_union_type_member_name(type, i));
        DuckLogicalType child(duckdb_union_type_member_type(type, i));
        out.children.push_back({name.get(), FromDuckLogicalType(child.get())});
      }
      break;
    }
    default:
      break;
  }
  return out;
}

StatementType FromDuckStatementType(duckdb_statement_type type) {
  if (type < DUCKDB_STATEMENT_TYPE_INVALID || type > DUCKDB_STATEMENT_TYPE_MULTI) return StatementType::kInvalid;
  // The enums share their order (checked by a test).
  return static_cast<StatementType>(static_cast<int>(type));
}

ResultKind FromDuckResultType(duckdb_result_type type) {
  switch (type) {
    case DUCKDB_RESULT_TYPE_CHANGED_ROWS: return ResultKind::kChangedRows;
    case DUCKDB_RESULT_TYPE_NOTHING: return ResultKind::kNothing;
    case DUCKDB_RESULT_TYPE_QUERY_RESULT: return ResultKind::kQueryResult;
    default: return ResultKind::kInvalid;
  }
}

}  // namespace detail
}  // namespace tarn::engine
