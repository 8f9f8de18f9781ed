// SPDX-License-Identifier: Apache-2.0
// Data file names and contents shared by delta_crash_writer and delta_crash_test (the test re-derives the content).
#pragma once

#include <string>

namespace tarn::delta::testing {

/// A unique data file name per writer process and iteration.
inline std::string CrashTestFileName(const std::string& writer_id, long pid, long iteration) {
  return "part-" + writer_id + "-" + std::to_string(pid) + "-" + std::to_string(iteration) + ".data";
}

/// The content written for `path` (a few KiB, so a torn write would show as a short or wrong file).
inline std::string CrashTestFileContent(const std::string& path) {
  std::string data;
  for (int i = 0; i < 64; ++i) data += path + " line " + std::to_string(i) + "\n";
  return data;
}

}  // namespace tarn::delta::testing
