// SPDX-License-Identifier: Apache-2.0
// StatementManager tests: states, chunking, limits, parameters, errors, cancel, expiry, CSV/JSON link payloads.
#include "tarn/api/statement_manager.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "sql_warehouse_env.hpp"
#include "tarn/api/detail/statement_text.hpp"

namespace tarn::api {
namespace {

constexpr int64_t kOwner = 7;
constexpr int64_t kForever = 600'000;  // wait bound only; tests never depend on timing

class StatementManagerTest : public ::testing::Test {
 protected:
  StatementManager& Manager(StatementManagerOptions options = {}) {
    if (!options.clock_ms) options.clock_ms = [this] { return now_.load(); };
    manager_ = std::make_unique<StatementManager>(*env_.warehouse, std::move(options));
    return *manager_;
  }

  StatementSnapshot Run(StatementRequest request) {
    if (!manager_) Manager();
    request.owner_id = kOwner;
    auto id = manager_->Submit(std::move(request));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    auto snapshot = manager_->Wait(*id, kOwner, kForever);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    return *snapshot;
  }
  StatementSnapshot Run(std::string sql) {
    StatementRequest request;
    request.statement = std::move(sql);
    return Run(std::move(request));
  }

  std::vector<std::vector<std::optional<std::string>>> Rows(const StatementSnapshot& snapshot) {
    std::vector<std::vector<std::optional<std::string>>> rows;
    for (const auto& info : snapshot.chunks) {
      auto chunk = manager_->GetChunk(snapshot.statement_id, kOwner, info.chunk_index);
      EXPECT_TRUE(chunk.ok()) << chunk.status().ToString();
      if (!chunk.ok()) break;
      for (int64_t r = 0; r < (*chunk)->info.row_count; r++) {
        std::vector<std::optional<std::string>> row;
        for (size_t c = 0; c < (*chunk)->num_columns; c++) row.push_back((*chunk)->cells[r * (*chunk)->num_columns + c]);
        rows.push_back(std::move(row));
      }
    }
    return rows;
  }

  SqlWarehouseEnv env_;
  std::atomic<int64_t> now_{1'700'000'000'000};
  std::unique_ptr<StatementManager> manager_;  // declared after env_: destroyed first
};

TEST_F(StatementManagerTest, SucceedsAndCutsTheResultIntoChunks) {
  StatementManagerOptions options;
  options.chunk_rows = 3;
  Manager(options);
  auto s = Run("SELECT range AS id, 'v' || range AS name FROM range(10) ORDER BY id");
  ASSERT_EQ(s.state, StatementState::kSucceeded) << s.error.ToString();
  ASSERT_EQ(s.columns.size(), 2u);
  EXPECT_EQ(s.columns[0].name, "id");
  EXPECT_EQ(s.columns[0].type_name, "LONG");
  EXPECT_EQ(s.columns[0].type_text, "BIGINT");
  EXPECT_EQ(s.columns[1].type_name, "STRING");
  EXPECT_EQ(s.total_row_count, 10);
  EXPECT_FALSE(s.truncated);
  ASSERT_EQ(s.chunks.size(), 4u);
  EXPECT_EQ(s.chunks[3].row_offset, 9);
  EXPECT_EQ(s.chunks[3].row_count, 1);
  EXPECT_EQ(s.chunks[1].chunk_index, 1);
  EXPECT_EQ(s.chunks[1].row_offset, 3);
  ASSERT_TRUE(s.first_chunk);
  EXPECT_EQ(s.first_chunk->cells[1], "v0");
  auto rows = Rows(s);
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows[9][0], "9");
  EXPECT_EQ(rows[9][1], "v9");
  EXPECT_EQ(manager_->GetChunk(s.statement_id, kOwner, 4).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(manager_->GetChunk(s.statement_id, kOwner + 1, 0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(manager_->Get("nope", kOwner).status().code(), ErrorCode::kNotFound);
}

TEST_F(StatementManagerTest, DatabricksTypesAndValueText) {
  auto s = Run(
      "SELECT 1::INT AS i, 2::BIGINT AS b, 'a' AS s, 1.5::DOUBLE AS d, 12.30::DECIMAL(10,2) AS m, DATE '2024-01-02' "
      "AS dt, TIMESTAMP_NTZ '2024-01-02 03:04:05.5' AS ts, TIMESTAMPTZ '2024-01-02 03:04:05+00' AS tz, true AS f, "
      "NULL::INT AS n, [1, 2] AS arr, {'x': 1} AS st, 'inf'::DOUBLE AS inf");
  ASSERT_EQ(s.state, StatementState::kSucceeded) << s.error.ToString();
  std::vector<std::string> texts;
  for (const auto& c : s.columns) texts.push_back(c.type_text);
  EXPECT_EQ(texts, (std::vector<std::string>{"INT", "BIGINT", "STRING", "DOUBLE", "DECIMAL(10,2)", "DATE",
                                             "TIMESTAMP_NTZ", "TIMESTAMP", "BOOLEAN", "INT", "ARRAY<INT>",
                                             "STRUCT<x: INT>", "DOUBLE"}));
  EXPECT_EQ(s.columns[4].type_name, "DECIMAL");
  EXPECT_EQ(s.columns[4].type_precision, 10);
  EXPECT_EQ(s.columns[4].type_scale, 2);
  EXPECT_EQ(s.columns[10].type_name, "ARRAY");
  auto rows = Rows(s);
  ASSERT_EQ(rows.size(), 1u);
  const auto& r = rows[0];
  EXPECT_EQ(r[0], "1");
  EXPECT_EQ(r[3], "1.5");
  EXPECT_EQ(r[4], "12.30");
  EXPECT_EQ(r[5], "2024-01-02");
  EXPECT_EQ(r[6], "2024-01-02T03:04:05.500");
  EXPECT_EQ(r[7], "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(r[8], "true");
  EXPECT_EQ(r[9], std::nullopt);
  EXPECT_EQ(r[10], "[1,2]");
  EXPECT_EQ(r[11], R"({"x":1})");
  EXPECT_EQ(r[12], "Infinity");
}

TEST_F(StatementManagerTest, NestedValuesAreJson) {
  auto s = Run(
      "SELECT ['a,b', NULL, 'NULL', ' x'] AS l, {'k': 'it''s', 'n': [1.5, NULL], 'b': true} AS st, "
      "MAP {'k': [1], 'z': NULL} AS m, [[1, 2], []] AS ll, [DATE '2024-01-02'] AS d");
  ASSERT_EQ(s.state, StatementState::kSucceeded) << s.error.ToString();
  auto rows = Rows(s);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], R"(["a,b",null,"NULL"," x"])");
  EXPECT_EQ(rows[0][1], R"({"k":"it's","n":[1.5,null],"b":true})");
  EXPECT_EQ(rows[0][2], R"({"k":[1],"z":null})");
  EXPECT_EQ(rows[0][3], "[[1,2],[]]");
  EXPECT_EQ(rows[0][4], R"(["2024-01-02"])");
  EXPECT_EQ(s.columns[1].type_text, "STRUCT<k: STRING, n: ARRAY<DECIMAL(2,1)>, b: BOOLEAN>");
}

TEST_F(StatementManagerTest, RowLimitAndByteLimitTruncate) {
  StatementRequest request;
  request.statement = "SELECT range FROM range(10)";
  request.row_limit = 4;
  auto s = Run(request);
  ASSERT_EQ(s.state, StatementState::kSucceeded);
  EXPECT_EQ(s.total_row_count, 4);
  EXPECT_TRUE(s.truncated);
  request.row_limit = 10;
  s = Run(request);
  EXPECT_EQ(s.total_row_count, 10);
  EXPECT_FALSE(s.truncated);
  request.row_limit.reset();
  request.byte_limit = 6;  // each row is one digit plus one byte of overhead
  s = Run(request);
  EXPECT_EQ(s.total_row_count, 3);
  EXPECT_TRUE(s.truncated);
}

TEST_F(StatementManagerTest, InlineResultsAboveTheCapFail) {
  StatementManagerOptions options;
  options.max_inline_bytes = 100;
  Manager(options);
  auto s = Run("SELECT repeat('x', 10) FROM range(100)");
  EXPECT_EQ(s.state, StatementState::kFailed);
  EXPECT_EQ(s.error.code(), ErrorCode::kRequestTooLarge);
  EXPECT_NE(s.error.message().find("EXTERNAL_LINKS"), std::string::npos);
}

TEST_F(StatementManagerTest, NamedParametersAreBoundAsTypedLiterals) {
  StatementRequest request;
  request.statement =
      "SELECT :a + 1 AS x, :s AS s, :n IS NULL AS isnull, ':a' AS lit, '5'::INT AS cast -- :comment\n, :d AS d";
  request.parameters = {{"a", "41", "INT"}, {"s", "it's", ""}, {"n", std::nullopt, "BIGINT"},
                        {"d", "2024-02-03", "DATE"}};
  auto s = Run(request);
  ASSERT_EQ(s.state, StatementState::kSucceeded) << s.error.ToString();
  auto rows = Rows(s);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "42");
  EXPECT_EQ(rows[0][1], "it's");
  EXPECT_EQ(rows[0][2], "true");
  EXPECT_EQ(rows[0][3], ":a");
  EXPECT_EQ(rows[0][4], "5");
  EXPECT_EQ(rows[0][5], "2024-02-03");
  EXPECT_EQ(s.columns[5].type_text, "DATE");

  request.parameters = {{"a", "41", "INT"}};
  request.statement = "SELECT :a, :missing";
  s = Run(request);
  EXPECT_EQ(s.state, StatementState::kFailed);
  EXPECT_EQ(s.error.code(), ErrorCode::kUnboundParameter);
  EXPECT_EQ(s.error.sqlstate(), "42P02");

  request.parameters = {{"a", "x", "NOPE_TYPE"}};
  request.statement = "SELECT :a";
  s = Run(request);
  EXPECT_EQ(s.state, StatementState::kFailed);

  request.parameters = {{"a", "not a number", "INT"}};
  s = Run(request);
  EXPECT_EQ(s.state, StatementState::kFailed);
}

TEST_F(StatementManagerTest, BindNamedParametersLeavesStringsCommentsAndPathsAlone) {
  auto bound = detail::BindNamedParameters("SELECT \":x\", `:x`, /* :x */ raw:x, a::INT, :x", {{"x", "1", "INT"}});
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_EQ(*bound, "SELECT \":x\", `:x`, /* :x */ raw:x, a::INT, CAST('1' AS INTEGER)");
  EXPECT_EQ(detail::BindNamedParameters("SELECT 1", {{"bad name", "1", ""}}).status().code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(StatementManagerTest, SqlErrorsFailWithTheirCodes) {
  auto s = Run("SELEC 1");
  EXPECT_EQ(s.state, StatementState::kFailed);
  EXPECT_EQ(s.error.code(), ErrorCode::kSyntaxError);
  s = Run("SELECT * FROM no_such_table");
  EXPECT_EQ(s.error.code(), ErrorCode::kTableNotFound);
  EXPECT_EQ(s.error.sqlstate(), "42P01");
  StatementRequest request;
  request.statement = "SELECT 1";
  request.catalog = "nope";
  s = Run(request);
  EXPECT_EQ(s.state, StatementState::kFailed);
  EXPECT_EQ(s.error.code(), ErrorCode::kCatalogNotFound);
}

TEST_F(StatementManagerTest, CatalogAndSchemaSetTheSessionNamespace) {
  ASSERT_EQ(Run("CREATE SCHEMA sales").state, StatementState::kSucceeded);
  ASSERT_EQ(Run("CREATE TABLE sales.orders (id BIGINT, amount DECIMAL(10,2))").state, StatementState::kSucceeded);
  auto insert = Run("INSERT INTO sales.orders VALUES (1, 2.50), (2, NULL)");
  ASSERT_EQ(insert.state, StatementState::kSucceeded) << insert.error.ToString();
  StatementRequest request;
  request.statement = "SELECT id, amount FROM orders ORDER BY id";
  request.schema = "sales";
  auto s = Run(request);
  ASSERT_EQ(s.state, StatementState::kSucceeded) << s.error.ToString();
  auto rows = Rows(s);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1], "2.50");
  EXPECT_EQ(rows[1][1], std::nullopt);
  auto ddl = Run("CREATE SCHEMA other");
  EXPECT_TRUE(ddl.columns.empty());
  EXPECT_TRUE(ddl.chunks.empty());
}

TEST_F(StatementManagerTest, CancelInterruptsRunningAndDropsPendingStatements) {
  StatementManagerOptions options;
  options.workers = 1;
  Manager(options);
  StatementRequest slow;
  slow.owner_id = kOwner;
  slow.statement = "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b";
  auto running = manager_->Submit(slow);
  ASSERT_TRUE(running.ok());
  auto pending = manager_->Submit(slow);
  ASSERT_TRUE(pending.ok());
  // Wait (without a time bound) until the first one runs; the single worker keeps the second one queued.
  while (manager_->Get(*running, kOwner)->state == StatementState::kPending) std::this_thread::yield();
  EXPECT_EQ(manager_->Get(*pending, kOwner)->state, StatementState::kPending);
  ASSERT_TRUE(manager_->Cancel(*pending, kOwner).ok());
  EXPECT_EQ(manager_->Get(*pending, kOwner)->state, StatementState::kCanceled);
  ASSERT_TRUE(manager_->Cancel(*running, kOwner).ok());
  StatementSnapshot s;
  do {
    s = *manager_->Wait(*running, kOwner, kForever);
  } while (s.state == StatementState::kRunning);
  EXPECT_EQ(s.state, StatementState::kCanceled);
  EXPECT_EQ(manager_->GetChunk(*running, kOwner, 0).status().code(), ErrorCode::kInvalidState);
  // Cancelling a finished statement changes nothing.
  auto done = Run("SELECT 1");
  ASSERT_TRUE(manager_->Cancel(done.statement_id, kOwner).ok());
  EXPECT_EQ(manager_->Get(done.statement_id, kOwner)->state, StatementState::kSucceeded);
}

TEST_F(StatementManagerTest, ResultsCloseAfterTheTtlAndStatementsAreForgotten) {
  StatementManagerOptions options;
  options.result_ttl_ms = 1000;
  options.forget_after_ms = 5000;
  Manager(options);
  auto s = Run("SELECT 1");
  ASSERT_EQ(s.state, StatementState::kSucceeded);
  now_ += 999;
  EXPECT_EQ(manager_->Get(s.statement_id, kOwner)->state, StatementState::kSucceeded);
  now_ += 1;
  auto closed = manager_->Get(s.statement_id, kOwner);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->state, StatementState::kClosed);
  EXPECT_TRUE(closed->chunks.empty());
  EXPECT_EQ(manager_->GetChunk(s.statement_id, kOwner, 0).status().code(), ErrorCode::kInvalidState);
  now_ += 4000;
  EXPECT_EQ(manager_->Get(s.statement_id, kOwner).status().code(), ErrorCode::kNotFound);
}

TEST_F(StatementManagerTest, ExternalLinkPayloadsAreCsvOrCompactJson) {
  StatementManagerOptions options;
  options.chunk_rows = 2;
  Manager(options);
  StatementRequest request;
  request.statement = "SELECT range AS id, CASE WHEN range = 1 THEN NULL ELSE 'a,\"b' END AS t FROM range(3)";
  request.disposition = ResultDisposition::kExternalLinks;
  request.format = ResultFormat::kCsv;
  auto s = Run(request);
  ASSERT_EQ(s.state, StatementState::kSucceeded) << s.error.ToString();
  ASSERT_EQ(s.chunks.size(), 2u);
  ASSERT_FALSE(s.link_secret.empty());
  EXPECT_EQ(s.first_chunk->payload, "id,t\r\n0,\"a,\"\"b\"\r\n1,null\r\n");
  EXPECT_EQ(s.chunks[0].byte_count, static_cast<int64_t>(s.first_chunk->payload.size()));
  auto second = manager_->GetLinkedChunk(s.statement_id, s.link_secret, 1);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)->payload, "2,\"a,\"\"b\"\r\n");
  EXPECT_EQ(manager_->GetLinkedChunk(s.statement_id, "wrong", 1).status().code(), ErrorCode::kNotFound);
  request.format = ResultFormat::kJsonArray;
  s = Run(request);
  EXPECT_EQ(s.first_chunk->payload, R"([["0","a,\"b"],["1",null]])");
}

}  // namespace
}  // namespace tarn::api
