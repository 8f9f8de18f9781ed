// SPDX-License-Identifier: Apache-2.0
// DeltaWriter: COPY ... TO parquet (RETURN_STATS) into Spark's layout, Delta stats, then one optimistic commit.
#include "tarn/engine/delta_writer.hpp"

#include <duckdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/file_statistics.hpp"
#include "tarn/delta/partition_layout.hpp"
#include "tarn/delta/partition_value.hpp"
#include "tarn/delta/schema_serializer.hpp"
#include "tarn/delta/table_maintenance.hpp"
#include "tarn/delta/transaction.hpp"
#include "tarn/delta/uuid.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_scan_plan.hpp"
#include "tarn/engine/delta_table.hpp"
#include "tarn/engine/detail/delta_runtime.hpp"
#include "tarn/engine/detail/impl.hpp"
#include "tarn/engine/sql_quoting.hpp"
#include "tarn/storage/local_object_store.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::engine {

struct DeltaWriter::OpenTable {
  std::string root;  // absolute local path, no trailing '/'
  std::shared_ptr<storage::ObjectStore> store;
  std::unique_ptr<delta::DeltaTable> table;
  DeltaLogIdentity identity;  // the _delta_log directory the cached table state belongs to
};

namespace {

namespace fs = std::filesystem;
using delta::DataType;
using delta::DataTypePtr;
using delta::TypeKind;

constexpr int64_t kDefaultTargetFileSize = 128LL * 1024 * 1024;
constexpr std::string_view kPartitionPrefix = "__tarn_p";

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}


// ---- DuckDB <-> Delta types -------------------------------------------------------------------------------------

Result<DataTypePtr> DeltaTypeOf(const LogicalType& type, std::string_view column) {
  switch (type.id) {
    case TypeId::kBoolean: return DataType::Primitive(TypeKind::kBoolean);
    case TypeId::kTinyInt: return DataType::Primitive(TypeKind::kByte);
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt: return DataType::Primitive(TypeKind::kShort);
    case TypeId::kInteger:
    case TypeId::kUSmallInt: return DataType::Primitive(TypeKind::kInteger);
    case TypeId::kBigInt:
    case TypeId::kUInteger: return DataType::Primitive(TypeKind::kLong);
    case TypeId::kUBigInt: return DataType::Decimal(20, 0);
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt: return DataType::Decimal(38, 0);
    case TypeId::kFloat: return DataType::Primitive(TypeKind::kFloat);
    case TypeId::kDouble: return DataType::Primitive(TypeKind::kDouble);
    case TypeId::kDecimal: return DataType::Decimal(type.decimal_width, type.decimal_scale);
    case TypeId::kVarchar:
    case TypeId::kEnum:
    case TypeId::kUuid: return DataType::Primitive(TypeKind::kString);
    case TypeId::kBlob: return DataType::Primitive(TypeKind::kBinary);
    case TypeId::kDate: return DataType::Primitive(TypeKind::kDate);
    case TypeId::kTimestamp:
    case TypeId::kTimestampS:
    case TypeId::kTimestampMs:
    case TypeId::kTimestampNs: return DataType::Primitive(TypeKind::kTimestampNtz);
    case TypeId::kTimestampTz: return DataType::Primitive(TypeKind::kTimestamp);
    case TypeId::kSqlNull: return DataType::Primitive(TypeKind::kVoid);
    case TypeId::kList:
    case TypeId::kArray: {
      TARN_ASSIGN_OR_RETURN(DataTypePtr element, DeltaTypeOf(type.children.at(0).type, column));
      return DataType::Array(element, true);
    }
    case TypeId::kMap: {
      TARN_ASSIGN_OR_RETURN(DataTypePtr key, DeltaTypeOf(type.children.at(0).type, column));
      TARN_ASSIGN_OR_RETURN(DataTypePtr value, DeltaTypeOf(type.children.at(1).type, column));
      return DataType::Map(key, value, true);
    }
    case TypeId::kStruct: {
      std::vector<delta::StructField> fields;
      for (const ChildType& child : type.children) {
        TARN_ASSIGN_OR_RETURN(DataTypePtr field_type, DeltaTypeOf(child.type, column));
        delta::StructField field;
        field.name = child.name;
        field.type = field_type;
        fields.push_back(std::move(field));
      }
      return DataType::Struct(std::move(fields));
    }
    default:
      return Error(ErrorCode::kSchemaMismatch, "column `{}` has type {}, which Delta tables cannot store", column,
                   type.ToString());
  }
}

// True when a struct occurs anywhere in `type` (its field names then differ under column mapping).
bool ContainsStruct(const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kStruct: return true;
    case TypeKind::kArray: return ContainsStruct(*type.element_type());
    case TypeKind::kMap: return ContainsStruct(*type.key_type()) || ContainsStruct(*type.value_type());
    default: return false;
  }
}

// `expr` (a value with logical struct field names) converted to `type` with struct fields renamed to their physical
// names (column mapping). DuckDB cannot CAST between structs without common field names, so structs are rebuilt
// with struct_pack, lists and maps element by element; other types are CAST.
std::string PhysicalValue(const std::string& expr, const DataType& type, int depth) {
  if (!ContainsStruct(type)) return "CAST(" + expr + " AS " + DuckTypeOf(type) + ")";
  switch (type.kind()) {
    case TypeKind::kStruct: {
      std::string fields;
      for (const delta::StructField& field : type.fields()) {
        std::string member = "struct_extract(" + expr + ", " + QuoteSqlString(field.name) + ")";
        fields += (fields.empty() ? "" : ", ") + QuoteSqlIdentifier(field.PhysicalName()) + " := " +
                  PhysicalValue(member, *field.type, depth);
      }
      return "CASE WHEN (" + expr + ") IS NULL THEN NULL ELSE struct_pack(" + fields + ") END";
    }
    case TypeKind::kArray: {
      std::string var = "__tarn_x" + std::to_string(depth);
      return "list_transform(" + expr + ", lambda " + var + ": " + PhysicalValue(var, *type.element_type(), depth + 1) +
             ")";
    }
    case TypeKind::kMap: {
      std::string var = "__tarn_e" + std::to_string(depth);
      return "map_from_entries(list_transform(map_entries(" + expr + "), lambda " + var + ": {'key': " +
             PhysicalValue("struct_extract(" + var + ", 'key')", *type.key_type(), depth + 1) + ", 'value': " +
             PhysicalValue("struct_extract(" + var + ", 'value')", *type.value_type(), depth + 1) + "}))";
    }
    default: return "CAST(" + expr + " AS " + DuckTypeOf(type) + ")";
  }
}

bool IsNumeric(TypeKind kind) {
  switch (kind) {
    case TypeKind::kByte: case TypeKind::kShort: case TypeKind::kInteger: case TypeKind::kLong:
    case TypeKind::kFloat: case TypeKind::kDouble: case TypeKind::kDecimal: return true;
    default: return false;
  }
}

// True when data of type `from` may be written into a column of type `to` with a cast (Spark's ANSI store
// assignment: numbers into numbers with overflow checks, timestamp flavours into each other, NULL into anything).
bool Assignable(const DataType& from, const DataType& to) {
  if (from.kind() == TypeKind::kVoid) return true;
  if (from.ToString() == to.ToString()) return true;
  if (IsNumeric(from.kind()) && IsNumeric(to.kind())) return true;
  bool from_ts = from.kind() == TypeKind::kTimestamp || from.kind() == TypeKind::kTimestampNtz;
  bool to_ts = to.kind() == TypeKind::kTimestamp || to.kind() == TypeKind::kTimestampNtz;
  if (from_ts && to_ts) return true;
  if (from.kind() == TypeKind::kDate && to_ts) return true;
  if (from.kind() == TypeKind::kArray && to.kind() == TypeKind::kArray) {
    return Assignable(*from.element_type(), *to.element_type());
  }
  if (from.kind() == TypeKind::kMap && to.kind() == TypeKind::kMap) {
    return Assignable(*from.key_type(), *to.key_type()) && Assignable(*from.value_type(), *to.value_type());
  }
  if (from.kind() == TypeKind::kStruct && to.kind() == TypeKind::kStruct) {
    for (const delta::StructField& field : from.fields()) {
      auto it = std::find_if(to.fields().begin(), to.fields().end(),
                             [&](const delta::StructField& f) { return EqualsIgnoreCase(f.name, field.name); });
      if (it == to.fields().end() || !Assignable(*field.type, *it->type)) return false;
    }
    return true;
  }
  return false;
}

// Spark's partition value serialization of `expr` (a column of `type`) as VARCHAR; null for nulls and empty strings.
Result<std::string> PartitionValueExpr(const std::string& expr, const DataType& type, std::string_view column) {
  switch (type.kind()) {
    case TypeKind::kString: return "NULLIF(" + expr + ", '')";
    case TypeKind::kTimestampNtz: return "strftime(" + expr + ", '%Y-%m-%d %H:%M:%S.%f')";
    case TypeKind::kTimestamp: return "strftime(" + expr + ", '%Y-%m-%dT%H:%M:%S.%fZ')";
    case TypeKind::kByte: case TypeKind::kShort: case TypeKind::kInteger: case TypeKind::kLong:
    case TypeKind::kFloat: case TypeKind::kDouble: case TypeKind::kDecimal: case TypeKind::kBoolean:
    case TypeKind::kDate: return "CAST(" + expr + " AS VARCHAR)";
    default:
      return Error(ErrorCode::kInvalidParameterValue, "cannot partition by column `{}` of type {}", column,
                   type.ToString());
  }
}

// ---- sessions -----------------------------------------------------------------------------------------------------

Status RunToEnd(Session& session, std::string_view sql) {
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<ResultStream> stream, session.Execute(sql));
  while (true) {
    TARN_ASSIGN_OR_RETURN(std::unique_ptr<Chunk> chunk, stream->Next());
    if (!chunk) break;
  }
  return Status::OK();
}

Result<std::vector<std::unique_ptr<Chunk>>> QueryChunks(Session& session, std::string_view sql) {
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<ResultStream> stream, session.Execute(sql));
  std::vector<std::unique_ptr<Chunk>> out;
  while (true) {
    TARN_ASSIGN_OR_RETURN(std::unique_ptr<Chunk> chunk, stream->Next());
    if (!chunk) break;
    out.push_back(std::move(chunk));
  }
  return out;
}

Result<std::vector<Column>> DescribeQuery(Session& session, std::string_view query) {
  TARN_ASSIGN_OR_RETURN(auto prepared, session.Prepare("SELECT * FROM (" + std::string(query) + ") AS __tarn_q"));
  return prepared->columns();
}

// Raw access to MAP(VARCHAR, X) values of a result chunk (the COPY RETURN_STATS columns).
std::string_view StringAt(duckdb_vector vector, idx_t row) {
  auto* data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
  return std::string_view(duckdb_string_t_data(&data[row]), duckdb_string_t_length(data[row]));
}
bool ValidAt(duckdb_vector vector, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vector);
  return validity == nullptr || duckdb_validity_row_is_valid(validity, row);
}
// Calls `on_entry(key, value_vector, value_row)` for each entry of the map at `row`.
template <typename F>
void ForEachMapEntry(duckdb_vector map, idx_t row, F&& on_entry) {
  if (!ValidAt(map, row)) return;
  auto* entries = static_cast<duckdb_list_entry*>(duckdb_vector_get_data(map));
  duckdb_vector child = duckdb_list_vector_get_child(map);
  duckdb_vector keys = duckdb_struct_vector_get_child(child, 0);
  duckdb_vector values = duckdb_struct_vector_get_child(child, 1);
  for (idx_t i = entries[row].offset; i < entries[row].offset + entries[row].length; i++) {
    on_entry(StringAt(keys, i), values, i);
  }
}

// ---- statistics -------------------------------------------------------------------------------------------------

// Splits DuckDB's stats key '"a"."b"' into {"a", "b"}.
std::vector<std::string> SplitQuotedPath(std::string_view key) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < key.size()) {
    if (key[i] == '"') {
      std::string part;
      i++;
      while (i < key.size()) {
        if (key[i] == '"') {
          if (i + 1 < key.size() && key[i + 1] == '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += key[i++];
      }
      parts.push_back(std::move(part));
    } else {
      size_t end = key.find('.', i);
      parts.emplace_back(key.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
      i = end == std::string_view::npos ? key.size() : end;
    }
    if (i < key.size() && key[i] == '.') i++;
  }
  return parts;
}

delta::StatsValue ToStatsValue(std::string_view text, const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kByte: case TypeKind::kShort: case TypeKind::kInteger: case TypeKind::kLong: {
      errno = 0;
      std::string copy(text);
      char* end = nullptr;
      long long value = std::strtoll(copy.c_str(), &end, 10);
      if (errno != 0 || end == copy.c_str() || *end != '\0') return std::monostate{};
      return static_cast<int64_t>(value);
    }
    case TypeKind::kFloat: case TypeKind::kDouble: {
      std::string copy(text);
      char* end = nullptr;
      double value = std::strtod(copy.c_str(), &end);
      if (end == copy.c_str() || *end != '\0') return std::monostate{};
      return value;
    }
    case TypeKind::kDecimal:
    case TypeKind::kString: return std::string(text);
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz: {
      std::string copy(text);
      if (copy.ends_with("+00")) copy.resize(copy.size() - 3);
      // Keep the NTZ type alive for the call (a reference to *Primitive(...) dangled once the temporary died).
      DataTypePtr ntz = type.kind() == TypeKind::kTimestamp ? DataType::Primitive(TypeKind::kTimestampNtz) : nullptr;
      auto parsed = delta::ParsePartitionValue(copy, ntz ? *ntz : type);
      if (!parsed.has_value() || parsed->is_null) return std::monostate{};
      return parsed->int_value;
    }
    default: return std::monostate{};
  }
}

// Finds the logical path and type of a physical stats path; false when it names no stats-eligible leaf.
bool ResolveStatsPath(const delta::Schema& schema, const std::vector<std::string>& physical,
                      std::vector<std::string>& logical, const DataType*& leaf) {
  const std::vector<delta::StructField>* fields = &schema.fields();
  logical.clear();
  for (size_t i = 0; i < physical.size(); i++) {
    const delta::StructField* found = nullptr;
    for (const delta::StructField& field : *fields) {
      if (field.PhysicalName() == physical[i]) found = &field;
    }
    if (found == nullptr) return false;
    logical.push_back(found->name);
    if (i + 1 == physical.size()) {
      leaf = found->type.get();
      return leaf->is_primitive();
    }
    if (found->type->kind() != TypeKind::kStruct) return false;
    fields = &found->type->fields();
  }
  return false;
}

// ---- data files ---------------------------------------------------------------------------------------------------

/// What WriteDataFiles produced.
struct WrittenFiles {
  std::vector<delta::AddAction> adds;
  int64_t num_rows = 0;
  int64_t num_bytes = 0;
};

// Removes a directory tree on destruction (the staging directory of one write).
class ScopedDirectory {
 public:
  explicit ScopedDirectory(std::string path) : path_(std::move(path)) {}
  ~ScopedDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScopedDirectory(const ScopedDirectory&) = delete;
  ScopedDirectory& operator=(const ScopedDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct WriteTarget {
  const std::string& root;
  const delta::Schema& schema;  // the table schema being written (logical names, physical names set when mapped)
  const std::vector<std::string>& partition_columns;
  const std::map<std::string, std::string>& configuration;
  int64_t target_file_size = 0;
  bool column_mapping = false;
};

Result<int64_t> TargetFileSize(const WriteTarget& target) {
  if (target.target_file_size > 0) return target.target_file_size;
  auto it = target.configuration.find("delta.targetFileSize");
  if (it == target.configuration.end()) return kDefaultTargetFileSize;
  char* end = nullptr;
  long long value = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end != '\0' || value <= 0) {
    return Error(ErrorCode::kInvalidParameterValue, "invalid delta.targetFileSize: {}", it->second);
  }
  return static_cast<int64_t>(value);
}

std::string FieldIdEntry(const delta::StructField& field);

// FIELD_IDS entries of the fields nested in `type` ("" when none carries an id).
std::string NestedFieldIds(const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kStruct: {
      std::string out;
      for (const delta::StructField& field : type.fields()) {
        std::string entry = FieldIdEntry(field);
        if (!entry.empty()) out += (out.empty() ? "" : ", ") + QuoteSqlIdentifier(field.PhysicalName()) + ": " + entry;
      }
      return out;
    }
    case TypeKind::kArray: {
      std::string element = NestedFieldIds(*type.element_type());
      return element.empty() ? "" : "element: {" + element + "}";
    }
    case TypeKind::kMap: {
      std::string key = NestedFieldIds(*type.key_type());
      std::string value = NestedFieldIds(*type.value_type());
      std::string out = key.empty() ? "" : "key: {" + key + "}";
      if (!value.empty()) out += (out.empty() ? "" : ", ") + ("value: {" + value + "}");
      return out;
    }
    default: return "";
  }
}

// The FIELD_IDS value of one field: its delta.columnMapping.id, with the ids of nested fields when it has any.
std::string FieldIdEntry(const delta::StructField& field) {
  std::string nested = NestedFieldIds(*field.type);
  std::string id = field.column_mapping_id ? std::to_string(*field.column_mapping_id) : "";
  if (nested.empty()) return id;
  return "{" + (id.empty() ? std::string() : "__duckdb_field_id: " + id + ", ") + nested + "}";
}

// Options of every data-file COPY (Spark-like names; the uuid keeps concurrent writers apart).
constexpr std::string_view kCopyOptions =
    "FORMAT parquet, COMPRESSION snappy, RETURN_STATS true, FILENAME_PATTERN 'part-00000-{uuid}.c000.snappy'";

/// One file a COPY ... RETURN_STATS wrote: staged path, rows, bytes, partition values and column statistics.
struct StagedFile {
  std::string path;
  int64_t count = 0;
  int64_t size = 0;
  std::vector<delta::MapEntry> partition_values;  // keyed by partition_keys, in partition column order
  std::vector<delta::ColumnStatistics> stats;
};

// Turns the RETURN_STATS rows of a COPY into StagedFiles (empty files are deleted and skipped). Partition values are
// read from the `__tarn_p<i>` keys of the partition_keys column.
Result<std::vector<StagedFile>> ReadCopyStats(const std::vector<std::unique_ptr<Chunk>>& chunks,
                                              const WriteTarget& target,
                                              const std::vector<std::string>& partition_keys) {
  std::vector<StagedFile> out;
  for (const auto& chunk : chunks) {
    const Chunk::Impl& impl = chunk->impl();
    // filename, count, file_size_bytes, footer_size_bytes, column_statistics, partition_keys
    if (impl.vectors.size() < 6) return Error(ErrorCode::kInternal, "unexpected COPY RETURN_STATS result");
    for (size_t row = 0; row < chunk->num_rows(); row++) {
      StagedFile file;
      file.path = std::string(chunk->GetString(0, row));
      file.count = chunk->GetInt64(1, row);
      file.size = chunk->GetInt64(2, row);
      if (file.count == 0) {
        std::remove(file.path.c_str());
        continue;
      }
      std::vector<delta::MapEntry>& values = file.partition_values;
      values.resize(partition_keys.size());
      for (size_t i = 0; i < values.size(); i++) values[i].key = partition_keys[i];
      ForEachMapEntry(impl.vectors[5], row, [&](std::string_view key, duckdb_vector value, idx_t index) {
        if (!key.starts_with(kPartitionPrefix)) return;
        size_t i = std::strtoull(std::string(key.substr(kPartitionPrefix.size())).c_str(), nullptr, 10);
        if (i < values.size() && ValidAt(value, index)) values[i].value = std::string(StringAt(value, index));
      });
      ForEachMapEntry(impl.vectors[4], row, [&](std::string_view key, duckdb_vector value, idx_t index) {
        std::vector<std::string> logical;
        const DataType* leaf = nullptr;
        if (!ResolveStatsPath(target.schema, SplitQuotedPath(key), logical, leaf)) return;
        delta::ColumnStatistics column;
        column.path = std::move(logical);
        bool has_nan = false;
        bool has_null_count = false;
        std::string min_text, max_text;
        bool has_min = false, has_max = false;
        ForEachMapEntry(value, index, [&](std::string_view name, duckdb_vector v, idx_t i) {
          if (!ValidAt(v, i)) return;
          std::string_view text = StringAt(v, i);
          if (name == "min") { min_text = text; has_min = true; }
          else if (name == "max") { max_text = text; has_max = true; }
          else if (name == "null_count") {
            column.null_count = std::strtoll(std::string(text).c_str(), nullptr, 10);
            has_null_count = true;
          } else if (name == "has_nan") has_nan = text == "true";
        });
        if (!has_null_count) return;  // no statistics for this column
        if (!has_nan) {
          if (has_min) column.min = ToStatsValue(min_text, *leaf);
          if (has_max) column.max = ToStatsValue(max_text, *leaf);
        }
        file.stats.push_back(std::move(column));
      });
      out.push_back(std::move(file));
    }
  }
  return out;
}

// Writes the rows of `rows_sql` (a query whose columns carry the table's logical column names and types, any order,
// missing columns allowed) as data files of `target`: Parquet with physical column names, partition columns as
// Spark-escaped directories (not stored in the files), Spark-like names, per-file Delta stats.
Result<WrittenFiles> WriteDataFiles(Session& session, const WriteTarget& target, const std::string& rows_sql,
                                    const std::vector<std::string>& present_columns,
                                    std::string_view order_by = {}) {
  std::string select;
  auto append = [&select](const std::string& expr) { select += (select.empty() ? "" : ", ") + expr; };
  std::vector<std::string> partition_exprs;
  for (const std::string& partition : target.partition_columns) {
    const delta::StructField* field = target.schema.FindField(partition);
    if (field == nullptr) {
      return Error(ErrorCode::kInvalidParameterValue, "partition column `{}` is not in the schema", partition);
    }
    bool present = std::find(present_columns.begin(), present_columns.end(), field->name) != present_columns.end();
    std::string value = present ? "__tarn_rows." + QuoteSqlIdentifier(field->name) : "NULL";
    std::string typed = "CAST(" + value + " AS " + DuckTypeOf(*field->type) + ")";
    TARN_ASSIGN_OR_RETURN(std::string expr, PartitionValueExpr(typed, *field->type, field->name));
    partition_exprs.push_back(std::string(kPartitionPrefix) + std::to_string(partition_exprs.size()));
    append(expr + " AS " + partition_exprs.back());
  }
  for (const delta::StructField& field : target.schema.fields()) {
    if (std::find(target.partition_columns.begin(), target.partition_columns.end(), field.name) !=
        target.partition_columns.end()) {
      continue;
    }
    bool present = std::find(present_columns.begin(), present_columns.end(), field.name) != present_columns.end();
    std::string value = present ? "__tarn_rows." + QuoteSqlIdentifier(field.name) : "NULL";
    std::string converted = target.column_mapping ? PhysicalValue(value, *field.type, 0)
                                                  : "CAST(" + value + " AS " + DuckTypeOf(*field.type) + ")";
    append(converted + " AS " + QuoteSqlIdentifier(field.PhysicalName()));
  }
  TARN_ASSIGN_OR_RETURN(int64_t file_size, TargetFileSize(target));
  // Column mapping in id mode: Parquet field ids carry delta.columnMapping.id (readers such as Spark match by id).
  std::string copy_options(kCopyOptions);
  auto mode = target.configuration.find("delta.columnMapping.mode");
  if (mode != target.configuration.end() && mode->second == "id") {
    std::string ids;
    for (const delta::StructField& field : target.schema.fields()) {
      if (std::find(target.partition_columns.begin(), target.partition_columns.end(), field.name) !=
          target.partition_columns.end()) {
        continue;
      }
      std::string entry = FieldIdEntry(field);
      if (!entry.empty()) ids += (ids.empty() ? "" : ", ") + QuoteSqlIdentifier(field.PhysicalName()) + ": " + entry;
    }
    if (!ids.empty()) copy_options += ", FIELD_IDS {" + ids + "}";
  }
  std::string staging = target.root + "/.tarn-staging-" + delta::NewUuid();
  ScopedDirectory staging_dir(staging);
  std::string sql = "COPY (SELECT " + select + " FROM (" + rows_sql + ") AS __tarn_rows";
  if (!order_by.empty()) sql += " ORDER BY " + std::string(order_by);
  sql += ") TO " + QuoteSqlString(staging) + " (" + copy_options;
  // DuckDB 1.4 cannot combine FILE_SIZE_BYTES with PARTITION_BY: partitioned writes get one file per partition (and
  // writer thread) here, and files over the target size are split by a second COPY below.
  if (partition_exprs.empty()) sql += ", FILE_SIZE_BYTES " + std::to_string(file_size);
  if (!partition_exprs.empty()) {
    sql += ", PARTITION_BY (";
    for (size_t i = 0; i < partition_exprs.size(); i++) sql += (i ? ", " : "") + partition_exprs[i];
    sql += ")";
  }
  sql += ")";
  TARN_ASSIGN_OR_RETURN(auto chunks, QueryChunks(session, sql));

  // partitionValues keys: physical names under column mapping (PROTOCOL.md "Column Mapping").
  std::vector<std::string> partition_keys;
  for (const std::string& partition : target.partition_columns) {
    partition_keys.push_back(delta::PartitionValueKey(target.configuration, target.schema, partition));
  }
  TARN_ASSIGN_OR_RETURN(std::vector<StagedFile> staged, ReadCopyStats(chunks, target, partition_keys));
  if (!partition_exprs.empty()) {
    // Second pass for partition files over the target size. Each is cut into pieces of N consecutive rows, N from
    // its mean row width (so pieces come out at about the target size), in one COPY partitioned by
    // file_row_number // N; the pieces inherit the partition values. Consecutive rows keep a Z-ordered OPTIMIZE's
    // clustering. A data column named file_row_number (it would clash) falls back to FILE_SIZE_BYTES (pieces of the
    // target plus at most a row group or two).
    bool row_number_clash = false;
    for (const delta::StructField& field : target.schema.fields()) {
      if (EqualsIgnoreCase(field.PhysicalName(), "file_row_number")) row_number_clash = true;
    }
    std::vector<StagedFile> split;
    for (size_t i = 0; i < staged.size(); i++) {
      StagedFile& file = staged[i];
      if (file.size <= file_size || file.count < 2) {
        split.push_back(std::move(file));
        continue;
      }
      std::string pieces_dir = staging + "/split-" + std::to_string(i);
      std::string copy;
      if (row_number_clash) {
        copy = "COPY (SELECT * FROM read_parquet(" + QuoteSqlString(file.path) + ")) TO " +
               QuoteSqlString(pieces_dir) + " (" + copy_options + ", FILE_SIZE_BYTES " + std::to_string(file_size) +
               ")";
      } else {
        int64_t rows_per_piece = std::max<int64_t>(
            1, static_cast<int64_t>(static_cast<double>(file.count) * static_cast<double>(file_size) /
                                    static_cast<double>(file.size)));
        copy = "COPY (SELECT * EXCLUDE (file_row_number), file_row_number // " + std::to_string(rows_per_piece) +
               " AS __tarn_split FROM read_parquet(" + QuoteSqlString(file.path) + ", file_row_number = true)) TO " +
               QuoteSqlString(pieces_dir) + " (" + copy_options + ", PARTITION_BY (__tarn_split))";
      }
      TARN_ASSIGN_OR_RETURN(auto piece_chunks, QueryChunks(session, copy));
      TARN_ASSIGN_OR_RETURN(std::vector<StagedFile> pieces, ReadCopyStats(piece_chunks, target, {}));
      std::remove(file.path.c_str());
      for (StagedFile& piece : pieces) {
        piece.partition_values = file.partition_values;
        split.push_back(std::move(piece));
      }
    }
    staged = std::move(split);
  }

  TARN_ASSIGN_OR_RETURN(delta::StatsOptions stats_options,
                        delta::StatsOptionsFromConfiguration(target.configuration));
  stats_options.partition_columns = target.partition_columns;
  stats_options.use_physical_names = target.column_mapping;
  int64_t now = NowMillis();
  WrittenFiles out;
  for (StagedFile& file : staged) {
    TARN_ASSIGN_OR_RETURN(std::string stats_json,
                          delta::BuildStatsJson(target.schema, file.count, file.stats, stats_options));
    TARN_ASSIGN_OR_RETURN(std::string directory, delta::PartitionDirectory(partition_keys, file.partition_values));
    std::string name = file.path.substr(file.path.rfind('/') + 1);
    std::string relative = directory + name;
    std::string final_path = target.root + "/" + relative;
    std::error_code ec;
    if (!directory.empty()) fs::create_directories(target.root + "/" + directory, ec);
    if (ec) return Error(ErrorCode::kIoError, "cannot create directory {}: {}", directory, ec.message());
    if (::rename(file.path.c_str(), final_path.c_str()) != 0) {
      return Error(ErrorCode::kIoError, "cannot move data file to {}: {}", final_path, std::strerror(errno));
    }
    delta::AddAction add;
    add.path = delta::EncodeAddPath(relative);
    add.partition_values = std::move(file.partition_values);
    add.size = file.size;
    add.modification_time = now;
    add.data_change = true;
    add.stats = std::move(stats_json);
    out.num_rows += file.count;
    out.num_bytes += file.size;
    out.adds.push_back(std::move(add));
  }
  return out;
}

// ---- table scans for copy-on-write ----------------------------------------------------------------------------------

/// A scan of a pinned snapshot exposing each row's file (__tarn_file, index into `files`) and row number.
struct TargetScan {
  std::string sql;  // logical columns + __tarn_file + __tarn_row; deletion-vector rows removed
  std::vector<const delta::FileEntry*> files;  // by __tarn_file
  std::shared_ptr<const DeltaScanPlan> plan;
};

Result<TargetScan> BuildTargetScan(Session& session, const DeltaWriter::OpenTable& table,
                                   const delta::SnapshotPtr& snapshot) {
  DeltaTable pinned{table.root, table.store, snapshot};
  TargetScan out;
  TARN_ASSIGN_OR_RETURN(out.plan, DeltaScanPlan::ForSnapshot(pinned, {}));
  std::vector<Column> physical;
  std::string physical_sql = out.plan->PhysicalSchemaSql();
  if (!physical_sql.empty()) {
    TARN_ASSIGN_OR_RETURN(auto prepared, session.Prepare(physical_sql));
    physical = prepared->columns();
  }
  std::vector<size_t> all(out.plan->columns().size());
  for (size_t i = 0; i < all.size(); i++) all[i] = i;
  std::string sql = out.plan->BuildSql(all, physical, /*with_row_ids=*/true);
  if (out.plan->files().empty()) {
    // No files: BuildSql yields no row-id columns.
    std::string columns;
    for (const ScanColumn& column : out.plan->columns()) {
      columns += (columns.empty() ? "" : ", ") +
                 ("CAST(NULL AS " + column.sql_type + ") AS " + QuoteSqlIdentifier(column.name));
    }
    out.sql = "SELECT " + (columns.empty() ? std::string() : columns + ", ") +
              "CAST(NULL AS BIGINT) AS __tarn_file, CAST(NULL AS BIGINT) AS __tarn_row WHERE false";
  } else if (out.plan->NeedsRowFilter()) {
    out.sql = "SELECT __tarn_scan.* FROM (" + sql + ") AS __tarn_scan ANTI JOIN __tarn_deleted_rows(" +
              QuoteSqlString(table.root) + ", " + QuoteSqlString(EncodeDeletionVectors(*out.plan)) +
              ") AS __tarn_deleted USING (__tarn_file, __tarn_row)";
  } else {
    out.sql = sql;
  }
  // Map plan files (absolute paths) back to snapshot entries.
  std::map<std::string, const delta::FileEntry*> by_path;
  for (const delta::FileEntry& file : snapshot->active_files()) {
    std::string path(file.path);
    if (!path.starts_with("/")) path = table.root + "/" + path;
    by_path[path] = &file;
  }
  for (const ScanFile& file : out.plan->files()) {
    auto it = by_path.find(file.path);
    if (it == by_path.end()) {
      return Error(ErrorCode::kInternal, "scan file {} is not in the snapshot of {}", file.path, table.root);
    }
    out.files.push_back(it->second);
  }
  return out;
}

std::vector<std::string> ColumnNames(const delta::Schema& schema) {
  std::vector<std::string> names;
  for (const delta::StructField& field : schema.fields()) names.push_back(field.name);
  return names;
}

std::string JsonString(const std::vector<std::string>& values) { return nlohmann::json(values).dump(); }

Status ApplyAppTransaction(delta::OptimisticTransaction& txn, const DeltaWriteOptions& options) {
  if (options.app_id.has_value() != options.app_version.has_value()) {
    return Error(ErrorCode::kInvalidParameterValue, "an idempotent write needs both an app id and a version");
  }
  if (options.app_id) txn.SetAppTransaction(*options.app_id, *options.app_version);
  return Status::OK();
}

// True when the idempotent write (app_id, app_version) was already committed at the transaction's read version.
bool AlreadyApplied(delta::OptimisticTransaction& txn, const DeltaWriteOptions& options) {
  if (!options.app_id || !options.app_version) return false;
  auto version = txn.ReadAppTransactionVersion(*options.app_id);
  return version && *version >= *options.app_version;
}

DeltaWriteResult ResultOf(const delta::CommitResult& commit, const delta::OptimisticTransaction& txn,
                          std::map<std::string, std::string> metrics) {
  DeltaWriteResult result;
  result.version = commit.version;
  result.skipped = commit.skipped;
  result.operation_metrics = std::move(metrics);
  for (const delta::AddAction& add : txn.adds()) {
    result.num_added_files++;
    result.num_output_bytes += add.size;
  }
  result.num_removed_files = static_cast<int64_t>(txn.removes().size());
  return result;
}

int64_t RecordCount(const delta::FileEntry& file) {
  if (file.stats.empty()) return -1;
  auto parsed = nlohmann::json::parse(file.stats, nullptr, false);
  if (parsed.is_discarded() || !parsed.contains("numRecords") || !parsed["numRecords"].is_number_integer()) return -1;
  int64_t count = parsed["numRecords"].get<int64_t>();
  if (file.deletion_vector != nullptr) count -= file.deletion_vector->cardinality;
  return count;
}

}  // namespace

// ---- DeltaWriter ---------------------------------------------------------------------------------------------------

// An idempotent write that was already applied, or an OPTIMIZE with nothing to do: nothing is committed.
static DeltaWriteResult SkippedWrite(int64_t read_version) {
  DeltaWriteResult result;
  result.version = read_version;
  result.skipped = true;
  return result;
}

DeltaWriter::DeltaWriter(Database& database)
    : database_(database),
      checkpoint_reader_(database),
      checkpoint_writer_(database),
      checkpointer_(checkpoint_writer_) {}

DeltaWriter::~DeltaWriter() = default;

Result<std::shared_ptr<DeltaWriter::OpenTable>> DeltaWriter::Open(std::string_view location, bool create) {
  TARN_ASSIGN_OR_RETURN(std::string root, ResolveTableLocation(location, database_.options().dbfs_root));
  std::lock_guard lock(mu_);
  if (!create && !fs::is_directory(root + "/_delta_log")) {
    tables_.erase(root);  // dropped: a table created here later must not see the old one's cached snapshot
    return Error(ErrorCode::kTableNotFound, "Delta table not found: {}", root);
  }
  if (create) tables_.erase(root);  // CREATE starts from the directory as it is now
  auto it = tables_.find(root);
  if (it != tables_.end()) {
    // A table dropped and created again at this path (by this process or another) is a new log: never commit on
    // top of the old one's state.
    if (it->second->identity == IdentifyDeltaLog(root)) return it->second;
    tables_.erase(it);
  }
  auto store = storage::LocalObjectStore::Create(root, /*create_root=*/create);
  if (!store.has_value()) return store.status().WithContext("opening Delta table {}", root);
  auto table = std::make_shared<OpenTable>();
  table->root = root;
  table->store = std::shared_ptr<storage::ObjectStore>(std::move(store).value());
  delta::TableOptions options;
  options.checkpoint_reader = &checkpoint_reader_;
  options.checkpoint_writer = &checkpoint_writer_;  // used only for stores the checkpointer declines (none here)
  options.post_commit_scheduler = &checkpointer_;
  options.table_name = root;
  table->table = std::make_unique<delta::DeltaTable>(*table->store, "", options);
  table->identity = IdentifyDeltaLog(root);
  tables_[root] = table;
  return table;
}

namespace {

// True when the table properties turn column mapping on (delta.columnMapping.mode name or id).
bool UsesColumnMapping(const std::map<std::string, std::string>& configuration) {
  auto mode = configuration.find("delta.columnMapping.mode");
  return mode != configuration.end() && mode->second != "none";
}

// Resolves the source columns against the table schema: the data schema to enforce (table types for existing
// columns, converted types for new ones) and the rows query with columns renamed to the table's names.
struct SourceMapping {
  delta::Schema data_schema;
  std::string rows_sql;
  std::vector<std::string> present;  // table (or new) column names the rows query provides
};

Result<SourceMapping> MapSource(const std::vector<Column>& columns, const delta::Schema& table_schema,
                                const std::string& source_query, bool cast_to_table_types) {
  SourceMapping out;
  std::vector<delta::StructField> fields;
  std::string select;
  std::set<std::string> seen;
  for (const Column& column : columns) {
    std::string lower = column.name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!seen.insert(lower).second) {
      return Error(ErrorCode::kSchemaMismatch, "schema mismatch: column `{}` appears twice in the data", column.name);
    }
    TARN_ASSIGN_OR_RETURN(DataTypePtr type, DeltaTypeOf(column.type, column.name));
    const delta::StructField* existing = table_schema.FindField(column.name);
    delta::StructField field;
    std::string value = "__tarn_source." + QuoteSqlIdentifier(column.name);
    if (existing != nullptr) {
      // VALUES literals: a primitive goes into a STRING column, and DuckDB types a NULL literal as INTEGER.
      bool literal_fits = cast_to_table_types && (existing->type->kind() == TypeKind::kString ||
                                                  type->kind() == TypeKind::kInteger);
      if (literal_fits && !Assignable(*type, *existing->type)) {
        value = "CAST(" + value + " AS " + DuckTypeOf(*existing->type) + ")";
      } else if (!Assignable(*type, *existing->type)) {
        return Error(ErrorCode::kSchemaMismatch,
                     "schema mismatch: column `{}` has type {} in the table but {} in the data", existing->name,
                     existing->type->ToString(), type->ToString());
      }
      field = *existing;
      field.nullable = true;  // the data may be nullable; NOT NULL is checked on the values
    } else {
      if (type->kind() == TypeKind::kVoid) type = DataType::Primitive(TypeKind::kString);
      field.name = column.name;
      field.type = type;
    }
    select += (select.empty() ? "" : ", ") + (value + " AS " + QuoteSqlIdentifier(field.name));
    out.present.push_back(field.name);
    fields.push_back(std::move(field));
  }
  out.data_schema = delta::Schema(DataType::Struct(std::move(fields)));
  out.rows_sql = "SELECT " + (select.empty() ? std::string("NULL AS __tarn_none") : select) + " FROM (" +
                 source_query + ") AS __tarn_source";
  return out;
}

// Wraps `rows_sql` so that NOT NULL columns of `schema` fail the query (kConstraintViolation) on a null.
std::string CheckNotNull(const std::string& rows_sql, const delta::Schema& schema,
                         const std::vector<std::string>& present) {
  std::string checks;
  for (const delta::StructField& field : schema.fields()) {
    if (field.nullable) continue;
    if (std::find(present.begin(), present.end(), field.name) == present.end()) continue;
    checks += (checks.empty() ? "" : " AND ") +
              ("(CASE WHEN " + QuoteSqlIdentifier(field.name) + " IS NULL THEN error(" +
               QuoteSqlString("NOT NULL constraint violated: column `" + field.name + "` is null [kConstraintViolation]") +
               ") ELSE true END)");
  }
  if (checks.empty()) return rows_sql;
  return "SELECT * FROM (" + rows_sql + ") AS __tarn_checked WHERE " + checks;
}

Status MapErrorTag(Status status) {
  // DuckDB's error() message carries our tag; give it the constraint code.
  if (status.message().find("[kConstraintViolation]") != std::string::npos) {
    std::string message = status.message();
    size_t tag = message.find(" [kConstraintViolation]");
    message.erase(tag, std::strlen(" [kConstraintViolation]"));
    return Error(ErrorCode::kConstraintViolation, "{}", message);
  }
  return status;
}

}  // namespace

Result<DeltaWriteResult> DeltaWriter::CreateTable(std::string_view location, const DeltaCreateTable& request,
                                                  const DeltaWriteOptions& options) {
  TARN_ASSIGN_OR_RETURN(std::string root, ResolveTableLocation(location, database_.options().dbfs_root));
  if (fs::is_directory(root + "/_delta_log") && !fs::is_empty(root + "/_delta_log")) {
    if (request.if_not_exists) {
      TARN_ASSIGN_OR_RETURN(auto table, Open(root, false));
      TARN_ASSIGN_OR_RETURN(auto snapshot, table->table->Latest());
      DeltaWriteResult result;
      result.version = snapshot->version();
      result.skipped = true;
      return result;
    }
    return Error(ErrorCode::kResourceAlreadyExists, "Delta table already exists: {}", root);
  }
  if (!request.columns.empty() && !request.source_query.empty()) {
    return Error(ErrorCode::kInvalidParameterValue, "CREATE TABLE AS SELECT takes its columns from the query");
  }
  std::unique_ptr<Session> owned_session;
  Session* session = options.session;
  if (session == nullptr) {
    TARN_ASSIGN_OR_RETURN(owned_session, database_.Connect());
    session = owned_session.get();
  }
  // The schema: from the column list or the query.
  std::vector<Column> columns;
  if (!request.source_query.empty()) {
    TARN_ASSIGN_OR_RETURN(columns, DescribeQuery(*session, request.source_query));
  } else {
    for (const auto& [name, type_text] : request.columns) {
      std::string type = type_text;
      std::string upper = type;
      std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
      // Spark's TIMESTAMP has a time zone (DuckDB's does not); STRING/LONG etc. are DuckDB aliases or mapped here.
      if (upper == "TIMESTAMP" || upper == "TIMESTAMP_LTZ") type = "TIMESTAMPTZ";
      else if (upper == "TIMESTAMP_NTZ") type = "TIMESTAMP";
      else if (upper == "LONG") type = "BIGINT";
      else if (upper == "SHORT") type = "SMALLINT";
      else if (upper == "BYTE") type = "TINYINT";
      else if (upper == "BINARY") type = "BLOB";
      auto prepared = session->Prepare("SELECT CAST(NULL AS " + type + ") AS " + QuoteSqlIdentifier(name));
      if (!prepared.has_value()) {
        return Error(ErrorCode::kInvalidParameterValue, "column `{}`: unknown type {}", name, type_text);
      }
      columns.push_back((*prepared)->columns().at(0));
    }
  }
  std::vector<delta::StructField> fields;
  for (const Column& column : columns) {
    TARN_ASSIGN_OR_RETURN(DataTypePtr type, DeltaTypeOf(column.type, column.name));
    if (type->kind() == TypeKind::kVoid) type = DataType::Primitive(TypeKind::kString);
    delta::StructField field;
    field.name = column.name;
    field.type = type;
    for (const std::string& name : request.not_null_columns) {
      if (EqualsIgnoreCase(name, column.name)) field.nullable = false;
    }
    fields.push_back(std::move(field));
  }
  delta::CreateTableRequest create;
  create.schema = delta::Schema(DataType::Struct(std::move(fields)));
  create.partition_columns = request.partition_columns;
  for (std::string& partition : create.partition_columns) {
    const delta::StructField* field = create.schema.FindField(partition);
    if (field == nullptr) {
      return Error(ErrorCode::kInvalidParameterValue, "partition column `{}` is not a column of the table",
                   partition);
    }
    partition = field->name;
  }
  create.configuration = request.properties;
  create.name = request.name;
  create.description = request.comment;
  bool column_mapping = UsesColumnMapping(request.properties);
  // Column mapping: physical names and ids are assigned before any data is written, so CTAS writes its files with
  // them and commits protocol, metadata and adds as version 0 (as Spark does).
  TARN_ASSIGN_OR_RETURN(create.schema, delta::ApplyColumnMapping(create.schema, create.configuration));

  TARN_ASSIGN_OR_RETURN(auto table, Open(root, true));
  if (request.source_query.empty()) {
    auto created = table->table->Create(create);
    if (!created.has_value()) return created.status();
    DeltaWriteResult result;
    result.version = created->version;
    return result;
  }
  std::vector<std::string> present;
  for (const delta::StructField& field : create.schema.fields()) present.push_back(field.name);
  std::string rows_sql = "SELECT * FROM (" + request.source_query + ") AS __tarn_source";
  WriteTarget target{root, create.schema, create.partition_columns, create.configuration, options.target_file_size,
                     column_mapping};
  auto written = WriteDataFiles(*session, target, CheckNotNull(rows_sql, create.schema, present), present);
  if (!written.has_value()) return MapErrorTag(written.status());
  create.initial_files = written->adds;
  auto created = table->table->Create(create);
  if (!created.has_value()) return created.status();
  DeltaWriteResult result;
  result.version = created->version;
  result.num_added_files = static_cast<int64_t>(written->adds.size());
  result.num_output_rows = written->num_rows;
  result.num_inserted_rows = written->num_rows;
  result.num_output_bytes = written->num_bytes;
  result.operation_metrics = {{"numFiles", std::to_string(written->adds.size())},
                              {"numOutputRows", std::to_string(written->num_rows)},
                              {"numOutputBytes", std::to_string(written->num_bytes)}};
  return result;
}

Result<DeltaWriteResult> DeltaWriter::Write(std::string_view location, const DeltaWrite& request,
                                            const DeltaWriteOptions& options) {
  if (request.mode == DeltaWrite::Mode::kAppend && !request.replace_where.empty()) {
    return Error(ErrorCode::kInvalidParameterValue, "replaceWhere needs overwrite mode");
  }
  TARN_ASSIGN_OR_RETURN(auto table, Open(location, false));
  std::unique_ptr<Session> owned_session;
  Session* session = options.session;
  if (session == nullptr) {
    TARN_ASSIGN_OR_RETURN(owned_session, database_.Connect());
    session = owned_session.get();
  }
  std::unique_ptr<delta::OptimisticTransaction> txn;
  if (options.read_version) {
    TARN_ASSIGN_OR_RETURN(auto snapshot, table->table->log().LoadAtVersion(*options.read_version));
    TARN_ASSIGN_OR_RETURN(txn, table->table->StartTransactionAt(std::move(snapshot)));
  } else {
    TARN_ASSIGN_OR_RETURN(txn, table->table->StartTransaction());
  }
  TARN_RETURN_IF_ERROR(ApplyAppTransaction(*txn, options));
  if (AlreadyApplied(*txn, options)) {
    DeltaWriteResult result;
    result.version = txn->read_version();
    result.skipped = true;
    return result;
  }
  TARN_ASSIGN_OR_RETURN(std::vector<Column> columns, DescribeQuery(*session, request.source_query));
  TARN_ASSIGN_OR_RETURN(SourceMapping source, MapSource(columns, txn->schema(), request.source_query,
                                                              request.cast_to_table_types));
  TARN_RETURN_IF_ERROR(txn->EnforceSchema(source.data_schema, options.merge_schema));
  const delta::Schema& schema = txn->schema();
  const delta::MetadataAction& metadata = txn->metadata();
  bool column_mapping = UsesColumnMapping(metadata.configuration);
  WriteTarget target{table->root, schema, metadata.partition_columns, metadata.configuration,
                     options.target_file_size, column_mapping};

  std::string rows_sql = CheckNotNull(source.rows_sql, schema, source.present);
  std::map<std::string, std::string> metrics;
  int64_t deleted_rows = 0;
  int64_t copied_rows = 0;
  int64_t removed_bytes = 0;
  std::vector<delta::AddAction> copies;
  if (!request.replace_where.empty()) {
    // Every new row must satisfy the predicate.
    rows_sql = "SELECT * FROM (" + rows_sql + ") AS __tarn_new WHERE CASE WHEN COALESCE((" + request.replace_where +
               "), false) THEN true ELSE error(" +
               QuoteSqlString("Data written into Delta needs to adhere to the replaceWhere predicate '" +
                              request.replace_where + "' [kConstraintViolation]") +
               ") END";
  }
  auto written = WriteDataFiles(*session, target, rows_sql, source.present);
  if (!written.has_value()) return MapErrorTag(written.status());

  if (request.mode == DeltaWrite::Mode::kOverwrite) {
    txn->ReadWholeTable();
    if (request.replace_where.empty()) {
      for (const delta::FileEntry& file : txn->snapshot()->active_files()) {
        removed_bytes += file.size;
        txn->RemoveFile(file);
      }
    } else {
      // Remove the rows matching the predicate: whole files, or rewrite the other rows of partial files.
      TARN_ASSIGN_OR_RETURN(TargetScan scan, BuildTargetScan(*session, *table, txn->snapshot()));
      std::string counts_sql = "SELECT __tarn_file, count(*) FILTER (WHERE COALESCE((" + request.replace_where +
                               "), false)), count(*) FROM (" + scan.sql + ") AS __tarn_target GROUP BY __tarn_file";
      TARN_ASSIGN_OR_RETURN(auto chunks, QueryChunks(*session, counts_sql));
      std::string partial;
      for (const auto& chunk : chunks) {
        for (size_t row = 0; row < chunk->num_rows(); row++) {
          int64_t file = chunk->GetInt64(0, row);
          int64_t matching = chunk->GetInt64(1, row);
          int64_t total = chunk->GetInt64(2, row);
          if (matching == 0) continue;
          deleted_rows += matching;
          const delta::FileEntry& entry = *scan.files.at(static_cast<size_t>(file));
          removed_bytes += entry.size;
          txn->RemoveFile(entry);
          if (matching < total) {
            copied_rows += total - matching;
            partial += (partial.empty() ? "" : ", ") + std::to_string(file);
          }
        }
      }
      if (!partial.empty()) {
        std::string keep = "SELECT * FROM (" + scan.sql + ") AS __tarn_target WHERE __tarn_file IN (" + partial +
                           ") AND NOT COALESCE((" + request.replace_where + "), false)";
        TARN_ASSIGN_OR_RETURN(WrittenFiles kept, WriteDataFiles(*session, target, keep, ColumnNames(schema)));
        copies = std::move(kept.adds);
      }
    }
  }
  for (delta::AddAction& add : written->adds) txn->AddFile(add);
  for (delta::AddAction& add : copies) txn->AddFile(add);
  std::map<std::string, std::string> parameters = {
      {"mode", request.mode == DeltaWrite::Mode::kAppend ? "Append" : "Overwrite"},
      {"partitionBy", JsonString(metadata.partition_columns)}};
  if (!request.replace_where.empty()) parameters["predicate"] = JsonString({request.replace_where});
  txn->SetOperation(delta::operations::kWrite, parameters);
  int64_t added_files = static_cast<int64_t>(written->adds.size() + copies.size());
  metrics = {{"numFiles", std::to_string(added_files)},
             {"numOutputRows", std::to_string(written->num_rows + copied_rows)},
             {"numOutputBytes", std::to_string(written->num_bytes)}};
  if (request.mode == DeltaWrite::Mode::kOverwrite) {
    metrics["numRemovedFiles"] = std::to_string(txn->removes().size());
    metrics["numRemovedBytes"] = std::to_string(removed_bytes);
  }
  if (!request.replace_where.empty()) {
    metrics["numDeletedRows"] = std::to_string(deleted_rows);
    metrics["numCopiedRows"] = std::to_string(copied_rows);
  }
  txn->SetOperationMetrics(metrics);
  if (options.user_metadata) txn->SetUserMetadata(*options.user_metadata);
  TARN_ASSIGN_OR_RETURN(delta::CommitResult commit, txn->Commit());
  DeltaWriteResult result = ResultOf(commit, *txn, metrics);
  result.num_output_rows = written->num_rows + copied_rows;
  result.num_inserted_rows = written->num_rows;
  result.num_deleted_rows = deleted_rows;
  result.num_copied_rows = copied_rows;
  return result;
}

}  // namespace tarn::engine

namespace tarn::engine {
namespace {

// The pieces every copy-on-write operation shares: an open transaction, its scan and write target.
struct RewriteContext {
  std::unique_ptr<delta::OptimisticTransaction> txn;
  std::unique_ptr<Session> session;
  TargetScan scan;
  bool column_mapping = false;
  int64_t removed_bytes = 0;
  int64_t started_at = 0;

  WriteTarget Target(const std::string& root, const DeltaWriteOptions& options) const {
    const delta::MetadataAction& metadata = txn->metadata();
    return WriteTarget{root, txn->schema(), metadata.partition_columns, metadata.configuration,
                       options.target_file_size, column_mapping};
  }
  void Remove(size_t file_index) {
    const delta::FileEntry& entry = *scan.files.at(file_index);
    removed_bytes += entry.size;
    txn->RemoveFile(entry);
  }
};

// Starts a copy-on-write rewrite of `table`: an inner session and a transaction on its latest snapshot.
Result<RewriteContext> StartRewrite(Database& database, delta::DeltaTable& table) {
  RewriteContext context;
  context.started_at = NowMillis();
  TARN_ASSIGN_OR_RETURN(context.session, database.Connect());
  TARN_ASSIGN_OR_RETURN(context.txn, table.StartTransaction());
  context.column_mapping = UsesColumnMapping(context.txn->metadata().configuration);
  return context;
}

std::string IndexList(const std::vector<int64_t>& files) {
  std::string out;
  for (int64_t file : files) out += (out.empty() ? "" : ", ") + std::to_string(file);
  return out;
}

std::map<std::string, std::string> RewriteMetrics(const RewriteContext& context, const WrittenFiles& written) {
  return {{"numRemovedFiles", std::to_string(context.txn->removes().size())},
          {"numAddedFiles", std::to_string(written.adds.size())},
          {"numRemovedBytes", std::to_string(context.removed_bytes)},
          {"numAddedBytes", std::to_string(written.num_bytes)},
          {"numAddedChangeFiles", "0"},
          {"executionTimeMs", std::to_string(NowMillis() - context.started_at)}};
}

}  // namespace

Result<DeltaWriteResult> DeltaWriter::Delete(std::string_view location, std::string_view predicate,
                                             const DeltaWriteOptions& options) {
  TARN_ASSIGN_OR_RETURN(auto table, Open(location, false));
  TARN_ASSIGN_OR_RETURN(RewriteContext context, StartRewrite(database_, *table->table));
  TARN_RETURN_IF_ERROR(ApplyAppTransaction(*context.txn, options));
  delta::OptimisticTransaction& txn = *context.txn;
  if (AlreadyApplied(txn, options)) return SkippedWrite(txn.read_version());
  txn.ReadWholeTable();
  int64_t deleted_rows = 0;
  int64_t copied_rows = 0;
  WrittenFiles written;
  std::string pred = std::string(predicate);
  if (pred.empty()) {
    // DELETE without a condition removes every file; row counts come from the stats when every file has them.
    for (const delta::FileEntry& file : txn.snapshot()->active_files()) {
      int64_t count = RecordCount(file);
      deleted_rows = deleted_rows < 0 || count < 0 ? -1 : deleted_rows + count;
      context.removed_bytes += file.size;
      txn.RemoveFile(file);
    }
  } else {
    TARN_ASSIGN_OR_RETURN(context.scan, BuildTargetScan(*context.session, *table, txn.snapshot()));
    std::string counts_sql = "SELECT __tarn_file, count(*) FILTER (WHERE COALESCE((" + pred +
                             "), false)), count(*) FROM (" + context.scan.sql +
                             ") AS __tarn_target GROUP BY __tarn_file";
    TARN_ASSIGN_OR_RETURN(auto chunks, QueryChunks(*context.session, counts_sql));
    std::vector<int64_t> partial;
    for (const auto& chunk : chunks) {
      for (size_t row = 0; row < chunk->num_rows(); row++) {
        int64_t file = chunk->GetInt64(0, row);
        int64_t matching = chunk->GetInt64(1, row);
        int64_t total = chunk->GetInt64(2, row);
        if (matching == 0) continue;
        deleted_rows += matching;
        context.Remove(static_cast<size_t>(file));
        if (matching < total) {
          copied_rows += total - matching;
          partial.push_back(file);
        }
      }
    }
    if (!partial.empty()) {
      std::string keep = "SELECT * FROM (" + context.scan.sql + ") AS __tarn_target WHERE __tarn_file IN (" +
                         IndexList(partial) + ") AND NOT COALESCE((" + pred + "), false)";
      TARN_ASSIGN_OR_RETURN(written, WriteDataFiles(*context.session, context.Target(table->root, options), keep,
                                                    ColumnNames(txn.schema())));
    }
  }
  for (const delta::AddAction& add : written.adds) {
    delta::AddAction copy = add;
    txn.AddFile(std::move(copy));
  }
  std::map<std::string, std::string> parameters;
  parameters["predicate"] = JsonString(pred.empty() ? std::vector<std::string>{} : std::vector<std::string>{pred});
  txn.SetOperation(delta::operations::kDelete, parameters);
  std::map<std::string, std::string> metrics = RewriteMetrics(context, written);
  if (deleted_rows >= 0) metrics["numDeletedRows"] = std::to_string(deleted_rows);
  metrics["numCopiedRows"] = std::to_string(copied_rows);
  txn.SetOperationMetrics(metrics);
  if (options.user_metadata) txn.SetUserMetadata(*options.user_metadata);
  TARN_ASSIGN_OR_RETURN(delta::CommitResult commit, txn.Commit());
  DeltaWriteResult result = ResultOf(commit, txn, metrics);
  result.num_deleted_rows = deleted_rows;
  result.num_copied_rows = copied_rows;
  result.num_output_rows = copied_rows;
  return result;
}

Result<DeltaWriteResult> DeltaWriter::Update(std::string_view location, const std::vector<DeltaAssignment>& assignments,
                                             std::string_view predicate, const DeltaWriteOptions& options) {
  if (assignments.empty()) return Error(ErrorCode::kInvalidParameterValue, "UPDATE needs at least one assignment");
  TARN_ASSIGN_OR_RETURN(auto table, Open(location, false));
  TARN_ASSIGN_OR_RETURN(RewriteContext context, StartRewrite(database_, *table->table));
  TARN_RETURN_IF_ERROR(ApplyAppTransaction(*context.txn, options));
  delta::OptimisticTransaction& txn = *context.txn;
  if (AlreadyApplied(txn, options)) return SkippedWrite(txn.read_version());
  const delta::Schema& schema = txn.schema();
  std::map<std::string, std::string> set;  // table column name -> expression
  for (const auto& [column, expr] : assignments) {
    const delta::StructField* field = schema.FindField(column);
    if (field == nullptr) {
      return Error(ErrorCode::kColumnNotFound, "UPDATE: column `{}` is not in the table {}", column, table->root);
    }
    if (!set.emplace(field->name, expr).second) {
      return Error(ErrorCode::kInvalidParameterValue, "UPDATE: column `{}` is assigned twice", field->name);
    }
  }
  txn.ReadWholeTable();
  std::string pred = predicate.empty() ? std::string("true") : "COALESCE((" + std::string(predicate) + "), false)";
  TARN_ASSIGN_OR_RETURN(context.scan, BuildTargetScan(*context.session, *table, txn.snapshot()));
  std::string counts_sql = "SELECT __tarn_file, count(*) FILTER (WHERE " + pred + "), count(*) FROM (" +
                           context.scan.sql + ") AS __tarn_target GROUP BY __tarn_file";
  TARN_ASSIGN_OR_RETURN(auto chunks, QueryChunks(*context.session, counts_sql));
  std::vector<int64_t> affected;
  int64_t updated_rows = 0;
  int64_t copied_rows = 0;
  for (const auto& chunk : chunks) {
    for (size_t row = 0; row < chunk->num_rows(); row++) {
      int64_t matching = chunk->GetInt64(1, row);
      if (matching == 0) continue;
      int64_t file = chunk->GetInt64(0, row);
      updated_rows += matching;
      copied_rows += chunk->GetInt64(2, row) - matching;
      affected.push_back(file);
      context.Remove(static_cast<size_t>(file));
    }
  }
  WrittenFiles written;
  if (!affected.empty()) {
    std::string select;
    for (const delta::StructField& field : schema.fields()) {
      std::string column = QuoteSqlIdentifier(field.name);
      auto it = set.find(field.name);
      std::string expr = it == set.end() ? column
                                         : "CASE WHEN " + pred + " THEN CAST((" + it->second + ") AS " +
                                               DuckTypeOf(*field.type) + ") ELSE " + column + " END";
      select += (select.empty() ? "" : ", ") + expr + " AS " + column;
    }
    std::string rows = "SELECT " + select + " FROM (" + context.scan.sql + ") AS __tarn_target WHERE __tarn_file IN (" +
                       IndexList(affected) + ")";
    auto files = WriteDataFiles(*context.session, context.Target(table->root, options),
                                CheckNotNull(rows, schema, ColumnNames(schema)), ColumnNames(schema));
    if (!files.has_value()) return MapErrorTag(files.status());
    written = std::move(files).value();
  }
  for (const delta::AddAction& add : written.adds) {
    delta::AddAction copy = add;
    txn.AddFile(std::move(copy));
  }
  std::map<std::string, std::string> parameters;
  parameters["predicate"] =
      JsonString(predicate.empty() ? std::vector<std::string>{} : std::vector<std::string>{std::string(predicate)});
  txn.SetOperation(delta::operations::kUpdate, parameters);
  std::map<std::string, std::string> metrics = RewriteMetrics(context, written);
  metrics["numUpdatedRows"] = std::to_string(updated_rows);
  metrics["numCopiedRows"] = std::to_string(copied_rows);
  txn.SetOperationMetrics(metrics);
  if (options.user_metadata) txn.SetUserMetadata(*options.user_metadata);
  TARN_ASSIGN_OR_RETURN(delta::CommitResult commit, txn.Commit());
  DeltaWriteResult result = ResultOf(commit, txn, metrics);
  result.num_updated_rows = updated_rows;
  result.num_copied_rows = copied_rows;
  result.num_output_rows = written.num_rows;
  return result;
}

}  // namespace tarn::engine

namespace tarn::engine {
namespace {

// Drops a temporary table when the operation ends (also on errors).
class TempTableGuard {
 public:
  TempTableGuard(Session& session, std::string name) : session_(session), name_(std::move(name)) {}
  ~TempTableGuard() { (void)RunToEnd(session_, "DROP TABLE IF EXISTS " + name_); }
  TempTableGuard(const TempTableGuard&) = delete;
  TempTableGuard& operator=(const TempTableGuard&) = delete;

 private:
  Session& session_;
  std::string name_;
};

std::string Condition(const std::string& condition) {
  return condition.empty() ? std::string("true") : "COALESCE((" + condition + "), false)";
}

std::string CodeList(const std::vector<int>& codes) {
  std::string out;
  for (int code : codes) out += (out.empty() ? "" : ", ") + std::to_string(code);
  return out.empty() ? "NULL" : out;
}

}  // namespace

Result<DeltaWriteResult> DeltaWriter::Merge(std::string_view location, const DeltaMerge& request,
                                            const DeltaWriteOptions& options) {
  if (request.on.empty()) return Error(ErrorCode::kInvalidParameterValue, "MERGE needs an ON condition");
  if (request.when_matched.empty() && request.when_not_matched.empty() &&
      request.when_not_matched_by_source.empty()) {
    return Error(ErrorCode::kInvalidParameterValue, "MERGE needs at least one WHEN clause");
  }
  for (const DeltaMergeClause& clause : request.when_not_matched) {
    if (clause.action != DeltaMergeClause::Action::kInsert) {
      return Error(ErrorCode::kInvalidParameterValue, "WHEN NOT MATCHED clauses can only insert");
    }
  }
  for (const auto* clauses : {&request.when_matched, &request.when_not_matched_by_source}) {
    for (const DeltaMergeClause& clause : *clauses) {
      if (clause.action == DeltaMergeClause::Action::kInsert) {
        return Error(ErrorCode::kInvalidParameterValue, "only WHEN NOT MATCHED clauses can insert");
      }
    }
  }
  TARN_ASSIGN_OR_RETURN(auto table, Open(location, false));
  TARN_ASSIGN_OR_RETURN(RewriteContext context, StartRewrite(database_, *table->table));
  TARN_RETURN_IF_ERROR(ApplyAppTransaction(*context.txn, options));
  delta::OptimisticTransaction& txn = *context.txn;
  if (AlreadyApplied(txn, options)) return SkippedWrite(txn.read_version());
  const delta::Schema& schema = txn.schema();
  txn.ReadWholeTable();
  TARN_ASSIGN_OR_RETURN(context.scan, BuildTargetScan(*context.session, *table, txn.snapshot()));

  const std::string t = QuoteSqlIdentifier(request.target_alias);
  const std::string s = QuoteSqlIdentifier(request.source_alias);
  // Action codes: 1.. matched clauses, 101.. not-matched-by-source clauses, 201.. inserts, 0 copy, -1 nothing.
  std::vector<int> update_matched, delete_matched, update_nmbs, delete_nmbs, inserts;
  struct Branch {
    int code;
    const DeltaMergeClause* clause;
  };
  std::vector<Branch> branches;
  auto build_case = [&](const std::vector<DeltaMergeClause>& clauses, int base, std::string_view otherwise,
                        std::vector<int>* updates, std::vector<int>* deletes) {
    if (clauses.empty()) return std::string(otherwise);
    std::string out = "CASE";
    for (size_t i = 0; i < clauses.size(); i++) {
      int code = base + static_cast<int>(i);
      out += " WHEN " + Condition(clauses[i].condition) + " THEN " + std::to_string(code);
      if (clauses[i].action == DeltaMergeClause::Action::kDelete) deletes->push_back(code);
      else if (clauses[i].action == DeltaMergeClause::Action::kUpdate) updates->push_back(code);
      else inserts.push_back(code);
      branches.push_back({code, &clauses[i]});
    }
    return out + " ELSE " + std::string(otherwise) + " END";
  };
  std::string action =
      "CASE WHEN " + t + ".__tarn_file IS NOT NULL AND " + s + ".__tarn_src THEN " +
      build_case(request.when_matched, 1, "0", &update_matched, &delete_matched) + " WHEN " + t +
      ".__tarn_file IS NOT NULL THEN " +
      build_case(request.when_not_matched_by_source, 101, "0", &update_nmbs, &delete_nmbs) + " ELSE " +
      build_case(request.when_not_matched, 201, "-1", nullptr, nullptr) + " END";

  std::string select = action + " AS __tarn_action, " + t + ".__tarn_file AS __tarn_tfile, " + t +
                       ".__tarn_row AS __tarn_trow, COALESCE(" + s + ".__tarn_src, false) AS __tarn_from_source";
  for (const delta::StructField& field : schema.fields()) {
    std::string type = DuckTypeOf(*field.type);
    std::string column = QuoteSqlIdentifier(field.name);
    std::string expr = "CASE __tarn_action";
    bool has_when = false;
    for (const Branch& branch : branches) {
      if (branch.clause->action == DeltaMergeClause::Action::kDelete) continue;
      has_when = true;
      bool insert = branch.clause->action == DeltaMergeClause::Action::kInsert;
      std::string value = insert ? std::string("NULL") : t + "." + column;
      if (branch.clause->star) value = s + "." + column;
      for (const auto& [name, assigned] : branch.clause->assignments) {
        std::string_view target_name = name;
        std::string prefix = request.target_alias + ".";
        if (target_name.starts_with(prefix)) target_name.remove_prefix(prefix.size());
        if (EqualsIgnoreCase(target_name, field.name)) value = "(" + assigned + ")";
      }
      expr += " WHEN " + std::to_string(branch.code) + " THEN CAST(" + value + " AS " + type + ")";
    }
    // Only DELETE branches: the column keeps its value ("CASE x ELSE y END" without a WHEN is not valid SQL).
    expr = has_when ? expr + " ELSE " + t + "." + column + " END" : t + "." + column;
    select += ", " + expr + " AS " + column;
  }
  for (const Branch& branch : branches) {
    for (const auto& [name, assigned] : branch.clause->assignments) {
      std::string_view target_name = name;
      std::string prefix = request.target_alias + ".";
      if (target_name.starts_with(prefix)) target_name.remove_prefix(prefix.size());
      if (schema.FindField(target_name) == nullptr) {
        return Error(ErrorCode::kColumnNotFound, "MERGE: column `{}` is not in the table {}", name, table->root);
      }
    }
  }
  std::string temp = "__tarn_merge_" + delta::NewUuid().substr(0, 8);
  std::string join = "FROM (" + context.scan.sql + ") AS " + t + " FULL OUTER JOIN (SELECT *, true AS __tarn_src FROM (" +
                     request.source_query + ") AS __tarn_source_rows) AS " + s + " ON (" + request.on + ")";
  TempTableGuard guard(*context.session, temp);
  TARN_RETURN_IF_ERROR(RunToEnd(*context.session, "CREATE TEMP TABLE " + temp + " AS SELECT " + select + " " + join));

  // Several source rows for one target row that a clause changes: Spark refuses the merge.
  std::vector<int> changing = update_matched;
  changing.insert(changing.end(), delete_matched.begin(), delete_matched.end());
  if (!changing.empty()) {
    TARN_ASSIGN_OR_RETURN(auto dup, QueryChunks(*context.session,
                                                "SELECT count(*) FROM (SELECT 1 FROM " + temp +
                                                    " WHERE __tarn_tfile IS NOT NULL AND __tarn_from_source "
                                                    "GROUP BY __tarn_tfile, __tarn_trow HAVING count(*) > 1 AND "
                                                    "bool_or(__tarn_action IN (" + CodeList(changing) + ")))"));
    if (!dup.empty() && dup[0]->num_rows() > 0 && dup[0]->GetInt64(0, 0) > 0) {
      return Error(ErrorCode::kInvalidParameterValue,
                   "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE: the MERGE would update or delete a "
                   "target row of {} that several source rows match",
                   table->root);
    }
  }
  std::vector<int> all_deletes = delete_matched;
  all_deletes.insert(all_deletes.end(), delete_nmbs.begin(), delete_nmbs.end());
  std::vector<int> all_updates = update_matched;
  all_updates.insert(all_updates.end(), update_nmbs.begin(), update_nmbs.end());
  std::vector<int> touching = all_updates;
  touching.insert(touching.end(), all_deletes.begin(), all_deletes.end());

  std::vector<int64_t> affected;
  if (!touching.empty()) {
    TARN_ASSIGN_OR_RETURN(auto chunks, QueryChunks(*context.session,
                                                   "SELECT DISTINCT __tarn_tfile FROM " + temp +
                                                       " WHERE __tarn_action IN (" + CodeList(touching) + ")"));
    for (const auto& chunk : chunks) {
      for (size_t row = 0; row < chunk->num_rows(); row++) affected.push_back(chunk->GetInt64(0, row));
    }
  }
  std::sort(affected.begin(), affected.end());
  for (int64_t file : affected) context.Remove(static_cast<size_t>(file));

  // Metrics (Spark's MERGE names).
  std::string affected_list = affected.empty() ? std::string("NULL") : IndexList(affected);
  TARN_ASSIGN_OR_RETURN(
      auto counts,
      QueryChunks(*context.session,
                  "SELECT count(*) FILTER (WHERE __tarn_from_source), "
                  "count(*) FILTER (WHERE __tarn_action IN (" + CodeList(inserts) + ")), "
                  "count(*) FILTER (WHERE __tarn_action IN (" + CodeList(update_matched) + ")), "
                  "count(*) FILTER (WHERE __tarn_action IN (" + CodeList(delete_matched) + ")), "
                  "count(*) FILTER (WHERE __tarn_action IN (" + CodeList(update_nmbs) + ")), "
                  "count(*) FILTER (WHERE __tarn_action IN (" + CodeList(delete_nmbs) + ")), "
                  "count(DISTINCT (__tarn_tfile, __tarn_trow)) FILTER (WHERE __tarn_action = 0 AND __tarn_tfile IN (" +
                      affected_list + ")) FROM " + temp));
  int64_t values[7] = {0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 7 && !counts.empty() && counts[0]->num_rows() > 0; i++) values[i] = counts[0]->GetInt64(i, 0);
  int64_t source_rows = values[0], inserted = values[1], matched_updated = values[2], matched_deleted = values[3],
          nmbs_updated = values[4], nmbs_deleted = values[5], copied = values[6];

  std::string columns;
  for (const delta::StructField& field : schema.fields()) {
    columns += (columns.empty() ? "" : ", ") + QuoteSqlIdentifier(field.name);
  }
  std::string rows;
  if (!affected.empty()) {
    rows = "SELECT " + columns + " FROM (SELECT DISTINCT ON (__tarn_tfile, __tarn_trow) * FROM " + temp +
           " WHERE __tarn_tfile IN (" + affected_list + ") AND __tarn_action >= 0" +
           (all_deletes.empty() ? std::string() : " AND __tarn_action NOT IN (" + CodeList(all_deletes) + ")") +
           " ORDER BY __tarn_tfile, __tarn_trow, __tarn_action DESC)";
  }
  if (!inserts.empty()) {
    if (!rows.empty()) rows += " UNION ALL ";
    rows += "SELECT " + columns + " FROM " + temp + " WHERE __tarn_action IN (" + CodeList(inserts) + ")";
  }
  WrittenFiles written;
  if (!rows.empty() && (inserted > 0 || !affected.empty())) {
    auto files = WriteDataFiles(*context.session, context.Target(table->root, options),
                                CheckNotNull(rows, schema, ColumnNames(schema)), ColumnNames(schema));
    if (!files.has_value()) return MapErrorTag(files.status());
    written = std::move(files).value();
  }
  for (const delta::AddAction& add : written.adds) {
    delta::AddAction copy = add;
    txn.AddFile(std::move(copy));
  }
  nlohmann::json matched_json = nlohmann::json::array(), not_matched_json = nlohmann::json::array(),
                 nmbs_json = nlohmann::json::array();
  auto describe = [](const DeltaMergeClause& clause) {
    nlohmann::json out;
    out["actionType"] = clause.action == DeltaMergeClause::Action::kDelete   ? "delete"
                        : clause.action == DeltaMergeClause::Action::kInsert ? "insert"
                                                                             : "update";
    if (!clause.condition.empty()) out["predicate"] = clause.condition;
    return out;
  };
  for (const auto& clause : request.when_matched) matched_json.push_back(describe(clause));
  for (const auto& clause : request.when_not_matched) not_matched_json.push_back(describe(clause));
  for (const auto& clause : request.when_not_matched_by_source) nmbs_json.push_back(describe(clause));
  txn.SetOperation(delta::operations::kMerge, {{"predicate", JsonString({request.on})},
                                               {"matchedPredicates", matched_json.dump()},
                                               {"notMatchedPredicates", not_matched_json.dump()},
                                               {"notMatchedBySourcePredicates", nmbs_json.dump()}});
  std::map<std::string, std::string> metrics = {
      {"numSourceRows", std::to_string(source_rows)},
      {"numTargetRowsInserted", std::to_string(inserted)},
      {"numTargetRowsUpdated", std::to_string(matched_updated + nmbs_updated)},
      {"numTargetRowsMatchedUpdated", std::to_string(matched_updated)},
      {"numTargetRowsNotMatchedBySourceUpdated", std::to_string(nmbs_updated)},
      {"numTargetRowsDeleted", std::to_string(matched_deleted + nmbs_deleted)},
      {"numTargetRowsMatchedDeleted", std::to_string(matched_deleted)},
      {"numTargetRowsNotMatchedBySourceDeleted", std::to_string(nmbs_deleted)},
      {"numTargetRowsCopied", std::to_string(copied)},
      {"numOutputRows", std::to_string(written.num_rows)},
      {"numTargetFilesAdded", std::to_string(written.adds.size())},
      {"numTargetFilesRemoved", std::to_string(affected.size())},
      {"numTargetBytesAdded", std::to_string(written.num_bytes)},
      {"numTargetBytesRemoved", std::to_string(context.removed_bytes)},
      {"numTargetChangeFilesAdded", "0"},
      {"executionTimeMs", std::to_string(NowMillis() - context.started_at)}};
  txn.SetOperationMetrics(metrics);
  if (options.user_metadata) txn.SetUserMetadata(*options.user_metadata);
  TARN_ASSIGN_OR_RETURN(delta::CommitResult commit, txn.Commit());
  DeltaWriteResult result = ResultOf(commit, txn, metrics);
  result.num_inserted_rows = inserted;
  result.num_updated_rows = matched_updated + nmbs_updated;
  result.num_deleted_rows = matched_deleted + nmbs_deleted;
  result.num_copied_rows = copied;
  result.num_output_rows = written.num_rows;
  return result;
}

}  // namespace tarn::engine

namespace tarn::engine {

Result<DeltaWriteResult> DeltaWriter::Optimize(std::string_view location, const DeltaOptimize& request,
                                               const DeltaWriteOptions& options) {
  TARN_ASSIGN_OR_RETURN(auto table, Open(location, false));
  TARN_ASSIGN_OR_RETURN(RewriteContext context, StartRewrite(database_, *table->table));
  delta::OptimisticTransaction& txn = *context.txn;
  const delta::MetadataAction& metadata = txn.metadata();
  const delta::Schema& schema = txn.schema();
  const delta::SnapshotPtr& snapshot = txn.snapshot();

  std::vector<std::string> zorder;
  for (const std::string& column : request.zorder_by) {
    const delta::StructField* field = schema.FindField(column);
    if (field == nullptr) {
      return Error(ErrorCode::kColumnNotFound, "ZORDER BY column `{}` is not in the table {}", column, table->root);
    }
    if (std::find(metadata.partition_columns.begin(), metadata.partition_columns.end(), field->name) !=
        metadata.partition_columns.end()) {
      return Error(ErrorCode::kInvalidParameterValue, "ZORDER BY column `{}` is a partition column", field->name);
    }
    zorder.push_back(field->name);
  }

  delta::OptimizeOptions plan_options;
  WriteTarget base = context.Target(table->root, options);
  if (request.target_file_size > 0) {
    plan_options.target_file_size = request.target_file_size;
  } else if (metadata.configuration.count("delta.targetFileSize") > 0) {
    TARN_ASSIGN_OR_RETURN(plan_options.target_file_size, TargetFileSize(base));
  }
  if (!request.partition_predicate.empty()) {
    // Evaluate the predicate once per distinct partition tuple.
    std::vector<const delta::StructField*> fields;
    for (const std::string& column : metadata.partition_columns) fields.push_back(schema.FindField(column));
    if (fields.empty()) {
      return Error(ErrorCode::kInvalidParameterValue, "OPTIMIZE WHERE needs a partitioned table: {}", table->root);
    }
    std::map<std::string, size_t> tuples;  // serialized tuple -> index
    std::string values;
    for (const delta::FileEntry& file : snapshot->active_files()) {
      std::string key;
      std::string row;
      for (const delta::StructField* field : fields) {
        const delta::PartitionValueRef* value =
            file.FindPartitionValue(delta::PartitionValueKey(metadata.configuration, schema, field->name));
        bool null = value == nullptr || value->is_null;
        key += null ? std::string("\x01") : std::string(value->value) + '\x00';
        row += ", " + (null ? std::string("NULL") : QuoteSqlString(value->value)) + "::" + DuckTypeOf(*field->type);
      }
      if (tuples.emplace(key, tuples.size()).second) {
        values += (values.empty() ? "" : ", ") + ("(" + std::to_string(tuples.size() - 1) + row + ")");
      }
    }
    std::set<std::string> selected;
    if (!values.empty()) {
      std::string names = "__tarn_i";
      for (const delta::StructField* field : fields) names += ", " + QuoteSqlIdentifier(field->name);
      TARN_ASSIGN_OR_RETURN(auto chunks, QueryChunks(*context.session,
                                                     "SELECT __tarn_i FROM (VALUES " + values + ") AS __tarn_p(" +
                                                         names + ") WHERE COALESCE((" + request.partition_predicate +
                                                         "), false)"));
      std::set<int64_t> indexes;
      for (const auto& chunk : chunks) {
        for (size_t row = 0; row < chunk->num_rows(); row++) indexes.insert(chunk->GetInt64(0, row));
      }
      for (const auto& [key, index] : tuples) {
        if (indexes.count(static_cast<int64_t>(index)) > 0) selected.insert(key);
      }
    }
    std::vector<std::string> names;  // partitionValues keys
    for (const delta::StructField* field : fields) {
      names.push_back(delta::PartitionValueKey(metadata.configuration, schema, field->name));
    }
    plan_options.partition_filter = [names, selected](const delta::AddAction& add) {
      std::string key;
      for (const std::string& name : names) {
        auto value = delta::FindMapEntry(add.partition_values, name);
        bool null = !value || !value->has_value() || (*value)->empty();
        key += null ? std::string("\x01") : **value + '\x00';
      }
      return selected.count(key) > 0;
    };
  }
  TARN_ASSIGN_OR_RETURN(delta::OptimizePlan plan, delta::PlanOptimize(snapshot, plan_options));
  if (plan.bins.empty()) return SkippedWrite(txn.read_version());
  TARN_ASSIGN_OR_RETURN(context.scan, BuildTargetScan(*context.session, *table, snapshot));
  std::map<std::string_view, int64_t> index_of;
  for (size_t i = 0; i < context.scan.files.size(); i++) index_of[context.scan.files[i]->path] = static_cast<int64_t>(i);

  WriteTarget target = base;
  target.target_file_size = plan_options.target_file_size;
  WrittenFiles all;
  std::set<std::string> partitions;
  for (const delta::OptimizeBin& bin : plan.bins) {
    std::vector<int64_t> files;
    for (const delta::FileEntry& file : bin.files) {
      auto it = index_of.find(file.path);
      if (it == index_of.end()) return Error(ErrorCode::kInternal, "OPTIMIZE: planned file {} not scanned", file.path);
      files.push_back(it->second);
      txn.RemoveFile(file, /*data_change=*/false);
      context.removed_bytes += file.size;
    }
    std::string partition;
    for (const delta::MapEntry& entry : bin.partition_values) {
      partition += entry.key + "=" + entry.value.value_or("\x01") + "/";
    }
    partitions.insert(partition);
    std::string rows = "SELECT * FROM (" + context.scan.sql + ") AS __tarn_target WHERE __tarn_file IN (" +
                       IndexList(files) + ")";
    std::string order;
    if (!zorder.empty()) {
      // Z-order: each column's rank scaled to `bits` bits, bits interleaved (Spark's range-id interleaving).
      int bits = std::min<int>(20, 63 / static_cast<int>(zorder.size()));
      std::string ranks;
      std::string key;
      for (size_t i = 0; i < zorder.size(); i++) {
        std::string rank = "__tarn_r" + std::to_string(i);
        ranks += ", CAST(floor(percent_rank() OVER (ORDER BY " + QuoteSqlIdentifier(zorder[i]) +
                 " NULLS FIRST) * " + std::to_string((1LL << bits) - 1) + ") AS UBIGINT) AS " + rank;
        key += (key.empty() ? "" : " + ") + ("list_sum([((" + rank + " >> b) & 1) << (b * " +
                                             std::to_string(zorder.size()) + " + " + std::to_string(i) +
                                             ") FOR b IN range(" + std::to_string(bits) + ")])");
      }
      rows = "SELECT *, " + key + " AS __tarn_z FROM (SELECT *" + ranks + " FROM (" + rows + ") AS __tarn_bin) AS __tarn_ranked";
      order = "__tarn_rows.__tarn_z";
    }
    TARN_ASSIGN_OR_RETURN(WrittenFiles written,
                          WriteDataFiles(*context.session, target, rows, ColumnNames(schema), order));
    for (delta::AddAction& add : written.adds) {
      add.data_change = false;
      txn.AddFile(add);
      all.adds.push_back(add);
    }
    all.num_rows += written.num_rows;
    all.num_bytes += written.num_bytes;
  }
  std::vector<std::string> predicate;
  if (!request.partition_predicate.empty()) predicate.push_back(request.partition_predicate);
  txn.SetOperation(delta::operations::kOptimize,
                   {{"predicate", JsonString(predicate)}, {"zOrderBy", JsonString(zorder)}, {"auto", "false"}});
  std::map<std::string, std::string> metrics = {
      {"numFilesAdded", std::to_string(all.adds.size())},
      {"numFilesRemoved", std::to_string(txn.removes().size())},
      {"numAddedBytes", std::to_string(all.num_bytes)},
      {"numRemovedBytes", std::to_string(context.removed_bytes)},
      {"partitionsOptimized", std::to_string(partitions.size())},
      {"numBatches", "1"},
      {"totalConsideredFiles", std::to_string(snapshot->num_active_files())},
      {"totalFilesSkipped", std::to_string(snapshot->num_active_files() - plan.num_files)},
      {"preserveInsertionOrder", zorder.empty() ? "true" : "false"}};
  txn.SetOperationMetrics(metrics);
  if (options.user_metadata) txn.SetUserMetadata(*options.user_metadata);
  TARN_ASSIGN_OR_RETURN(delta::CommitResult commit, txn.Commit());
  DeltaWriteResult result = ResultOf(commit, txn, metrics);
  result.num_output_rows = all.num_rows;
  result.num_copied_rows = all.num_rows;
  return result;
}

}  // namespace tarn::engine
