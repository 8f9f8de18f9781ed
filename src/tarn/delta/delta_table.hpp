// SPDX-License-Identifier: Apache-2.0
// DeltaTable: the write-side handle of one table (create, start transactions, post-commit checkpoints and cleanup).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/checkpoint_reader.hpp"
#include "tarn/delta/checkpoint_writer.hpp"
#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/log_cleanup.hpp"
#include "tarn/delta/schema.hpp"
#include "tarn/delta/snapshot.hpp"
#include "tarn/delta/writer_features.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::delta {

class OptimisticTransaction;

/// Takes over a table's post-commit maintenance (checkpoints, log cleanup) off the commit path, for example a
/// process-wide background checkpointer that coalesces per table (engine::DeltaCheckpointer). DeltaTable calls
/// Schedule after every durable commit; an implementation decides whether a checkpoint is due and must not keep a
/// reference to the DeltaTable or its store after returning (they may be short-lived). Must be thread-safe.
class PostCommitScheduler {
 public:
  virtual ~PostCommitScheduler() = default;
  /// `local_root` is the table's directory for filesystem-backed stores ("" otherwise). Returns false when the
  /// scheduler cannot take this table (for example a store without local paths): the DeltaTable then runs its own
  /// post-commit work (checkpoint_writer, post_commit_executor) as if no scheduler were set.
  virtual bool Schedule(const std::string& local_root, const SnapshotPtr& committed) = 0;
};

/// How a DeltaTable writes. The caller keeps the reader and writer alive as long as the table.
struct TableOptions {
  /// Reads Parquet checkpoints (nullable; see DeltaLogOptions).
  CheckpointReader* checkpoint_reader = nullptr;
  /// Writes checkpoints every delta.checkpointInterval commits; null disables checkpoints (and so log cleanup).
  CheckpointWriter* checkpoint_writer = nullptr;
  std::set<std::string> supported_writer_features = DefaultSupportedWriterFeatures();
  std::set<std::string> supported_reader_features = DefaultSupportedReaderFeatures();
  /// Name used in messages; defaults to the table root.
  std::string table_name;
  /// commitInfo.engineInfo; default "Tarn/<version>".
  std::string engine_info;
  /// Commit attempts before giving up on a transaction whose conflict checks keep passing (lost races).
  int max_commit_attempts = 1000;
  /// Wall clock in epoch millis (tests); default system clock.
  std::function<int64_t()> clock;
  /// Runs post-commit work (checkpoint, log cleanup). Default: inline, after the commit is durable. The tasks use
  /// this DeltaTable: the caller keeps it alive until they have run (prefer post_commit_scheduler).
  std::function<void(std::function<void()>)> post_commit_executor;
  /// When set (nullable, must outlive the table), every committed snapshot goes to it instead of the inline or
  /// executor path above; checkpoint_writer is then only used when it declines the table. Tarn's engine sets its
  /// process-wide background checkpointer here.
  PostCommitScheduler* post_commit_scheduler = nullptr;
};

/// Everything CREATE TABLE needs.
struct CreateTableRequest {
  Schema schema;
  std::vector<std::string> partition_columns;
  /// Table properties; delta.feature.<name>=supported requests a table feature (removed from the stored properties).
  std::map<std::string, std::string> configuration;
  std::optional<std::string> name;
  std::optional<std::string> description;
  /// Data files for CREATE TABLE AS SELECT (operation becomes "CREATE TABLE AS SELECT").
  std::vector<AddAction> initial_files;
  std::vector<DomainMetadataAction> domain_metadata;
  /// commitInfo.operationParameters.isManaged.
  bool is_managed = false;
};

/// Column mapping for a new table: when `configuration` sets delta.columnMapping.mode to name or id, gives every field
/// (nested included) without a delta.columnMapping.id a new id and a `col-<uuid>` physical name, and sets
/// delta.columnMapping.maxColumnId; fields that carry an id keep it. Mode none or absent: the schema unchanged. Lets a
/// writer know the physical names before version 0 exists (CREATE TABLE AS SELECT in one commit); Create applies it
/// again, which changes nothing. kInvalidParameterValue for another mode.
Result<Schema> ApplyColumnMapping(const Schema& schema, std::map<std::string, std::string>& configuration);

/// What a commit did.
struct CommitResult {
  /// The committed version; when skipped, the read version.
  int64_t version = -1;
  /// True when every txn (appId, version) of the transaction was already committed: nothing was written.
  bool skipped = false;
  /// PutIfAbsent attempts (1 = no lost race).
  int attempts = 0;
  std::string txn_id;
  std::optional<int64_t> in_commit_timestamp;
  /// The table after the commit (null if it could not be rebuilt; the commit is durable regardless).
  SnapshotPtr snapshot;
};

/// The write-side handle of one Delta table at `table_root` (a key prefix of `store`, "" or "dir/").
/// Keeps the latest snapshot it knows; transactions start from it after a cheap check for newer commits.
/// Safe for concurrent use by several threads (each with its own transaction); several processes may write the same
/// table (PutIfAbsent arbitrates). The caller keeps `store` alive.
class DeltaTable {
 public:
  DeltaTable(storage::ObjectStore& store, std::string table_root, TableOptions options = {});
  ~DeltaTable();
  DeltaTable(const DeltaTable&) = delete;
  DeltaTable& operator=(const DeltaTable&) = delete;

  /// Creates the table: version 0 with protocol, metaData, commitInfo (and the initial files). kResourceAlreadyExists
  /// when a log exists or a concurrent create won; kInvalidParameterValue for bad partition columns or properties;
  /// kFeatureNotSupported for features Tarn cannot write.
  Result<CommitResult> Create(const CreateTableRequest& request);

  /// Returns the latest snapshot (refreshing the cached one). kTableNotFound without a log.
  Result<SnapshotPtr> Latest();
  /// Starts a transaction reading the latest snapshot. Fails when the table's protocol is not writable.
  Result<std::unique_ptr<OptimisticTransaction>> StartTransaction();
  /// Starts a transaction reading `snapshot` (for example the version a query planned against).
  Result<std::unique_ptr<OptimisticTransaction>> StartTransactionAt(SnapshotPtr snapshot);

  /// Writes a checkpoint of `snapshot` now (needs a checkpoint writer).
  Result<CheckpointResult> Checkpoint(const Snapshot& snapshot);
  /// Deletes expired log files per delta.logRetentionDuration (see CleanupExpiredLogs).
  Result<LogCleanupResult> CleanupLogs(const Snapshot& snapshot);

  /// Called by OptimisticTransaction after a durable commit: caches `committed`, then hands it to the post-commit
  /// scheduler when one is set (and accepts it), else runs the checkpoint (every delta.checkpointInterval versions)
  /// and log cleanup through the post-commit executor. Failures are logged as
  /// warnings and never reach the committer.
  void OnCommitted(const SnapshotPtr& committed);

  storage::ObjectStore& store() { return store_; }
  DeltaLog& log() { return log_; }
  const std::string& table_root() const { return table_root_; }
  const std::string& log_prefix() const { return log_prefix_; }
  /// The table's local directory for stores backed by a filesystem (to canonicalise absolute paths), else "".
  const std::string& local_root() const { return local_root_; }
  const TableOptions& options() const { return options_; }
  const std::string& label() const { return label_; }
  int64_t NowMillis() const;
  /// The key of commit `version`.
  std::string CommitKey(int64_t version) const;
  /// Number of checkpoints and cleanups that failed (logged) since construction.
  int64_t num_post_commit_failures() const;

 private:
  void RunPostCommit(SnapshotPtr committed);

  storage::ObjectStore& store_;
  std::string table_root_;
  std::string log_prefix_;
  TableOptions options_;
  DeltaLog log_;
  std::string label_;
  std::string local_root_;
  mutable std::mutex mu_;
  SnapshotPtr latest_;            // guarded by mu_
  int64_t latest_checked_at_ = 0;  // epoch millis when latest_ was known to be the newest version; guarded by mu_
  int64_t num_post_commit_failures_ = 0;  // guarded by mu_
  // No log file can expire before this time (epoch millis), so cleanups are skipped until then. Guarded by mu_.
  int64_t next_cleanup_at_ = 0;
};

}  // namespace tarn::delta
