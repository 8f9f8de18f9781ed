// SPDX-License-Identifier: Apache-2.0
// DeltaLog: log listing, forward log replay into Snapshots, checkpoints (classic, multi-part, V2 + sidecars),
// time travel and incremental refresh.
#include "tarn/delta/delta_log.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "tarn/base/logging.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::delta {
namespace {

constexpr uint32_t kNotFound = 0xffffffffu;
constexpr uint64_t kEmptySlot = FileTable::kEmptySlot;
// A JSON add/remove line is rarely shorter than this; used to pre-size the replay state from a commit's size.
constexpr size_t kMinBytesPerFileAction = 128;
// First arena block of an incremental refresh (blocks double from there): small commits stay small.
constexpr size_t kRefreshArenaBlock = 512;
// Spare capacity for the actions of the next commits when an incremental replay copies the base's overlay.
constexpr size_t kRefreshSpareActions = 16;

std::string_view DvId(const FileEntry& entry) {
  return entry.deletion_vector ? entry.deletion_vector->unique_id : std::string_view();
}

uint64_t HashKey(std::string_view path, std::string_view dv_id) {
  uint64_t h = std::hash<std::string_view>()(path);
  if (!dv_id.empty()) h ^= std::hash<std::string_view>()(dv_id) * 0x9e3779b97f4a7c15ull;
  return h;
}

uint64_t HashEntry(const FileEntry& entry) { return HashKey(entry.path, DvId(entry)); }

// Open-addressing lookup in a FileTable/FileOverlay slot array: the high hash bits in each slot skip most entries
// without touching them.
uint32_t FindSlot(const LargeVector<uint64_t>& slots, const LargeVector<FileEntry>& entries, uint64_t hash,
                  std::string_view path, std::string_view dv_id) {
  if (slots.empty()) return kNotFound;
  size_t mask = slots.size() - 1;
  uint64_t tag = hash >> 32;
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    uint64_t value = slots[slot];
    if (value == kEmptySlot) return kNotFound;
    if ((value >> 32) == tag) {
      uint32_t index = static_cast<uint32_t>(value);
      const FileEntry& entry = entries[index];
      if (entry.path == path && DvId(entry) == dv_id) return index;
    }
  }
}

void InsertSlot(LargeVector<uint64_t>& slots, uint64_t hash, uint32_t index) {
  size_t mask = slots.size() - 1;
  size_t slot = hash & mask;
  while (slots[slot] != kEmptySlot) slot = (slot + 1) & mask;
  slots[slot] = ((hash >> 32) << 32) | index;
}

void RebuildSlots(LargeVector<uint64_t>& slots, const LargeVector<FileEntry>& entries, size_t min_slots) {
  size_t size = 16;
  while (size < min_slots) size <<= 1;
  slots.assign(size, kEmptySlot);
  for (uint32_t i = 0; i < entries.size(); ++i) InsertSlot(slots, HashEntry(entries[i]), i);
}

// An overlay larger than this is folded into a new FileTable: refreshes copy the overlay (O(overlay)), compaction
// copies the table (O(files)); about sqrt(files) balances the two.
size_t CompactionThreshold(size_t table_size) {
  return std::max<size_t>(1024, 4 * static_cast<size_t>(std::sqrt(static_cast<double>(table_size))));
}

// Mutable state of a log replay: applies actions in log order (checkpoint rows first, then commits ascending), keyed
// by (path, deletion vector id); the newest action for a key wins. An incremental replay layers its changes on the
// base snapshot's shared FileTable (in top_) instead of copying it.
class ReplayState final : public ActionVisitor {
 public:
  ReplayState(std::string label, std::optional<std::string> local_root, bool skip_file_actions,
              size_t arena_block = 0)
      : label_(std::move(label)),
        local_root_(std::move(local_root)),
        skip_file_actions_(skip_file_actions),
        arena_(std::make_shared<StringArena>(arena_block)) {}

  // Starts from an existing snapshot (incremental refresh): shares its file table, copies only its overlay.
  void InitializeFrom(const Snapshot& base) {
    protocol_ = base.protocol();
    metadata_ = base.metadata();
    txns_ = base.app_transactions();
    domains_ = base.domain_metadata();
    checkpoint_version_ = base.checkpoint_version();
    base_schema_ = &base.schema();
    base_schema_string_ = &base.metadata().schema_string;
    if (base.file_table() != nullptr) {
      base_ = base.file_table();
      if (base.file_overlay() != nullptr) {
        // Copy into vectors with room for a small commit's actions: copying with capacity == size would make the
        // first new action reallocate (and copy) every vector again.
        const FileOverlay& overlay = *base.file_overlay();
        const size_t room = overlay.entries.size() + kRefreshSpareActions;
        top_.entries.reserve(room);
        top_.entries.assign(overlay.entries.begin(), overlay.entries.end());
        top_.live.reserve(room);
        top_.live.assign(overlay.live.begin(), overlay.live.end());
        top_.base_index.reserve(room);
        top_.base_index.assign(overlay.base_index.begin(), overlay.base_index.end());
        top_.slots = overlay.slots;
        top_.arenas.reserve(overlay.arenas.size() + 1);
        top_.arenas.assign(overlay.arenas.begin(), overlay.arenas.end());
      }
      return;
    }
    // A snapshot assembled from explicit file lists: index them once.
    const Snapshot::Parts& parts = base.parts();
    top_.arenas = parts.arenas;
    top_.entries.reserve(parts.active_files.size() + parts.tombstones.size());
    top_.entries.insert(top_.entries.end(), parts.active_files.begin(), parts.active_files.end());
    top_.live.assign(parts.active_files.size(), 1);
    top_.entries.insert(top_.entries.end(), parts.tombstones.begin(), parts.tombstones.end());
    top_.live.resize(top_.entries.size(), 0);
    top_.base_index.assign(top_.entries.size(), FileOverlay::kNewKey);
    RebuildSlots(top_.slots, top_.entries, top_.entries.size() * 2 + 16);
  }

  // Makes room for about `num_actions` more file actions (capacity only: untouched pages cost no memory).
  void Reserve(size_t num_actions) {
    size_t wanted = top_.entries.size() + num_actions;
    if (wanted <= top_.entries.capacity()) return;
    top_.entries.reserve(wanted);
    top_.live.reserve(wanted);
    top_.base_index.reserve(wanted);
    if (wanted * 2 > top_.slots.size()) RebuildSlots(top_.slots, top_.entries, wanted * 2);
  }

  void BeginFile(int64_t version) {
    version_ = version;
    commit_in_commit_timestamp_.reset();
  }
  void set_checkpoint_version(std::optional<int64_t> version) { checkpoint_version_ = version; }
  std::optional<int64_t> commit_in_commit_timestamp() const { return commit_in_commit_timestamp_; }
  const std::optional<MetadataAction>& metadata() const { return metadata_; }

  Status OnProtocol(const ProtocolAction& protocol) override {
    if (prepare_only_) return Defer(protocol);
    protocol_ = protocol;
    return Status::OK();
  }
  Status OnMetadata(const MetadataAction& metadata) override {
    if (prepare_only_) return Defer(metadata);
    metadata_ = metadata;
    return Status::OK();
  }
  Status OnTxn(const TxnAction& txn) override {
    if (prepare_only_) return Defer(txn);
    txns_[txn.app_id] = txn;
    return Status::OK();
  }
  Status OnDomainMetadata(const DomainMetadataAction& domain) override {
    if (prepare_only_) return Defer(domain);
    if (domain.removed) {
      auto it = domains_.find(domain.domain);
      if (it != domains_.end()) domains_.erase(it);
    } else {
      domains_[domain.domain] = domain;
    }
    return Status::OK();
  }
  Status OnCommitInfo(const CommitInfoAction& info) override {
    if (prepare_only_) return Defer(info);
    if (info.in_commit_timestamp) commit_in_commit_timestamp_ = info.in_commit_timestamp;
    return Status::OK();
  }

  Status OnAdd(const AddAction& add) override {
    if (skip_file_actions_) return Status::OK();
    if (prepare_only_) return PrepareAdd(add);
    std::string_view dv_id;
    TARN_ASSIGN_OR_RETURN(Lookup found, FindFileAction(add.path, add.deletion_vector, dv_id));
    FileEntry entry;
    if (found.existing != nullptr) {
      entry.path = found.existing->path;
      entry.deletion_vector = found.existing->deletion_vector;
    } else {
      entry.path = arena_->Copy(path_buffer_);
      if (add.deletion_vector) entry.deletion_vector = CopyDeletionVector(*add.deletion_vector, dv_id);
    }
    entry.partition_values = CopyPartitionValues(add.partition_values);
    entry.size = add.size;
    entry.modification_time = add.modification_time;
    if (add.stats) entry.stats = arena_->Copy(*add.stats);
    entry.base_row_id = add.base_row_id;
    entry.default_row_commit_version = add.default_row_commit_version;
    entry.version = version_;
    entry.data_change = add.data_change;
    Store(found, entry, /*live=*/true);
    return Status::OK();
  }

  Status OnRemove(const RemoveAction& remove) override {
    if (skip_file_actions_) return Status::OK();
    if (prepare_only_) return PrepareRemove(remove);
    std::string_view dv_id;
    TARN_ASSIGN_OR_RETURN(Lookup found, FindFileAction(remove.path, remove.deletion_vector, dv_id));
    FileEntry entry;
    if (found.existing != nullptr) {
      entry = *found.existing;
      entry.stats = {};
    } else {
      entry.path = arena_->Copy(path_buffer_);
      if (remove.deletion_vector) entry.deletion_vector = CopyDeletionVector(*remove.deletion_vector, dv_id);
      entry.partition_values = CopyPartitionValues(remove.partition_values);
    }
    if (remove.size) entry.size = *remove.size;
    entry.deletion_timestamp = remove.deletion_timestamp.value_or(0);
    entry.data_change = remove.data_change;
    entry.version = version_;
    Store(found, entry, /*live=*/false);
    return Status::OK();
  }

  // Prepare mode, for a parse-ahead thread: file actions are canonicalised, hashed and copied into this state's arena
  // and queued instead of applied; other actions are queued as values. The replaying state applies them in order
  // with ApplyPrepared (lookups and stores stay on one thread).
  struct Prepared {
    FileEntry entry;
    uint64_t hash = 0;
    bool is_add = true;
    bool has_size = false;  // removes: the action carried a size
  };
  // `buffer`: a cleared vector to fill (recycled between pieces, so its pages are already mapped).
  void set_prepare_only(std::vector<Prepared> buffer) {
    prepare_only_ = true;
    prepared_ = std::move(buffer);
  }
  // Hands the (applied) prepared buffer back for reuse.
  std::vector<Prepared> TakePreparedBuffer() {
    prepared_.clear();
    return std::move(prepared_);
  }

  Status ApplyPrepared(ReplayState& chunk) {
    for (Prepared& item : chunk.prepared_) {
      Lookup found = Find(item.hash, item.entry.path, DvId(item.entry));
      if (item.is_add) {
        if (found.existing != nullptr) {  // share the first copy of the key's strings
          item.entry.path = found.existing->path;
          item.entry.deletion_vector = found.existing->deletion_vector;
        }
        Store(found, item.entry, /*live=*/true);
        continue;
      }
      FileEntry entry;
      if (found.existing != nullptr) {
        entry = *found.existing;
        entry.stats = {};
        if (item.has_size) entry.size = item.entry.size;
        entry.deletion_timestamp = item.entry.deletion_timestamp;
        entry.data_change = item.entry.data_change;
        entry.version = item.entry.version;
      } else {
        entry = item.entry;
      }
      Store(found, entry, /*live=*/false);
    }
    for (const Action& action : chunk.deferred_) {
      Status st = std::visit(
          [this](const auto& a) -> Status {
            using T = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<T, ProtocolAction>) return OnProtocol(a);
            if constexpr (std::is_same_v<T, MetadataAction>) return OnMetadata(a);
            if constexpr (std::is_same_v<T, TxnAction>) return OnTxn(a);
            if constexpr (std::is_same_v<T, DomainMetadataAction>) return OnDomainMetadata(a);
            if constexpr (std::is_same_v<T, CommitInfoAction>) return OnCommitInfo(a);
            return Status::OK();
          },
          action);
      TARN_RETURN_IF_ERROR(st);
    }
    if (chunk.arena_->bytes_used() > 0) top_.arenas.push_back(std::move(chunk.arena_));
    return Status::OK();
  }

  // Validates and freezes the state into a snapshot.
  Result<SnapshotPtr> Finish(const std::string& table_root, int64_t version, int64_t timestamp,
                             std::optional<int64_t> in_commit_timestamp, const std::set<std::string>& supported) {
    if (!protocol_) {
      return Error(ErrorCode::kCorruptData, "{} version {}: the log has no protocol action", label_, version);
    }
    if (!metadata_) {
      return Error(ErrorCode::kCorruptData, "{} version {}: the log has no metaData action", label_, version);
    }
    Status protocol_status = ValidateReaderProtocol(*protocol_, supported);
    if (!protocol_status.ok()) return protocol_status.WithContext("{} version {}", label_, version);
    // Some old log-only fixtures carry a metaData without schemaString; read them as a table without columns.
    // A refresh whose commits kept the schema reuses the parsed one (parsing a wide schema costs more than a commit).
    auto schema = base_schema_ != nullptr && *base_schema_string_ == metadata_->schema_string
                      ? Result<Schema>(*base_schema_)
                  : metadata_->schema_string.empty() ? Result<Schema>(Schema())
                                                     : ParseSchema(metadata_->schema_string);
    if (!schema.has_value()) return schema.status().WithContext("{} version {}: schemaString", label_, version);
    for (const std::string& column : metadata_->partition_columns) {
      if (schema->FindField(column) == nullptr) {
        return Error(ErrorCode::kCorruptData, "{} version {}: partition column {} is not in the schema", label_,
                     version, column);
      }
    }
    Snapshot::Parts parts;
    parts.table_root = table_root;
    parts.version = version;
    parts.protocol = std::move(*protocol_);
    parts.metadata = std::move(*metadata_);
    parts.schema = std::move(schema).value();
    if (arena_->bytes_used() > 0) top_.arenas.push_back(std::move(arena_));
    if (base_ == nullptr || top_.entries.size() > CompactionThreshold(base_->entries.size())) {
      parts.file_table = Compact();
    } else {
      parts.file_table = base_;
      if (!top_.entries.empty()) parts.file_overlay = std::make_shared<const FileOverlay>(std::move(top_));
    }
    parts.app_transactions = std::move(txns_);
    parts.domain_metadata = std::move(domains_);
    parts.timestamp = timestamp;
    parts.in_commit_timestamp = in_commit_timestamp;
    parts.checkpoint_version = checkpoint_version_;
    return std::make_shared<const Snapshot>(std::move(parts));
  }

 private:
  template <typename T>
  Status Defer(const T& action) {
    deferred_.emplace_back(action);
    return Status::OK();
  }

  Status PrepareAdd(const AddAction& add) {
    TARN_RETURN_IF_ERROR(Canonicalize(add.path));
    Prepared item;
    FileEntry& entry = item.entry;
    entry.path = arena_->Copy(path_buffer_);
    if (add.deletion_vector) entry.deletion_vector = CopyDeletionVector(*add.deletion_vector, add.deletion_vector->UniqueId());
    entry.partition_values = CopyPartitionValues(add.partition_values);
    entry.size = add.size;
    entry.modification_time = add.modification_time;
    if (add.stats) entry.stats = arena_->Copy(*add.stats);
    entry.base_row_id = add.base_row_id;
    entry.default_row_commit_version = add.default_row_commit_version;
    entry.version = version_;
    entry.data_change = add.data_change;
    item.hash = HashEntry(entry);
    prepared_.push_back(item);
    return Status::OK();
  }

  Status PrepareRemove(const RemoveAction& remove) {
    TARN_RETURN_IF_ERROR(Canonicalize(remove.path));
    Prepared item;
    item.is_add = false;
    FileEntry& entry = item.entry;
    entry.path = arena_->Copy(path_buffer_);
    if (remove.deletion_vector) {
      entry.deletion_vector = CopyDeletionVector(*remove.deletion_vector, remove.deletion_vector->UniqueId());
    }
    entry.partition_values = CopyPartitionValues(remove.partition_values);
    item.has_size = remove.size.has_value();
    entry.size = remove.size.value_or(0);
    entry.deletion_timestamp = remove.deletion_timestamp.value_or(0);
    entry.data_change = remove.data_change;
    entry.version = version_;
    item.hash = HashEntry(entry);
    prepared_.push_back(item);
    return Status::OK();
  }

  struct Lookup {
    uint64_t hash = 0;
    uint32_t top_index = kNotFound;   // entry in top_
    uint32_t base_index = kNotFound;  // entry in base_ (only looked up when not in top_)
    const FileEntry* existing = nullptr;
  };

  // Canonicalises an add's or remove's path into path_buffer_ and looks up its (path, DV id) key; `dv_id` views
  // dv_id_buffer_ and stays valid until the next action.
  Result<Lookup> FindFileAction(std::string_view raw_path, const std::optional<DeletionVectorDescriptor>& dv,
                                std::string_view& dv_id) {
    TARN_RETURN_IF_ERROR(Canonicalize(raw_path));
    dv_id = {};
    if (dv) {
      dv_id_buffer_ = dv->UniqueId();
      dv_id = dv_id_buffer_;
    }
    return Find(HashKey(path_buffer_, dv_id), path_buffer_, dv_id);
  }

  Lookup Find(uint64_t hash, std::string_view path, std::string_view dv_id) const {
    Lookup found;
    found.hash = hash;
    found.top_index = FindSlot(top_.slots, top_.entries, found.hash, path, dv_id);
    if (found.top_index != kNotFound) {
      found.existing = &top_.entries[found.top_index];
    } else if (base_ != nullptr) {
      found.base_index = FindSlot(base_->slots, base_->entries, found.hash, path, dv_id);
      if (found.base_index != kNotFound) found.existing = &base_->entries[found.base_index];
    }
    return found;
  }

  void Store(const Lookup& found, const FileEntry& entry, bool live) {
    if (found.top_index != kNotFound) {
      top_.entries[found.top_index] = entry;
      top_.live[found.top_index] = live ? 1 : 0;
      return;
    }
    top_.entries.push_back(entry);
    top_.live.push_back(live ? 1 : 0);
    top_.base_index.push_back(found.base_index == kNotFound ? FileOverlay::kNewKey : found.base_index);
    if (top_.entries.size() * 2 > top_.slots.size()) {
      RebuildSlots(top_.slots, top_.entries, top_.entries.size() * 4);
    } else {
      InsertSlot(top_.slots, found.hash, static_cast<uint32_t>(top_.entries.size() - 1));
    }
  }

  // Folds top_ into a new FileTable (or turns it into one when there is no base).
  std::shared_ptr<const FileTable> Compact() {
    auto table = std::make_shared<FileTable>();
    if (base_ == nullptr) {
      table->entries = std::move(top_.entries);
      table->live = std::move(top_.live);
      table->slots = std::move(top_.slots);
      if (table->slots.empty()) RebuildSlots(table->slots, table->entries, 16);
      table->arenas = std::move(top_.arenas);
    } else {
      const FileTable& base = *base_;
      size_t num_new = 0;
      for (uint32_t index : top_.base_index) num_new += index == FileOverlay::kNewKey ? 1 : 0;
      size_t total = base.entries.size() + num_new;
      table->entries.reserve(total);
      table->entries = base.entries;
      table->live = base.live;
      table->arenas = base.arenas;
      table->arenas.insert(table->arenas.end(), top_.arenas.begin(), top_.arenas.end());
      bool reuse_slots = total * 2 <= base.slots.size();
      if (reuse_slots) table->slots = base.slots;  // replaced keys keep their index; only new keys are inserted
      for (size_t i = 0; i < top_.entries.size(); ++i) {
        uint32_t target = top_.base_index[i];
        if (target == FileOverlay::kNewKey) {
          target = static_cast<uint32_t>(table->entries.size());
          table->entries.push_back(top_.entries[i]);
          table->live.push_back(top_.live[i]);
          if (reuse_slots) InsertSlot(table->slots, HashEntry(top_.entries[i]), target);
        } else {
          table->entries[target] = top_.entries[i];
          table->live[target] = top_.live[i];
        }
      }
      if (!reuse_slots) RebuildSlots(table->slots, table->entries, total * 2 + 16);
    }
    table->num_live = static_cast<size_t>(std::count(table->live.begin(), table->live.end(), 1));
    return table;
  }

  // Percent-decodes a log path into path_buffer_ and maps file: URIs (and absolute paths under the table root) to
  // their canonical form, so that file:/t/a, file:///t/a and /t/a are one file.
  Status Canonicalize(std::string_view raw) {
    if (raw.find('\0') != std::string_view::npos) {  // would truncate the path at the file system and in SQL
      return Error(ErrorCode::kCorruptData, "{} version {}: file path contains a NUL byte", label_, version_);
    }
    if (raw.find('%') != std::string_view::npos) {
      auto decoded = storage::PercentDecode(raw);
      if (!decoded.has_value()) {
        return decoded.status().WithContext("{} version {}: invalid file path", label_, version_);
      }
      path_buffer_ = std::move(decoded).value();
    } else {
      path_buffer_.assign(raw.data(), raw.size());
    }
    if (path_buffer_.starts_with("file:")) {
      std::string_view rest = std::string_view(path_buffer_).substr(5);
      if (rest.starts_with("//")) {
        size_t slash = rest.find('/', 2);
        rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
      }
      std::string stripped(rest);
      path_buffer_ = std::move(stripped);
    }
    if (local_root_ && path_buffer_.size() > local_root_->size() + 1 && path_buffer_.starts_with(*local_root_) &&
        path_buffer_[local_root_->size()] == '/') {
      path_buffer_.erase(0, local_root_->size() + 1);
    }
    return Status::OK();
  }

  std::span<const PartitionValueRef> CopyPartitionValues(const std::vector<MapEntry>& values) {
    if (values.empty()) return {};
    PartitionValueRef* refs = arena_->AllocateArray<PartitionValueRef>(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      new (&refs[i]) PartitionValueRef{InternName(values[i].key),
                                       values[i].value ? arena_->Copy(*values[i].value) : std::string_view(),
                                       !values[i].value.has_value()};
    }
    return {refs, values.size()};
  }

  // Partition column names repeat on every file: keep one copy each.
  std::string_view InternName(const std::string& name) {
    for (std::string_view known : names_) {
      if (known == name) return known;
    }
    std::string_view copy = arena_->Copy(name);
    if (names_.size() < 64) names_.push_back(copy);
    return copy;
  }

  const DeletionVectorRef* CopyDeletionVector(const DeletionVectorDescriptor& dv, std::string_view unique_id) {
    DeletionVectorRef* ref = arena_->AllocateArray<DeletionVectorRef>(1);
    new (ref) DeletionVectorRef{dv.storage_type.empty() ? 'u' : dv.storage_type[0], arena_->Copy(dv.path_or_inline_dv),
                                dv.offset, dv.size_in_bytes, dv.cardinality, arena_->Copy(unique_id)};
    return ref;
  }

  std::string label_;
  std::optional<std::string> local_root_;
  bool skip_file_actions_;
  std::shared_ptr<StringArena> arena_;
  std::shared_ptr<const FileTable> base_;  // shared, never modified; null for a full load
  FileOverlay top_;                        // everything this replay (and the base's overlay) changed
  std::vector<std::string_view> names_;
  std::optional<ProtocolAction> protocol_;
  std::optional<MetadataAction> metadata_;
  std::map<std::string, TxnAction, std::less<>> txns_;
  std::map<std::string, DomainMetadataAction, std::less<>> domains_;
  std::optional<int64_t> checkpoint_version_;
  const Schema* base_schema_ = nullptr;               // the base snapshot's (incremental refresh), which outlives us
  const std::string* base_schema_string_ = nullptr;
  int64_t version_ = 0;
  std::optional<int64_t> commit_in_commit_timestamp_;
  std::string path_buffer_;
  std::string dv_id_buffer_;
  bool prepare_only_ = false;
  std::vector<Prepared> prepared_;  // prepare mode
  std::vector<Action> deferred_;    // prepare mode
};

// Commits at least this large are read in pieces through one buffer: reading a whole 15 MB commit into a fresh string
// costs more in page faults and zero-filling than parsing it.
constexpr int64_t kChunkedReadMin = int64_t{8} << 20;
constexpr int64_t kReadChunk = int64_t{4} << 20;

// Feeds the actions of the commit `file` (listed with its size) to `visitor`, reading large ones in chunks split at
// line ends.
// `pending` is the caller's buffer (reused across commits, so its pages stay mapped).
Status ReadCommitActions(storage::ObjectStore& store, const LogFile& file, const std::string& source,
                         ActionVisitor& visitor, std::string& pending) {
  if (file.size < kChunkedReadMin) {
    auto content = store.Read(file.key);
    if (!content.has_value()) return content.status().WithContext("{}", source);
    return ReadJsonActions(*content, source, visitor);
  }
  // Complete lines are parsed from `pending`; an incomplete last line waits for the next chunk.
  pending.clear();
  pending.reserve(static_cast<size_t>(kReadChunk) * 2);
  int64_t offset = 0;
  int64_t line_number = 0;
  for (;;) {
    size_t before = pending.size();
    Status read = store.AppendRange(file.key, offset, kReadChunk, pending);
    if (!read.ok()) return read.WithContext("{}", source);
    int64_t got = static_cast<int64_t>(pending.size() - before);
    offset += got;
    bool at_end = got < kReadChunk;
    size_t cut = pending.size();
    if (!at_end) {
      size_t newline = pending.rfind('\n');
      cut = newline == std::string::npos ? 0 : newline + 1;
    }
    TARN_RETURN_IF_ERROR(ReadJsonActions(std::string_view(pending.data(), cut), source, visitor, line_number));
    pending.erase(0, cut);
    if (at_end) return Status::OK();
  }
}

// Forwards every action and collects the sidecar references of a V2 checkpoint.
class SidecarCollector final : public ActionVisitor {
 public:
  explicit SidecarCollector(ActionVisitor& target) : target_(target) {}
  Status OnProtocol(const ProtocolAction& a) override { return target_.OnProtocol(a); }
  Status OnMetadata(const MetadataAction& a) override { return target_.OnMetadata(a); }
  Status OnAdd(const AddAction& a) override { return target_.OnAdd(a); }
  Status OnRemove(const RemoveAction& a) override { return target_.OnRemove(a); }
  Status OnTxn(const TxnAction& a) override { return target_.OnTxn(a); }
  Status OnDomainMetadata(const DomainMetadataAction& a) override { return target_.OnDomainMetadata(a); }
  Status OnCheckpointMetadata(const CheckpointMetadataAction& a) override { return target_.OnCheckpointMetadata(a); }
  Status OnSidecar(const SidecarAction& a) override {
    sidecars_.push_back(a);
    return Status::OK();
  }
  const std::vector<SidecarAction>& sidecars() const { return sidecars_; }

 private:
  ActionVisitor& target_;
  std::vector<SidecarAction> sidecars_;
};

// One line-aligned piece of a commit, parsed ahead in prepare mode.
struct ParsedPiece {
  size_t commit_index = 0;
  bool last_of_commit = false;
  std::unique_ptr<ReplayState> parsed;
  Status status;
};

// Bounded hand-over between the parse-ahead thread and the replaying thread.
class PieceQueue {
 public:
  using Buffer = std::vector<ReplayState::Prepared>;
  // Returns a recycled buffer (or a new one) with room for about `actions` entries.
  Buffer TakeBuffer(size_t actions) {
    Buffer buffer;
    {
      std::lock_guard lock(mu_);
      if (!spare_.empty()) {
        buffer = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    buffer.reserve(actions);
    return buffer;
  }
  void ReturnBuffer(Buffer buffer) {
    std::lock_guard lock(mu_);
    spare_.push_back(std::move(buffer));
  }
  // Blocks while the queue is full; false when the consumer cancelled.
  bool Push(ParsedPiece piece) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return cancelled_ || pieces_.size() < kCapacity; });
    if (cancelled_) return false;
    pieces_.push_back(std::move(piece));
    cv_.notify_all();
    return true;
  }
  ParsedPiece Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !pieces_.empty(); });
    ParsedPiece piece = std::move(pieces_.front());
    pieces_.pop_front();
    cv_.notify_all();
    return piece;
  }
  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  static constexpr size_t kCapacity = 2;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ParsedPiece> pieces_;
  std::vector<Buffer> spare_;
  bool cancelled_ = false;
};

// Parses `commits` into pieces on the calling thread (the parse-ahead thread) and pushes them, stopping after the first
// error (which is pushed as a piece) or when the consumer cancels.
void ParseAhead(storage::ObjectStore& store, const std::vector<const LogFile*>& commits, const std::string& label,
                const std::optional<std::string>& local_root, PieceQueue& queue) {
  for (size_t index = 0; index < commits.size(); ++index) {
    const LogFile& commit = *commits[index];
    std::string source = fmt::format("{} version {} file {}", label, commit.version, commit.key);
    int64_t line_number = 0;
    auto parse = [&](std::string_view text, bool last) {
      size_t block = std::clamp<size_t>(text.size(), 4096, static_cast<size_t>(kReadChunk));
      auto parsed = std::make_unique<ReplayState>(label, local_root, false, block);
      parsed->set_prepare_only(queue.TakeBuffer(text.size() / kMinBytesPerFileAction + 16));
      parsed->BeginFile(commit.version);
      Status st = ReadJsonActions(text, source, *parsed, line_number);
      bool ok = st.ok();
      return queue.Push(ParsedPiece{index, last, std::move(parsed), std::move(st)}) && ok;
    };
    auto fail = [&](Status st) { queue.Push(ParsedPiece{index, true, nullptr, std::move(st)}); };
    if (commit.size < kChunkedReadMin) {
      auto content = store.Read(commit.key);
      if (!content.has_value()) return fail(content.status().WithContext("{}", source));
      if (!parse(*content, true)) return;
      continue;
    }
    std::string pending;
    pending.reserve(static_cast<size_t>(kReadChunk) * 2);
    int64_t offset = 0;
    for (;;) {
      size_t before = pending.size();
      Status read = store.AppendRange(commit.key, offset, kReadChunk, pending);
      if (!read.ok()) return fail(read.WithContext("{}", source));
      int64_t got = static_cast<int64_t>(pending.size() - before);
      offset += got;
      bool at_end = got < kReadChunk;
      size_t cut = pending.size();
      if (!at_end) {
        size_t newline = pending.rfind('\n');
        cut = newline == std::string::npos ? 0 : newline + 1;
      }
      if (!parse(std::string_view(pending.data(), cut), at_end)) return;
      pending.erase(0, cut);
      if (at_end) break;
    }
  }
}

bool IsTrue(const std::map<std::string, std::string>& configuration, const std::string& key) {
  auto it = configuration.find(key);
  return it != configuration.end() && (it->second == "true" || it->second == "TRUE" || it->second == "True");
}

}  // namespace

DeltaLog::DeltaLog(storage::ObjectStore& store, std::string table_root, DeltaLogOptions options)
    : store_(store), options_(std::move(options)) {
  while (!table_root.empty() && table_root.front() == '/') table_root.erase(0, 1);
  if (!table_root.empty() && table_root.back() != '/') table_root += '/';
  table_root_ = std::move(table_root);
  log_prefix_ = table_root_ + "_delta_log/";
  label_ = "table " + (options_.table_name.empty() ? (table_root_.empty() ? std::string("<root>") : table_root_)
                                                    : options_.table_name);
  auto local = store_.LocalPath(table_root_.empty() ? "." : table_root_);
  if (!table_root_.empty() && local) local_root_ = *local;
  if (table_root_.empty()) {
    auto probe = store_.LocalPath("_delta_log");
    if (probe && probe->size() > 11) local_root_ = probe->substr(0, probe->size() - 11);
  }
}

Result<std::vector<LogFile>> DeltaLog::ListLogFiles(const std::string& start_after) {
  storage::ListOptions list_options;
  list_options.start_after = start_after;
  list_options.recursive = false;
  auto listed = store_.List(log_prefix_, list_options);
  if (!listed.has_value()) return listed.status().WithContext("{}: listing {}", label_, log_prefix_);
  std::vector<LogFile> files;
  files.reserve(listed->size());
  for (const storage::ObjectInfo& info : *listed) {
    if (auto file = ParseLogFileName(info)) files.push_back(std::move(*file));
  }
  return files;
}

Result<LogSegment> DeltaLog::ListSegment(std::optional<int64_t> version) {
  SegmentOptions segment_options;
  segment_options.use_parquet_checkpoints = options_.checkpoint_reader != nullptr;
  segment_options.table_label = label_.substr(6);
  // _last_checkpoint is a hint: use it to list only from the checkpoint on, and fall back to a full listing when it
  // is missing, corrupt, stale or points at a checkpoint we cannot use.
  auto hint_content = store_.Read(log_prefix_ + "_last_checkpoint");
  std::optional<LastCheckpointHint> hint;
  if (hint_content.has_value()) {
    hint = ParseLastCheckpoint(*hint_content);
    if (!hint) TARN_LOG_WARN("{}: ignoring corrupt _delta_log/_last_checkpoint", label_);
  }
  if (hint && (!version || *version >= hint->version)) {
    TARN_ASSIGN_OR_RETURN(std::vector<LogFile> files, ListLogFiles(log_prefix_ + VersionStem(hint->version)));
    auto segment = BuildLogSegment(std::move(files), version, segment_options);
    if (segment.has_value() && segment->checkpoint_version == hint->version) return segment;
  }
  TARN_ASSIGN_OR_RETURN(std::vector<LogFile> files, ListLogFiles(""));
  if (files.empty()) {
    return Error(ErrorCode::kTableNotFound, "{}: no Delta log found at {}", label_, log_prefix_);
  }
  return BuildLogSegment(std::move(files), version, segment_options);
}

Result<SnapshotPtr> DeltaLog::Replay(const LogSegment& segment, const Snapshot* base, bool skip_file_actions,
                                     std::string_view last_commit_content) {
  ReplayState state(label_, local_root_, skip_file_actions, base != nullptr ? kRefreshArenaBlock : 0);
  int64_t timestamp = 0;
  if (base != nullptr) {
    state.InitializeFrom(*base);
    timestamp = base->timestamp();
  } else if (!segment.checkpoint_files.empty()) {
    int64_t checkpoint_version = *segment.checkpoint_version;
    state.set_checkpoint_version(checkpoint_version);
    state.BeginFile(checkpoint_version);
    SidecarCollector collector(state);
    CheckpointReadRequest request;
    request.include_file_actions = !skip_file_actions;
    for (const LogFile& file : segment.checkpoint_files) {
      timestamp = file.modification_time;
      std::string source = fmt::format("{} checkpoint version {} file {}", label_, checkpoint_version, file.key);
      if (file.is_json) {
        auto content = store_.Read(file.key);
        if (!content.has_value()) return content.status().WithContext("{}", source);
        TARN_RETURN_IF_ERROR(ReadJsonActions(*content, source, collector));
      } else {
        if (options_.checkpoint_reader == nullptr) {
          return Error(ErrorCode::kFeatureNotSupported, "{}: reading Parquet checkpoints needs a checkpoint reader",
                       source);
        }
        Status st = options_.checkpoint_reader->ReadCheckpointActions(store_, file.key, request, collector);
        if (!st.ok()) return st.WithContext("{}", source);
      }
    }
    for (const SidecarAction& sidecar : collector.sidecars()) {
      if (skip_file_actions) break;  // sidecars hold only add and remove actions
      auto decoded = storage::PercentDecode(sidecar.path);
      if (!decoded.has_value()) return decoded.status().WithContext("{}: sidecar path", label_);
      std::string name = *decoded;
      if (size_t slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
      std::string key = log_prefix_ + "_sidecars/" + name;
      std::string source = fmt::format("{} checkpoint version {} sidecar {}", label_, checkpoint_version, key);
      if (options_.checkpoint_reader == nullptr) {
        return Error(ErrorCode::kFeatureNotSupported, "{}: reading Parquet sidecars needs a checkpoint reader", source);
      }
      Status st = options_.checkpoint_reader->ReadCheckpointActions(store_, key, request, state);
      if (!st.ok()) return st.WithContext("{}", source);
    }
  }
  std::optional<int64_t> in_commit_timestamp = base ? base->in_commit_timestamp() : std::nullopt;
  if (!skip_file_actions) {
    // One reservation for all commits (listed sizes): growing per commit would copy the entries each time.
    size_t listed_bytes = 0;
    for (const LogFile& commit : segment.commits) {
      if (base == nullptr || commit.version > base->version()) listed_bytes += static_cast<size_t>(commit.size);
    }
    state.Reserve(listed_bytes / kMinBytesPerFileAction);
  }
  std::string read_buffer;  // for commits read in pieces
  size_t replayed_bytes = 0;
  for (const LogFile& commit : segment.commits) replayed_bytes += static_cast<size_t>(std::max<int64_t>(0, commit.size));
  // Large full loads parse ahead on a second thread (JSON parsing, path canonicalisation, copying) while this thread
  // applies the parsed pieces in log order (lookups and stores).
  const bool parse_ahead = base == nullptr && !skip_file_actions && last_commit_content.empty() &&
                           !segment.commits.empty() && replayed_bytes >= options_.parse_ahead_min_bytes;
  if (parse_ahead) {
    std::vector<const LogFile*> commits;
    for (const LogFile& commit : segment.commits) commits.push_back(&commit);
    PieceQueue queue;
    std::thread parser([&] { ParseAhead(store_, commits, label_, local_root_, queue); });
    Status status;
    for (size_t index = 0; index < commits.size() && status.ok(); ++index) {
      state.BeginFile(commits[index]->version);
      state.Reserve(static_cast<size_t>(commits[index]->size) / kMinBytesPerFileAction);
      for (;;) {
        ParsedPiece piece = queue.Pop();
        if (!piece.status.ok()) {
          status = std::move(piece.status);
          break;
        }
        status = state.ApplyPrepared(*piece.parsed);
        queue.ReturnBuffer(piece.parsed->TakePreparedBuffer());
        if (!status.ok() || piece.last_of_commit) break;
      }
      timestamp = commits[index]->modification_time;
      in_commit_timestamp = state.commit_in_commit_timestamp();
    }
    queue.Cancel();
    parser.join();
    TARN_RETURN_IF_ERROR(status);
  }
  for (const LogFile& commit : segment.commits) {
    if (base != nullptr && commit.version <= base->version()) continue;
    if (parse_ahead) break;  // replayed above
    std::string source = fmt::format("{} version {} file {}", label_, commit.version, commit.key);
    state.BeginFile(commit.version);
    if (!skip_file_actions) state.Reserve(static_cast<size_t>(commit.size) / kMinBytesPerFileAction);
    if (!last_commit_content.empty() && &commit == &segment.commits.back()) {
      TARN_RETURN_IF_ERROR(ReadJsonActions(last_commit_content, source, state));
    } else {
      TARN_RETURN_IF_ERROR(ReadCommitActions(store_, commit, source, state, read_buffer));
    }
    timestamp = commit.modification_time;
    in_commit_timestamp = state.commit_in_commit_timestamp();
  }
  if (in_commit_timestamp && state.metadata() &&
      IsTrue(state.metadata()->configuration, "delta.enableInCommitTimestamps")) {
    timestamp = *in_commit_timestamp;
  }
  return state.Finish(table_root_, segment.version, timestamp, in_commit_timestamp,
                      options_.supported_reader_features);
}

Result<SnapshotPtr> DeltaLog::LoadLatest() {
  TARN_ASSIGN_OR_RETURN(LogSegment segment, ListSegment(std::nullopt));
  return Replay(segment, nullptr, false);
}

Result<SnapshotPtr> DeltaLog::LoadAtVersion(int64_t version) {
  TARN_ASSIGN_OR_RETURN(LogSegment segment, ListSegment(version));
  return Replay(segment, nullptr, false);
}

Result<SnapshotPtr> DeltaLog::Refresh(const SnapshotPtr& previous) {
  if (!previous) return LoadLatest();
  // Probe the next commit files by name: listing a log of thousands of files costs milliseconds, a stat microseconds.
  std::vector<LogFile> probed;
  for (int64_t version = previous->version() + 1;; ++version) {
    LogFile file;
    file.key = log_prefix_ + VersionStem(version) + ".json";
    auto info = store_.Stat(file.key);
    if (!info.has_value()) {
      if (info.status().code() != ErrorCode::kResourceDoesNotExist) {
        return info.status().WithContext("{}: probing {}", label_, file.key);
      }
      break;
    }
    file.version = version;
    file.size = info->size;
    file.modification_time = info->modification_time_millis;
    probed.push_back(std::move(file));
  }
  if (!probed.empty()) return ApplyCommits(previous, std::move(probed));
  // No next commit. Log cleanup deletes the oldest files first, so while our own commit is still there the next one
  // cannot have been cleaned up: nothing changed. Otherwise list the log.
  if (store_.Stat(log_prefix_ + VersionStem(previous->version()) + ".json").has_value()) return previous;
  // Everything named "<stem of previous>~" or later belongs to newer versions ('~' sorts after ".json", ".crc"...).
  TARN_ASSIGN_OR_RETURN(std::vector<LogFile> files, ListLogFiles(log_prefix_ + VersionStem(previous->version()) + "~"));
  LogSegment segment;
  segment.version = previous->version();
  std::map<int64_t, LogFile> commits;
  for (LogFile& file : files) {
    if (file.type == LogFileType::kCommit && file.version > previous->version()) commits[file.version] = file;
  }
  if (commits.empty()) return previous;
  int64_t expected = previous->version() + 1;
  for (auto& [version, file] : commits) {
    if (version != expected) return LoadLatest();  // a gap after our version: let the full load report it
    segment.commits.push_back(std::move(file));
    ++expected;
  }
  segment.version = expected - 1;
  segment.latest_version = segment.version;
  return Replay(segment, previous.get(), false);
}

Result<SnapshotPtr> DeltaLog::ApplyCommits(const SnapshotPtr& previous, std::vector<LogFile> commits,
                                           std::string_view last_commit_content) {
  if (!previous) return Error(ErrorCode::kInvalidParameterValue, "{}: ApplyCommits needs a base snapshot", label_);
  if (commits.empty()) return previous;
  LogSegment segment;
  int64_t expected = previous->version() + 1;
  for (const LogFile& file : commits) {
    if (file.type != LogFileType::kCommit || file.version != expected) {
      return Error(ErrorCode::kInvalidParameterValue, "{}: ApplyCommits expects commit {} next, got {}", label_,
                   expected, file.key);
    }
    ++expected;
  }
  segment.commits = std::move(commits);
  segment.version = expected - 1;
  segment.latest_version = segment.version;
  return Replay(segment, previous.get(), false, last_commit_content);
}

Result<std::optional<int64_t>> DeltaLog::ReadInCommitTimestamp(const LogFile& commit) {
  auto content = store_.Read(commit.key);
  if (!content.has_value()) return content.status().WithContext("{} version {}", label_, commit.version);
  std::string_view first_line = *content;
  first_line = first_line.substr(0, first_line.find('\n'));
  TARN_ASSIGN_OR_RETURN(std::vector<Action> actions,
                        ParseJsonActions(first_line, fmt::format("{} version {} file {}", label_, commit.version,
                                                                 commit.key)));
  for (const Action& action : actions) {
    if (const auto* info = std::get_if<CommitInfoAction>(&action)) return info->in_commit_timestamp;
  }
  return std::optional<int64_t>();
}

Result<std::vector<std::pair<int64_t, int64_t>>> DeltaLog::CommitTimestamps() {
  TARN_ASSIGN_OR_RETURN(std::vector<LogFile> files, ListLogFiles(""));
  std::vector<LogFile> commits;
  for (LogFile& file : files) {
    if (file.type == LogFileType::kCommit) commits.push_back(std::move(file));
  }
  if (commits.empty()) return Error(ErrorCode::kTableNotFound, "{}: no commits in {}", label_, log_prefix_);
  // In-commit timestamps apply from the enablement version on (P&M of the latest version tell us).
  std::optional<int64_t> ict_from;
  TARN_ASSIGN_OR_RETURN(LogSegment latest, ListSegment(std::nullopt));
  TARN_ASSIGN_OR_RETURN(SnapshotPtr metadata_only, Replay(latest, nullptr, /*skip_file_actions=*/true));
  if (IsTrue(metadata_only->metadata().configuration, "delta.enableInCommitTimestamps")) {
    auto enablement = metadata_only->Configuration("delta.inCommitTimestampEnablementVersion");
    ict_from = enablement ? std::strtoll(enablement->c_str(), nullptr, 10) : 0;
  }
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(commits.size());
  int64_t previous = std::numeric_limits<int64_t>::min();
  for (const LogFile& commit : commits) {
    int64_t ts = commit.modification_time;
    if (ict_from && commit.version >= *ict_from) {
      TARN_ASSIGN_OR_RETURN(std::optional<int64_t> ict, ReadInCommitTimestamp(commit));
      if (!ict) {
        return Error(ErrorCode::kCorruptData, "{} version {}: in-commit timestamps are enabled but {} has none",
                     label_, commit.version, commit.key);
      }
      ts = *ict;
    } else if (previous != std::numeric_limits<int64_t>::min() && ts <= previous) {
      ts = previous + 1;  // file mtimes can go backwards; Delta readers make them strictly increasing
    }
    out.emplace_back(commit.version, ts);
    previous = ts;
  }
  return out;
}

Result<SnapshotPtr> DeltaLog::LoadAtTimestamp(int64_t timestamp_millis) {
  TARN_ASSIGN_OR_RETURN(auto timestamps, CommitTimestamps());
  if (timestamp_millis < timestamps.front().second) {
    return Error(ErrorCode::kInvalidParameterValue,
                 "{}: timestamp {} is before the earliest available version {} (committed at {})", label_,
                 timestamp_millis, timestamps.front().first, timestamps.front().second);
  }
  if (timestamp_millis > timestamps.back().second) {
    return Error(ErrorCode::kInvalidParameterValue,
                 "{}: timestamp {} is after the latest version {} (committed at {})", label_, timestamp_millis,
                 timestamps.back().first, timestamps.back().second);
  }
  auto it = std::upper_bound(timestamps.begin(), timestamps.end(), timestamp_millis,
                             [](int64_t ts, const std::pair<int64_t, int64_t>& entry) { return ts < entry.second; });
  --it;
  return LoadAtVersion(it->first);
}

}  // namespace tarn::delta
