// SPDX-License-Identifier: Apache-2.0
// Beast <-> Request/Response conversion, error answers for bad requests and response header serialisation.
#include "tarn/http/detail/wire.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <exception>
#include <limits>
#include <sstream>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/write.hpp>

#include "tarn/base/logging.hpp"
#include "tarn/base/version.hpp"
#include "tarn/http/detail/ascii.hpp"

namespace tarn::http::detail {
namespace bhttp = boost::beast::http;

namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidHeaderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), IsTokenChar);
}

// Replaces CR, LF and NUL so a handler-supplied value can never split the header block.
std::string SanitizeHeaderValue(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  return out;
}

// Returns the IMF-fixdate for now ("Sun, 06 Nov 1994 08:49:37 GMT"), independent of the C locale.
std::string HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

// Parses a Content-Length value: 1 to 19 decimal digits, nothing else.
std::optional<uint64_t> ParseContentLength(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

bool IsHttpErrorCategory(const boost::beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

}  // namespace

void ConfigureParser(RequestParser& parser, const ServerOptions& options) {
  constexpr size_t kMaxHeaderLimit = std::numeric_limits<uint32_t>::max();
  parser.header_limit(static_cast<uint32_t>(std::min(options.max_header_bytes, kMaxHeaderLimit)));
  parser.body_limit(static_cast<uint64_t>(options.max_body_bytes));
}

bool WantsContinue(const BeastRequest& header) {
  if (header.version() < 11) return false;
  auto it = header.find(bhttp::field::expect);
  if (it == header.end()) return false;
  std::string_view value(it->value().data(), it->value().size());
  return EqualsIgnoreCase(value, "100-continue");
}

Result<Request> ToRequest(BeastRequest&& message, std::string remote_address) {
  Request request;
  auto method = message.method_string();
  request.method = ParseMethod(std::string_view(method.data(), method.size()));
  request.target.assign(message.target().data(), message.target().size());
  request.remote_address = std::move(remote_address);

  std::string_view target = request.target;
  // Absolute-form targets ("http://host/path?q") are routed by their path (RFC 9112 section 3.2.2).
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && EqualsIgnoreCase(target.substr(0, scheme.size()), scheme)) {
      size_t slash = target.find_first_of("/?", scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      break;
    }
  }
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  if (raw_path.empty()) raw_path = "/";
  auto path = PercentDecode(raw_path);
  if (!path.ok()) return path.status().WithContext("request path");
  if (path->find('\0') != std::string::npos) return Error(ErrorCode::kMalformedRequest, "request path contains NUL");
  request.path = std::move(*path);
  if (question != std::string_view::npos) {
    auto query = ParseQueryString(target.substr(question + 1));
    if (!query.ok()) return query.status().WithContext("query string");
    request.query = std::move(*query);
  }

  request.headers.reserve(std::distance(message.begin(), message.end()));
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string().data(), field.name_string().size()),
                                 std::string(field.value().data(), field.value().size()));
  }
  request.body = std::move(message.body());
  return request;
}

std::optional<Response> ParseErrorResponse(const boost::beast::error_code& ec, const ServerOptions& options) {
  if (ec == bhttp::error::header_limit) {
    Response response = Response::Error(
        Error(ErrorCode::kRequestTooLarge, "request header exceeds the limit of {} bytes", options.max_header_bytes));
    response.status = 431;
    return response;
  }
  if (ec == bhttp::error::body_limit) {
    return Response::Error(
        Error(ErrorCode::kRequestTooLarge, "request body exceeds the limit of {} bytes", options.max_body_bytes));
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == bhttp::error::need_more ||
      !IsHttpErrorCategory(ec)) {
    return std::nullopt;
  }
  return Response::Error(Error(ErrorCode::kMalformedRequest, "malformed HTTP request: {}", ec.message()));
}

PreparedResponse PrepareResponse(const Response& response, unsigned version, bool keep_alive, bool head_request) {
  PreparedResponse prepared;
  int status = response.status;
  if (status < 200 || status > 599) {
    TARN_LOG_ERROR("http handler returned invalid status {}; sending 500", status);
    status = 500;
  }
  bhttp::response_header<> header;
  header.version(version == 10 ? 10 : 11);
  header.result(static_cast<unsigned>(status));
  if (bhttp::int_to_status(static_cast<unsigned>(status)) == bhttp::status::unknown) header.reason("Status");

  bool has_date = false;
  bool has_server = false;
  std::optional<std::string> declared_content_length;
  bool declared_chunked = false;  // only meaningful for HEAD: the GET answer would be chunked
  for (const auto& [name, value] : response.headers) {
    if (!IsValidHeaderName(name)) {
      TARN_LOG_WARN("http handler set an invalid header name; dropped");
      continue;
    }
    if (EqualsIgnoreCase(name, "Connection")) {
      if (EqualsIgnoreCase(value, "close")) keep_alive = false;
      continue;
    }
    if (EqualsIgnoreCase(name, "Content-Length")) {
      declared_content_length = SanitizeHeaderValue(value);
      continue;
    }
    if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      declared_chunked = value.find("chunked") != std::string::npos;
      continue;
    }
    if (EqualsIgnoreCase(name, "Keep-Alive")) continue;
    has_date = has_date || EqualsIgnoreCase(name, "Date");
    has_server = has_server || EqualsIgnoreCase(name, "Server");
    header.insert(name, SanitizeHeaderValue(value));
  }
  if (!has_date) header.set(bhttp::field::date, HttpDate());
  if (!has_server) header.set(bhttp::field::server, std::string("tarn/") + kVersion);

  std::optional<uint64_t> declared_length;
  if (declared_content_length) declared_length = ParseContentLength(*declared_content_length);
  bool bodiless_status = status == 204 || status == 304;
  if (bodiless_status) {
    prepared.framing = BodyFraming::kNone;
  } else if (head_request && declared_length) {
    // A HEAD answer may carry the length its GET would have (the router's HEAD fallback sets it).
    prepared.framing = BodyFraming::kNone;
    header.set(bhttp::field::content_length, std::to_string(*declared_length));
  } else if (head_request && (response.producer || declared_chunked)) {
    prepared.framing = BodyFraming::kNone;
    if (version >= 11) header.set(bhttp::field::transfer_encoding, "chunked");
  } else if (response.producer && declared_length) {
    prepared.framing = BodyFraming::kStreamedLength;
    prepared.content_length = *declared_length;
    header.set(bhttp::field::content_length, std::to_string(*declared_length));
  } else if (response.producer) {
    if (version >= 11) {
      prepared.framing = BodyFraming::kChunked;
      header.set(bhttp::field::transfer_encoding, "chunked");
    } else if (!head_request) {
      // HTTP/1.0 has no chunked encoding: the end of the body is the end of the connection.
      prepared.framing = BodyFraming::kUntilClose;
      keep_alive = false;
    }
  } else {
    prepared.framing = BodyFraming::kContentLength;
    header.set(bhttp::field::content_length, std::to_string(response.body.size()));
  }
  if (head_request) prepared.framing = BodyFraming::kNone;
  if (header.version() >= 11 && !keep_alive) header.set(bhttp::field::connection, "close");
  if (header.version() < 11 && keep_alive) header.set(bhttp::field::connection, "keep-alive");
  prepared.keep_alive = keep_alive;

  std::ostringstream out;
  out << header;
  prepared.head = out.str();
  return prepared;
}

std::string ChunkSizeLine(size_t size) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%zx\r\n", size);
  return buffer;
}

Result<bool> RunProducer(const BodyProducer& producer, std::string& out) {
  try {
    return producer(out);
  } catch (const std::exception& e) {
    TARN_LOG_ERROR("http body producer threw: {}", e.what());
  } catch (...) {
    TARN_LOG_ERROR("http body producer threw a non-standard exception");
  }
  return Error(ErrorCode::kInternal, "body producer failed");
}

}  // namespace tarn::http::detail
