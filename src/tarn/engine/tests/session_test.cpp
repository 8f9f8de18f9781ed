// SPDX-License-Identifier: Apache-2.0
// Tests Database/Session/ResultStream: options, streaming, interrupts, progress, errors, prepared statements, scripts.
#include "tarn/engine/session.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tarn/engine/database.hpp"
#include "tarn/engine/errors.hpp"

namespace tarn::engine {
namespace {

std::unique_ptr<Database> OpenDb(DatabaseOptions options = {}) {
  auto db = Database::Open(options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

std::unique_ptr<Session> Connect(Database& db) {
  auto session = db.Connect();
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  return session.ok() ? std::move(session).value() : nullptr;
}

// Runs `sql` and returns all rows as kDuckDb text, or the error.
Result<std::vector<std::vector<std::string>>> Rows(Session& session, std::string_view sql) {
  TARN_ASSIGN_OR_RETURN(auto stream, session.Execute(sql));
  std::vector<std::vector<std::string>> rows;
  while (true) {
    TARN_ASSIGN_OR_RETURN(auto chunk, stream->Next());
    if (!chunk) break;
    for (size_t r = 0; r < chunk->num_rows(); r++) {
      std::vector<std::string> row;
      for (size_t c = 0; c < chunk->num_columns(); c++) row.push_back(chunk->FormatValue(c, r, ValueStyle::kDuckDb));
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string Scalar(Session& session, std::string_view sql) {
  auto rows = Rows(session, sql);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok() || rows->empty() || (*rows)[0].empty()) return "<none>";
  return (*rows)[0][0];
}

int64_t PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST(DatabaseTest, AppliesThreadsAndMemoryLimit) {
  auto db = OpenDb({.path = "", .threads = 3, .memory_limit = "512MB", .dbfs_root = ""});
  ASSERT_NE(db, nullptr);
  auto session = Connect(*db);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(Scalar(*session, "SELECT current_setting('threads')"), "3");
  EXPECT_EQ(Scalar(*session, "SELECT current_setting('memory_limit')"), "488.2 MiB");
  EXPECT_EQ(Scalar(*session, "SELECT current_setting('TimeZone')"), "UTC");
  EXPECT_EQ(Scalar(*session, "SELECT current_setting('enable_progress_bar')"), "true");
}

TEST(DatabaseTest, RejectsBadOptions) {
  auto negative = Database::Open({.path = "", .threads = -2, .memory_limit = "", .dbfs_root = ""});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().code(), ErrorCode::kInvalidParameterValue);
  auto bad_memory = Database::Open({.path = "", .threads = 0, .memory_limit = "lots", .dbfs_root = ""});
  ASSERT_FALSE(bad_memory.ok());
  EXPECT_EQ(bad_memory.status().code(), ErrorCode::kInvalidParameterValue) << bad_memory.status().ToString();
}

TEST(DatabaseTest, PersistsToFileAndConnectsFromManyThreads) {
  std::string path = ::testing::TempDir() + "/engine_test_persist.duckdb";
  std::remove(path.c_str());
  std::remove((path + ".wal").c_str());
  {
    auto db = OpenDb({.path = path, .threads = 0, .memory_limit = "", .dbfs_root = ""});
    ASSERT_NE(db, nullptr);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; i++) {
      threads.emplace_back([&db, &ok] {
        auto session = db->Connect();
        if (session.ok() && Rows(**session, "SELECT 1").ok()) ok++;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 4);
    auto session = Connect(*db);
    ASSERT_TRUE(Rows(*session, "CREATE TABLE t AS SELECT 42 AS x").ok());
  }
  auto db = OpenDb({.path = path, .threads = 0, .memory_limit = "", .dbfs_root = ""});
  ASSERT_NE(db, nullptr);
  auto session = Connect(*db);
  EXPECT_EQ(Scalar(*session, "SELECT x FROM t"), "42");
  std::remove(path.c_str());
}

TEST(SessionTest, StreamsLargeResultChunkByChunk) {
  auto db = OpenDb({.path = "", .threads = 2, .memory_limit = "", .dbfs_root = ""});
  auto session = Connect(*db);
  // ~300 MB of text if it were materialised; streaming keeps only a few chunks alive.
  auto stream = session->Execute("SELECT i, repeat('x', 100) || i::VARCHAR AS s FROM range(3000000) t(i)");
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ((*stream)->statement_type(), StatementType::kSelect);
  EXPECT_EQ((*stream)->result_kind(), ResultKind::kQueryResult);
  int64_t rss_before = PeakRssKb();
  size_t rows = 0;
  size_t chunks = 0;
  int64_t sum = 0;
  while (true) {
    auto chunk = (*stream)->Next();
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    if (!*chunk) break;
    chunks++;
    for (size_t r = 0; r < (*chunk)->num_rows(); r++) sum += (*chunk)->GetInt64(0, r);
    rows += (*chunk)->num_rows();
  }
  EXPECT_EQ(rows, 3000000u);
  EXPECT_GT(chunks, 1000u);
  EXPECT_EQ(sum, int64_t{3000000} * 2999999 / 2);
  int64_t growth_mb = (PeakRssKb() - rss_before) / 1024;
  EXPECT_LT(growth_mb, 150) << "peak RSS grew by " << growth_mb << " MB while streaming";
  // After the end, Next keeps returning nullptr.
  auto again = (*stream)->Next();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, nullptr);
}

TEST(SessionTest, NewStatementClosesOpenStream) {
  auto db = OpenDb();
  auto session = Connect(*db);
  auto first = session->Execute("SELECT * FROM range(100000)");
  ASSERT_TRUE(first.ok());
  auto chunk = (*first)->Next();
  ASSERT_TRUE(chunk.ok() && *chunk);
  EXPECT_EQ(Scalar(*session, "SELECT 7"), "7");
  EXPECT_TRUE((*first)->closed());
  auto after = (*first)->Next();
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), ErrorCode::kInvalidState);
  // The chunk fetched before stays readable.
  EXPECT_EQ((*chunk)->FormatValue(0, 0, ValueStyle::kDuckDb), "0");
}

TEST(SessionTest, StreamOutlivingSessionIsClosed) {
  auto db = OpenDb();
  auto session = Connect(*db);
  auto stream = session->Execute("SELECT * FROM range(100000)");
  ASSERT_TRUE(stream.ok());
  session.reset();
  EXPECT_TRUE((*stream)->closed());
}

TEST(SessionTest, InterruptCancelsLongQuery) {
  auto db = OpenDb({.path = "", .threads = 2, .memory_limit = "", .dbfs_root = ""});
  auto session = Connect(*db);
  std::atomic<bool> finished{false};
  std::atomic<bool> saw_bad_progress{false};
  std::thread canceller([&] {
    while (!finished.load()) {
      double p = session->Progress();
      if (p != -1 && (p < 0 || p > 100)) saw_bad_progress = true;
      session->Interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto rows = Rows(*session, "SELECT sum(i * i % 7) FROM range(100000000000) t(i)");
  finished = true;
  canceller.join();
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), ErrorCode::kCancelled) << rows.status().ToString();
  EXPECT_EQ(rows.status().sqlstate(), "57014");
  EXPECT_FALSE(saw_bad_progress.load());
  // The session stays usable, and an interrupt while idle does not cancel the next query.
  session->Interrupt();
  EXPECT_EQ(Scalar(*session, "SELECT 1"), "1");
}

TEST(SessionTest, ProgressIsReadableDuringQuery) {
  auto db = OpenDb({.path = "", .threads = 2, .memory_limit = "", .dbfs_root = ""});
  auto session = Connect(*db);
  EXPECT_EQ(session->Progress(), -1);
  std::atomic<bool> finished{false};
  std::atomic<double> max_seen{-1};
  std::thread watcher([&] {
    while (!finished.load()) {
      double p = session->Progress();
      if (p > max_seen.load()) max_seen = p;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  // range() reports no progress; a table scan does.
  ASSERT_TRUE(Rows(*session, "CREATE TABLE big AS SELECT i, i::VARCHAR AS s FROM range(5000000) t(i)").ok());
  auto rows = Rows(*session, "SELECT count(DISTINCT s) FROM big WHERE i % 7 = 3");
  finished = true;
  watcher.join();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0][0], "714286");
  EXPECT_LE(max_seen.load(), 100.0);
  EXPECT_GE(max_seen.load(), -1.0);
}

struct ErrorCase {
  std::string sql;
  ErrorCode code;
  std::string sqlstate;
};

TEST(SessionTest, MapsErrorsByCategory) {
  auto db = OpenDb();
  auto session = Connect(*db);
  ASSERT_TRUE(Rows(*session, "CREATE TABLE t(a INT PRIMARY KEY, b INT NOT NULL)").ok());
  ASSERT_TRUE(Rows(*session, "INSERT INTO t VALUES (1, 1)").ok());
  const ErrorCase cases[] = {
      {"SELECT FROM FROM", ErrorCode::kSyntaxError, "42601"},
      {"SELECT * FROM nosuch", ErrorCode::kTableNotFound, "42P01"},
      {"SELECT nosuchcol FROM t", ErrorCode::kColumnNotFound, "42703"},
      {"SELECT t.nosuchcol FROM t", ErrorCode::kColumnNotFound, "42703"},
      {"SELECT 'abc'::INT", ErrorCode::kInvalidTextRepresentation, "22P02"},
      {"SELECT [1] + 1", ErrorCode::kFunctionNotFound, "42883"},
      {"SELECT nosuchfn(1)", ErrorCode::kFunctionNotFound, "42883"},
      {"SELECT 2147483647::INT + 1::INT", ErrorCode::kNumericOverflow, "22003"},
      {"INSERT INTO t VALUES (1, 1)", ErrorCode::kUniqueViolation, "23505"},
      {"INSERT INTO t VALUES (2, NULL)", ErrorCode::kNotNullViolation, "23502"},
      {"CREATE TABLE t(x INT)", ErrorCode::kDuplicateObject, "42P07"},
      {"CREATE TABLE nosuchschema.x(a INT)", ErrorCode::kSchemaNotFound, "3F000"},
      {"SELECT * FROM read_csv('/nonexistent/file.csv')", ErrorCode::kIoError, "58030"},
      {"COMMIT", ErrorCode::kInvalidTransactionState, "25000"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.sql);
    auto rows = Rows(*session, c.sql);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.status().code(), c.code) << rows.status().ToString();
    EXPECT_EQ(rows.status().sqlstate(), c.sqlstate);
  }
}

TEST(SessionTest, SyntaxErrorKeepsPosition) {
  auto db = OpenDb();
  auto session = Connect(*db);
  std::string sql = "SELECT 1,\n  2 FROM FROM x";
  auto result = session->Execute(sql);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kSyntaxError);
  EXPECT_NE(result.status().message().find("LINE 2:"), std::string::npos) << result.status().message();
  auto position = SyntaxErrorPosition(result.status().message(), sql);
  ASSERT_TRUE(position.has_value()) << result.status().message();
  EXPECT_EQ(sql.substr(*position - 1, 4), "FROM");
  EXPECT_EQ(*position, sql.find("FROM FROM x") + 6);
}

TEST(SessionTest, RuntimeErrorSurfacesFromNext) {
  auto db = OpenDb();
  auto session = Connect(*db);
  auto rows = Rows(*session, "SELECT CASE WHEN i = 50000 THEN error('boom') ELSE i END FROM range(100000) t(i)");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), ErrorCode::kDataException);
  EXPECT_NE(rows.status().message().find("boom"), std::string::npos);
}

TEST(SessionTest, ReportsDmlCountsAndStatementTypes) {
  auto db = OpenDb();
  auto session = Connect(*db);
  auto create = session->Execute("CREATE TABLE t(a INT)");
  ASSERT_TRUE(create.ok());
  EXPECT_EQ((*create)->statement_type(), StatementType::kCreate);
  EXPECT_EQ((*create)->result_kind(), ResultKind::kNothing);
  auto insert = session->Execute("INSERT INTO t SELECT * FROM range(5)");
  ASSERT_TRUE(insert.ok());
  EXPECT_EQ((*insert)->statement_type(), StatementType::kInsert);
  EXPECT_EQ((*insert)->result_kind(), ResultKind::kChangedRows);
  EXPECT_EQ((*insert)->rows_changed(), 5);
  auto update = session->Execute("UPDATE t SET a = a + 1 WHERE a < 2");
  ASSERT_TRUE(update.ok());
  EXPECT_EQ((*update)->statement_type(), StatementType::kUpdate);
  EXPECT_EQ((*update)->rows_changed(), 2);
  auto del = session->Execute("DELETE FROM t");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ((*del)->statement_type(), StatementType::kDelete);
  EXPECT_EQ((*del)->rows_changed(), 5);
  auto empty = session->Execute("  -- only a comment\n");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE((*empty)->columns().empty());
  auto none = (*empty)->Next();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
}

TEST(SessionTest, ExecuteRunsEarlierStatementsFirst) {
  auto db = OpenDb();
  auto session = Connect(*db);
  EXPECT_EQ(Scalar(*session, "CREATE TABLE t AS SELECT 5 AS x; INSERT INTO t VALUES (6); SELECT sum(x) FROM t"), "11");
  auto failing = Rows(*session, "INSERT INTO t VALUES ('nope'); SELECT 1");
  ASSERT_FALSE(failing.ok());
  EXPECT_EQ(failing.status().code(), ErrorCode::kInvalidTextRepresentation);
}

TEST(SessionTest, RunsScriptsStatementByStatement) {
  auto db = OpenDb();
  auto session = Connect(*db);
  std::vector<std::string> seen;
  Status status = session->ExecuteScript(
      "CREATE TABLE t(a INT); INSERT INTO t VALUES (1), (2); SELECT count(*) AS n FROM t; -- trailing comment",
      [&](size_t index, ResultStream& result) -> Status {
        std::string text = std::to_string(index) + ":" + std::to_string(static_cast<int>(result.statement_type()));
        TARN_ASSIGN_OR_RETURN(auto chunk, result.Next());
        if (chunk && result.result_kind() == ResultKind::kQueryResult) {
          text += "=" + chunk->FormatValue(0, 0, ValueStyle::kDuckDb);
        }
        seen.push_back(text);
        return Status::OK();
      });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"0:7", "1:2", "2:1=2"}));

  // Stops at the first failing statement; earlier ones stay applied.
  size_t calls = 0;
  status = session->ExecuteScript("INSERT INTO t VALUES (3); SELECT * FROM nosuch; INSERT INTO t VALUES (4)",
                                  [&](size_t, ResultStream&) -> Status {
                                    calls++;
                                    return Status::OK();
                                  });
  EXPECT_EQ(status.code(), ErrorCode::kTableNotFound);
  EXPECT_EQ(calls, 1u);
  EXPECT_EQ(Scalar(*session, "SELECT count(*) FROM t"), "3");

  // A callback error stops the script too.
  status = session->ExecuteScript("SELECT 1; SELECT 2", [&](size_t index, ResultStream&) -> Status {
    return index == 0 ? Error(ErrorCode::kAborted, "client went away") : Status::OK();
  });
  EXPECT_EQ(status.code(), ErrorCode::kAborted);

  auto count = session->CountStatements("SELECT 1; SELECT 2; -- c");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2u);
  auto bad = session->CountStatements("SELEC 1");
  EXPECT_EQ(bad.status().code(), ErrorCode::kSyntaxError);
}

TEST(SessionTest, PreparedStatementsBindParameters) {
  auto db = OpenDb();
  auto session = Connect(*db);
  ASSERT_TRUE(Rows(*session, "CREATE TABLE t(i BIGINT, d DOUBLE, s VARCHAR, b BOOLEAN)").ok());
  auto insert = session->Prepare("INSERT INTO t VALUES ($1, $2, $3, $4)");
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  EXPECT_EQ((*insert)->NumParams(), 4u);
  EXPECT_EQ((*insert)->ParamType(1).id, TypeId::kBigInt);
  EXPECT_EQ((*insert)->ParamType(3).id, TypeId::kVarchar);
  EXPECT_EQ((*insert)->statement_type(), StatementType::kInsert);
  for (int64_t i = 0; i < 3; i++) {
    ASSERT_TRUE((*insert)->Bind(1, i).ok());
    ASSERT_TRUE((*insert)->Bind(2, 0.5 * static_cast<double>(i)).ok());
    ASSERT_TRUE((*insert)->Bind(3, i == 1 ? ParamValue{} : ParamValue{std::string("s") + std::to_string(i)}).ok());
    ASSERT_TRUE((*insert)->Bind(4, i % 2 == 0).ok());
    auto result = (*insert)->Execute();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ((*result)->rows_changed(), 1);
  }
  EXPECT_EQ((*insert)->Bind(5, int64_t{1}).code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ((*insert)->Bind(0, int64_t{1}).code(), ErrorCode::kInvalidParameterValue);

  auto select = session->Prepare("SELECT i, s FROM t WHERE i >= ? ORDER BY i");
  ASSERT_TRUE(select.ok());
  ASSERT_EQ((*select)->columns().size(), 2u);
  EXPECT_EQ((*select)->columns()[1].name, "s");
  EXPECT_EQ((*select)->columns()[1].type.id, TypeId::kVarchar);
  // Text is cast to the parameter type.
  ASSERT_TRUE((*select)->Bind(1, std::string("1")).ok());
  auto stream = (*select)->Execute();
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  auto chunk = (*stream)->Next();
  ASSERT_TRUE(chunk.ok() && *chunk);
  ASSERT_EQ((*chunk)->num_rows(), 2u);
  EXPECT_TRUE((*chunk)->IsNull(1, 0));
  EXPECT_EQ((*chunk)->FormatValue(1, 1, ValueStyle::kDuckDb), "s2");

  // Missing parameters fail at execution.
  (*select)->ClearBindings();
  auto missing = (*select)->Execute();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kInvalidParameterValue) << missing.status().ToString();

  auto bad = session->Prepare("SELECT * FROM nosuch WHERE x = $1");
  EXPECT_EQ(bad.status().code(), ErrorCode::kTableNotFound);
}

TEST(SessionTest, StatementTypeEnumMatchesDuckDb) {
  // FromDuckStatementType casts between the enums; pin a few values.
  EXPECT_EQ(static_cast<int>(StatementType::kSelect), 1);
  EXPECT_EQ(static_cast<int>(StatementType::kCreate), 7);
  EXPECT_EQ(static_cast<int>(StatementType::kDrop), 15);
  EXPECT_EQ(static_cast<int>(StatementType::kMulti), 27);
}

}  // namespace
}  // namespace tarn::engine
