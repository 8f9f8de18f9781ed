// SPDX-License-Identifier: Apache-2.0
// Micro-benchmark: small-append Delta commits per second as the log grows (checkpoints every 10 commits: none,
// inline after the commit, or on a background thread), next to two put-if-absent primitives measured after every
// 1,000-commit window in the same directory, so that machine load affects all alike: the issue's bare "write + fsync
// + link" and ours (LocalObjectStore::PutIfAbsent, durable: file and directory synced). First, per directory, the
// primitives (also PutIfAbsent's named-temp-file fallback) side by side over interleaved rounds, medians printed.
// Usage: delta_commit_bench [COMMITS_PER_DIR] [OUTPUT_FILE] [DIR...] (default 10000 commits; default dirs: $TMPDIR or
// /tmp, /dev/shm). TARN_BENCH_MODES=none,inline,background picks the modes; TARN_BENCH_PRIMITIVE_ROUNDS (default 9,
// 0 = skip) the rounds of the side-by-side comparison; TARN_BENCH_NAMED_TEMP=1 commits without O_TMPFILE.
// Built as delta_commit_bench_engine (TARN_BENCH_ENGINE) it also has mode "production": the engine's process-wide
// background DeltaCheckpointer with the real Parquet checkpoint writer, as DeltaWriter and the SQL paths commit (the
// default modes there are none,production), and it first times whole Parquet checkpoints (content + file + fsync +
// _last_checkpoint) of tables with TARN_BENCH_CHECKPOINT_FILES files (default 5000,10000,100000; "" = skip).
// TARN_BENCH_IDLE_RATIO sets DeltaCheckpointerOptions::idle_ratio (default 1.0 as in production; 0 = back to back).
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tarn/base/clock.hpp"
#include "tarn/base/logging.hpp"
#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/tests/json_checkpoint_files.hpp"
#include "tarn/delta/transaction.hpp"
#include "tarn/storage/local_object_store.hpp"
#ifdef TARN_BENCH_ENGINE
#include "tarn/delta/table_properties.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/delta_checkpoint_writer.hpp"
#include "tarn/engine/delta_checkpointer.hpp"
#endif

namespace {

constexpr int kPrimitiveOps = 100;
constexpr int kWindow = 1000;

enum class Mode { kNone, kInline, kBackground, kProduction };
const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kNone: return "no checkpoints";
    case Mode::kInline: return "checkpoint every 10, inline after the commit";
    case Mode::kBackground: return "checkpoint every 10, in a background thread";
    case Mode::kProduction:
      return "production: engine DeltaCheckpointer (coalescing, Parquet checkpoints), interval 10";
  }
  return "";
}

#ifdef TARN_BENCH_ENGINE
std::unique_ptr<tarn::engine::Database> g_database;
#endif

std::string g_report;

// Directories are removed only when the bench ends: on ext4 without a journal, creating an inode skips every inode
// of the group freed in the last 5 s (300 s while its inode table block is still dirty), so deleting the scratch
// files between measurements would slow down every later file creation, commits and primitives alike (see
// ext4 recently_deleted()). Leave ~40 s between two runs of the bench for the same reason.
std::vector<std::string> g_remove_at_exit;
int g_scratch_counter = 0;

void RemoveAtExit(const std::string& dir) { g_remove_at_exit.push_back(dir); }

int64_t CpuNanos(clockid_t clock) {
  struct timespec ts;
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

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

// Put-if-absent primitives, each creating `kPrimitiveOps` new files of `payload_size` bytes in one directory: the
// issue's "write + fsync + link" (temp file, write, fsync, link to the final name, unlink the temp; no directory
// fsync, so the new name is not yet durable), LocalObjectStore::PutIfAbsent as commits run it (O_TMPFILE inode,
// write, sync_file_range, linkat, fsync of file and directory) and the same store with O_TMPFILE off (the named temp
// file path: temp, write, fsync, link, unlink, directory fsync; what commits ran before).
enum class Primitive { kIssue, kOurs, kNamedTemp };
constexpr Primitive kPrimitives[] = {Primitive::kIssue, Primitive::kOurs, Primitive::kNamedTemp};
const char* PrimitiveName(Primitive primitive) {
  switch (primitive) {
    case Primitive::kIssue: return "issue primitive: temp+write+fsync+link (no dir fsync)";
    case Primitive::kOurs: return "ours, PutIfAbsent: O_TMPFILE+write+linkat+fsync+dir fsync";
    case Primitive::kNamedTemp: return "PutIfAbsent, named temp: temp+fsync+link+dir fsync";
  }
  return "";
}

bool IssuePrimitiveOp(const std::string& scratch, int i, const std::string& payload) {
  std::string target = scratch + "/" + std::to_string(i) + ".json";
  std::string temp = scratch + "/.tmp-" + std::to_string(i);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = ::write(fd, payload.data(), payload.size()) == static_cast<ssize_t>(payload.size()) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  return ok && ::link(temp.c_str(), target.c_str()) == 0 && ::unlink(temp.c_str()) == 0;
}

double PrimitiveOpsPerSecond(const std::string& dir, size_t payload_size, Primitive primitive) {
  std::string scratch = dir + "/primitive-" + std::to_string(++g_scratch_counter);
  std::filesystem::create_directories(scratch);
  RemoveAtExit(scratch);
  std::string payload(payload_size, 'x');
  std::unique_ptr<tarn::storage::LocalObjectStore> store;
  if (primitive != Primitive::kIssue) {
    store = tarn::storage::LocalObjectStore::Create(scratch, false,
                                                    {.use_tmpfile = primitive == Primitive::kOurs})
                .value();
  }
  int64_t start = tarn::MonotonicNanos();
  for (int i = 0; i < kPrimitiveOps; ++i) {
    bool ok = false;
    if (store) {
      tarn::Status put = store->PutIfAbsent(std::to_string(i) + ".json", payload);
      ok = put.ok();
      if (!ok) std::fprintf(stderr, "%s\n", put.ToString().c_str());
    } else {
      ok = IssuePrimitiveOp(scratch, i, payload);
      if (!ok) std::perror(PrimitiveName(primitive));
    }
    if (!ok) return 0;
  }
  double seconds = static_cast<double>(tarn::MonotonicNanos() - start) / 1e9;
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
  RemoveAtExit(dir);
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
  std::string dir =
      base_dir + "/tarn-commit-bench-" + std::to_string(::getpid()) + "-" + std::to_string(static_cast<int>(mode));
  std::filesystem::remove_all(dir);
  RemoveAtExit(dir);
  std::filesystem::create_directories(dir);
  // TARN_BENCH_NAMED_TEMP=1: commit through the named-temp-file path (as before O_TMPFILE), for a before/after run.
  const char* named_temp_env = std::getenv("TARN_BENCH_NAMED_TEMP");
  const bool named_temp = named_temp_env != nullptr && std::string(named_temp_env) == "1";
  auto store = tarn::storage::LocalObjectStore::Create(dir, true, {.use_tmpfile = !named_temp});
  if (!store.has_value()) {
    std::fprintf(stderr, "cannot open %s: %s\n", dir.c_str(), store.status().ToString().c_str());
    return 1;
  }
  tarn::delta::testing::JsonCheckpointWriter writer;  // stand-in for the engine's Parquet checkpoint writer
  tarn::delta::testing::JsonCheckpointReader reader;
  tarn::delta::TableOptions options;
  if (mode == Mode::kInline || mode == Mode::kBackground) options.checkpoint_writer = &writer;
  options.checkpoint_reader = &reader;
#ifdef TARN_BENCH_ENGINE
  // Production: what DeltaWriter sets up (Parquet reader and writer, the background checkpointer).
  tarn::engine::DuckCheckpointReader duck_reader(*g_database);
  tarn::engine::DuckCheckpointWriter duck_writer(*g_database);
  std::mutex versions_mu;
  std::vector<int64_t> checkpoint_versions;
  std::unique_ptr<tarn::engine::DeltaCheckpointer> checkpointer;
  if (mode == Mode::kProduction) {
    options.checkpoint_reader = &duck_reader;
    tarn::engine::DeltaCheckpointerOptions checkpointer_options;
    checkpointer_options.on_checkpoint = [&](const std::string&, const tarn::delta::CheckpointResult& result) {
      std::lock_guard lock(versions_mu);
      checkpoint_versions.push_back(result.version);
    };
    // TARN_BENCH_IDLE_RATIO overrides the checkpointer's rest between checkpoints (default: the production 1.0).
    if (const char* ratio = std::getenv("TARN_BENCH_IDLE_RATIO")) checkpointer_options.idle_ratio = std::atof(ratio);
    checkpointer = std::make_unique<tarn::engine::DeltaCheckpointer>(duck_writer, checkpointer_options);
    options.post_commit_scheduler = checkpointer.get();
  }
#endif
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
  // CPU time during the commit windows only (not while the primitives run): the committing thread's, and the whole
  // process's (which adds background checkpoints).
  int64_t thread_cpu = 0;
  int64_t process_cpu = 0;
  int64_t thread_cpu_start = CpuNanos(CLOCK_THREAD_CPUTIME_ID);
  int64_t process_cpu_start = CpuNanos(CLOCK_PROCESS_CPUTIME_ID);
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
      thread_cpu += CpuNanos(CLOCK_THREAD_CPUTIME_ID) - thread_cpu_start;
      process_cpu += CpuNanos(CLOCK_PROCESS_CPUTIME_ID) - process_cpu_start;
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
      thread_cpu_start = CpuNanos(CLOCK_THREAD_CPUTIME_ID);
      process_cpu_start = CpuNanos(CLOCK_PROCESS_CPUTIME_ID);
    }
  }
  std::string line = "delta commit bench (" + base_dir + ", " + ModeName(mode) +
                     (named_temp ? ", named temp files" : "") +
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
  const double measured = static_cast<double>(rates.size()) * window;
  char tail[400];
  std::snprintf(tail, sizeof(tail),
                "; mean %.0f commits/s (median window %.0f) = %.0f%% of our primitive (%.0f ops/s), %.0f%% of the "
                "issue primitive (median %.0f ops/s); slowest/fastest window %.2f; %d checkpoints; CPU per commit "
                "%.0f us in the committing thread, %.0f us in the process\n",
                mean, Median(rates), primitive > 0 ? 100.0 * mean / primitive : 0.0, primitive,
                issue_primitive > 0 ? 100.0 * mean / issue_primitive : 0.0, issue_primitive,
                rates.empty() ? 0.0 : *low / *high, writer.num_written(),
                measured > 0 ? static_cast<double>(thread_cpu) / 1e3 / measured : 0.0,
                measured > 0 ? static_cast<double>(process_cpu) / 1e3 / measured : 0.0);
  line += tail;
  executor.reset();
#ifdef TARN_BENCH_ENGINE
  if (checkpointer) {
    int64_t drain_start = tarn::MonotonicNanos();
    checkpointer->Drain();
    double drain_ms = static_cast<double>(tarn::MonotonicNanos() - drain_start) / 1e6;
    auto stats = checkpointer->stats();
    std::vector<int64_t> versions;
    {
      std::lock_guard lock(versions_mu);
      versions = checkpoint_versions;
    }
    std::vector<double> gaps;
    for (size_t k = 1; k < versions.size(); ++k) gaps.push_back(static_cast<double>(versions[k] - versions[k - 1]));
    char more[400];
    std::snprintf(more, sizeof(more),
                  "  production checkpointer: %lld Parquet checkpoints written (%lld failed), versions %lld..%lld, "
                  "spacing min %.0f / median %.0f / max %.0f versions; drain after the last commit %.0f ms\n",
                  static_cast<long long>(stats.checkpoints_written), static_cast<long long>(stats.checkpoints_failed),
                  versions.empty() ? -1LL : static_cast<long long>(versions.front()),
                  versions.empty() ? -1LL : static_cast<long long>(versions.back()),
                  gaps.empty() ? 0.0 : *std::min_element(gaps.begin(), gaps.end()), Median(gaps),
                  gaps.empty() ? 0.0 : *std::max_element(gaps.begin(), gaps.end()), drain_ms);
    line += more;
    std::string list = "  checkpoint versions:";
    for (int64_t v : versions) list += " " + std::to_string(v);
    line += list + "\n";
    checkpointer.reset();
  }
#endif
  Emit(line);
  return 0;
}

#ifdef TARN_BENCH_ENGINE
// Whole checkpoints of tables with `files` files, as the checkpointer writes them (delta::WriteCheckpoint: content
// from the snapshot, DuckCheckpointWriter's Parquet file with fsync + rename, _last_checkpoint), median of 3 each.
void TimeCheckpoints(const std::string& base_dir, const std::vector<int>& file_counts) {
  for (int files : file_counts) {
    std::string dir = base_dir + "/tarn-checkpoint-bench-" + std::to_string(::getpid()) + "-" + std::to_string(files);
    RemoveAtExit(dir);
    std::filesystem::create_directories(dir);
    auto store = tarn::storage::LocalObjectStore::Create(dir, false).value();
    tarn::engine::DuckCheckpointReader reader(*g_database);
    tarn::engine::DuckCheckpointWriter writer(*g_database);
    tarn::delta::TableOptions options;
    options.checkpoint_reader = &reader;
    tarn::delta::DeltaTable table(*store, "", options);
    tarn::delta::CreateTableRequest request;
    request.schema = tarn::delta::ParseSchema(
                         R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
                         R"({"name":"name","type":"string","nullable":true,"metadata":{}}]})")
                         .value();
    if (!table.Create(request).has_value()) return;
    auto txn = table.StartTransaction().value();
    for (int i = 0; i < files; ++i) {
      tarn::delta::AddAction add;
      add.path = "part-" + std::to_string(i) + "-c000.snappy.parquet";
      add.size = 1024;
      add.modification_time = tarn::NowMillis();
      add.stats = R"({"numRecords":10,"minValues":{"id":1,"name":"a"},"maxValues":{"id":10,"name":"z"},"nullCount":{"id":0,"name":0}})";
      txn->AddFile(std::move(add));
    }
    auto committed = txn->Commit();
    if (!committed.has_value() || committed->snapshot == nullptr) return;
    std::vector<double> total_ms;
    std::vector<double> content_ms;
    int64_t bytes = 0;
    for (int run = 0; run < 3; ++run) {
      int64_t start = tarn::MonotonicNanos();
      auto content = tarn::delta::BuildCheckpointContent(*committed->snapshot, {});
      content_ms.push_back(static_cast<double>(tarn::MonotonicNanos() - start) / 1e6);
      start = tarn::MonotonicNanos();
      auto result = tarn::delta::WriteCheckpoint(*store, "", *committed->snapshot, writer, {});
      total_ms.push_back(static_cast<double>(tarn::MonotonicNanos() - start) / 1e6);
      if (!result.has_value()) {
        std::fprintf(stderr, "checkpoint failed: %s\n", result.status().ToString().c_str());
        return;
      }
      bytes = result->size_in_bytes;
    }
    char line[300];
    std::snprintf(line, sizeof(line),
                  "Parquet checkpoint of %d files (%s): whole checkpoint median %.1f ms (%.2f us per file, %.2f MB), "
                  "of which building the content from the snapshot %.1f ms\n",
                  files, base_dir.c_str(), Median(total_ms), 1e3 * Median(total_ms) / files,
                  static_cast<double>(bytes) / 1e6, Median(content_ms));
    Emit(line);
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  tarn::Log::SetLevel(tarn::LogLevel::kWarn);
  int commits = argc > 1 ? std::max(1, std::atoi(argv[1])) : 10000;
  std::vector<Mode> modes;
#ifdef TARN_BENCH_ENGINE
  const char* default_modes = "none,production";
  g_database = tarn::engine::Database::Open({}).value();
#else
  const char* default_modes = "none,inline,background";
#endif
  std::string mode_list = std::getenv("TARN_BENCH_MODES") ? std::getenv("TARN_BENCH_MODES") : default_modes;
  if (mode_list.find("none") != std::string::npos) modes.push_back(Mode::kNone);
  if (mode_list.find("inline") != std::string::npos) modes.push_back(Mode::kInline);
  if (mode_list.find("background") != std::string::npos) modes.push_back(Mode::kBackground);
#ifdef TARN_BENCH_ENGINE
  if (mode_list.find("production") != std::string::npos) modes.push_back(Mode::kProduction);
  std::vector<int> checkpoint_files;
  {
    std::string list = std::getenv("TARN_BENCH_CHECKPOINT_FILES") ? std::getenv("TARN_BENCH_CHECKPOINT_FILES")
                                                                   : "5000,10000,100000";
    for (size_t pos = 0; pos < list.size();) {
      size_t comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      if (comma > pos) checkpoint_files.push_back(std::atoi(list.substr(pos, comma - pos).c_str()));
      pos = comma + 1;
    }
  }
#endif
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
#ifdef TARN_BENCH_ENGINE
    TimeCheckpoints(dir, checkpoint_files);
#endif
    for (Mode mode : modes) {
      if (RunDir(dir, commits, mode) != 0) return 1;
    }
  }
  for (const std::string& dir : g_remove_at_exit) std::filesystem::remove_all(dir);
  if (!output.empty()) {
    if (std::FILE* out = std::fopen(output.c_str(), "a")) {
      std::fputs(g_report.c_str(), out);
      std::fclose(out);
    }
  }
  return 0;
}
