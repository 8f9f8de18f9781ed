// SPDX-License-Identifier: Apache-2.0
// Module-private parsing of the Files API's single-range `Range: bytes=...` request header.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tarn::api::detail {

/// A byte range [first, last] of a file of known size.
struct ByteRange {
  int64_t first = 0;
  int64_t last = 0;
};

enum class RangeKind { kNone, kSatisfiable, kUnsatisfiable };

/// Parses a single-range `Range: bytes=a-b|a-|-n` header (RFC 9110 §14.1.2) for a file of `size` bytes. Anything
/// else (several ranges, other units, bad syntax) is kNone, which means the whole file is sent. On kSatisfiable,
/// `range` holds 0 <= first <= last < size.
RangeKind ParseRange(std::optional<std::string_view> header, int64_t size, ByteRange& range);

}  // namespace tarn::api::detail
