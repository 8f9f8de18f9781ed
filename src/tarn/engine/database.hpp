// SPDX-License-Identifier: Apache-2.0
// Database: the one embedded DuckDB instance of a process, and the factory of Sessions.
#pragma once

#include <memory>
#include <string>

#include "tarn/base/result.hpp"
#include "tarn/engine/session.hpp"

namespace tarn::engine {

struct DatabaseOptions {
  std::string path;          // DuckDB database file; empty = in-memory
  int threads = 0;           // worker threads; 0 = DuckDB default (number of cores)
  std::string memory_limit;  // e.g. "4GB", "512MiB", "80%"; empty = DuckDB default
  std::string dbfs_root;     // absolute local directory that dbfs:/ table paths map to; empty = dbfs:/ refused
};

/// One DuckDB database. Safe for concurrent use: any thread may call Connect(). Outlives every Session it made.
/// Every session runs with TimeZone 'UTC' and the progress bar enabled but not printed (so Progress() works).
class Database {
 public:
  /// Opens (or creates) the database. Errors: kInvalidParameterValue for bad threads / memory_limit (negative
  /// thread count, unparsable size), kIoError when the file cannot be opened (locked, unreadable, not a database).
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Opens a new connection. Thread-safe. Errors: kInternal when DuckDB refuses the connection.
  Result<std::unique_ptr<Session>> Connect();

  const DatabaseOptions& options() const;

  /// Engine-internal (Impl is defined in detail/).
  struct Impl;
  explicit Database(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tarn::engine
