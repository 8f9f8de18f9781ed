// SPDX-License-Identifier: Apache-2.0
// DuckCheckpointReader: one read_parquet query per file; action structs decoded from DuckDB vectors into visitor calls.
#include "tarn/engine/delta_checkpoint_reader.hpp"

#include <duckdb.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "tarn/engine/database.hpp"
#include "tarn/engine/detail/impl.hpp"
#include "tarn/engine/sql_quoting.hpp"

namespace tarn::engine {
namespace {

using delta::DeletionVectorDescriptor;
using delta::MapEntry;

// The action columns a checkpoint may hold, in the order readers see them within a row.
enum class ActionKind : uint8_t {
  kProtocol,
  kMetadata,
  kTxn,
  kDomainMetadata,
  kCheckpointMetadata,
  kSidecar,
  kAdd,
  kRemove
};
constexpr std::array<const char*, 8> kActionColumns = {"protocol", "metaData", "txn", "domainMetadata",
                                                       "checkpointMetadata", "sidecar", "add", "remove"};

bool IsFileAction(ActionKind kind) { return kind == ActionKind::kAdd || kind == ActionKind::kRemove; }

const ChildType* FindChild(const LogicalType& type, std::string_view name) {
  for (const ChildType& child : type.children) {
    if (child.name == name) return &child;
  }
  return nullptr;
}

// ---- SQL: the projection (typed stats/partition values folded into their log forms) ----

// Renders a typed partition value back to the log's string form.
std::string RenderPartitionValue(const std::string& expr, const LogicalType& type) {
  switch (type.id) {
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
    case TypeId::kTimestampMs:
    case TypeId::kTimestampNs:
    case TypeId::kTimestampS:
      return "strftime(" + expr + ", '%Y-%m-%d %H:%M:%S.%f')";
    default:
      return "CAST(" + expr + " AS VARCHAR)";
  }
}

// add/remove: the column itself, or, when the file has stats_parsed / partitionValues_parsed, the struct minus those
// fields with stats and partitionValues filled in from their typed forms (stats_parsed rendered by DuckDB's to_json).
std::string FileActionExpr(const std::string& column, const LogicalType& type) {
  std::string col = QuoteSqlIdentifier(column);
  if (type.id != TypeId::kStruct) return col;
  const ChildType* stats_parsed = FindChild(type, "stats_parsed");
  const ChildType* values_parsed = FindChild(type, "partitionValues_parsed");
  if (stats_parsed == nullptr && values_parsed == nullptr) return col;
  std::string parsed_stats =
      stats_parsed ? "CAST(to_json(" + col + ".\"stats_parsed\") AS VARCHAR)" : std::string("NULL");
  std::string parsed_values = "NULL";
  if (values_parsed != nullptr && values_parsed->type.id == TypeId::kStruct) {
    parsed_values = "map_from_entries([";
    bool first = true;
    for (const ChildType& field : values_parsed->type.children) {
      if (!first) parsed_values += ", ";
      first = false;
      std::string value = col + ".\"partitionValues_parsed\"." + QuoteSqlIdentifier(field.name);
      parsed_values += "{'key': " + QuoteSqlString(field.name) + ", 'value': " +
                       RenderPartitionValue(value, field.type) + "}";
    }
    parsed_values += "]::STRUCT(key VARCHAR, value VARCHAR)[])";
    if (values_parsed->type.children.empty()) parsed_values = "MAP {}::MAP(VARCHAR, VARCHAR)";
  }
  std::string fields;
  auto add_field = [&](std::string_view name, const std::string& expr) {
    if (!fields.empty()) fields += ", ";
    fields += QuoteSqlIdentifier(name) + " := " + expr;
  };
  bool has_stats = false;
  bool has_values = false;
  for (const ChildType& child : type.children) {
    if (child.name == "stats_parsed" || child.name == "partitionValues_parsed") continue;
    std::string field = col + "." + QuoteSqlIdentifier(child.name);
    if (child.name == "stats") {
      has_stats = true;
      add_field(child.name, "COALESCE(" + field + ", " + parsed_stats + ")");
    } else if (child.name == "partitionValues") {
      has_values = true;
      add_field(child.name, "COALESCE(" + field + ", " + parsed_values + ")");
    } else {
      add_field(child.name, field);
    }
  }
  if (!has_stats && stats_parsed != nullptr) add_field("stats", parsed_stats);
  if (!has_values && values_parsed != nullptr) add_field("partitionValues", parsed_values);
  return "CASE WHEN " + col + " IS NULL THEN NULL ELSE struct_pack(" + fields + ") END";
}

// ---- decoding flattened DuckDB vectors ----

// One flattened vector with its type. A Vec without a vector stands for a field the file does not have: every row
// reads as missing.
struct Vec {
  duckdb_vector vector = nullptr;
  const LogicalType* type = nullptr;
  uint64_t* validity = nullptr;
  void* data = nullptr;

  bool present() const { return vector != nullptr; }
  bool Valid(idx_t row) const {
    return vector != nullptr && (validity == nullptr || duckdb_validity_row_is_valid(validity, row));
  }
  template <typename T>
  T At(idx_t row) const {
    return static_cast<const T*>(data)[row];
  }
};

Vec MakeVec(duckdb_vector vector, const LogicalType& type) {
  Vec v;
  v.vector = vector;
  v.type = &type;
  v.validity = duckdb_vector_get_validity(vector);
  v.data = duckdb_vector_get_data(vector);
  return v;
}

// The field `name` of a struct vector (an absent Vec when the struct has no such field).
Vec Field(const Vec& parent, std::string_view name) {
  if (!parent.present() || parent.type->id != TypeId::kStruct) return {};
  for (size_t i = 0; i < parent.type->children.size(); ++i) {
    if (parent.type->children[i].name == name) {
      return MakeVec(duckdb_struct_vector_get_child(parent.vector, i), parent.type->children[i].type);
    }
  }
  return {};
}

// The element vector of a list or map vector.
Vec Elements(const Vec& list) {
  return MakeVec(duckdb_list_vector_get_child(list.vector), list.type->children[0].type);
}

Status Corrupt(std::string_view field, std::string_view what) {
  return Error(ErrorCode::kCorruptData, "{} {}", field, what);
}

std::string_view StringAt(const Vec& v, idx_t row) {
  auto* s = static_cast<duckdb_string_t*>(v.data) + row;
  return std::string_view(duckdb_string_t_data(s), duckdb_string_t_length(*s));
}

// Reads a non-null string value.
Status ReadStringValue(const Vec& v, idx_t row, std::string_view field, std::string& out) {
  if (v.type->id != TypeId::kVarchar && v.type->id != TypeId::kBlob) {
    return Corrupt(field, "is " + v.type->ToString() + ", expected a string");
  }
  std::string_view text = StringAt(v, row);
  out.assign(text.data(), text.size());
  return Status::OK();
}

// Reads a non-null integer value (any integer type; floating point truncates; some writers store numbers as text).
Status ReadIntValue(const Vec& v, idx_t row, std::string_view field, int64_t& out) {
  switch (v.type->id) {
    case TypeId::kTinyInt: out = v.At<int8_t>(row); return Status::OK();
    case TypeId::kSmallInt: out = v.At<int16_t>(row); return Status::OK();
    case TypeId::kInteger: out = v.At<int32_t>(row); return Status::OK();
    case TypeId::kBigInt: out = v.At<int64_t>(row); return Status::OK();
    case TypeId::kUTinyInt: out = v.At<uint8_t>(row); return Status::OK();
    case TypeId::kUSmallInt: out = v.At<uint16_t>(row); return Status::OK();
    case TypeId::kUInteger: out = v.At<uint32_t>(row); return Status::OK();
    case TypeId::kUBigInt: out = static_cast<int64_t>(v.At<uint64_t>(row)); return Status::OK();
    case TypeId::kFloat: out = static_cast<int64_t>(v.At<float>(row)); return Status::OK();
    case TypeId::kDouble: out = static_cast<int64_t>(v.At<double>(row)); return Status::OK();
    case TypeId::kVarchar: {
      std::string text(StringAt(v, row));
      char* end = nullptr;
      out = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0') return Corrupt(field, "is \"" + text + "\", expected an integer");
      return Status::OK();
    }
    default: return Corrupt(field, "is " + v.type->ToString() + ", expected an integer");
  }
}

// Required fields: a missing field keeps the default, a null one is corrupt (as in a JSON action).
Status ReadString(const Vec& v, idx_t row, std::string_view field, std::string& out) {
  if (!v.present()) return Status::OK();
  if (!v.Valid(row)) return Corrupt(field, "is null");
  return ReadStringValue(v, row, field, out);
}

Status ReadInt(const Vec& v, idx_t row, std::string_view field, int64_t& out) {
  if (!v.present()) return Status::OK();
  if (!v.Valid(row)) return Corrupt(field, "is null");
  return ReadIntValue(v, row, field, out);
}

template <typename T>
Status ReadNarrowInt(const Vec& v, idx_t row, std::string_view field, T& out) {
  int64_t value = out;
  TARN_RETURN_IF_ERROR(ReadInt(v, row, field, value));
  out = static_cast<T>(value);
  return Status::OK();
}

// Optional fields: missing or null is nullopt.
Status ReadOptionalString(const Vec& v, idx_t row, std::string_view field, std::optional<std::string>& out) {
  if (!v.Valid(row)) {
    out.reset();
    return Status::OK();
  }
  if (!out) out.emplace();
  return ReadStringValue(v, row, field, *out);
}

Status ReadOptionalInt(const Vec& v, idx_t row, std::string_view field, std::optional<int64_t>& out) {
  if (!v.Valid(row)) {
    out.reset();
    return Status::OK();
  }
  int64_t value = 0;
  TARN_RETURN_IF_ERROR(ReadIntValue(v, row, field, value));
  out = value;
  return Status::OK();
}

// Booleans: missing or null keeps the default.
Status ReadBool(const Vec& v, idx_t row, std::string_view field, bool& out) {
  if (!v.Valid(row)) return Status::OK();
  if (v.type->id != TypeId::kBoolean) return Corrupt(field, "is " + v.type->ToString() + ", expected a boolean");
  out = v.At<bool>(row);
  return Status::OK();
}

// The text of a map value: strings as they are, numbers and booleans as their JSON text.
Status ReadMapValue(const Vec& v, idx_t row, std::string_view field, std::optional<std::string>& out) {
  if (!v.Valid(row)) {
    out.reset();
    return Status::OK();
  }
  if (!out) out.emplace();
  switch (v.type->id) {
    case TypeId::kVarchar: return ReadStringValue(v, row, field, *out);
    case TypeId::kBoolean: *out = v.At<bool>(row) ? "true" : "false"; return Status::OK();
    default: {
      int64_t number = 0;
      TARN_RETURN_IF_ERROR(ReadIntValue(v, row, field, number));
      *out = std::to_string(number);
      return Status::OK();
    }
  }
}

// A string map (partitionValues, tags, configuration...): MAP(VARCHAR, VARCHAR) in checkpoints. Null or missing is
// empty. `entries` is filled in place, reusing its string buffers.
Status ReadMap(const Vec& v, idx_t row, std::string_view field, std::vector<MapEntry>& entries) {
  size_t count = 0;
  if (v.Valid(row)) {
    if (v.type->id != TypeId::kMap) return Corrupt(field, "is " + v.type->ToString() + ", expected a map");
    duckdb_list_entry entry = v.At<duckdb_list_entry>(row);
    // A map vector is a list of STRUCT(key, value); its logical type lists the key and value types directly.
    duckdb_vector pairs = duckdb_list_vector_get_child(v.vector);
    Vec keys = MakeVec(duckdb_struct_vector_get_child(pairs, 0), v.type->children[0].type);
    Vec values = MakeVec(duckdb_struct_vector_get_child(pairs, 1), v.type->children[1].type);
    for (idx_t i = entry.offset; i < entry.offset + entry.length; ++i) {
      if (count == entries.size()) entries.emplace_back();
      MapEntry& out = entries[count++];
      TARN_RETURN_IF_ERROR(ReadString(keys, i, field, out.key));
      TARN_RETURN_IF_ERROR(ReadMapValue(values, i, field, out.value));
    }
  }
  entries.resize(count);
  return Status::OK();
}

Status ReadStringMap(const Vec& v, idx_t row, std::string_view field, std::map<std::string, std::string>& out) {
  out.clear();
  std::vector<MapEntry> entries;
  TARN_RETURN_IF_ERROR(ReadMap(v, row, field, entries));
  for (auto& entry : entries) out[std::move(entry.key)] = entry.value.value_or("");
  return Status::OK();
}

// A list of non-null strings (partitionColumns, reader/writer features).
Status ReadStringList(const Vec& v, idx_t row, std::string_view field, std::vector<std::string>& out) {
  out.clear();
  if (v.type->id != TypeId::kList) return Corrupt(field, "is " + v.type->ToString() + ", expected a list");
  duckdb_list_entry entry = v.At<duckdb_list_entry>(row);
  Vec elements = Elements(v);
  out.resize(entry.length);
  for (idx_t i = 0; i < entry.length; ++i) {
    TARN_RETURN_IF_ERROR(ReadString(elements, entry.offset + i, field, out[i]));
  }
  return Status::OK();
}

// ---- one decoder per action column; fields resolved once per chunk ----

struct DeletionVectorVecs {
  Vec self, storage_type, path_or_inline_dv, offset, size_in_bytes, cardinality, max_row_index;
  void Resolve(Vec v) {
    self = v;
    storage_type = Field(v, "storageType");
    path_or_inline_dv = Field(v, "pathOrInlineDv");
    offset = Field(v, "offset");
    size_in_bytes = Field(v, "sizeInBytes");
    cardinality = Field(v, "cardinality");
    max_row_index = Field(v, "maxRowIndex");
  }
  Status Read(idx_t row, std::string_view action, std::optional<DeletionVectorDescriptor>& out) const {
    if (!self.Valid(row)) {
      out.reset();
      return Status::OK();
    }
    if (self.type->id != TypeId::kStruct) return Corrupt(action, "deletionVector is not a struct");
    DeletionVectorDescriptor& dv = out.emplace();
    TARN_RETURN_IF_ERROR(ReadString(storage_type, row, "deletionVector.storageType", dv.storage_type));
    TARN_RETURN_IF_ERROR(ReadString(path_or_inline_dv, row, "deletionVector.pathOrInlineDv", dv.path_or_inline_dv));
    std::optional<int64_t> offset_value;
    TARN_RETURN_IF_ERROR(ReadOptionalInt(offset, row, "deletionVector.offset", offset_value));
    if (offset_value) dv.offset = static_cast<int32_t>(*offset_value);
    TARN_RETURN_IF_ERROR(ReadNarrowInt(size_in_bytes, row, "deletionVector.sizeInBytes", dv.size_in_bytes));
    TARN_RETURN_IF_ERROR(ReadInt(cardinality, row, "deletionVector.cardinality", dv.cardinality));
    return ReadOptionalInt(max_row_index, row, "deletionVector.maxRowIndex", dv.max_row_index);
  }
};

class ActionDecoder {
 public:
  ActionDecoder(ActionKind kind, size_t column, const LogicalType& type) : kind_(kind), column_(column), type_(type) {}

  ActionKind kind() const { return kind_; }

  Status Resolve(const Chunk::Impl& chunk) {
    self_ = MakeVec(chunk.vectors[column_], type_);
    if (type_.id != TypeId::kStruct) {
      return Error(ErrorCode::kCorruptData, "column {} is {}, expected a struct", kActionColumns[Index()],
                   type_.ToString());
    }
    for (size_t i = 0; i < kMaxFields; ++i) fields_[i] = Vec{};
    auto bind = [&](size_t slot, std::string_view name) { fields_[slot] = Field(self_, name); };
    switch (kind_) {
      case ActionKind::kProtocol:
        bind(0, "minReaderVersion");
        bind(1, "minWriterVersion");
        bind(2, "readerFeatures");
        bind(3, "writerFeatures");
        break;
      case ActionKind::kMetadata:
        bind(0, "id");
        bind(1, "name");
        bind(2, "description");
        bind(3, "format");
        bind(4, "schemaString");
        bind(5, "partitionColumns");
        bind(6, "configuration");
        bind(7, "createdTime");
        fields_[8] = Field(fields_[3], "provider");
        fields_[9] = Field(fields_[3], "options");
        break;
      case ActionKind::kTxn:
        bind(0, "appId");
        bind(1, "version");
        bind(2, "lastUpdated");
        break;
      case ActionKind::kDomainMetadata:
        bind(0, "domain");
        bind(1, "configuration");
        bind(2, "removed");
        break;
      case ActionKind::kCheckpointMetadata:
        bind(0, "version");
        bind(1, "tags");
        break;
      case ActionKind::kSidecar:
        bind(0, "path");
        bind(1, "sizeInBytes");
        bind(2, "modificationTime");
        bind(3, "tags");
        break;
      case ActionKind::kAdd:
        bind(0, "path");
        bind(1, "partitionValues");
        bind(2, "size");
        bind(3, "modificationTime");
        bind(4, "dataChange");
        bind(5, "stats");
        bind(6, "tags");
        bind(7, "baseRowId");
        bind(8, "defaultRowCommitVersion");
        bind(9, "clusteringProvider");
        dv_.Resolve(Field(self_, "deletionVector"));
        break;
      case ActionKind::kRemove:
        bind(0, "path");
        bind(1, "partitionValues");
        bind(2, "size");
        bind(3, "deletionTimestamp");
        bind(4, "dataChange");
        bind(5, "stats");
        bind(6, "tags");
        bind(7, "baseRowId");
        bind(8, "defaultRowCommitVersion");
        bind(9, "extendedFileMetadata");
        dv_.Resolve(Field(self_, "deletionVector"));
        break;
    }
    return Status::OK();
  }

  /// Calls the visitor when the action at `row` is not null.
  Status Visit(idx_t row, delta::ActionVisitor& visitor) {
    if (!self_.Valid(row)) return Status::OK();
    const Vec* f = fields_.data();
    switch (kind_) {
      case ActionKind::kProtocol: {
        delta::ProtocolAction p;
        TARN_RETURN_IF_ERROR(ReadNarrowInt(f[0], row, "protocol.minReaderVersion", p.min_reader_version));
        TARN_RETURN_IF_ERROR(ReadNarrowInt(f[1], row, "protocol.minWriterVersion", p.min_writer_version));
        if (f[2].Valid(row)) {
          TARN_RETURN_IF_ERROR(ReadStringList(f[2], row, "protocol.readerFeatures", p.reader_features.emplace()));
        }
        if (f[3].Valid(row)) {
          TARN_RETURN_IF_ERROR(ReadStringList(f[3], row, "protocol.writerFeatures", p.writer_features.emplace()));
        }
        return visitor.OnProtocol(p);
      }
      case ActionKind::kMetadata: {
        delta::MetadataAction m;
        TARN_RETURN_IF_ERROR(ReadString(f[0], row, "metaData.id", m.id));
        TARN_RETURN_IF_ERROR(ReadOptionalString(f[1], row, "metaData.name", m.name));
        TARN_RETURN_IF_ERROR(ReadOptionalString(f[2], row, "metaData.description", m.description));
        if (f[3].present()) {
          if (!f[3].Valid(row)) return Corrupt("metaData.format", "is null");
          TARN_RETURN_IF_ERROR(ReadString(f[8], row, "metaData.format.provider", m.format_provider));
          TARN_RETURN_IF_ERROR(ReadStringMap(f[9], row, "metaData.format.options", m.format_options));
        }
        // Old writers left schemaString null (the JSON log omits it): read as "no columns".
        if (f[4].Valid(row)) TARN_RETURN_IF_ERROR(ReadStringValue(f[4], row, "metaData.schemaString", m.schema_string));
        if (f[5].present()) {
          if (!f[5].Valid(row)) return Corrupt("metaData.partitionColumns", "is null");
          TARN_RETURN_IF_ERROR(ReadStringList(f[5], row, "metaData.partitionColumns", m.partition_columns));
        }
        TARN_RETURN_IF_ERROR(ReadStringMap(f[6], row, "metaData.configuration", m.configuration));
        TARN_RETURN_IF_ERROR(ReadOptionalInt(f[7], row, "metaData.createdTime", m.created_time));
        return visitor.OnMetadata(m);
      }
      case ActionKind::kTxn: {
        delta::TxnAction t;
        TARN_RETURN_IF_ERROR(ReadString(f[0], row, "txn.appId", t.app_id));
        TARN_RETURN_IF_ERROR(ReadInt(f[1], row, "txn.version", t.version));
        TARN_RETURN_IF_ERROR(ReadOptionalInt(f[2], row, "txn.lastUpdated", t.last_updated));
        return visitor.OnTxn(t);
      }
      case ActionKind::kDomainMetadata: {
        delta::DomainMetadataAction d;
        TARN_RETURN_IF_ERROR(ReadString(f[0], row, "domainMetadata.domain", d.domain));
        TARN_RETURN_IF_ERROR(ReadString(f[1], row, "domainMetadata.configuration", d.configuration));
        TARN_RETURN_IF_ERROR(ReadBool(f[2], row, "domainMetadata.removed", d.removed));
        return visitor.OnDomainMetadata(d);
      }
      case ActionKind::kCheckpointMetadata: {
        delta::CheckpointMetadataAction c;
        TARN_RETURN_IF_ERROR(ReadInt(f[0], row, "checkpointMetadata.version", c.version));
        TARN_RETURN_IF_ERROR(ReadMap(f[1], row, "checkpointMetadata.tags", c.tags));
        return visitor.OnCheckpointMetadata(c);
      }
      case ActionKind::kSidecar: {
        delta::SidecarAction s;
        TARN_RETURN_IF_ERROR(ReadString(f[0], row, "sidecar.path", s.path));
        TARN_RETURN_IF_ERROR(ReadInt(f[1], row, "sidecar.sizeInBytes", s.size_in_bytes));
        TARN_RETURN_IF_ERROR(ReadInt(f[2], row, "sidecar.modificationTime", s.modification_time));
        TARN_RETURN_IF_ERROR(ReadMap(f[3], row, "sidecar.tags", s.tags));
        return visitor.OnSidecar(s);
      }
      case ActionKind::kAdd: {
        delta::AddAction& a = add_;  // reused: its strings and vectors keep their capacity
        a.path.clear();
        a.size = 0;
        a.modification_time = 0;
        a.data_change = true;
        TARN_RETURN_IF_ERROR(ReadString(f[0], row, "add.path", a.path));
        TARN_RETURN_IF_ERROR(ReadMap(f[1], row, "add.partitionValues", a.partition_values));
        TARN_RETURN_IF_ERROR(ReadInt(f[2], row, "add.size", a.size));
        TARN_RETURN_IF_ERROR(ReadInt(f[3], row, "add.modificationTime", a.modification_time));
        TARN_RETURN_IF_ERROR(ReadBool(f[4], row, "add.dataChange", a.data_change));
        TARN_RETURN_IF_ERROR(ReadOptionalString(f[5], row, "add.stats", a.stats));
        TARN_RETURN_IF_ERROR(ReadMap(f[6], row, "add.tags", a.tags));
        TARN_RETURN_IF_ERROR(dv_.Read(row, "add", a.deletion_vector));
        TARN_RETURN_IF_ERROR(ReadOptionalInt(f[7], row, "add.baseRowId", a.base_row_id));
        TARN_RETURN_IF_ERROR(ReadOptionalInt(f[8], row, "add.defaultRowCommitVersion", a.default_row_commit_version));
        TARN_RETURN_IF_ERROR(ReadOptionalString(f[9], row, "add.clusteringProvider", a.clustering_provider));
        if (a.path.empty()) return Error(ErrorCode::kCorruptData, "add action without a path");
        return visitor.OnAdd(a);
      }
      case ActionKind::kRemove: {
        delta::RemoveAction& r = remove_;
        r.path.clear();
        r.data_change = true;
        r.extended_file_metadata = false;
        TARN_RETURN_IF_ERROR(ReadString(f[0], row, "remove.path", r.path));
        TARN_RETURN_IF_ERROR(ReadMap(f[1], row, "remove.partitionValues", r.partition_values));
        TARN_RETURN_IF_ERROR(ReadOptionalInt(f[2], row, "remove.size", r.size));
        TARN_RETURN_IF_ERROR(ReadOptionalInt(f[3], row, "remove.deletionTimestamp", r.deletion_timestamp));
        TARN_RETURN_IF_ERROR(ReadBool(f[4], row, "remove.dataChange", r.data_change));
        TARN_RETURN_IF_ERROR(ReadOptionalString(f[5], row, "remove.stats", r.stats));
        TARN_RETURN_IF_ERROR(ReadMap(f[6], row, "remove.tags", r.tags));
        TARN_RETURN_IF_ERROR(dv_.Read(row, "remove", r.deletion_vector));
        TARN_RETURN_IF_ERROR(ReadOptionalInt(f[7], row, "remove.baseRowId", r.base_row_id));
        TARN_RETURN_IF_ERROR(ReadOptionalInt(f[8], row, "remove.defaultRowCommitVersion", r.default_row_commit_version));
        TARN_RETURN_IF_ERROR(ReadBool(f[9], row, "remove.extendedFileMetadata", r.extended_file_metadata));
        if (r.path.empty()) return Error(ErrorCode::kCorruptData, "remove action without a path");
        return visitor.OnRemove(r);
      }
    }
    return Status::OK();
  }

 private:
  static constexpr size_t kMaxFields = 10;
  size_t Index() const { return static_cast<size_t>(kind_); }

  ActionKind kind_;
  size_t column_;
  const LogicalType& type_;
  Vec self_;
  std::array<Vec, kMaxFields> fields_{};
  DeletionVectorVecs dv_;
  delta::AddAction add_;
  delta::RemoveAction remove_;
};

// A temporary copy of an object for stores without local paths; removed on destruction.
class TemporaryFile {
 public:
  TemporaryFile() = default;
  ~TemporaryFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  Status Create(std::string_view data) {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/tarn-checkpoint-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    int fd = mkstemp(name.data());
    if (fd < 0) return Error(ErrorCode::kIoError, "cannot create a temporary file in {}", pattern);
    path_ = name.data();
    size_t written = 0;
    while (written < data.size()) {
      ssize_t n = ::write(fd, data.data() + written, data.size() - written);
      if (n <= 0) {
        ::close(fd);
        return Error(ErrorCode::kIoError, "cannot write temporary file {}", path_);
      }
      written += static_cast<size_t>(n);
    }
    ::close(fd);
    return Status::OK();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

Status DuckCheckpointReader::ReadCheckpointActions(storage::ObjectStore& store, std::string_view key,
                                                   const delta::CheckpointReadRequest& request,
                                                   delta::ActionVisitor& visitor) {
  auto info = store.Stat(key);
  if (!info.has_value()) {
    if (info.status().code() == ErrorCode::kResourceDoesNotExist) {
      return Error(ErrorCode::kResourceDoesNotExist, "checkpoint file not found: {}", key);
    }
    return info.status().WithContext("checkpoint file {}", key);
  }
  std::string path;
  TemporaryFile temporary;
  if (auto local = store.LocalPath(key)) {
    path = *local;
  } else {
    TARN_ASSIGN_OR_RETURN(std::string data, store.Read(key));
    TARN_RETURN_IF_ERROR(temporary.Create(data));
    path = temporary.path();
  }

  TARN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, database_.Connect());
  // Binding `SELECT *` reads the file's schema; when it holds exactly the columns we need in their plain form, that
  // statement is the query, otherwise one projection is prepared.
  std::string source = "read_parquet(" + QuoteSqlString(path) + ", hive_partitioning = false)";
  auto prepared = session->Prepare("SELECT * FROM " + source);
  if (!prepared.has_value()) {
    return Error(ErrorCode::kCorruptData, "cannot read checkpoint file {}: {}", key, prepared.status().message());
  }
  const std::vector<Column>& file_columns = (*prepared)->columns();
  std::string select_list;
  std::vector<ActionKind> selected;  // the action of each result column, in result order
  bool plain = true;                 // every file column is selected as is, in file order
  for (const Column& column : file_columns) {
    std::optional<ActionKind> kind;
    for (size_t i = 0; i < kActionColumns.size(); ++i) {
      if (column.name == kActionColumns[i]) kind = static_cast<ActionKind>(i);
    }
    if (!kind || (IsFileAction(*kind) && !request.include_file_actions)) {
      plain = false;
      continue;
    }
    std::string expr = IsFileAction(*kind) ? FileActionExpr(column.name, column.type) : QuoteSqlIdentifier(column.name);
    if (expr != QuoteSqlIdentifier(column.name)) plain = false;
    select_list += (select_list.empty() ? "" : ", ") + expr + " AS " + QuoteSqlIdentifier(column.name);
    selected.push_back(*kind);
  }
  if (selected.empty()) return Status::OK();
  std::unique_ptr<PreparedStatement> statement;
  if (plain) {
    statement = std::move(*prepared);
  } else {
    prepared->reset();
    auto projection = session->Prepare("SELECT " + select_list + " FROM " + source);
    if (!projection.has_value()) {
      return Error(ErrorCode::kCorruptData, "cannot read checkpoint file {}: {}", key, projection.status().message());
    }
    statement = std::move(*projection);
  }
  const std::vector<Column>& columns = statement->columns();
  // Decoders in action order, so that the actions of one row reach the visitor in that order.
  std::vector<ActionDecoder> decoders;
  decoders.reserve(selected.size());
  for (size_t action = 0; action < kActionColumns.size(); ++action) {
    for (size_t col = 0; col < selected.size(); ++col) {
      if (static_cast<size_t>(selected[col]) == action) decoders.emplace_back(selected[col], col, columns[col].type);
    }
  }

  auto stream = statement->Execute();
  if (!stream.has_value()) {
    return Error(ErrorCode::kCorruptData, "cannot read checkpoint file {}: {}", key, stream.status().message());
  }
  int64_t row_number = 0;
  while (true) {
    auto chunk = (*stream)->Next();
    if (!chunk.has_value()) {
      return Error(ErrorCode::kCorruptData, "cannot read checkpoint file {}: {}", key, chunk.status().message());
    }
    if (!*chunk) break;
    const Chunk::Impl& impl = (*chunk)->impl();
    for (ActionDecoder& decoder : decoders) {
      if (Status st = decoder.Resolve(impl); !st.ok()) return st.WithContext("checkpoint file {}", key);
    }
    for (idx_t row = 0; row < impl.num_rows; ++row) {
      ++row_number;
      for (ActionDecoder& decoder : decoders) {
        Status st = decoder.Visit(row, visitor);
        if (!st.ok()) {
          if (st.code() == ErrorCode::kCorruptData) {
            return st.WithContext("checkpoint file {} row {}", key, row_number);
          }
          return st;
        }
      }
    }
  }
  return Status::OK();
}

}  // namespace tarn::engine
