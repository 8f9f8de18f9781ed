// SPDX-License-Identifier: Apache-2.0
// Request/Response helpers: header lookup, JSON error bodies, percent-decoding, query strings, JSON escaping.
#include "tarn/http/message.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tarn/http/detail/ascii.hpp"

namespace tarn::http {
namespace {

using detail::EqualsIgnoreCase;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Returns the length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid (overlong forms,
// surrogates and code points above U+10FFFF are invalid, per RFC 3629).
size_t ValidUtf8Length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

Result<bool> BodyReader::ReadInto(int fd, uint64_t& moved) {
  moved = 0;
  std::string piece;
  Result<bool> more = Read(piece);
  if (!more.ok()) return more;
  std::string_view rest = piece;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(ErrorCode::kIoError, "writing the request body failed: {}", std::strerror(errno));
    }
    rest.remove_prefix(static_cast<size_t>(n));
    moved += static_cast<uint64_t>(n);
  }
  return more;
}

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

Method ParseMethod(std::string_view name) {
  static constexpr std::array kMethods = {Method::kGet,   Method::kHead,   Method::kPost,   Method::kPut,
                                          Method::kPatch, Method::kDelete, Method::kOptions};
  for (Method method : kMethods) {
    if (MethodName(method) == name) return method;
  }
  return Method::kOther;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::QueryParam(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string_view> Response::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

void Response::SetHeader(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (EqualsIgnoreCase(key, name)) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

Response Response::Json(std::string json, int status) {
  Response response;
  response.status = status;
  response.body = std::move(json);
  response.headers.emplace_back("Content-Type", "application/json");
  return response;
}

Response Response::Error(const Status& status) {
  const ErrorCodeInfo& info = status.info();
  std::string body = "{\"error_code\": \"";
  body += JsonEscape(info.databricks);
  body += "\", \"message\": \"";
  body += JsonEscape(status.message());
  body += "\"}";
  return Json(std::move(body), info.http_status);
}

Response Response::Text(std::string text, int status, std::string content_type) {
  Response response;
  response.status = status;
  response.body = std::move(text);
  response.headers.emplace_back("Content-Type", std::move(content_type));
  return response;
}

Result<std::string> PercentDecode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return Error(ErrorCode::kMalformedRequest, "truncated percent escape at offset {}", i);
      }
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return Error(ErrorCode::kMalformedRequest, "invalid percent escape at offset {}", i);
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQueryString(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view piece = text.substr(start, end - start);
    if (!piece.empty()) {
      size_t eq = piece.find('=');
      std::string_view raw_key = piece.substr(0, eq);
      std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
      TARN_ASSIGN_OR_RETURN(std::string key, PercentDecode(raw_key, /*plus_as_space=*/true));
      TARN_ASSIGN_OR_RETURN(std::string value, PercentDecode(raw_value, /*plus_as_space=*/true));
      pairs.emplace_back(std::move(key), std::move(value));
    }
    start = end + 1;
  }
  return pairs;
}

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            char escaped[8];
            std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
            out += escaped;
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    size_t n = ValidUtf8Length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for each byte that does not start a valid sequence
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace tarn::http
