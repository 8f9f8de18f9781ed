// SPDX-License-Identifier: Apache-2.0
// Schema serialisation with nlohmann/json (ordered, so fields come out in Spark's order).
#include "tarn/delta/schema_serializer.hpp"

#include <nlohmann/json.hpp>

namespace tarn::delta {
namespace {

using nlohmann::ordered_json;

ordered_json TypeToJson(const DataType& type);

ordered_json FieldToJson(const StructField& field) {
  ordered_json out;
  out["name"] = field.name;
  out["type"] = TypeToJson(*field.type);
  out["nullable"] = field.nullable;
  ordered_json metadata = ordered_json::parse(field.metadata_json, nullptr, /*allow_exceptions=*/false);
  if (metadata.is_discarded() || !metadata.is_object()) metadata = ordered_json::object();
  out["metadata"] = std::move(metadata);
  return out;
}

ordered_json TypeToJson(const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kStruct: {
      ordered_json out;
      out["type"] = "struct";
      ordered_json fields = ordered_json::array();
      for (const StructField& field : type.fields()) fields.push_back(FieldToJson(field));
      out["fields"] = std::move(fields);
      return out;
    }
    case TypeKind::kArray: {
      ordered_json out;
      out["type"] = "array";
      out["elementType"] = TypeToJson(*type.element_type());
      out["containsNull"] = type.contains_null();
      return out;
    }
    case TypeKind::kMap: {
      ordered_json out;
      out["type"] = "map";
      out["keyType"] = TypeToJson(*type.key_type());
      out["valueType"] = TypeToJson(*type.value_type());
      out["valueContainsNull"] = type.value_contains_null();
      return out;
    }
    default:
      return PrimitiveTypeJsonName(type);
  }
}

}  // namespace

std::string PrimitiveTypeJsonName(const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kString: return "string";
    case TypeKind::kLong: return "long";
    case TypeKind::kInteger: return "integer";
    case TypeKind::kShort: return "short";
    case TypeKind::kByte: return "byte";
    case TypeKind::kFloat: return "float";
    case TypeKind::kDouble: return "double";
    case TypeKind::kBoolean: return "boolean";
    case TypeKind::kBinary: return "binary";
    case TypeKind::kDate: return "date";
    case TypeKind::kTimestamp: return "timestamp";
    case TypeKind::kTimestampNtz: return "timestamp_ntz";
    case TypeKind::kDecimal: return fmt::format("decimal({},{})", type.precision(), type.scale());
    case TypeKind::kVoid: return "void";
    case TypeKind::kVariant: return "variant";
    default: return type.ToString();
  }
}

std::string SerializeSchema(const Schema& schema) {
  return TypeToJson(*schema.type()).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace tarn::delta
