// SPDX-License-Identifier: Apache-2.0
// DeltaCheckpointer: per-table coalescing queue of post-commit checkpoints and log cleanups, one worker thread.
#include "tarn/engine/delta_checkpointer.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "tarn/base/clock.hpp"
#include "tarn/base/logging.hpp"
#include "tarn/delta/log_cleanup.hpp"
#include "tarn/delta/table_properties.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace tarn::engine {
namespace {

int CheckpointInterval(const delta::Snapshot& snapshot) {
  auto properties = delta::TableProperties::From(snapshot.metadata().configuration);
  int interval = properties.has_value() ? properties->checkpoint_interval : delta::kDefaultCheckpointInterval;
  return std::max(interval, 1);
}

bool IsDue(const delta::Snapshot& snapshot, int64_t last_checkpoint) {
  return snapshot.version() - last_checkpoint >= CheckpointInterval(snapshot);
}

}  // namespace

DeltaCheckpointer::DeltaCheckpointer(delta::CheckpointWriter& writer, DeltaCheckpointerOptions options)
    : writer_(writer), options_(std::move(options)), worker_([this] { Loop(); }) {}

DeltaCheckpointer::~DeltaCheckpointer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  worker_.join();  // the worker finishes every queued checkpoint before it returns
}

int64_t DeltaCheckpointer::Now() const { return options_.clock ? options_.clock() : NowMillis(); }

bool DeltaCheckpointer::Schedule(const std::string& local_root, const delta::SnapshotPtr& committed) {
  if (local_root.empty() || committed == nullptr) return false;
  // One statx per commit: a table dropped and created again at this path starts over (its versions restart).
  DeltaLogIdentity identity = IdentifyDeltaLog(local_root);
  std::lock_guard lock(mu_);
  if (stop_) return false;
  ++stats_.commits_seen;
  TableState& state = tables_[local_root];
  if (!(state.identity == identity)) {
    state.identity = identity;
    state.last_checkpoint = -1;
    state.pending.reset();
    state.next_cleanup_at = 0;
  }
  // The checkpoint this snapshot was replayed from (no checkpoint: version 0 plays that role, so the first lands at
  // the interval).
  state.last_checkpoint = std::max(state.last_checkpoint, committed->checkpoint_version().value_or(0));
  if (!IsDue(*committed, state.last_checkpoint)) return true;
  if (state.pending == nullptr || committed->version() > state.pending->version()) {
    state.pending = committed;
    state.pending_identity = identity;
  }
  if (!state.queued && !state.running) {
    state.queued = true;
    queue_.push_back(local_root);
    work_cv_.notify_one();
  }
  return true;
}

void DeltaCheckpointer::Drain() {
  std::unique_lock lock(mu_);
  ++drain_waiters_;
  work_cv_.notify_all();  // cuts a rest short
  idle_cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
  --drain_waiters_;
}

DeltaCheckpointerStats DeltaCheckpointer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void DeltaCheckpointer::Loop() {
  std::unique_lock lock(mu_);
  int64_t rest_until = 0;  // monotonic nanos: no checkpoint starts before (see DeltaCheckpointerOptions::idle_ratio)
  for (;;) {
    work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left
    const int64_t now = MonotonicNanos();
    if (now < rest_until && !stop_ && drain_waiters_ == 0) {
      // Commits keep coalescing into the queued checkpoint meanwhile.
      work_cv_.wait_for(lock, std::chrono::nanoseconds(rest_until - now),
                        [this] { return stop_ || drain_waiters_ > 0; });
    }
    std::string local_root = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    const int64_t start = MonotonicNanos();
    RunOne(local_root, tables_[local_root], lock);
    const int64_t end = MonotonicNanos();
    rest_until = end + static_cast<int64_t>(static_cast<double>(end - start) * std::max(options_.idle_ratio, 0.0));
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

void DeltaCheckpointer::RunOne(const std::string& local_root, TableState& state, std::unique_lock<std::mutex>& lock) {
  state.queued = false;
  delta::SnapshotPtr snapshot = std::move(state.pending);
  state.pending.reset();
  if (snapshot == nullptr) return;
  const DeltaLogIdentity identity = state.pending_identity;
  const bool cleanup_due = Now() >= state.next_cleanup_at;
  state.running = true;
  lock.unlock();

  bool written = false;
  bool abandoned = false;
  bool cleanup_failed = false;
  std::optional<int64_t> next_cleanup_at;
  try {
    const std::string label = local_root + " version " + std::to_string(snapshot->version());
    auto properties = delta::TableProperties::From(snapshot->metadata().configuration);
    if (!(IdentifyDeltaLog(local_root) == identity) || identity == DeltaLogIdentity{}) {
      // Dropped, or created again at the same path: this snapshot belongs to a log that is gone.
      abandoned = true;
    } else if (!properties.has_value()) {
      TARN_LOG_WARN("{}: checkpoint skipped (the commit is unaffected): {}", label, properties.status().ToString());
    } else {
      auto store = storage::LocalObjectStore::Create(local_root, /*create_root=*/false);
      if (!store.has_value()) {
        TARN_LOG_WARN("{}: checkpoint failed (the commit is unaffected): {}", label, store.status().ToString());
      } else {
        delta::CheckpointOptions checkpoint_options;
        checkpoint_options.tombstone_cutoff_millis = Now() - properties->deleted_file_retention_millis;
        auto result = delta::WriteCheckpoint(**store, "", *snapshot, writer_, checkpoint_options);
        if (!result.has_value()) {
          TARN_LOG_WARN("{}: checkpoint failed (the commit is unaffected): {}", label, result.status().ToString());
        } else {
          written = true;
          if (options_.on_checkpoint) options_.on_checkpoint(local_root, *result);
          if (properties->enable_expired_log_cleanup && cleanup_due) {
            const int64_t now = Now();
            auto cleanup = delta::CleanupExpiredLogs(**store, "", properties->log_retention_millis, now);
            if (cleanup.has_value()) {
              // Listing the log is the expensive part of a cleanup; nothing can expire before this.
              next_cleanup_at = cleanup->oldest_remaining_mtime
                                    ? *cleanup->oldest_remaining_mtime + properties->log_retention_millis
                                    : 0;
            } else {
              cleanup_failed = true;
              TARN_LOG_WARN("{}: log cleanup failed: {}", label, cleanup.status().ToString());
            }
          }
        }
      }
    }
  } catch (const std::exception& e) {
    TARN_LOG_WARN("{}: checkpoint failed (the commit is unaffected): {}", local_root, e.what());
    written = false;
  }

  lock.lock();
  state.running = false;
  if (abandoned) {
    ++stats_.checkpoints_abandoned;
  } else if (written) {
    ++stats_.checkpoints_written;
  } else {
    ++stats_.checkpoints_failed;
  }
  if (cleanup_failed) ++stats_.cleanups_failed;
  if (state.identity == identity) {
    if (written) state.last_checkpoint = std::max(state.last_checkpoint, snapshot->version());
    if (next_cleanup_at) state.next_cleanup_at = *next_cleanup_at;
  }
  // Commits that arrived while this one ran: queue the newest of them if it is still due (coalesced), else drop it
  // (a later commit queues again). After a failure the next commit retries, never a tight loop here.
  if (state.pending != nullptr) {
    const bool same_table_failed = !written && !abandoned && state.pending_identity == identity;
    if (!same_table_failed && IsDue(*state.pending, state.last_checkpoint)) {
      state.queued = true;
      queue_.push_back(local_root);
    } else {
      state.pending.reset();
    }
  }
}

}  // namespace tarn::engine
