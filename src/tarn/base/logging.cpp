// SPDX-License-Identifier: Apache-2.0
// Logging facade implementation.
#include "tarn/base/logging.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace tarn {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<bool> g_stderr{true};
std::mutex g_mu;
FILE* g_file = nullptr;  // guarded by g_mu

constexpr const char* kLevelNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};

}  // namespace

void Log::SetLevel(LogLevel level) { g_level = level; }
LogLevel Log::Level() { return g_level; }
void Log::SetStderr(bool enabled) { g_stderr = enabled; }

bool Log::SetFile(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "a");
  if (!file) return false;
  std::lock_guard lock(g_mu);
  if (g_file) std::fclose(g_file);
  g_file = file;
  return true;
}

void Log::Write(LogLevel level, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line = fmt::format("{}.{:03d}Z {} {}\n", stamp, static_cast<int>(millis),
                                 kLevelNames[static_cast<int>(level)], message);
  std::lock_guard lock(g_mu);
  if (g_stderr) std::fwrite(line.data(), 1, line.size(), stderr);
  if (g_file) {
    std::fwrite(line.data(), 1, line.size(), g_file);
    std::fflush(g_file);
  }
}

}  // namespace tarn
