// SPDX-License-Identifier: Apache-2.0
// Benchmark: a selective filter on a Delta table of many small files. Prints how many files the scan plan keeps
// (stats-based skipping), and times the query through delta.`path` next to DuckDB's own read_parquet over the same
// files with the same filter (DuckDB then opens every footer and skips row groups itself).
// Usage: delta_filter_bench [FILES=1000] [ROWS_PER_FILE=1000] [RUNS=7] [DIR=$TMPDIR or /tmp]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_scan_plan.hpp"
#include "tarn/engine/delta_table.hpp"
#include "tarn/engine/delta_writer.hpp"
#include "tarn/engine/session.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Millis(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void Check(const tarn::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

// Runs `sql` and returns the first column of the first row as text.
std::string Scalar(tarn::engine::Session& session, const std::string& sql) {
  auto stream = session.Execute(sql);
  Check(stream.status(), sql.c_str());
  std::string out;
  while (true) {
    auto chunk = (*stream)->Next();
    Check(chunk.status(), sql.c_str());
    if (!*chunk) return out;
    if (out.empty() && (*chunk)->num_rows() > 0) out = (*chunk)->FormatValue(0, 0, tarn::engine::ValueStyle::kDuckDb);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int files = argc > 1 ? std::max(1, std::atoi(argv[1])) : 1000;
  int rows = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1000;
  int runs = argc > 3 ? std::max(1, std::atoi(argv[3])) : 7;
  const char* tmp = std::getenv("TMPDIR");
  std::string base = argc > 4 ? argv[4] : (tmp != nullptr ? tmp : "/tmp");
  std::string pattern = base + "/tarn-filter-bench-XXXXXX";
  std::string dir = mkdtemp(pattern.data());
  std::string root = dir + "/table";

  auto database = tarn::engine::Database::Open({}).value();
  tarn::engine::DeltaWriter writer(*database);
  auto start = Clock::now();
  tarn::engine::DeltaCreateTable create;
  create.columns = {{"id", "BIGINT"}, {"s", "STRING"}, {"v", "DOUBLE"}};
  Check(writer.CreateTable(root, create).status(), "create");
  for (int f = 0; f < files; f++) {
    // Each append is one file whose ids are [f*rows, (f+1)*rows): min/max stats are disjoint between files.
    tarn::engine::DeltaWrite append;
    append.source_query = "SELECT range AS id, md5(range::VARCHAR) AS s, range * 0.5 AS v FROM range(" +
                          std::to_string(int64_t{f} * rows) + ", " + std::to_string(int64_t{f + 1} * rows) + ")";
    Check(writer.Write(root, append).status(), "append");
  }
  std::printf("table: %d files x %d rows written in %.0f ms (%s)\n", files, rows, Millis(start), root.c_str());

  // How many files the scan plan keeps for each filter.
  tarn::engine::DeltaTableLoader loader(*database);
  auto table = loader.Load({root, std::nullopt, std::nullopt}).value();
  int64_t point = int64_t{files / 2} * rows + rows / 3;
  int64_t range_lo = int64_t{files / 4} * rows;
  int64_t range_hi = range_lo + 10LL * rows;  // 10 files' worth
  struct Case {
    std::string name;
    std::vector<tarn::engine::ScanPredicate> predicates;
    std::string where;
  };
  std::vector<Case> cases = {
      {"id = " + std::to_string(point), {{"id", "=", std::to_string(point)}}, "id = " + std::to_string(point)},
      {"id in [" + std::to_string(range_lo) + ", " + std::to_string(range_hi) + ")",
       {{"id", ">=", std::to_string(range_lo)}, {"id", "<", std::to_string(range_hi)}},
       "id >= " + std::to_string(range_lo) + " AND id < " + std::to_string(range_hi)},
  };

  auto session = database->Connect().value();
  std::string file_list = "[";
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path().extension() == ".parquet") {
      file_list += (file_list.size() > 1 ? ", '" : "'") + entry.path().string() + "'";
    }
  }
  file_list += "]";
  for (const Case& c : cases) {
    auto plan = tarn::engine::DeltaScanPlan::ForSnapshot(table, c.predicates).value();
    std::string delta_sql = "SELECT count(*), sum(v) FROM delta.`" + root + "` WHERE " + c.where;
    std::string duck_sql = "SELECT count(*), sum(v) FROM read_parquet(" + file_list + ") WHERE " + c.where;
    std::string delta_count = Scalar(*session, delta_sql);
    std::string duck_count = Scalar(*session, duck_sql);
    std::vector<double> delta_ms, duck_ms;
    for (int r = 0; r < runs; r++) {
      auto t0 = Clock::now();
      Scalar(*session, delta_sql);
      delta_ms.push_back(Millis(t0));
      t0 = Clock::now();
      Scalar(*session, duck_sql);
      duck_ms.push_back(Millis(t0));
    }
    double tarn_median = Median(delta_ms);
    double duck_median = Median(duck_ms);
    std::printf("filter %s: files read %zu of %d (skipped %lld); rows %s (DuckDB %s); delta.`path` median %.1f ms, "
                "DuckDB read_parquet of all files %.1f ms, ratio %.2fx\n",
                c.name.c_str(), plan->files().size(), files, static_cast<long long>(plan->num_skipped_files()),
                delta_count.c_str(), duck_count.c_str(), tarn_median, duck_median, duck_median / tarn_median);
    if (delta_count != duck_count) {
      std::fprintf(stderr, "row counts differ\n");
      return 1;
    }
  }
  fs::remove_all(dir);
  return 0;
}
