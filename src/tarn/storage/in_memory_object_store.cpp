// SPDX-License-Identifier: Apache-2.0
// InMemoryObjectStore implementation.
#include "tarn/storage/in_memory_object_store.hpp"

#include "tarn/base/clock.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::storage {

int64_t InMemoryObjectStore::Now() const { return clock_ ? clock_() : NowMillis(); }

Result<std::vector<ObjectInfo>> InMemoryObjectStore::List(std::string_view prefix, const ListOptions& options) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectPrefix(prefix));
  size_t slash = normalized.rfind('/');
  size_t dir_length = slash == std::string::npos ? 0 : slash + 1;
  std::vector<ObjectInfo> out;
  std::lock_guard lock(mu_);
  auto it = objects_.lower_bound(normalized);
  if (!options.start_after.empty() && options.start_after >= normalized) {
    it = objects_.upper_bound(options.start_after);
  }
  for (; it != objects_.end() && it->first.starts_with(normalized); ++it) {
    if (!options.recursive && it->first.find('/', dir_length) != std::string::npos) continue;
    out.push_back(ObjectInfo{it->first, static_cast<int64_t>(it->second.data.size()),
                             it->second.modification_time_millis});
  }
  return out;
}

Result<std::string> InMemoryObjectStore::Read(std::string_view key) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(normalized);
  if (it == objects_.end()) return Error(ErrorCode::kResourceDoesNotExist, "object not found: {}", normalized);
  return it->second.data;
}

Result<std::string> InMemoryObjectStore::ReadRange(std::string_view key, int64_t offset, int64_t length) {
  if (offset < 0 || length < 0) return Error(ErrorCode::kInvalidParameterValue, "negative range for {}", key);
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(normalized);
  if (it == objects_.end()) return Error(ErrorCode::kResourceDoesNotExist, "object not found: {}", normalized);
  const std::string& data = it->second.data;
  if (static_cast<size_t>(offset) > data.size()) {
    return Error(ErrorCode::kInvalidParameterValue, "range offset {} is past the end of {} ({} bytes)", offset,
                 normalized, data.size());
  }
  return data.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

Result<ObjectInfo> InMemoryObjectStore::Stat(std::string_view key) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(normalized);
  if (it == objects_.end()) return Error(ErrorCode::kResourceDoesNotExist, "object not found: {}", normalized);
  return ObjectInfo{normalized, static_cast<int64_t>(it->second.data.size()), it->second.modification_time_millis};
}

Status InMemoryObjectStore::Write(std::string_view key, std::string_view data, const WriteOptions&) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  std::lock_guard lock(mu_);
  objects_[normalized] = Entry{std::string(data), Now()};
  return Status::OK();
}

Status InMemoryObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  std::lock_guard lock(mu_);
  auto [it, inserted] = objects_.try_emplace(normalized, Entry{std::string(data), Now()});
  if (!inserted) return Error(ErrorCode::kAlreadyExists, "object already exists: {}", normalized);
  return Status::OK();
}

Status InMemoryObjectStore::Delete(std::string_view key) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  std::lock_guard lock(mu_);
  if (objects_.erase(normalized) == 0) {
    return Error(ErrorCode::kResourceDoesNotExist, "object not found: {}", normalized);
  }
  return Status::OK();
}

Status InMemoryObjectStore::Rename(std::string_view from, std::string_view to, bool overwrite) {
  TARN_ASSIGN_OR_RETURN(std::string from_key, NormalizeObjectKey(from));
  TARN_ASSIGN_OR_RETURN(std::string to_key, NormalizeObjectKey(to));
  std::lock_guard lock(mu_);
  auto it = objects_.find(from_key);
  if (it == objects_.end()) return Error(ErrorCode::kResourceDoesNotExist, "object not found: {}", from_key);
  if (from_key == to_key) return Status::OK();
  if (!overwrite && objects_.contains(to_key)) {
    return Error(ErrorCode::kAlreadyExists, "object already exists: {}", to_key);
  }
  Entry entry = std::move(it->second);
  objects_.erase(it);
  objects_[to_key] = std::move(entry);
  return Status::OK();
}

Status InMemoryObjectStore::TestingSetModificationTime(std::string_view key, int64_t millis) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(normalized);
  if (it == objects_.end()) return Error(ErrorCode::kResourceDoesNotExist, "object not found: {}", normalized);
  it->second.modification_time_millis = millis;
  return Status::OK();
}

void InMemoryObjectStore::TestingSetClock(std::function<int64_t()> now_millis) {
  std::lock_guard lock(mu_);
  clock_ = std::move(now_millis);
}

}  // namespace tarn::storage
