// SPDX-License-Identifier: Apache-2.0
// DuckCheckpointWriter: checkpoint rows -> DuckDB vectors (Appender) -> temp table -> COPY to Parquet -> rename.
#include "tarn/engine/delta_checkpoint_writer.hpp"

#include <duckdb.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "tarn/delta/uuid.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/detail/impl.hpp"
#include "tarn/engine/sql_quoting.hpp"

namespace tarn::engine {
namespace {

constexpr std::string_view kStringMap = "MAP(VARCHAR, VARCHAR)";
constexpr std::string_view kDeletionVector =
    "STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, sizeInBytes INTEGER, "
    "cardinality BIGINT, maxRowIndex BIGINT)";

// Spark's checkpoint schema (PROTOCOL.md "Checkpoint Schema"; the same types as Spark 3.5 / Delta 3 checkpoints).
const std::string& TxnType() {
  static const std::string type = "STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)";
  return type;
}
const std::string& AddType() {
  static const std::string type =
      "STRUCT(path VARCHAR, partitionValues " + std::string(kStringMap) +
      ", size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, tags " + std::string(kStringMap) +
      ", deletionVector " + std::string(kDeletionVector) +
      ", baseRowId BIGINT, defaultRowCommitVersion BIGINT, clusteringProvider VARCHAR, stats VARCHAR)";
  return type;
}
const std::string& RemoveType() {
  static const std::string type =
      "STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, "
      "partitionValues " + std::string(kStringMap) + ", size BIGINT, deletionVector " + std::string(kDeletionVector) +
      ", baseRowId BIGINT, defaultRowCommitVersion BIGINT)";
  return type;
}
const std::string& MetadataType() {
  static const std::string type =
      "STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options " +
      std::string(kStringMap) + "), schemaString VARCHAR, partitionColumns VARCHAR[], configuration " +
      std::string(kStringMap) + ", createdTime BIGINT)";
  return type;
}
const std::string& ProtocolType() {
  static const std::string type =
      "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])";
  return type;
}
const std::string& DomainMetadataType() {
  static const std::string type = "STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)";
  return type;
}
const std::string& CheckpointMetadataType() {
  static const std::string type = "STRUCT(version BIGINT, tags " + std::string(kStringMap) + ")";
  return type;
}

// A file removed on destruction unless released.
class ScopedFile {
 public:
  explicit ScopedFile(std::string path) : path_(std::move(path)) {}
  ~ScopedFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  ScopedFile(const ScopedFile&) = delete;
  ScopedFile& operator=(const ScopedFile&) = delete;
  const std::string& path() const { return path_; }
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

std::string TempDirectory() {
  const char* dir = std::getenv("TMPDIR");
  return dir != nullptr && *dir != '\0' ? std::string(dir) : std::string("/tmp");
}

Status ErrnoError(std::string_view what, const std::string& path) {
  return Error(ErrorCode::kIoError, "{} {}: {}", what, path, std::strerror(errno));
}

Status SyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot fsync", path);
  return Status::OK();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return ErrnoError("cannot open", path);
  std::string out;
  char buffer[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) out.append(buffer, n);
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) return ErrnoError("cannot read", path);
  return out;
}

Status RunToEnd(Session& session, const std::string& sql) {
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<ResultStream> stream, session.Execute(sql));
  while (true) {
    TARN_ASSIGN_OR_RETURN(std::unique_ptr<Chunk> chunk, stream->Next());
    if (!chunk) break;
  }
  return Status::OK();
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}


// ---- rows straight into DuckDB vectors (Appender with data chunks) ----

// Which vectors of a column are structs or lists, so that a NULL row can null its children too.
struct Shape {
  enum class Kind { kLeaf, kStruct, kList } kind = Kind::kLeaf;
  std::vector<Shape> children;
};

Shape ShapeOf(duckdb_logical_type type) {
  Shape shape;
  duckdb_type id = duckdb_get_type_id(type);
  if (id == DUCKDB_TYPE_STRUCT) {
    shape.kind = Shape::Kind::kStruct;
    idx_t count = duckdb_struct_type_child_count(type);
    for (idx_t i = 0; i < count; i++) {
      duckdb_logical_type child = duckdb_struct_type_child_type(type, i);
      shape.children.push_back(ShapeOf(child));
      duckdb_destroy_logical_type(&child);
    }
  } else if (id == DUCKDB_TYPE_LIST || id == DUCKDB_TYPE_MAP) {
    shape.kind = Shape::Kind::kList;
  }
  return shape;
}

// The vectors of one column of a data chunk with their (writable) validity masks, fetched once per chunk.
struct VecNode {
  duckdb_vector vector = nullptr;
  uint64_t* validity = nullptr;
  Shape::Kind kind = Shape::Kind::kLeaf;
  std::vector<VecNode> children;  // struct fields
};

VecNode BuildNode(duckdb_vector vector, const Shape& shape) {
  VecNode node;
  node.vector = vector;
  node.kind = shape.kind;
  duckdb_vector_ensure_validity_writable(vector);
  node.validity = duckdb_vector_get_validity(vector);
  if (shape.kind == Shape::Kind::kStruct) {
    for (size_t i = 0; i < shape.children.size(); i++) {
      node.children.push_back(BuildNode(duckdb_struct_vector_get_child(vector, i), shape.children[i]));
    }
  }
  return node;
}

void SetNull(const VecNode& node, idx_t row) {
  node.validity[row / 64] &= ~(uint64_t{1} << (row % 64));
  if (node.kind == Shape::Kind::kStruct) {
    for (const VecNode& child : node.children) SetNull(child, row);
  } else if (node.kind == Shape::Kind::kList) {
    static_cast<duckdb_list_entry*>(duckdb_vector_get_data(node.vector))[row] = duckdb_list_entry{0, 0};
  }
}

void SetLeafNull(duckdb_vector vector, idx_t row) {
  duckdb_vector_ensure_validity_writable(vector);
  duckdb_validity_set_row_invalid(duckdb_vector_get_validity(vector), row);
}
void SetString(duckdb_vector vector, idx_t row, std::string_view text) {
  duckdb_vector_assign_string_element_len(vector, row, text.data(), text.size());
}
void SetInt64(duckdb_vector vector, idx_t row, int64_t value) {
  static_cast<int64_t*>(duckdb_vector_get_data(vector))[row] = value;
}
void SetInt32(duckdb_vector vector, idx_t row, int32_t value) {
  static_cast<int32_t*>(duckdb_vector_get_data(vector))[row] = value;
}
void SetBool(duckdb_vector vector, idx_t row, bool value) {
  static_cast<bool*>(duckdb_vector_get_data(vector))[row] = value;
}
template <typename T>
void SetOptionalInt(duckdb_vector vector, idx_t row, const std::optional<T>& value) {
  if (!value) return SetLeafNull(vector, row);
  if constexpr (sizeof(T) == 8) SetInt64(vector, row, *value);
  else SetInt32(vector, row, *value);
}
void SetOptionalString(duckdb_vector vector, idx_t row, const std::optional<std::string>& value) {
  if (!value) return SetLeafNull(vector, row);
  SetString(vector, row, *value);
}

// Appends `count` list elements for `row`; returns the offset of the first one in the child vector.
idx_t ReserveList(duckdb_vector vector, idx_t row, idx_t count) {
  idx_t offset = duckdb_list_vector_get_size(vector);
  duckdb_list_vector_reserve(vector, offset + count);
  duckdb_list_vector_set_size(vector, offset + count);
  static_cast<duckdb_list_entry*>(duckdb_vector_get_data(vector))[row] = duckdb_list_entry{offset, count};
  return offset;
}

void SetStringMap(duckdb_vector vector, idx_t row, const std::vector<delta::MapEntry>& entries) {
  idx_t offset = ReserveList(vector, row, entries.size());
  duckdb_vector child = duckdb_list_vector_get_child(vector);
  duckdb_vector keys = duckdb_struct_vector_get_child(child, 0);
  duckdb_vector values = duckdb_struct_vector_get_child(child, 1);
  for (size_t i = 0; i < entries.size(); i++) {
    SetString(keys, offset + i, entries[i].key);
    SetOptionalString(values, offset + i, entries[i].value);
  }
}
void SetStringMap(duckdb_vector vector, idx_t row, const std::map<std::string, std::string>& entries) {
  idx_t offset = ReserveList(vector, row, entries.size());
  duckdb_vector child = duckdb_list_vector_get_child(vector);
  duckdb_vector keys = duckdb_struct_vector_get_child(child, 0);
  duckdb_vector values = duckdb_struct_vector_get_child(child, 1);
  idx_t i = offset;
  for (const auto& [key, value] : entries) {
    SetString(keys, i, key);
    SetString(values, i, value);
    i++;
  }
}
void SetStringList(duckdb_vector vector, idx_t row, const std::vector<std::string>& values) {
  idx_t offset = ReserveList(vector, row, values.size());
  duckdb_vector child = duckdb_list_vector_get_child(vector);
  for (size_t i = 0; i < values.size(); i++) SetString(child, offset + i, values[i]);
}

void SetDeletionVector(const VecNode& node, idx_t row, const std::optional<delta::DeletionVectorDescriptor>& dv) {
  if (!dv) return SetNull(node, row);
  duckdb_vector vector = node.vector;
  SetString(duckdb_struct_vector_get_child(vector, 0), row, dv->storage_type);
  SetString(duckdb_struct_vector_get_child(vector, 1), row, dv->path_or_inline_dv);
  SetOptionalInt(duckdb_struct_vector_get_child(vector, 2), row, dv->offset);
  SetInt32(duckdb_struct_vector_get_child(vector, 3), row, dv->size_in_bytes);
  SetInt64(duckdb_struct_vector_get_child(vector, 4), row, dv->cardinality);
  SetOptionalInt(duckdb_struct_vector_get_child(vector, 5), row, dv->max_row_index);
}

// Column indexes in CheckpointColumns order.
enum Col { kTxn = 0, kAdd, kRemove, kMetadata, kProtocol, kDomain, kCheckpointMetadata };

// Fills one row of column `column` (the others are set to NULL).
class RowWriter {
 public:
  explicit RowWriter(const std::vector<VecNode>& nodes) : nodes_(nodes) {}
  duckdb_vector Field(int column, size_t field) const { return nodes_[column].children[field].vector; }
  const VecNode& FieldNode(int column, size_t field) const { return nodes_[column].children[field]; }
  void NullOthers(idx_t row, int keep) const {
    for (size_t i = 0; i < nodes_.size(); i++) {
      if (static_cast<int>(i) != keep) SetNull(nodes_[i], row);
    }
  }

  void Write(idx_t row, const delta::ProtocolAction& p) const {
    NullOthers(row, kProtocol);
    SetInt32(Field(kProtocol, 0), row, p.min_reader_version);
    SetInt32(Field(kProtocol, 1), row, p.min_writer_version);
    if (p.reader_features) SetStringList(Field(kProtocol, 2), row, *p.reader_features);
    else SetNull(FieldNode(kProtocol, 2), row);
    if (p.writer_features) SetStringList(Field(kProtocol, 3), row, *p.writer_features);
    else SetNull(FieldNode(kProtocol, 3), row);
  }
  void Write(idx_t row, const delta::MetadataAction& m) const {
    NullOthers(row, kMetadata);
    SetString(Field(kMetadata, 0), row, m.id);
    SetOptionalString(Field(kMetadata, 1), row, m.name);
    SetOptionalString(Field(kMetadata, 2), row, m.description);
    duckdb_vector format = Field(kMetadata, 3);
    SetString(duckdb_struct_vector_get_child(format, 0), row, m.format_provider);
    SetStringMap(duckdb_struct_vector_get_child(format, 1), row, m.format_options);
    SetString(Field(kMetadata, 4), row, m.schema_string);
    SetStringList(Field(kMetadata, 5), row, m.partition_columns);
    SetStringMap(Field(kMetadata, 6), row, m.configuration);
    SetOptionalInt(Field(kMetadata, 7), row, m.created_time);
  }
  void Write(idx_t row, const delta::TxnAction& t) const {
    NullOthers(row, kTxn);
    SetString(Field(kTxn, 0), row, t.app_id);
    SetInt64(Field(kTxn, 1), row, t.version);
    SetOptionalInt(Field(kTxn, 2), row, t.last_updated);
  }
  void Write(idx_t row, const delta::DomainMetadataAction& d) const {
    NullOthers(row, kDomain);
    SetString(Field(kDomain, 0), row, d.domain);
    SetString(Field(kDomain, 1), row, d.configuration);
    SetBool(Field(kDomain, 2), row, d.removed);
  }
  void Write(idx_t row, const delta::CheckpointMetadataAction& c) const {
    NullOthers(row, kCheckpointMetadata);
    SetInt64(Field(kCheckpointMetadata, 0), row, c.version);
    if (c.tags.empty()) SetNull(FieldNode(kCheckpointMetadata, 1), row);
    else SetStringMap(Field(kCheckpointMetadata, 1), row, c.tags);
  }
  void Write(idx_t row, const delta::AddAction& a, bool with_stats) const {
    NullOthers(row, kAdd);
    SetString(Field(kAdd, 0), row, a.path);
    SetStringMap(Field(kAdd, 1), row, a.partition_values);
    SetInt64(Field(kAdd, 2), row, a.size);
    SetInt64(Field(kAdd, 3), row, a.modification_time);
    SetBool(Field(kAdd, 4), row, a.data_change);
    if (a.tags.empty()) SetNull(FieldNode(kAdd, 5), row);
    else SetStringMap(Field(kAdd, 5), row, a.tags);
    SetDeletionVector(FieldNode(kAdd, 6), row, a.deletion_vector);
    SetOptionalInt(Field(kAdd, 7), row, a.base_row_id);
    SetOptionalInt(Field(kAdd, 8), row, a.default_row_commit_version);
    SetOptionalString(Field(kAdd, 9), row, a.clustering_provider);
    if (with_stats) SetOptionalString(Field(kAdd, 10), row, a.stats);
    else SetLeafNull(Field(kAdd, 10), row);
  }
  void Write(idx_t row, const delta::RemoveAction& r) const {
    NullOthers(row, kRemove);
    SetString(Field(kRemove, 0), row, r.path);
    SetOptionalInt(Field(kRemove, 1), row, r.deletion_timestamp);
    SetBool(Field(kRemove, 2), row, r.data_change);
    SetBool(Field(kRemove, 3), row, r.extended_file_metadata);
    SetStringMap(Field(kRemove, 4), row, r.partition_values);
    SetOptionalInt(Field(kRemove, 5), row, r.size);
    SetDeletionVector(FieldNode(kRemove, 6), row, r.deletion_vector);
    SetOptionalInt(Field(kRemove, 7), row, r.base_row_id);
    SetOptionalInt(Field(kRemove, 8), row, r.default_row_commit_version);
  }

 private:
  const std::vector<VecNode>& nodes_;
};

Status AppenderError(duckdb_appender appender, std::string_view what) {
  duckdb_error_data error = duckdb_appender_error_data(appender);
  std::string message = error != nullptr && duckdb_error_data_has_error(error) ? duckdb_error_data_message(error)
                                                                               : "unknown error";
  if (error != nullptr) duckdb_destroy_error_data(&error);
  return Error(ErrorCode::kInternal, "{}: {}", what, message);
}

// Appends every checkpoint row, in order, to the temporary table `table` of `connection`.
Status AppendRows(duckdb_connection connection, const std::string& table, const delta::CheckpointContent& content) {
  duckdb_appender appender = nullptr;
  if (duckdb_appender_create_ext(connection, "temp", "main", table.c_str(), &appender) == DuckDBError) {
    Status st = AppenderError(appender, "cannot create checkpoint appender");
    duckdb_appender_destroy(&appender);
    return st;
  }
  idx_t num_columns = duckdb_appender_column_count(appender);
  std::vector<duckdb_logical_type> types(num_columns);
  std::vector<Shape> shapes;
  for (idx_t i = 0; i < num_columns; i++) {
    types[i] = duckdb_appender_column_type(appender, i);
    shapes.push_back(ShapeOf(types[i]));
  }
  const idx_t capacity = duckdb_vector_size();
  Status status = Status::OK();
  duckdb_data_chunk chunk = nullptr;
  std::vector<VecNode> nodes;
  idx_t row = 0;
  auto flush = [&]() -> Status {
    if (chunk == nullptr) return Status::OK();
    duckdb_data_chunk_set_size(chunk, row);
    duckdb_state state = duckdb_append_data_chunk(appender, chunk);
    duckdb_destroy_data_chunk(&chunk);
    chunk = nullptr;
    row = 0;
    if (state == DuckDBError) return AppenderError(appender, "cannot append checkpoint rows");
    return Status::OK();
  };
  auto next_row = [&]() -> Result<idx_t> {
    if (chunk != nullptr && row == capacity) TARN_RETURN_IF_ERROR(flush());
    if (chunk == nullptr) {
      chunk = duckdb_create_data_chunk(types.data(), num_columns);
      nodes.clear();
      for (idx_t i = 0; i < num_columns; i++) nodes.push_back(BuildNode(duckdb_data_chunk_get_vector(chunk, i), shapes[i]));
    }
    return row++;
  };
  auto write_all = [&]() -> Status {
    auto writer = [&]() { return RowWriter(nodes); };
    TARN_ASSIGN_OR_RETURN(idx_t r, next_row());
    writer().Write(r, content.protocol);
    TARN_ASSIGN_OR_RETURN(r, next_row());
    writer().Write(r, content.metadata);
    for (const delta::TxnAction& txn : content.txns) {
      TARN_ASSIGN_OR_RETURN(r, next_row());
      writer().Write(r, txn);
    }
    for (const delta::DomainMetadataAction& domain : content.domain_metadata) {
      TARN_ASSIGN_OR_RETURN(r, next_row());
      writer().Write(r, domain);
    }
    if (content.checkpoint_metadata) {
      TARN_ASSIGN_OR_RETURN(r, next_row());
      writer().Write(r, *content.checkpoint_metadata);
    }
    for (const delta::AddAction& add : content.adds) {
      TARN_ASSIGN_OR_RETURN(r, next_row());
      writer().Write(r, add, content.write_stats_as_json);
    }
    for (const delta::RemoveAction& remove : content.removes) {
      TARN_ASSIGN_OR_RETURN(r, next_row());
      writer().Write(r, remove);
    }
    return flush();
  };
  status = write_all();
  if (chunk != nullptr) duckdb_destroy_data_chunk(&chunk);
  for (duckdb_logical_type& type : types) duckdb_destroy_logical_type(&type);
  if (status.ok() && duckdb_appender_close(appender) == DuckDBError) {
    status = AppenderError(appender, "cannot flush checkpoint rows");
  }
  duckdb_appender_destroy(&appender);
  return status;
}

}  // namespace

std::vector<CheckpointColumn> CheckpointColumns(bool with_checkpoint_metadata) {
  std::vector<CheckpointColumn> columns = {
      {"txn", TxnType()},           {"add", AddType()},           {"remove", RemoveType()},
      {"metaData", MetadataType()}, {"protocol", ProtocolType()}, {"domainMetadata", DomainMetadataType()},
  };
  if (with_checkpoint_metadata) columns.push_back({"checkpointMetadata", CheckpointMetadataType()});
  return columns;
}

Result<delta::CheckpointFileInfo> DuckCheckpointWriter::WriteCheckpoint(storage::ObjectStore& store,
                                                                         std::string_view key,
                                                                         const delta::CheckpointContent& content) {
  const std::string unique = delta::NewUuid();
  std::optional<std::string> local = store.LocalPath(key);
  // The Parquet file is produced next to its final name (same filesystem, so the rename is atomic); Spark uses the
  // same hidden ".<name>.<uuid>.tmp" pattern, which log listings ignore.
  std::string parquet_path;
  if (local) {
    std::string dir = DirectoryOf(*local);
    std::error_code ignored;
    std::filesystem::create_directories(dir, ignored);  // a missing directory then fails the COPY with its name
    std::string name = local->substr(local->rfind('/') + 1);
    parquet_path = dir + "/." + name + "." + unique + ".tmp";
  } else {
    parquet_path = TempDirectory() + "/tarn-checkpoint-" + unique + ".parquet";
  }
  ScopedFile parquet_file(parquet_path);
  bool with_checkpoint_metadata = content.checkpoint_metadata.has_value();
  std::string table = "__tarn_checkpoint_" + unique.substr(0, 8);
  std::string columns;
  for (const CheckpointColumn& column : CheckpointColumns(with_checkpoint_metadata)) {
    if (!columns.empty()) columns += ", ";
    columns += QuoteSqlIdentifier(column.name) + " " + std::string(column.type);
  }
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, database_.Connect());
  TARN_RETURN_IF_ERROR(RunToEnd(*session, "CREATE TEMP TABLE " + table + " (" + columns + ")"));
  Status copied = AppendRows(session->impl().connection.get(), table, content);
  // Row order is the checkpoint's documented order (protocol and metaData first).
  if (copied.ok()) copied = RunToEnd(*session, "SET preserve_insertion_order = true");
  if (copied.ok()) {
    copied = RunToEnd(*session, "COPY " + table + " TO " + QuoteSqlString(parquet_path) +
                                    " (FORMAT parquet, COMPRESSION snappy)");
  }
  (void)RunToEnd(*session, "DROP TABLE IF EXISTS " + table);
  if (!copied.ok()) return copied.WithContext("writing checkpoint {}", key);

  struct stat info {};
  if (::stat(parquet_path.c_str(), &info) != 0) return ErrnoError("cannot stat", parquet_path);
  if (local) {
    TARN_RETURN_IF_ERROR(SyncPath(parquet_path, /*directory=*/false));
    if (::rename(parquet_path.c_str(), local->c_str()) != 0) return ErrnoError("cannot rename to", *local);
    parquet_file.Release();
    TARN_RETURN_IF_ERROR(SyncPath(DirectoryOf(*local), /*directory=*/true));
  } else {
    TARN_ASSIGN_OR_RETURN(std::string data, ReadWholeFile(parquet_path));
    TARN_RETURN_IF_ERROR(store.Write(key, data, storage::WriteOptions{}));
  }
  return delta::CheckpointFileInfo{static_cast<int64_t>(info.st_size)};
}

}  // namespace tarn::engine
