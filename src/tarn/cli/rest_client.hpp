// SPDX-License-Identifier: Apache-2.0
// RestClient: a small blocking JSON-over-HTTP client (libcurl) for the Tarn / Databricks REST API.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tarn/base/result.hpp"

namespace tarn::cli {

struct RestClientOptions {
  std::string host;   // normalised base URL, e.g. "http://127.0.0.1:8080"
  std::string token;  // sent as "Authorization: Bearer <token>"; never logged
  /// When set, each request and response line is logged here (method, URL, status, sizes; never the token or
  /// response bodies, which may hold secrets).
  std::ostream* debug_log = nullptr;
  long connect_timeout_seconds = 10;
  long timeout_seconds = 60;
};

/// Query parameters, sent URL-encoded in order.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

/// Reports transfer progress: bytes moved so far and the total (-1 when unknown).
using ProgressCallback = std::function<void(int64_t done, int64_t total)>;
/// Receives a streamed response body piece by piece; returning false aborts the transfer.
using BodySink = std::function<bool(std::string_view piece)>;
/// Fills `buffer` with up to `capacity` bytes of a streamed request body; returns the count (0 at the end) or -1 to
/// abort the transfer.
using BodySource = std::function<int64_t(char* buffer, size_t capacity)>;

/// Sends one request per call over libcurl and returns the body of a 2xx answer. Errors:
/// - HTTP status >= 300: the code matching the server's Databricks `error_code` (else one derived from the HTTP
///   status), with message "<error_code>: <message>" taken from the JSON error body ({"error_code","message"}, or
///   the SCIM {"detail"} / 1.2 {"error"} shapes), or "HTTP <status>: <body start>" for non-JSON bodies;
/// - connection refused, DNS and TLS failures, timeouts: kConnectionFailure with a one-line message naming the URL.
/// Not thread-safe; use one client per thread.
class RestClient {
 public:
  explicit RestClient(RestClientOptions options);

  Result<std::string> Get(std::string_view path, const QueryParams& query = {});
  /// Posts `json_body` with Content-Type application/json.
  Result<std::string> Post(std::string_view path, std::string_view json_body);

  /// PUTs a raw body of `size` bytes pulled from `source` (Content-Type application/octet-stream) and returns the
  /// answer's body. Streams: memory use does not grow with `size`. Instead of the total timeout, a transfer that
  /// moves nothing for timeout_seconds is aborted.
  Result<std::string> PutStream(std::string_view path, const QueryParams& query, const BodySource& source,
                                int64_t size, const ProgressCallback& progress = {});
  /// GETs `path` and streams a 2xx body into `sink` (same stall rule as PutStream); error answers become a Status as
  /// for Get.
  Status GetStream(std::string_view path, const QueryParams& query, const BodySink& sink,
                   const ProgressCallback& progress = {});

  /// Downloads the 2xx body of GET `path` into `fd` (a new, empty file open for writing without O_DIRECT; `what`
  /// names it in errors) and returns the byte count. Over plain http (no proxy configured) the body moves from the
  /// socket into the file with splice(2), so it never passes through user space; https hosts, proxies, and answers
  /// without a Content-Length go through libcurl, writing with O_DIRECT where the file system allows. A body
  /// shorter than its Content-Length is a kConnectionFailure; errors otherwise as for GetStream.
  Result<int64_t> GetToFile(std::string_view path, const QueryParams& query, int fd, std::string_view what,
                            const ProgressCallback& progress = {});
  /// PUTs the first `size` bytes of the file `fd` (read from offset 0) like PutStream and returns the answer's
  /// body. Over plain http (no proxy) the body is sent with sendfile(2); otherwise through libcurl.
  Result<std::string> PutFile(std::string_view path, const QueryParams& query, int fd, int64_t size,
                              std::string_view what, const ProgressCallback& progress = {});

  const RestClientOptions& options() const { return options_; }

 private:
  Result<std::string> Send(std::string_view method, const std::string& url, std::string_view body);
  std::string BuildUrl(std::string_view path, const QueryParams& query) const;

  RestClientOptions options_;
};

/// Builds the error Status for a non-2xx answer (exposed for tests).
Status HttpErrorStatus(long http_status, std::string_view body);

}  // namespace tarn::cli
