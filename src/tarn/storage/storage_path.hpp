// SPDX-License-Identifier: Apache-2.0
// Path handling for storage: object-key normalisation, percent-decoding and dbfs:/ / file: / local path resolution.
#pragma once

#include <string>
#include <string_view>

#include "tarn/base/result.hpp"

namespace tarn::storage {

/// Returns `key` in canonical form: no leading or trailing '/', no empty, "." or ".." segments. A ".." pops the
/// previous segment; popping above the root, NUL bytes and an empty result are kInvalidParameterValue. Keys are
/// literal: "%2e%2e" is a file name, not a traversal.
Result<std::string> NormalizeObjectKey(std::string_view key);

/// Like NormalizeObjectKey, but an empty key (the root itself) is allowed and a trailing '/' is kept (a prefix).
Result<std::string> NormalizeObjectPrefix(std::string_view prefix);

/// Decodes RFC 3986 percent escapes ("%20" → ' '). Malformed escapes are kInvalidParameterValue; a NUL byte, raw or
/// decoded, is refused too, so a decoded path can never smuggle one in.
Result<std::string> PercentDecode(std::string_view text);

/// Encodes the characters a Delta path URI must escape (space, '%', '#', '?', non-ASCII and control bytes);
/// '/' and unreserved characters stay as they are.
std::string PercentEncodePath(std::string_view path);

/// Returns an absolute path with "." and ".." segments and repeated '/' removed (".." at "/" stays at "/"), or
/// kInvalidParameterValue for relative paths and NUL bytes.
Result<std::string> NormalizeAbsolutePath(std::string_view path);

/// Maps user-facing locations to local filesystem paths:
/// - `dbfs:/a/b` (also `dbfs:a/b`, `dbfs:///a/b`) → `<dbfs_root>/a/b`; dbfs paths are literal (not percent-decoded)
///   and ".." can never leave `dbfs_root` (kPermissionDenied);
/// - `file:/a`, `file:///a`, `file://localhost/a` → `/a`, percent-decoded;
/// - `/a/b` → normalised absolute path.
/// Other schemes are kNotImplemented. Immutable and safe for concurrent use.
class PathResolver {
 public:
  /// `dbfs_root` must be an absolute directory path (normally `<data>/dbfs`).
  explicit PathResolver(std::string dbfs_root);

  Result<std::string> ToLocalPath(std::string_view location) const;
  const std::string& dbfs_root() const { return dbfs_root_; }

 private:
  std::string dbfs_root_;
};

}  // namespace tarn::storage
