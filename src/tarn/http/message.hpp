// SPDX-License-Identifier: Apache-2.0
// HTTP request and response values handed between the server, the router and handlers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tarn/base/result.hpp"

namespace tarn::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

/// Returns "GET", "POST", ... for a method.
std::string_view MethodName(Method method);
/// Returns the method for an upper-case name ("GET" -> kGet); unknown names give kOther.
Method ParseMethod(std::string_view name);

/// Pulls the body of a request on a streaming route (Router::AddStreaming) while the handler runs: the server reads
/// the next piece from the socket only when asked, so a body of any size passes through bounded memory and a slow
/// consumer slows the client down. Valid only during the handler call; call from the handler's thread.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  /// Replaces `out` with the next bytes of the body (possibly none) and returns true while more may follow, false
  /// once the body is complete (`out` may still hold its last bytes). Errors: kRequestTooLarge past the route's
  /// limit, kConnectionFailure when the client stalls past the read timeout or goes away, kCancelled on shutdown.
  virtual Result<bool> Read(std::string& out) = 0;
  /// Like Read, but writes the next bytes of the body to `fd` (a file open for writing at the position to fill)
  /// and sets `moved` to their count. The server moves a Content-Length body socket -> pipe -> file with splice(2),
  /// never through user space; this default reads a piece and write(2)s it. A failed write is kIoError.
  virtual Result<bool> ReadInto(int fd, uint64_t& moved);
};

/// A parsed request. Header names compare case-insensitively; `path` is percent-decoded, `query` decoded pairs in
/// order of appearance.
struct Request {
  Method method = Method::kGet;
  std::string target;  // raw request target, e.g. "/api/2.0/token/list?x=1"
  std::string path;    // decoded path without the query string
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // empty when body_reader is set
  /// Set instead of `body` on streaming routes: the handler reads the body through it.
  std::shared_ptr<BodyReader> body_reader;
  std::string remote_address;
  /// Values captured by the router from "{name}" and "{name...}" pattern segments.
  std::map<std::string, std::string> path_params;
  /// Set by the auth middleware: the authenticated user's name and id (empty for unauthenticated routes).
  std::string user_name;
  int64_t user_id = 0;

  /// Returns the first header with this name (case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
  /// Returns the first query parameter with this name, if any.
  std::optional<std::string_view> QueryParam(std::string_view name) const;
};

/// Produces a streamed body piece by piece: appends the next piece to `out` and returns true while more follows,
/// false after the last piece; an error aborts the response (the connection is closed).
using BodyProducer = std::function<Result<bool>(std::string& out)>;

/// A byte range of an open file to send as a response body straight from the page cache (sendfile(2)). `owner`
/// keeps `fd` open until the response is written; the server never closes `fd` itself.
struct FileBody {
  std::shared_ptr<const void> owner;
  int fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;
};

/// A response. Either `body` is sent with a Content-Length, or `producer` is set and the body goes out chunked.
struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  BodyProducer producer;
  /// Optional fast path for a producer with a declared Content-Length equal to `file->length`: the server sends
  /// these file bytes with sendfile(2) instead of calling `producer`, which stays the fallback (a file system
  /// without sendfile, or the in-memory fuzz path) and must produce the same bytes.
  std::optional<FileBody> file;

  /// Replaces the first header with this name (case-insensitive) or appends it.
  void SetHeader(std::string name, std::string value);
  /// Returns the first header with this name (case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;

  /// 200-style JSON response; `json` must already be serialised JSON.
  static Response Json(std::string json, int status = 200);
  /// Databricks-style error body {"error_code": ..., "message": ...} with the code's HTTP status.
  static Response Error(const Status& status);
  static Response Text(std::string text, int status = 200, std::string content_type = "text/plain; charset=utf-8");
};

/// Percent-decodes `text` ('+' stays '+' unless `plus_as_space`). Fails on a truncated or non-hex escape.
Result<std::string> PercentDecode(std::string_view text, bool plus_as_space = false);
/// Splits "a=1&b=x%20y" into decoded pairs ('+' decodes to a space, as forms do).
Result<std::vector<std::pair<std::string, std::string>>> ParseQueryString(std::string_view text);
/// Escapes `text` as the inside of a JSON string (no surrounding quotes); invalid UTF-8 becomes U+FFFD.
std::string JsonEscape(std::string_view text);

}  // namespace tarn::http
