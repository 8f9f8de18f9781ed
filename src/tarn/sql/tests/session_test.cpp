// SPDX-License-Identifier: Apache-2.0
// sql::Session tests: catalog DDL, SHOW/DESCRIBE shapes, name resolution in queries, time travel, errors.
#include <filesystem>

#include "sql_test_env.hpp"
#include "tarn/sql/spark_types.hpp"

namespace tarn::sql {
namespace {

namespace fs = std::filesystem;
using Row = std::vector<std::string>;

class SessionTest : public SqlTestEnv {};

TEST_F(SessionTest, ShowCatalogsAndSchemasStartWithMainDefault) {
  EXPECT_EQ(Rows("SHOW CATALOGS"), (std::vector<Row>{{"main"}}));
  EXPECT_EQ(Rows("SHOW SCHEMAS"), (std::vector<Row>{{"default"}}));
  Ok("CREATE CATALOG dev COMMENT 'development'");
  Ok("CREATE SCHEMA IF NOT EXISTS dev.raw");
  Ok("CREATE SCHEMA IF NOT EXISTS dev.raw");
  Fails("CREATE SCHEMA dev.raw", ErrorCode::kDuplicateObject);
  EXPECT_EQ(Rows("SHOW CATALOGS LIKE 'd*'"), (std::vector<Row>{{"dev"}}));
  EXPECT_EQ(Rows("SHOW SCHEMAS IN dev"), (std::vector<Row>{{"default"}, {"raw"}}));
  Ok("USE CATALOG dev");
  EXPECT_EQ(session_->current_catalog(), "dev");
  EXPECT_EQ(session_->current_schema(), "default");
  Ok("USE SCHEMA raw");
  EXPECT_EQ(session_->current_schema(), "raw");
  Fails("USE SCHEMA nope", ErrorCode::kSchemaNotFound);
  Fails("USE CATALOG nope", ErrorCode::kCatalogNotFound);
  Ok("USE main.default");
  Ok("DROP CATALOG dev CASCADE");
  EXPECT_EQ(Rows("SHOW CATALOGS"), (std::vector<Row>{{"main"}}));
  Ok("DROP SCHEMA IF EXISTS nope");
  Fails("DROP SCHEMA nope", ErrorCode::kSchemaNotFound);
}

TEST_F(SessionTest, CreateTableDescribeAndQueryEmptyTable) {
  Ok("CREATE TABLE t (id BIGINT NOT NULL COMMENT 'key', name STRING, amount DECIMAL(10,2), tags ARRAY<STRING>, "
     "p INT) USING DELTA PARTITIONED BY (p) COMMENT 'orders' TBLPROPERTIES ('delta.appendOnly' = 'false', 'team' = "
     "'x')");
  EXPECT_TRUE(fs::exists(dir_ / "dbfs/user/hive/warehouse/t/_delta_log/00000000000000000000.json"));
  EXPECT_EQ(Rows("SHOW TABLES"), (std::vector<Row>{{"default", "t", "false"}}));
  auto describe = Rows("DESCRIBE TABLE t");
  ASSERT_GE(describe.size(), 8u);
  EXPECT_EQ(describe[0], (Row{"id", "bigint", "key"}));
  EXPECT_EQ(describe[2], (Row{"amount", "decimal(10,2)", "NULL"}));
  EXPECT_EQ(describe[3], (Row{"tags", "array<string>", "NULL"}));
  EXPECT_EQ(describe[5], (Row{"# Partition Information", "", ""}));
  EXPECT_EQ(describe[7], (Row{"p", "int", "NULL"}));
  EXPECT_EQ(Rows("SHOW COLUMNS IN t"), (std::vector<Row>{{"id"}, {"name"}, {"amount"}, {"tags"}, {"p"}}));
  EXPECT_EQ(Rows("SHOW TBLPROPERTIES t ('team')"), (std::vector<Row>{{"team", "x"}}));
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "0");
  EXPECT_EQ(Value("SELECT count(*) FROM default.t"), "0");
  EXPECT_EQ(Value("SELECT count(*) FROM main.default.t"), "0");
  EXPECT_EQ(Value("SELECT count(*) FROM `main`.`default`.`t`"), "0");
  EXPECT_EQ(Value("SELECT typeof(amount) FROM t UNION ALL SELECT 'x' LIMIT 1"), "x");
  Fails("CREATE TABLE t (a INT)", ErrorCode::kDuplicateObject);
  Ok("CREATE TABLE IF NOT EXISTS t (a INT)");
  auto create = Value("SHOW CREATE TABLE t");
  EXPECT_NE(create.find("CREATE TABLE main.default.t (\n  id BIGINT NOT NULL COMMENT 'key',"), std::string::npos)
      << create;
  EXPECT_NE(create.find("PARTITIONED BY (p)"), std::string::npos);
  auto history = Rows("DESCRIBE HISTORY t");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0][0], "0");
  auto detail = Rows("DESCRIBE DETAIL main.default.t");
  ASSERT_EQ(detail.size(), 1u);
}

TEST_F(SessionTest, ManagedDropDeletesDataExternalDropKeepsIt) {
  Ok("CREATE TABLE m (a INT)");
  fs::path managed = dir_ / "dbfs/user/hive/warehouse/m";
  EXPECT_TRUE(fs::exists(managed));
  Ok("DROP TABLE m");
  EXPECT_FALSE(fs::exists(managed));
  Fails("SELECT * FROM m", ErrorCode::kTableNotFound);
  std::string ext = (dir_ / "ext").string();
  Ok("CREATE TABLE e (a INT) LOCATION '" + ext + "'");
  Ok("DROP TABLE e");
  EXPECT_TRUE(fs::exists(fs::path(ext) / "_delta_log"));
  // Registering the existing table again reads its schema from the log.
  Ok("CREATE TABLE e2 LOCATION 'file://" + ext + "'");
  EXPECT_EQ(Rows("SHOW COLUMNS IN e2"), (std::vector<Row>{{"a"}}));
  Fails("CREATE TABLE e3 (b STRING) LOCATION '" + ext + "'", ErrorCode::kSchemaMismatch);
  Ok("CREATE TABLE d (x INT) LOCATION 'dbfs:/mnt/d'");
  EXPECT_TRUE(fs::exists(dir_ / "dbfs/mnt/d/_delta_log"));
  Ok("DROP TABLE IF EXISTS nope.nope");
  Fails("DROP TABLE nope", ErrorCode::kTableNotFound);
}

TEST_F(SessionTest, QueriesOverDeltaDataWithTimeTravelAndPinning) {
  // Write a table by hand through DuckDB + the Delta layer: version 0 (create), 1 and 2 add one file each.
  Ok("CREATE TABLE t (id BIGINT, v STRING)");
  std::string root = (dir_ / "dbfs/user/hive/warehouse/t").string();
  for (int version = 1; version <= 2; version++) {
    std::string file = root + "/f" + std::to_string(version) + ".parquet";
    Ok("COPY (SELECT range AS id, 'v' || range AS v FROM range(" + std::to_string(version * 10) + ", " +
       std::to_string(version * 10 + 3) + ")) TO '" + file + "' (FORMAT parquet)");
    std::string line = "{\"add\":{\"path\":\"f" + std::to_string(version) +
                       ".parquet\",\"partitionValues\":{},\"size\":" + std::to_string(fs::file_size(file)) +
                       ",\"modificationTime\":1,\"dataChange\":true}}";
    Ok("COPY (SELECT '" + line + "' AS l) TO '" + root + "/_delta_log/0000000000000000000" +
       std::to_string(version) + ".json' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\t')");
  }
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "6");
  EXPECT_EQ(Value("SELECT count(*) FROM t VERSION AS OF 1"), "3");
  EXPECT_EQ(Value("SELECT count(*) FROM t@v1"), "3");
  EXPECT_EQ(Value("SELECT count(*) FROM main.default.t FOR VERSION AS OF 0"), "0");
  EXPECT_EQ(Value("SELECT max(id) FROM t AS x WHERE x.id < 15"), "12");
  EXPECT_EQ(Value("SELECT t.v FROM t WHERE t.id = 21"), "v21");
  EXPECT_EQ(Value("SELECT count(*) FROM t a JOIN t b ON a.id = b.id"), "6");
  EXPECT_EQ(Value("SELECT count(*) FROM t, t@v1 AS old WHERE t.id = old.id"), "3");
  EXPECT_EQ(Value("WITH t AS (SELECT 1 AS id) SELECT count(*) FROM t"), "1");  // the CTE shadows the table
  EXPECT_EQ(Value("SELECT count(*) FROM (SELECT * FROM t WHERE id IN (SELECT id FROM t@v1))"), "3");
  EXPECT_EQ(Value("SELECT count(*) FROM range(5)"), "5");
  EXPECT_EQ(Value("SELECT count(*) > 0 FROM information_schema.schemata"), "true");
  EXPECT_EQ(Value("SELECT extract(year FROM DATE '2024-05-01')"), "2024");
  // A table read twice in one statement is pinned to one version.
  auto translated = session_->Translate("SELECT * FROM t JOIN t AS u USING (id)");
  ASSERT_TRUE(translated.ok());
  EXPECT_NE(translated->find("VERSION AS OF 2"), std::string::npos) << *translated;
  auto single = session_->Translate("SELECT * FROM t");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->find("VERSION AS OF"), std::string::npos) << *single;
  Fails("SELECT count(*) FROM t VERSION AS OF 9", ErrorCode::kInvalidParameterValue);
  Fails("SELECT nope FROM t", ErrorCode::kColumnNotFound);
  Fails("SELECT * FROM missing_table", ErrorCode::kTableNotFound);
  Fails("SELECT count(*) FROM t WHERE id = [1]", ErrorCode::kTypeMismatch);
}

TEST_F(SessionTest, SyntaxErrorsReportPositionsInTheOriginalText) {
  Ok("CREATE TABLE t (id BIGINT)");
  auto result = session_->Execute("SELECT id FROM t WHERE id = = 1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kSyntaxError);
  EXPECT_NE(result.status().message().find("LINE 1: SELECT id FROM t WHERE"), std::string::npos)
      << result.status().message();
}

TEST_F(SessionTest, ViewsExpandAtQueryTime) {
  Ok("CREATE TABLE t (id BIGINT, v STRING)");
  Ok("CREATE VIEW v1 AS SELECT id, v FROM t WHERE id > 0");
  Ok("CREATE SCHEMA s2");
  Ok("USE SCHEMA s2");
  // The view resolves `t` in the schema it was created in.
  EXPECT_EQ(Value("SELECT count(*) FROM default.v1"), "0");
  Ok("CREATE VIEW v2 (a COMMENT 'the id', b) AS SELECT * FROM default.v1");
  EXPECT_EQ(Rows("SHOW COLUMNS IN v2"), (std::vector<Row>{{"a"}, {"b"}}));
  auto describe = Rows("DESCRIBE v2");
  ASSERT_EQ(describe.size(), 2u);
  EXPECT_EQ(describe[0], (Row{"a", "bigint", "NULL"}));
  Fails("CREATE VIEW bad AS SELECT * FROM nope", ErrorCode::kTableNotFound);
  Fails("CREATE VIEW v2 AS SELECT 1", ErrorCode::kDuplicateObject);
  Ok("CREATE OR REPLACE VIEW v2 AS SELECT 1 AS one");
  EXPECT_EQ(Value("SELECT one FROM v2"), "1");
  EXPECT_EQ(Rows("SHOW VIEWS"), (std::vector<Row>{{"s2", "v2", "false", "false"}}));
  Fails("DROP TABLE v2", ErrorCode::kInvalidParameterValue);
  Ok("DROP VIEW v2");
  Fails("SELECT * FROM v2", ErrorCode::kTableNotFound);
  Fails("SELECT * FROM default.v1 VERSION AS OF 0", ErrorCode::kInvalidParameterValue);
}

TEST_F(SessionTest, AlterTableCommitsMetadataThroughDelta) {
  Ok("CREATE TABLE t (id BIGINT)");
  Ok("ALTER TABLE t SET TBLPROPERTIES ('delta.appendOnly' = 'true', 'owner.team' = 'a')");
  EXPECT_EQ(Rows("SHOW TBLPROPERTIES t ('delta.appendOnly')"), (std::vector<Row>{{"delta.appendOnly", "true"}}));
  Ok("ALTER TABLE t UNSET TBLPROPERTIES ('owner.team')");
  Fails("ALTER TABLE t UNSET TBLPROPERTIES ('owner.team')", ErrorCode::kInvalidParameterValue);
  Ok("ALTER TABLE t ADD COLUMNS (name STRING COMMENT 'who', tags MAP<STRING, INT>)");
  Ok("ALTER TABLE t ALTER COLUMN id COMMENT 'the key'");
  auto describe = Rows("DESCRIBE t");
  ASSERT_EQ(describe.size(), 3u);
  EXPECT_EQ(describe[0], (Row{"id", "bigint", "the key"}));
  EXPECT_EQ(describe[1], (Row{"name", "string", "who"}));
  EXPECT_EQ(describe[2], (Row{"tags", "map<string,int>", "NULL"}));
  Fails("ALTER TABLE t ADD COLUMNS (id INT)", ErrorCode::kDuplicateObject);
  Fails("ALTER TABLE t ALTER COLUMN nope COMMENT 'x'", ErrorCode::kColumnNotFound);
  auto history = Rows("DESCRIBE HISTORY t");
  ASSERT_EQ(history.size(), 5u);
  Ok("ALTER TABLE t RENAME TO t2");
  Fails("SELECT * FROM t", ErrorCode::kTableNotFound);
  EXPECT_EQ(Value("SELECT count(name) FROM t2"), "0");
  Ok("CREATE OR REPLACE TABLE t2 (x DOUBLE)");
  EXPECT_EQ(Rows("SHOW COLUMNS IN t2"), (std::vector<Row>{{"x"}}));
  EXPECT_EQ(Rows("DESCRIBE HISTORY t2").size(), 6u);
}

TEST_F(SessionTest, CatalogChangesInsideATransactionFailClearly) {
  Ok("CREATE TABLE t (id BIGINT)");
  Ok("BEGIN");
  EXPECT_TRUE(session_->in_transaction());
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "0");  // reads are fine
  Fails("ALTER TABLE t SET TBLPROPERTIES ('a' = 'b')", ErrorCode::kFeatureNotSupported);  // 0A000, aborts
  Fails("SELECT count(*) FROM t", ErrorCode::kInvalidTransactionState);
  Ok("ROLLBACK");
  EXPECT_FALSE(session_->in_transaction());
  Ok("CREATE TABLE u (id BIGINT)");
  EXPECT_EQ(Rows("SHOW TBLPROPERTIES t ('a')")[0][1], "Table main.default.t does not have property: a");
}

TEST_F(SessionTest, ScriptsRunStatementByStatementWithUse) {
  Ok("CREATE SCHEMA a; USE SCHEMA a; CREATE TABLE x (i INT); USE SCHEMA default");
  EXPECT_EQ(Rows("SHOW TABLES IN a"), (std::vector<Row>{{"a", "x", "false"}}));
  EXPECT_EQ(Value("SELECT count(*) FROM a.x"), "0");
  EXPECT_EQ(Value("SELECT 1; SELECT 2"), "2");
}

TEST_F(SessionTest, DuckDbObjectsStillWork) {
  Ok("CREATE TEMP TABLE tmp (i INT)");
  Ok("INSERT INTO tmp VALUES (1), (2)");
  EXPECT_EQ(Value("SELECT sum(i) FROM tmp"), "3");
  Ok("DROP TABLE tmp");
  EXPECT_EQ(Value("SELECT count(*) FROM duckdb_tables()"), "0");
}

TEST_F(SessionTest, BadInputGetsClearErrors) {
  Fails("CREATE TABLE x (a NOTATYPE)", ErrorCode::kSyntaxError);
  Fails("CREATE TABLE x (a INT) USING parquet", ErrorCode::kFeatureNotSupported);
  Fails("CREATE TABLE x", ErrorCode::kInvalidParameterValue);
  Fails("CREATE TABLE x (a INT) LOCATION 's3://bucket/x'", ErrorCode::kInvalidParameterValue);
  Fails("CREATE TABLE nope.x (a INT)", ErrorCode::kSchemaNotFound);
  Fails("CREATE TABLE x (a INT", ErrorCode::kSyntaxError);
  Fails("SHOW TABLES IN nope", ErrorCode::kSchemaNotFound);
  Fails("DESCRIBE HISTORY nope", ErrorCode::kTableNotFound);
  Fails("DROP CATALOG main", ErrorCode::kInvalidState);
}

TEST_F(SessionTest, DataWritingStatementsGoThroughTheDeltaWriter) {
  Ok("CREATE TABLE t (id BIGINT, name STRING, p INT) PARTITIONED BY (p)");
  EXPECT_EQ(Rows("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 2)"),
            (std::vector<Row>{{"3", "3"}}));
  EXPECT_EQ(Value("SELECT string_agg(name, ',' ORDER BY id) FROM t"), "a,b,c");
  // Positional by default, by name with BY NAME, explicit column lists.
  Ok("INSERT INTO t SELECT 4 AS x, 'd' AS y, 2 AS z");
  Ok("INSERT INTO t BY NAME SELECT 2 AS p, 'e' AS name, 5 AS id");
  Ok("INSERT INTO t (name, id, p) VALUES ('f', 6, 3)");
  EXPECT_EQ(Value("SELECT string_agg(id || name || p, ',' ORDER BY id) FROM t"), "1a1,2b1,3c2,4d2,5e2,6f3");
  EXPECT_EQ(Rows("UPDATE t SET name = upper(name) WHERE id > 4"), (std::vector<Row>{{"2"}}));
  EXPECT_EQ(Rows("DELETE FROM t WHERE id IN (SELECT id FROM t WHERE p = 1)"), (std::vector<Row>{{"2"}}));
  EXPECT_EQ(Value("SELECT string_agg(id || name, ',' ORDER BY id) FROM main.default.t"), "3c,4d,5E,6F");
  Ok("INSERT INTO t REPLACE WHERE p = 2 SELECT 7, 'g', 2");
  EXPECT_EQ(Value("SELECT string_agg(id || name, ',' ORDER BY id) FROM t"), "6F,7g");
  Ok("INSERT OVERWRITE t VALUES (8, 'h', 4)");
  EXPECT_EQ(Value("SELECT string_agg(id || name, ',' ORDER BY id) FROM t"), "8h");
  // CTAS, time travel over the writes, RESTORE, TRUNCATE.
  EXPECT_EQ(Rows("CREATE TABLE c AS SELECT id, name FROM t@v1"), (std::vector<Row>{{"3", "3"}}));
  EXPECT_EQ(Value("SELECT count(*) FROM c"), "3");
  Ok("CREATE OR REPLACE TABLE c AS SELECT 1.5 AS d");
  EXPECT_EQ(Rows("DESCRIBE c"), (std::vector<Row>{{"d", "decimal(2,1)", "NULL"}}));
  EXPECT_EQ(Value("SELECT count(*) FROM c VERSION AS OF 0"), "3");
  Ok("RESTORE TABLE t TO VERSION AS OF 1");
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "3");
  Ok("TRUNCATE TABLE t");
  EXPECT_EQ(Value("SELECT count(*) FROM t"), "0");
  EXPECT_EQ(Rows("VACUUM t DRY RUN").size(), 0u);  // every removed file is younger than the 7-day retention
  Fails("VACUUM t RETAIN 0 HOURS", ErrorCode::kInvalidParameterValue);
  Fails("INSERT INTO t VALUES ('x', 'y', 'z')", ErrorCode::kSchemaMismatch);
  Ok("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 1)");
  Ok("CREATE TABLE src AS SELECT * FROM (VALUES (2, 'B', 1), (3, 'C', 2)) v(id, name, p)");
  EXPECT_EQ(Rows("MERGE INTO t USING src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name "
                 "WHEN NOT MATCHED THEN INSERT (id, name, p) VALUES (s.id, s.name, s.p) "
                 "WHEN NOT MATCHED BY SOURCE THEN DELETE"),
            (std::vector<Row>{{"3", "1", "1", "1"}}));
  EXPECT_EQ(Value("SELECT string_agg(id || name, ',' ORDER BY id) FROM t"), "2B,3C");
  Ok("MERGE INTO t AS target USING (SELECT 3 AS id, 'x' AS name, 2 AS p) AS u ON target.id = u.id "
     "WHEN MATCHED AND u.name = 'x' THEN DELETE WHEN MATCHED THEN UPDATE SET name = u.name");
  EXPECT_EQ(Value("SELECT string_agg(id || name, ',' ORDER BY id) FROM t"), "2B");
  EXPECT_EQ(Rows("DELETE FROM t AS x WHERE x.id = 1"), (std::vector<Row>{{"0"}}));  // aliases qualify columns
  // DuckDB tables keep DuckDB's DML.
  Ok("CREATE TEMP TABLE tmp AS SELECT 1 AS i");
  Ok("UPDATE tmp SET i = 2");
  EXPECT_EQ(Value("SELECT i FROM tmp"), "2");
}

TEST_F(SessionTest, TimestampTypeSettingDecidesWhatTimestampMeansInDdl) {
  EXPECT_EQ(session_->timestamp_type(), TimestampType::kLtz);
  EXPECT_EQ(Rows("SHOW spark.sql.timestampType"), (std::vector<Row>{{"TIMESTAMP_LTZ"}}));
  Ok("CREATE TABLE a (t TIMESTAMP, n TIMESTAMP_NTZ, w timestamp without time zone)");
  EXPECT_EQ(Rows("DESCRIBE a"), (std::vector<Row>{{"t", "timestamp", "NULL"}, {"n", "timestamp_ntz", "NULL"},
                                                  {"w", "timestamp_ntz", "NULL"}}));
  EXPECT_EQ(Rows("SET spark.sql.timestampType = TIMESTAMP_NTZ"),
            (std::vector<Row>{{"spark.sql.timestampType", "TIMESTAMP_NTZ"}}));
  EXPECT_EQ(session_->timestamp_type(), TimestampType::kNtz);
  Ok("CREATE TABLE b (t TIMESTAMP, z TIMESTAMPTZ, l TIMESTAMP_LTZ, p TIMESTAMP(3)) PARTITIONED BY (q TIMESTAMP)");
  Ok("ALTER TABLE b ADD COLUMNS (c TIMESTAMP)");
  EXPECT_EQ(Rows("SHOW COLUMNS IN b").size(), 6u);
  auto describe = Rows("DESCRIBE b");
  ASSERT_GE(describe.size(), 6u);
  EXPECT_EQ(describe[0][1], "timestamp_ntz");
  EXPECT_EQ(describe[1][1], "timestamp");
  EXPECT_EQ(describe[2][1], "timestamp");
  EXPECT_EQ(describe[3][1], "timestamp_ntz");
  EXPECT_EQ(describe[4][1], "timestamp_ntz");  // the typed partition column
  EXPECT_EQ(describe[5][1], "timestamp_ntz");  // ADD COLUMNS
  EXPECT_EQ(Rows("SHOW TBLPROPERTIES b ('delta.feature.timestampNtz')"),
            (std::vector<Row>{{"delta.feature.timestampNtz", "supported"}}));
  Fails("SET spark.sql.timestampType = TIMESTAMP_TZ", ErrorCode::kInvalidParameterValue);
  Fails("SET spark.sql.timestampType =", ErrorCode::kSyntaxError);
  EXPECT_EQ(session_->timestamp_type(), TimestampType::kNtz);
  Ok("RESET spark.sql.timestampType");
  EXPECT_EQ(session_->timestamp_type(), TimestampType::kLtz);
  Ok("SET SESSION spark.sql.timestampType TO 'timestamp_ntz'");
  EXPECT_EQ(Rows("SET spark.sql.timestampType"), (std::vector<Row>{{"spark.sql.timestampType", "TIMESTAMP_NTZ"}}));
  Ok("SET spark.sql.timestampType TO DEFAULT");
  EXPECT_EQ(session_->timestamp_type(), TimestampType::kLtz);

  // A session started with TIMESTAMP_NTZ (the PostgreSQL wire's default) returns to it on RESET.
  SessionOptions options;
  options.timestamp_type = TimestampType::kNtz;
  auto wire = warehouse_->NewSession(options);
  ASSERT_TRUE(wire.ok()) << wire.status().message();
  EXPECT_EQ(Rows("SHOW spark.sql.timestampType", wire->get()), (std::vector<Row>{{"TIMESTAMP_NTZ"}}));
  Rows("SET spark.sql.timestampType = TIMESTAMP_LTZ", wire->get());
  Rows("RESET spark.sql.timestampType", wire->get());
  EXPECT_EQ((*wire)->timestamp_type(), TimestampType::kNtz);
  EXPECT_EQ(session_->timestamp_type(), TimestampType::kLtz);  // settings are per session
}

TEST_F(SessionTest, ParsesPostgresTimestampSpellings) {
  auto type = [](std::string_view text, TimestampType t = TimestampType::kLtz) {
    auto parsed = ParseSparkType(text, t);
    return parsed.ok() ? (*parsed)->ToString() : "error: " + parsed.status().message();
  };
  EXPECT_EQ(type("TIMESTAMP"), "timestamp");
  EXPECT_EQ(type("TIMESTAMP", TimestampType::kNtz), "timestamp_ntz");
  EXPECT_EQ(type("timestamp with time zone", TimestampType::kNtz), "timestamp");
  EXPECT_EQ(type("timestamp(6) without time zone"), "timestamp_ntz");
  EXPECT_EQ(type("timestamptz(3)", TimestampType::kNtz), "timestamp");
  EXPECT_EQ(type("ARRAY<TIMESTAMP>", TimestampType::kNtz), "array<timestamp_ntz>");
  EXPECT_TRUE(type("TIMESTAMP(9)").starts_with("error"));
  EXPECT_EQ(ParseTimestampType("timestamp_ntz").value(), TimestampType::kNtz);
  EXPECT_FALSE(ParseTimestampType("TIMESTAMP").ok());
}

TEST_F(SessionTest, ViewsHaveColumnsInThePostgresCatalog) {
  Ok("CREATE TABLE base (id INT, ts TIMESTAMP_NTZ, s STRING)");
  Ok("CREATE VIEW v AS SELECT id, ts, upper(s) AS u, id * 1.5 AS f FROM base");
  EXPECT_EQ(Rows("SELECT a.attname, a.atttypid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                 "WHERE c.relname = 'v' ORDER BY a.attnum"),
            (std::vector<Row>{{"id", "23"}, {"ts", "1114"}, {"u", "1043"}, {"f", "1700"}}));
  EXPECT_EQ(Value("SELECT relkind || relnatts FROM pg_class WHERE relname = 'v'"), "v4");
  EXPECT_EQ(Value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'v'"), "4");
  // a view whose table is gone is listed without columns
  Ok("DROP TABLE base");
  EXPECT_EQ(Value("SELECT relnatts FROM pg_class WHERE relname = 'v'"), "0");
}

TEST_F(SessionTest, CurrentCatalogAndSchemaFollowUse) {
  EXPECT_EQ(Rows("SELECT current_catalog, current_database(), current_schema()"),
            (std::vector<Row>{{"main", "main", "default"}}));
  Ok("CREATE CATALOG c2");
  Ok("CREATE SCHEMA c2.s2");
  Ok("USE c2.s2");
  EXPECT_EQ(Rows("SELECT current_catalog, current_database(), current_schema, current_setting('search_path')"),
            (std::vector<Row>{{"c2", "c2", "s2", "\"$user\", s2"}}));
  EXPECT_EQ(Value("SELECT current_schemas(true)"), "[pg_catalog, s2]");
}

TEST_F(SessionTest, SchemaQualifiedColumnReferences) {
  Ok("CREATE TABLE q (id INT, s STRING)");
  Ok("INSERT INTO q VALUES (1, 'x')");
  EXPECT_EQ(Rows("SELECT \"default\".\"q\".\"id\", default.q.s FROM \"default\".\"q\" WHERE default.q.id = 1"),
            (std::vector<Row>{{"1", "x"}}));
  EXPECT_EQ(Rows("SELECT main.default.q.s FROM main.default.q"), (std::vector<Row>{{"x"}}));
  EXPECT_EQ(Rows("SELECT default.q.* FROM default.q"), (std::vector<Row>{{"1", "x"}}));
}

}  // namespace
}  // namespace tarn::sql
