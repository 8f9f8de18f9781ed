// SPDX-License-Identifier: Apache-2.0
// TPC-H-like queries three ways in one process: DuckDB on Parquet, sql::Session on Delta tables, and the wire.
//
// usage: tpch_bench DATA_DIR QUERIES_DIR [REPEATS=6] [QUERY_FILTER]
// DATA_DIR is a `tarn sql --local` / `tarn up` data directory whose catalog holds the 8 TPC-H tables (written by
// bench/tpch_bench.py from bench/tpch/gen.sql). Three contenders share one engine::Database (same DuckDB threads):
// - DuckDB: a plain connection with temporary views over read_parquet of each table's data files (one CTAS commit:
//   every Parquet file of the table directory is active);
// - Tarn in-process: a sql::Session of the warehouse (catalog names -> inlined Delta scans);
// - Tarn over the wire: the PostgreSQL wire server of `tarn up` (pgwire::Server with the warehouse's sessions,
//   SCRAM login with a token of a throw-away in-memory identity store) started in this process on 127.0.0.1, driven
//   by libpq (simple protocol, text results, every value read), i.e. what psql/psycopg2 do.
// Only one of them runs at a time (the server's connection thread waits in recv while the others run). Per query:
// one warm-up each, results compared as sorted rows (DuckDB vs Tarn, Tarn vs wire in PostgreSQL text form), then
// REPEATS rounds of the three, the order rotated each round (a multiple of 3 gives each contender each position
// equally often); medians. Metadata overhead = median of the sql layer's
// name resolution (Session::Translate: catalog lookups, latest log version) + median of the engine front-end
// (snapshot refresh, file list, scan SQL), sampled on each in-process run and kMetadataSamples more times after it
// (Translate, and engine Prepare of its text for the front-end), so a preempted sample on a busy machine does not
// decide the figure. Prints one line per query and `json {...}` lines for the driver script.
#include <libpq-fe.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/chunk.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/result_stream.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/identity/token_service.hpp"
#include "tarn/identity/user_store.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/pgwire/query_backend.hpp"
#include "tarn/pgwire/server.hpp"
#include "tarn/sql/session.hpp"
#include "tarn/sql/warehouse.hpp"

namespace fs = std::filesystem;
using namespace tarn;

namespace {

// Metadata-overhead samples per timed in-process run, besides the run itself.
constexpr int kMetadataSamples = 4;

const char* kTables[] = {"region", "nation", "supplier", "part", "partsupp", "customer", "orders", "lineitem"};

double NowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the whole process (all threads: DuckDB's workers, the wire server's connection thread, libpq), ms.
// Only one contender runs at a time, so the difference around a run is that run's CPU: a figure a busy machine
// disturbs much less than wall time.
double ProcessCpuMs() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

[[noreturn]] void Die(const std::string& what, const std::string& message) {
  std::cerr << what << ": " << message << "\n";
  std::exit(1);
}
[[noreturn]] void Die(const std::string& what, const Status& status) { Die(what, status.message()); }

// Drains a result; with `rows` set, renders each row as text in `style`.
Result<size_t> Drain(engine::ResultStream& stream, std::vector<std::string>* rows,
                     engine::ValueStyle style = engine::ValueStyle::kDuckDb) {
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
          chunk->AppendValue(c, r, style, line);
        }
      }
      rows->push_back(std::move(line));
    }
  }
  return n;
}

// Runs `sql` on the engine session to its end; with `rows`, keeps them as text.
void RunEngine(engine::Session& session, const std::string& sql, const std::string& what,
               std::vector<std::string>* rows = nullptr, engine::ValueStyle style = engine::ValueStyle::kDuckDb) {
  auto stream = session.Execute(sql);
  if (!stream.ok()) Die(what, stream.status());
  auto drained = Drain(**stream, rows, style);
  if (!drained.ok()) Die(what, drained.status());
}

void RunTarn(sql::Session& session, const std::string& sql, const std::string& what,
             std::vector<std::string>* rows = nullptr, engine::ValueStyle style = engine::ValueStyle::kDuckDb) {
  auto stream = session.Execute(sql);
  if (!stream.ok()) Die(what, stream.status());
  auto drained = Drain(**stream, rows, style);
  if (!drained.ok()) Die(what, drained.status());
}

volatile size_t g_wire_bytes = 0;

// One query over the wire (simple protocol, text results). Every value is read, as a client's fetchall does; with
// `rows`, they are kept as text ('|'-separated, NULL as "NULL").
void RunWire(PGconn* conn, const std::string& sql, const std::string& what, std::vector<std::string>* rows = nullptr) {
  PGresult* result = PQexec(conn, sql.c_str());
  if (PQresultStatus(result) != PGRES_TUPLES_OK) {
    std::string message = PQresultErrorMessage(result);
    PQclear(result);
    Die(what + " (wire)", message);
  }
  int nrows = PQntuples(result), ncols = PQnfields(result);
  size_t bytes = 0;
  for (int r = 0; r < nrows; r++) {
    std::string line;
    for (int c = 0; c < ncols; c++) {
      bool null = PQgetisnull(result, r, c) != 0;
      const char* value = PQgetvalue(result, r, c);
      bytes += static_cast<size_t>(PQgetlength(result, r, c));
      if (rows == nullptr) continue;
      if (c > 0) line += '|';
      line += null ? "NULL" : value;
    }
    if (rows != nullptr) rows->push_back(std::move(line));
  }
  PQclear(result);
  g_wire_bytes = g_wire_bytes + bytes;  // keeps the reads
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double GeoMean(const std::vector<double>& v) {
  double log_sum = 0;
  for (double x : v) log_sum += std::log(x);
  return v.empty() ? 0 : std::exp(log_sum / static_cast<double>(v.size()));
}

double Sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: tpch_bench DATA_DIR QUERIES_DIR [REPEATS=6] [QUERY_FILTER]\n";
    return 2;
  }
  std::string root = fs::absolute(argv[1]).string();
  fs::path queries_dir = argv[2];
  int repeats = argc > 3 ? std::atoi(argv[3]) : 6;
  if (repeats < 1) repeats = 1;
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

  // The wire server of `tarn up` on the same warehouse, with a token of a throw-away identity store.
  auto identity_store = meta::SqliteMetaStore::Open(":memory:");
  if (!identity_store.ok()) Die("identity store", identity_store.status());
  identity::UserStore users(**identity_store);
  identity::TokenService tokens(**identity_store);
  auto user = users.Create("bench", "TPC-H bench");
  if (!user.ok()) Die("user", user.status());
  auto token = tokens.Create(user->id, std::nullopt, "tpch_bench");
  if (!token.ok()) Die("token", token.status());
  pgwire::ServerOptions server_options;
  server_options.port = 0;
  auto server = pgwire::Server::Create(server_options, tokens, pgwire::WarehouseBackendFactory(**warehouse));
  if (!server.ok()) Die("pgwire server", server.status());
  (*server)->Start();
  std::string conninfo = "host=127.0.0.1 port=" + std::to_string((*server)->port()) +
                         " user=token dbname=main sslmode=disable password=" + token->token_value;
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) Die("wire connection", PQerrorMessage(conn));

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

  std::vector<double> all_peer, all_tarn, all_wire, all_meta, all_peer_cpu, all_tarn_cpu, all_wire_cpu;
  bool all_match = true;
  std::printf("%-5s %10s %9s %9s %12s %10s %11s %12s %12s %7s %-4s %10s %10s\n", "query", "duckdb_ms", "tarn_ms",
              "wire_ms", "tarn/duckdb", "wire/tarn", "resolve_ms", "frontend_ms", "metadata_ms", "rows", "same",
              "cpu t/d", "cpu w/t");
  for (const fs::path& file : files) {
    std::string name = file.stem().string();
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    std::string sql = ReadFile(file);

    // Warm-up, and the results: DuckDB vs Tarn as DuckDB renders values, Tarn vs wire as PostgreSQL text.
    std::vector<std::string> peer_rows, tarn_rows, tarn_pg_rows, wire_rows;
    RunEngine(peer, sql, name + " (DuckDB)", &peer_rows);
    RunTarn(tarn, sql, name + " (Tarn)", &tarn_rows);
    RunTarn(tarn, sql, name + " (Tarn)", &tarn_pg_rows, engine::ValueStyle::kPostgres);
    RunWire(conn, sql, name, &wire_rows);
    for (auto* rows : {&peer_rows, &tarn_rows, &tarn_pg_rows, &wire_rows}) std::sort(rows->begin(), rows->end());
    bool same = peer_rows == tarn_rows && tarn_pg_rows == wire_rows;
    all_match = all_match && same;

    std::vector<double> peer_ms, tarn_ms, wire_ms, resolve_ms, frontend_ms, peer_cpu, tarn_cpu, wire_cpu;
    const std::function<void()> runs[3] = {
        [&] {
          double c0 = ProcessCpuMs(), t0 = NowMs();
          RunEngine(peer, sql, name + " (DuckDB)");
          peer_ms.push_back(NowMs() - t0);
          peer_cpu.push_back(ProcessCpuMs() - c0);
        },
        [&] {
          double c0 = ProcessCpuMs(), t0 = NowMs();
          RunTarn(tarn, sql, name + " (Tarn)");
          tarn_ms.push_back(NowMs() - t0);
          tarn_cpu.push_back(ProcessCpuMs() - c0);
          frontend_ms.push_back(static_cast<double>(tarn.engine().last_front_end_nanos()) / 1e6);
          // More samples of the metadata steps (a few ms in all): name resolution, then the engine front-end of
          // its text through Prepare (front-end + DuckDB planning, no execution).
          for (int k = 0; k < kMetadataSamples; k++) {
            double r0 = NowMs();
            auto translated = tarn.Translate(sql);
            if (!translated.ok()) Die(name + " (Translate)", translated.status());
            resolve_ms.push_back(NowMs() - r0);
            auto prepared = tarn.engine().Prepare(*translated);
            if (!prepared.ok()) Die(name + " (Prepare)", prepared.status());
            frontend_ms.push_back(static_cast<double>(tarn.engine().last_front_end_nanos()) / 1e6);
          }
        },
        [&] {
          double c0 = ProcessCpuMs(), t0 = NowMs();
          RunWire(conn, sql, name);
          wire_ms.push_back(NowMs() - t0);
          wire_cpu.push_back(ProcessCpuMs() - c0);
        }};
    for (int i = 0; i < repeats; i++) {
      for (int k = 0; k < 3; k++) runs[(i + k) % 3]();  // rotated: none always runs first or after the same one
    }
    double pm = Median(peer_ms), tm = Median(tarn_ms), wm = Median(wire_ms), rm = Median(resolve_ms),
           fm = Median(frontend_ms), pc = Median(peer_cpu), tc = Median(tarn_cpu), wc = Median(wire_cpu);
    std::printf("%-5s %10.1f %9.1f %9.1f %11.3fx %9.3fx %11.2f %12.2f %12.2f %7zu %-4s %9.3fx %9.3fx\n", name.c_str(),
                pm, tm, wm, tm / pm, wm / tm, rm, fm, rm + fm, tarn_rows.size(), same ? "yes" : "NO", tc / pc, wc / tc);
    std::printf("json {\"query\": \"%s\", \"duckdb_ms\": %.3f, \"tarn_ms\": %.3f, \"wire_ms\": %.3f, "
                "\"resolve_ms\": %.3f, \"frontend_ms\": %.3f, \"duckdb_cpu_ms\": %.3f, \"tarn_cpu_ms\": %.3f, "
                "\"wire_cpu_ms\": %.3f, \"rows\": %zu, \"same\": %s}\n",
                name.c_str(), pm, tm, wm, rm, fm, pc, tc, wc, tarn_rows.size(), same ? "true" : "false");
    std::fflush(stdout);
    all_peer.push_back(pm);
    all_tarn.push_back(tm);
    all_wire.push_back(wm);
    all_meta.push_back(rm + fm);
    all_peer_cpu.push_back(pc);
    all_tarn_cpu.push_back(tc);
    all_wire_cpu.push_back(wc);
  }
  PQfinish(conn);
  (*server)->Stop();
  if (!all_peer.empty()) {
    double gp = GeoMean(all_peer), gt = GeoMean(all_tarn), gw = GeoMean(all_wire);
    std::printf("geomean: DuckDB %.1f ms, Tarn %.1f ms, wire %.1f ms; Tarn/DuckDB %.3fx, wire/Tarn %.3fx; sum: "
                "DuckDB %.0f ms, Tarn %.0f ms, wire %.0f ms; metadata overhead median %.2f ms, max %.2f ms; results "
                "identical: %s\n",
                gp, gt, gw, gt / gp, gw / gt, Sum(all_peer), Sum(all_tarn), Sum(all_wire), Median(all_meta),
                *std::max_element(all_meta.begin(), all_meta.end()), all_match ? "all" : "NO");
    std::printf("geomean CPU (process, all threads): DuckDB %.1f ms, Tarn %.1f ms, wire %.1f ms; Tarn/DuckDB %.3fx, "
                "wire/Tarn %.3fx\n",
                GeoMean(all_peer_cpu), GeoMean(all_tarn_cpu), GeoMean(all_wire_cpu),
                GeoMean(all_tarn_cpu) / GeoMean(all_peer_cpu), GeoMean(all_wire_cpu) / GeoMean(all_tarn_cpu));
  }
  return all_match ? 0 : 1;
}
