// SPDX-License-Identifier: Apache-2.0
// DeltaTableLoader: opens Delta tables named by path for SQL (snapshots at a version/timestamp, the log for history).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tarn/base/result.hpp"
#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/snapshot.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::engine {

class Database;

/// Which table and which version of it a query reads.
struct DeltaTableSpec {
  std::string location;                  // absolute path or file: URI of the table root
  std::optional<int64_t> version;        // VERSION AS OF
  std::optional<std::string> timestamp;  // TIMESTAMP AS OF: 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]' or ISO-8601, UTC
};

/// An opened table: its store (rooted at the table root) and its log. The log references the store.
struct DeltaTableLog {
  std::string root;  // absolute local path of the table root, no trailing '/'
  std::shared_ptr<storage::ObjectStore> store;
  std::unique_ptr<delta::DeltaLog> log;
};

/// One pinned snapshot of a table and the store to read its files through.
struct DeltaTable {
  std::string root;
  std::shared_ptr<storage::ObjectStore> store;
  delta::SnapshotPtr snapshot;
};

/// Resolves a table location to the absolute local path of its root (no trailing '/'): absolute paths, file: URIs
/// (percent-decoded) and `dbfs:/` paths under `dbfs_root` (which they can never leave). Errors:
/// kInvalidParameterValue (relative path, other scheme, NUL byte, dbfs:/ without a dbfs root), kPermissionDenied.
Result<std::string> ResolveTableLocation(std::string_view location, std::string_view dbfs_root);

/// Parses a TIMESTAMP AS OF argument to epoch milliseconds (UTC). Errors: kInvalidParameterValue.
Result<int64_t> ParseTimestampMillis(std::string_view text);

/// Which `_delta_log` directory a table has now: its inode and birth time (ns; 0 where the file system has none).
/// A table dropped and created again at the same path gets a new identity, so caches keyed by path compare it
/// before reusing a snapshot. All zero when the directory does not exist.
struct DeltaLogIdentity {
  uint64_t inode = 0;
  int64_t birth_nanos = 0;
  bool operator==(const DeltaLogIdentity&) const = default;
};
DeltaLogIdentity IdentifyDeltaLog(const std::string& root);

/// Opens tables on the local filesystem with Tarn's reader settings (the DuckDB checkpoint reader). Keeps a small
/// cache of recent snapshots so that the statement front-end and the scan it generates share one log replay; a
/// cached latest snapshot is refreshed (new commits only) on each use. A cached snapshot is used only while the
/// table's `_delta_log` directory is the same one (inode and birth time): a table dropped and created again at the
/// same path is loaded afresh. Safe for concurrent use.
/// Errors name the path: kTableNotFound (no such directory or no _delta_log), kFeatureNotSupported (a reader feature
/// Tarn does not implement, named), kInvalidParameterValue (version/timestamp outside the log), kCorruptData.
class DeltaTableLoader {
 public:
  explicit DeltaTableLoader(Database& database);

  Result<DeltaTable> Load(const DeltaTableSpec& spec);
  Result<DeltaTableLog> OpenLog(std::string_view location);

 private:
  DuckCheckpointReader checkpoint_reader_;
  std::string dbfs_root_;
  std::mutex mu_;
  struct Cached {
    delta::SnapshotPtr snapshot;
    DeltaLogIdentity identity;
    std::shared_ptr<storage::ObjectStore> store;  // rooted at the table root (read-only use, shared)
  };

  std::map<std::pair<std::string, int64_t>, Cached> by_version_;  // guarded by mu_
  std::map<std::string, Cached> latest_;                          // guarded by mu_
};

}  // namespace tarn::engine
