// SPDX-License-Identifier: Apache-2.0
// LocalObjectStore: an ObjectStore on a local directory (the embedded default, <data>/dbfs).
#pragma once

#include <memory>
#include <string>

#include "tarn/storage/object_store.hpp"

namespace tarn::storage {

/// Stores objects as files under one root directory. Writes go to a hidden temp file in the target directory and are
/// renamed into place (atomic replace); PutIfAbsent links the synced temp file to the final name (link() fails with
/// EEXIST when another writer won), falling back to O_EXCL creation on filesystems without hard links. Directories
/// are created on demand. Temp files (".tarn-tmp-*") are hidden from List. Safe for concurrent use, also across
/// processes sharing the directory. Symlinks inside the root are followed (the root is trusted).
class LocalObjectStore final : public ObjectStore {
 public:
  /// Creates the store; `root` must be an absolute path. With `create_root`, missing directories are created.
  static Result<std::unique_ptr<LocalObjectStore>> Create(std::string root, bool create_root = true);

  Result<std::vector<ObjectInfo>> List(std::string_view prefix, const ListOptions& options) override;
  using ObjectStore::List;
  Result<std::string> Read(std::string_view key) override;
  Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) override;
  Status AppendRange(std::string_view key, int64_t offset, int64_t length, std::string& out) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status Write(std::string_view key, std::string_view data, const WriteOptions& options) override;
  using ObjectStore::Write;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Status Delete(std::string_view key) override;
  Status Rename(std::string_view from, std::string_view to, bool overwrite) override;
  ObjectStoreCapabilities Capabilities() const override { return {.atomic_rename = true, .local_paths = true}; }
  std::optional<std::string> LocalPath(std::string_view key) const override;

  const std::string& root() const { return root_; }

 private:
  explicit LocalObjectStore(std::string root) : root_(std::move(root)) {}
  Result<std::string> PathOf(std::string_view key) const;

  std::string root_;  // normalised absolute path without trailing '/'
};

}  // namespace tarn::storage
