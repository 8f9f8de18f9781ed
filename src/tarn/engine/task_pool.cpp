// SPDX-License-Identifier: Apache-2.0
// TaskPool: the monitor that starts helper threads for long statements, and the helpers that run DuckDB tasks.
#include "tarn/engine/detail/task_pool.hpp"

#include <algorithm>

namespace tarn::engine::detail {

TaskPool::TaskPool(duckdb_database db, size_t helpers) : db_(db), helpers_(helpers) {
  if (helpers_ == 0) return;
  threads_.emplace_back([this] { Monitor(); });
  for (size_t i = 0; i < helpers_; i++) threads_.emplace_back([this] { Help(); });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    stopping_.store(true);
    if (current_) duckdb_finish_execution(current_->state);
    current_.reset();
  }
  monitor_cv_.notify_all();
  helper_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void TaskPool::Register(const SessionActivity* activity) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.push_back(activity);
}

void TaskPool::Unregister(const SessionActivity* activity) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.erase(std::remove(sessions_.begin(), sessions_.end(), activity), sessions_.end());
}

void TaskPool::Notify() {
  // Pairs with the monitor's re-scan after it set monitor_sleeping_ (both sequentially consistent): either this load
  // sees the flag, or the monitor's scan sees the busy marker stored before it.
  if (helpers_ == 0 || !monitor_sleeping_.load()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_ = true;
  }
  monitor_cv_.notify_one();
}

void TaskPool::Scan(int64_t now, bool& any_busy, bool& heavy) {
  any_busy = false;
  heavy = false;
  const int64_t heavy_nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(kHeavyAfter).count();
  for (const SessionActivity* activity : sessions_) {
    if (activity->long_stream.load()) {
      any_busy = true;
      heavy = true;
    }
    int64_t since = activity->busy_since.load();
    if (since == 0) continue;
    any_busy = true;
    if (now - since >= heavy_nanos) heavy = true;
  }
}

void TaskPool::Monitor() {
  std::unique_lock<std::mutex> lock(mutex_);
  auto last_busy = std::chrono::steady_clock::now();
  auto last_heavy = last_busy;
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    bool any_busy = false;
    bool heavy = false;
    Scan(TaskPool::NowNanos(), any_busy, heavy);
    if (any_busy) last_busy = now;
    if (heavy) {
      last_heavy = now;
      if (!on_.load()) {
        on_.store(true);
        current_ = std::make_shared<Activation>(db_, ++activations_);
        helper_cv_.notify_all();
      }
    } else if (on_.load() && now - last_heavy >= kCoolDown) {
      on_.store(false);
      duckdb_finish_execution(current_->state);  // helpers leave after their task or DuckDB's 5 ms wait
      current_.reset();
    }
    if (!on_.load() && now - last_busy >= kIdleAfter) {
      monitor_sleeping_.store(true);
      Scan(TaskPool::NowNanos(), any_busy, heavy);  // a session that missed the flag was seen here
      if (!any_busy) monitor_cv_.wait(lock, [this] { return stop_ || wake_; });
      wake_ = false;
      monitor_sleeping_.store(false);
      last_busy = std::chrono::steady_clock::now();
      continue;
    }
    monitor_cv_.wait_for(lock, kTick);
  }
}

void TaskPool::Help() {
  uint64_t last = 0;
  while (true) {
    std::shared_ptr<Activation> activation;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      helper_cv_.wait(lock, [&] { return stop_ || (current_ && current_->number != last); });
      if (stop_) return;
      activation = current_;
    }
    last = activation->number;
    duckdb_execute_tasks_state(activation->state);  // until the monitor finishes this activation
  }
}

}  // namespace tarn::engine::detail
