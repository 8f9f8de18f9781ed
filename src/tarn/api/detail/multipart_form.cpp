// SPDX-License-Identifier: Apache-2.0
// multipart/form-data splitting: boundary lookup, part headers (Content-Disposition name/filename), raw part bodies,
// whole or streamed.
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
  // The first delimiter opens the body or a line (RFC 2046 §5.1.1), as for MultipartStreamParser.
  bool at_start = body.starts_with(delimiter);
  size_t pos = at_start ? 0 : body.find("\r\n" + delimiter);
  if (pos == std::string_view::npos) return malformed("no delimiter");
  pos += (at_start ? 0 : 2) + delimiter.size();
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

namespace {

// The name and filename of a part from its header block (lines separated by CRLF).
void ParsePartHeaders(std::string_view headers, std::string& name, std::optional<std::string>& filename) {
  size_t line_start = 0;
  while (line_start < headers.size()) {
    size_t eol = headers.find("\r\n", line_start);
    if (eol == std::string_view::npos) eol = headers.size();
    std::string_view line = headers.substr(line_start, eol - line_start);
    line_start = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || Lower(Trim(line.substr(0, colon))) != "content-disposition") continue;
    std::string_view value = line.substr(colon + 1);
    name = HeaderParameter(value, "name").value_or("");
    filename = HeaderParameter(value, "filename");
  }
}

Status Malformed(std::string_view why) {
  return Error(ErrorCode::kMalformedRequest, "Malformed multipart/form-data body: {}", why);
}

}  // namespace

MultipartStreamParser::MultipartStreamParser(std::string boundary, PartCallback on_part, DataCallback on_data)
    : delimiter_("\r\n--" + boundary), on_part_(std::move(on_part)), on_data_(std::move(on_data)) {}

Result<MultipartStreamParser> MultipartStreamParser::Create(const http::Request& request, PartCallback on_part,
                                                            DataCallback on_data) {
  auto content_type = request.Header("Content-Type");
  std::optional<std::string> boundary =
      content_type ? HeaderParameter(*content_type, "boundary") : std::optional<std::string>();
  if (!boundary || boundary->empty()) return Malformed("no boundary");
  MultipartStreamParser parser(std::move(*boundary), std::move(on_part), std::move(on_data));
  // The first delimiter may open the body without a preceding CRLF: pretend one was there.
  parser.pending_ = "\r\n";
  return parser;
}

Status MultipartStreamParser::Feed(std::string_view data) {
  if (state_ == State::kDone) return Status::OK();  // the epilogue is ignored
  if (pending_.empty()) {
    TARN_ASSIGN_OR_RETURN(size_t used, Process(data));
    pending_.assign(data.substr(used));
  } else {
    pending_.append(data);
    TARN_ASSIGN_OR_RETURN(size_t used, Process(pending_));
    pending_.erase(0, used);
  }
  if (state_ == State::kDone) pending_.clear();
  return Status::OK();
}

Result<size_t> MultipartStreamParser::Process(std::string_view data) {
  size_t pos = 0;
  while (pos < data.size()) {
    std::string_view rest = data.substr(pos);
    switch (state_) {
      case State::kPreamble: {
        size_t at = rest.find(delimiter_);
        if (at == std::string_view::npos) {
          // Keep a possible delimiter start; the preamble itself is discarded.
          size_t keep = std::min(rest.size(), delimiter_.size() - 1);
          return pos + rest.size() - keep;
        }
        pos += at + delimiter_.size();
        state_ = State::kAfterDelimiter;
        break;
      }
      case State::kAfterDelimiter: {
        if (rest.size() < 2) return pos;
        if (rest.substr(0, 2) == "--") {
          state_ = State::kDone;
          return data.size();
        }
        size_t eol = rest.find("\r\n");  // optional transport padding, then CRLF
        if (eol == std::string_view::npos) {
          if (rest.size() > kMaxPartHeaderBytes) return Malformed("delimiter line too long");
          return pos;
        }
        pos += eol + 2;
        state_ = State::kHeaders;
        break;
      }
      case State::kHeaders: {
        std::string_view headers;
        size_t consumed;
        if (rest.substr(0, 2) == "\r\n") {  // a part without header lines
          consumed = 2;
        } else {
          size_t end = rest.find("\r\n\r\n");
          if (end == std::string_view::npos) {
            if (rest.size() > kMaxPartHeaderBytes) return Malformed("part headers too long");
            return pos;
          }
          headers = rest.substr(0, end);
          consumed = end + 4;
        }
        if (rest.size() < 2) return pos;
        std::string name;
        std::optional<std::string> filename;
        ParsePartHeaders(headers, name, filename);
        TARN_RETURN_IF_ERROR(on_part_(name, filename));
        pos += consumed;
        state_ = State::kBody;
        break;
      }
      case State::kBody: {
        size_t at = rest.find(delimiter_);
        if (at == std::string_view::npos) {
          size_t keep = std::min(rest.size(), delimiter_.size() - 1);
          if (rest.size() > keep) TARN_RETURN_IF_ERROR(on_data_(rest.substr(0, rest.size() - keep)));
          return pos + rest.size() - keep;
        }
        if (at > 0) TARN_RETURN_IF_ERROR(on_data_(rest.substr(0, at)));
        pos += at + delimiter_.size();
        state_ = State::kAfterDelimiter;
        break;
      }
      case State::kDone:
        return data.size();
    }
  }
  return pos;
}

Status MultipartStreamParser::Finish() const {
  if (state_ != State::kDone) return Malformed("truncated body (no closing delimiter)");
  return Status::OK();
}

const FormPart* FindFormPart(const std::vector<FormPart>& parts, std::string_view name) {
  for (const auto& part : parts) {
    if (part.name == name) return &part;
  }
  return nullptr;
}

}  // namespace tarn::api::detail
