// SPDX-License-Identifier: Apache-2.0
// sql::Session client transactions: staged Delta writes committed once at COMMIT, rollback, read-your-writes, errors.
#include <filesystem>
#include <string>

#include "sql_test_env.hpp"

namespace tarn::sql {
namespace {

namespace fs = std::filesystem;
using Row = std::vector<std::string>;

class TransactionTest : public SqlTestEnv {
 protected:
  std::unique_ptr<Session> Other() {
    auto session = warehouse_->NewSession();
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    return std::move(session).value();
  }
  std::string OtherValue(Session& other, std::string_view sql) {
    auto rows = Rows(sql, &other);
    if (rows.size() != 1 || rows[0].size() != 1) return "<" + std::to_string(rows.size()) + " rows>";
    return rows[0][0];
  }
  // Number of commits in the table's history.
  size_t Versions(std::string_view table) { return Rows("DESCRIBE HISTORY " + std::string(table)).size(); }
};

TEST_F(TransactionTest, InsertsAreStagedReadByTheTransactionAndCommittedOnce) {
  Ok("CREATE TABLE t (id BIGINT, s STRING)");
  Ok("INSERT INTO t VALUES (1, 'a')");
  auto other = Other();
  Ok("BEGIN");
  EXPECT_TRUE(session_->in_transaction());
  EXPECT_EQ(Rows("INSERT INTO t VALUES (2, 'b'), (3, 'c')"), (std::vector<Row>{{"2", "2"}}));
  Ok("INSERT INTO t (s, id) VALUES ('d', 4)");
  // Read-your-writes: the transaction sees its rows, nobody else does, nothing is committed yet.
  EXPECT_EQ(Value("SELECT string_agg(id || s, ',' ORDER BY id) FROM t"), "1a,2b,3c,4d");
  EXPECT_EQ(Value("SELECT count(*) FROM t AS x JOIN t AS y USING (id)"), "4");
  EXPECT_EQ(OtherValue(*other, "SELECT count(*) FROM t"), "1");
  EXPECT_EQ(Versions("t"), 2u);
  Ok("COMMIT");
  EXPECT_FALSE(session_->in_transaction());
  EXPECT_EQ(OtherValue(*other, "SELECT string_agg(id || s, ',' ORDER BY id) FROM t"), "1a,2b,3c,4d");
  EXPECT_EQ(Versions("t"), 3u);  // one commit for the whole transaction
  EXPECT_EQ(Value("SELECT operation FROM (DESCRIBE HISTORY t) WHERE version = 2"), "WRITE");
}

TEST_F(TransactionTest, RollbackDiscardsStagedRows) {
  Ok("CREATE TABLE t (id BIGINT)");
  Ok("INSERT INTO t VALUES (1)");
  Ok("BEGIN");
  Ok("INSERT INTO t VALUES (2)");
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "2");
  Ok("ROLLBACK");
  EXPECT_FALSE(session_->in_transaction());
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "1");
  EXPECT_EQ(Versions("t"), 2u);
  // A new transaction starts clean.
  Ok("BEGIN");
  Ok("INSERT INTO t VALUES (3)");
  Ok("COMMIT");
  EXPECT_EQ(Value("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t"), "1,3");
}

TEST_F(TransactionTest, AnErrorAbortsTheTransactionUntilRollback) {
  Ok("CREATE TABLE t (id BIGINT)");
  Ok("BEGIN");
  Ok("INSERT INTO t VALUES (1)");
  Fails("SELEC 1", ErrorCode::kSyntaxError);
  EXPECT_TRUE(session_->transaction_failed());
  Fails("SELECT 1", ErrorCode::kInvalidTransactionState);
  EXPECT_EQ(Rows("INSERT INTO t VALUES (2)")[0][0].substr(0, 11), "ERROR 25000");
  EXPECT_NE(last_error_.message().find("current transaction is aborted"), std::string::npos);
  Ok("COMMIT");  // of a failed transaction: rolls back
  EXPECT_FALSE(session_->in_transaction());
  EXPECT_FALSE(session_->transaction_failed());
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "0");
  EXPECT_EQ(Versions("t"), 1u);
}

TEST_F(TransactionTest, AThousandInsertsBecomeOneCommitWithOneFile) {
  Ok("CREATE TABLE t (id BIGINT, s STRING)");
  Ok("BEGIN");
  for (int i = 0; i < 1000; i++) {
    Ok("INSERT INTO t VALUES (" + std::to_string(i) + ", 'row" + std::to_string(i) + "')");
  }
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "1000");
  Ok("COMMIT");
  EXPECT_EQ(Rows("SELECT count(*), sum(id) FROM t"), (std::vector<Row>{{"1000", "499500"}}));
  EXPECT_EQ(Versions("t"), 2u);
  EXPECT_EQ(Value("SELECT numFiles FROM (DESCRIBE DETAIL t)"), "1");
}

TEST_F(TransactionTest, ASecondDeltaTableFailsBeforeAnythingIsCommitted) {
  Ok("CREATE TABLE a (id BIGINT)");
  Ok("CREATE TABLE b (id BIGINT)");
  Ok("BEGIN");
  Ok("INSERT INTO a VALUES (1)");
  Fails("INSERT INTO b VALUES (1)", ErrorCode::kFeatureNotSupported);
  auto rows = Rows("SELECT 1");  // aborted
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].substr(0, 11), "ERROR 25000");
  Ok("ROLLBACK");
  EXPECT_EQ(Value("SELECT count(*) FROM a"), "0");
  EXPECT_EQ(Value("SELECT count(*) FROM b"), "0");
  EXPECT_EQ(Versions("a"), 1u);
  EXPECT_EQ(Versions("b"), 1u);
}

TEST_F(TransactionTest, TheSecondTableErrorNamesBothTables) {
  Ok("CREATE TABLE a (id BIGINT)");
  Ok("CREATE TABLE b (id BIGINT)");
  Ok("BEGIN");
  Ok("DELETE FROM a WHERE id = 1");
  auto result = session_->Execute("UPDATE b SET id = 2");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().sqlstate(), "0A000");
  EXPECT_NE(result.status().message().find("main.default.a"), std::string::npos) << result.status().message();
  EXPECT_NE(result.status().message().find("main.default.b"), std::string::npos) << result.status().message();
  Ok("ROLLBACK");
}

TEST_F(TransactionTest, CatalogChangesInsideATransactionFailAndAbortIt) {
  Ok("CREATE TABLE t (id BIGINT)");
  Ok("BEGIN");
  Fails("ALTER TABLE t SET TBLPROPERTIES ('a' = 'b')", ErrorCode::kFeatureNotSupported);
  Fails("SELECT 1", ErrorCode::kInvalidTransactionState);
  Ok("ROLLBACK");
  Ok("BEGIN");
  Fails("CREATE SCHEMA s2", ErrorCode::kFeatureNotSupported);
  Ok("ROLLBACK");
  Ok("BEGIN");
  Fails("VACUUM t", ErrorCode::kFeatureNotSupported);
  Ok("ROLLBACK");
  EXPECT_EQ(Rows("SHOW SCHEMAS LIKE 's2'").size(), 0u);
}

TEST_F(TransactionTest, ACommitConflictFailsWith40001AndCommitsNothing) {
  Ok("CREATE TABLE t (id BIGINT)");
  Ok("INSERT INTO t VALUES (1), (2)");
  auto other = Other();
  Ok("BEGIN");
  EXPECT_EQ(Rows("UPDATE t SET id = id * 10 WHERE id = 1"), (std::vector<Row>{{"1"}}));
  EXPECT_EQ(Value("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t"), "2,10");
  // A concurrent session rewrites the file the transaction read after it read it.
  EXPECT_EQ(Rows("DELETE FROM t WHERE id = 2", other.get()), (std::vector<Row>{{"1"}}));
  auto commit = session_->Execute("COMMIT");
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().code(), ErrorCode::kCommitConflict) << commit.status().ToString();
  EXPECT_EQ(commit.status().sqlstate(), "40001");
  EXPECT_NE(commit.status().message().find("Concurrent"), std::string::npos) << commit.status().message();
  EXPECT_NE(commit.status().message().find("main.default.t"), std::string::npos) << commit.status().message();
  EXPECT_FALSE(session_->in_transaction());
  EXPECT_EQ(Value("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t"), "1");
  EXPECT_EQ(Versions("t"), 3u);
  // The session is usable afterwards.
  Ok("BEGIN");
  Ok("UPDATE t SET id = id * 10 WHERE id = 1");
  Ok("COMMIT");
  EXPECT_EQ(Value("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t"), "10");
}

TEST_F(TransactionTest, AppendsCommitOverConcurrentAppends) {
  Ok("CREATE TABLE t (id BIGINT)");
  auto other = Other();
  Ok("BEGIN");
  Ok("INSERT INTO t VALUES (1)");
  EXPECT_EQ(Rows("INSERT INTO t VALUES (2)", other.get()), (std::vector<Row>{{"1", "1"}}));
  Ok("COMMIT");  // a blind append does not conflict with another append
  EXPECT_EQ(Value("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t"), "1,2");
}

TEST_F(TransactionTest, UpdateDeleteMergeAndTruncateAreStaged) {
  Ok("CREATE TABLE t (id BIGINT, s STRING)");
  Ok("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  auto other = Other();
  Ok("BEGIN");
  Ok("INSERT INTO t VALUES (4, 'd')");
  EXPECT_EQ(Rows("UPDATE t SET s = upper(s) WHERE id % 2 = 0"), (std::vector<Row>{{"2"}}));
  EXPECT_EQ(Rows("DELETE FROM t AS x WHERE x.id = 1"), (std::vector<Row>{{"1"}}));
  EXPECT_EQ(Rows("MERGE INTO t USING (SELECT 3 AS id, 'z' AS s UNION ALL SELECT 5, 'e') AS src ON t.id = src.id "
                 "WHEN MATCHED THEN UPDATE SET s = src.s WHEN NOT MATCHED THEN INSERT *"),
            (std::vector<Row>{{"2", "1", "0", "1"}}));
  EXPECT_EQ(Value("SELECT string_agg(id || s, ',' ORDER BY id) FROM t"), "2B,3z,4D,5e");
  EXPECT_EQ(OtherValue(*other, "SELECT string_agg(id || s, ',' ORDER BY id) FROM t"), "1a,2b,3c");
  Ok("COMMIT");
  EXPECT_EQ(OtherValue(*other, "SELECT string_agg(id || s, ',' ORDER BY id) FROM t"), "2B,3z,4D,5e");
  EXPECT_EQ(Versions("t"), 3u);
  Ok("BEGIN");
  Ok("TRUNCATE TABLE t");
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "0");
  Ok("ROLLBACK");
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "4");
}

TEST_F(TransactionTest, TablesCreatedInATransactionAppearAtCommit) {
  auto other = Other();
  Ok("BEGIN");
  Ok("CREATE TABLE n (id INT NOT NULL, s STRING, p STRING) PARTITIONED BY (p)");
  Ok("INSERT INTO n VALUES (1, 'a', 'x'), (2, 'b', 'y')");
  EXPECT_EQ(Value("SELECT string_agg(id || s || p, ',' ORDER BY id) FROM n"), "1ax,2by");
  EXPECT_EQ(Rows("SHOW TABLES LIKE 'n'", other.get()).size(), 0u);
  Ok("COMMIT");
  EXPECT_EQ(OtherValue(*other, "SELECT string_agg(id || s || p, ',' ORDER BY id) FROM n"), "1ax,2by");
  EXPECT_EQ(Versions("n"), 1u);  // the schema and the rows in version 0
  EXPECT_EQ(Rows("DESCRIBE n"),
            (std::vector<Row>{{"id", "int", "NULL"}, {"s", "string", "NULL"}, {"p", "string", "NULL"},
                              {"# Partition Information", "", ""}, {"# col_name", "data_type", "comment"},
                              {"p", "string", "NULL"}}));
  Fails("INSERT INTO n VALUES (NULL, 'c', 'z')", ErrorCode::kConstraintViolation);
  // CTAS rolled back leaves neither a catalog row nor files.
  Ok("BEGIN");
  EXPECT_EQ(Rows("CREATE TABLE m AS SELECT range AS x FROM range(3)"), (std::vector<Row>{{"3", "3"}}));
  EXPECT_EQ(Value("SELECT sum(x) FROM m"), "3");
  Ok("ROLLBACK");
  EXPECT_EQ(Rows("SHOW TABLES LIKE 'm'").size(), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "dbfs/user/hive/warehouse/m"));
  // CTAS committed.
  Ok("BEGIN");
  Ok("CREATE TABLE m AS SELECT range AS x FROM range(3)");
  Ok("COMMIT");
  EXPECT_EQ(Value("SELECT sum(x) FROM m"), "3");
}

TEST_F(TransactionTest, DeleteAndUpdateTakeATableAlias) {
  Ok("CREATE TABLE t (id BIGINT, s STRING)");
  Ok("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  EXPECT_EQ(Rows("DELETE FROM t AS x WHERE x.id = 1"), (std::vector<Row>{{"1"}}));
  EXPECT_EQ(Rows("UPDATE t y SET s = upper(y.s) WHERE y.id = 2"), (std::vector<Row>{{"1"}}));
  EXPECT_EQ(Rows("UPDATE t SET s = t.s || '!' WHERE t.id = 3"), (std::vector<Row>{{"1"}}));
  EXPECT_EQ(Value("SELECT string_agg(id || s, ',' ORDER BY id) FROM t"), "2B,3c!");
}

TEST_F(TransactionTest, TimeTravelWithAtVersionAndAtTimestamp) {
  Ok("CREATE TABLE t (id BIGINT)");
  Ok("INSERT INTO t VALUES (1)");
  Ok("INSERT INTO t VALUES (2)");
  EXPECT_EQ(Value("SELECT count(*) FROM t@v1"), "1");
  EXPECT_EQ(Value("SELECT count(*) FROM t@v2 AS x WHERE x.id > 0"), "2");
  // t@yyyyMMddHHmmssSSS: the version committed at or before that instant (here: version 1's own timestamp).
  std::string stamp = Value("SELECT strftime(timestamp::TIMESTAMP, '%Y%m%d%H%M%S%g') FROM (DESCRIBE HISTORY t) "
                            "WHERE version = 1");
  ASSERT_EQ(stamp.size(), 17u) << stamp;
  EXPECT_EQ(Value("SELECT count(*) FROM t@" + stamp), "1");
  // Inside a transaction, time travel reads the committed history, not the staged rows.
  Ok("BEGIN");
  Ok("INSERT INTO t VALUES (3)");
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "3");
  EXPECT_EQ(Value("SELECT count(*) FROM t@v2"), "2");
  Ok("ROLLBACK");
}

TEST_F(TransactionTest, AddColumnsOnAColumnMappingTable) {
  Ok("CREATE TABLE cm (id INT) TBLPROPERTIES ('delta.columnMapping.mode' = 'name')");
  Ok("INSERT INTO cm VALUES (1)");
  Ok("ALTER TABLE cm ADD COLUMNS (s STRING COMMENT 'new', n BIGINT)");
  Ok("INSERT INTO cm VALUES (2, 'b', 20)");
  EXPECT_EQ(Value("SELECT string_agg(id || ':' || coalesce(s, '-') || ':' || coalesce(n, -1), ',' ORDER BY id) "
                  "FROM cm"),
            "1:-:-1,2:b:20");
  EXPECT_EQ(Rows("SHOW TBLPROPERTIES cm ('delta.columnMapping.maxColumnId')"),
            (std::vector<Row>{{"delta.columnMapping.maxColumnId", "3"}}));
  EXPECT_EQ(Rows("DESCRIBE cm s"), (std::vector<Row>{{"col_name", "s"}, {"data_type", "string"}, {"comment", "new"}}));
}

TEST_F(TransactionTest, StringLiteralsInValuesTakeTheColumnTypes) {
  // What an extended-protocol INSERT with untyped ($n of type 0) text parameters becomes once inlined.
  Ok("CREATE TABLE t (id INT, d DATE, ts TIMESTAMP, amount DECIMAL(10,2), ok BOOLEAN, s STRING)");
  EXPECT_EQ(Rows("INSERT INTO t VALUES ('1', '2024-01-02', '2024-01-02 03:04:05', '1.25', 'true', 'x'), "
                 "('2', NULL, NULL, '2.50', 'false', '7')"),
            (std::vector<Row>{{"2", "2"}}));
  EXPECT_EQ(Value("SELECT string_agg(id || '/' || coalesce(d::VARCHAR, '-') || '/' || amount || '/' || ok || '/' || s, "
                  "',' ORDER BY id) FROM t"),
            "1/2024-01-02/1.25/true/x,2/-/2.50/false/7");
  EXPECT_EQ(Value("SELECT count(*) FROM t WHERE ts IS NOT NULL"), "1");
  Fails("INSERT INTO t (id) VALUES ('one')", ErrorCode::kSchemaMismatch);
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "2");
}

}  // namespace
}  // namespace tarn::sql
