// SPDX-License-Identifier: Apache-2.0
// multipart/form-data splitting: boundary lookup, part headers (Content-Disposition name/filename), raw part bodies.
#include "tarn/api/detail/multipart_form.hpp"

#include <cctype>

namespace tarn::api::detail {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Returns parameter `key` of a header value such as `form-data; name="path"; filename="a.py"` (key lower-case).
std::optional<std::string> HeaderParameter(std::string_view value, std::string_view key) {
  size_t pos = value.find(';');
  while (pos != std::string_view::npos && pos < value.size()) {
    size_t next = value.find(';', pos + 1);
    std::string_view item =
        Trim(value.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1));
    pos = next;
    size_t equals = item.find('=');
    if (equals == std::string_view::npos || Lower(Trim(item.substr(0, equals))) != key) continue;
    std::string_view raw = Trim(item.substr(equals + 1));
    if (raw.size() >= 2 && raw.front() == '"') {
      std::string unquoted;
      for (size_t i = 1; i < raw.size() && raw[i] != '"'; ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
        unquoted += raw[i];
      }
      return unquoted;
    }
    return std::string(raw);
  }
  return std::nullopt;
}

}  // namespace

bool IsMultipartForm(const http::Request& request) {
  auto content_type = request.Header("Content-Type");
  return content_type && Lower(Trim(content_type->substr(0, content_type->find(';')))) == "multipart/form-data";
}

Result<std::vector<FormPart>> ParseMultipartForm(const http::Request& request) {
  auto malformed = [](std::string_view why) {
    return Error(ErrorCode::kMalformedRequest, "Malformed multipart/form-data body: {}", why);
  };
  auto content_type = request.Header("Content-Type");
  std::optional<std::string> boundary =
      content_type ? HeaderParameter(*content_type, "boundary") : std::optional<std::string>();
  if (!boundary || boundary->empty()) return malformed("no boundary");
  std::string_view body = request.body;
  const std::string delimiter = "--" + *boundary;
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return malformed("no delimiter");
  pos += delimiter.size();
  std::vector<FormPart> parts;
  while (true) {
    if (body.substr(pos, 2) == "--") return parts;  // the closing delimiter
    size_t line_end = body.find("\r\n", pos);       // optional transport padding, then CRLF
    if (line_end == std::string_view::npos) return malformed("truncated part");
    size_t headers_start = line_end + 2;
    size_t content_start;
    std::string_view headers;
    if (body.substr(headers_start, 2) == "\r\n") {  // a part without header lines
      content_start = headers_start + 2;
    } else {
      size_t headers_end = body.find("\r\n\r\n", headers_start);
      if (headers_end == std::string_view::npos) return malformed("truncated part headers");
      headers = body.substr(headers_start, headers_end - headers_start);
      content_start = headers_end + 4;
    }
    FormPart part;
    size_t line_start = 0;
    while (line_start < headers.size()) {
      size_t eol = headers.find("\r\n", line_start);
      if (eol == std::string_view::npos) eol = headers.size();
      std::string_view line = headers.substr(line_start, eol - line_start);
      line_start = eol + 2;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || Lower(Trim(line.substr(0, colon))) != "content-disposition") continue;
      std::string_view value = line.substr(colon + 1);
      part.name = HeaderParameter(value, "name").value_or("");
      part.filename = HeaderParameter(value, "filename");
    }
    size_t next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos) return malformed("missing closing delimiter");
    part.content = body.substr(content_start, next - content_start);
    parts.push_back(std::move(part));
    pos = next + 2 + delimiter.size();
  }
}

const FormPart* FindFormPart(const std::vector<FormPart>& parts, std::string_view name) {
  for (const auto& part : parts) {
    if (part.name == name) return &part;
  }
  return nullptr;
}

}  // namespace tarn::api::detail
