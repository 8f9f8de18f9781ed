// SPDX-License-Identifier: Apache-2.0
// Micro-benchmark: a table with 10,000 small-append commits and a checkpoint every 10 (the last one at 10,000, then 9
// more commits): latest snapshot load and incremental refresh after one new commit, next to a peer that replays every
// JSON commit without checkpoints. The table is written through DeltaTable (checkpoints coalesced on a background
// thread while building, then the checkpoint at 10,000 written explicitly) into a scratch directory.
// Usage: delta_table_bench [COMMITS (10000)] [RUNS (9)] [SCRATCH_DIR (/dev/shm or $TMPDIR)] [OUTPUT_FILE]
// delta_table_bench_duckdb is the same program with the engine's Parquet checkpoint writer and reader (DuckDB).
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tarn/base/clock.hpp"
#include "tarn/base/logging.hpp"
#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/tests/json_checkpoint_files.hpp"
#include "tarn/delta/transaction.hpp"
#include "tarn/storage/local_object_store.hpp"

#ifdef TARN_BENCH_DUCKDB
#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/delta_checkpoint_writer.hpp"
#endif

namespace {

constexpr int kTail = 9;  // commits after the last checkpoint

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? -1.0 : values[values.size() / 2];
}

double Millis(int64_t start) { return static_cast<double>(tarn::MonotonicNanos() - start) / 1e6; }

// One worker that runs only the newest queued task (a newer checkpoint supersedes older ones).
class LatestTaskRunner {
 public:
  LatestTaskRunner() : worker_([this] { Loop(); }) {}
  ~LatestTaskRunner() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  void Submit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      task_ = std::move(task);
    }
    cv_.notify_all();
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || task_ != nullptr; });
        if (task_ == nullptr) return;
        task = std::move(task_);
        task_ = nullptr;
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool stop_ = false;
  std::thread worker_;
};

tarn::Status Append(tarn::delta::DeltaTable& table, int i) {
  TARN_ASSIGN_OR_RETURN(auto txn, table.StartTransaction());
  tarn::delta::AddAction add;
  add.path = "part-" + std::to_string(i) + "-c000.snappy.parquet";
  add.size = 1024;
  add.modification_time = 1'700'000'000'000 + i;
  add.stats = R"({"numRecords":10,"minValues":{"id":1,"name":"a"},"maxValues":{"id":10,"name":"z"},"nullCount":{"id":0,"name":0}})";
  txn->AddFile(std::move(add));
  return txn->Commit().status();
}

}  // namespace

int main(int argc, char** argv) {
  tarn::Log::SetLevel(tarn::LogLevel::kWarn);
  const int commits = argc > 1 ? std::max(20, std::atoi(argv[1])) : 10000;
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 9;
  std::string scratch_base = argc > 3 ? argv[3]
                             : std::filesystem::is_directory("/dev/shm")
                                 ? "/dev/shm"
                                 : std::filesystem::temp_directory_path().string();
  const std::string output = argc > 4 ? argv[4] : "";
  const std::string dir = scratch_base + "/tarn-table-bench-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto store = tarn::storage::LocalObjectStore::Create(dir, true);
  if (!store.has_value()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
#ifdef TARN_BENCH_DUCKDB
  auto database = tarn::engine::Database::Open(tarn::engine::DatabaseOptions{});
  if (!database.has_value()) {
    std::fprintf(stderr, "%s\n", database.status().ToString().c_str());
    return 1;
  }
  tarn::engine::DuckCheckpointWriter writer(**database);
  tarn::engine::DuckCheckpointReader reader(**database);
  const char* flavour = "Parquet checkpoints through DuckDB";
#else
  tarn::delta::testing::JsonCheckpointWriter writer;
  tarn::delta::testing::JsonCheckpointReader reader;
  const char* flavour = "JSON stand-in checkpoints";
#endif
  int64_t build_start = tarn::MonotonicNanos();
  {
    LatestTaskRunner runner;
    tarn::delta::TableOptions options;
    options.checkpoint_writer = &writer;
    options.checkpoint_reader = &reader;
    options.post_commit_executor = [&runner](std::function<void()> task) { runner.Submit(std::move(task)); };
    tarn::delta::DeltaTable table(**store, "", options);
    tarn::delta::CreateTableRequest request;
    request.schema = tarn::delta::ParseSchema(
                         R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
                         R"({"name":"name","type":"string","nullable":true,"metadata":{}}]})")
                         .value();
    if (auto created = table.Create(request); !created.has_value()) {
      std::fprintf(stderr, "create: %s\n", created.status().ToString().c_str());
      return 1;
    }
    for (int i = 1; i <= commits; ++i) {
      if (tarn::Status st = Append(table, i); !st.ok()) {
        std::fprintf(stderr, "commit %d: %s\n", i, st.ToString().c_str());
        return 1;
      }
      if (i == commits) {
        // The newest checkpoint (at `commits`) is written synchronously so that every run reads the same segment.
        auto latest = table.Latest();
        auto checkpoint = latest.has_value() ? table.Checkpoint(**latest) : tarn::Result<tarn::delta::CheckpointResult>(latest.status());
        if (!checkpoint.has_value()) {
          std::fprintf(stderr, "checkpoint: %s\n", checkpoint.status().ToString().c_str());
          return 1;
        }
      }
    }
    for (int i = commits + 1; i <= commits + kTail; ++i) {
      if (tarn::Status st = Append(table, i); !st.ok()) return 1;
    }
  }
  const double build_seconds = Millis(build_start) / 1000;

  tarn::delta::DeltaLogOptions with_checkpoints;
  with_checkpoints.checkpoint_reader = &reader;
  std::vector<double> load_ms;
  tarn::delta::SnapshotPtr snapshot;
  for (int run = 0; run < runs; ++run) {
    tarn::delta::DeltaLog log(**store, "", with_checkpoints);
    int64_t start = tarn::MonotonicNanos();
    auto loaded = log.LoadLatest();
    if (!loaded.has_value()) {
      std::fprintf(stderr, "load: %s\n", loaded.status().ToString().c_str());
      return 1;
    }
    load_ms.push_back(Millis(start));
    snapshot = *loaded;
  }
  const int64_t files = snapshot->num_active_files();
  const auto checkpoint_version = snapshot->checkpoint_version();

  // Peer: replay every JSON commit (no checkpoint reader, so the checkpoints are skipped).
  std::vector<double> replay_ms;
  for (int run = 0; run < std::min(runs, 3); ++run) {
    tarn::delta::DeltaLog log(**store, "", tarn::delta::DeltaLogOptions{});
    int64_t start = tarn::MonotonicNanos();
    auto loaded = log.LoadLatest();
    if (!loaded.has_value() || (*loaded)->num_active_files() != files) {
      std::fprintf(stderr, "replay peer: %s\n", loaded.has_value() ? "file count differs" : loaded.status().ToString().c_str());
      return 1;
    }
    replay_ms.push_back(Millis(start));
  }

  // Incremental refresh after one new commit written by another handle (the reader's DeltaLog lists only newer files).
  std::vector<double> refresh_ms;
  {
    tarn::delta::DeltaTable other(**store, "", tarn::delta::TableOptions{});
    tarn::delta::DeltaLog log(**store, "", with_checkpoints);
    for (int run = 0; run < runs; ++run) {
      if (tarn::Status st = Append(other, commits + kTail + 1 + run); !st.ok()) {
        std::fprintf(stderr, "refresh commit: %s\n", st.ToString().c_str());
        return 1;
      }
      int64_t start = tarn::MonotonicNanos();
      auto refreshed = log.Refresh(snapshot);
      if (!refreshed.has_value() || (*refreshed)->version() != snapshot->version() + 1) {
        std::fprintf(stderr, "refresh failed\n");
        return 1;
      }
      refresh_ms.push_back(Millis(start));
      snapshot = *refreshed;
    }
  }
  char line[768];
  std::snprintf(line, sizeof(line),
                "delta table bench (%s, %s): %d commits + %d after checkpoint %lld, %lld files (built in %.1f s): "
                "latest snapshot load median %.2f ms (max %.2f) over %d runs; peer full JSON replay without "
                "checkpoints median %.1f ms = %.1fx slower; refresh after one new commit median %.3f ms (max %.3f)\n",
                flavour, scratch_base.c_str(), commits, kTail,
                static_cast<long long>(checkpoint_version.value_or(-1)), static_cast<long long>(files), build_seconds,
                Median(load_ms), *std::max_element(load_ms.begin(), load_ms.end()), runs, Median(replay_ms),
                Median(replay_ms) / Median(load_ms), Median(refresh_ms),
                *std::max_element(refresh_ms.begin(), refresh_ms.end()));
  std::fputs(line, stdout);
  if (!output.empty()) {
    if (std::FILE* out = std::fopen(output.c_str(), "a")) {
      std::fputs(line, out);
      std::fclose(out);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
