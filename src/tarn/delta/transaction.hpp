// SPDX-License-Identifier: Apache-2.0
// OptimisticTransaction: collects actions against a read snapshot and commits version N+1 with put-if-absent.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/actions.hpp"
#include "tarn/delta/conflict_checker.hpp"
#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/schema.hpp"
#include "tarn/delta/snapshot.hpp"

namespace tarn::delta {

/// Operation names Spark writes in commitInfo.operation.
namespace operations {
inline constexpr std::string_view kWrite = "WRITE";
inline constexpr std::string_view kStreamingUpdate = "STREAMING UPDATE";
inline constexpr std::string_view kCreateTable = "CREATE TABLE";
inline constexpr std::string_view kCreateTableAsSelect = "CREATE TABLE AS SELECT";
inline constexpr std::string_view kReplaceTable = "REPLACE TABLE";
inline constexpr std::string_view kDelete = "DELETE";
inline constexpr std::string_view kUpdate = "UPDATE";
inline constexpr std::string_view kMerge = "MERGE";
inline constexpr std::string_view kOptimize = "OPTIMIZE";
inline constexpr std::string_view kRestore = "RESTORE";
inline constexpr std::string_view kTruncate = "TRUNCATE";
inline constexpr std::string_view kSetTableProperties = "SET TBLPROPERTIES";
inline constexpr std::string_view kAddColumns = "ADD COLUMNS";
inline constexpr std::string_view kChangeColumn = "CHANGE COLUMN";
inline constexpr std::string_view kUpgradeProtocol = "UPGRADE PROTOCOL";
}  // namespace operations

/// One write transaction (single-threaded). Record what was read (ReadWholeTable / ReadWhere / ReadFile /
/// ReadAppTransactionVersion), stage actions, then Commit() once. Commit writes version read+1 with PutIfAbsent;
/// when another writer won that version it reads the winning commits, applies Delta's conflict rules for the
/// table's isolation level (delta.isolationLevel: WriteSerializable by default, or Serializable) and retries at the
/// next version, up to TableOptions::max_commit_attempts. Blind appends therefore always retry automatically.
/// Errors: kCommitConflict (message starts with the Spark exception name), kSchemaMismatch, kInvalidParameterValue
/// (malformed actions), kInvalidState (append-only table), kFeatureNotSupported (protocol not writable),
/// kInvalidTransactionState (committed twice), kResourceAlreadyExists (create lost to another create), storage errors.
class OptimisticTransaction {
 public:
  /// `snapshot` null: the transaction creates the table (version 0) and must set protocol and metadata.
  OptimisticTransaction(DeltaTable& table, SnapshotPtr snapshot);

  const SnapshotPtr& snapshot() const { return snapshot_; }
  /// The version read (-1 for a create).
  int64_t read_version() const { return snapshot_ ? snapshot_->version() : -1; }
  const std::string& txn_id() const { return txn_id_; }

  // What the transaction read.
  /// Marks that the result depends on the whole table (any concurrent add or remove conflicts).
  void ReadWholeTable() { footprint_.read_whole_table = true; }
  /// Marks that the transaction read the files matching `predicate` (e.g. PartitionEquals): a concurrent add
  /// matching it conflicts.
  void ReadWhere(FilePredicate predicate) { footprint_.read_predicates.push_back(std::move(predicate)); }
  /// Marks that the transaction read one file (canonical path, as FileEntry::path).
  void ReadFile(std::string_view path) { footprint_.read_files.emplace(path); }
  /// Returns the last committed version of an application id and records the read (a concurrent txn for this
  /// app id then conflicts).
  std::optional<int64_t> ReadAppTransactionVersion(const std::string& app_id);

  // What it writes.
  /// Stages an add. Partition values must cover exactly the table's partition columns.
  void AddFile(AddAction add);
  /// Stages a remove (the file counts as read).
  void RemoveFile(RemoveAction remove);
  /// Stages a remove of a live file of the read snapshot: deletionTimestamp now, extendedFileMetadata with its
  /// partition values and size.
  void RemoveFile(const FileEntry& file, bool data_change = true);
  /// Replaces the table metadata (schema, partition columns, properties). kInvalidParameterValue when the schema
  /// does not parse or a partition column is missing; protocol upgrades for newly required features are added.
  Status UpdateMetadata(MetadataAction metadata);
  /// Replaces the protocol (never downgrades: lower versions than the read protocol are kInvalidParameterValue).
  Status UpdateProtocol(ProtocolAction protocol);
  /// Makes the commit idempotent for (app_id, version): when the table already has a txn for app_id with a version
  /// >= `version`, Commit() writes nothing and reports skipped.
  void SetAppTransaction(std::string app_id, int64_t version);
  /// Sets or removes a metadata domain (needs the domainMetadata feature).
  Status SetDomainMetadata(std::string domain, std::string configuration);
  Status RemoveDomainMetadata(std::string domain);

  /// Checks `data_schema` (the schema of files being appended) against the table schema: every data column must
  /// exist with the same type (kSchemaMismatch naming the column); NOT NULL table columns must be present. With
  /// `merge_schema`, new columns (also nested struct fields) are added as nullable and the metadata is updated;
  /// type changes are still refused.
  Status EnforceSchema(const Schema& data_schema, bool merge_schema);

  // commitInfo.
  /// Sets commitInfo.operation and its parameters (values are strings, JSON-encoded where Spark does so).
  void SetOperation(std::string_view operation, std::map<std::string, std::string> parameters = {});
  /// Sets commitInfo.operationMetrics (Spark writes them as strings). WRITE defaults to numFiles, numOutputRows
  /// (from stats) and numOutputBytes when not set.
  void SetOperationMetrics(std::map<std::string, std::string> metrics) { metrics_ = std::move(metrics); }
  void SetUserMetadata(std::string user_metadata) { user_metadata_ = std::move(user_metadata); }

  /// True when the transaction only adds data files and read nothing (commitInfo.isBlindAppend).
  bool IsBlindAppend() const;
  const std::vector<AddAction>& adds() const { return adds_; }
  const std::vector<RemoveAction>& removes() const { return removes_; }
  /// The table schema the transaction writes (pending metadata, else the snapshot's).
  const Schema& schema() const;
  const MetadataAction& metadata() const;
  const ProtocolAction& protocol() const;

  Result<CommitResult> Commit();

 private:
  Status ValidateBeforeCommit();
  // Builds the commit file content for `version` (commitInfo first, with `ict` when set).
  std::string BuildContent(int64_t version, std::optional<int64_t> ict, int64_t now);
  Result<std::vector<Action>> ReadCommit(int64_t version, bool& missing);
  // `content`: what was written at `committed_version` (parsed from memory); empty when unknown (then read back).
  SnapshotPtr BuildPostCommitSnapshot(int64_t committed_version, std::string_view content);

  DeltaTable& table_;
  SnapshotPtr snapshot_;
  std::string txn_id_;
  TransactionFootprint footprint_;
  std::vector<AddAction> adds_;
  std::vector<RemoveAction> removes_;
  std::optional<MetadataAction> new_metadata_;
  std::optional<Schema> new_schema_;
  std::optional<ProtocolAction> new_protocol_;
  std::map<std::string, TxnAction> txns_;
  std::map<std::string, DomainMetadataAction> domains_;
  std::string operation_ = std::string(operations::kWrite);
  std::map<std::string, std::string> parameters_;
  std::map<std::string, std::string> metrics_;
  std::optional<std::string> user_metadata_;
  bool committed_ = false;
  bool newly_enables_ict_ = false;
  // Winning commits read during retries: version -> mtime (to rebuild the post-commit snapshot without listing).
  std::vector<std::pair<int64_t, int64_t>> winners_;
};

}  // namespace tarn::delta
