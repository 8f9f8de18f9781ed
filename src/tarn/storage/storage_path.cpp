// SPDX-License-Identifier: Apache-2.0
// Object-key normalisation, percent coding and location resolution.
#include "tarn/storage/storage_path.hpp"

#include <vector>

namespace tarn::storage {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits on '/' and resolves "." and ".."; returns false when ".." would leave the root.
bool ResolveSegments(std::string_view path, std::vector<std::string_view>& segments, bool clamp_at_root) {
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(pos, end - pos);
    pos = end + 1;
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (segments.empty()) {
        if (clamp_at_root) continue;
        return false;
      }
      segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  return true;
}

std::string JoinSegments(const std::vector<std::string_view>& segments) {
  std::string out;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  return out;
}

}  // namespace

Result<std::string> NormalizeObjectPrefix(std::string_view prefix) {
  if (prefix.find('\0') != std::string_view::npos) {
    return Error(ErrorCode::kInvalidParameterValue, "object key contains a NUL byte");
  }
  std::vector<std::string_view> segments;
  if (!ResolveSegments(prefix, segments, /*clamp_at_root=*/false)) {
    return Error(ErrorCode::kInvalidParameterValue, "object key escapes the store root: {}", prefix);
  }
  std::string out = JoinSegments(segments);
  bool directory = !prefix.empty() && prefix.back() == '/';
  // "a/.." names the root; keep a trailing '/' only on a non-empty directory prefix.
  if (directory && !out.empty()) out += '/';
  return out;
}

Result<std::string> NormalizeObjectKey(std::string_view key) {
  TARN_ASSIGN_OR_RETURN(std::string out, NormalizeObjectPrefix(key));
  if (!out.empty() && out.back() == '/') out.pop_back();
  if (out.empty()) return Error(ErrorCode::kInvalidParameterValue, "object key is empty: '{}'", key);
  return out;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\0') return Error(ErrorCode::kInvalidParameterValue, "NUL byte in '{}'", text);
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 2 >= text.size()) {
      return Error(ErrorCode::kInvalidParameterValue, "truncated percent escape in '{}'", text);
    }
    int hi = HexValue(text[i + 1]);
    int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return Error(ErrorCode::kInvalidParameterValue, "malformed percent escape in '{}'", text);
    char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0') return Error(ErrorCode::kInvalidParameterValue, "percent escape decodes to NUL in '{}'", text);
    out += decoded;
    i += 2;
  }
  return out;
}

std::string PercentEncodePath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    bool keep = byte > 0x20 && byte < 0x7f && c != '%' && c != '#' && c != '?' && c != '"' && c != '<' && c != '>' &&
                c != '\\' && c != '^' && c != '`' && c != '{' && c != '|' && c != '}';
    if (keep) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

Result<std::string> NormalizeAbsolutePath(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) {
    return Error(ErrorCode::kInvalidParameterValue, "path contains a NUL byte");
  }
  if (path.empty() || path.front() != '/') {
    return Error(ErrorCode::kInvalidParameterValue, "path is not absolute: '{}'", path);
  }
  std::vector<std::string_view> segments;
  ResolveSegments(path, segments, /*clamp_at_root=*/true);
  std::string out = "/";
  out += JoinSegments(segments);
  return out;
}

PathResolver::PathResolver(std::string dbfs_root) {
  auto normalized = NormalizeAbsolutePath(dbfs_root);
  dbfs_root_ = normalized.has_value() ? std::move(normalized).value() : std::move(dbfs_root);
}

Result<std::string> PathResolver::ToLocalPath(std::string_view location) const {
  if (location.find('\0') != std::string_view::npos) {
    return Error(ErrorCode::kInvalidParameterValue, "location contains a NUL byte");
  }
  if (location.starts_with("dbfs:")) {
    std::string_view rest = location.substr(5);
    std::vector<std::string_view> segments;
    if (!ResolveSegments(rest, segments, /*clamp_at_root=*/false)) {
      return Error(ErrorCode::kPermissionDenied, "dbfs path escapes the dbfs root: {}", location);
    }
    std::string joined = JoinSegments(segments);
    if (joined.empty()) return dbfs_root_;
    return dbfs_root_ == "/" ? "/" + joined : dbfs_root_ + "/" + joined;
  }
  if (location.starts_with("file:")) {
    std::string_view rest = location.substr(5);
    if (rest.starts_with("//")) {
      // file://host/path: only an empty host or localhost names this machine.
      size_t slash = rest.find('/', 2);
      std::string_view host = rest.substr(2, slash == std::string_view::npos ? std::string_view::npos : slash - 2);
      if (!host.empty() && host != "localhost") {
        return Error(ErrorCode::kNotImplemented, "file URI with a remote host is not supported: {}", location);
      }
      rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
    TARN_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(rest));
    return NormalizeAbsolutePath(decoded);
  }
  if (!location.empty() && location.front() == '/') return NormalizeAbsolutePath(location);
  size_t colon = location.find(':');
  if (colon != std::string_view::npos && location.find('/') > colon) {
    return Error(ErrorCode::kNotImplemented, "storage scheme is not supported: {}", location.substr(0, colon));
  }
  return Error(ErrorCode::kInvalidParameterValue, "location must be absolute or a dbfs:/ or file: URI: '{}'", location);
}

}  // namespace tarn::storage
