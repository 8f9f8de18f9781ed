// SPDX-License-Identifier: Apache-2.0
// Delta table schemas: our own type tree parsed from metaData.schemaString (Spark's JSON schema format).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"

namespace tarn::delta {

enum class TypeKind {
  kString, kLong, kInteger, kShort, kByte, kFloat, kDouble, kBoolean, kBinary, kDate, kTimestamp, kTimestampNtz,
  kDecimal, kVoid, kVariant, kStruct, kArray, kMap,
};

class DataType;
/// Types are immutable and shared between schemas and snapshots.
using DataTypePtr = std::shared_ptr<const DataType>;

struct StructField {
  std::string name;
  DataTypePtr type;
  bool nullable = true;
  std::string metadata_json = "{}";               // the field's metadata object as JSON text
  std::optional<int64_t> column_mapping_id;       // delta.columnMapping.id
  std::optional<std::string> physical_name;       // delta.columnMapping.physicalName
  /// The name data files use under column mapping (physical_name), else the logical name.
  const std::string& PhysicalName() const { return physical_name ? *physical_name : name; }
};

/// One node of a type tree: a primitive, decimal(p,s), struct, array or map.
class DataType {
 public:
  static DataTypePtr Primitive(TypeKind kind);
  static DataTypePtr Decimal(int precision, int scale);
  static DataTypePtr Struct(std::vector<StructField> fields);
  static DataTypePtr Array(DataTypePtr element, bool contains_null);
  static DataTypePtr Map(DataTypePtr key, DataTypePtr value, bool value_contains_null);

  TypeKind kind() const { return kind_; }
  int precision() const { return precision_; }
  int scale() const { return scale_; }
  const std::vector<StructField>& fields() const { return fields_; }
  const DataTypePtr& element_type() const { return element_; }
  bool contains_null() const { return contains_null_; }
  const DataTypePtr& key_type() const { return key_; }
  const DataTypePtr& value_type() const { return value_; }
  bool value_contains_null() const { return contains_null_; }
  bool is_primitive() const { return kind_ != TypeKind::kStruct && kind_ != TypeKind::kArray && kind_ != TypeKind::kMap; }

  /// Spark SQL spelling: "bigint", "decimal(10,2)", "struct<a:int,b:array<string>>", "map<string,bigint>".
  std::string ToString() const;
  /// Structural equality (names, types, nullability; metadata ignored).
  bool Equals(const DataType& other) const;

 private:
  explicit DataType(TypeKind kind) : kind_(kind) {}
  TypeKind kind_;
  int precision_ = 0;
  int scale_ = 0;
  std::vector<StructField> fields_;
  DataTypePtr element_;
  DataTypePtr key_;
  DataTypePtr value_;
  bool contains_null_ = true;
};

/// A table schema: the top-level struct.
class Schema {
 public:
  Schema() : root_(DataType::Struct({})) {}
  explicit Schema(DataTypePtr root) : root_(std::move(root)) {}
  const std::vector<StructField>& fields() const { return root_->fields(); }
  const DataTypePtr& type() const { return root_; }
  /// Returns the top-level field called `name` (exact match first, then ASCII case-insensitive), or nullptr.
  const StructField* FindField(std::string_view name) const;
  std::string ToString() const { return root_->ToString(); }

 private:
  DataTypePtr root_;
};

/// Parses Spark's JSON schema text. Unknown type names are kFeatureNotSupported naming the type; malformed JSON is
/// kCorruptData.
Result<Schema> ParseSchema(std::string_view schema_json);
/// Parses one Spark primitive type name ("long", "decimal(10,2)", "timestamp_ntz"…).
Result<DataTypePtr> ParsePrimitiveTypeName(std::string_view name);

}  // namespace tarn::delta
