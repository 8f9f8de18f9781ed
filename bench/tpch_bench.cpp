// SPDX-License-Identifier: Apache-2.0
// TPC-H-like queries on Delta tables through sql::Session vs DuckDB on the same Parquet files, in one process.
//
// usage: tpch_bench DATA_DIR QUERIES_DIR [REPEATS=5] [QUERY_FILTER]
// DATA_DIR is a `tarn sql --local` / `tarn up` data directory whose catalog holds the 8 TPC-H tables (written by
// bench/tpch_bench.py from bench/tpch/gen.sql). The peer is a plain DuckDB connection of the same database with
// temporary views over read_parquet of each table's data files (one CTAS commit: every Parquet file of the table
// directory is active). Per query: one warm-up each (results compared as sorted rows), then REPEATS runs alternating
// peer / Tarn; medians. Metadata overhead = sql layer name resolution (Session::Translate: catalog lookups, latest
// log version) + the engine front-end (snapshot refresh, file list, scan SQL), measured on the Tarn runs.
// Prints one line per query and `json {...}` lines for the driver script.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/chunk.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/result_stream.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/sql/session.hpp"
#include "tarn/sql/warehouse.hpp"

namespace fs = std::filesystem;
using namespace tarn;

namespace {

const char* kTables[] = {"region", "nation", "supplier", "part", "partsupp", "customer", "orders", "lineitem"};

double NowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

[[noreturn]] void Die(const std::string& what, const Status& status) {
  std::cerr << what << ": " << status.message() << "\n";
  std::exit(1);
}

// Drains a result; with `rows` set, renders each row as text.
Result<size_t> Drain(engine::ResultStream& stream, std::vector<std::string>* rows) {
  size_t n = 0;
  while (true) {
    TARN_ASSIGN_OR_RETURN(auto chunk, stream.Next());
    if (!chunk) break;
    n += chunk->num_rows();
    if (rows == nullptr) continue;
    for (size_t r = 0; r < chunk->num_rows(); r++) {
      std::string line;
      for (size_t c = 0; c < chunk->num_columns(); c++) {
        if (c > 0) line += '|';
        if (chunk->IsNull(c, r)) {
          line += "NULL";
        } else {
          chunk->AppendValue(c, r, engine::ValueStyle::kDuckDb, line);
        }
      }
      rows->push_back(std::move(line));
    }
  }
  return n;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: tpch_bench DATA_DIR QUERIES_DIR [REPEATS=5] [QUERY_FILTER]\n";
    return 2;
  }
  std::string root = fs::absolute(argv[1]).string();
  fs::path queries_dir = argv[2];
  int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  std::string filter = argc > 4 ? argv[4] : "";

  auto store = meta::SqliteMetaStore::Open(root + "/meta.db");
  if (!store.ok()) Die("meta store", store.status());
  std::string dbfs_root = root + "/dbfs";
  auto catalog = catalog::Catalog::Open(**store, {dbfs_root, nullptr});
  if (!catalog.ok()) Die("catalog", catalog.status());
  engine::DatabaseOptions options;
  options.dbfs_root = dbfs_root;
  auto database = engine::Database::Open(options);
  if (!database.ok()) Die("database", database.status());
  auto warehouse = sql::Warehouse::Open(**database, **catalog);
  if (!warehouse.ok()) Die("warehouse", warehouse.status());
  auto tarn_session = (*warehouse)->NewSession();
  if (!tarn_session.ok()) Die("session", tarn_session.status());
  sql::Session& tarn = **tarn_session;
  auto peer_session = (*database)->Connect();
  if (!peer_session.ok()) Die("peer session", peer_session.status());
  engine::Session& peer = **peer_session;

  // Peer views over the tables' data files.
  for (const char* table : kTables) {
    fs::path dir = fs::path(dbfs_root) / "user/hive/warehouse" / table;
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      std::string p = entry.path().string();
      if (entry.is_regular_file() && p.find("/_delta_log/") == std::string::npos && p.ends_with(".parquet")) {
        files.push_back(p);
      }
    }
    std::sort(files.begin(), files.end());
    std::string list;
    for (const auto& f : files) list += (list.empty() ? "'" : ", '") + f + "'";
    auto created = peer.Execute(std::string("CREATE TEMP VIEW ") + table + " AS SELECT * FROM read_parquet([" + list +
                                "])");
    if (!created.ok()) Die(std::string("peer view ") + table, created.status());
    std::cout << "peer view " << table << ": " << files.size() << " Parquet file(s)\n";
  }

  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(queries_dir)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());

  double log_peer = 0, log_tarn = 0, sum_peer = 0, sum_tarn = 0;
  int n = 0;
  bool all_match = true;
  std::printf("%-5s %10s %10s %7s %12s %12s %12s %7s %s\n", "query", "duckdb_ms", "tarn_ms", "ratio", "resolve_ms",
              "frontend_ms", "metadata_ms", "rows", "same result");
  for (const fs::path& file : files) {
    std::string name = file.stem().string();
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    std::string sql = ReadFile(file);

    std::vector<std::string> peer_rows, tarn_rows;
    auto ps = peer.Execute(sql);
    if (!ps.ok()) Die(name + " (DuckDB)", ps.status());
    auto pn = Drain(**ps, &peer_rows);
    if (!pn.ok()) Die(name + " (DuckDB)", pn.status());
    auto ts = tarn.Execute(sql);
    if (!ts.ok()) Die(name + " (Tarn)", ts.status());
    auto tn = Drain(**ts, &tarn_rows);
    if (!tn.ok()) Die(name + " (Tarn)", tn.status());
    std::sort(peer_rows.begin(), peer_rows.end());
    std::sort(tarn_rows.begin(), tarn_rows.end());
    bool same = peer_rows == tarn_rows;
    all_match = all_match && same;

    std::vector<double> peer_ms, tarn_ms, resolve_ms, frontend_ms;
    for (int i = 0; i < repeats; i++) {
      double t0 = NowMs();
      auto p = peer.Execute(sql);
      if (!p.ok() || !Drain(**p, nullptr).ok()) Die(name, p.status());
      double t1 = NowMs();
      auto t = tarn.Execute(sql);
      if (!t.ok() || !Drain(**t, nullptr).ok()) Die(name, t.status());
      double t2 = NowMs();
      peer_ms.push_back(t1 - t0);
      tarn_ms.push_back(t2 - t1);
      frontend_ms.push_back(tarn.engine().last_front_end_nanos() / 1e6);
      double r0 = NowMs();
      auto translated = tarn.Translate(sql);
      if (!translated.ok()) Die(name + " (Translate)", translated.status());
      resolve_ms.push_back(NowMs() - r0);
    }
    double pm = Median(peer_ms), tm = Median(tarn_ms), rm = Median(resolve_ms), fm = Median(frontend_ms);
    std::printf("%-5s %10.1f %10.1f %6.2fx %12.2f %12.2f %12.2f %7zu %s\n", name.c_str(), pm, tm, tm / pm, rm, fm,
                rm + fm, *tn, same ? "yes" : "NO");
    std::printf("json {\"query\": \"%s\", \"duckdb_ms\": %.3f, \"tarn_ms\": %.3f, \"resolve_ms\": %.3f, "
                "\"frontend_ms\": %.3f, \"rows\": %zu, \"same\": %s}\n",
                name.c_str(), pm, tm, rm, fm, *tn, same ? "true" : "false");
    std::fflush(stdout);
    log_peer += std::log(pm);
    log_tarn += std::log(tm);
    sum_peer += pm;
    sum_tarn += tm;
    n++;
  }
  if (n > 0) {
    double gp = std::exp(log_peer / n), gt = std::exp(log_tarn / n);
    std::printf("geomean: DuckDB %.1f ms, Tarn %.1f ms, ratio %.3fx; sum: DuckDB %.0f ms, Tarn %.0f ms, ratio %.3fx; "
                "results identical: %s\n",
                gp, gt, gt / gp, sum_peer, sum_tarn, sum_tarn / sum_peer, all_match ? "all" : "NO");
  }
  return all_match ? 0 : 1;
}
