// SPDX-License-Identifier: Apache-2.0
// Delta conformance runner: reads every table of ../shared/conformance/delta through Tarn's SQL surface
// (delta.`path`, VERSION AS OF, DESCRIBE DETAIL/HISTORY, delta_files) and checks the answers MANIFEST.md gives.
//
// Usage: tarn_delta_conformance <conformance/delta dir> [known-failures file] [case-substring]
// Prints one line per case (PASS / FAIL / XFAIL for failures listed in the known-failures file) and
// "N passed, M failed". Exits 1 when a case fails that is not a known failure, 0 otherwise.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tarn/engine/database.hpp"

namespace fs = std::filesystem;
using tarn::Result;
using tarn::Status;
using tarn::engine::Session;

namespace {

struct Table {
  std::vector<std::string> names;
  std::vector<std::string> types;
  std::vector<std::vector<std::string>> rows;
};

Result<Table> Query(Session& session, const std::string& sql) {
  TARN_ASSIGN_OR_RETURN(auto stream, session.Execute(sql));
  Table table;
  for (const auto& column : stream->columns()) {
    table.names.push_back(column.name);
    table.types.push_back(column.type.ToString());
  }
  while (true) {
    TARN_ASSIGN_OR_RETURN(auto chunk, stream->Next());
    if (!chunk) break;
    for (size_t r = 0; r < chunk->num_rows(); r++) {
      std::vector<std::string> row;
      for (size_t c = 0; c < chunk->num_columns(); c++) {
        row.push_back(chunk->FormatValue(c, r, tarn::engine::ValueStyle::kDuckDb));
      }
      table.rows.push_back(std::move(row));
    }
  }
  return table;
}

std::string Quote(const std::string& text, char q) {
  std::string out(1, q);
  for (char c : text) {
    if (c == q) out += q;
    out += c;
  }
  return out + q;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The outcome of one case: empty = pass, else the reason it failed.
using Outcome = std::optional<std::string>;

class Checker {
 public:
  explicit Checker(Session& session) : session_(session) {}

  std::string Ref(const std::string& root, std::optional<int64_t> version = std::nullopt) const {
    std::string ref = "delta.`" + root + "`";
    if (version) ref += " VERSION AS OF " + std::to_string(*version);
    return ref;
  }

  // Rows of the table equal the Parquet files under `expected_dir`, as a multiset, matched by column name.
  Outcome CompareWithExpected(const std::string& root, const std::string& expected_dir,
                              std::optional<int64_t> version = std::nullopt) {
    auto ours = Query(session_, "SELECT * FROM " + Ref(root, version));
    if (!ours.ok()) return "scan failed: " + ours.status().ToString();
    std::string expected_source = "read_parquet(" + Quote(expected_dir + "/**/*.parquet", '\'') + ")";
    auto expected = Query(session_, "SELECT * FROM " + expected_source);
    if (!expected.ok()) {
      bool has_parquet = false;
      for (const auto& entry : fs::recursive_directory_iterator(expected_dir)) {
        if (entry.path().extension() == ".parquet") has_parquet = true;
      }
      if (has_parquet) return "cannot read expected answer: " + expected.status().ToString();
      if (!ours->rows.empty()) return "expected no rows, got " + std::to_string(ours->rows.size());
      return std::nullopt;
    }
    std::string select;
    std::set<std::string> used;
    for (size_t i = 0; i < expected->names.size(); i++) {
      const std::string& name = expected->names[i];
      std::optional<std::string> match;
      for (const std::string& candidate : ours->names) {
        if (candidate == name) match = candidate;
      }
      for (const std::string& candidate : ours->names) {
        if (!match && Lower(candidate) == Lower(name)) match = candidate;
      }
      if (!match) return "missing column " + name;
      used.insert(*match);
      select += (select.empty() ? "" : ", ") + ("CAST(" + Quote(*match, '"') + " AS " + expected->types[i] + ")");
    }
    for (const std::string& name : ours->names) {
      if (!used.count(name)) return "unexpected column " + name;
    }
    auto cast = Query(session_, "SELECT " + select + " FROM " + Ref(root, version));
    if (!cast.ok()) return "scan with expected types failed: " + cast.status().ToString();
    auto a = cast->rows;
    auto b = expected->rows;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a == b) return std::nullopt;
    std::ostringstream out;
    out << "rows differ: got " << a.size() << ", expected " << b.size();
    for (size_t i = 0; i < std::min(a.size(), b.size()); i++) {
      if (a[i] != b[i]) {
        out << "; first difference: got (";
        for (size_t c = 0; c < a[i].size(); c++) out << (c ? ", " : "") << a[i][c];
        out << ") expected (";
        for (size_t c = 0; c < b[i].size(); c++) out << (c ? ", " : "") << b[i][c];
        out << ")";
        break;
      }
    }
    return out.str();
  }

  // The statement must fail before producing any row; `sqlstate`/`needle` (optional) must match.
  Outcome ExpectError(const std::string& sql, const std::string& sqlstate = "", const std::string& needle = "") {
    auto stream = session_.Execute(sql);
    Status status = stream.status();
    if (stream.ok()) {
      auto chunk = (*stream)->Next();
      if (chunk.ok() && *chunk) return std::string("returned rows but must fail");
      if (chunk.ok()) return std::string("succeeded but must fail");
      return std::string("failed only while streaming (partial output possible): ") + chunk.status().ToString();
    }
    if (!sqlstate.empty() && status.sqlstate() != sqlstate) {
      return "wrong SQLSTATE " + std::string(status.sqlstate()) + ": " + status.message();
    }
    if (!needle.empty() && status.message().find(needle) == std::string::npos) {
      return "error does not mention '" + needle + "': " + status.message();
    }
    return std::nullopt;
  }

  Result<std::string> Scalar(const std::string& sql) {
    TARN_ASSIGN_OR_RETURN(Table table, Query(session_, sql));
    if (table.rows.empty() || table.rows[0].empty()) return std::string("<no rows>");
    return table.rows[0][0];
  }

  // Each (sql, expected first value) pair must hold.
  Outcome Expect(const std::vector<std::pair<std::string, std::string>>& checks) {
    for (const auto& [sql, want] : checks) {
      auto got = Scalar(sql);
      if (!got.ok()) return sql + " failed: " + got.status().ToString();
      if (*got != want) return sql + " returned " + *got + ", expected " + want;
    }
    return std::nullopt;
  }

  // Latest version, number of live files and rows (-1: not checked).
  Outcome ExpectCounts(const std::string& root, int64_t version, int64_t files, int64_t rows) {
    std::vector<std::pair<std::string, std::string>> checks;
    std::string location = Quote(root, '\'');
    if (version >= 0) checks.emplace_back("SELECT max(version) FROM delta_history(" + location + ")", std::to_string(version));
    if (files >= 0) checks.emplace_back("SELECT numFiles FROM delta_detail(" + location + ")", std::to_string(files));
    if (rows >= 0) checks.emplace_back("SELECT count(*) FROM " + Ref(root), std::to_string(rows));
    if (checks.empty()) checks.emplace_back("SELECT count(*) >= 0 FROM delta_detail(" + location + ")", "true");
    return Expect(checks);
  }

  Session& session() { return session_; }

 private:
  Session& session_;
};

struct Case {
  std::string name;
  std::function<Outcome(Checker&)> run;
};

struct KernelCase {
  const char* name;
  int64_t rows;   // -1: not checked
  int64_t files;  // -1: not checked
  int kind;       // 0 data, 1 log-only (load only), 2 negative
  const char* needle = "";
};

// MANIFEST.md section 5 ("naive replay" column).
const KernelCase kKernelCases[] = {
    {"300k-add-files-100-col-partitioned", -1, 300000, 1},
    {"app-txn-checkpoint", 22, 4, 0},
    {"app-txn-no-checkpoint", 22, 4, 0},
    {"app-txn-with-last-updated", -1, -1, 1},
    {"basic-decimal-table", 4, 4, 0},
    {"basic_partitioned", 6, 6, 0},
    {"cdf-column-mapping-id-mode", 3, 3, 0},
    {"cdf-column-mapping-name-mode", 3, 3, 0},
    {"cdf-column-mapping-name-mode-3-7", 3, 3, 0},
    {"cdf-table", 9, 9, 0},
    {"cdf-table-backtick-column-names", 5, 4, 0},
    {"cdf-table-data-change", 10, 1, 0},
    {"cdf-table-delete-conditional-all-rows", 0, 0, 0},
    {"cdf-table-delete-conditional-two-rows", 8, 3, 0},
    {"cdf-table-delete-unconditional", 0, 0, 0},
    {"cdf-table-non-partitioned", 11, 11, 0},
    {"cdf-table-partitioned", 2, 1, 0},
    {"cdf-table-simple", 0, 0, 0},
    {"cdf-table-update-ops", 10, 2, 0},
    {"cdf-table-with-cdc-and-dvs", 5, 2, 0},
    {"cdf-table-with-dv", 10, 1, 0},
    {"compacted-log-files-table", 5, 2, 0},
    {"crc-full", 0, 0, 0},
    {"crc-malformed", -1, -1, 2},
    {"data-reader-timestamp_ntz", 9, 4, 0},
    {"external-table-different-nullability", 7, 3, 0},
    {"mixed-nulls", 15, 3, 0},
    {"parquet_row_group_skipping", 5, 1, 0},
    {"parsed-stats", 600, 6, 0},
    {"partition_cm/id", 0, 0, 0},
    {"partition_cm/name", 0, 0, 0},
    {"partition_cm/none", 0, 0, 0},
    {"partitioned_with_materialize_feature", 6, 6, 0},
    {"stats-writing-all-types/delta", 4, 1, 0},
    {"table-with-cdf", 0, 0, 0},
    {"table-with-dv-small", 8, 1, 0},
    {"table-with-geo", -1, -1, 2, "geospatial"},
    {"table-without-dv-small", 10, 1, 0},
    {"timestamp-partitioned-table", 1, 1, 0},
    {"timestamp-truncation-stats", 6, 3, 0},
    {"type-widening", 2, 2, 0},
    {"unshredded-variant", 102, 4, 0},
    {"v1-multi-part-partitioned-struct-stats-only", 5, 5, 0},
    {"v1-multi-part-struct-stats-only", 5, 5, 0},
    {"v1-single-part-struct-stats-only", 5, 5, 0},
    {"v2-checkpoints-json-with-last-checkpoint", 10, 2, 0},
    {"v2-checkpoints-json-with-sidecars", 1233, 101, 0},
    {"v2-checkpoints-json-without-sidecars", 11, 3, 0},
    {"v2-checkpoints-parquet-with-last-checkpoint", 10, 2, 0},
    {"v2-checkpoints-parquet-with-sidecars", 1233, 101, 0},
    {"v2-checkpoints-parquet-without-sidecars", 11, 3, 0},
    // MANIFEST's "0 files" comes from its naive tool failing on the sidecar checkpoint; the log adds 4 files.
    {"v2-classic-checkpoint-json", -1, 4, 0},
    {"v2-classic-checkpoint-parquet", -1, 4, 0},
    {"v2-classic-parquet-struct-stats-only", 5, 5, 0},
    {"v2-json-sidecars-struct-stats-only", 5, 5, 0},
    {"v2-parquet-sidecars-struct-stats-only", 5, 5, 0},
    {"void-column", 3, 3, 0},
    {"with-short-dv", 7, 2, 0},
    {"with_checkpoint_no_last_checkpoint", -1, -1, 1},
};

std::vector<Case> BuildCases(const std::string& dir) {
  std::vector<Case> cases;
  auto location = [](const std::string& path) { return Quote(path, '\''); };

  // golden/: expected/ answers, negative cases and MANIFEST assertions.
  std::map<std::string, std::function<Outcome(Checker&, const std::string&)>> golden_assertions = {
      {"canonicalized-paths-normal-a", [](Checker& c, const std::string& r) { return c.ExpectCounts(r, 1, 0, -1); }},
      {"canonicalized-paths-normal-b", [](Checker& c, const std::string& r) { return c.ExpectCounts(r, 1, 0, -1); }},
      {"canonicalized-paths-special-a", [](Checker& c, const std::string& r) { return c.ExpectCounts(r, 1, 0, -1); }},
      {"canonicalized-paths-special-b", [](Checker& c, const std::string& r) { return c.ExpectCounts(r, 1, 0, -1); }},
      {"checkpoint", [](Checker& c, const std::string& r) { return c.ExpectCounts(r, 14, -1, -1); }},
      // A 2020 fixture without any metaData action: PROTOCOL.md requires one, so reading it must fail cleanly.
      {"data-reader-absolute-paths-escaped-chars",
       [](Checker& c, const std::string& r) { return c.ExpectError("SELECT * FROM " + c.Ref(r)); }},
      {"delete-re-add-same-file-different-transactions",
       [&](Checker& c, const std::string& r) {
         return c.Expect({{"SELECT string_agg(path, ',' ORDER BY path) FROM delta_files(" + location(r) + ")", "bar,foo"},
                          {"SELECT modificationTime FROM delta_files(" + location(r) + ") WHERE path = 'foo'",
                           "1700000000000"}});
       }},
      {"deltalog-commit-info",
       [&](Checker& c, const std::string& r) {
         return c.Expect({{"SELECT count(*) > 0 FROM delta_history(" + location(r) + ") WHERE operation IS NOT NULL",
                           "true"}});
       }},
      {"deltalog-invalid-protocol-version",
       [](Checker& c, const std::string& r) { return c.ExpectError("SELECT * FROM " + c.Ref(r), "0A000", "99"); }},
      {"deltalog-state-reconstruction-from-checkpoint-missing-metadata",
       [](Checker& c, const std::string& r) { return c.ExpectError("SELECT * FROM " + c.Ref(r)); }},
      {"deltalog-state-reconstruction-from-checkpoint-missing-protocol",
       [](Checker& c, const std::string& r) { return c.ExpectError("SELECT * FROM " + c.Ref(r)); }},
      {"deltalog-state-reconstruction-without-metadata",
       [](Checker& c, const std::string& r) { return c.ExpectError("SELECT * FROM " + c.Ref(r)); }},
      {"deltalog-state-reconstruction-without-protocol",
       [](Checker& c, const std::string& r) { return c.ExpectError("SELECT * FROM " + c.Ref(r)); }},
      {"log-replay-special-characters-b",
       [&](Checker& c, const std::string& r) {
         return c.Expect({{"SELECT count(*) FROM delta_files(" + location(r) + ") WHERE path LIKE '%special p@#h%'", "1"}});
       }},
      {"no-delta-log-folder",
       [](Checker& c, const std::string& r) { return c.ExpectError("SELECT * FROM " + c.Ref(r), "42P01", r); }},
      {"update-deleted-directory", [](Checker& c, const std::string& r) { return c.ExpectCounts(r, 0, -1, -1); }},
  };
  std::vector<fs::path> golden;
  if (fs::is_directory(dir + "/golden")) {
    for (const auto& entry : fs::directory_iterator(dir + "/golden")) golden.push_back(entry.path());
  }
  std::sort(golden.begin(), golden.end());
  for (const fs::path& path : golden) {
    std::string name = path.filename().string();
    std::string root = path.string() + "/delta";
    if (name == "hive") {
      std::vector<fs::path> tables;
      for (const auto& entry : fs::directory_iterator(root)) tables.push_back(entry.path());
      std::sort(tables.begin(), tables.end());
      for (const fs::path& table : tables) {
        std::string table_root = table.string();
        bool deleted = table.filename() == "deltatbl-deleted-path";
        cases.push_back({"golden/hive/" + table.filename().string(), [table_root, deleted](Checker& c) -> Outcome {
                           // Hive-connector fixtures: no expected answer; the table must load and scan (the
                           // deleted-path fixture has its data removed on purpose, so only its log is read).
                           if (deleted) return c.ExpectCounts(table_root, -1, -1, -1);
                           auto rows = c.Scalar("SELECT count(*) FROM " + c.Ref(table_root));
                           if (!rows.ok()) return "scan failed: " + rows.status().ToString();
                           return std::nullopt;
                         }});
      }
      continue;
    }
    if (fs::is_directory(path / "expected")) {
      std::string expected = (path / "expected").string();
      cases.push_back({"golden/" + name, [root, expected](Checker& c) { return c.CompareWithExpected(root, expected); }});
      continue;
    }
    auto assertion = golden_assertions.find(name);
    if (assertion != golden_assertions.end()) {
      auto check = assertion->second;
      cases.push_back({"golden/" + name, [check, root](Checker& c) { return check(c, root); }});
    } else {
      cases.push_back({"golden/" + name, [root](Checker& c) { return c.ExpectCounts(root, -1, -1, -1); }});
    }
  }

  // dat/: every expected version, data and metadata.
  std::vector<fs::path> dat;
  if (fs::is_directory(dir + "/dat")) {
    for (const auto& entry : fs::directory_iterator(dir + "/dat")) dat.push_back(entry.path());
  }
  std::sort(dat.begin(), dat.end());
  for (const fs::path& path : dat) {
    std::string root = (path / "delta").string();
    std::vector<fs::path> versions;
    for (const auto& entry : fs::directory_iterator(path / "expected")) versions.push_back(entry.path());
    std::sort(versions.begin(), versions.end());
    for (const fs::path& expected : versions) {
      std::string label = expected.filename().string();
      cases.push_back({"dat/" + path.filename().string() + "@" + label, [root, expected, label](Checker& c) -> Outcome {
                         std::ifstream in(expected / "table_version_metadata.json");
                         std::stringstream text;
                         text << in.rdbuf();
                         auto metadata = nlohmann::json::parse(text.str(), nullptr, false);
                         if (!metadata.is_object()) return std::string("unreadable table_version_metadata.json");
                         int64_t version = metadata["version"].get<int64_t>();
                         std::optional<int64_t> pinned;
                         if (label != "latest") pinned = version;
                         if (auto outcome = c.CompareWithExpected(root, expected.string(), pinned)) return outcome;
                         std::string detail = "delta_detail(" + Quote(root, '\'') + ", version => " + std::to_string(version) + ")";
                         std::vector<std::pair<std::string, std::string>> checks = {
                             {"SELECT minReaderVersion FROM " + detail, std::to_string(metadata["min_reader_version"].get<int>())},
                             {"SELECT minWriterVersion FROM " + detail, std::to_string(metadata["min_writer_version"].get<int>())},
                             {"SELECT cardinality(properties) FROM " + detail, std::to_string(metadata["properties"].size())}};
                         if (label == "latest") {
                           checks.emplace_back("SELECT max(version) FROM delta_history(" + Quote(root, '\'') + ")",
                                               std::to_string(version));
                         }
                         for (const auto& [key, value] : metadata["properties"].items()) {
                           checks.emplace_back("SELECT properties[" + Quote(key, '\'') + "] FROM " + detail,
                                               value.is_string() ? value.get<std::string>() : value.dump());
                         }
                         return c.Expect(checks);
                       }});
    }
  }

  // golden-extra/: assertions from Delta Kernel Java tests (MANIFEST.md section 4).
  std::string extra = dir + "/golden-extra/";
  auto scans = [](std::string root) {
    return [root](Checker& c) -> Outcome {
      auto rows = c.Scalar("SELECT count(*) FROM " + c.Ref(root));
      if (!rows.ok()) return "scan failed: " + rows.status().ToString();
      return std::nullopt;
    };
  };
  if (fs::is_directory(extra)) {
    cases.push_back({"golden-extra/collations-preview-table", scans(extra + "collations-preview-table")});
    cases.push_back({"golden-extra/collations-table", scans(extra + "collations-table")});
    std::string params = extra + "commit-info-containing-arbitrary-operationParams-types";
    cases.push_back({"golden-extra/commit-info-containing-arbitrary-operationParams-types", [params](Checker& c) {
                       return c.Expect({{"SELECT count(*) FROM delta_history(" + Quote(params, '\'') + ")", "3"},
                                        {"SELECT count(*) >= 0 FROM " + c.Ref(params), "true"}});
                     }});
    std::string corrupted = extra + "corrupted-last-checkpoint";
    cases.push_back({"golden-extra/corrupted-last-checkpoint",
                     [corrupted](Checker& c) { return c.ExpectCounts(corrupted, 10, -1, -1); }});
    std::string iso = extra + "kernel-timestamp-partition-col-ISO8601";
    cases.push_back({"golden-extra/kernel-timestamp-partition-col-ISO8601", [iso](Checker& c) {
                       return c.Expect({{"SELECT count(*) FROM " + c.Ref(iso), "2"},
                                        {"SELECT string_agg(CAST(epoch_us(ts) AS VARCHAR), ',' ORDER BY ts) FROM " + c.Ref(iso),
                                         "1704103200000000,1704198600000000"},
                                        {"SELECT count(*) FROM " + c.Ref(iso) + " WHERE ts = make_timestamptz(1704103200000000)",
                                         "1"}});
                     }});
    cases.push_back({"golden-extra/spark-variant-checkpoint", scans(extra + "spark-variant-checkpoint")});
    cases.push_back({"golden-extra/table-with-icebegCompatV2Enabled", scans(extra + "table-with-icebegCompatV2Enabled")});
    std::string widening = extra + "type-widening";
    cases.push_back({"golden-extra/type-widening", [widening](Checker& c) {
                       std::string t = c.Ref(widening);
                       return c.Expect(
                           {{"SELECT count(*) FROM " + t, "2"},
                            {"SELECT string_agg(CAST(byte_long AS VARCHAR), ',' ORDER BY byte_long) FROM " + t,
                             "1,9223372036854775807"},
                            {"SELECT string_agg(CAST(int_long AS VARCHAR), ',' ORDER BY int_long) FROM " + t,
                             "2,9223372036854775807"},
                            {"SELECT string_agg(CAST(date_timestamp_ntz AS VARCHAR), ',' ORDER BY date_timestamp_ntz) FROM " + t,
                             "2024-09-09 00:00:00,2024-09-09 12:34:56.123456"},
                            {"SELECT string_agg(CAST(decimal_decimal_same_scale AS VARCHAR), ',' ORDER BY "
                             "decimal_decimal_same_scale) FROM " + t,
                             "123.45,12345678901234.56"}});
                     }});
    std::string nested = extra + "type-widening-nested";
    cases.push_back({"golden-extra/type-widening-nested",
                     [nested](Checker& c) { return c.Expect({{"SELECT count(*) FROM " + c.Ref(nested), "2"}}); }});
  }

  // kernel-data/: row and file counts (MANIFEST.md section 5).
  for (const KernelCase& k : kKernelCases) {
    std::string root = dir + "/kernel-data/" + k.name;
    if (!fs::exists(root)) continue;
    KernelCase copy = k;
    cases.push_back({std::string("kernel-data/") + k.name, [root, copy](Checker& c) -> Outcome {
                       if (copy.kind == 2) return c.ExpectError("SELECT * FROM " + c.Ref(root), "", copy.needle);
                       return c.ExpectCounts(root, -1, copy.files, copy.kind == 1 ? -1 : copy.rows);
                     }});
  }
  return cases;
}

std::map<std::string, std::string> ReadKnownFailures(const std::string& path) {
  std::map<std::string, std::string> known;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.find_first_of(" \t");
    std::string name = line.substr(0, space);
    std::string reason = space == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t#", space));
    known[name] = reason;
  }
  return known;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: tarn_delta_conformance <conformance/delta dir> [known-failures file] [case-substring]\n";
    return 2;
  }
  std::string dir = argv[1];
  if (!fs::is_directory(dir)) {
    std::cout << "SKIP: Delta conformance tables not found at " << dir
              << " (../shared is absent in this checkout); nothing to run\n0 passed, 0 failed\n";
    return 0;
  }
  dir = fs::canonical(dir).string();  // error messages name tables by their normalised path
  auto known = argc >= 3 ? ReadKnownFailures(argv[2]) : std::map<std::string, std::string>{};
  std::string filter = argc >= 4 ? argv[3] : "";

  auto database = tarn::engine::Database::Open({});
  if (!database.ok()) {
    std::cerr << "cannot open database: " << database.status().ToString() << "\n";
    return 2;
  }
  int passed = 0, failed = 0, unexpected = 0;
  for (const Case& c : BuildCases(dir)) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    // A fresh session per case: one case's failure cannot leak state into the next.
    auto session = (*database)->Connect();
    if (!session.ok()) {
      std::cerr << "cannot connect: " << session.status().ToString() << "\n";
      return 2;
    }
    Checker checker(**session);
    Outcome outcome = c.run(checker);
    bool is_known = known.count(c.name) > 0;
    if (!outcome) {
      passed++;
      std::cout << (is_known ? "PASS (listed as known failure; remove it) " : "PASS ") << c.name << "\n";
    } else {
      failed++;
      std::string reason = *outcome;
      std::replace(reason.begin(), reason.end(), '\n', ' ');
      if (is_known) {
        std::cout << "XFAIL " << c.name << ": " << reason << "\n";
      } else {
        unexpected++;
        std::cout << "FAIL " << c.name << ": " << reason << "\n";
      }
    }
  }
  std::cout << passed << " passed, " << failed << " failed";
  if (failed > 0) std::cout << " (" << (failed - unexpected) << " known, " << unexpected << " unexpected)";
  std::cout << "\n";
  return unexpected > 0 ? 1 : 0;
}
