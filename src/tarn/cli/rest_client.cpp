// SPDX-License-Identifier: Apache-2.0
// libcurl-based REST client: request building, error-body decoding and transport error messages.
#include "tarn/cli/rest_client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "tarn/base/version.hpp"
#include "tarn/cli/detail/plain_http.hpp"
#include "tarn/storage/direct_file_writer.hpp"

namespace tarn::cli {
namespace {

constexpr size_t kMaxErrorSnippet = 200;

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

ErrorCode CodeForHttpStatus(long http_status) {
  switch (http_status) {
    case 400: return ErrorCode::kBadRequest;
    case 401: return ErrorCode::kUnauthenticated;
    case 403: return ErrorCode::kPermissionDenied;
    case 404: return ErrorCode::kResourceDoesNotExist;
    case 405: return ErrorCode::kMethodNotAllowed;
    case 409: return ErrorCode::kResourceConflict;
    case 413: return ErrorCode::kRequestTooLarge;
    case 429: return ErrorCode::kRequestLimitExceeded;
    case 501: return ErrorCode::kNotImplemented;
    case 503: return ErrorCode::kTemporarilyUnavailable;
    default: return http_status >= 500 ? ErrorCode::kInternal : ErrorCode::kBadRequest;
  }
}

// Prefers the row whose Databricks error_code and HTTP status both match, then the error_code alone.
ErrorCode CodeForDatabricksError(std::string_view error_code, long http_status) {
  std::optional<ErrorCode> name_match;
  for (size_t i = 1; i < NumErrorCodes(); ++i) {
    auto code = static_cast<ErrorCode>(i);
    const auto& info = GetErrorCodeInfo(code);
    if (info.databricks != error_code) continue;
    if (info.http_status == http_status) return code;
    if (!name_match) name_match = code;
  }
  return name_match.value_or(CodeForHttpStatus(http_status));
}

std::string OneLine(std::string_view text) {
  std::string out(text.substr(0, kMaxErrorSnippet));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (text.size() > kMaxErrorSnippet) out += "...";
  return out;
}

std::string StringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

Status TransportError(CURLcode code, long os_errno, const std::string& host, const char* detail,
                      long timeout_seconds) {
  std::string what = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      if (os_errno == ECONNREFUSED) what = "connection refused";
      return Error(ErrorCode::kConnectionFailure, "cannot connect to {}: {} (is the server running? start it with "
                   "`tarn up`)", host, what);
    case CURLE_COULDNT_RESOLVE_HOST:
      return Error(ErrorCode::kConnectionFailure, "cannot resolve the host of {}: {}", host, what);
    case CURLE_OPERATION_TIMEDOUT:
      return Error(ErrorCode::kConnectionFailure, "request to {} timed out after {} s", host, timeout_seconds);
    default:
      return Error(ErrorCode::kConnectionFailure, "request to {} failed: {}", host, what);
  }
}

// Options every request sets: target, headers, identity, error text, no signals, connect timeout, and never
// following redirects (they could carry the bearer token to another host).
void SetCommonOptions(CURL* handle, const std::string& url, curl_slist* headers, const std::string& user_agent,
                      char* error_buffer, long connect_timeout_seconds) {
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, connect_timeout_seconds);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
}

// The Status for a transfer that failed below HTTP (connect, resolve, timeout...).
Status TransferFailure(CURL* handle, CURLcode code, const RestClientOptions& options, const char* error_buffer) {
  long os_errno = 0;
  curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &os_errno);
  return TransportError(code, os_errno, options.host, error_buffer, options.timeout_seconds);
}

long ResponseStatus(CURL* handle) {
  long http_status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &http_status);
  return http_status;
}

}  // namespace

Status HttpErrorStatus(long http_status, std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    std::string error_code = StringField(json, "error_code");
    std::string message = StringField(json, "message");
    if (message.empty()) message = StringField(json, "error");   // API 1.2 shape
    if (message.empty()) message = StringField(json, "detail");  // SCIM shape
    if (!error_code.empty() || !message.empty()) {
      if (error_code.empty()) {
        error_code = std::string(GetErrorCodeInfo(CodeForHttpStatus(http_status)).databricks);
      }
      return Status(CodeForDatabricksError(error_code, http_status),
                    error_code + ": " + (message.empty() ? "HTTP " + std::to_string(http_status) : message));
    }
  }
  std::string snippet = OneLine(body);
  return Status(CodeForHttpStatus(http_status),
                "HTTP " + std::to_string(http_status) + (snippet.empty() ? "" : ": " + snippet));
}

RestClient::RestClient(RestClientOptions options) : options_(std::move(options)) {
  while (!options_.host.empty() && options_.host.back() == '/') options_.host.pop_back();
}

std::string RestClient::BuildUrl(std::string_view path, const QueryParams& query) const {
  std::string url = options_.host + std::string(path);
  EnsureCurlInitialized();
  char separator = '?';
  for (const auto& [key, value] : query) {
    char* escaped_key = curl_easy_escape(nullptr, key.data(), static_cast<int>(key.size()));
    char* escaped_value = curl_easy_escape(nullptr, value.data(), static_cast<int>(value.size()));
    url += separator;
    url += escaped_key;
    url += '=';
    url += escaped_value;
    curl_free(escaped_key);
    curl_free(escaped_value);
    separator = '&';
  }
  return url;
}

Result<std::string> RestClient::Get(std::string_view path, const QueryParams& query) {
  return Send("GET", BuildUrl(path, query), {});
}

Result<std::string> RestClient::Post(std::string_view path, std::string_view json_body) {
  return Send("POST", options_.host + std::string(path), json_body);
}

Result<std::string> RestClient::Send(std::string_view method, const std::string& url, std::string_view body) {
  EnsureCurlInitialized();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Error(ErrorCode::kInternal, "cannot initialise libcurl");

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& header) {
    headers.reset(curl_slist_append(headers.release(), header.c_str()));
  };
  add_header("Accept: application/json");
  add_header("Authorization: Bearer " + options_.token);
  if (method == "POST") add_header("Content-Type: application/json");

  std::string response;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  std::string user_agent = std::string("tarn-cli/") + kVersion;
  CURL* handle = curl.get();
  SetCommonOptions(handle, url, headers.get(), user_agent, error_buffer, options_.connect_timeout_seconds);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT, options_.timeout_seconds);
  if (method == "POST") {
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else {
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  }

  if (options_.debug_log != nullptr) {
    *options_.debug_log << "> " << method << ' ' << url << '\n';
    if (!body.empty()) *options_.debug_log << "> " << body << '\n';
  }
  CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    if (options_.debug_log != nullptr) *options_.debug_log << "< " << curl_easy_strerror(code) << '\n';
    return TransferFailure(handle, code, options_, error_buffer);
  }
  long http_status = ResponseStatus(handle);
  if (options_.debug_log != nullptr) {
    *options_.debug_log << "< HTTP " << http_status << " (" << response.size() << " bytes)\n";
  }
  if (http_status < 200 || http_status >= 300) return HttpErrorStatus(http_status, response);
  return response;
}

namespace {

// libcurl's receive buffer and upload buffer for streamed transfers (its maxima are 10 MiB and 2 MiB).
constexpr long kStreamBufferBytes = 1L << 20;
constexpr long kStreamUploadBufferBytes = 2L << 20;

// State shared with the libcurl callbacks of one streamed transfer.
struct StreamTransfer {
  CURL* handle = nullptr;
  const BodySource* source = nullptr;
  const BodySink* sink = nullptr;
  const ProgressCallback* progress = nullptr;
  std::string body;  // non-streamed answer: the body of an error, or the whole body when there is no sink
  bool aborted = false;
};

size_t ReadStreamBody(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<StreamTransfer*>(user);
  int64_t n = (*transfer->source)(buffer, size * count);
  if (n < 0) {
    transfer->aborted = true;
    return CURL_READFUNC_ABORT;
  }
  return static_cast<size_t>(n);
}

size_t WriteStreamBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<StreamTransfer*>(user);
  long http_status = ResponseStatus(transfer->handle);
  if (transfer->sink != nullptr && *transfer->sink && http_status >= 200 && http_status < 300) {
    if (!(*transfer->sink)(std::string_view(data, size * count))) {
      transfer->aborted = true;
      return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
    }
    return size * count;
  }
  if (transfer->body.size() < (1 << 20)) transfer->body.append(data, size * count);
  return size * count;
}

int ReportProgress(void* user, curl_off_t download_total, curl_off_t download_now, curl_off_t upload_total,
                   curl_off_t upload_now) {
  auto* transfer = static_cast<StreamTransfer*>(user);
  if (transfer->progress != nullptr && *transfer->progress) {
    if (transfer->source != nullptr) {
      (*transfer->progress)(static_cast<int64_t>(upload_now), upload_total > 0 ? upload_total : -1);
    } else {
      (*transfer->progress)(static_cast<int64_t>(download_now), download_total > 0 ? download_total : -1);
    }
  }
  return 0;
}

// Runs a streamed transfer whose direction-specific options are already set on transfer.handle: adds the common
// and streaming options (stall rule instead of a total timeout), performs it and maps failures to a Status;
// `abort_message` (formatted with the URL) is used when a callback aborted the transfer.
Status PerformStream(StreamTransfer& transfer, const std::string& url, curl_slist* headers,
                     const RestClientOptions& options, std::string_view abort_message) {
  char error_buffer[CURL_ERROR_SIZE] = {0};
  std::string user_agent = std::string("tarn-cli/") + kVersion;
  CURL* handle = transfer.handle;
  SetCommonOptions(handle, url, headers, user_agent, error_buffer, options.connect_timeout_seconds);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, WriteStreamBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, ReportProgress);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, options.timeout_seconds);
  // Large transfer buffers: a few big socket reads and writes per MiB instead of one per 16-64 KiB (system calls
  // are the cost on a VM), and bigger pieces for the sink.
  curl_easy_setopt(handle, CURLOPT_BUFFERSIZE, kStreamBufferBytes);
  curl_easy_setopt(handle, CURLOPT_UPLOAD_BUFFERSIZE, kStreamUploadBufferBytes);
  CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    if (transfer.aborted) return Error(ErrorCode::kIoError, fmt::runtime(abort_message), url);
    return TransferFailure(handle, code, options, error_buffer);
  }
  long http_status = ResponseStatus(handle);
  if (options.debug_log != nullptr) *options.debug_log << "< HTTP " << http_status << '\n';
  if (http_status < 200 || http_status >= 300) return HttpErrorStatus(http_status, transfer.body);
  return Status::OK();
}

}  // namespace

Result<std::string> RestClient::PutStream(std::string_view path, const QueryParams& query, const BodySource& source,
                                          int64_t size, const ProgressCallback& progress) {
  std::string url = BuildUrl(path, query);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Error(ErrorCode::kInternal, "cannot initialise libcurl");
  StreamTransfer transfer{curl.get(), &source, nullptr, &progress, {}, false};
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& header) {
    headers.reset(curl_slist_append(headers.release(), header.c_str()));
  };
  add_header("Authorization: Bearer " + options_.token);
  add_header("Content-Type: application/octet-stream");
  add_header("Expect:");  // no 100-continue round trip
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  curl_easy_setopt(handle, CURLOPT_READFUNCTION, ReadStreamBody);
  curl_easy_setopt(handle, CURLOPT_READDATA, &transfer);
  if (options_.debug_log != nullptr) *options_.debug_log << "> PUT " << url << " (" << size << " bytes)\n";
  TARN_RETURN_IF_ERROR(
      PerformStream(transfer, url, headers.get(), options_, "reading the local data for {} failed"));
  return transfer.body;
}

Status RestClient::GetStream(std::string_view path, const QueryParams& query, const BodySink& sink,
                             const ProgressCallback& progress) {
  std::string url = BuildUrl(path, query);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Error(ErrorCode::kInternal, "cannot initialise libcurl");
  StreamTransfer transfer{curl.get(), nullptr, &sink, &progress, {}, false};
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  headers.reset(curl_slist_append(nullptr, ("Authorization: Bearer " + options_.token).c_str()));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPGET, 1L);
  if (options_.debug_log != nullptr) *options_.debug_log << "> GET " << url << '\n';
  return PerformStream(transfer, url, headers.get(), options_, "writing the data of {} failed");
}

namespace {

detail::PlainTransferOptions PlainOptions(const RestClientOptions& options_) {
  detail::PlainTransferOptions plain;
  plain.user_agent = std::string("tarn-cli/") + kVersion;
  plain.token = options_.token;
  plain.connect_timeout_seconds = options_.connect_timeout_seconds;
  plain.stall_timeout_seconds = options_.timeout_seconds;
  plain.display_host = options_.host;
  return plain;
}

}  // namespace

Result<int64_t> RestClient::GetToFile(std::string_view path, const QueryParams& query, int fd, std::string_view what,
                                      const ProgressCallback& progress) {
  std::string url = BuildUrl(path, query);
  std::optional<detail::PlainHttpUrl> plain = detail::ParsePlainHttpUrl(url);
  if (plain && !detail::ProxyConfigured()) {
    if (options_.debug_log != nullptr) *options_.debug_log << "> GET " << url << " (splice into the file)\n";
    TARN_ASSIGN_OR_RETURN(detail::PlainAnswer answer, detail::PlainGetToFile(*plain, PlainOptions(options_), fd, what,
                                                                             progress));
    if (options_.debug_log != nullptr) *options_.debug_log << "< HTTP " << answer.http_status << '\n';
    if (answer.http_status < 200 || answer.http_status >= 300) return HttpErrorStatus(answer.http_status, answer.body);
    if (!answer.use_fallback) return answer.bytes;
  }
  // libcurl: its 1 MiB pieces are gathered into aligned O_DIRECT writes where the file system allows (page-cache
  // writes from user space are the expensive path on a VM).
  bool direct = false;
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_DIRECT) == 0) direct = true;
  storage::DirectFileWriter writer(fd, direct, std::string(what));
  Status write_status;
  BodySink sink = [&](std::string_view piece) {
    write_status = writer.Append(piece);
    return write_status.ok();
  };
  Status status = GetStream(path, query, sink, progress);
  if (!write_status.ok()) return write_status;
  TARN_RETURN_IF_ERROR(status);
  TARN_RETURN_IF_ERROR(writer.Finish());
  return writer.size();
}

Result<std::string> RestClient::PutFile(std::string_view path, const QueryParams& query, int fd, int64_t size,
                                        std::string_view what, const ProgressCallback& progress) {
  std::string url = BuildUrl(path, query);
  std::optional<detail::PlainHttpUrl> plain = detail::ParsePlainHttpUrl(url);
  if (plain && !detail::ProxyConfigured()) {
    if (options_.debug_log != nullptr) {
      *options_.debug_log << "> PUT " << url << " (" << size << " bytes, sendfile)\n";
    }
    TARN_ASSIGN_OR_RETURN(detail::PlainAnswer answer,
                          detail::PlainPutFromFile(*plain, PlainOptions(options_), fd, size, what, progress));
    if (options_.debug_log != nullptr) *options_.debug_log << "< HTTP " << answer.http_status << '\n';
    if (!answer.use_fallback) {
      if (answer.http_status < 200 || answer.http_status >= 300) {
        return HttpErrorStatus(answer.http_status, answer.body);
      }
      return answer.body;
    }
  }
  off_t offset = 0;
  bool read_failed = false;
  int read_errno = 0;
  BodySource source = [&](char* buffer, size_t capacity) -> int64_t {
    size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(capacity), size - offset));
    while (true) {
      ssize_t n = ::pread(fd, buffer, want, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || (n == 0 && want > 0)) {
        read_failed = true;
        read_errno = n < 0 ? errno : 0;
        return -1;
      }
      offset += n;
      return n;
    }
  };
  auto answer = PutStream(path, query, source, size, progress);
  if (read_failed) {
    return Error(ErrorCode::kIoError, "reading {} failed: {}", what,
                 read_errno != 0 ? std::strerror(read_errno) : "the file is shorter than its size");
  }
  return answer;
}

}  // namespace tarn::cli
