// SPDX-License-Identifier: Apache-2.0
// ObjectStore: the storage interface every table, log and file in Tarn goes through.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/base/status.hpp"

namespace tarn::storage {

/// One stored object. `key` is relative to the store root, '/'-separated, never starting with '/'.
struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  int64_t modification_time_millis = 0;  // epoch milliseconds
};

/// How List walks the key space.
struct ListOptions {
  /// Only keys strictly greater than this one are returned (S3 StartAfter). Empty: no lower bound.
  std::string start_after;
  /// false: only objects directly under the prefix's "directory" (no deeper '/' after the prefix).
  bool recursive = true;
};

/// How Write makes data durable.
struct WriteOptions {
  /// true: the data is on stable storage when Write returns (fsync of file and directory on local disks).
  bool sync = true;
};

/// What a store can do beyond the common operations.
struct ObjectStoreCapabilities {
  bool atomic_rename = false;  // Rename is a single atomic step
  bool local_paths = false;    // LocalPath returns real filesystem paths
};

/// A flat key → bytes store with the guarantees the Delta protocol needs: atomic visibility of whole objects,
/// put-if-absent (mutual exclusion on commit files) and lexicographically ordered listing.
/// Keys are normalised with NormalizeObjectKey; a key that would escape the root is refused with
/// kInvalidParameterValue. Implementations are safe for concurrent use.
/// Error codes: kResourceDoesNotExist (missing object), kAlreadyExists (PutIfAbsent lost), kIoError, kNotImplemented.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// Returns the objects whose key starts with `prefix`, in lexicographic (byte) order. A missing prefix yields an
  /// empty list, not an error.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix, const ListOptions& options) = 0;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) { return List(prefix, ListOptions{}); }

  /// Returns the whole object.
  virtual Result<std::string> Read(std::string_view key) = 0;
  /// Returns up to `length` bytes starting at `offset` (fewer at the end of the object). An offset past the end is
  /// kInvalidParameterValue.
  virtual Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) = 0;
  /// Appends up to `length` bytes starting at `offset` to `out` (same rules as ReadRange), so that a caller reading a
  /// large object in pieces can reuse one buffer. Default: ReadRange and append.
  virtual Status AppendRange(std::string_view key, int64_t offset, int64_t length, std::string& out) {
    auto data = ReadRange(key, offset, length);
    if (!data.has_value()) return data.status();
    out.append(*data);
    return Status::OK();
  }
  /// Returns size and modification time of one object.
  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;

  /// Creates or atomically replaces the object: readers see the old or the new content, never a mix.
  virtual Status Write(std::string_view key, std::string_view data, const WriteOptions& options) = 0;
  Status Write(std::string_view key, std::string_view data) { return Write(key, data, WriteOptions{}); }
  /// Creates the object only if no object has that key; returns kAlreadyExists otherwise. When it returns OK the
  /// object is durable (synced). This is the primitive a Delta commit relies on.
  virtual Status PutIfAbsent(std::string_view key, std::string_view data) = 0;
  /// Deletes one object; kResourceDoesNotExist when it does not exist.
  virtual Status Delete(std::string_view key) = 0;
  /// Renames `from` to `to`. With `overwrite` false, fails with kAlreadyExists when `to` exists. kNotImplemented on
  /// stores without rename (see Capabilities()).
  virtual Status Rename(std::string_view from, std::string_view to, bool overwrite) = 0;

  virtual ObjectStoreCapabilities Capabilities() const = 0;
  /// Returns the filesystem path of `key` for engines that open files themselves, or nullopt when the store is not
  /// backed by a local filesystem. Does not check that the object exists.
  virtual std::optional<std::string> LocalPath(std::string_view key) const = 0;
};

}  // namespace tarn::storage
