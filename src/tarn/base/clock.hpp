// SPDX-License-Identifier: Apache-2.0
// Wall-clock and monotonic time helpers.
#pragma once

#include <chrono>
#include <cstdint>

namespace tarn {

/// Milliseconds since the Unix epoch (Databricks timestamps are epoch milliseconds).
inline int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Monotonic nanoseconds for measuring durations.
inline int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace tarn
