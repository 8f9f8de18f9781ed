// SPDX-License-Identifier: Apache-2.0
// TaskPool: Tarn's own DuckDB worker threads, woken only for statements that run long enough to need them.
#pragma once

#include <duckdb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tarn::engine::detail {

/// What a session tells the pool: since when it is inside DuckDB (steady-clock ns, 0 outside), and whether its open
/// stream is a long one (many chunks fetched), whose scan the helpers should feed while the client consumes rows.
struct SessionActivity {
  std::atomic<int64_t> busy_since{0};
  std::atomic<bool> long_stream{false};
};

/// DuckDB runs with as many "external" threads as threads in total, so it starts no worker threads of its own and
/// every statement's tasks run on the thread that executes it. A DuckDB worker woken through its semaphore for every
/// query (a futex wake and two context switches) costs a short statement more than its execution; here a short
/// statement never wakes anyone. A monitor thread watches the sessions that are inside DuckDB (busy_since != 0):
/// once one has been busy for kHeavyAfter (or streams a long result, see SessionActivity), the helper threads start
/// taking tasks from DuckDB's queue (all statements' tasks, as DuckDB's own workers would) until no session has
/// needed them for kCoolDown.
/// While on, the helpers block in duckdb_execute_tasks_state (DuckDB's semaphore, as its own workers); turning off
/// finishes that task state (they leave after their task or DuckDB's 5 ms wait). The monitor ticks every kTick while
/// sessions are busy and sleeps (woken by the next busy session) after kIdleAfter without any. Thread-safe. Destroy before the DuckDB database closes and after every registered session.
class TaskPool {
 public:
  static constexpr std::chrono::microseconds kHeavyAfter{1000};
  static constexpr std::chrono::microseconds kTick{1000};
  static constexpr std::chrono::milliseconds kCoolDown{20};
  static constexpr std::chrono::milliseconds kIdleAfter{200};

  /// Starts the monitor and `helpers` helper threads (no thread at all when `helpers` is 0).
  TaskPool(duckdb_database db, size_t helpers);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  /// A session's activity; it must stay valid until Unregister.
  void Register(const SessionActivity* activity);
  void Unregister(const SessionActivity* activity);
  /// Called by a session right after it set busy_since or long_stream: wakes the monitor when it sleeps (one atomic
  /// load otherwise).
  void Notify();

  /// How many times the helpers were started (tests, diagnostics).
  uint64_t activations() const { return activations_.load(); }
  size_t helpers() const { return helpers_; }

  static int64_t NowNanos() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

 private:
  void Monitor();
  void Help();
  // Scans the sessions: whether any is busy, and whether one needs the helpers (busy for kHeavyAfter, long stream).
  void Scan(int64_t now, bool& any_busy, bool& heavy);

  // One DuckDB task state per activation: helpers run duckdb_execute_tasks_state on it (blocking on DuckDB's
  // semaphore, woken when tasks are queued, as DuckDB's own workers) until the monitor finishes it.
  struct Activation {
    Activation(duckdb_database db, uint64_t number) : state(duckdb_create_task_state(db)), number(number) {}
    ~Activation() { duckdb_destroy_task_state(state); }
    Activation(const Activation&) = delete;
    Activation& operator=(const Activation&) = delete;
    duckdb_task_state state;
    uint64_t number;  // 1, 2, ...: a helper runs each activation once
  };

  duckdb_database db_;
  size_t helpers_;
  std::shared_ptr<Activation> current_;  // guarded by mutex_; null while the helpers are off
  std::mutex mutex_;
  std::condition_variable monitor_cv_;
  std::condition_variable helper_cv_;
  std::vector<const SessionActivity*> sessions_;  // guarded by mutex_
  bool wake_ = false;                                   // guarded by mutex_
  bool stop_ = false;                                   // guarded by mutex_
  std::atomic<bool> monitor_sleeping_{false};
  std::atomic<bool> on_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> activations_{0};
  std::vector<std::thread> threads_;
};

/// Marks a session busy (inside DuckDB) for the scope's lifetime; a nested scope leaves the outer mark alone.
class BusyScope {
 public:
  BusyScope(std::atomic<int64_t>& busy_since, TaskPool* pool)
      : busy_since_(busy_since), owner_(busy_since.load() == 0) {
    if (!owner_) return;
    busy_since_.store(TaskPool::NowNanos());
    if (pool != nullptr) pool->Notify();
  }
  ~BusyScope() {
    if (owner_) busy_since_.store(0);
  }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  std::atomic<int64_t>& busy_since_;
  bool owner_;
};

}  // namespace tarn::engine::detail
