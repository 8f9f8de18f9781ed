// SPDX-License-Identifier: Apache-2.0
// DeltaCheckpointer: the process-wide background writer of post-commit Delta checkpoints, coalesced per table.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "tarn/delta/checkpoint_writer.hpp"
#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/snapshot.hpp"
#include "tarn/engine/delta_table.hpp"

namespace tarn::engine {

struct DeltaCheckpointerOptions {
  /// Wall clock in epoch millis (tombstone and log retention); default system clock.
  std::function<int64_t()> clock;
  /// Called on the worker thread after each checkpoint written (table directory, what was written); for benches and
  /// logs. Must not call back into the checkpointer.
  std::function<void(const std::string& local_root, const delta::CheckpointResult&)> on_checkpoint;
  /// After a checkpoint that took T, the worker rests T * idle_ratio before the next one (1.0: checkpoints use at most
  /// half of one core over time, however fast commits arrive; 0: back to back). Commits meanwhile coalesce. Drain()
  /// and shutdown cut the rest short.
  double idle_ratio = 1.0;
};

/// Counters since construction.
struct DeltaCheckpointerStats {
  int64_t commits_seen = 0;         // Schedule calls accepted
  int64_t checkpoints_written = 0;
  int64_t checkpoints_failed = 0;   // logged as warnings; the commits are unaffected
  int64_t checkpoints_abandoned = 0;  // the table was dropped or re-created before its checkpoint ran
  int64_t cleanups_failed = 0;
};

/// Writes Delta checkpoints (and runs log cleanup) for every table committed to by this process, on one background
/// thread, so commits never wait for them. Set as delta::TableOptions::post_commit_scheduler (DeltaWriter and the SQL
/// DDL paths do). Per table directory it coalesces: at most one checkpoint is queued or running; when it runs it
/// checkpoints the NEWEST snapshot committed through this process, and only if that version is at least
/// delta.checkpointInterval past the table's last checkpoint (the one the committed snapshot was read from, or the
/// last one written here). Under light load a checkpoint therefore lands at every interval version (10, 20, ...);
/// under sustained commits checkpoints coalesce to the newest version when the worker gets to it, and readers replay
/// the JSON commits since (at most what arrived while one checkpoint was being written).
/// Tasks never reference a DeltaTable or its store: the worker opens the table directory itself and checks, just
/// before writing, that `_delta_log` is still the same directory (a table dropped or created again at the path is
/// left alone). A failed checkpoint is logged and counted, never reported to a committer; the table stays valid.
/// Drain() waits for everything queued; the destructor drains, so a process that destroys its DeltaWriter (server
/// stop, `tarn sql --local` exit) leaves the due checkpoints written. Thread-safe. The CheckpointWriter must outlive
/// the checkpointer. Cost: a checkpoint is O(files) (classic Parquet checkpoint of the whole state); the worker rests
/// in proportion to the time the last one took (DeltaCheckpointerOptions::idle_ratio), so checkpoints take a bounded
/// share of the CPU and disk and their spacing grows with the table under sustained load instead of the commits
/// slowing down.
class DeltaCheckpointer final : public delta::PostCommitScheduler {
 public:
  explicit DeltaCheckpointer(delta::CheckpointWriter& writer, DeltaCheckpointerOptions options = {});
  ~DeltaCheckpointer() override;
  DeltaCheckpointer(const DeltaCheckpointer&) = delete;
  DeltaCheckpointer& operator=(const DeltaCheckpointer&) = delete;

  /// delta::PostCommitScheduler: records `committed` as the newest snapshot of the table at `local_root` and queues a
  /// checkpoint when one is due. Returns false (the DeltaTable then works inline) for stores without a local root.
  bool Schedule(const std::string& local_root, const delta::SnapshotPtr& committed) override;

  /// Blocks until no checkpoint is queued or running (checkpoints queued meanwhile included).
  void Drain();

  DeltaCheckpointerStats stats() const;

 private:
  struct TableState {
    DeltaLogIdentity identity;         // the _delta_log directory the versions below belong to
    int64_t last_checkpoint = -1;      // newest checkpoint version known (read from or written)
    delta::SnapshotPtr pending;        // newest due snapshot not yet checkpointed (null when none is due)
    DeltaLogIdentity pending_identity;
    bool queued = false;
    bool running = false;
    int64_t next_cleanup_at = 0;       // epoch millis; no log file can expire before
  };

  void Loop();
  void RunOne(const std::string& local_root, TableState& state, std::unique_lock<std::mutex>& lock);
  int64_t Now() const;

  delta::CheckpointWriter& writer_;
  DeltaCheckpointerOptions options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // worker: queue not empty or stopping
  std::condition_variable idle_cv_;   // Drain: queue empty and nothing running
  std::map<std::string, TableState> tables_;  // by table directory; guarded by mu_
  std::deque<std::string> queue_;             // table directories with a queued checkpoint; guarded by mu_
  bool busy_ = false;                         // the worker is running a checkpoint; guarded by mu_
  int drain_waiters_ = 0;                     // threads in Drain(); guarded by mu_
  bool stop_ = false;                         // guarded by mu_
  DeltaCheckpointerStats stats_;              // guarded by mu_
  std::thread worker_;
};

}  // namespace tarn::engine
