// SPDX-License-Identifier: Apache-2.0
// Benchmark: Delta data writes through engine::DeltaWriter vs DuckDB's own COPY ... TO parquet of the same rows
// (INTEGER, 32-char VARCHAR, DOUBLE), alternating runs, medians and the speed ratio; then Parquet checkpoint writes
// of 10k and 100k files with DuckCheckpointWriter (and reading them back with DuckCheckpointReader).
// Usage: delta_write_bench [MILLION_ROWS=5] [RUNS=3] [DIR=$TMPDIR or /tmp]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tarn/delta/checkpoint_writer.hpp"
#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/log_segment.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/delta_checkpoint_writer.hpp"
#include "tarn/engine/delta_writer.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/storage/local_object_store.hpp"

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

tarn::Status Run(tarn::engine::Session& session, const std::string& sql) {
  auto stream = session.Execute(sql);
  if (!stream.has_value()) return stream.status();
  while (true) {
    auto chunk = (*stream)->Next();
    if (!chunk.has_value()) return chunk.status();
    if (!*chunk) return tarn::Status::OK();
  }
}

tarn::delta::CheckpointContent SyntheticCheckpoint(int files) {
  tarn::delta::CheckpointContent content;
  content.version = 10;
  content.metadata.id = "bench";
  content.metadata.schema_string =
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"s","type":"string","nullable":true,"metadata":{}},)"
      R"({"name":"p","type":"string","nullable":true,"metadata":{}}]})";
  content.metadata.partition_columns = {"p"};
  content.adds.reserve(static_cast<size_t>(files));
  for (int i = 0; i < files; i++) {
    tarn::delta::AddAction add;
    std::string p = "p" + std::to_string(i % 100);
    add.path = "p=" + p + "/part-00000-" + std::to_string(1000000 + i) + "-0000-0000-0000-000000000000.c000.snappy.parquet";
    add.partition_values = {{"p", p}};
    add.size = 100000 + i;
    add.modification_time = 1700000000000 + i;
    add.data_change = false;
    add.stats = R"({"numRecords":1000,"minValues":{"id":)" + std::to_string(i * 1000) +
                R"(,"s":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"maxValues":{"id":)" + std::to_string(i * 1000 + 999) +
                R"(,"s":"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"},"nullCount":{"id":0,"s":0}})";
    content.adds.push_back(std::move(add));
  }
  return content;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t million = argc > 1 ? std::atoll(argv[1]) : 5;
  int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  const char* tmp = std::getenv("TMPDIR");
  std::string base = argc > 3 ? argv[3] : (tmp != nullptr && *tmp != '\0' ? tmp : "/tmp");
  std::string dir = base + "/tarn-delta-write-bench";
  fs::remove_all(dir);
  fs::create_directories(dir);

  auto database = tarn::engine::Database::Open({});
  Check(database.status(), "open database");
  auto session = (*database)->Connect();
  Check(session.status(), "connect");
  tarn::engine::DeltaWriter writer(**database);

  int64_t rows = million * 1000000;
  std::string query = "SELECT range::INTEGER AS i, md5(range::VARCHAR) AS s, (hash(range) % 1000000) / 7.0 AS d "
                      "FROM range(" + std::to_string(rows) + ")";
  std::printf("rows: %lld (INTEGER, 32-char VARCHAR, DOUBLE), runs: %d, dir: %s\n", static_cast<long long>(rows),
              runs, dir.c_str());
  std::vector<double> duck, delta;
  int64_t delta_files = 0;
  for (int run = 0; run < runs; run++) {
    std::string parquet = dir + "/copy-" + std::to_string(run) + ".parquet";
    auto start = Clock::now();
    Check(Run(**session, "COPY (" + query + ") TO '" + parquet + "' (FORMAT parquet, COMPRESSION snappy)"),
          "duckdb copy");
    duck.push_back(Millis(start));

    std::string table = dir + "/delta-" + std::to_string(run);
    tarn::engine::DeltaCreateTable create;
    create.columns = {{"i", "INT"}, {"s", "STRING"}, {"d", "DOUBLE"}};
    Check(writer.CreateTable(table, create).status(), "create");
    tarn::engine::DeltaWrite write;
    write.source_query = query;
    start = Clock::now();
    auto written = writer.Write(table, write);
    Check(written.status(), "delta write");
    delta.push_back(Millis(start));
    delta_files = written->num_added_files;
    fs::remove(parquet);
    fs::remove_all(table);
    std::printf("run %d: duckdb COPY %.0f ms, DeltaWriter append %.0f ms (%lld files)\n", run, duck.back(),
                delta.back(), static_cast<long long>(delta_files));
  }
  double duck_ms = Median(duck);
  double delta_ms = Median(delta);
  std::printf("median: duckdb COPY %.0f ms (%.1f M rows/s), DeltaWriter %.0f ms (%.1f M rows/s); speed ratio "
              "DeltaWriter/DuckDB = %.2fx\n",
              duck_ms, rows / duck_ms / 1000.0, delta_ms, rows / delta_ms / 1000.0, duck_ms / delta_ms);

  // Checkpoints.
  tarn::engine::DuckCheckpointWriter checkpoint_writer(**database);
  tarn::engine::DuckCheckpointReader checkpoint_reader(**database);
  for (int files : {10000, 100000}) {
    std::string table = dir + "/checkpoint-" + std::to_string(files);
    auto store = tarn::storage::LocalObjectStore::Create(table, true);
    Check(store.status(), "store");
    tarn::delta::CheckpointContent content = SyntheticCheckpoint(files);
    std::string key = "_delta_log/" + tarn::delta::VersionStem(10) + ".checkpoint.parquet";
    std::vector<double> write_ms, read_ms;
    int64_t size = 0;
    for (int run = 0; run < runs; run++) {
      auto start = Clock::now();
      auto info = checkpoint_writer.WriteCheckpoint(**store, key, content);
      Check(info.status(), "checkpoint write");
      write_ms.push_back(Millis(start));
      size = info->size_in_bytes;
      struct Counter : tarn::delta::ActionVisitor {
        int64_t adds = 0;
        tarn::Status OnAdd(const tarn::delta::AddAction&) override {
          adds++;
          return tarn::Status::OK();
        }
      } counter;
      start = Clock::now();
      Check(checkpoint_reader.ReadCheckpointActions(**store, key, tarn::delta::CheckpointReadRequest{}, counter),
            "checkpoint read");
      read_ms.push_back(Millis(start));
      if (counter.adds != files) {
        std::fprintf(stderr, "checkpoint read %lld adds, expected %d\n", static_cast<long long>(counter.adds), files);
        return 1;
      }
    }
    std::printf("checkpoint of %d files: write median %.0f ms (%.1f MB), read back median %.0f ms\n", files,
                Median(write_ms), size / 1e6, Median(read_ms));
  }
  fs::remove_all(dir);
  return 0;
}
