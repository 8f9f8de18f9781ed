// SPDX-License-Identifier: Apache-2.0
// Logging facade: leveled, thread-safe lines to stderr and optionally a file.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace tarn {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Process-wide logger. Safe for concurrent use.
class Log {
 public:
  static void SetLevel(LogLevel level);
  static LogLevel Level();
  /// Also appends lines to `path` (created if missing). Returns false when the file cannot be opened.
  static bool SetFile(const std::string& path);
  /// Stops writing to stderr (a CLI that prints its own output).
  static void SetStderr(bool enabled);
  static void Write(LogLevel level, std::string_view message);
};

template <typename... Args>
void LogAt(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level < Log::Level()) return;
  Log::Write(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tarn

#define TARN_LOG_DEBUG(...) ::tarn::LogAt(::tarn::LogLevel::kDebug, __VA_ARGS__)
#define TARN_LOG_INFO(...) ::tarn::LogAt(::tarn::LogLevel::kInfo, __VA_ARGS__)
#define TARN_LOG_WARN(...) ::tarn::LogAt(::tarn::LogLevel::kWarn, __VA_ARGS__)
#define TARN_LOG_ERROR(...) ::tarn::LogAt(::tarn::LogLevel::kError, __VA_ARGS__)
