// SPDX-License-Identifier: Apache-2.0
// Helpers shared by engine tests: a scratch directory and a snapshot's state as comparable lines.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tarn/delta/action_serializer.hpp"
#include "tarn/delta/checkpoint_writer.hpp"
#include "tarn/delta/snapshot.hpp"

namespace tarn::engine::test_util {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tarn-engine-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A snapshot's reconciled state as sorted JSON lines (the checkpoint content is the canonical form of a state).
inline std::vector<std::string> StateLines(const delta::Snapshot& snapshot) {
  delta::CheckpointContent content = delta::BuildCheckpointContent(snapshot, {});
  std::vector<std::string> lines;
  for (const delta::Action& action : content.ToActions()) lines.push_back(delta::SerializeAction(action));
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace tarn::engine::test_util
