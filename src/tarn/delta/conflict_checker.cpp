// SPDX-License-Identifier: Apache-2.0
// Conflict rules of ConflictChecker.scala (PROTOCOL.md and docs concurrency-control), applied to one winning commit.
#include "tarn/delta/conflict_checker.hpp"

#include "tarn/delta/table_features.hpp"
#include "tarn/delta/writer_features.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::delta {
namespace {

std::string DescribePartition(const std::vector<MapEntry>& values) {
  if (values.empty()) return "the table";
  std::string out = "partition [";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += values[i].key + "=" + (values[i].value ? *values[i].value : std::string("null"));
  }
  return out + "]";
}

Status Conflict(ConflictType type, int64_t version, std::string_view operation, std::string detail) {
  return Error(ErrorCode::kCommitConflict, "{}: {} (conflicting commit: version {}, operation {}). {}",
               ConflictTypeName(type), detail, version, operation.empty() ? "unknown" : operation,
               type == ConflictType::kProtocolChanged || type == ConflictType::kMetadataChanged
                   ? "Refresh the table and try the operation again."
                   : "Please try the operation again.");
}

}  // namespace

std::string_view ConflictTypeName(ConflictType type) {
  switch (type) {
    case ConflictType::kConcurrentAppend: return "ConcurrentAppendException";
    case ConflictType::kConcurrentDeleteRead: return "ConcurrentDeleteReadException";
    case ConflictType::kConcurrentDeleteDelete: return "ConcurrentDeleteDeleteException";
    case ConflictType::kMetadataChanged: return "MetadataChangedException";
    case ConflictType::kProtocolChanged: return "ProtocolChangedException";
    case ConflictType::kConcurrentTransaction: return "ConcurrentTransactionException";
  }
  return "ConflictException";
}

FilePredicate PartitionEquals(std::vector<MapEntry> values) {
  return [values = std::move(values)](const AddAction& add) {
    for (const MapEntry& wanted : values) {
      auto actual = FindMapEntry(add.partition_values, wanted.key);
      std::optional<std::string> actual_value = actual ? *actual : std::nullopt;
      if (actual_value && actual_value->empty()) actual_value.reset();  // "" is null in the log
      std::optional<std::string> wanted_value = wanted.value;
      if (wanted_value && wanted_value->empty()) wanted_value.reset();
      if (actual_value != wanted_value) return false;
    }
    return true;
  };
}

std::string CanonicalLogPath(std::string_view path, std::string_view local_root) {
  std::string out;
  if (path.find('%') != std::string_view::npos) {
    auto decoded = storage::PercentDecode(path);
    out = decoded.has_value() ? std::move(decoded).value() : std::string(path);
  } else {
    out = std::string(path);
  }
  if (out.starts_with("file:")) {
    std::string_view rest = std::string_view(out).substr(5);
    if (rest.starts_with("//")) {
      size_t slash = rest.find('/', 2);
      rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
    out = std::string(rest);
  }
  if (!local_root.empty() && out.size() > local_root.size() + 1 && out.starts_with(local_root) &&
      out[local_root.size()] == '/') {
    out.erase(0, local_root.size() + 1);
  }
  return out;
}

Status CheckConflicts(const TransactionFootprint& txn, int64_t version, const std::vector<Action>& winner,
                      std::string_view local_root) {
  std::string operation;
  bool winner_blind_append = false;
  for (const Action& action : winner) {
    if (const auto* info = std::get_if<CommitInfoAction>(&action)) {
      operation = info->operation.value_or("");
      winner_blind_append = info->is_blind_append.value_or(false);
    }
  }
  // 1. Protocol.
  for (const Action& action : winner) {
    const auto* protocol = std::get_if<ProtocolAction>(&action);
    if (protocol == nullptr) continue;
    if (txn.changes_protocol) {
      return Conflict(ConflictType::kProtocolChanged, version, operation,
                      "the protocol version of the Delta table has been changed by a concurrent update");
    }
    if (txn.supported_writer_features != nullptr) {
      Status writable = ValidateWriterProtocol(*protocol, *txn.supported_writer_features);
      if (!writable.ok()) {
        return Conflict(ConflictType::kProtocolChanged, version, operation,
                        "a concurrent update changed the protocol to one this writer cannot write (" +
                            writable.message() + ")");
      }
    }
    if (txn.supported_reader_features != nullptr) {
      Status readable = ValidateReaderProtocol(*protocol, *txn.supported_reader_features);
      if (!readable.ok()) {
        return Conflict(ConflictType::kProtocolChanged, version, operation,
                        "a concurrent update changed the protocol to one this reader cannot read (" +
                            readable.message() + ")");
      }
    }
  }
  // 2. Metadata.
  for (const Action& action : winner) {
    if (std::holds_alternative<MetadataAction>(action)) {
      return Conflict(ConflictType::kMetadataChanged, version, operation,
                      "the metadata of the Delta table has been changed by a concurrent update");
    }
  }
  // 3. Domain metadata.
  for (const Action& action : winner) {
    const auto* domain = std::get_if<DomainMetadataAction>(&action);
    if (domain != nullptr && txn.domains.contains(domain->domain)) {
      return Conflict(ConflictType::kConcurrentTransaction, version, operation,
                      "domain metadata \"" + domain->domain + "\" was changed by a concurrent transaction");
    }
  }
  // 4. App transactions.
  for (const Action& action : winner) {
    const auto* app = std::get_if<TxnAction>(&action);
    if (app != nullptr && txn.read_app_ids.contains(app->app_id)) {
      return Conflict(ConflictType::kConcurrentTransaction, version, operation,
                      "application id \"" + app->app_id +
                          "\" committed concurrently (this happens when the same query runs twice at once)");
    }
  }
  // 6. Files added that the transaction should have read.
  bool count_adds = txn.isolation_level == IsolationLevel::kSerializable || !winner_blind_append ||
                    txn.changes_metadata;
  if (count_adds && (txn.read_whole_table || !txn.read_predicates.empty())) {
    for (const Action& action : winner) {
      const auto* add = std::get_if<AddAction>(&action);
      if (add == nullptr || !add->data_change) continue;
      bool matches = txn.read_whole_table;
      for (size_t i = 0; !matches && i < txn.read_predicates.size(); ++i) matches = txn.read_predicates[i](*add);
      if (matches) {
        return Conflict(ConflictType::kConcurrentAppend, version, operation,
                        "files were added to " + DescribePartition(add->partition_values) +
                            " by a concurrent update (e.g. " + add->path + ")");
      }
    }
  }
  // 7. Files deleted that the transaction read; 8. files deleted by both.
  for (const Action& action : winner) {
    const auto* remove = std::get_if<RemoveAction>(&action);
    if (remove == nullptr) continue;
    std::string path = CanonicalLogPath(remove->path, local_root);
    if (txn.removed_files.contains(path)) {
      return Conflict(ConflictType::kConcurrentDeleteDelete, version, operation,
                      "this transaction attempted to delete file " + path +
                          " which was deleted by a concurrent update");
    }
    if (txn.read_files.contains(path) || txn.read_whole_table) {
      return Conflict(ConflictType::kConcurrentDeleteRead, version, operation,
                      "this transaction attempted to read file " + path + " which was deleted by a concurrent update");
    }
  }
  return Status::OK();
}

}  // namespace tarn::delta
