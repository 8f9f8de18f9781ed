// SPDX-License-Identifier: Apache-2.0
// Statement Execution API 2.0 and SQL warehouses handlers: request validation, StatementManager calls, JSON answers.
#include "tarn/api/sql_statements_routes.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <ctime>
#include <thread>

#include "tarn/api/detail/json_body.hpp"

namespace tarn::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxStatementBytes = 16u << 20;  // Databricks: 16 MiB of query text
constexpr int64_t kCancelWaitMs = 30'000;

struct ExecuteOptions {
  int64_t wait_ms = 10'000;
  bool cancel_on_timeout = false;
};

/// The server's address as the client reached it ("host:port"), for external links and odbc_params.
std::string HostOf(const http::Request& request) {
  auto host = request.Header("Host");
  return host && !host->empty() ? std::string(*host) : "127.0.0.1";
}

std::string HostNameOf(const http::Request& request) {
  std::string host = HostOf(request);
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    return close == std::string::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.rfind(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

Result<int64_t> ParseWaitTimeout(const std::string& text) {
  int64_t seconds = -1;
  bool ok = text.size() >= 2 && text.back() == 's';
  if (ok) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, seconds);
    ok = ec == std::errc() && end == text.data() + text.size() - 1;
  }
  if (!ok || !(seconds == 0 || (seconds >= 5 && seconds <= 50))) {
    return Error(ErrorCode::kInvalidParameterValue,
                 "wait_timeout must be 0s (do not wait) or between 5s and 50s, got '{}'.", text);
  }
  return seconds * 1000;
}

Result<std::vector<StatementParameter>> ParseParameters(const json& body) {
  std::vector<StatementParameter> out;
  auto it = body.find("parameters");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return Error(ErrorCode::kInvalidParameterValue, "Invalid value for 'parameters': expected an array.");
  }
  for (const json& item : *it) {
    if (!item.is_object()) {
      return Error(ErrorCode::kInvalidParameterValue, "Each entry of 'parameters' must be an object.");
    }
    StatementParameter parameter;
    TARN_ASSIGN_OR_RETURN(std::optional<std::string> name, detail::OptionalString(item, "name"));
    if (!name || name->empty()) {
      return Error(ErrorCode::kInvalidParameterValue, "Each entry of 'parameters' needs a 'name'.");
    }
    parameter.name = std::move(*name);
    auto value = item.find("value");
    if (value != item.end() && !value->is_null()) {
      if (value->is_string()) {
        parameter.value = value->get<std::string>();
      } else if (value->is_number() || value->is_boolean()) {
        parameter.value = value->dump();
      } else {
        return Error(ErrorCode::kInvalidParameterValue, "The value of parameter '{}' must be a string.",
                     parameter.name);
      }
    }
    TARN_ASSIGN_OR_RETURN(std::optional<std::string> type, detail::OptionalString(item, "type"));
    parameter.type = type.value_or("");
    for (const auto& other : out) {
      if (other.name == parameter.name) {
        return Error(ErrorCode::kInvalidParameterValue, "Parameter '{}' is given more than once.", parameter.name);
      }
    }
    out.push_back(std::move(parameter));
  }
  return out;
}

Status CheckWarehouse(const std::string& id) {
  if (id != kBuiltinWarehouseId) {
    return Error(ErrorCode::kNotFound, "Warehouse {} does not exist. This server has one warehouse: {}.", id,
                 kBuiltinWarehouseId);
  }
  return Status::OK();
}

Result<StatementRequest> ParseExecute(const http::Request& request, ExecuteOptions& options) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  StatementRequest out;
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> statement, detail::OptionalString(body, "statement"));
  if (!statement || statement->find_first_not_of(" \t\r\n;") == std::string::npos) {
    return Error(ErrorCode::kInvalidParameterValue, "Missing required field: statement");
  }
  if (statement->size() > kMaxStatementBytes) {
    return Error(ErrorCode::kInvalidParameterValue, "The statement is {} bytes; the limit is 16 MiB.",
                 statement->size());
  }
  out.statement = std::move(*statement);
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> warehouse_id, detail::OptionalString(body, "warehouse_id"));
  if (!warehouse_id || warehouse_id->empty()) {
    return Error(ErrorCode::kInvalidParameterValue, "Missing required field: warehouse_id");
  }
  TARN_RETURN_IF_ERROR(CheckWarehouse(*warehouse_id));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> catalog, detail::OptionalString(body, "catalog"));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> schema, detail::OptionalString(body, "schema"));
  out.catalog = catalog.value_or("");
  out.schema = schema.value_or("");
  TARN_ASSIGN_OR_RETURN(out.parameters, ParseParameters(body));

  TARN_ASSIGN_OR_RETURN(std::optional<std::string> wait, detail::OptionalString(body, "wait_timeout"));
  TARN_ASSIGN_OR_RETURN(options.wait_ms, ParseWaitTimeout(wait.value_or("10s")));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> on_timeout, detail::OptionalString(body, "on_wait_timeout"));
  std::string on_wait_timeout = on_timeout.value_or("CONTINUE");
  if (on_wait_timeout != "CONTINUE" && on_wait_timeout != "CANCEL") {
    return Error(ErrorCode::kInvalidParameterValue, "on_wait_timeout must be CONTINUE or CANCEL, got '{}'.",
                 on_wait_timeout);
  }
  options.cancel_on_timeout = on_wait_timeout == "CANCEL";

  TARN_ASSIGN_OR_RETURN(std::optional<std::string> disposition, detail::OptionalString(body, "disposition"));
  std::string disposition_name = disposition.value_or("INLINE");
  if (disposition_name == "INLINE") {
    out.disposition = ResultDisposition::kInline;
  } else if (disposition_name == "EXTERNAL_LINKS") {
    out.disposition = ResultDisposition::kExternalLinks;
  } else {
    return Error(ErrorCode::kInvalidParameterValue, "disposition must be INLINE or EXTERNAL_LINKS, got '{}'.",
                 disposition_name);
  }
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> format, detail::OptionalString(body, "format"));
  std::string format_name = format.value_or("JSON_ARRAY");
  if (format_name == "JSON_ARRAY") {
    out.format = ResultFormat::kJsonArray;
  } else if (format_name == "CSV") {
    out.format = ResultFormat::kCsv;
  } else if (format_name == "ARROW_STREAM") {
    return Error(ErrorCode::kInvalidParameterValue,
                 "format ARROW_STREAM is not supported by this server; use JSON_ARRAY or CSV.");
  } else {
    return Error(ErrorCode::kInvalidParameterValue, "format must be JSON_ARRAY, ARROW_STREAM or CSV, got '{}'.",
                 format_name);
  }
  if (out.disposition == ResultDisposition::kInline && out.format != ResultFormat::kJsonArray) {
    return Error(ErrorCode::kInvalidParameterValue,
                 "The INLINE disposition supports only the JSON_ARRAY format; use EXTERNAL_LINKS for {}.",
                 format_name);
  }
  TARN_ASSIGN_OR_RETURN(out.row_limit, detail::OptionalInt64(body, "row_limit"));
  TARN_ASSIGN_OR_RETURN(out.byte_limit, detail::OptionalInt64(body, "byte_limit"));
  if (out.row_limit && *out.row_limit < 0) {
    return Error(ErrorCode::kInvalidParameterValue, "row_limit must not be negative, got {}.", *out.row_limit);
  }
  if (out.byte_limit && *out.byte_limit < 0) {
    return Error(ErrorCode::kInvalidParameterValue, "byte_limit must not be negative, got {}.", *out.byte_limit);
  }
  out.owner_id = request.user_id;
  out.owner_name = request.user_name;
  return out;
}

/// The ServiceErrorCode Databricks reports in status.error for an execution failure.
std::string_view ServiceErrorCodeOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kCancelled: return "CANCELLED";
    case ErrorCode::kInternal:
    case ErrorCode::kCorruptData: return "INTERNAL_ERROR";
    case ErrorCode::kIoError: return "IO_ERROR";
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kOutOfMemory:
    case ErrorCode::kRequestTooLarge: return "RESOURCE_EXHAUSTED";
    case ErrorCode::kCommitConflict:
    case ErrorCode::kResourceConflict:
    case ErrorCode::kAborted: return "ABORTED";
    case ErrorCode::kTemporarilyUnavailable:
    case ErrorCode::kConnectionFailure: return "TEMPORARILY_UNAVAILABLE";
    case ErrorCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case ErrorCode::kDuplicateObject:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kResourceAlreadyExists: return "ALREADY_EXISTS";
    default: return "BAD_REQUEST";
  }
}

/// The Databricks error class that prefixes the message ("[TABLE_OR_VIEW_NOT_FOUND] ..."), or empty.
std::string_view ErrorClassOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kSyntaxError: return "PARSE_SYNTAX_ERROR";
    case ErrorCode::kTableNotFound: return "TABLE_OR_VIEW_NOT_FOUND";
    case ErrorCode::kColumnNotFound: return "UNRESOLVED_COLUMN";
    case ErrorCode::kSchemaNotFound: return "SCHEMA_NOT_FOUND";
    case ErrorCode::kCatalogNotFound: return "CATALOG_NOT_FOUND";
    case ErrorCode::kFunctionNotFound: return "UNRESOLVED_ROUTINE";
    case ErrorCode::kDivisionByZero: return "DIVIDE_BY_ZERO";
    case ErrorCode::kTypeMismatch: return "DATATYPE_MISMATCH";
    case ErrorCode::kInvalidTextRepresentation: return "CAST_INVALID_INPUT";
    case ErrorCode::kDuplicateObject: return "TABLE_OR_VIEW_ALREADY_EXISTS";
    default: return "";
  }
}

json ColumnsJson(const std::vector<ResultColumn>& columns) {
  json out = json::array();
  for (size_t i = 0; i < columns.size(); i++) {
    const ResultColumn& column = columns[i];
    json item = {{"name", column.name},
                 {"position", i},
                 {"type_name", column.type_name},
                 {"type_text", column.type_text}};
    if (column.type_precision) item["type_precision"] = *column.type_precision;
    if (column.type_scale) item["type_scale"] = *column.type_scale;
    out.push_back(std::move(item));
  }
  return out;
}

std::string Iso8601(int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buffer, epoch_ms % 1000);
}

std::string ChunkPath(const std::string& id, int64_t index) {
  return fmt::format("/api/2.0/sql/statements/{}/result/chunks/{}", id, index);
}

/// ResultData for one chunk: data_array (INLINE) or one external link.
json ChunkJson(const StatementSnapshot& snapshot, const ResultChunk& chunk, const std::string& host) {
  const ChunkInfo& info = chunk.info;
  bool has_next = info.chunk_index + 1 < static_cast<int64_t>(snapshot.chunks.size());
  json out = {{"chunk_index", info.chunk_index}, {"row_offset", info.row_offset}, {"row_count", info.row_count}};
  if (snapshot.disposition == ResultDisposition::kInline) {
    json rows = json::array();
    for (int64_t r = 0; r < info.row_count; r++) {
      json row = json::array();
      for (size_t c = 0; c < chunk.num_columns; c++) {
        const auto& cell = chunk.cells[static_cast<size_t>(r) * chunk.num_columns + c];
        row.push_back(cell ? json(*cell) : json(nullptr));
      }
      rows.push_back(std::move(row));
    }
    out["data_array"] = std::move(rows);
    if (has_next) {
      out["next_chunk_index"] = info.chunk_index + 1;
      out["next_chunk_internal_link"] = ChunkPath(snapshot.statement_id, info.chunk_index + 1);
    }
    return out;
  }
  out["byte_count"] = info.byte_count;
  json link = {{"chunk_index", info.chunk_index},
               {"row_offset", info.row_offset},
               {"row_count", info.row_count},
               {"byte_count", info.byte_count},
               {"external_link", fmt::format("http://{}/sql/statement-results/{}/{}/{}", host, snapshot.statement_id,
                                             snapshot.link_secret, info.chunk_index)},
               {"expiration", Iso8601(snapshot.expires_ms)},
               {"http_headers", json::object()}};
  if (has_next) {
    link["next_chunk_index"] = info.chunk_index + 1;
    link["next_chunk_internal_link"] = ChunkPath(snapshot.statement_id, info.chunk_index + 1);
  }
  out["external_links"] = json::array({std::move(link)});
  return out;
}

json StatementJson(const StatementSnapshot& snapshot, const std::string& host) {
  json status = {{"state", StatementStateName(snapshot.state)}};
  if (snapshot.state == StatementState::kFailed) {
    const Status& error = snapshot.error;
    std::string message = error.message();
    std::string_view error_class = ErrorClassOf(error.code());
    if (!error_class.empty() && (message.empty() || message[0] != '[')) {
      message = fmt::format("[{}] {}", error_class, message);
    }
    if (message.find("SQLSTATE") == std::string::npos) message += fmt::format(" SQLSTATE: {}", error.sqlstate());
    status["error"] = {{"error_code", ServiceErrorCodeOf(error.code())}, {"message", message}};
    status["sql_state"] = error.sqlstate();
  }
  json out = {{"statement_id", snapshot.statement_id}, {"status", std::move(status)}};
  if (snapshot.state != StatementState::kSucceeded) return out;
  json chunks = json::array();
  for (const ChunkInfo& info : snapshot.chunks) {
    json item = {{"chunk_index", info.chunk_index}, {"row_offset", info.row_offset}, {"row_count", info.row_count}};
    if (snapshot.disposition == ResultDisposition::kExternalLinks) item["byte_count"] = info.byte_count;
    chunks.push_back(std::move(item));
  }
  json manifest = {
      {"format", snapshot.format == ResultFormat::kCsv ? "CSV" : "JSON_ARRAY"},
      {"schema", {{"column_count", snapshot.columns.size()}, {"columns", ColumnsJson(snapshot.columns)}}},
      {"total_chunk_count", snapshot.chunks.size()},
      {"chunks", std::move(chunks)},
      {"total_row_count", snapshot.total_row_count},
      {"truncated", snapshot.truncated}};
  if (snapshot.disposition == ResultDisposition::kExternalLinks) {
    manifest["total_byte_count"] = snapshot.total_byte_count;
  }
  out["manifest"] = std::move(manifest);
  out["result"] = snapshot.first_chunk ? ChunkJson(snapshot, *snapshot.first_chunk, host) : json::object();
  return out;
}

Result<int64_t> ChunkIndexOf(const http::Request& request) {
  const std::string& text = request.path_params.at("chunk_index");
  int64_t index = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || index < 0) {
    return Error(ErrorCode::kInvalidParameterValue, "Invalid chunk_index '{}': expected a non-negative integer.",
                 text);
  }
  return index;
}

/// Counts Execute calls blocked in Wait; a call that finds no free slot does not block (unless it must cancel).
class WaitSlots {
 public:
  explicit WaitSlots(int limit) : limit_(limit) {}
  bool TryAcquire() {
    int used = used_.load();
    while (used < limit_) {
      if (used_.compare_exchange_weak(used, used + 1)) return true;
    }
    return false;
  }
  void Release() { used_.fetch_sub(1); }

 private:
  const int limit_;
  std::atomic<int> used_{0};
};

Result<json> ExecuteStatement(StatementManager& manager, WaitSlots& slots, http::Request& request) {
  ExecuteOptions options;
  TARN_ASSIGN_OR_RETURN(StatementRequest statement, ParseExecute(request, options));
  TARN_ASSIGN_OR_RETURN(std::string id, manager.Submit(std::move(statement)));
  // on_wait_timeout=CANCEL must wait to honour its timeout, with or without a slot.
  bool acquired = options.wait_ms > 0 && slots.TryAcquire();
  bool block = acquired || (options.wait_ms > 0 && options.cancel_on_timeout);
  Result<StatementSnapshot> waited = manager.Wait(id, request.user_id, block ? options.wait_ms : 0);
  if (acquired) slots.Release();
  TARN_ASSIGN_OR_RETURN(StatementSnapshot snapshot, std::move(waited));
  if (block && options.cancel_on_timeout &&
      (snapshot.state == StatementState::kPending || snapshot.state == StatementState::kRunning)) {
    TARN_RETURN_IF_ERROR(manager.Cancel(id, request.user_id));
    TARN_ASSIGN_OR_RETURN(snapshot, manager.Wait(id, request.user_id, kCancelWaitMs));
  }
  return StatementJson(snapshot, HostOf(request));
}

json WarehouseJson(const http::Request& request, const SqlWarehouseRouteOptions& options) {
  uint16_t port = options.sql_port ? options.sql_port() : 0;
  std::string host = HostNameOf(request);
  return {{"id", kBuiltinWarehouseId},
          {"name", kBuiltinWarehouseName},
          {"state", "RUNNING"},
          {"health", {{"status", "HEALTHY"}}},
          {"cluster_size", "X-Small"},
          {"min_num_clusters", 1},
          {"max_num_clusters", 1},
          {"num_clusters", 1},
          {"auto_stop_mins", 0},
          {"enable_photon", false},
          {"enable_serverless_compute", false},
          {"warehouse_type", "PRO"},
          {"creator_name", "admin"},
          {"odbc_params",
           {{"hostname", host},
            {"port", port},
            {"protocol", "postgresql"},
            {"path", std::string("/sql/1.0/warehouses/") + kBuiltinWarehouseId}}},
          {"jdbc_url", fmt::format("jdbc:postgresql://{}:{}/main", host, port)}};
}

}  // namespace

void RegisterSqlStatementRoutes(http::Router& router, StatementManager& manager, SqlWarehouseRouteOptions options) {
  StatementManager* m = &manager;
  int limit = options.max_blocking_waits >= 0
                  ? options.max_blocking_waits
                  : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  auto slots = std::make_shared<WaitSlots>(limit);
  router.Add(http::Method::kPost, "/api/2.0/sql/statements",
             detail::AuthenticatedJson([m, slots](http::Request& request) {
               return ExecuteStatement(*m, *slots, request);
             }));
  router.Add(http::Method::kGet, "/api/2.0/sql/statements/{statement_id}",
             detail::AuthenticatedJson([m](http::Request& request) -> Result<json> {
               TARN_ASSIGN_OR_RETURN(StatementSnapshot snapshot,
                                     m->Get(request.path_params.at("statement_id"), request.user_id));
               return StatementJson(snapshot, HostOf(request));
             }));
  router.Add(http::Method::kGet, "/api/2.0/sql/statements/{statement_id}/result/chunks/{chunk_index}",
             detail::AuthenticatedJson([m](http::Request& request) -> Result<json> {
               const std::string& id = request.path_params.at("statement_id");
               TARN_ASSIGN_OR_RETURN(int64_t index, ChunkIndexOf(request));
               TARN_ASSIGN_OR_RETURN(std::shared_ptr<const ResultChunk> chunk, m->GetChunk(id, request.user_id, index));
               TARN_ASSIGN_OR_RETURN(StatementSnapshot snapshot, m->Get(id, request.user_id));
               if (snapshot.state != StatementState::kSucceeded) {
                 return Error(ErrorCode::kInvalidState, "Statement {} is {}: it has no result to fetch.", id,
                              StatementStateName(snapshot.state));
               }
               return ChunkJson(snapshot, *chunk, HostOf(request));
             }));
  router.Add(http::Method::kPost, "/api/2.0/sql/statements/{statement_id}/cancel",
             detail::AuthenticatedJson([m](http::Request& request) -> Result<json> {
               TARN_RETURN_IF_ERROR(m->Cancel(request.path_params.at("statement_id"), request.user_id));
               return json::object();
             }));
  router.Add(http::Method::kGet, "/sql/statement-results/{statement_id}/{secret}/{chunk_index}",
             [m](http::Request& request) -> http::Response {
               auto index = ChunkIndexOf(request);
               if (!index.has_value()) return http::Response::Error(index.status());
               auto chunk = m->GetLinkedChunk(request.path_params.at("statement_id"), request.path_params.at("secret"),
                                              *index);
               if (!chunk.has_value()) return http::Response::Error(chunk.status());
               bool is_json = (*chunk)->format == ResultFormat::kJsonArray;
               return http::Response::Text((*chunk)->payload, 200,
                                           is_json ? "application/json" : "text/csv; charset=utf-8");
             });
  auto opts = std::make_shared<SqlWarehouseRouteOptions>(std::move(options));
  router.Add(http::Method::kGet, "/api/2.0/sql/warehouses",
             detail::AuthenticatedJson([opts](http::Request& request) -> Result<json> {
               return json{{"warehouses", json::array({WarehouseJson(request, *opts)})}};
             }));
  router.Add(http::Method::kGet, "/api/2.0/sql/warehouses/{id}",
             detail::AuthenticatedJson([opts](http::Request& request) -> Result<json> {
               TARN_RETURN_IF_ERROR(CheckWarehouse(request.path_params.at("id")));
               return WarehouseJson(request, *opts);
             }));
}

}  // namespace tarn::api
