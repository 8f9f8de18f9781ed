// SPDX-License-Identifier: Apache-2.0
// DuckCheckpointReader: checkpoint rows -> JSON action lines (DuckDB to_json) -> delta::ReadJsonActions.
#include "tarn/engine/delta_checkpoint_reader.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tarn/engine/database.hpp"
#include "tarn/engine/sql_quoting.hpp"

namespace tarn::engine {
namespace {

// The action columns a checkpoint may hold, in the order readers expect to see them.
constexpr const char* kActionColumns[] = {"protocol", "metaData", "txn", "domainMetadata", "checkpointMetadata",
                                          "sidecar", "add", "remove"};

const ChildType* FindChild(const LogicalType& type, std::string_view name) {
  for (const ChildType& child : type.children) {
    if (child.name == name) return &child;
  }
  return nullptr;
}

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

// add/remove: the struct minus *_parsed fields, with stats and partitionValues filled in from their typed forms.
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

// metaData: old writers left schemaString null (the JSON log omits it); the log reader takes a missing one as "no
// columns", so render null as empty rather than as a JSON null it would refuse.
std::string MetadataExpr(const std::string& column, const LogicalType& type) {
  std::string col = QuoteSqlIdentifier(column);
  if (type.id != TypeId::kStruct || FindChild(type, "schemaString") == nullptr) return col;
  std::string fields;
  for (const ChildType& child : type.children) {
    std::string field = col + "." + QuoteSqlIdentifier(child.name);
    if (child.name == "schemaString") field = "COALESCE(" + field + ", '')";
    fields += (fields.empty() ? "" : ", ") + QuoteSqlIdentifier(child.name) + " := " + field;
  }
  return "CASE WHEN " + col + " IS NULL THEN NULL ELSE struct_pack(" + fields + ") END";
}

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
  std::string source = "read_parquet(" + QuoteSqlString(path) + ", hive_partitioning = false)";
  auto prepared = session->Prepare("SELECT * FROM " + source);
  if (!prepared.has_value()) {
    return Error(ErrorCode::kCorruptData, "cannot read checkpoint file {}: {}", key, prepared.status().message());
  }
  const std::vector<Column> columns = (*prepared)->columns();
  prepared.value().reset();
  std::vector<std::string> fields;
  for (const char* name : kActionColumns) {
    bool file_action = std::string_view(name) == "add" || std::string_view(name) == "remove";
    if (file_action && !request.include_file_actions) continue;
    for (const Column& column : columns) {
      if (column.name != name) continue;
      std::string expr = file_action ? FileActionExpr(column.name, column.type)
                         : column.name == "metaData" ? MetadataExpr(column.name, column.type)
                                                     : QuoteSqlIdentifier(column.name);
      fields.push_back(QuoteSqlIdentifier(column.name) + " := " + expr);
    }
  }
  if (fields.empty()) return Status::OK();
  std::string select_list;
  for (const std::string& field : fields) select_list += (select_list.empty() ? "" : ", ") + field;
  std::string sql = "SELECT CAST(to_json(struct_pack(" + select_list + ")) AS VARCHAR) FROM " + source;

  auto stream = session->Execute(sql);
  if (!stream.has_value()) {
    return Error(ErrorCode::kCorruptData, "cannot read checkpoint file {}: {}", key, stream.status().message());
  }
  std::string label = "checkpoint file " + std::string(key);
  std::string lines;
  while (true) {
    auto chunk = (*stream)->Next();
    if (!chunk.has_value()) {
      return Error(ErrorCode::kCorruptData, "cannot read checkpoint file {}: {}", key, chunk.status().message());
    }
    if (!*chunk) break;
    lines.clear();
    for (size_t row = 0; row < (*chunk)->num_rows(); row++) {
      if ((*chunk)->IsNull(0, row)) continue;
      lines += (*chunk)->GetString(0, row);
      lines += '\n';
    }
    TARN_RETURN_IF_ERROR(delta::ReadJsonActions(lines, label, visitor));
  }
  return Status::OK();
}

}  // namespace tarn::engine
