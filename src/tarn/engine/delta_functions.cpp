// SPDX-License-Identifier: Apache-2.0
// The Delta table functions (delta_scan, table_changes, delta_history, delta_detail, delta_files) on DuckDB's C API.
//
// Every function works the same way: bind computes a DuckDB SQL query (over read_parquet for scans, over literal
// rows for metadata), prepares it on an inner connection of the same database to learn the result types, and
// init runs it (only the projected columns) as a streaming query whose chunks are handed to DuckDB by reference,
// filtered by deletion vectors on the way (file_index + file_row_number).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tarn/delta/table_features.hpp"
#include "tarn/engine/deletion_vector.hpp"
#include "tarn/engine/delta_scan_plan.hpp"
#include "tarn/engine/detail/delta_runtime.hpp"
#include "tarn/engine/detail/duck_handles.hpp"
#include "tarn/engine/detail/duck_types.hpp"
#include "tarn/engine/duck_error.hpp"
#include "tarn/engine/sql_quoting.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace tarn::engine {
namespace {

using detail::DuckConnection;
using detail::DuckDataChunk;
using detail::DuckLogicalType;
using detail::DuckPending;
using detail::DuckPrepared;
using detail::DuckResult;
using detail::DuckString;

// ---- inner queries ----

Result<DuckConnection> InnerConnection(duckdb_database db) {
  DuckConnection connection;
  if (duckdb_connect(db, connection.out()) == DuckDBError) {
    return Error(ErrorCode::kInternal, "DuckDB refused an inner connection");
  }
  DuckResult result;
  if (duckdb_query(connection.get(), "SET TimeZone = 'UTC'", result.out()) == DuckDBError) {
    return DuckError(duckdb_result_error_type(result.get()), duckdb_result_error(result.get()));
  }
  return connection;
}

Result<DuckPrepared> PrepareInner(duckdb_connection connection, const std::string& sql) {
  DuckPrepared prepared;
  if (duckdb_prepare(connection, sql.c_str(), prepared.out()) == DuckDBError) {
    const char* error = prepared ? duckdb_prepare_error(prepared.get()) : nullptr;
    return DuckErrorFromMessage(error != nullptr ? error : "could not prepare the scan");
  }
  return prepared;
}

// ---- literal tables (history, detail, files) ----

std::string Literal(const std::optional<std::string>& value, std::string_view type) {
  return "CAST(" + (value ? QuoteSqlString(*value) : std::string("NULL")) + " AS " + std::string(type) + ")";
}

std::string IntLiteral(std::optional<int64_t> value, std::string_view type = "BIGINT") {
  return "CAST(" + (value ? std::to_string(*value) : std::string("NULL")) + " AS " + std::string(type) + ")";
}

std::string TimestampLiteral(std::optional<int64_t> millis) {
  if (!millis) return "CAST(NULL AS TIMESTAMP WITH TIME ZONE)";
  return "CAST(make_timestamp(CAST(" + std::to_string(*millis) + " AS BIGINT) * 1000) AS TIMESTAMP WITH TIME ZONE)";
}

std::string MapLiteral(const std::vector<std::pair<std::string, std::optional<std::string>>>& entries) {
  std::string out = "CAST(MAP {";
  for (size_t i = 0; i < entries.size(); i++) {
    if (i > 0) out += ", ";
    out += QuoteSqlString(entries[i].first) + ": " +
           (entries[i].second ? QuoteSqlString(*entries[i].second) : std::string("NULL"));
  }
  return out + "} AS MAP(VARCHAR, VARCHAR))";
}

std::string ListLiteral(const std::vector<std::string>& values) {
  std::string out = "CAST([";
  for (size_t i = 0; i < values.size(); i++) out += (i ? ", " : "") + QuoteSqlString(values[i]);
  return out + "] AS VARCHAR[])";
}

// Rows of SQL expressions (each already cast to its column's type) as one SELECT.
class LiteralTable {
 public:
  void AddColumn(std::string name, std::string type) { columns_.emplace_back(std::move(name), std::move(type)); }
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Sql() const {
    std::string names;
    for (const auto& [name, type] : columns_) names += (names.empty() ? "" : ", ") + QuoteSqlIdentifier(name);
    if (rows_.empty()) {
      std::string select;
      for (const auto& [name, type] : columns_) {
        select += (select.empty() ? "" : ", ") + ("CAST(NULL AS " + type + ") AS ") + QuoteSqlIdentifier(name);
      }
      return "SELECT " + select + " WHERE false";
    }
    std::string values;
    for (const auto& row : rows_) {
      std::string cells;
      for (const auto& cell : row) cells += (cells.empty() ? "" : ", ") + cell;
      values += (values.empty() ? "(" : ", (") + cells + ")";
    }
    return "SELECT * FROM (VALUES " + values + ") AS t(" + names + ")";
  }

 private:
  std::vector<std::pair<std::string, std::string>> columns_;
  std::vector<std::vector<std::string>> rows_;
};

std::optional<std::string> JsonString(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::vector<std::pair<std::string, std::optional<std::string>>> JsonMap(const nlohmann::json& object, const char* key) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) {
    if (v.is_null()) out.emplace_back(k, std::nullopt);
    else out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

Result<std::string> HistorySql(DeltaTableLoader& loader, const std::string& location) {
  TARN_ASSIGN_OR_RETURN(DeltaTableLog opened, loader.OpenLog(location));
  // Validates the table (exists, readable protocol) before listing its history.
  TARN_ASSIGN_OR_RETURN(DeltaTable table, loader.Load({location, std::nullopt, std::nullopt}));
  TARN_ASSIGN_OR_RETURN(auto timestamps, opened.log->CommitTimestamps());
  LiteralTable out;
  const char* columns[][2] = {{"version", "BIGINT"},
                              {"timestamp", "TIMESTAMP WITH TIME ZONE"},
                              {"userId", "VARCHAR"},
                              {"userName", "VARCHAR"},
                              {"operation", "VARCHAR"},
                              {"operationParameters", "MAP(VARCHAR, VARCHAR)"},
                              {"job", "VARCHAR"},
                              {"notebook", "VARCHAR"},
                              {"clusterId", "VARCHAR"},
                              {"readVersion", "BIGINT"},
                              {"isolationLevel", "VARCHAR"},
                              {"isBlindAppend", "BOOLEAN"},
                              {"operationMetrics", "MAP(VARCHAR, VARCHAR)"},
                              {"userMetadata", "VARCHAR"},
                              {"engineInfo", "VARCHAR"}};
  for (const auto& column : columns) out.AddColumn(column[0], column[1]);
  std::sort(timestamps.begin(), timestamps.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [version, timestamp] : timestamps) {
    if (version > table.snapshot->version()) continue;
    auto content = table.store->Read("_delta_log/" + delta::VersionStem(version) + ".json");
    if (!content.has_value()) continue;  // only a checkpoint is left of this version
    nlohmann::json info = nlohmann::json::object();
    TARN_ASSIGN_OR_RETURN(std::vector<delta::Action> actions,
                          delta::ParseJsonActions(*content, fmt::format("{} version {}", table.root, version)));
    for (const delta::Action& action : actions) {
      if (const auto* commit = std::get_if<delta::CommitInfoAction>(&action)) {
        auto parsed = nlohmann::json::parse(commit->raw_json, nullptr, /*allow_exceptions=*/false);
        if (parsed.is_object()) info = std::move(parsed);
      }
    }
    std::optional<int64_t> read_version;
    if (auto it = info.find("readVersion"); it != info.end() && it->is_number_integer()) {
      read_version = it->get<int64_t>();
    }
    std::string blind = "CAST(NULL AS BOOLEAN)";
    if (auto it = info.find("isBlindAppend"); it != info.end() && it->is_boolean()) {
      blind = it->get<bool>() ? "true" : "false";
    }
    out.AddRow({IntLiteral(version), TimestampLiteral(timestamp), Literal(JsonString(info, "userId"), "VARCHAR"),
                Literal(JsonString(info, "userName"), "VARCHAR"), Literal(JsonString(info, "operation"), "VARCHAR"),
                MapLiteral(JsonMap(info, "operationParameters")), Literal(JsonString(info, "job"), "VARCHAR"),
                Literal(JsonString(info, "notebook"), "VARCHAR"), Literal(JsonString(info, "clusterId"), "VARCHAR"),
                IntLiteral(read_version), blind, Literal(JsonString(info, "isolationLevel"), "VARCHAR"),
                MapLiteral(JsonMap(info, "operationMetrics")), Literal(JsonString(info, "userMetadata"), "VARCHAR"),
                Literal(JsonString(info, "engineInfo"), "VARCHAR")});
  }
  return out.Sql();
}

// Feature names a legacy (reader < 3, writer < 7) protocol implies.
std::vector<std::string> TableFeatures(const delta::ProtocolAction& protocol) {
  std::set<std::string> features;
  if (protocol.reader_features) features.insert(protocol.reader_features->begin(), protocol.reader_features->end());
  if (protocol.writer_features) {
    features.insert(protocol.writer_features->begin(), protocol.writer_features->end());
  } else {
    int w = protocol.min_writer_version;
    if (w >= 2) features.insert({"appendOnly", "invariants"});
    if (w >= 3) features.insert("checkConstraints");
    if (w >= 4) features.insert({"changeDataFeed", "generatedColumns"});
    if (w >= 5) features.insert("columnMapping");
    if (w >= 6) features.insert("identityColumns");
  }
  if (!protocol.reader_features && protocol.min_reader_version >= 2) features.insert("columnMapping");
  return {features.begin(), features.end()};
}

Result<std::string> DetailSql(DeltaTableLoader& loader, const DeltaTableSpec& spec) {
  TARN_ASSIGN_OR_RETURN(DeltaTable table, loader.Load(spec));
  const delta::Snapshot& snapshot = *table.snapshot;
  const delta::MetadataAction& metadata = snapshot.metadata();
  std::vector<std::string> clustering;
  if (auto it = snapshot.domain_metadata().find("delta.clustering"); it != snapshot.domain_metadata().end()) {
    auto config = nlohmann::json::parse(it->second.configuration, nullptr, false);
    if (config.is_object() && config.contains("clusteringColumns") && config["clusteringColumns"].is_array()) {
      for (const auto& path : config["clusteringColumns"]) {
        std::string name;
        if (path.is_array()) {
          for (const auto& part : path) name += (name.empty() ? "" : ".") + (part.is_string() ? part.get<std::string>() : part.dump());
        }
        clustering.push_back(name);
      }
    }
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> properties(metadata.configuration.begin(),
                                                                             metadata.configuration.end());
  LiteralTable out;
  const char* columns[][2] = {{"format", "VARCHAR"},
                              {"id", "VARCHAR"},
                              {"name", "VARCHAR"},
                              {"description", "VARCHAR"},
                              {"location", "VARCHAR"},
                              {"createdAt", "TIMESTAMP WITH TIME ZONE"},
                              {"lastModified", "TIMESTAMP WITH TIME ZONE"},
                              {"partitionColumns", "VARCHAR[]"},
                              {"clusteringColumns", "VARCHAR[]"},
                              {"numFiles", "BIGINT"},
                              {"sizeInBytes", "BIGINT"},
                              {"properties", "MAP(VARCHAR, VARCHAR)"},
                              {"minReaderVersion", "INTEGER"},
                              {"minWriterVersion", "INTEGER"},
                              {"tableFeatures", "VARCHAR[]"}};
  for (const auto& column : columns) out.AddColumn(column[0], column[1]);
  out.AddRow({Literal("delta", "VARCHAR"), Literal(metadata.id, "VARCHAR"), Literal(metadata.name, "VARCHAR"),
              Literal(metadata.description, "VARCHAR"), Literal(table.root, "VARCHAR"),
              TimestampLiteral(metadata.created_time), TimestampLiteral(snapshot.timestamp()),
              ListLiteral(metadata.partition_columns), ListLiteral(clustering), IntLiteral(snapshot.num_active_files()),
              IntLiteral(snapshot.TotalActiveBytes()), MapLiteral(properties),
              IntLiteral(snapshot.protocol().min_reader_version, "INTEGER"),
              IntLiteral(snapshot.protocol().min_writer_version, "INTEGER"),
              ListLiteral(TableFeatures(snapshot.protocol()))});
  return out.Sql();
}

Result<std::string> FilesSql(DeltaTableLoader& loader, const DeltaTableSpec& spec) {
  TARN_ASSIGN_OR_RETURN(DeltaTable table, loader.Load(spec));
  LiteralTable out;
  const char* columns[][2] = {{"path", "VARCHAR"},
                              {"size", "BIGINT"},
                              {"modificationTime", "BIGINT"},
                              {"partitionValues", "MAP(VARCHAR, VARCHAR)"},
                              {"numRecords", "BIGINT"},
                              {"deletionVectorCardinality", "BIGINT"},
                              {"version", "BIGINT"}};
  for (const auto& column : columns) out.AddColumn(column[0], column[1]);
  for (const delta::FileEntry& file : table.snapshot->active_files()) {
    std::vector<std::pair<std::string, std::optional<std::string>>> values;
    for (const delta::PartitionValueRef& value : file.partition_values) {
      values.emplace_back(std::string(value.name),
                          value.is_null ? std::nullopt : std::optional<std::string>(std::string(value.value)));
    }
    std::optional<int64_t> num_records;
    if (!file.stats.empty()) {
      auto stats = nlohmann::json::parse(file.stats, nullptr, false);
      if (stats.is_object() && stats.contains("numRecords") && stats["numRecords"].is_number_integer()) {
        num_records = stats["numRecords"].get<int64_t>();
      }
    }
    out.AddRow({Literal(std::string(file.path), "VARCHAR"), IntLiteral(file.size), IntLiteral(file.modification_time),
                MapLiteral(values), IntLiteral(num_records),
                IntLiteral(file.deletion_vector ? std::optional<int64_t>(file.deletion_vector->cardinality)
                                                : std::nullopt),
                IntLiteral(file.version)});
  }
  return out.Sql();
}

// ---- the C API table function ----

enum class FunctionKind { kScan, kChanges, kHistory, kDetail, kFiles };

struct FunctionInfo {
  DeltaRuntime* runtime;
  FunctionKind kind;
};

struct BindData {
  DeltaRuntime* runtime = nullptr;
  std::shared_ptr<const DeltaScanPlan> plan;  // scans; null for literal tables
  std::vector<Column> physical;
  std::string sql;  // literal tables: the query
  size_t num_columns = 0;
};

struct InitData {
  DuckConnection connection;
  DuckPrepared prepared;
  DuckResult result;
  DuckDataChunk current;
  std::vector<std::optional<RowFilter>> filters;
  bool row_ids = false;
  size_t num_output = 0;
  duckdb_selection_vector selection = nullptr;
  ~InitData() {
    if (selection != nullptr) duckdb_destroy_selection_vector(selection);
  }
};

template <typename T>
void DeleteData(void* data) {
  delete static_cast<T*>(data);
}

std::optional<std::string> StringParameter(duckdb_value value) {
  if (value == nullptr || duckdb_is_null_value(value)) return std::nullopt;
  DuckString text(duckdb_get_varchar(value));
  return std::string(text.get());
}

// Accepts a path, or Spark's "delta.`/path`" table name form used with table_changes.
std::string TableLocation(std::string text) {
  if (text.starts_with("delta.`") && text.ends_with("`") && text.size() > 8) return text.substr(7, text.size() - 8);
  return text;
}

// Runs `body`, turning errors and exceptions into `report(message)`: no exception crosses into DuckDB.
template <typename Body, typename Report>
void Barrier(Body&& body, Report&& report) {
  try {
    Status status = body();
    if (!status.ok()) report(TagErrorMessage(status));
  } catch (const std::exception& e) {
    report(std::string("internal error in Delta table function: ") + e.what());
  } catch (...) {
    report("internal error in Delta table function");
  }
}

Status BindImpl(duckdb_bind_info info) {
  auto* function = static_cast<FunctionInfo*>(duckdb_bind_get_extra_info(info));
  auto bind = std::make_unique<BindData>();
  bind->runtime = function->runtime;
  DeltaTableLoader& loader = function->runtime->loader;
  detail::DuckValue path_value(duckdb_bind_get_parameter(info, 0));
  std::optional<std::string> path = StringParameter(path_value.get());
  if (!path) return Error(ErrorCode::kInvalidParameterValue, "Delta table path must not be NULL");
  std::string location = TableLocation(*path);
  DeltaTableSpec spec{location, std::nullopt, std::nullopt};
  if (function->kind != FunctionKind::kChanges && function->kind != FunctionKind::kHistory) {
    detail::DuckValue version(duckdb_bind_get_named_parameter(info, "version"));
    if (version && !duckdb_is_null_value(version.get())) spec.version = duckdb_get_int64(version.get());
    detail::DuckValue timestamp(duckdb_bind_get_named_parameter(info, "timestamp"));
    spec.timestamp = StringParameter(timestamp.get());
  }
  switch (function->kind) {
    case FunctionKind::kScan: {
      detail::DuckValue filter(duckdb_bind_get_named_parameter(info, "filter"));
      std::vector<ScanPredicate> predicates;
      if (auto text = StringParameter(filter.get())) predicates = DecodeScanPredicates(*text);
      TARN_ASSIGN_OR_RETURN(DeltaTable table, loader.Load(spec));
      TARN_ASSIGN_OR_RETURN(bind->plan, DeltaScanPlan::ForSnapshot(table, predicates));
      break;
    }
    case FunctionKind::kChanges: {
      detail::DuckValue start(duckdb_bind_get_parameter(info, 1));
      if (!start || duckdb_is_null_value(start.get())) {
        return Error(ErrorCode::kInvalidParameterValue, "table_changes start version must not be NULL");
      }
      std::optional<int64_t> end;
      detail::DuckValue end_value(duckdb_bind_get_named_parameter(info, "end_version"));
      if (end_value && !duckdb_is_null_value(end_value.get())) end = duckdb_get_int64(end_value.get());
      TARN_ASSIGN_OR_RETURN(bind->plan,
                            DeltaScanPlan::ForChanges(loader, location, duckdb_get_int64(start.get()), end));
      break;
    }
    case FunctionKind::kHistory: {
      TARN_ASSIGN_OR_RETURN(bind->sql, HistorySql(loader, location));
      break;
    }
    case FunctionKind::kDetail: {
      TARN_ASSIGN_OR_RETURN(bind->sql, DetailSql(loader, spec));
      break;
    }
    case FunctionKind::kFiles: {
      TARN_ASSIGN_OR_RETURN(bind->sql, FilesSql(loader, spec));
      break;
    }
  }

  TARN_ASSIGN_OR_RETURN(DuckConnection connection, InnerConnection(function->runtime->db));
  std::string sql = bind->sql;
  if (bind->plan) {
    std::string physical_sql = bind->plan->PhysicalSchemaSql();
    if (!physical_sql.empty()) {
      TARN_ASSIGN_OR_RETURN(DuckPrepared physical, PrepareInner(connection.get(), physical_sql));
      idx_t count = duckdb_prepared_statement_column_count(physical.get());
      for (idx_t i = 0; i < count; i++) {
        DuckLogicalType type(duckdb_prepared_statement_column_logical_type(physical.get(), i));
        DuckString name(const_cast<char*>(duckdb_prepared_statement_column_name(physical.get(), i)));
        bind->physical.push_back(Column{name.get(), detail::FromDuckLogicalType(type.get())});
      }
    }
    std::vector<size_t> all(bind->plan->columns().size());
    for (size_t i = 0; i < all.size(); i++) all[i] = i;
    sql = bind->plan->BuildSql(all, bind->physical, false);
    int64_t rows = bind->plan->EstimatedRows();
    if (rows >= 0) duckdb_bind_set_cardinality(info, static_cast<idx_t>(rows), false);
  }
  TARN_ASSIGN_OR_RETURN(DuckPrepared prepared, PrepareInner(connection.get(), sql));
  idx_t count = duckdb_prepared_statement_column_count(prepared.get());
  for (idx_t i = 0; i < count; i++) {
    DuckLogicalType type(duckdb_prepared_statement_column_logical_type(prepared.get(), i));
    DuckString name(const_cast<char*>(duckdb_prepared_statement_column_name(prepared.get(), i)));
    duckdb_bind_add_result_column(info, name.get(), type.get());
  }
  bind->num_columns = count;
  duckdb_bind_set_bind_data(info, bind.release(), DeleteData<BindData>);
  return Status::OK();
}

void Bind(duckdb_bind_info info) {
  Barrier([&] { return BindImpl(info); }, [&](const std::string& message) { duckdb_bind_set_error(info, message.c_str()); });
}

Status InitImpl(duckdb_init_info info) {
  auto* bind = static_cast<BindData*>(duckdb_init_get_bind_data(info));
  auto init = std::make_unique<InitData>();
  std::string sql = bind->sql;
  if (bind->plan) {
    std::vector<size_t> projection;
    idx_t count = duckdb_init_get_column_count(info);
    for (idx_t i = 0; i < count; i++) projection.push_back(duckdb_init_get_column_index(info, i));
    init->num_output = projection.size();
    init->row_ids = bind->plan->NeedsRowFilter();
    if (init->row_ids) {
      TARN_ASSIGN_OR_RETURN(init->filters, bind->plan->LoadRowFilters());
    }
    sql = bind->plan->BuildSql(projection, bind->physical, init->row_ids);
  } else {
    init->num_output = bind->num_columns;
  }
  TARN_ASSIGN_OR_RETURN(init->connection, InnerConnection(bind->runtime->db));
  TARN_ASSIGN_OR_RETURN(init->prepared, PrepareInner(init->connection.get(), sql));
  DuckPending pending;
  if (duckdb_pending_prepared_streaming(init->prepared.get(), pending.out()) == DuckDBError) {
    const char* error = pending ? duckdb_pending_error(pending.get()) : nullptr;
    return DuckErrorFromMessage(error != nullptr ? error : "could not start the scan");
  }
  if (duckdb_execute_pending(pending.get(), init->result.out()) == DuckDBError) {
    return DuckError(duckdb_result_error_type(init->result.get()), duckdb_result_error(init->result.get()));
  }
  init->selection = duckdb_create_selection_vector(duckdb_vector_size());
  duckdb_init_set_max_threads(info, 1);
  duckdb_init_set_init_data(info, init.release(), DeleteData<InitData>);
  return Status::OK();
}

void Init(duckdb_init_info info) {
  Barrier([&] { return InitImpl(info); }, [&](const std::string& message) { duckdb_init_set_error(info, message.c_str()); });
}

Status ScanImpl(duckdb_function_info info, duckdb_data_chunk output) {
  auto* init = static_cast<InitData*>(duckdb_function_get_init_data(info));
  while (true) {
    init->current = DuckDataChunk(duckdb_fetch_chunk(init->result.ref()));
    if (!init->current) {
      const char* error = duckdb_result_error(init->result.get());
      if (error != nullptr && *error != '\0') return DuckErrorFromMessage(error);
      duckdb_data_chunk_set_size(output, 0);
      return Status::OK();
    }
    duckdb_data_chunk input = init->current.get();
    idx_t size = duckdb_data_chunk_get_size(input);
    idx_t kept = size;
    sel_t* selection = duckdb_selection_vector_get_data_ptr(init->selection);
    if (init->row_ids) {
      const auto* files = static_cast<const int64_t*>(
          duckdb_vector_get_data(duckdb_data_chunk_get_vector(input, init->num_output > 0 ? init->num_output : 1)));
      const auto* rows = static_cast<const int64_t*>(
          duckdb_vector_get_data(duckdb_data_chunk_get_vector(input, (init->num_output > 0 ? init->num_output : 1) + 1)));
      kept = 0;
      for (idx_t i = 0; i < size; i++) {
        size_t file = static_cast<size_t>(files[i]);
        const std::optional<RowFilter>& filter = file < init->filters.size() ? init->filters[file] : std::nullopt;
        if (!filter || filter->Passes(static_cast<uint64_t>(rows[i]))) selection[kept++] = static_cast<sel_t>(i);
      }
      if (kept == 0) continue;
    }
    for (size_t c = 0; c < init->num_output; c++) {
      duckdb_vector target = duckdb_data_chunk_get_vector(output, c);
      duckdb_vector_reference_vector(target, duckdb_data_chunk_get_vector(input, c));
      if (kept < size) duckdb_slice_vector(target, init->selection, kept);
    }
    duckdb_data_chunk_set_size(output, kept);
    return Status::OK();
  }
}

void Scan(duckdb_function_info info, duckdb_data_chunk output) {
  Barrier([&] { return ScanImpl(info, output); },
          [&](const std::string& message) { duckdb_function_set_error(info, message.c_str()); });
}

// ---- __tarn_deleted_rows(root, dvs): the (file index, row) pairs deletion vectors remove, for anti joins ----

constexpr char kDvFieldSeparator = '\x1f';
constexpr char kDvRecordSeparator = '\x1e';

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t end = text.find(separator);
    parts.push_back(text.substr(0, end));
    if (end == std::string_view::npos) return parts;
    text.remove_prefix(end + 1);
  }
}

}  // namespace

// "file_index\x1fstorage\x1fpath\x1foffset\x1fsize\x1fcardinality" records, one per file with a deletion vector.
std::string EncodeDeletionVectors(const DeltaScanPlan& plan) {
  std::string out;
  for (size_t i = 0; i < plan.files().size(); i++) {
    const auto& dv = plan.files()[i].drop_rows;
    if (!dv) continue;
    if (!out.empty()) out += kDvRecordSeparator;
    out += std::to_string(i) + kDvFieldSeparator + dv->storage_type + kDvFieldSeparator + dv->path_or_inline_dv +
           kDvFieldSeparator + (dv->offset ? std::to_string(*dv->offset) : "") + kDvFieldSeparator +
           std::to_string(dv->size_in_bytes) + kDvFieldSeparator + std::to_string(dv->cardinality);
  }
  return out;
}

namespace {

struct DeletedRowsData {
  std::vector<std::pair<int64_t, std::vector<uint64_t>>> files;  // file index, sorted deleted rows
  size_t file = 0;  // scan position
  size_t row = 0;
};

Status DeletedRowsBindImpl(duckdb_bind_info info) {
  detail::DuckValue root_value(duckdb_bind_get_parameter(info, 0));
  detail::DuckValue dvs_value(duckdb_bind_get_parameter(info, 1));
  std::optional<std::string> root = StringParameter(root_value.get());
  std::optional<std::string> dvs = StringParameter(dvs_value.get());
  if (!root || !dvs) return Error(ErrorCode::kInvalidParameterValue, "__tarn_deleted_rows arguments must not be NULL");
  auto store = storage::LocalObjectStore::Create(*root, /*create_root=*/false);
  if (!store.has_value()) return Error(ErrorCode::kTableNotFound, "Delta table not found: {}", *root);
  auto data = std::make_unique<DeletedRowsData>();
  for (std::string_view record : Split(*dvs, kDvRecordSeparator)) {
    if (record.empty()) continue;
    std::vector<std::string_view> fields = Split(record, kDvFieldSeparator);
    if (fields.size() != 6 || fields[1].empty()) {
      return Error(ErrorCode::kInvalidParameterValue, "malformed deletion vector list");
    }
    delta::DeletionVectorRef ref;
    ref.storage_type = fields[1][0];
    ref.path_or_inline_dv = fields[2];
    if (!fields[3].empty()) ref.offset = std::stoi(std::string(fields[3]));
    ref.size_in_bytes = std::stoi(std::string(fields[4]));
    ref.cardinality = std::stoll(std::string(fields[5]));
    auto rows = LoadDeletionVector(**store, "", ref);
    if (!rows.has_value()) return rows.status().WithContext("table {}", *root);
    data->files.emplace_back(std::stoll(std::string(fields[0])), std::move(rows).value());
  }
  DuckLogicalType bigint(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
  duckdb_bind_add_result_column(info, "__tarn_file", bigint.get());
  duckdb_bind_add_result_column(info, "__tarn_row", bigint.get());
  duckdb_bind_set_bind_data(info, data.release(), DeleteData<DeletedRowsData>);
  return Status::OK();
}

void DeletedRowsBind(duckdb_bind_info info) {
  Barrier([&] { return DeletedRowsBindImpl(info); },
          [&](const std::string& message) { duckdb_bind_set_error(info, message.c_str()); });
}

void DeletedRowsInit(duckdb_init_info info) {
  auto* bind = static_cast<DeletedRowsData*>(duckdb_init_get_bind_data(info));
  auto state = std::make_unique<DeletedRowsData>();
  state->files = bind->files;  // cheap next to reading the Parquet files it filters
  duckdb_init_set_init_data(info, state.release(), DeleteData<DeletedRowsData>);
}

void DeletedRowsScan(duckdb_function_info info, duckdb_data_chunk output) {
  auto* state = static_cast<DeletedRowsData*>(duckdb_function_get_init_data(info));
  auto* files = static_cast<int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 0)));
  auto* rows = static_cast<int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 1)));
  idx_t capacity = duckdb_vector_size();
  idx_t count = 0;
  while (count < capacity && state->file < state->files.size()) {
    const auto& [file, deleted] = state->files[state->file];
    if (state->row >= deleted.size()) {
      state->file++;
      state->row = 0;
      continue;
    }
    files[count] = file;
    rows[count] = static_cast<int64_t>(deleted[state->row++]);
    count++;
  }
  duckdb_data_chunk_set_size(output, count);
}

Status RegisterDeletedRows(duckdb_connection connection) {
  duckdb_table_function function = duckdb_create_table_function();
  duckdb_table_function_set_name(function, "__tarn_deleted_rows");
  DuckLogicalType varchar(duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR));
  duckdb_table_function_add_parameter(function, varchar.get());
  duckdb_table_function_add_parameter(function, varchar.get());
  duckdb_table_function_set_bind(function, DeletedRowsBind);
  duckdb_table_function_set_init(function, DeletedRowsInit);
  duckdb_table_function_set_function(function, DeletedRowsScan);
  duckdb_state state = duckdb_register_table_function(connection, function);
  duckdb_destroy_table_function(&function);
  if (state == DuckDBError) return Error(ErrorCode::kInternal, "cannot register table function __tarn_deleted_rows");
  return Status::OK();
}

Result<std::string> BuildInlineScanSql(DeltaRuntime& runtime, const DeltaTable& table,
                                       std::span<const ScanPredicate> predicates) {
  TARN_ASSIGN_OR_RETURN(std::shared_ptr<const DeltaScanPlan> plan, DeltaScanPlan::ForSnapshot(table, predicates));
  std::shared_ptr<const std::vector<Column>> physical_schema;
  std::string physical_sql = plan->PhysicalSchemaSql();
  if (!physical_sql.empty()) {
    {
      std::lock_guard<std::mutex> lock(runtime.physical_mutex);
      auto it = runtime.physical_schemas.find(physical_sql);
      if (it != runtime.physical_schemas.end()) physical_schema = it->second;
    }
    if (!physical_schema) {
      TARN_ASSIGN_OR_RETURN(DuckConnection connection, InnerConnection(runtime.db));
      auto prepared = PrepareInner(connection.get(), physical_sql);
      if (!prepared.has_value()) {
        return prepared.status().WithContext("reading the data files of {} at version {}", table.root,
                                             table.snapshot->version());
      }
      auto columns = std::make_shared<std::vector<Column>>();
      idx_t count = duckdb_prepared_statement_column_count(prepared->get());
      for (idx_t i = 0; i < count; i++) {
        DuckLogicalType type(duckdb_prepared_statement_column_logical_type(prepared->get(), i));
        DuckString name(const_cast<char*>(duckdb_prepared_statement_column_name(prepared->get(), i)));
        columns->push_back(Column{name.get(), detail::FromDuckLogicalType(type.get())});
      }
      physical_schema = columns;
      std::lock_guard<std::mutex> lock(runtime.physical_mutex);
      if (runtime.physical_schemas.size() >= DeltaRuntime::kMaxPhysicalSchemas) runtime.physical_schemas.clear();
      runtime.physical_schemas.emplace(physical_sql, physical_schema);
    }
  }
  static const std::vector<Column> kNoColumns;
  const std::vector<Column>& physical = physical_schema ? *physical_schema : kNoColumns;
  std::vector<size_t> all(plan->columns().size());
  for (size_t i = 0; i < all.size(); i++) all[i] = i;
  bool filter_rows = plan->NeedsRowFilter();
  std::string sql = plan->BuildSql(all, physical, filter_rows);
  if (!filter_rows) return sql;
  std::string columns;
  for (const ScanColumn& column : plan->columns()) {
    columns += (columns.empty() ? "" : ", ") + ("__tarn_scan." + QuoteSqlIdentifier(column.name));
  }
  if (columns.empty()) columns = "NULL AS __tarn_no_columns";
  return "SELECT " + columns + " FROM (" + sql + ") AS __tarn_scan ANTI JOIN __tarn_deleted_rows(" +
         QuoteSqlString(table.root) + ", " + QuoteSqlString(EncodeDeletionVectors(*plan)) +
         ") AS __tarn_deleted USING (__tarn_file, __tarn_row)";
}

// The key of DeltaRuntime::inline_scans: root, snapshot object, predicates ('\x1d' cannot occur in a local path).
std::string InlineScanKey(const DeltaTable& table, std::span<const ScanPredicate> predicates) {
  return table.root + '\x1d' + std::to_string(reinterpret_cast<uintptr_t>(table.snapshot.get())) + '\x1d' +
         EncodeScanPredicates(predicates);
}

Result<std::string> InlineScanSql(DeltaRuntime& runtime, const DeltaTable& table,
                                  std::span<const ScanPredicate> predicates) {
  std::string key = InlineScanKey(table, predicates);
  {
    std::lock_guard<std::mutex> lock(runtime.inline_mutex);
    auto it = runtime.inline_scans.find(key);
    if (it != runtime.inline_scans.end()) return it->second.sql;
  }
  TARN_ASSIGN_OR_RETURN(std::string sql, BuildInlineScanSql(runtime, table, predicates));
  std::lock_guard<std::mutex> lock(runtime.inline_mutex);
  if (runtime.inline_scans.size() >= DeltaRuntime::kMaxInlineScans) runtime.inline_scans.clear();
  runtime.inline_scans.emplace(std::move(key), DeltaRuntime::InlineScan{table.snapshot, sql});
  return sql;
}

Status Register(duckdb_connection connection, DeltaRuntime& runtime, const char* name, FunctionKind kind,
                int num_positional) {
  duckdb_table_function function = duckdb_create_table_function();
  duckdb_table_function_set_name(function, name);
  DuckLogicalType varchar(duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR));
  DuckLogicalType bigint(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
  duckdb_table_function_add_parameter(function, varchar.get());
  for (int i = 1; i < num_positional; i++) duckdb_table_function_add_parameter(function, bigint.get());
  if (kind == FunctionKind::kScan || kind == FunctionKind::kDetail || kind == FunctionKind::kFiles) {
    duckdb_table_function_add_named_parameter(function, "version", bigint.get());
    duckdb_table_function_add_named_parameter(function, "timestamp", varchar.get());
  }
  if (kind == FunctionKind::kScan) duckdb_table_function_add_named_parameter(function, "filter", varchar.get());
  if (kind == FunctionKind::kChanges) duckdb_table_function_add_named_parameter(function, "end_version", bigint.get());
  auto info = std::make_shared<FunctionInfo>(FunctionInfo{&runtime, kind});
  runtime.function_infos.push_back(info);
  duckdb_table_function_set_extra_info(function, info.get(), nullptr);
  duckdb_table_function_set_bind(function, Bind);
  duckdb_table_function_set_init(function, Init);
  duckdb_table_function_set_function(function, Scan);
  if (kind == FunctionKind::kScan || kind == FunctionKind::kChanges) {
    duckdb_table_function_supports_projection_pushdown(function, true);
  }
  duckdb_state state = duckdb_register_table_function(connection, function);
  duckdb_destroy_table_function(&function);
  if (state == DuckDBError) return Error(ErrorCode::kInternal, "cannot register table function {}", name);
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<DeltaRuntime>> RegisterDeltaFunctions(Database& database, duckdb_database handle) {
  auto runtime = std::make_unique<DeltaRuntime>(database, handle);
  TARN_ASSIGN_OR_RETURN(DuckConnection connection, InnerConnection(handle));
  // Delta data files never change in place, so cached Parquet footers stay valid; scans prepare their SQL twice.
  DuckResult result;
  duckdb_query(connection.get(), "SET parquet_metadata_cache = true", result.out());
  TARN_RETURN_IF_ERROR(Register(connection.get(), *runtime, "delta_scan", FunctionKind::kScan, 1));
  TARN_RETURN_IF_ERROR(Register(connection.get(), *runtime, "table_changes", FunctionKind::kChanges, 2));
  TARN_RETURN_IF_ERROR(Register(connection.get(), *runtime, "delta_history", FunctionKind::kHistory, 1));
  TARN_RETURN_IF_ERROR(Register(connection.get(), *runtime, "delta_detail", FunctionKind::kDetail, 1));
  TARN_RETURN_IF_ERROR(Register(connection.get(), *runtime, "delta_files", FunctionKind::kFiles, 1));
  TARN_RETURN_IF_ERROR(RegisterDeletedRows(connection.get()));
  return runtime;
}

SparkSqlContext DeltaSqlContext(DeltaRuntime& runtime) {
  SparkSqlContext context;
  context.loader = &runtime.loader;
  context.inline_scan = [&runtime](const DeltaTable& table, std::span<const ScanPredicate> predicates) {
    return InlineScanSql(runtime, table, predicates);
  };
  return context;
}

}  // namespace tarn::engine
