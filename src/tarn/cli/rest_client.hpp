// SPDX-License-Identifier: Apache-2.0
// RestClient: a small blocking JSON-over-HTTP client (libcurl) for the Tarn / Databricks REST API.
#pragma once

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

  const RestClientOptions& options() const { return options_; }

 private:
  Result<std::string> Send(std::string_view method, const std::string& url, std::string_view body);

  RestClientOptions options_;
};

/// Builds the error Status for a non-2xx answer (exposed for tests).
Status HttpErrorStatus(long http_status, std::string_view body);

}  // namespace tarn::cli
