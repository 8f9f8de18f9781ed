// SPDX-License-Identifier: Apache-2.0
// InMemoryObjectStore: an ObjectStore held in process memory, for tests and ephemeral tables.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "tarn/storage/object_store.hpp"

namespace tarn::storage {

/// Keeps objects in an ordered map. Every operation is atomic (one mutex). Modification times come from the wall
/// clock unless a test sets them. Safe for concurrent use.
class InMemoryObjectStore final : public ObjectStore {
 public:
  InMemoryObjectStore() = default;

  Result<std::vector<ObjectInfo>> List(std::string_view prefix, const ListOptions& options) override;
  using ObjectStore::List;
  Result<std::string> Read(std::string_view key) override;
  Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status Write(std::string_view key, std::string_view data, const WriteOptions& options) override;
  using ObjectStore::Write;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Status Delete(std::string_view key) override;
  Status Rename(std::string_view from, std::string_view to, bool overwrite) override;
  ObjectStoreCapabilities Capabilities() const override { return {.atomic_rename = true, .local_paths = false}; }
  std::optional<std::string> LocalPath(std::string_view) const override { return std::nullopt; }

  /// Sets the modification time of an existing object (timestamp time-travel tests).
  Status TestingSetModificationTime(std::string_view key, int64_t millis);
  /// Makes later writes use this clock instead of the wall clock.
  void TestingSetClock(std::function<int64_t()> now_millis);

 private:
  struct Entry {
    std::string data;
    int64_t modification_time_millis = 0;
  };
  int64_t Now() const;

  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> objects_;  // guarded by mu_
  std::function<int64_t()> clock_;                    // guarded by mu_
};

}  // namespace tarn::storage
