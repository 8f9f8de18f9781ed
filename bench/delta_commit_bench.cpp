// SPDX-License-Identifier: Apache-2.0
// Micro-benchmark: small-append Delta commits per second as the log grows (checkpoints every 10 commits: none,
// inline after the commit, or on a background thread), next to the bare durable put-if-absent primitive (write +
// fsync + link + directory fsync) measured after every 1,000-commit window in the same directory, so that machine
// load affects both alike. Usage: delta_commit_bench [COMMITS_PER_DIR] [OUTPUT_FILE] [DIR...]
// (default 10000 commits; default dirs: $TMPDIR or /tmp, /dev/shm). TARN_BENCH_MODES=none,inline,background picks
// the modes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <filesystem>
#include <string>
#include <vector>

#include "tarn/base/clock.hpp"
#include "tarn/base/logging.hpp"
#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/tests/json_checkpoint_files.hpp"
#include "tarn/delta/transaction.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace {

constexpr int kPrimitiveOps = 100;
constexpr int kWindow = 1000;

enum class Mode { kNone, kInline, kBackground };
const char* ModeName(Mode mode) {
  return mode == Mode::kNone ? "no checkpoints" : mode == Mode::kInline ? "checkpoint every 10, inline after the commit"
                                                                          : "checkpoint every 10, in a background thread";
}

std::string g_report;

// Runs post-commit work (checkpoints) on one background thread, as a server would; Drain() waits for the queue.
class BackgroundExecutor {
 public:
  BackgroundExecutor() : worker_([this] { Loop(); }) {}
  ~BackgroundExecutor() {
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
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        // Only the newest checkpoint matters: older queued ones are superseded.
        task = std::move(tasks_.back());
        tasks_.clear();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread worker_;
};

void Emit(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
  g_report += line;
}

// The primitive a LocalObjectStore commit is built from, with the same payload size as a small append commit.
double PrimitiveOpsPerSecond(const std::string& dir, size_t payload_size) {
  std::string scratch = dir + "/primitive";
  std::filesystem::create_directories(scratch);
  std::string payload(payload_size, 'x');
  int dir_fd = ::open(scratch.c_str(), O_RDONLY | O_DIRECTORY);
  int64_t start = tarn::MonotonicNanos();
  for (int i = 0; i < kPrimitiveOps; ++i) {
    std::string temp = scratch + "/.tmp-" + std::to_string(i);
    std::string target = scratch + "/" + std::to_string(i) + ".json";
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, payload.data(), payload.size()) != static_cast<ssize_t>(payload.size()) ||
        ::fsync(fd) != 0 || ::close(fd) != 0 || ::link(temp.c_str(), target.c_str()) != 0 ||
        ::unlink(temp.c_str()) != 0 || ::fsync(dir_fd) != 0) {
      std::perror("primitive");
      return 0;
    }
  }
  double seconds = static_cast<double>(tarn::MonotonicNanos() - start) / 1e9;
  ::close(dir_fd);
  std::filesystem::remove_all(scratch);
  return kPrimitiveOps / seconds;
}

int RunDir(const std::string& base_dir, int commits, Mode mode) {
  const bool background = mode == Mode::kBackground;
  std::string dir = base_dir + "/tarn-commit-bench-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = tarn::storage::LocalObjectStore::Create(dir, true);
  if (!store.has_value()) {
    std::fprintf(stderr, "cannot open %s: %s\n", dir.c_str(), store.status().ToString().c_str());
    return 1;
  }
  tarn::delta::testing::JsonCheckpointWriter writer;  // stand-in for the engine's Parquet checkpoint writer
  tarn::delta::testing::JsonCheckpointReader reader;
  tarn::delta::TableOptions options;
  if (mode != Mode::kNone) options.checkpoint_writer = &writer;
  options.checkpoint_reader = &reader;
  auto executor = background ? std::make_unique<BackgroundExecutor>() : nullptr;
  if (executor) options.post_commit_executor = [&executor](std::function<void()> task) { executor->Submit(std::move(task)); };
  tarn::delta::DeltaTable table(**store, "t", options);
  tarn::delta::CreateTableRequest request;
  request.schema = tarn::delta::ParseSchema(
                       R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
                       R"({"name":"name","type":"string","nullable":true,"metadata":{}}]})")
                       .value();
  if (auto created = table.Create(request); !created.has_value()) {
    std::fprintf(stderr, "create failed: %s\n", created.status().ToString().c_str());
    return 1;
  }
  size_t commit_bytes = 0;
  std::vector<double> rates;
  std::vector<double> primitives;
  const int window = std::min(kWindow, commits);
  int64_t window_start = tarn::MonotonicNanos();
  for (int i = 1; i <= commits; ++i) {
    auto txn = table.StartTransaction();
    if (!txn.has_value()) {
      std::fprintf(stderr, "start failed: %s\n", txn.status().ToString().c_str());
      return 1;
    }
    tarn::delta::AddAction add;
    add.path = "part-" + std::to_string(i) + "-c000.snappy.parquet";
    add.size = 1024;
    add.modification_time = tarn::NowMillis();
    add.stats = R"({"numRecords":10,"minValues":{"id":1,"name":"a"},"maxValues":{"id":10,"name":"z"},"nullCount":{"id":0,"name":0}})";
    (*txn)->AddFile(std::move(add));
    auto result = (*txn)->Commit();
    if (!result.has_value()) {
      std::fprintf(stderr, "commit %d failed: %s\n", i, result.status().ToString().c_str());
      return 1;
    }
    if (i == 1) commit_bytes = static_cast<size_t>((*store)->Stat("t/_delta_log/00000000000000000001.json")->size);
    if (i % window == 0) {
      int64_t now = tarn::MonotonicNanos();
      rates.push_back(window / (static_cast<double>(now - window_start) / 1e9));
      primitives.push_back(PrimitiveOpsPerSecond(dir, commit_bytes));
      window_start = tarn::MonotonicNanos();
    }
  }
  std::string line = "delta commit bench (" + base_dir + ", " + ModeName(mode) + "): commits/s (primitive ops/s) per " +
                     std::to_string(window) + "-commit window:";
  double sum = 0;
  double primitive_sum = 0;
  for (size_t w = 0; w < rates.size(); ++w) {
    line += " [" + std::to_string(w * window / 1000) + "k-" + std::to_string((w + 1) * window / 1000) + "k] " +
            std::to_string(static_cast<int>(rates[w])) + " (" + std::to_string(static_cast<int>(primitives[w])) + ")";
    sum += rates[w];
    primitive_sum += primitives[w];
  }
  double mean = rates.empty() ? 0 : sum / static_cast<double>(rates.size());
  double primitive = rates.empty() ? 0 : primitive_sum / static_cast<double>(rates.size());
  auto [low, high] = std::minmax_element(rates.begin(), rates.end());
  char tail[200];
  std::snprintf(tail, sizeof(tail),
                "; mean %.0f commits/s = %.0f%% of the primitive (%.0f ops/s); slowest/fastest window %.2f; %d "
                "checkpoints\n",
                mean, primitive > 0 ? 100.0 * mean / primitive : 0.0, primitive,
                rates.empty() ? 0.0 : *low / *high, writer.num_written());
  line += tail;
  executor.reset();
  Emit(line);
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tarn::Log::SetLevel(tarn::LogLevel::kWarn);
  int commits = argc > 1 ? std::max(1, std::atoi(argv[1])) : 10000;
  std::vector<Mode> modes;
  std::string mode_list = std::getenv("TARN_BENCH_MODES") ? std::getenv("TARN_BENCH_MODES") : "none,inline,background";
  if (mode_list.find("none") != std::string::npos) modes.push_back(Mode::kNone);
  if (mode_list.find("inline") != std::string::npos) modes.push_back(Mode::kInline);
  if (mode_list.find("background") != std::string::npos) modes.push_back(Mode::kBackground);
  std::string output = argc > 2 ? argv[2] : "";
  std::vector<std::string> dirs;
  for (int i = 3; i < argc; ++i) dirs.emplace_back(argv[i]);
  if (dirs.empty()) {
    dirs.push_back(std::filesystem::temp_directory_path().string());
    if (std::filesystem::is_directory("/dev/shm")) dirs.emplace_back("/dev/shm");
  }
  for (const std::string& dir : dirs) {
    for (Mode mode : modes) {
      if (RunDir(dir, commits, mode) != 0) return 1;
    }
  }
  if (!output.empty()) {
    if (std::FILE* out = std::fopen(output.c_str(), "a")) {
      std::fputs(g_report.c_str(), out);
      std::fclose(out);
    }
  }
  return 0;
}
