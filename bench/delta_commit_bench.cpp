// SPDX-License-Identifier: Apache-2.0
// Micro-benchmark: small-append Delta commits per second as the log grows (checkpoints every 10 commits: none,
// inline after the commit, or on a background thread), next to two bare put-if-absent primitives measured after
// every 1,000-commit window in the same directory, so that machine load affects all alike: the issue's "write + fsync
// + link" and ours (the same plus the directory fsync a durable commit needs). First, per directory, every primitive
// variant (also fdatasync and O_TMPFILE candidates) side by side over interleaved rounds, medians printed.
// Usage: delta_commit_bench [COMMITS_PER_DIR] [OUTPUT_FILE] [DIR...] (default 10000 commits; default dirs: $TMPDIR or
// /tmp, /dev/shm). TARN_BENCH_MODES=none,inline,background picks the modes; TARN_BENCH_PRIMITIVE_ROUNDS (default 9,
// 0 = skip) the rounds of the side-by-side comparison.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iterator>
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

// Durable put-if-absent variants, each creating `kPrimitiveOps` new files of `payload_size` bytes in one directory:
// the issue's "write + fsync + link" (temp file, write, fsync, link to the final name, unlink the temp; no directory
// fsync, so the new name is not yet durable), the one LocalObjectStore::PutIfAbsent runs (the same plus an fsync of
// the directory, which the issue's "fsync of file and directory before a commit counts as done" asks for), and two
// candidates for a cheaper durable commit (fdatasync instead of fsync; an O_TMPFILE inode linked with linkat).
enum class Primitive { kIssue, kOurs, kFdatasync, kTmpfile };
constexpr Primitive kPrimitives[] = {Primitive::kIssue, Primitive::kOurs, Primitive::kFdatasync, Primitive::kTmpfile};
const char* PrimitiveName(Primitive primitive) {
  switch (primitive) {
    case Primitive::kIssue: return "issue primitive: temp+write+fsync+link (no dir fsync)";
    case Primitive::kOurs: return "ours (PutIfAbsent): temp+write+fsync+link+dir fsync";
    case Primitive::kFdatasync: return "temp+write+fdatasync+link+dir fsync";
    case Primitive::kTmpfile: return "O_TMPFILE+write+fdatasync+linkat+dir fsync";
  }
  return "";
}

bool PrimitiveOp(Primitive primitive, const std::string& scratch, int dir_fd, int i, const std::string& payload) {
  std::string target = scratch + "/" + std::to_string(i) + ".json";
  auto write_all = [&payload](int fd) {
    return ::write(fd, payload.data(), payload.size()) == static_cast<ssize_t>(payload.size());
  };
  if (primitive == Primitive::kTmpfile) {
    int fd = ::open(scratch.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    bool ok = write_all(fd) && ::fdatasync(fd) == 0 &&
              ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) == 0;
    ::close(fd);
    return ok && ::fsync(dir_fd) == 0;
  }
  std::string temp = scratch + "/.tmp-" + std::to_string(i);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write_all(fd) && (primitive == Primitive::kFdatasync ? ::fdatasync(fd) : ::fsync(fd)) == 0;
  ok = ::close(fd) == 0 && ok && ::link(temp.c_str(), target.c_str()) == 0 && ::unlink(temp.c_str()) == 0;
  return ok && (primitive == Primitive::kIssue || ::fsync(dir_fd) == 0);
}

double PrimitiveOpsPerSecond(const std::string& dir, size_t payload_size, Primitive primitive) {
  std::string scratch = dir + "/primitive";
  std::filesystem::remove_all(scratch);
  std::filesystem::create_directories(scratch);
  std::string payload(payload_size, 'x');
  int dir_fd = ::open(scratch.c_str(), O_RDONLY | O_DIRECTORY);
  int64_t start = tarn::MonotonicNanos();
  for (int i = 0; i < kPrimitiveOps; ++i) {
    if (!PrimitiveOp(primitive, scratch, dir_fd, i, payload)) {
      std::perror(PrimitiveName(primitive));
      ::close(dir_fd);
      return 0;
    }
  }
  double seconds = static_cast<double>(tarn::MonotonicNanos() - start) / 1e9;
  ::close(dir_fd);
  std::filesystem::remove_all(scratch);
  return kPrimitiveOps / seconds;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Runs every primitive variant `rounds` times, interleaved (so load changes hit all alike), and prints the medians.
void ComparePrimitives(const std::string& base_dir, size_t payload_size, int rounds) {
  std::string dir = base_dir + "/tarn-commit-bench-primitives-" + std::to_string(::getpid());
  std::vector<std::vector<double>> rates(std::size(kPrimitives));
  for (int round = 0; round < rounds; ++round) {
    for (size_t v = 0; v < std::size(kPrimitives); ++v) {
      size_t index = (v + static_cast<size_t>(round)) % std::size(kPrimitives);  // rotate the order per round
      rates[index].push_back(PrimitiveOpsPerSecond(dir, payload_size, kPrimitives[index]));
    }
  }
  std::filesystem::remove_all(dir);
  std::string line = "primitives (" + base_dir + ", " + std::to_string(payload_size) + "-byte files, median of " +
                     std::to_string(rounds) + " interleaved rounds of " + std::to_string(kPrimitiveOps) + " ops):";
  double issue = Median(rates[0]);
  for (size_t v = 0; v < std::size(kPrimitives); ++v) {
    char part[200];
    double median = Median(rates[v]);
    std::snprintf(part, sizeof(part), "\n  %-58s %6.0f ops/s (%.2fx the issue primitive)", PrimitiveName(kPrimitives[v]),
                  median, issue > 0 ? median / issue : 0.0);
    line += part;
  }
  Emit(line + "\n");
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
  std::vector<double> primitives;        // ours: with the directory fsync
  std::vector<double> issue_primitives;  // the issue's: without it
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
      // Both primitives after each window, in alternating order.
      if (rates.size() % 2) {
        primitives.push_back(PrimitiveOpsPerSecond(dir, commit_bytes, Primitive::kOurs));
        issue_primitives.push_back(PrimitiveOpsPerSecond(dir, commit_bytes, Primitive::kIssue));
      } else {
        issue_primitives.push_back(PrimitiveOpsPerSecond(dir, commit_bytes, Primitive::kIssue));
        primitives.push_back(PrimitiveOpsPerSecond(dir, commit_bytes, Primitive::kOurs));
      }
      window_start = tarn::MonotonicNanos();
    }
  }
  std::string line = "delta commit bench (" + base_dir + ", " + ModeName(mode) +
                     "): commits/s (our primitive ops/s / issue primitive ops/s) per " + std::to_string(window) +
                     "-commit window:";
  double sum = 0;
  double primitive_sum = 0;
  for (size_t w = 0; w < rates.size(); ++w) {
    line += " [" + std::to_string(w * window / 1000) + "k-" + std::to_string((w + 1) * window / 1000) + "k] " +
            std::to_string(static_cast<int>(rates[w])) + " (" + std::to_string(static_cast<int>(primitives[w])) + " / " +
            std::to_string(static_cast<int>(issue_primitives[w])) + ")";
    sum += rates[w];
    primitive_sum += primitives[w];
  }
  double mean = rates.empty() ? 0 : sum / static_cast<double>(rates.size());
  double primitive = rates.empty() ? 0 : primitive_sum / static_cast<double>(rates.size());
  double issue_primitive = Median(issue_primitives);
  auto [low, high] = std::minmax_element(rates.begin(), rates.end());
  char tail[300];
  std::snprintf(tail, sizeof(tail),
                "; mean %.0f commits/s (median window %.0f) = %.0f%% of our primitive (%.0f ops/s), %.0f%% of the "
                "issue primitive (median %.0f ops/s); slowest/fastest window %.2f; %d checkpoints\n",
                mean, Median(rates), primitive > 0 ? 100.0 * mean / primitive : 0.0, primitive,
                issue_primitive > 0 ? 100.0 * mean / issue_primitive : 0.0, issue_primitive,
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
  const int rounds = std::getenv("TARN_BENCH_PRIMITIVE_ROUNDS") ? std::atoi(std::getenv("TARN_BENCH_PRIMITIVE_ROUNDS"))
                                                                  : 9;
  for (const std::string& dir : dirs) {
    // Same payload size as a small-append commit of the runs below (measured there as ~600-700 bytes).
    if (rounds > 0) ComparePrimitives(dir, 650, rounds);
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
