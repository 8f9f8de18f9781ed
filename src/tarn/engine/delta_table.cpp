// SPDX-License-Identifier: Apache-2.0
// DeltaTableLoader: path resolution, snapshot loading with time travel, and a small snapshot cache.
#include "tarn/engine/delta_table.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include "tarn/delta/partition_value.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/storage/local_object_store.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::engine {
namespace {

constexpr size_t kMaxCachedVersions = 32;

Result<std::shared_ptr<storage::ObjectStore>> OpenStore(const std::string& root) {
  auto store = storage::LocalObjectStore::Create(root, /*create_root=*/false);
  if (!store.has_value()) return Error(ErrorCode::kTableNotFound, "Delta table not found: {}", root);
  return std::shared_ptr<storage::ObjectStore>(std::move(store).value());
}

// Table-not-found errors from the log name the table already; make sure the message leads with the path.
Status NameTable(const Status& status, const std::string& root) {
  if (status.code() == ErrorCode::kTableNotFound) {
    return Error(ErrorCode::kTableNotFound, "Delta table not found: {} ({})", root, status.message());
  }
  return status;
}

}  // namespace

Result<std::string> ResolveTableLocation(std::string_view location, std::string_view dbfs_root) {
  bool dbfs = location.starts_with("dbfs:");
  if (dbfs && dbfs_root.empty()) {
    return Error(ErrorCode::kInvalidParameterValue,
                 "Delta table location '{}': dbfs:/ paths need a data directory (tarn up, or tarn sql --data)", location);
  }
  if (!dbfs && !location.starts_with("file:") && !location.starts_with("/")) {
    return Error(ErrorCode::kInvalidParameterValue,
                 "Delta table location must be an absolute path, a file: URI or a dbfs:/ path: '{}'", location);
  }
  storage::PathResolver resolver{std::string(dbfs_root.empty() ? "/" : dbfs_root)};
  TARN_ASSIGN_OR_RETURN(std::string path, resolver.ToLocalPath(location));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

Result<int64_t> ParseTimestampMillis(std::string_view text) {
  auto parsed = delta::ParsePartitionValue(text, *delta::DataType::Primitive(delta::TypeKind::kTimestamp));
  if (!parsed.has_value() || parsed->is_null) {
    // A bare date means midnight UTC.
    auto date = delta::ParsePartitionValue(text, *delta::DataType::Primitive(delta::TypeKind::kDate));
    if (date.has_value() && !date->is_null) return date->int_value * 86400000LL;
    return Error(ErrorCode::kInvalidParameterValue, "invalid TIMESTAMP AS OF value: '{}'", text);
  }
  // Round up to whole milliseconds: a commit at ts.999 is visible at ts.999123.
  int64_t micros = parsed->int_value;
  return micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000);
}

DeltaTableLoader::DeltaTableLoader(Database& database)
    : checkpoint_reader_(database), dbfs_root_(database.options().dbfs_root) {}

Result<DeltaTableLog> DeltaTableLoader::OpenLog(std::string_view location) {
  DeltaTableLog out;
  TARN_ASSIGN_OR_RETURN(out.root, ResolveTableLocation(location, dbfs_root_));
  TARN_ASSIGN_OR_RETURN(out.store, OpenStore(out.root));
  delta::DeltaLogOptions options;
  options.checkpoint_reader = &checkpoint_reader_;
  options.table_name = out.root;
  out.log = std::make_unique<delta::DeltaLog>(*out.store, "", options);
  return out;
}

DeltaLogIdentity IdentifyDeltaLog(const std::string& root) {
  struct statx stx {};
  std::string log_dir = root + "/_delta_log";
  if (::statx(AT_FDCWD, log_dir.c_str(), AT_STATX_DONT_SYNC, STATX_INO | STATX_BTIME, &stx) != 0) return {};
  DeltaLogIdentity identity;
  identity.inode = stx.stx_ino;
  if (stx.stx_mask & STATX_BTIME) {
    identity.birth_nanos = stx.stx_btime.tv_sec * 1'000'000'000LL + stx.stx_btime.tv_nsec;
  }
  return identity;
}

Result<DeltaTable> DeltaTableLoader::Load(const DeltaTableSpec& spec) {
  if (spec.version) {
    // A cached version needs no store or log: one statx of _delta_log (the identity check).
    TARN_ASSIGN_OR_RETURN(std::string root, ResolveTableLocation(spec.location, dbfs_root_));
    const DeltaLogIdentity identity = IdentifyDeltaLog(root);
    std::lock_guard lock(mu_);
    auto it = by_version_.find({root, *spec.version});
    if (it != by_version_.end() && it->second.identity == identity && it->second.store) {
      return DeltaTable{std::move(root), it->second.store, it->second.snapshot};
    }
  }
  TARN_ASSIGN_OR_RETURN(DeltaTableLog opened, OpenLog(spec.location));
  DeltaTable table{opened.root, opened.store, nullptr};
  const DeltaLogIdentity identity = IdentifyDeltaLog(opened.root);
  Result<delta::SnapshotPtr> snapshot = Status(ErrorCode::kInternal, "not loaded");
  if (spec.version) {
    snapshot = opened.log->LoadAtVersion(*spec.version);
  } else if (spec.timestamp) {
    TARN_ASSIGN_OR_RETURN(int64_t millis, ParseTimestampMillis(*spec.timestamp));
    snapshot = opened.log->LoadAtTimestamp(millis);
  } else {
    delta::SnapshotPtr previous;
    {
      std::lock_guard lock(mu_);
      auto it = latest_.find(opened.root);
      if (it != latest_.end() && it->second.identity == identity) previous = it->second.snapshot;
    }
    snapshot = previous ? opened.log->Refresh(previous) : opened.log->LoadLatest();
    if (snapshot.has_value()) {
      std::lock_guard lock(mu_);
      latest_[opened.root] = Cached{*snapshot, identity, opened.store};
    } else {
      std::lock_guard lock(mu_);
      latest_.erase(opened.root);
    }
  }
  if (!snapshot.has_value()) return NameTable(snapshot.status(), opened.root);
  table.snapshot = std::move(snapshot).value();
  std::lock_guard lock(mu_);
  if (by_version_.size() >= kMaxCachedVersions) by_version_.clear();
  by_version_[{opened.root, table.snapshot->version()}] = Cached{table.snapshot, identity, opened.store};
  return table;
}

}  // namespace tarn::engine
