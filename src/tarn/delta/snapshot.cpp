// SPDX-License-Identifier: Apache-2.0
// Snapshot accessors and the StringArena.
#include "tarn/delta/snapshot.hpp"

#include <cstring>

namespace tarn::delta {

void* StringArena::Allocate(size_t size, size_t alignment) {
  size_t padding = reinterpret_cast<uintptr_t>(cursor_) % alignment;
  if (padding != 0) padding = alignment - padding;
  if (cursor_ == nullptr || size + padding > remaining_) {
    size_t block = std::max(kBlockSize, size + alignment);
    blocks_.push_back(std::unique_ptr<char[]>(new char[block]));  // no zero-fill: every byte is written before use
    cursor_ = blocks_.back().get();
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

Snapshot::Snapshot(Parts parts) : parts_(std::move(parts)) {}

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
  for (const FileEntry& file : parts_.active_files) total += file.size;
  return total;
}

std::optional<int64_t> Snapshot::AppTransactionVersion(std::string_view app_id) const {
  auto it = parts_.app_transactions.find(app_id);
  if (it == parts_.app_transactions.end()) return std::nullopt;
  return it->second.version;
}

}  // namespace tarn::delta
