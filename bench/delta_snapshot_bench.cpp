// SPDX-License-Identifier: Apache-2.0
// Micro-benchmark: snapshot load time and peak RSS for the 300k-add-files Delta log (kernel-rs benchmark fixture).
// Usage: delta_snapshot_bench [TABLE_DIR] [RUNS] [OUTPUT_FILE]
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "tarn/base/clock.hpp"
#include "tarn/delta/delta_log.hpp"
#include "tarn/storage/local_object_store.hpp"

#ifndef TARN_SHARED_DIR
#define TARN_SHARED_DIR ""
#endif

namespace {

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
  char line[512];
  std::snprintf(line, sizeof(line),
                "delta snapshot load (%s): %lld active files, version %lld, median %.1f ms, min %.1f ms over %d runs; "
                "refresh without new commits %.2f ms; peak RSS %ld MB\n",
                table.substr(table.rfind('/') + 1).c_str(), static_cast<long long>(files),
                static_cast<long long>(last->version()), load_ms[load_ms.size() / 2], load_ms.front(), runs,
                refreshed.has_value() ? refresh_ms : -1.0, PeakRssMb());
  std::fputs(line, stdout);
  if (argc > 3) {
    if (std::FILE* out = std::fopen(argv[3], "a")) {
      std::fputs(line, out);
      std::fclose(out);
    }
  }
  return 0;
}
