// SPDX-License-Identifier: Apache-2.0
// Snapshot: the immutable, shareable state of a Delta table at one version (protocol, metadata, files, txns, domains).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/delta/actions.hpp"
#include "tarn/delta/schema.hpp"

namespace tarn::delta {

/// Memory for large snapshot arrays: allocations of several MiB are mapped directly and advised to use transparent
/// huge pages (one page fault per 2 MiB instead of per 4 KiB); small ones use operator new.
void* AllocateLargeBlock(size_t bytes);
void FreeLargeBlock(void* data, size_t bytes);

template <typename T>
struct LargeBlockAllocator {
  using value_type = T;
  LargeBlockAllocator() = default;
  template <typename U>
  LargeBlockAllocator(const LargeBlockAllocator<U>&) {}  // NOLINT(google-explicit-constructor)
  T* allocate(size_t count) { return static_cast<T*>(AllocateLargeBlock(count * sizeof(T))); }
  void deallocate(T* data, size_t count) { FreeLargeBlock(data, count * sizeof(T)); }
  template <typename U>
  bool operator==(const LargeBlockAllocator<U>&) const {
    return true;
  }
};
template <typename T>
using LargeVector = std::vector<T, LargeBlockAllocator<T>>;

/// Append-only byte storage for the strings and arrays of a snapshot: a few large blocks instead of one allocation
/// per file. Never shrinks or moves data, so views into it stay valid as long as the arena lives. Not thread-safe
/// while being filled; immutable (and shareable) afterwards.
class StringArena {
 public:
  StringArena() = default;
  /// An arena whose first block holds `block_size` bytes; later blocks double up to 16 MiB (small commits stay small).
  explicit StringArena(size_t block_size) : block_size_(block_size == 0 ? kBlockSize : block_size) {}
  ~StringArena();
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  std::string_view Copy(std::string_view text);
  /// Returns uninitialised, suitably aligned storage for `count` objects of trivially destructible type T.
  template <typename T>
  T* AllocateArray(size_t count) {
    return static_cast<T*>(Allocate(sizeof(T) * count, alignof(T)));
  }
  size_t bytes_used() const { return bytes_used_; }

 private:
  void* Allocate(size_t size, size_t alignment);
  static constexpr size_t kBlockSize = 1 << 20;
  static constexpr size_t kMaxBlockSize = 16 << 20;
  size_t block_size_ = kBlockSize;
  std::vector<std::pair<char*, size_t>> blocks_;  // from AllocateLargeBlock
  char* cursor_ = nullptr;
  size_t remaining_ = 0;
  size_t bytes_used_ = 0;
};
using StringArenaPtr = std::shared_ptr<const StringArena>;

struct PartitionValueRef {
  std::string_view name;   // partition column name as written in the log (physical name under column mapping)
  std::string_view value;  // serialized value; meaningless when is_null
  bool is_null = true;
};

struct DeletionVectorRef {
  char storage_type = 'u';  // 'u' relative uuid, 'i' inline, 'p' absolute path
  std::string_view path_or_inline_dv;
  std::optional<int32_t> offset;
  int32_t size_in_bytes = 0;
  int64_t cardinality = 0;
  std::string_view unique_id;  // storage_type + path_or_inline_dv (+ "@" + offset)
};

/// A logical file of the snapshot: a live data file (add) or a tombstone (remove). All views point into arenas owned
/// by the snapshot and stay valid as long as the snapshot does.
struct FileEntry {
  /// Percent-decoded path: relative to the table root, or absolute ("/x" for file: URIs, other schemes as written).
  std::string_view path;
  std::span<const PartitionValueRef> partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;
  std::string_view stats;  // JSON statistics; empty when absent
  const DeletionVectorRef* deletion_vector = nullptr;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  int64_t deletion_timestamp = 0;  // tombstones only
  int64_t version = 0;             // version of the commit (or checkpoint) that wrote this entry
  bool data_change = true;
  /// Returns the partition value for `name`: nullopt when the file has no such key, "" + is_null for null.
  const PartitionValueRef* FindPartitionValue(std::string_view name) const;
};

enum class ColumnMappingMode { kNone, kName, kId };

/// The file index of a snapshot, shared (immutable) by every snapshot refreshed from it: every logical file key
/// (live or tombstone) in first-appearance order plus an open-addressing hash index. Filled by the log replay.
struct FileTable {
  static constexpr uint64_t kEmptySlot = ~uint64_t{0};
  LargeVector<FileEntry> entries;
  LargeVector<uint8_t> live;    // 1 = active file, 0 = tombstone; parallel to entries
  LargeVector<uint64_t> slots;  // (hash >> 32) << 32 | entry index, kEmptySlot when free; size is a power of 2
  size_t num_live = 0;
  std::vector<StringArenaPtr> arenas;  // own every view in the entries
};

/// The changes of a snapshot relative to its FileTable (a few commits): entries of keys that are new (appended
/// after the table's, in first-appearance order) or that replace a table entry in place. Compacted into a new
/// FileTable by the replay when it grows, so refreshing costs O(new commits + overlay) instead of O(files).
struct FileOverlay {
  static constexpr uint32_t kNewKey = 0xffffffffu;
  LargeVector<FileEntry> entries;
  LargeVector<uint8_t> live;
  LargeVector<uint32_t> base_index;  // index of the replaced FileTable entry, or kNewKey
  LargeVector<uint64_t> slots;       // same layout as FileTable::slots, indexing `entries`
  std::vector<StringArenaPtr> arenas;
};

/// Immutable table state at one version. Share it as SnapshotPtr; safe for concurrent readers.
class Snapshot {
 public:
  /// Everything a snapshot consists of; filled by the log replay.
  struct Parts {
    std::string table_root;  // store key prefix of the table ("" or "dir/")
    int64_t version = -1;
    ProtocolAction protocol;
    MetadataAction metadata;
    Schema schema;
    std::vector<FileEntry> active_files;
    std::vector<FileEntry> tombstones;
    std::map<std::string, TxnAction, std::less<>> app_transactions;
    std::map<std::string, DomainMetadataAction, std::less<>> domain_metadata;  // live domains only
    int64_t timestamp = 0;  // commit timestamp of `version`: in-commit timestamp when enabled, else file mtime
    std::optional<int64_t> in_commit_timestamp;
    std::optional<int64_t> checkpoint_version;  // checkpoint the replay started from
    std::vector<StringArenaPtr> arenas;         // own every view in active_files/tombstones (without file_table)
    /// When set (log replay), the files are file_table + file_overlay and active_files/tombstones above are
    /// left empty here and materialised on first use.
    std::shared_ptr<const FileTable> file_table;
    std::shared_ptr<const FileOverlay> file_overlay;  // nullable: no changes on top of file_table
  };

  explicit Snapshot(Parts parts);
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  int64_t version() const { return parts_.version; }
  const std::string& table_root() const { return parts_.table_root; }
  const ProtocolAction& protocol() const { return parts_.protocol; }
  const MetadataAction& metadata() const { return parts_.metadata; }
  const Schema& schema() const { return parts_.schema; }
  const std::vector<std::string>& partition_columns() const { return parts_.metadata.partition_columns; }
  /// Returns metadata.configuration[key] or nullopt.
  std::optional<std::string> Configuration(std::string_view key) const;
  ColumnMappingMode column_mapping_mode() const;

  /// Live files in log order (first appearance). A refreshed snapshot builds this list on the first call (O(files),
  /// thread-safe); a fully loaded one without tombstones returns its file table directly.
  std::span<const FileEntry> active_files() const;
  /// Removes whose file is not live (kept for VACUUM; retention is not applied here).
  std::span<const FileEntry> tombstones() const;
  int64_t num_active_files() const { return num_active_; }
  /// Sum of sizes of the live files.
  int64_t TotalActiveBytes() const;

  /// Latest txn version for an application id (idempotent writes), or nullopt.
  std::optional<int64_t> AppTransactionVersion(std::string_view app_id) const;
  const std::map<std::string, TxnAction, std::less<>>& app_transactions() const { return parts_.app_transactions; }
  const std::map<std::string, DomainMetadataAction, std::less<>>& domain_metadata() const {
    return parts_.domain_metadata;
  }
  int64_t timestamp() const { return parts_.timestamp; }
  std::optional<int64_t> in_commit_timestamp() const { return parts_.in_commit_timestamp; }
  std::optional<int64_t> checkpoint_version() const { return parts_.checkpoint_version; }
  /// The shared file index (nullptr for snapshots built from explicit file lists) and the changes layered on it.
  const std::shared_ptr<const FileTable>& file_table() const { return parts_.file_table; }
  const std::shared_ptr<const FileOverlay>& file_overlay() const { return parts_.file_overlay; }
  /// The internal parts (for incremental refresh and tests); materialises the file lists first.
  const Parts& parts() const;

 private:
  void Materialize() const;

  mutable Parts parts_;  // the file lists are filled by parts() only (under parts_once_)
  // Built lazily (under materialize_once_) from the file table and overlay when they cannot be used as is.
  mutable LargeVector<FileEntry> active_;
  mutable LargeVector<FileEntry> tombstones_;
  mutable std::once_flag materialize_once_;
  mutable std::once_flag parts_once_;  // parts() copies the lists into parts_ for old callers
  bool needs_materialize_ = false;
  std::span<const FileEntry> active_view_;  // when the file table is used as is
  int64_t num_active_ = 0;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace tarn::delta
