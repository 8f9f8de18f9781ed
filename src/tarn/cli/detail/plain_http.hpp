// SPDX-License-Identifier: Apache-2.0
// Module-private HTTP/1.1 over a plain TCP socket for large Files API transfers: splice(2) downloads, sendfile(2) uploads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"

namespace tarn::cli::detail {

/// Where a plain http:// URL points: what to connect to and what to send.
struct PlainHttpUrl {
  std::string host;         // name or address to resolve (IPv6 without brackets)
  std::string port;         // numeric, "80" when the URL has none
  std::string host_header;  // value of the Host header
  std::string target;       // request target: path plus "?query"
};

/// Splits an `http://` URL; nullopt for any other scheme or a URL libcurl cannot parse.
std::optional<PlainHttpUrl> ParsePlainHttpUrl(const std::string& url);

/// Whether a proxy is configured for http URLs in the environment (http_proxy, all_proxy or ALL_PROXY, which libcurl
/// honours); the plain path connects directly, so callers use libcurl then.
bool ProxyConfigured();

/// Reports bytes moved so far and the total.
using TransferProgress = std::function<void(int64_t done, int64_t total)>;

/// Settings of one plain transfer.
struct PlainTransferOptions {
  std::string user_agent;
  std::string token;  // Authorization: Bearer <token>
  long connect_timeout_seconds = 10;
  long stall_timeout_seconds = 60;  // a transfer that moves nothing for this long fails
  std::string display_host;         // names the server in errors
};

/// The outcome of a plain transfer that reached the server.
struct PlainAnswer {
  long http_status = 0;
  std::string body;  // the answer's body: an error body, or an upload's answer (at most 1 MiB kept)
  /// Set when nothing was transferred and the caller must use another way: a 2xx download answer without a
  /// Content-Length (chunked or close-delimited), or a file that sendfile(2) refuses before the first byte.
  bool use_fallback = false;
  int64_t bytes = 0;  // body bytes written to the file (download) or sent (upload)
};

/// GETs `url` and, for a 2xx answer with a Content-Length, moves the body into `fd` (open for writing at its
/// current offset, without O_DIRECT) with splice(2) socket -> pipe -> file, so the bytes never pass through user
/// space; a file that refuses splice gets plain writes. Errors: kConnectionFailure (connect, timeouts, a body
/// shorter than its Content-Length), kIoError (writing `fd`, naming `what`), kProtocolViolation (malformed answer).
/// A non-2xx answer is returned with its body for the caller to decode.
Result<PlainAnswer> PlainGetToFile(const PlainHttpUrl& url, const PlainTransferOptions& options, int fd,
                                   std::string_view what, const TransferProgress& progress);

/// PUTs `size` bytes of `fd` from offset 0 as the body of `url` (Content-Type application/octet-stream) with
/// sendfile(2) and returns the answer. An answer that arrives before the whole body was sent (an early error) is
/// still read and returned. Errors as for PlainGetToFile (kIoError when `fd` is shorter than `size`).
Result<PlainAnswer> PlainPutFromFile(const PlainHttpUrl& url, const PlainTransferOptions& options, int fd,
                                     int64_t size, std::string_view what, const TransferProgress& progress);

}  // namespace tarn::cli::detail
