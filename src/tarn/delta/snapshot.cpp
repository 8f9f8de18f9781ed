// SPDX-License-Identifier: Apache-2.0
// Snapshot accessors and the StringArena.
#include "tarn/delta/snapshot.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace tarn::delta {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kLargeBlockMin = size_t{4} << 20;

}  // namespace

void* AllocateLargeBlock(size_t bytes) {
  if (bytes < kLargeBlockMin) return ::operator new(bytes);
  // Map one huge page more than needed and trim, so that the block starts on a huge-page boundary.
  size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  void* mapped = ::mmap(nullptr, rounded + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  uintptr_t start = reinterpret_cast<uintptr_t>(mapped);
  uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) ::munmap(mapped, aligned - start);
  size_t tail = (start + rounded + kHugePage) - (aligned + rounded);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + rounded), tail);
  ::madvise(reinterpret_cast<void*>(aligned), rounded, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void FreeLargeBlock(void* data, size_t bytes) {
  if (data == nullptr) return;
  if (bytes < kLargeBlockMin) {
    ::operator delete(data);
    return;
  }
  ::munmap(data, (bytes + kHugePage - 1) & ~(kHugePage - 1));
}

void* StringArena::Allocate(size_t size, size_t alignment) {
  size_t padding = reinterpret_cast<uintptr_t>(cursor_) % alignment;
  if (padding != 0) padding = alignment - padding;
  if (cursor_ == nullptr || size + padding > remaining_) {
    size_t block = std::max(block_size_, size + alignment);
    block_size_ = std::min(kMaxBlockSize, block_size_ * 2);
    blocks_.emplace_back(nullptr, block);
    blocks_.back().first = static_cast<char*>(AllocateLargeBlock(block));  // no zero-fill: bytes are written first
    cursor_ = blocks_.back().first;
    remaining_ = block;
    padding = reinterpret_cast<uintptr_t>(cursor_) % alignment;
    if (padding != 0) padding = alignment - padding;
  }
  char* out = cursor_ + padding;
  cursor_ = out + size;
  remaining_ -= size + padding;
  bytes_used_ += size + padding;
  return out;
}

StringArena::~StringArena() {
  for (const auto& [data, size] : blocks_) FreeLargeBlock(data, size);
}

std::string_view StringArena::Copy(std::string_view text) {
  if (text.empty()) return {};
  char* out = static_cast<char*>(Allocate(text.size(), 1));
  std::memcpy(out, text.data(), text.size());
  return {out, text.size()};
}

const PartitionValueRef* FileEntry::FindPartitionValue(std::string_view name) const {
  for (const PartitionValueRef& value : partition_values) {
    if (value.name == name) return &value;
  }
  return nullptr;
}

Snapshot::Snapshot(Parts parts) : parts_(std::move(parts)) {
  if (parts_.file_table == nullptr) {
    active_view_ = parts_.active_files;
    num_active_ = static_cast<int64_t>(parts_.active_files.size());
    return;
  }
  const FileTable& table = *parts_.file_table;
  const FileOverlay* overlay = parts_.file_overlay.get();
  if (overlay != nullptr && overlay->entries.empty()) overlay = nullptr;
  int64_t live = static_cast<int64_t>(table.num_live);
  if (overlay != nullptr) {
    for (size_t i = 0; i < overlay->entries.size(); ++i) {
      if (overlay->base_index[i] != FileOverlay::kNewKey) live -= table.live[overlay->base_index[i]];
      live += overlay->live[i];
    }
  }
  num_active_ = live;
  if (overlay == nullptr && table.num_live == table.entries.size()) {
    active_view_ = table.entries;  // the common full load: no tombstones, nothing to copy
  } else {
    needs_materialize_ = true;
  }
}

void Snapshot::Materialize() const {
  std::call_once(materialize_once_, [this] {
    const FileTable& table = *parts_.file_table;
    const FileOverlay* overlay = parts_.file_overlay.get();
    // Replacements keep the table entry's position; new keys follow in first-appearance order.
    std::vector<std::pair<uint32_t, uint32_t>> replaced;  // (table index, overlay index)
    if (overlay != nullptr) {
      for (uint32_t i = 0; i < overlay->entries.size(); ++i) {
        if (overlay->base_index[i] != FileOverlay::kNewKey) replaced.emplace_back(overlay->base_index[i], i);
      }
      std::sort(replaced.begin(), replaced.end());
    }
    active_.reserve(static_cast<size_t>(num_active_));
    size_t next = 0;
    for (size_t i = 0; i < table.entries.size(); ++i) {
      if (next < replaced.size() && replaced[next].first == i) {
        uint32_t o = replaced[next++].second;
        (overlay->live[o] ? active_ : tombstones_).push_back(overlay->entries[o]);
      } else {
        (table.live[i] ? active_ : tombstones_).push_back(table.entries[i]);
      }
    }
    if (overlay != nullptr) {
      for (size_t i = 0; i < overlay->entries.size(); ++i) {
        if (overlay->base_index[i] != FileOverlay::kNewKey) continue;
        (overlay->live[i] ? active_ : tombstones_).push_back(overlay->entries[i]);
      }
    }
  });
}

std::span<const FileEntry> Snapshot::active_files() const {
  if (!needs_materialize_) return active_view_;
  Materialize();
  return active_;
}

std::span<const FileEntry> Snapshot::tombstones() const {
  if (parts_.file_table == nullptr) return parts_.tombstones;
  if (needs_materialize_) Materialize();
  return tombstones_;
}

const Snapshot::Parts& Snapshot::parts() const {
  if (parts_.file_table == nullptr) return parts_;
  std::call_once(parts_once_, [this] {
    std::span<const FileEntry> active = active_files();
    std::span<const FileEntry> tombstones = this->tombstones();
    parts_.active_files.assign(active.begin(), active.end());
    parts_.tombstones.assign(tombstones.begin(), tombstones.end());
  });
  return parts_;
}

std::optional<std::string> Snapshot::Configuration(std::string_view key) const {
  auto it = parts_.metadata.configuration.find(std::string(key));
  if (it == parts_.metadata.configuration.end()) return std::nullopt;
  return it->second;
}

ColumnMappingMode Snapshot::column_mapping_mode() const {
  auto mode = Configuration("delta.columnMapping.mode");
  if (mode == "name") return ColumnMappingMode::kName;
  if (mode == "id") return ColumnMappingMode::kId;
  return ColumnMappingMode::kNone;
}

int64_t Snapshot::TotalActiveBytes() const {
  int64_t total = 0;
  for (const FileEntry& file : active_files()) total += file.size;
  return total;
}

std::optional<int64_t> Snapshot::AppTransactionVersion(std::string_view app_id) const {
  auto it = parts_.app_transactions.find(app_id);
  if (it == parts_.app_transactions.end()) return std::nullopt;
  return it->second.version;
}

}  // namespace tarn::delta
