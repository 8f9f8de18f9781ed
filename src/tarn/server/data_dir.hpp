// SPDX-License-Identifier: Apache-2.0
// The server's data directory: layout creation, the single-owner lock, and the admin-token file.
#pragma once

#include <memory>
#include <string>

#include "tarn/base/result.hpp"

namespace tarn::server {

/// An opened data directory. Holding the object holds an exclusive lock on `<root>/tarn.lock`, so two `tarn up`
/// processes can never serve the same directory. The lock is released when the object is destroyed (or the process
/// dies). Not thread-safe; owned by the composition root.
class DataDir {
 public:
  /// Creates the layout (dbfs/, dbfs/user/hive/warehouse/, logs/) if missing, checks the directory is writable and
  /// takes the lock. Errors: kInvalidState when another process holds the lock (message names its pid),
  /// kIoError when the directory cannot be created or written.
  static Result<std::unique_ptr<DataDir>> Open(const std::string& path);
  ~DataDir();
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::string& root() const { return root_; }
  std::string DbfsRoot() const { return root_ + "/dbfs"; }
  std::string WarehouseRoot() const { return root_ + "/dbfs/user/hive/warehouse"; }
  std::string MetaDbPath() const { return root_ + "/meta.db"; }
  std::string LogDir() const { return root_ + "/logs"; }
  std::string AdminTokenPath() const { return root_ + "/admin-token"; }

  /// Writes the admin token to `admin-token` with mode 0600 (atomically: temp file + rename).
  Status WriteAdminToken(const std::string& token) const;

 private:
  DataDir(std::string root, int lock_fd) : root_(std::move(root)), lock_fd_(lock_fd) {}
  std::string root_;
  int lock_fd_;
};

}  // namespace tarn::server
