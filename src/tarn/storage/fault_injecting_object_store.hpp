// SPDX-License-Identifier: Apache-2.0
// FaultInjectingObjectStore: wraps a store and injects failures and simulated crashes for tests.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "tarn/storage/object_store.hpp"

namespace tarn::storage {

/// What happens at the armed call.
enum class FaultKind {
  kFail,              // the call returns kIoError without any effect; later calls work
  kCrashBeforeEffect, // the call has no effect, then the store "crashes"
  kCrashAfterEffect,  // the call takes effect, returns kIoError anyway (lost acknowledgement), then the store crashes
};

/// Decorates another store (the caller keeps `base` alive). Every public call counts as one call (1-based since the
/// last Arm). A crash drops every write made with WriteOptions{.sync = false} that was not later synced (the previous
/// content comes back, or the object disappears), and makes every call fail with kIoError until Restart().
/// Safe for concurrent use; calls are serialised.
class FaultInjectingObjectStore final : public ObjectStore {
 public:
  explicit FaultInjectingObjectStore(ObjectStore& base) : base_(base) {}

  /// Arms a fault at the `call_number`-th call from now (1 = the next call). Replaces an armed fault.
  void Arm(int64_t call_number, FaultKind kind);
  /// Disarms without touching state.
  void Disarm();
  /// Crashes now: drops unsynced writes; calls fail until Restart().
  void Crash();
  /// Brings a crashed store back (the state is what survived the crash).
  void Restart();
  /// Drops unsynced writes without crashing.
  Status DropUnsyncedWrites();
  bool crashed() const;
  /// Calls seen since construction (including failed ones).
  int64_t num_calls() const;

  Result<std::vector<ObjectInfo>> List(std::string_view prefix, const ListOptions& options) override;
  using ObjectStore::List;
  Result<std::string> Read(std::string_view key) override;
  Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status Write(std::string_view key, std::string_view data, const WriteOptions& options) override;
  using ObjectStore::Write;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Status Delete(std::string_view key) override;
  Status Rename(std::string_view from, std::string_view to, bool overwrite) override;
  ObjectStoreCapabilities Capabilities() const override { return base_.Capabilities(); }
  std::optional<std::string> LocalPath(std::string_view key) const override { return base_.LocalPath(key); }

 private:
  enum class Gate { kProceed, kFail, kCrashBefore, kCrashAfter };
  // Counts the call and decides its fate. Requires mu_.
  Gate Enter(std::string_view operation, Status& error);
  // Applies the gate after a mutating call ran. Requires mu_.
  Status Finish(Gate gate, Status result, std::string_view operation);
  Status DropUnsyncedLocked();

  ObjectStore& base_;
  mutable std::mutex mu_;
  int64_t num_calls_ = 0;                 // guarded by mu_
  int64_t armed_at_ = 0;                  // absolute call number; 0 = disarmed; guarded by mu_
  FaultKind armed_kind_ = FaultKind::kFail;  // guarded by mu_
  bool crashed_ = false;                  // guarded by mu_
  // Unsynced keys → content before the first unsynced write (nullopt: did not exist). Guarded by mu_.
  std::map<std::string, std::optional<std::string>> unsynced_;
};

}  // namespace tarn::storage
