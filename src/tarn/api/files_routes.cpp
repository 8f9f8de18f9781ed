// SPDX-License-Identifier: Apache-2.0
// Files API handlers: streamed uploads and downloads, byte ranges, paged directory listings.
#include "tarn/api/files_routes.hpp"

#include <time.h>

#include <charconv>
#include <memory>
#include <optional>
#include <string>

#include "tarn/api/detail/byte_range.hpp"
#include "tarn/api/detail/json_body.hpp"
#include "tarn/base/crypto.hpp"

namespace tarn::api {
namespace {

using nlohmann::json;
using storage::DbfsFileInfo;
using storage::DbfsFileReader;
using storage::DbfsFileSystem;
using storage::DbfsUpload;

constexpr int64_t kDownloadPieceBytes = 1 << 20;
constexpr int64_t kMaxPageSize = 1000;

// Databricks' newer services answer conflicts with 409; the file system says kResourceAlreadyExists (DBFS's 400).
http::Response ErrorResponse(const Status& status) {
  if (status.code() == ErrorCode::kResourceAlreadyExists) {
    return http::Response::Error(Status(ErrorCode::kAlreadyExists, status.message()));
  }
  return http::Response::Error(status);
}

using RawHandler = std::function<http::Response(http::Request&)>;

// Refuses requests the auth middleware did not authenticate; the handler answers raw bytes or errors itself.
http::Handler Authenticated(RawHandler handler) {
  return [handler = std::move(handler)](http::Request& request) -> http::Response {
    if (request.user_id == 0) {
      return http::Response::Error(Error(ErrorCode::kUnauthenticated, "Missing authentication."));
    }
    return handler(request);
  };
}

std::string HttpDate(int64_t epoch_millis) {
  time_t seconds = static_cast<time_t>(epoch_millis / 1000);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char buffer[64];
  size_t n = strftime(buffer, sizeof(buffer), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  return std::string(buffer, n);
}

Result<std::string> PathParam(const http::Request& request) {
  auto it = request.path_params.find("path");
  std::string raw = it == request.path_params.end() ? "" : it->second;
  if (raw.empty() || raw == "/") return Error(ErrorCode::kInvalidParameterValue, "A file path is required.");
  return DbfsFileSystem::NormalizePath(raw);
}

Result<std::string> DirectoryParam(const http::Request& request) {
  auto it = request.path_params.find("path");
  if (it == request.path_params.end() || it->second.empty()) return std::string(1, '/');  // the root
  return DbfsFileSystem::NormalizePath(it->second);
}

Result<bool> BoolQuery(const http::Request& request, std::string_view name, bool default_value) {
  auto value = request.QueryParam(name);
  if (!value) return default_value;
  std::string lower;
  for (char c : *value) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0") return false;
  return Error(ErrorCode::kInvalidParameterValue, "Invalid value for '{}': expected true or false, got '{}'", name,
               *value);
}

std::optional<int64_t> ParseNonNegative(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

namespace detail {

RangeKind ParseRange(std::optional<std::string_view> header, int64_t size, ByteRange& range) {
  if (!header) return RangeKind::kNone;
  std::string_view spec = *header;
  while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  if (!spec.starts_with("bytes=")) return RangeKind::kNone;
  spec.remove_prefix(6);
  if (spec.find(',') != std::string_view::npos) return RangeKind::kNone;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeKind::kNone;
  std::string_view first_text = spec.substr(0, dash);
  std::string_view last_text = spec.substr(dash + 1);
  if (first_text.empty()) {  // suffix range: the last N bytes
    auto suffix = ParseNonNegative(last_text);
    if (!suffix) return RangeKind::kNone;
    if (*suffix == 0 || size == 0) return RangeKind::kUnsatisfiable;
    range.first = size - std::min(*suffix, size);
    range.last = size - 1;
    return RangeKind::kSatisfiable;
  }
  auto first = ParseNonNegative(first_text);
  if (!first) return RangeKind::kNone;
  int64_t last = size - 1;
  if (!last_text.empty()) {
    auto parsed = ParseNonNegative(last_text);
    if (!parsed || *parsed < *first) return RangeKind::kNone;
    last = std::min(*parsed, size - 1);
  }
  if (*first >= size) return RangeKind::kUnsatisfiable;
  range.first = *first;
  range.last = last;
  return RangeKind::kSatisfiable;
}

}  // namespace detail

namespace {

using detail::ByteRange;
using detail::ParseRange;
using detail::RangeKind;

void SetFileHeaders(http::Response& response, const DbfsFileReader& reader) {
  response.SetHeader("Content-Type", "application/octet-stream");
  response.SetHeader("Last-Modified", HttpDate(reader.modification_time_millis()));
  response.SetHeader("Accept-Ranges", "bytes");
}

http::Response DownloadFile(DbfsFileSystem& dbfs, http::Request& request) {
  auto path = PathParam(request);
  if (!path.has_value()) return ErrorResponse(path.error());
  auto opened = dbfs.OpenFile(*path);
  if (!opened.has_value()) {
    // A directory is not a file here: the Files API answers "not found" for it.
    if (opened.error().code() == ErrorCode::kInvalidParameterValue) {
      return ErrorResponse(Error(ErrorCode::kResourceDoesNotExist, "The file {} does not exist (it is a directory).",
                                 *path));
    }
    return ErrorResponse(opened.error());
  }
  std::shared_ptr<DbfsFileReader> reader = std::move(opened).value();
  int64_t size = reader->size();
  http::Response response;
  SetFileHeaders(response, *reader);
  ByteRange range{0, size - 1};
  switch (ParseRange(request.Header("Range"), size, range)) {
    case RangeKind::kNone:
      response.status = 200;
      break;
    case RangeKind::kSatisfiable:
      response.status = 206;
      response.SetHeader("Content-Range", fmt::format("bytes {}-{}/{}", range.first, range.last, size));
      break;
    case RangeKind::kUnsatisfiable: {
      http::Response refused = detail::JsonResponse(
          json{{"error_code", "INVALID_PARAMETER_VALUE"},
               {"message", fmt::format("The requested range is not satisfiable for a file of {} bytes.", size)}},
          416);
      refused.SetHeader("Content-Range", fmt::format("bytes */{}", size));
      return refused;
    }
  }
  int64_t length = std::max<int64_t>(range.last - range.first + 1, 0);
  // With a producer the server streams exactly this many bytes under a Content-Length header.
  response.SetHeader("Content-Length", std::to_string(length));
  if (request.method == http::Method::kHead || length == 0) return response;
  auto position = std::make_shared<int64_t>(range.first);
  int64_t end = range.last + 1;
  response.producer = [reader, position, end](std::string& out) -> Result<bool> {
    int64_t want = std::min(kDownloadPieceBytes, end - *position);
    TARN_ASSIGN_OR_RETURN(std::string piece, reader->ReadAt(*position, want));
    if (static_cast<int64_t>(piece.size()) != want) {
      return Error(ErrorCode::kIoError, "file shrank while it was being sent");
    }
    *position += want;
    out += piece;
    return *position < end;
  };
  // The server sends these bytes with sendfile(2); the producer above is its fallback.
  response.file = http::FileBody{reader, reader->native_handle(), static_cast<uint64_t>(range.first),
                                 static_cast<uint64_t>(length)};
  return response;
}

http::Response UploadFile(DbfsFileSystem& dbfs, http::Request& request) {
  auto path = PathParam(request);
  if (!path.has_value()) return ErrorResponse(path.error());
  auto overwrite = BoolQuery(request, "overwrite", true);
  if (!overwrite.has_value()) return ErrorResponse(overwrite.error());
  if (!*overwrite) {
    auto existing = dbfs.GetStatus(*path);
    if (existing.has_value()) {
      return ErrorResponse(Error(ErrorCode::kAlreadyExists, "The file {} already exists.", *path));
    }
  }
  auto upload = dbfs.StartUpload();
  if (!upload.has_value()) return ErrorResponse(upload.error());
  if (request.body_reader) {
    // Streamed from the socket into the staging file through the page cache: the server splices a Content-Length
    // body socket -> pipe -> file, so it never passes through user space.
    auto fd = (*upload)->WritableDescriptor();
    if (!fd.has_value()) return ErrorResponse(fd.error());
    while (true) {
      uint64_t moved = 0;
      Result<bool> more = request.body_reader->ReadInto(*fd, moved);
      if (!more.has_value()) return ErrorResponse(more.error());
      (*upload)->Appended(static_cast<int64_t>(moved));
      if (!*more) break;
    }
  } else {
    Status appended = (*upload)->Append(request.body);
    if (!appended.ok()) return ErrorResponse(appended);
  }
  Status committed = (*upload)->Commit(*path, *overwrite);
  if (!committed.ok()) return ErrorResponse(committed);
  http::Response response;
  response.status = 204;
  return response;
}

http::Response DeleteFile(DbfsFileSystem& dbfs, http::Request& request) {
  auto path = PathParam(request);
  if (!path.has_value()) return ErrorResponse(path.error());
  Status deleted = dbfs.DeleteFile(*path);
  if (!deleted.ok()) return ErrorResponse(deleted);
  http::Response response;
  response.status = 204;
  return response;
}

http::Response ListDirectory(DbfsFileSystem& dbfs, http::Request& request) {
  auto path = DirectoryParam(request);
  if (!path.has_value()) return ErrorResponse(path.error());
  int64_t page_size = kMaxPageSize;
  if (auto text = request.QueryParam("page_size")) {
    auto parsed = ParseNonNegative(*text);
    if (!parsed) {
      return ErrorResponse(Error(ErrorCode::kInvalidParameterValue, "Invalid page_size: '{}'", *text));
    }
    if (*parsed > 0) page_size = std::min(*parsed, kMaxPageSize);
  }
  std::string start_after;
  if (auto token = request.QueryParam("page_token"); token && !token->empty()) {
    auto decoded = Base64Decode(*token);
    if (!decoded.has_value()) {
      return ErrorResponse(Error(ErrorCode::kInvalidParameterValue, "Invalid page_token."));
    }
    start_after = std::move(decoded).value();
  }
  auto info = dbfs.GetStatus(*path);
  if (!info.has_value()) return ErrorResponse(info.error());
  if (!info->is_dir) {
    return ErrorResponse(Error(ErrorCode::kResourceDoesNotExist, "The directory {} does not exist (it is a file).",
                               *path));
  }
  // Only this page's entries are stat'ed; the token is the last name of the previous page.
  auto page = dbfs.ListPage(*path, start_after, static_cast<size_t>(page_size));
  if (!page.has_value()) return ErrorResponse(page.error());
  json contents = json::array();
  std::string last_name;
  bool more = page->has_more;
  for (const DbfsFileInfo& entry : page->entries) {
    std::string name = entry.path.substr(entry.path.rfind('/') + 1);
    json item{{"path", entry.is_dir ? entry.path + "/" : entry.path},
              {"name", name},
              {"is_directory", entry.is_dir},
              {"last_modified", entry.modification_time_millis}};
    if (!entry.is_dir) item["file_size"] = entry.size;
    contents.push_back(std::move(item));
    last_name = std::move(name);
  }
  json body{{"contents", std::move(contents)}};
  if (more) body["next_page_token"] = Base64Encode(last_name);
  return detail::JsonResponse(body);
}

http::Response CreateDirectory(DbfsFileSystem& dbfs, http::Request& request) {
  auto path = DirectoryParam(request);
  if (!path.has_value()) return ErrorResponse(path.error());
  Status made = dbfs.MakeDirectories(*path);
  if (!made.ok()) return ErrorResponse(made);
  http::Response response;
  response.status = 204;
  return response;
}

http::Response DeleteDirectory(DbfsFileSystem& dbfs, http::Request& request) {
  auto path = DirectoryParam(request);
  if (!path.has_value()) return ErrorResponse(path.error());
  Status deleted = dbfs.DeleteEmptyDirectory(*path);
  if (!deleted.ok()) return ErrorResponse(deleted);
  http::Response response;
  response.status = 204;
  return response;
}

http::Response DirectoryMetadata(DbfsFileSystem& dbfs, http::Request& request) {
  auto path = DirectoryParam(request);
  if (!path.has_value()) return ErrorResponse(path.error());
  auto info = dbfs.GetStatus(*path);
  if (!info.has_value()) return ErrorResponse(info.error());
  if (!info->is_dir) {
    return ErrorResponse(Error(ErrorCode::kResourceDoesNotExist, "The directory {} does not exist.", *path));
  }
  return http::Response{};
}

}  // namespace

void RegisterFilesRoutes(http::Router& router, DbfsFileSystem& dbfs, FilesRouteOptions options) {
  constexpr std::string_view kFiles = "/api/2.0/fs/files{path...}";
  constexpr std::string_view kDirectories = "/api/2.0/fs/directories{path...}";
  DbfsFileSystem* fs = &dbfs;
  auto bind = [fs](http::Response (*op)(DbfsFileSystem&, http::Request&)) {
    return Authenticated([fs, op](http::Request& request) { return op(*fs, request); });
  };
  router.Add(http::Method::kGet, kFiles, bind(&DownloadFile));
  router.Add(http::Method::kHead, kFiles, bind(&DownloadFile));
  router.AddStreaming(http::Method::kPut, kFiles, bind(&UploadFile), options.max_upload_bytes);
  router.Add(http::Method::kDelete, kFiles, bind(&DeleteFile));
  router.Add(http::Method::kGet, kDirectories, bind(&ListDirectory));
  router.Add(http::Method::kHead, kDirectories, bind(&DirectoryMetadata));
  router.Add(http::Method::kPut, kDirectories, bind(&CreateDirectory));
  router.Add(http::Method::kDelete, kDirectories, bind(&DeleteDirectory));
}

}  // namespace tarn::api
