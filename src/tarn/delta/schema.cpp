// SPDX-License-Identifier: Apache-2.0
// Schema parsing (nlohmann/json) and type printing.
#include "tarn/delta/schema.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>

#include "tarn/base/json_depth.hpp"

namespace tarn::delta {
namespace {

using nlohmann::json;

struct PrimitiveName {
  std::string_view name;
  TypeKind kind;
};
constexpr PrimitiveName kPrimitiveNames[] = {
    {"string", TypeKind::kString},   {"long", TypeKind::kLong},          {"integer", TypeKind::kInteger},
    {"short", TypeKind::kShort},     {"byte", TypeKind::kByte},          {"float", TypeKind::kFloat},
    {"double", TypeKind::kDouble},   {"boolean", TypeKind::kBoolean},    {"binary", TypeKind::kBinary},
    {"date", TypeKind::kDate},       {"timestamp", TypeKind::kTimestamp}, {"timestamp_ntz", TypeKind::kTimestampNtz},
    {"void", TypeKind::kVoid},       {"variant", TypeKind::kVariant},
};

std::string_view SqlName(TypeKind kind) {
  switch (kind) {
    case TypeKind::kString: return "string";
    case TypeKind::kLong: return "bigint";
    case TypeKind::kInteger: return "int";
    case TypeKind::kShort: return "smallint";
    case TypeKind::kByte: return "tinyint";
    case TypeKind::kFloat: return "float";
    case TypeKind::kDouble: return "double";
    case TypeKind::kBoolean: return "boolean";
    case TypeKind::kBinary: return "binary";
    case TypeKind::kDate: return "date";
    case TypeKind::kTimestamp: return "timestamp";
    case TypeKind::kTimestampNtz: return "timestamp_ntz";
    case TypeKind::kVoid: return "void";
    case TypeKind::kVariant: return "variant";
    default: return "?";
  }
}

bool ParseInt(std::string_view text, int& out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

Result<DataTypePtr> ParseType(const json& node);

Result<StructField> ParseField(const json& node) {
  if (!node.is_object() || !node.contains("name") || !node.contains("type")) {
    return Error(ErrorCode::kCorruptData, "schema field must have a name and a type");
  }
  StructField field;
  if (!node["name"].is_string()) return Error(ErrorCode::kCorruptData, "schema field name must be a string");
  field.name = node["name"].get<std::string>();
  auto type = ParseType(node["type"]);
  if (!type.has_value()) return type.status().WithContext("field {}", field.name);
  field.type = std::move(type).value();
  if (node.contains("nullable") && node["nullable"].is_boolean()) field.nullable = node["nullable"].get<bool>();
  if (node.contains("metadata") && node["metadata"].is_object()) {
    const json& metadata = node["metadata"];
    field.metadata_json = metadata.dump();
    auto id = metadata.find("delta.columnMapping.id");
    if (id != metadata.end() && id->is_number_integer()) field.column_mapping_id = id->get<int64_t>();
    auto physical = metadata.find("delta.columnMapping.physicalName");
    if (physical != metadata.end() && physical->is_string()) field.physical_name = physical->get<std::string>();
  }
  return field;
}

Result<DataTypePtr> ParseType(const json& node) {
  if (node.is_string()) return ParsePrimitiveTypeName(node.get<std::string>());
  if (!node.is_object() || !node.contains("type") || !node["type"].is_string()) {
    return Error(ErrorCode::kCorruptData, "schema type must be a name or an object with a type");
  }
  std::string kind = node["type"].get<std::string>();
  if (kind == "struct") {
    std::vector<StructField> fields;
    if (node.contains("fields")) {
      if (!node["fields"].is_array()) return Error(ErrorCode::kCorruptData, "struct fields must be an array");
      for (const json& child : node["fields"]) {
        TARN_ASSIGN_OR_RETURN(StructField field, ParseField(child));
        fields.push_back(std::move(field));
      }
    }
    return DataType::Struct(std::move(fields));
  }
  if (kind == "array") {
    if (!node.contains("elementType")) return Error(ErrorCode::kCorruptData, "array type without elementType");
    TARN_ASSIGN_OR_RETURN(DataTypePtr element, ParseType(node["elementType"]));
    bool contains_null = !node.contains("containsNull") || !node["containsNull"].is_boolean() ||
                         node["containsNull"].get<bool>();
    return DataType::Array(std::move(element), contains_null);
  }
  if (kind == "map") {
    if (!node.contains("keyType") || !node.contains("valueType")) {
      return Error(ErrorCode::kCorruptData, "map type without keyType/valueType");
    }
    TARN_ASSIGN_OR_RETURN(DataTypePtr key, ParseType(node["keyType"]));
    TARN_ASSIGN_OR_RETURN(DataTypePtr value, ParseType(node["valueType"]));
    bool contains_null = !node.contains("valueContainsNull") || !node["valueContainsNull"].is_boolean() ||
                         node["valueContainsNull"].get<bool>();
    return DataType::Map(std::move(key), std::move(value), contains_null);
  }
  return Error(ErrorCode::kFeatureNotSupported, "unsupported schema type: {}", kind);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

DataTypePtr DataType::Primitive(TypeKind kind) { return DataTypePtr(new DataType(kind)); }

DataTypePtr DataType::Decimal(int precision, int scale) {
  auto type = new DataType(TypeKind::kDecimal);
  type->precision_ = precision;
  type->scale_ = scale;
  return DataTypePtr(type);
}

DataTypePtr DataType::Struct(std::vector<StructField> fields) {
  auto type = new DataType(TypeKind::kStruct);
  type->fields_ = std::move(fields);
  return DataTypePtr(type);
}

DataTypePtr DataType::Array(DataTypePtr element, bool contains_null) {
  auto type = new DataType(TypeKind::kArray);
  type->element_ = std::move(element);
  type->contains_null_ = contains_null;
  return DataTypePtr(type);
}

DataTypePtr DataType::Map(DataTypePtr key, DataTypePtr value, bool value_contains_null) {
  auto type = new DataType(TypeKind::kMap);
  type->key_ = std::move(key);
  type->value_ = std::move(value);
  type->contains_null_ = value_contains_null;
  return DataTypePtr(type);
}

std::string DataType::ToString() const {
  switch (kind_) {
    case TypeKind::kDecimal: return fmt::format("decimal({},{})", precision_, scale_);
    case TypeKind::kArray: return "array<" + element_->ToString() + ">";
    case TypeKind::kMap: return "map<" + key_->ToString() + "," + value_->ToString() + ">";
    case TypeKind::kStruct: {
      std::string out = "struct<";
      for (size_t i = 0; i < fields_.size(); ++i) {
        if (i > 0) out += ',';
        out += fields_[i].name + ":" + fields_[i].type->ToString();
      }
      return out + ">";
    }
    default: return std::string(SqlName(kind_));
  }
}

bool DataType::Equals(const DataType& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case TypeKind::kDecimal: return precision_ == other.precision_ && scale_ == other.scale_;
    case TypeKind::kArray: return contains_null_ == other.contains_null_ && element_->Equals(*other.element_);
    case TypeKind::kMap:
      return contains_null_ == other.contains_null_ && key_->Equals(*other.key_) && value_->Equals(*other.value_);
    case TypeKind::kStruct:
      if (fields_.size() != other.fields_.size()) return false;
      for (size_t i = 0; i < fields_.size(); ++i) {
        const StructField& a = fields_[i];
        const StructField& b = other.fields_[i];
        if (a.name != b.name || a.nullable != b.nullable || !a.type->Equals(*b.type)) return false;
      }
      return true;
    default: return true;
  }
}

const StructField* Schema::FindField(std::string_view name) const {
  for (const StructField& field : fields()) {
    if (field.name == name) return &field;
  }
  for (const StructField& field : fields()) {
    if (EqualsIgnoreCase(field.name, name)) return &field;
  }
  return nullptr;
}

Result<DataTypePtr> ParsePrimitiveTypeName(std::string_view name) {
  for (const auto& entry : kPrimitiveNames) {
    if (entry.name == name) return DataType::Primitive(entry.kind);
  }
  if (name == "decimal") return DataType::Decimal(10, 0);
  if (name.starts_with("decimal(") && name.ends_with(")")) {
    std::string_view inner = name.substr(8, name.size() - 9);
    size_t comma = inner.find(',');
    int precision = 0;
    int scale = 0;
    if (comma != std::string_view::npos && ParseInt(inner.substr(0, comma), precision) &&
        ParseInt(inner.substr(comma + 1), scale) && precision >= 1 && precision <= 38 && scale >= 0 &&
        scale <= precision) {
      return DataType::Decimal(precision, scale);
    }
    return Error(ErrorCode::kCorruptData, "malformed decimal type: {}", name);
  }
  return Error(ErrorCode::kFeatureNotSupported, "unsupported schema type: {}", name);
}

Result<Schema> ParseSchema(std::string_view schema_json) {
  if (!JsonNestingWithin(schema_json)) {  // ParseType and nlohmann's copies recurse per level
    return Error(ErrorCode::kCorruptData, "schemaString nests deeper than {} levels", kMaxJsonDepth);
  }
  json root = json::parse(schema_json.begin(), schema_json.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Error(ErrorCode::kCorruptData, "schemaString is not valid JSON");
  TARN_ASSIGN_OR_RETURN(DataTypePtr type, ParseType(root));
  if (type->kind() != TypeKind::kStruct) {
    return Error(ErrorCode::kCorruptData, "schemaString must describe a struct, got {}", type->ToString());
  }
  return Schema(std::move(type));
}

}  // namespace tarn::delta
