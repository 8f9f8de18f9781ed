// SPDX-License-Identifier: Apache-2.0
// LocalObjectStore: an ObjectStore on a local directory (the embedded default, <data>/dbfs).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "tarn/storage/object_store.hpp"

namespace tarn::storage {

/// How a LocalObjectStore writes.
struct LocalObjectStoreOptions {
  /// true: PutIfAbsent (and a synced Write of a new object) writes an unnamed O_TMPFILE inode in the target
  /// directory and links it to the final name (written data, link, fsync of file and directory). false, or where
  /// O_TMPFILE is unavailable: a named temp file is synced, linked (renamed) and the directory is synced.
  bool use_tmpfile = true;
};

/// Stores objects as files under one root directory. Writes go to a hidden temp file in the target directory and are
/// renamed into place (atomic replace); a synced Write of a new object links an unnamed inode instead, as PutIfAbsent
/// does. PutIfAbsent gives the complete data its final name with link (linkat fails with EEXIST when another writer
/// won): from an unnamed O_TMPFILE inode where the file system has them (a crash leaves no temp file behind), else
/// from a synced named temp file; on filesystems without hard links it falls back to O_EXCL creation. It returns OK
/// only after the file and its directory were synced. Directories are created on demand. Temp files (".tarn-tmp-*")
/// are hidden from List. Safe for concurrent use, also across processes sharing the directory. Symlinks inside the
/// root are followed (the root is trusted).
class LocalObjectStore final : public ObjectStore {
 public:
  /// Creates the store; `root` must be an absolute path. With `create_root`, missing directories are created.
  static Result<std::unique_ptr<LocalObjectStore>> Create(std::string root, bool create_root = true,
                                                          LocalObjectStoreOptions options = {});

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
  LocalObjectStore(std::string root, LocalObjectStoreOptions options)
      : root_(std::move(root)), use_tmpfile_(options.use_tmpfile) {}
  Result<std::string> PathOf(std::string_view key) const;
  // The O_TMPFILE put-if-absent; nullopt when this file system cannot do it (the caller falls back).
  std::optional<Status> PutIfAbsentViaTmpfile(const std::string& path, std::string_view key, std::string_view data);

  std::string root_;  // normalised absolute path without trailing '/'
  const bool use_tmpfile_;
  std::atomic<bool> tmpfile_unsupported_{false};  // set once O_TMPFILE failed as unsupported
};

}  // namespace tarn::storage
