// SPDX-License-Identifier: Apache-2.0
// Spark SQL type parsing (tokens -> delta::DataType) and DuckDB type -> Spark type names.
#include "tarn/sql/spark_types.hpp"

#include "tarn/sql/detail/spark_type_parser.hpp"
#include "tarn/sql/detail/tokens.hpp"

namespace tarn::sql {
namespace detail {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Status Expect(const std::vector<Token>& t, size_t& i, std::string_view symbol) {
  if (i >= t.size() || !t[i].IsSymbol(symbol)) {
    return Error(ErrorCode::kSyntaxError, "syntax error in a type: expected '{}' near '{}'", symbol,
                 i < t.size() ? t[i].value : std::string("end of input"));
  }
  i++;
  return Status::OK();
}

Result<int> ReadInt(const std::vector<Token>& t, size_t& i) {
  if (i >= t.size() || t[i].kind != TokenKind::kNumber ||
      t[i].value.find_first_not_of("0123456789") != std::string::npos || t[i].value.size() > 4) {
    return Error(ErrorCode::kSyntaxError, "syntax error in a type: expected a number");
  }
  return std::stoi(t[i++].value);
}

}  // namespace

Result<delta::DataTypePtr> ParseTypeTokens(const std::vector<Token>& t, size_t& i, TimestampType timestamp_type) {
  using delta::DataType;
  using delta::TypeKind;
  if (i >= t.size() || t[i].kind != TokenKind::kWord) {
    return Error(ErrorCode::kSyntaxError, "syntax error: expected a type name near '{}'",
                 i < t.size() ? t[i].value : std::string("end of input"));
  }
  std::string name = Upper(t[i].value);
  i++;
  delta::DataTypePtr type;
  auto angle_or_paren = [&](std::string_view& close) -> bool {
    if (i < t.size() && t[i].IsSymbol("<")) {
      close = ">";
      i++;
      return true;
    }
    if (i < t.size() && t[i].IsSymbol("(")) {
      close = ")";
      i++;
      return true;
    }
    return false;
  };
  std::string_view close;
  if (name == "ARRAY" || name == "LIST") {
    if (!angle_or_paren(close)) return Error(ErrorCode::kSyntaxError, "ARRAY needs an element type: ARRAY<type>");
    TARN_ASSIGN_OR_RETURN(auto element, ParseTypeTokens(t, i, timestamp_type));
    TARN_RETURN_IF_ERROR(Expect(t, i, close));
    type = DataType::Array(element, true);
  } else if (name == "MAP") {
    if (!angle_or_paren(close)) return Error(ErrorCode::kSyntaxError, "MAP needs key and value types: MAP<k, v>");
    TARN_ASSIGN_OR_RETURN(auto key, ParseTypeTokens(t, i, timestamp_type));
    TARN_RETURN_IF_ERROR(Expect(t, i, ","));
    TARN_ASSIGN_OR_RETURN(auto value, ParseTypeTokens(t, i, timestamp_type));
    TARN_RETURN_IF_ERROR(Expect(t, i, close));
    type = DataType::Map(key, value, true);
  } else if (name == "STRUCT" || name == "ROW") {
    if (!angle_or_paren(close)) return Error(ErrorCode::kSyntaxError, "STRUCT needs fields: STRUCT<name: type>");
    std::vector<delta::StructField> fields;
    while (i < t.size() && !t[i].IsSymbol(close)) {
      if (!t[i].IsName()) return Error(ErrorCode::kSyntaxError, "syntax error in STRUCT: expected a field name");
      delta::StructField field;
      field.name = t[i++].value;
      if (i < t.size() && t[i].IsSymbol(":")) i++;
      TARN_ASSIGN_OR_RETURN(field.type, ParseTypeTokens(t, i, timestamp_type));
      if (i + 1 < t.size() && t[i].Is("NOT") && t[i + 1].Is("NULL")) {
        field.nullable = false;
        i += 2;
      }
      if (i + 1 < t.size() && t[i].Is("COMMENT") && t[i + 1].kind == TokenKind::kString) i += 2;
      fields.push_back(std::move(field));
      if (i < t.size() && t[i].IsSymbol(",")) i++;
    }
    TARN_RETURN_IF_ERROR(Expect(t, i, close));
    type = DataType::Struct(std::move(fields));
  } else if (name == "DECIMAL" || name == "DEC" || name == "NUMERIC") {
    int precision = 10;
    int scale = 0;
    if (i < t.size() && t[i].IsSymbol("(")) {
      i++;
      TARN_ASSIGN_OR_RETURN(precision, ReadInt(t, i));
      if (i < t.size() && t[i].IsSymbol(",")) {
        i++;
        TARN_ASSIGN_OR_RETURN(scale, ReadInt(t, i));
      }
      TARN_RETURN_IF_ERROR(Expect(t, i, ")"));
    }
    if (precision < 1 || precision > 38 || scale < 0 || scale > precision) {
      return Error(ErrorCode::kSyntaxError, "DECIMAL({},{}) is out of range: precision 1..38, scale 0..precision",
                   precision, scale);
    }
    type = DataType::Decimal(precision, scale);
  } else {
    static const std::pair<std::string_view, TypeKind> kNames[] = {
        {"STRING", TypeKind::kString},     {"VARCHAR", TypeKind::kString},       {"CHAR", TypeKind::kString},
        {"TEXT", TypeKind::kString},       {"BIGINT", TypeKind::kLong},          {"LONG", TypeKind::kLong},
        {"INT8", TypeKind::kLong},         {"INT", TypeKind::kInteger},          {"INTEGER", TypeKind::kInteger},
        {"INT4", TypeKind::kInteger},      {"SMALLINT", TypeKind::kShort},       {"SHORT", TypeKind::kShort},
        {"INT2", TypeKind::kShort},        {"TINYINT", TypeKind::kByte},         {"BYTE", TypeKind::kByte},
        {"INT1", TypeKind::kByte},         {"FLOAT", TypeKind::kFloat},          {"REAL", TypeKind::kFloat},
        {"FLOAT4", TypeKind::kFloat},      {"DOUBLE", TypeKind::kDouble},        {"FLOAT8", TypeKind::kDouble},
        {"BOOLEAN", TypeKind::kBoolean},   {"BOOL", TypeKind::kBoolean},         {"BINARY", TypeKind::kBinary},
        {"BLOB", TypeKind::kBinary},       {"BYTEA", TypeKind::kBinary},         {"DATE", TypeKind::kDate},
        {"TIMESTAMP", TypeKind::kTimestamp}, {"TIMESTAMPTZ", TypeKind::kTimestamp},
        {"TIMESTAMP_LTZ", TypeKind::kTimestamp}, {"TIMESTAMP_NTZ", TypeKind::kTimestampNtz},
    };
    for (const auto& [spelling, kind] : kNames) {
      if (name == spelling) type = DataType::Primitive(kind);
    }
    if (name == "TIMESTAMP" && timestamp_type == TimestampType::kNtz) {
      type = DataType::Primitive(TypeKind::kTimestampNtz);
    }
    if (!type) return Error(ErrorCode::kSyntaxError, "unknown data type '{}'", t[i - 1].value);
    // VARCHAR(n) / CHAR(n): the length is accepted and not enforced (Delta stores string).
    if ((name == "VARCHAR" || name == "CHAR") && i < t.size() && t[i].IsSymbol("(")) {
      i++;
      TARN_RETURN_IF_ERROR(ReadInt(t, i).status());
      TARN_RETURN_IF_ERROR(Expect(t, i, ")"));
    }
    // DOUBLE PRECISION, TIMESTAMP WITH TIME ZONE / WITHOUT TIME ZONE.
    if (name == "DOUBLE" && i < t.size() && t[i].Is("PRECISION")) i++;
    // PostgreSQL's fractional-second precision, timestamp(p) / timestamptz(p): accepted (Delta keeps microseconds).
    if ((name == "TIMESTAMP" || name == "TIMESTAMPTZ") && i < t.size() && t[i].IsSymbol("(")) {
      i++;
      TARN_ASSIGN_OR_RETURN(int precision, ReadInt(t, i));
      if (precision > 6) {
        return Error(ErrorCode::kSyntaxError, "TIMESTAMP({}) precision must be between 0 and 6", precision);
      }
      TARN_RETURN_IF_ERROR(Expect(t, i, ")"));
    }
    if (name == "TIMESTAMP" && i + 2 < t.size() && (t[i].Is("WITH") || t[i].Is("WITHOUT")) && t[i + 1].Is("TIME") &&
        t[i + 2].Is("ZONE")) {
      type = DataType::Primitive(t[i].Is("WITHOUT") ? TypeKind::kTimestampNtz : TypeKind::kTimestamp);
      i += 3;
    }
  }
  // DuckDB list suffix: INTEGER[].
  while (i + 1 < t.size() && t[i].IsSymbol("[") && t[i + 1].IsSymbol("]")) {
    type = DataType::Array(type, true);
    i += 2;
  }
  return type;
}

}  // namespace detail

std::string_view TimestampTypeName(TimestampType type) {
  return type == TimestampType::kNtz ? "TIMESTAMP_NTZ" : "TIMESTAMP_LTZ";
}

Result<TimestampType> ParseTimestampType(std::string_view value) {
  std::string upper = detail::Upper(value);
  if (upper == "TIMESTAMP_NTZ") return TimestampType::kNtz;
  if (upper == "TIMESTAMP_LTZ") return TimestampType::kLtz;
  return Error(ErrorCode::kInvalidParameterValue,
               "invalid value for spark.sql.timestampType: '{}' (expected TIMESTAMP_NTZ or TIMESTAMP_LTZ)", value);
}

Result<delta::DataTypePtr> ParseSparkType(std::string_view text, TimestampType timestamp_type) {
  auto tokens = detail::Tokenize(text);
  size_t i = 0;
  TARN_ASSIGN_OR_RETURN(auto type, detail::ParseTypeTokens(tokens, i, timestamp_type));
  if (i != tokens.size()) return Error(ErrorCode::kSyntaxError, "unexpected text after the type: '{}'", tokens[i].value);
  return type;
}

std::string SparkTypeNameOf(const engine::LogicalType& type) {
  using engine::TypeId;
  switch (type.id) {
    case TypeId::kBoolean: return "boolean";
    case TypeId::kTinyInt: return "tinyint";
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt: return "smallint";
    case TypeId::kInteger:
    case TypeId::kUSmallInt: return "int";
    case TypeId::kBigInt:
    case TypeId::kUInteger: return "bigint";
    case TypeId::kUBigInt:
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt:
    case TypeId::kBigNum: return "decimal(38,0)";
    case TypeId::kFloat: return "float";
    case TypeId::kDouble: return "double";
    case TypeId::kDate: return "date";
    case TypeId::kTimestamp:
    case TypeId::kTimestampS:
    case TypeId::kTimestampMs:
    case TypeId::kTimestampNs: return "timestamp_ntz";
    case TypeId::kTimestampTz: return "timestamp";
    case TypeId::kBlob:
    case TypeId::kBit: return "binary";
    case TypeId::kDecimal:
      return "decimal(" + std::to_string(type.decimal_width) + "," + std::to_string(type.decimal_scale) + ")";
    case TypeId::kList:
    case TypeId::kArray:
      return "array<" + (type.children.empty() ? std::string("string") : SparkTypeNameOf(type.children[0].type)) + ">";
    case TypeId::kMap:
      if (type.children.size() == 2) {
        return "map<" + SparkTypeNameOf(type.children[0].type) + "," + SparkTypeNameOf(type.children[1].type) + ">";
      }
      return "map<string,string>";
    case TypeId::kStruct: {
      std::string out = "struct<";
      for (size_t k = 0; k < type.children.size(); k++) {
        if (k > 0) out += ",";
        out += type.children[k].name + ":" + SparkTypeNameOf(type.children[k].type);
      }
      return out + ">";
    }
    case TypeId::kInterval: return "interval";
    case TypeId::kSqlNull: return "void";
    default: return "string";
  }
}

}  // namespace tarn::sql
