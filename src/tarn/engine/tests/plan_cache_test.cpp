// SPDX-License-Identifier: Apache-2.0
// Tests the session plan cache (fresh results on hits, invalidation, what is never cached) and the task pool.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_writer.hpp"
#include "tarn/engine/detail/impl.hpp"
#include "tarn/engine/detail/plan_cache.hpp"
#include "tarn/engine/session.hpp"

namespace tarn::engine {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Database> OpenDb(int threads = 0) {
  auto db = Database::Open({.path = "", .threads = threads, .memory_limit = "", .dbfs_root = ""});
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

std::unique_ptr<Session> Connect(Database& db) {
  auto session = db.Connect();
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  return session.ok() ? std::move(session).value() : nullptr;
}

// All rows as kDuckDb text joined by ',' per row and ';' between rows, or "error: <status>".
std::string Text(Session& session, std::string_view sql) {
  auto stream = session.Execute(sql);
  if (!stream.ok()) return "error: " + stream.status().ToString();
  std::string out;
  while (true) {
    auto chunk = (*stream)->Next();
    if (!chunk.ok()) return "error: " + chunk.status().ToString();
    if (!*chunk) break;
    for (size_t r = 0; r < (*chunk)->num_rows(); r++) {
      if (!out.empty()) out += ";";
      for (size_t c = 0; c < (*chunk)->num_columns(); c++) {
        if (c > 0) out += ",";
        out += (*chunk)->FormatValue(c, r, ValueStyle::kDuckDb);
      }
    }
  }
  return out;
}

std::string Columns(Session& session, std::string_view sql) {
  auto stream = session.Execute(sql);
  if (!stream.ok()) return "error: " + stream.status().ToString();
  std::string out;
  for (const Column& column : (*stream)->columns()) out += (out.empty() ? "" : ",") + column.name;
  return out;
}

std::string TempDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/plan_cache_test_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(PlanCacheTest, ReusesThePlanOfTheSameText) {
  auto db = OpenDb();
  auto session = Connect(*db);
  EXPECT_EQ(Text(*session, "SELECT 40 + 2 AS x"), "42");
  EXPECT_EQ(session->plan_cache_stats().entries, 1u);
  uint64_t hits = session->plan_cache_stats().hits;
  EXPECT_EQ(Text(*session, "SELECT 40 + 2 AS x"), "42");
  EXPECT_EQ(Columns(*session, "SELECT 40 + 2 AS x"), "x");
  EXPECT_EQ(session->plan_cache_stats().hits, hits + 2);
  EXPECT_EQ(Text(*session, "SELECT 40 + 2 AS x;"), "42");  // a trailing semicolon is still one statement
  EXPECT_EQ(Text(*session, "SELECT 1; SELECT 2"), "2");     // scripts take the statement-splitting path
}

TEST(PlanCacheTest, HitSeesRowsAnotherSessionInserted) {
  auto db = OpenDb();
  auto a = Connect(*db);
  auto b = Connect(*db);
  ASSERT_EQ(Text(*b, "CREATE TABLE t AS SELECT 1 AS x"), "1");
  EXPECT_EQ(Text(*a, "SELECT count(*), sum(x) FROM t"), "1,1");
  uint64_t hits = a->plan_cache_stats().hits;
  ASSERT_EQ(Text(*b, "INSERT INTO t VALUES (5)"), "1");
  EXPECT_EQ(Text(*a, "SELECT count(*), sum(x) FROM t"), "2,6");
  EXPECT_EQ(a->plan_cache_stats().hits, hits + 1);
  ASSERT_EQ(Text(*a, "INSERT INTO t VALUES (10)"), "1");  // row changes keep the cache
  EXPECT_EQ(Text(*a, "SELECT count(*), sum(x) FROM t"), "3,16");
  EXPECT_EQ(a->plan_cache_stats().hits, hits + 2);
}

TEST(PlanCacheTest, HitRebindsAfterAnotherSessionDropsAndRecreates) {
  auto db = OpenDb();
  auto a = Connect(*db);
  auto b = Connect(*db);
  ASSERT_EQ(Text(*b, "CREATE TABLE t AS SELECT 1 AS x"), "1");
  EXPECT_EQ(Text(*a, "SELECT * FROM t"), "1");
  ASSERT_EQ(Text(*b, "DROP TABLE t"), "");
  std::string dropped = Text(*a, "SELECT * FROM t");
  EXPECT_NE(dropped.find("TABLE_OR_VIEW_NOT_FOUND"), std::string::npos) << dropped;  // as uncached
  ASSERT_EQ(Text(*b, "CREATE TABLE t AS SELECT 'a' AS y, 2 AS z"), "1");
  EXPECT_EQ(Columns(*a, "SELECT * FROM t"), "y,z");
  EXPECT_EQ(Text(*a, "SELECT * FROM t"), "a,2");
}

TEST(PlanCacheTest, SetAndDdlClearTheCache) {
  auto db = OpenDb();
  auto session = Connect(*db);
  const char* sql = "SELECT CAST(TIMESTAMPTZ '2024-01-01 00:00:00+00' AS VARCHAR)";
  EXPECT_EQ(Text(*session, sql), "2024-01-01 00:00:00+00");
  EXPECT_EQ(session->plan_cache_stats().entries, 1u);
  ASSERT_EQ(Text(*session, "SET TimeZone = 'America/New_York'"), "");
  EXPECT_EQ(session->plan_cache_stats().entries, 0u);
  EXPECT_EQ(Text(*session, sql), "2023-12-31 19:00:00-05");
  ASSERT_EQ(Text(*session, "SET TimeZone = 'UTC'"), "");
  EXPECT_EQ(Text(*session, sql), "2024-01-01 00:00:00+00");

  EXPECT_EQ(Text(*session, "SELECT 7"), "7");
  EXPECT_GT(session->plan_cache_stats().entries, 0u);
  ASSERT_EQ(Text(*session, "CREATE TEMP TABLE tmp (x INTEGER)"), "");
  EXPECT_EQ(session->plan_cache_stats().entries, 0u);
  ASSERT_EQ(Text(*session, "BEGIN"), "");  // transaction statements keep it
  EXPECT_EQ(Text(*session, "SELECT 7"), "7");
  ASSERT_EQ(Text(*session, "COMMIT"), "");
  EXPECT_EQ(session->plan_cache_stats().entries, 1u);
}

TEST(PlanCacheTest, TempViewReplacedInTheSameSessionIsRebound) {
  auto db = OpenDb();
  auto session = Connect(*db);
  ASSERT_EQ(Text(*session, "CREATE TEMP VIEW v AS SELECT 1 AS x"), "");
  EXPECT_EQ(Text(*session, "SELECT * FROM v"), "1");
  ASSERT_EQ(Text(*session, "CREATE OR REPLACE TEMP VIEW v AS SELECT 2 AS x, 3 AS y"), "");
  EXPECT_EQ(Text(*session, "SELECT * FROM v"), "2,3");
}

TEST(PlanCacheTest, FileReadsAreNotCachedAndSeeNewFiles) {
  auto db = OpenDb();
  auto session = Connect(*db);
  std::string dir = TempDir("files");
  ASSERT_EQ(Text(*session, "COPY (SELECT 1 AS x) TO '" + dir + "/a.parquet' (FORMAT parquet)"), "1");
  std::string glob = "SELECT count(*) FROM read_parquet('" + dir + "/*.parquet')";
  std::string replacement = "SELECT count(*) FROM '" + dir + "/*.parquet'";
  EXPECT_EQ(Text(*session, glob), "1");
  EXPECT_EQ(Text(*session, replacement), "1");
  EXPECT_EQ(session->plan_cache_stats().entries, 0u);
  {  // another session adds a file: no statement of this session ran in between
    auto other = Connect(*db);
    ASSERT_EQ(Text(*other, "COPY (SELECT 2 AS x) TO '" + dir + "/b.parquet' (FORMAT parquet)"), "1");
  }
  EXPECT_EQ(Text(*session, glob), "2");
  EXPECT_EQ(Text(*session, replacement), "2");
  EXPECT_EQ(session->plan_cache_stats().entries, 0u);
  fs::remove_all(dir);
}

TEST(PlanCacheTest, DeltaScansArePinnedByTheirText) {
  auto db = OpenDb();
  std::string root = TempDir("delta") + "/t";
  DeltaWriter writer(*db);
  DeltaCreateTable create;
  create.source_query = "SELECT 1::BIGINT AS id";
  ASSERT_TRUE(writer.CreateTable(root, create).has_value());
  auto session = Connect(*db);
  std::string sql = "SELECT count(*), sum(id) FROM delta.`" + root + "`";
  EXPECT_EQ(Text(*session, sql), "1,1");
  EXPECT_EQ(Text(*session, sql), "1,1");
  EXPECT_EQ(session->plan_cache_stats().entries, 1u);  // inlined read_parquet over the pinned file list
  EXPECT_GE(session->plan_cache_stats().hits, 1u);
  DeltaWrite append;
  append.source_query = "SELECT 41::BIGINT AS id";
  ASSERT_TRUE(writer.Write(root, append).has_value());
  EXPECT_EQ(Text(*session, sql), "2,42");  // a new version is a new text
  std::string explicit_scan = "SELECT count(*) FROM delta_scan('" + root + "')";
  EXPECT_EQ(Text(*session, explicit_scan), "2");
  ASSERT_TRUE(writer.Write(root, append).has_value());
  EXPECT_EQ(Text(*session, explicit_scan), "3");  // delta_scan binds the latest version: never cached
  fs::remove_all(fs::path(root).parent_path());
}

TEST(PlanCacheTest, EvictsTheLeastRecentlyUsedPlan) {
  auto db = OpenDb();
  auto session = Connect(*db);
  for (int i = 0; i < 100; i++) EXPECT_EQ(Text(*session, "SELECT " + std::to_string(i)), std::to_string(i));
  EXPECT_EQ(session->plan_cache_stats().entries, detail::PlanCache::kDefaultCapacity);
  uint64_t hits = session->plan_cache_stats().hits;
  EXPECT_EQ(Text(*session, "SELECT 99"), "99");
  EXPECT_EQ(session->plan_cache_stats().hits, hits + 1);
  EXPECT_EQ(Text(*session, "SELECT 0"), "0");  // evicted long ago: prepared again
  EXPECT_EQ(session->plan_cache_stats().hits, hits + 1);
}

TEST(PlanCacheTest, PreparesAgainAfterMaxUses) {
  auto db = OpenDb();
  auto session = Connect(*db);
  for (uint32_t i = 0; i < detail::PlanCache::kMaxUses; i++) EXPECT_EQ(Text(*session, "SELECT 5"), "5");
  EXPECT_EQ(session->plan_cache_stats().hits, detail::PlanCache::kMaxUses - 1);  // the first run prepared it
  EXPECT_EQ(Text(*session, "SELECT 5"), "5");  // ran kMaxUses times: dropped and prepared afresh
  EXPECT_EQ(session->plan_cache_stats().hits, detail::PlanCache::kMaxUses - 1);
  EXPECT_EQ(session->plan_cache_stats().entries, 1u);
  EXPECT_EQ(Text(*session, "SELECT 5"), "5");
  EXPECT_EQ(session->plan_cache_stats().hits, detail::PlanCache::kMaxUses);
}

TEST(PlanCacheScanTest, SplitsSingleStatementsConservatively) {
  EXPECT_TRUE(detail::IsSingleStatement("SELECT 1"));
  EXPECT_TRUE(detail::IsSingleStatement("SELECT ';' -- x;y\n ;; "));
  EXPECT_TRUE(detail::IsSingleStatement("/* a; /* nested; */ b */ SELECT \"a;b\""));
  EXPECT_FALSE(detail::IsSingleStatement("SELECT 1; SELECT 2"));
  EXPECT_FALSE(detail::IsSingleStatement(""));
  EXPECT_FALSE(detail::IsSingleStatement(" -- only a comment"));
  EXPECT_FALSE(detail::IsSingleStatement("SELECT 'unterminated"));
  EXPECT_FALSE(detail::IsSingleStatement("SELECT E'a\\'; b'"));
  EXPECT_FALSE(detail::IsSingleStatement("SELECT $$a; b$$"));
  EXPECT_TRUE(detail::IsSingleStatement("SELECT $1"));
}

TEST(PlanCacheScanTest, RefusesTextThatCanReadFiles) {
  detail::TableFunctionNames names{"delta_scan", "my_reader"};
  EXPECT_TRUE(detail::ReadsOnlyPinnedData("SELECT a, lower(b) FROM t JOIN u ON t.x = u.x, v WHERE c = 'x'", 0,
                                          names));
  EXPECT_TRUE(detail::ReadsOnlyPinnedData("SELECT 'a', 'b' FROM range(3)", 0, names));
  EXPECT_FALSE(detail::ReadsOnlyPinnedData("SELECT * FROM my_reader('x')", 0, names));
  EXPECT_FALSE(detail::ReadsOnlyPinnedData("SELECT * FROM read_csv('x.csv')", 0, names));
  EXPECT_FALSE(detail::ReadsOnlyPinnedData("SELECT * FROM t, glob('*')", 0, names));
  EXPECT_FALSE(detail::ReadsOnlyPinnedData("SELECT * FROM 'data.csv'", 0, names));
  EXPECT_FALSE(detail::ReadsOnlyPinnedData("SELECT * FROM t JOIN 'data.csv' USING (x)", 0, names));
  EXPECT_FALSE(detail::ReadsOnlyPinnedData("SELECT * FROM t, 'data.csv'", 0, names));
  EXPECT_FALSE(detail::ReadsOnlyPinnedData("SELECT * FROM \"data.parquet\"", 0, names));
  std::string pinned = "SELECT * FROM (SELECT x FROM read_parquet(['/a/b.parquet'], union_by_name = true))";
  EXPECT_TRUE(detail::ReadsOnlyPinnedData(pinned, 1, names));
  EXPECT_FALSE(detail::ReadsOnlyPinnedData(pinned, 0, names));  // not generated by the front-end
  EXPECT_EQ(detail::CountTableFunctionCalls(pinned, names), 1u);
}

TEST(TaskPoolTest, HelpersJoinLongStatementsOnly) {
  auto db = OpenDb(2);
  auto session = Connect(*db);
  detail::TaskPool* pool = session->impl().pool;
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->helpers(), 1u);
  EXPECT_EQ(Text(*session, "SELECT current_setting('threads'), current_setting('external_threads')"), "2,2");
  // A statement running far longer than TaskPool::kHeavyAfter gets the helpers; the result is the same either way.
  EXPECT_EQ(Text(*session, "SELECT sum(i % 7) FROM range(60000000) t(i)"), "179999994");
  EXPECT_GE(pool->activations(), 1u);
  auto single = OpenDb(1);
  auto single_session = Connect(*single);
  EXPECT_EQ(single_session->impl().pool->helpers(), 0u);
  EXPECT_EQ(Text(*single_session, "SELECT sum(i % 7) FROM range(6000000) t(i)"), "17999997");
}

}  // namespace
}  // namespace tarn::engine
