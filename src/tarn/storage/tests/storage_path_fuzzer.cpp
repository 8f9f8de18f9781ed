// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: client-supplied paths (object keys, prefixes, %-encoding, dbfs:/ file: and absolute locations,
// `..`, NUL) through storage_path.hpp, checking the documented invariants: normalised keys have no empty/./..
// segments or NUL, dbfs:/ never leaves the DBFS root, and percent encoding round-trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tarn/storage/storage_path.hpp"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// True when `key` has no empty, "." or ".." segment and no NUL byte.
bool IsCanonicalKey(std::string_view key) {
  if (key.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t slash = key.find('/', start);
    size_t length = slash == std::string_view::npos ? std::string_view::npos : slash - start;
    std::string_view segment = key.substr(start, length);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tarn::storage;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto key = NormalizeObjectKey(text); key.ok()) {
    Check(IsCanonicalKey(*key));
    auto again = NormalizeObjectKey(*key);
    Check(again.ok() && *again == *key);
  }
  if (auto prefix = NormalizeObjectPrefix(text); prefix.ok() && !prefix->empty()) {
    std::string_view body = *prefix;
    if (body.ends_with('/')) body.remove_suffix(1);
    Check(IsCanonicalKey(body));
  }
  if (auto decoded = PercentDecode(text); decoded.ok()) {
    Check(decoded->find('\0') == std::string::npos);
    auto round_trip = PercentDecode(PercentEncodePath(*decoded));
    Check(round_trip.ok() && *round_trip == *decoded);
  }
  if (auto absolute = NormalizeAbsolutePath(text); absolute.ok()) {
    Check(absolute->starts_with('/') && absolute->find('\0') == std::string::npos);
    Check(*absolute == "/" || IsCanonicalKey(std::string_view(*absolute).substr(1)));
  }
  static const PathResolver resolver("/data/dbfs");
  if (auto local = resolver.ToLocalPath(text); local.ok()) {
    Check(local->starts_with('/') && local->find('\0') == std::string::npos);
    Check(*local == "/" || IsCanonicalKey(std::string_view(*local).substr(1)));
    std::string_view lower = text.substr(0, 5);
    bool dbfs = lower.size() == 5 && (lower[0] | 0x20) == 'd' && (lower[1] | 0x20) == 'b' && (lower[2] | 0x20) == 'f' &&
                (lower[3] | 0x20) == 's' && lower[4] == ':';
    if (dbfs) Check(*local == "/data/dbfs" || local->starts_with("/data/dbfs/"));
  }
  return 0;
}
