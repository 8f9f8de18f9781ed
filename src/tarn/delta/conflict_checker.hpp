// SPDX-License-Identifier: Apache-2.0
// Optimistic concurrency: decides whether a transaction may commit after other writers won the versions it wanted.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/status.hpp"
#include "tarn/delta/actions.hpp"
#include "tarn/delta/table_properties.hpp"

namespace tarn::delta {

/// The conflicts Delta defines (names as Spark's exceptions, which appear at the start of kCommitConflict messages).
enum class ConflictType {
  kConcurrentAppend,        // ConcurrentAppendException
  kConcurrentDeleteRead,    // ConcurrentDeleteReadException
  kConcurrentDeleteDelete,  // ConcurrentDeleteDeleteException
  kMetadataChanged,         // MetadataChangedException
  kProtocolChanged,         // ProtocolChangedException
  kConcurrentTransaction,   // ConcurrentTransactionException
};
std::string_view ConflictTypeName(ConflictType type);

/// Decides whether an added file could have been part of what a transaction read (partition or data predicate).
using FilePredicate = std::function<bool(const AddAction&)>;

/// Returns a predicate matching files whose partition values equal `values` for every listed column (a null value
/// matches a null partition).
FilePredicate PartitionEquals(std::vector<MapEntry> values);

/// What a transaction read and what it is about to write: everything conflict detection looks at.
struct TransactionFootprint {
  IsolationLevel isolation_level = IsolationLevel::kWriteSerializable;
  bool read_whole_table = false;
  std::vector<FilePredicate> read_predicates;
  std::set<std::string> read_files;      // canonical (percent-decoded) paths
  std::set<std::string> read_app_ids;    // txn app ids the transaction looked at or writes
  std::set<std::string> removed_files;   // canonical paths of its own removes
  std::set<std::string> domains;         // domainMetadata it writes
  bool changes_metadata = false;
  bool changes_protocol = false;
  /// Protocol features this process can write / read (a winner's protocol upgrade must stay writable).
  const std::set<std::string>* supported_writer_features = nullptr;
  const std::set<std::string>* supported_reader_features = nullptr;
};

/// Returns the canonical form of a log path (percent-decoded; file: URIs reduced to their absolute path), the form
/// Snapshot FileEntry paths use. `local_root` (may be empty) is the table's local directory.
std::string CanonicalLogPath(std::string_view path, std::string_view local_root);

/// Checks one winning commit (`version`, its actions) against the transaction, in Spark's order: protocol, metadata,
/// domain metadata, app transactions, added files (per isolation level: WriteSerializable ignores adds of blind-append
/// winners unless the transaction changes metadata; Serializable counts every dataChange add), deleted files read,
/// files deleted by both. Returns OK or kCommitConflict whose message starts with the exception name and names the
/// version, the winner's operation and the file or partition involved.
Status CheckConflicts(const TransactionFootprint& txn, int64_t version, const std::vector<Action>& winner,
                      std::string_view local_root);

}  // namespace tarn::delta
