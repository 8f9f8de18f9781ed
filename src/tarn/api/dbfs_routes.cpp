// SPDX-License-Identifier: Apache-2.0
// DBFS API 2.0 handlers: request parsing (JSON, query strings, multipart put), upload handles and error wording.
#include "tarn/api/dbfs_routes.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tarn/api/detail/json_body.hpp"
#include "tarn/api/detail/multipart_form.hpp"
#include "tarn/base/clock.hpp"
#include "tarn/base/crypto.hpp"

namespace tarn::api {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "/api/2.0/dbfs/";

json FileInfoJson(const DbfsFileInfo& info) {
  return json{{"path", info.path},
              {"is_dir", info.is_dir},
              {"file_size", info.size},
              {"modification_time", info.modification_time_millis}};
}

// GET operations take query parameters; turning them into a JSON object of strings lets one set of field readers
// serve both (OptionalInt64 accepts decimal strings).
json QueryObject(const http::Request& request) {
  json object = json::object();
  for (const auto& [key, value] : request.query) {
    if (!object.contains(key)) object[key] = value;
  }
  return object;
}

// GET: the query string; other methods: the JSON body (a query string fills fields the body lacks).
Result<json> Parameters(const http::Request& request) {
  if (request.method == http::Method::kGet || request.method == http::Method::kHead) return QueryObject(request);
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  for (const auto& [key, value] : request.query) {
    if (!body.contains(key)) body[key] = value;
  }
  return body;
}

// Parses a boolean given as JSON true/false or as text (true/True/1/false/False/0), as legacy clients send them.
Result<std::optional<bool>> ParseBoolText(std::string_view name, std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "1") return std::optional<bool>(true);
  if (lower == "false" || lower == "0" || lower.empty()) return std::optional<bool>(false);
  return Error(ErrorCode::kInvalidParameterValue, "Invalid value for '{}': expected a boolean, got '{}'", name, text);
}

Result<bool> BoolField(const json& object, std::string_view name, bool default_value) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return default_value;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number_integer()) return it->get<int64_t>() != 0;
  if (it->is_string()) {
    TARN_ASSIGN_OR_RETURN(std::optional<bool> parsed, ParseBoolText(name, it->get<std::string>()));
    return parsed.value_or(default_value);
  }
  return Error(ErrorCode::kInvalidParameterValue, "Invalid value for '{}': expected a boolean", name);
}

Result<std::string> RequiredPath(const json& object, std::string_view name) {
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> path, detail::OptionalString(object, name));
  if (!path || path->empty()) return Error(ErrorCode::kInvalidParameterValue, "Missing required field: {}", name);
  return DbfsFileSystem::NormalizePath(*path);
}

// Decodes base64 block data, refusing more than `max_bytes` decoded bytes. Line breaks are tolerated (some encoders
// wrap at 76 columns).
Result<std::string> DecodeBlock(std::string_view field, std::string_view encoded, int64_t max_bytes) {
  std::string compact;
  compact.reserve(encoded.size());
  for (char c : encoded) {
    if (c != '\n' && c != '\r') compact += c;
  }
  // Checked before decoding so an oversized block costs no decode; 4 characters carry 3 bytes.
  auto too_big = [&](int64_t bytes) {
    return Error(ErrorCode::kMaxBlockSizeExceeded, "The '{}' data cannot exceed {} bytes. Found: {} bytes.", field,
                 max_bytes, bytes);
  };
  int64_t upper_bound = static_cast<int64_t>(compact.size() / 4 * 3);
  if (upper_bound > max_bytes + 3) return too_big(upper_bound);
  auto decoded = Base64Decode(compact);
  if (!decoded.has_value()) {
    return Error(ErrorCode::kInvalidParameterValue, "The '{}' field is not valid base64: {}", field,
                 decoded.error().message());
  }
  if (static_cast<int64_t>(decoded->size()) > max_bytes) return too_big(static_cast<int64_t>(decoded->size()));
  return std::move(decoded).value();
}

// An open create handle: staged bytes plus where they go at close.
struct OpenHandle {
  std::mutex mu;  // serialises add-block/close on one handle
  std::unique_ptr<DbfsUpload> upload;
  std::string path;
  bool overwrite = false;
  int64_t user_id = 0;
  int64_t last_used_millis = 0;
};

// The create/add-block/close handles. Expired handles are dropped lazily on every call.
class HandleTable {
 public:
  explicit HandleTable(const DbfsRouteOptions& options) : options_(options) {}

  int64_t Now() const { return options_.clock ? options_.clock() : NowMillis(); }

  Result<int64_t> Add(std::unique_ptr<DbfsUpload> upload, std::string path, bool overwrite, int64_t user_id) {
    std::lock_guard lock(mu_);
    DropExpiredLocked();
    if (static_cast<int64_t>(handles_.size()) >= options_.max_open_handles) {
      return Error(ErrorCode::kResourceExhausted, "Too many open DBFS handles ({}); close some first.",
                   handles_.size());
    }
    auto handle = std::make_shared<OpenHandle>();
    handle->upload = std::move(upload);
    handle->path = std::move(path);
    handle->overwrite = overwrite;
    handle->user_id = user_id;
    handle->last_used_millis = Now();
    int64_t id = next_id_++;
    handles_[id] = std::move(handle);
    return id;
  }

  Result<std::shared_ptr<OpenHandle>> Get(int64_t id, int64_t user_id) {
    std::lock_guard lock(mu_);
    DropExpiredLocked();
    auto it = handles_.find(id);
    if (it == handles_.end() || it->second->user_id != user_id) {
      return Error(ErrorCode::kResourceDoesNotExist, "The handle {} does not exist (it may have expired).", id);
    }
    it->second->last_used_millis = Now();
    return it->second;
  }

  void Remove(int64_t id) {
    std::lock_guard lock(mu_);
    handles_.erase(id);
  }

 private:
  void DropExpiredLocked() {
    int64_t now = Now();
    for (auto it = handles_.begin(); it != handles_.end();) {
      if (now - it->second->last_used_millis > options_.handle_idle_timeout_millis) {
        it = handles_.erase(it);
      } else {
        ++it;
      }
    }
  }

  const DbfsRouteOptions& options_;
  std::mutex mu_;
  std::map<int64_t, std::shared_ptr<OpenHandle>> handles_;  // guarded by mu_
  int64_t next_id_ = 1;                                      // guarded by mu_
};

struct DbfsContext {
  DbfsContext(DbfsFileSystem& fs, DbfsRouteOptions opts) : dbfs(fs), options(std::move(opts)), handles(options) {}
  DbfsFileSystem& dbfs;
  DbfsRouteOptions options;
  HandleTable handles;
};

// Refuses to start a write over an existing path unless overwriting a file.
Status CheckWritable(DbfsFileSystem& dbfs, const std::string& path, bool overwrite) {
  auto existing = dbfs.GetStatus(path);
  if (!existing.has_value()) {
    if (existing.error().code() == ErrorCode::kResourceDoesNotExist) return Status::OK();
    return existing.error();
  }
  if (existing->is_dir) return Error(ErrorCode::kResourceAlreadyExists, "A directory already exists at {}.", path);
  if (!overwrite) {
    return Error(ErrorCode::kResourceAlreadyExists, "A file or directory already exists at {}.", path);
  }
  return Status::OK();
}

Result<json> GetStatus(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string path, RequiredPath(params, "path"));
  TARN_ASSIGN_OR_RETURN(DbfsFileInfo info, ctx.dbfs.GetStatus(path));
  return FileInfoJson(info);
}

Result<json> List(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string path, RequiredPath(params, "path"));
  TARN_ASSIGN_OR_RETURN(std::vector<DbfsFileInfo> entries, ctx.dbfs.List(path));
  json files = json::array();
  for (const DbfsFileInfo& info : entries) files.push_back(FileInfoJson(info));
  return json{{"files", std::move(files)}};
}

Result<json> Mkdirs(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string path, RequiredPath(params, "path"));
  TARN_RETURN_IF_ERROR(ctx.dbfs.MakeDirectories(path));
  return json::object();
}

Result<json> Put(DbfsContext& ctx, http::Request& request) {
  std::string path;
  bool overwrite = false;
  std::string decoded;
  std::string_view contents;
  if (detail::IsMultipartForm(request)) {
    TARN_ASSIGN_OR_RETURN(std::vector<detail::FormPart> parts, detail::ParseMultipartForm(request));
    std::optional<std::string_view> data;
    std::optional<std::string> raw_path;
    for (const detail::FormPart& part : parts) {
      if (part.name == "path") {
        raw_path = std::string(part.content);
      } else if (part.name == "overwrite") {
        TARN_ASSIGN_OR_RETURN(std::optional<bool> flag, ParseBoolText("overwrite", part.content));
        overwrite = flag.value_or(false);
      } else if (part.name == "contents" && !part.filename) {
        TARN_ASSIGN_OR_RETURN(decoded, DecodeBlock("contents", part.content, ctx.options.max_block_bytes));
        data = decoded;
      } else if (part.name == "file" || part.name == "contents" || part.filename) {
        data = part.content;
      }
    }
    if (!raw_path || raw_path->empty()) {
      return Error(ErrorCode::kInvalidParameterValue, "Missing required field: path");
    }
    TARN_ASSIGN_OR_RETURN(path, DbfsFileSystem::NormalizePath(*raw_path));
    contents = data.value_or(std::string_view());
  } else {
    TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
    TARN_ASSIGN_OR_RETURN(path, RequiredPath(params, "path"));
    TARN_ASSIGN_OR_RETURN(overwrite, BoolField(params, "overwrite", false));
    TARN_ASSIGN_OR_RETURN(std::optional<std::string> encoded, detail::OptionalString(params, "contents"));
    if (encoded) {
      TARN_ASSIGN_OR_RETURN(decoded, DecodeBlock("contents", *encoded, ctx.options.max_block_bytes));
    }
    contents = decoded;
  }
  TARN_RETURN_IF_ERROR(CheckWritable(ctx.dbfs, path, overwrite));
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<DbfsUpload> upload, ctx.dbfs.StartUpload());
  TARN_RETURN_IF_ERROR(upload->Append(contents));
  TARN_RETURN_IF_ERROR(upload->Commit(path, overwrite));
  return json::object();
}

Result<json> Read(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string path, RequiredPath(params, "path"));
  TARN_ASSIGN_OR_RETURN(std::optional<int64_t> offset, detail::OptionalInt64(params, "offset"));
  TARN_ASSIGN_OR_RETURN(std::optional<int64_t> length, detail::OptionalInt64(params, "length"));
  if (offset.value_or(0) < 0) {
    return Error(ErrorCode::kInvalidParameterValue, "Invalid value for 'offset': {} (must be >= 0)", *offset);
  }
  if (length.value_or(0) < 0) {
    return Error(ErrorCode::kInvalidParameterValue, "Invalid value for 'length': {} (must be >= 0)", *length);
  }
  if (length.value_or(0) > ctx.options.max_read_bytes) {
    return Error(ErrorCode::kMaxReadSizeExceeded, "Cannot read more than {} bytes at once; 'length' was {}.",
                 ctx.options.max_read_bytes, *length);
  }
  // Proto3 cannot tell an explicit 0 from an absent field, so 0 means the default here as it does upstream.
  int64_t to_read = length.value_or(0) == 0 ? ctx.options.default_read_bytes : *length;
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<DbfsFileReader> reader, ctx.dbfs.OpenFile(path));
  TARN_ASSIGN_OR_RETURN(std::string data, reader->ReadAt(offset.value_or(0), to_read));
  return json{{"bytes_read", static_cast<int64_t>(data.size())}, {"data", Base64Encode(data)}};
}

Result<json> Create(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string path, RequiredPath(params, "path"));
  TARN_ASSIGN_OR_RETURN(bool overwrite, BoolField(params, "overwrite", false));
  if (path == "/") return Error(ErrorCode::kInvalidParameterValue, "Cannot write a file at the root.");
  TARN_RETURN_IF_ERROR(CheckWritable(ctx.dbfs, path, overwrite));
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<DbfsUpload> upload, ctx.dbfs.StartUpload());
  TARN_ASSIGN_OR_RETURN(int64_t handle, ctx.handles.Add(std::move(upload), path, overwrite, request.user_id));
  return json{{"handle", handle}};
}

Result<int64_t> RequiredHandle(const json& params) {
  TARN_ASSIGN_OR_RETURN(std::optional<int64_t> handle, detail::OptionalInt64(params, "handle"));
  if (!handle) return Error(ErrorCode::kInvalidParameterValue, "Missing required field: handle");
  return *handle;
}

Result<json> AddBlock(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(int64_t id, RequiredHandle(params));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> encoded, detail::OptionalString(params, "data"));
  if (!encoded) return Error(ErrorCode::kInvalidParameterValue, "Missing required field: data");
  TARN_ASSIGN_OR_RETURN(std::shared_ptr<OpenHandle> handle, ctx.handles.Get(id, request.user_id));
  TARN_ASSIGN_OR_RETURN(std::string data, DecodeBlock("data", *encoded, ctx.options.max_block_bytes));
  std::lock_guard lock(handle->mu);
  if (!handle->upload) {
    return Error(ErrorCode::kResourceDoesNotExist, "The handle {} does not exist (it may have expired).", id);
  }
  TARN_RETURN_IF_ERROR(handle->upload->Append(data));
  return json::object();
}

Result<json> Close(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(int64_t id, RequiredHandle(params));
  TARN_ASSIGN_OR_RETURN(std::shared_ptr<OpenHandle> handle, ctx.handles.Get(id, request.user_id));
  ctx.handles.Remove(id);
  std::lock_guard lock(handle->mu);
  if (!handle->upload) {
    return Error(ErrorCode::kResourceDoesNotExist, "The handle {} does not exist (it may have expired).", id);
  }
  std::unique_ptr<DbfsUpload> upload = std::move(handle->upload);
  TARN_RETURN_IF_ERROR(upload->Commit(handle->path, handle->overwrite));
  return json::object();
}

Result<json> Delete(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string path, RequiredPath(params, "path"));
  TARN_ASSIGN_OR_RETURN(bool recursive, BoolField(params, "recursive", false));
  auto deleted = ctx.dbfs.Delete(path, recursive, ctx.options.max_delete_entries);
  if (!deleted.has_value()) {
    // DBFS reports a non-empty directory as IO_ERROR (clients match that code).
    if (deleted.error().code() == ErrorCode::kDirectoryNotEmpty) {
      return Error(ErrorCode::kIoError, "{}", deleted.error().message());
    }
    return deleted.error();
  }
  return json::object();
}

Result<json> Move(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string source, RequiredPath(params, "source_path"));
  TARN_ASSIGN_OR_RETURN(std::string destination, RequiredPath(params, "destination_path"));
  TARN_RETURN_IF_ERROR(ctx.dbfs.Move(source, destination));
  return json::object();
}

}  // namespace

void RegisterDbfsRoutes(http::Router& router, DbfsFileSystem& dbfs, DbfsRouteOptions options) {
  auto ctx = std::make_shared<DbfsContext>(dbfs, std::move(options));
  using Op = Result<json> (*)(DbfsContext&, http::Request&);
  auto add = [&](http::Method method, std::string_view name, Op op) {
    router.Add(method, std::string(kPrefix) + std::string(name),
               detail::AuthenticatedJson([ctx, op](http::Request& request) { return op(*ctx, request); }));
  };
  // Read-only operations answer GET (what clients send) and POST (some scripts send JSON bodies).
  for (http::Method method : {http::Method::kGet, http::Method::kPost}) {
    add(method, "get-status", &GetStatus);
    add(method, "list", &List);
    add(method, "read", &Read);
  }
  add(http::Method::kPost, "mkdirs", &Mkdirs);
  add(http::Method::kPost, "put", &Put);
  add(http::Method::kPost, "create", &Create);
  add(http::Method::kPost, "add-block", &AddBlock);
  add(http::Method::kPost, "close", &Close);
  add(http::Method::kPost, "delete", &Delete);
  add(http::Method::kPost, "move", &Move);
}

}  // namespace tarn::api
