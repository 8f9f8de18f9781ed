// SPDX-License-Identifier: Apache-2.0
// Micro-benchmark: snapshot load time and peak RSS for the 300k-add-files Delta log (kernel-rs benchmark fixture),
// and incremental refresh after one new commit on a scratch copy of that log.
// Usage: delta_snapshot_bench [TABLE_DIR] [RUNS] [OUTPUT_FILE] [SCRATCH_DIR (default /dev/shm or $TMPDIR)]
#include <sys/resource.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tarn/base/clock.hpp"
#include "tarn/delta/delta_log.hpp"
#include "tarn/storage/local_object_store.hpp"

#ifndef TARN_SHARED_DIR
#define TARN_SHARED_DIR ""
#endif

namespace {

constexpr int kRefreshCommits = 20;

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? -1.0 : values[values.size() / 2];
}

// Copies the table's log to a scratch folder, then appends kRefreshCommits one-file commits, timing Refresh after
// each (and the first active_files() call on the result, which builds the file list of a layered snapshot).
std::string MeasureRefresh(const std::string& table, const std::string& scratch_base) {
  namespace fs = std::filesystem;
  std::string scratch = scratch_base + "/tarn-snapshot-bench-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch + "/_delta_log", ec);
  for (const auto& entry : fs::directory_iterator(table + "/_delta_log", ec)) {
    if (entry.is_regular_file()) fs::copy_file(entry.path(), scratch + "/_delta_log/" + entry.path().filename().string(), ec);
  }
  if (ec) return "refresh: cannot copy the log to " + scratch + ": " + ec.message();
  auto store = tarn::storage::LocalObjectStore::Create(scratch, false);
  if (!store.has_value()) return "refresh: " + store.status().ToString();
  tarn::delta::DeltaLog log(**store, "");
  auto loaded = log.LoadLatest();
  if (!loaded.has_value()) return "refresh: " + loaded.status().ToString();
  tarn::delta::SnapshotPtr snapshot = *loaded;
  std::vector<double> refresh_ms;
  std::vector<double> list_ms;
  for (int i = 0; i < kRefreshCommits; ++i) {
    int64_t version = snapshot->version() + 1;
    char name[64];
    std::snprintf(name, sizeof(name), "_delta_log/%020lld.json", static_cast<long long>(version));
    std::string commit = R"({"commitInfo":{"timestamp":1700000000000,"operation":"WRITE"}})"
                         "\n"
                         R"({"add":{"path":"part_1/bench-)" +
                         std::to_string(i) +
                         R"(.parquet","partitionValues":{"partition_col":"part_1"},"size":1024,"modificationTime":1700000000000,"dataChange":true}})"
                         "\n";
    if (!(*store)->PutIfAbsent(name, commit).ok()) return "refresh: cannot write a commit";
    int64_t start = tarn::MonotonicNanos();
    auto refreshed = log.Refresh(snapshot);
    int64_t mid = tarn::MonotonicNanos();
    if (!refreshed.has_value()) return "refresh: " + refreshed.status().ToString();
    snapshot = *refreshed;
    size_t files = snapshot->active_files().size();
    int64_t end = tarn::MonotonicNanos();
    if (static_cast<int64_t>(files) != snapshot->num_active_files()) return "refresh: file count mismatch";
    refresh_ms.push_back(static_cast<double>(mid - start) / 1e6);
    list_ms.push_back(static_cast<double>(end - mid) / 1e6);
  }
  fs::remove_all(scratch, ec);
  double max_refresh = *std::max_element(refresh_ms.begin(), refresh_ms.end());
  char line[512];
  std::snprintf(line, sizeof(line),
                "refresh after one new commit (%d commits, scratch %s): median %.3f ms, max %.3f ms; first "
                "active_files() on the refreshed snapshot: median %.1f ms; %lld active files",
                kRefreshCommits, scratch_base.c_str(), Median(refresh_ms), max_refresh, Median(list_ms),
                static_cast<long long>(snapshot->num_active_files()));
  return line;
}

double CpuSeconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long PeakRssMb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;  // ru_maxrss is in KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
  std::string table = argc > 1 ? argv[1]
                               : std::string(TARN_SHARED_DIR) +
                                     "/conformance/delta/kernel-data/300k-add-files-100-col-partitioned";
  int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  auto store = tarn::storage::LocalObjectStore::Create(table, /*create_root=*/false);
  if (!store.has_value()) {
    std::fprintf(stderr, "cannot open %s: %s\n", table.c_str(), store.status().ToString().c_str());
    return 1;
  }
  tarn::delta::DeltaLog log(**store, "");
  std::vector<double> load_ms;
  int64_t files = 0;
  tarn::delta::SnapshotPtr last;
  const double cpu_start = CpuSeconds();
  for (int i = 0; i < runs; ++i) {
    last.reset();  // measure one live snapshot at a time
    int64_t start = tarn::MonotonicNanos();
    auto snapshot = log.LoadLatest();
    int64_t end = tarn::MonotonicNanos();
    if (!snapshot.has_value()) {
      std::fprintf(stderr, "load failed: %s\n", snapshot.status().ToString().c_str());
      return 1;
    }
    last = *snapshot;
    files = last->num_active_files();
    load_ms.push_back(static_cast<double>(end - start) / 1e6);
  }
  int64_t start = tarn::MonotonicNanos();
  auto refreshed = log.Refresh(last);
  double refresh_ms = static_cast<double>(tarn::MonotonicNanos() - start) / 1e6;
  std::sort(load_ms.begin(), load_ms.end());
  const double load_cpu_ms = (CpuSeconds() - cpu_start) * 1000 / runs;
  long load_rss = PeakRssMb();
  // Side by side: the same loads with the (optional, off by default) parse-ahead thread.
  tarn::delta::DeltaLogOptions parse_ahead;
  parse_ahead.parse_ahead_min_bytes = 0;
  tarn::delta::DeltaLog sequential_log(**store, "", parse_ahead);
  std::vector<double> sequential_ms;
  const double sequential_cpu_start = CpuSeconds();
  for (int i = 0; i < runs; ++i) {
    last.reset();
    int64_t begin = tarn::MonotonicNanos();
    auto snapshot = sequential_log.LoadLatest();
    if (!snapshot.has_value() || (*snapshot)->num_active_files() != files) {
      std::fprintf(stderr, "parse-ahead load failed or differs\n");
      return 1;
    }
    sequential_ms.push_back(static_cast<double>(tarn::MonotonicNanos() - begin) / 1e6);
    last = *snapshot;
  }
  const double sequential_median = Median(sequential_ms);
  const double sequential_cpu_ms = (CpuSeconds() - sequential_cpu_start) * 1000 / runs;
  std::string scratch_base = argc > 4 ? argv[4]
                             : std::filesystem::is_directory("/dev/shm") ? "/dev/shm"
                                                                          : std::filesystem::temp_directory_path().string();
  int64_t last_version = last->version();
  last.reset();
  std::string refresh_line = MeasureRefresh(table, scratch_base);
  char line[1024];
  std::snprintf(line, sizeof(line),
                "delta snapshot load (%s): %lld active files, version %lld, median %.1f ms, min %.1f ms over %d runs; "
                "refresh without new commits %.2f ms; peak RSS %ld MB (after the loads); with the parse-ahead "
                "thread median %.1f ms (%.2fx the default's time); CPU per load %.0f ms by default, %.0f ms with "
                "parse-ahead\n%s\n",
                table.substr(table.rfind('/') + 1).c_str(), static_cast<long long>(files),
                static_cast<long long>(last_version), load_ms[load_ms.size() / 2], load_ms.front(), runs,
                refreshed.has_value() ? refresh_ms : -1.0, load_rss, sequential_median,
                sequential_median / load_ms[load_ms.size() / 2], load_cpu_ms, sequential_cpu_ms, refresh_line.c_str());
  std::fputs(line, stdout);
  if (argc > 3) {
    if (std::FILE* out = std::fopen(argv[3], "a")) {
      std::fputs(line, out);
      std::fclose(out);
    }
  }
  return 0;
}
