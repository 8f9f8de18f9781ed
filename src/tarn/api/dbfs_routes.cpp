// SPDX-License-Identifier: Apache-2.0
// DBFS API 2.0 handlers: request parsing (JSON, query strings, multipart put), upload handles and error wording.
#include "tarn/api/dbfs_routes.hpp"

#include <charconv>
#include <functional>
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
using storage::DbfsFileInfo;
using storage::DbfsFileReader;
using storage::DbfsFileSystem;
using storage::DbfsUpload;

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

// True when `text` is plain ASCII that needs no escaping inside a JSON string.
bool IsPlainJson(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') return false;
  }
  return true;
}

// Appends `text` as a JSON string: plain ASCII paths are copied as they are, anything else goes through JsonEscape.
void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  if (IsPlainJson(text)) {
    out += text;
  } else {
    out += http::JsonEscape(text);
  }
  out += '"';
}

void AppendInt(std::string& out, int64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, end);
}

// Entries of a dbfs/list answer written per piece: about 100 KB of JSON for names like "/dir/f000001.txt".
constexpr size_t kListPieceEntries = 1024;

// Writes a dbfs/list answer piece by piece from a DbfsListing: `{"files":[`, the entries, `]}`.
class ListWriter {
 public:
  explicit ListWriter(std::unique_ptr<storage::DbfsListing> listing) : listing_(std::move(listing)) {}

  // Appends the next piece to `out`; returns whether more pieces follow.
  Result<bool> Next(std::string& out) {
    if (!opened_) out += "{\"files\":[";
    opened_ = true;
    TARN_ASSIGN_OR_RETURN(bool more, listing_->Next(kListPieceEntries, batch_));
    const std::string& prefix = listing_->prefix();
    out.reserve(out.size() + batch_.size() * (prefix.size() + 90) + 2);
    for (const storage::DbfsListedEntry& entry : batch_) {
      if (wrote_entry_) out += ',';
      wrote_entry_ = true;
      out += "{\"path\":";
      AppendJsonPath(out, prefix, entry.name);
      out += entry.is_dir ? ",\"is_dir\":true,\"file_size\":" : ",\"is_dir\":false,\"file_size\":";
      AppendInt(out, entry.size);
      out += ",\"modification_time\":";
      AppendInt(out, entry.modification_time_millis);
      out += '}';
    }
    if (!more) out += "]}";
    return more;
  }

 private:
  // Appends prefix + name as a JSON string (escaped only when needed).
  static void AppendJsonPath(std::string& out, std::string_view prefix, std::string_view name) {
    if (IsPlainJson(prefix) && IsPlainJson(name)) {
      out += '"';
      out += prefix;
      out += name;
      out += '"';
    } else {
      AppendJsonString(out, std::string(prefix) + std::string(name));
    }
  }

  std::unique_ptr<storage::DbfsListing> listing_;
  std::vector<storage::DbfsListedEntry> batch_;
  bool opened_ = false;       // `{"files":[` is written
  bool wrote_entry_ = false;  // an entry is written (the next one needs a comma)
};

// dbfs/list has no paging (the whole directory in one answer, as Databricks does). The answer is written straight
// from the listing rather than built as a JSON document: a directory that fits one piece is answered with a
// Content-Length; a larger one streams (chunked) piece by piece, each piece written out while the kernel already
// stats the entries of the next ones. A stat failure after the first piece can only abort the connection.
Result<http::Response> List(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string path, RequiredPath(params, "path"));
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<storage::DbfsListing> listing, ctx.dbfs.OpenListing(path));
  auto writer = std::make_shared<ListWriter>(std::move(listing));
  std::string first;
  TARN_ASSIGN_OR_RETURN(bool more, writer->Next(first));
  if (!more) return http::Response::Json(std::move(first));
  http::Response response;
  response.status = 200;
  response.SetHeader("Content-Type", "application/json");
  auto pending = std::make_shared<std::string>(std::move(first));
  response.producer = [writer, pending](std::string& out) -> Result<bool> {
    if (!pending->empty()) {
      out = std::move(*pending);
      pending->clear();
      return true;
    }
    return writer->Next(out);
  };
  return response;
}

Result<json> Mkdirs(DbfsContext& ctx, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string path, RequiredPath(params, "path"));
  TARN_RETURN_IF_ERROR(ctx.dbfs.MakeDirectories(path));
  return json::object();
}

// Hands the request body to `sink` piece by piece: from the body reader on a streaming route, else all at once.
Status ForEachBodyPiece(http::Request& request, const std::function<Status(std::string_view)>& sink) {
  if (!request.body_reader) return sink(request.body);
  std::string piece;
  while (true) {
    TARN_ASSIGN_OR_RETURN(bool more, request.body_reader->Read(piece));
    TARN_RETURN_IF_ERROR(sink(piece));
    if (!more) return Status::OK();
  }
}

// multipart/form-data put: fields `path` and `overwrite`, and the data as a file part (streamed into a staged
// upload, any size) or as a base64 `contents` field (at most max_block_bytes decoded). The last data part wins.
// The file appears only once the whole body is in and the checks pass.
Result<json> PutMultipart(DbfsContext& ctx, http::Request& request) {
  constexpr size_t kMaxFieldBytes = 64 * 1024;
  enum class Target { kIgnore, kPath, kOverwrite, kBase64, kFile };
  enum class Data { kNone, kBase64, kFile };
  Target target = Target::kIgnore;
  Data data = Data::kNone;
  std::string field;  // text of the current path/overwrite/base64 part
  std::optional<std::string> raw_path;
  bool overwrite = false;
  std::string decoded;
  std::unique_ptr<DbfsUpload> upload;  // the bytes of the current file part
  // Base64 text longer than this cannot decode to max_block_bytes, even with a line break every 76 characters.
  const size_t max_base64 = static_cast<size_t>(ctx.options.max_block_bytes) / 3 * 4 * 78 / 76 + 16;
  auto end_part = [&]() -> Status {
    switch (target) {
      case Target::kPath:
        raw_path = field;
        break;
      case Target::kOverwrite: {
        TARN_ASSIGN_OR_RETURN(std::optional<bool> flag, ParseBoolText("overwrite", field));
        overwrite = flag.value_or(false);
        break;
      }
      case Target::kBase64: {
        TARN_ASSIGN_OR_RETURN(decoded, DecodeBlock("contents", field, ctx.options.max_block_bytes));
        data = Data::kBase64;
        upload.reset();
        break;
      }
      case Target::kFile:
        data = Data::kFile;
        break;
      case Target::kIgnore:
        break;
    }
    target = Target::kIgnore;
    field.clear();
    return Status::OK();
  };
  auto on_part = [&](const std::string& name, const std::optional<std::string>& filename) -> Status {
    TARN_RETURN_IF_ERROR(end_part());
    if (name == "path") {
      target = Target::kPath;
    } else if (name == "overwrite") {
      target = Target::kOverwrite;
    } else if (name == "contents" && !filename) {
      target = Target::kBase64;
    } else if (name == "file" || name == "contents" || filename) {
      target = Target::kFile;
      upload.reset();  // an earlier file part's staging file goes away
      TARN_ASSIGN_OR_RETURN(upload, ctx.dbfs.StartUpload());
    }
    return Status::OK();
  };
  auto on_data = [&](std::string_view bytes) -> Status {
    switch (target) {
      case Target::kFile:
        return upload->Append(bytes);
      case Target::kBase64:
        if (field.size() + bytes.size() > max_base64) {
          return Error(ErrorCode::kMaxBlockSizeExceeded, "The 'contents' data cannot exceed {} bytes.",
                       ctx.options.max_block_bytes);
        }
        field.append(bytes);
        return Status::OK();
      case Target::kPath:
      case Target::kOverwrite:
        if (field.size() + bytes.size() > kMaxFieldBytes) {
          return Error(ErrorCode::kInvalidParameterValue, "A form field is longer than {} bytes.", kMaxFieldBytes);
        }
        field.append(bytes);
        return Status::OK();
      case Target::kIgnore:
        return Status::OK();
    }
    return Status::OK();
  };
  TARN_ASSIGN_OR_RETURN(detail::MultipartStreamParser parser,
                        detail::MultipartStreamParser::Create(request, on_part, on_data));
  TARN_RETURN_IF_ERROR(ForEachBodyPiece(request, [&](std::string_view piece) { return parser.Feed(piece); }));
  TARN_RETURN_IF_ERROR(parser.Finish());
  TARN_RETURN_IF_ERROR(end_part());
  if (!raw_path || raw_path->empty()) return Error(ErrorCode::kInvalidParameterValue, "Missing required field: path");
  TARN_ASSIGN_OR_RETURN(std::string path, DbfsFileSystem::NormalizePath(*raw_path));
  TARN_RETURN_IF_ERROR(CheckWritable(ctx.dbfs, path, overwrite));
  if (data != Data::kFile || !upload) {
    TARN_ASSIGN_OR_RETURN(upload, ctx.dbfs.StartUpload());
    TARN_RETURN_IF_ERROR(upload->Append(decoded));
  }
  TARN_RETURN_IF_ERROR(upload->Commit(path, overwrite));
  return json::object();
}

// Largest JSON body of put (its base64 `contents` is limited to max_block_bytes anyway).
constexpr size_t kMaxJsonPutBytes = 64 * 1024 * 1024;

Result<json> Put(DbfsContext& ctx, http::Request& request) {
  if (detail::IsMultipartForm(request)) return PutMultipart(ctx, request);
  if (request.body_reader) {
    // A JSON body is small: gather it, under its own limit, and parse it as the buffered routes do.
    std::string body;
    TARN_RETURN_IF_ERROR(ForEachBodyPiece(request, [&](std::string_view piece) -> Status {
      if (body.size() + piece.size() > kMaxJsonPutBytes) {
        return Error(ErrorCode::kRequestTooLarge, "request body exceeds the limit of {} bytes", kMaxJsonPutBytes);
      }
      body.append(piece);
      return Status::OK();
    }));
    request.body = std::move(body);
    request.body_reader.reset();
  }
  TARN_ASSIGN_OR_RETURN(json params, Parameters(request));
  TARN_ASSIGN_OR_RETURN(std::string path, RequiredPath(params, "path"));
  TARN_ASSIGN_OR_RETURN(bool overwrite, BoolField(params, "overwrite", false));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> encoded, detail::OptionalString(params, "contents"));
  std::string decoded;
  if (encoded) {
    TARN_ASSIGN_OR_RETURN(decoded, DecodeBlock("contents", *encoded, ctx.options.max_block_bytes));
  }
  TARN_RETURN_IF_ERROR(CheckWritable(ctx.dbfs, path, overwrite));
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<DbfsUpload> upload, ctx.dbfs.StartUpload());
  TARN_RETURN_IF_ERROR(upload->Append(decoded));
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
    add(method, "read", &Read);
    router.Add(method, std::string(kPrefix) + "list", [ctx](http::Request& request) -> http::Response {
      if (request.user_id == 0) {
        return http::Response::Error(Error(ErrorCode::kUnauthenticated, "Missing authentication."));
      }
      Result<http::Response> answer = List(*ctx, request);
      if (!answer.has_value()) return http::Response::Error(answer.error());
      return std::move(answer).value();
    });
  }
  add(http::Method::kPost, "mkdirs", &Mkdirs);
  // put streams: a multipart file part goes to a staged upload as it arrives, up to max_put_bytes.
  router.AddStreaming(http::Method::kPost, std::string(kPrefix) + "put",
                      detail::AuthenticatedJson([ctx](http::Request& request) { return Put(*ctx, request); }),
                      ctx->options.max_put_bytes);
  add(http::Method::kPost, "create", &Create);
  add(http::Method::kPost, "add-block", &AddBlock);
  add(http::Method::kPost, "close", &Close);
  add(http::Method::kPost, "delete", &Delete);
  add(http::Method::kPost, "move", &Move);
}

}  // namespace tarn::api
