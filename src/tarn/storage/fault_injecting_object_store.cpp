// SPDX-License-Identifier: Apache-2.0
// FaultInjectingObjectStore implementation.
#include "tarn/storage/fault_injecting_object_store.hpp"

#include "tarn/storage/storage_path.hpp"

namespace tarn::storage {

void FaultInjectingObjectStore::Arm(int64_t call_number, FaultKind kind) {
  std::lock_guard lock(mu_);
  armed_at_ = num_calls_ + call_number;
  armed_kind_ = kind;
}

void FaultInjectingObjectStore::Disarm() {
  std::lock_guard lock(mu_);
  armed_at_ = 0;
}

void FaultInjectingObjectStore::Crash() {
  std::lock_guard lock(mu_);
  DropUnsyncedLocked().IgnoreError();  // a crash loses what it loses; errors here mean the object is gone anyway
  crashed_ = true;
}

void FaultInjectingObjectStore::Restart() {
  std::lock_guard lock(mu_);
  crashed_ = false;
}

Status FaultInjectingObjectStore::DropUnsyncedWrites() {
  std::lock_guard lock(mu_);
  return DropUnsyncedLocked();
}

bool FaultInjectingObjectStore::crashed() const {
  std::lock_guard lock(mu_);
  return crashed_;
}

int64_t FaultInjectingObjectStore::num_calls() const {
  std::lock_guard lock(mu_);
  return num_calls_;
}

Status FaultInjectingObjectStore::DropUnsyncedLocked() {
  Status first_error;
  for (auto& [key, previous] : unsynced_) {
    Status st = previous.has_value() ? base_.Write(key, *previous) : base_.Delete(key);
    if (!st.ok() && st.code() != ErrorCode::kResourceDoesNotExist && first_error.ok()) first_error = st;
  }
  unsynced_.clear();
  return first_error;
}

FaultInjectingObjectStore::Gate FaultInjectingObjectStore::Enter(std::string_view operation, Status& error) {
  ++num_calls_;
  if (crashed_) {
    error = Error(ErrorCode::kIoError, "injected: store crashed before {}", operation);
    return Gate::kFail;
  }
  if (armed_at_ == 0 || num_calls_ != armed_at_) return Gate::kProceed;
  armed_at_ = 0;
  switch (armed_kind_) {
    case FaultKind::kFail:
      error = Error(ErrorCode::kIoError, "injected failure at call {} ({})", num_calls_, operation);
      return Gate::kFail;
    case FaultKind::kCrashBeforeEffect:
      DropUnsyncedLocked().IgnoreError();  // simulated crash: losing unsynced data is the point
      crashed_ = true;
      error = Error(ErrorCode::kIoError, "injected crash at call {} ({})", num_calls_, operation);
      return Gate::kFail;
    case FaultKind::kCrashAfterEffect:
      return Gate::kCrashAfter;
  }
  return Gate::kProceed;
}

Status FaultInjectingObjectStore::Finish(Gate gate, Status result, std::string_view operation) {
  if (gate != Gate::kCrashAfter) return result;
  DropUnsyncedLocked().IgnoreError();  // simulated crash
  crashed_ = true;
  return Error(ErrorCode::kIoError, "injected crash after call {} ({})", num_calls_, operation);
}

Result<std::vector<ObjectInfo>> FaultInjectingObjectStore::List(std::string_view prefix, const ListOptions& options) {
  std::lock_guard lock(mu_);
  Status error;
  Gate gate = Enter("List", error);
  if (gate == Gate::kFail) return error;
  auto result = base_.List(prefix, options);
  if (gate == Gate::kCrashAfter) return Finish(gate, Status::OK(), "List");
  return result;
}

Result<std::string> FaultInjectingObjectStore::Read(std::string_view key) {
  std::lock_guard lock(mu_);
  Status error;
  Gate gate = Enter("Read", error);
  if (gate == Gate::kFail) return error;
  auto result = base_.Read(key);
  if (gate == Gate::kCrashAfter) return Finish(gate, Status::OK(), "Read");
  return result;
}

Result<std::string> FaultInjectingObjectStore::ReadRange(std::string_view key, int64_t offset, int64_t length) {
  std::lock_guard lock(mu_);
  Status error;
  Gate gate = Enter("ReadRange", error);
  if (gate == Gate::kFail) return error;
  auto result = base_.ReadRange(key, offset, length);
  if (gate == Gate::kCrashAfter) return Finish(gate, Status::OK(), "ReadRange");
  return result;
}

Result<ObjectInfo> FaultInjectingObjectStore::Stat(std::string_view key) {
  std::lock_guard lock(mu_);
  Status error;
  Gate gate = Enter("Stat", error);
  if (gate == Gate::kFail) return error;
  auto result = base_.Stat(key);
  if (gate == Gate::kCrashAfter) return Finish(gate, Status::OK(), "Stat");
  return result;
}

Status FaultInjectingObjectStore::Write(std::string_view key, std::string_view data, const WriteOptions& options) {
  std::lock_guard lock(mu_);
  Status error;
  Gate gate = Enter("Write", error);
  if (gate == Gate::kFail) return error;
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  std::optional<std::string> previous;
  bool track = !options.sync && !unsynced_.contains(normalized);
  if (track) {
    auto old = base_.Read(normalized);
    if (old.has_value()) previous = std::move(old).value();
  }
  Status st = base_.Write(normalized, data, options);
  if (st.ok()) {
    if (track) unsynced_.emplace(normalized, std::move(previous));
    if (options.sync) unsynced_.erase(normalized);
  }
  return Finish(gate, std::move(st), "Write");
}

Status FaultInjectingObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  std::lock_guard lock(mu_);
  Status error;
  Gate gate = Enter("PutIfAbsent", error);
  if (gate == Gate::kFail) return error;
  return Finish(gate, base_.PutIfAbsent(key, data), "PutIfAbsent");
}

Status FaultInjectingObjectStore::Delete(std::string_view key) {
  std::lock_guard lock(mu_);
  Status error;
  Gate gate = Enter("Delete", error);
  if (gate == Gate::kFail) return error;
  Status st = base_.Delete(key);
  if (st.ok()) {
    auto normalized = NormalizeObjectKey(key);
    if (normalized.has_value()) unsynced_.erase(*normalized);
  }
  return Finish(gate, std::move(st), "Delete");
}

Status FaultInjectingObjectStore::Rename(std::string_view from, std::string_view to, bool overwrite) {
  std::lock_guard lock(mu_);
  Status error;
  Gate gate = Enter("Rename", error);
  if (gate == Gate::kFail) return error;
  return Finish(gate, base_.Rename(from, to, overwrite), "Rename");
}

}  // namespace tarn::storage
