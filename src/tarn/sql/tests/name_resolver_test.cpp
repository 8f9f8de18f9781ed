// SPDX-License-Identifier: Apache-2.0
// Name resolution: which names are table references, aliases, CTE shadowing, views, what is left alone.
#include "sql_test_env.hpp"

namespace tarn::sql {
namespace {

class NameResolverTest : public SqlTestEnv {
 protected:
  void SetUp() override {
    SqlTestEnv::SetUp();
    Ok("CREATE TABLE t (id BIGINT)");
    Ok("CREATE TABLE u (id BIGINT)");
    t_ = "delta.`" + (dir_ / "dbfs/user/hive/warehouse/t").string() + "`";
    u_ = "delta.`" + (dir_ / "dbfs/user/hive/warehouse/u").string() + "`";
  }
  std::string Translate(std::string_view sql) {
    auto out = session_->Translate(sql);
    return out.ok() ? *out : "ERROR " + out.status().ToString();
  }
  std::string t_;
  std::string u_;
};

TEST_F(NameResolverTest, RewritesTableReferencesOnly) {
  EXPECT_EQ(Translate("SELECT t.id FROM t"), "SELECT t.id FROM " + t_ + " AS \"t\"");
  EXPECT_EQ(Translate("SELECT * FROM t x"), "SELECT * FROM " + t_ + " x");
  EXPECT_EQ(Translate("SELECT * FROM t AS x WHERE id = 1"), "SELECT * FROM " + t_ + " AS x WHERE id = 1");
  EXPECT_EQ(Translate("SELECT * FROM t, u"), "SELECT * FROM " + t_ + " AS \"t\", " + u_ + " AS \"u\"");
  EXPECT_EQ(Translate("SELECT * FROM t LEFT JOIN u ON t.id = u.id"),
            "SELECT * FROM " + t_ + " AS \"t\" LEFT JOIN " + u_ + " AS \"u\" ON t.id = u.id");
  EXPECT_EQ(Translate("SELECT * FROM `T`@v0"), "SELECT * FROM " + t_ + " VERSION AS OF 0 AS \"T\"");
  EXPECT_EQ(Translate("SELECT * FROM t TIMESTAMP AS OF '2024-01-01' x"),
            "SELECT * FROM " + t_ + " TIMESTAMP AS OF '2024-01-01' x");
  // Not table references: columns, strings, function calls, CTE names, unknown names, DuckDB schemas.
  EXPECT_EQ(Translate("SELECT t FROM (SELECT 1 AS t)"), "SELECT t FROM (SELECT 1 AS t)");
  EXPECT_EQ(Translate("SELECT 'FROM t'"), "SELECT 'FROM t'");
  EXPECT_EQ(Translate("SELECT * FROM range(3) t"), "SELECT * FROM range(3) t");
  EXPECT_EQ(Translate("WITH t AS (SELECT 1) SELECT * FROM t"), "WITH t AS (SELECT 1) SELECT * FROM t");
  EXPECT_EQ(Translate("SELECT * FROM nope"), "SELECT * FROM nope");
  // information_schema is the session's PostgreSQL-shaped emulation over the catalog (pg_catalog.cpp)
  EXPECT_EQ(Translate("SELECT * FROM information_schema.tables"), "SELECT * FROM __pgi_tables AS tables");
  EXPECT_EQ(Translate("SELECT substring('abc' FROM 2), extract(year FROM now())"),
            "SELECT substring('abc' FROM 2), extract(year FROM now())");
  EXPECT_EQ(Translate("SELECT (SELECT max(id) FROM u) FROM t WHERE id IN (SELECT id FROM u)"),
            "SELECT (SELECT max(id) FROM " + u_ + " VERSION AS OF 0 AS \"u\") FROM " + t_ +
                " AS \"t\" WHERE id IN (SELECT id FROM " + u_ + " VERSION AS OF 0 AS \"u\")");
  EXPECT_EQ(Translate("SELECT * FROM t VERSION AS OF x"),
            "ERROR INVALID_PARAMETER_VALUE: VERSION AS OF expects a non-negative integer version");
}

// A statement looks each catalog name up once (also through views); the next statement looks again, so it sees what
// DROP/CREATE did in between.
TEST_F(NameResolverTest, RepeatedNamesResolveOncePerStatementAndFollowDropAndCreate) {
  Ok("CREATE VIEW v AS SELECT id FROM t");
  EXPECT_EQ(Translate("SELECT * FROM t a, T b, main.default.t c"),
            "SELECT * FROM " + t_ + " VERSION AS OF 0 a, " + t_ + " VERSION AS OF 0 b, " + t_ + " VERSION AS OF 0 c");
  EXPECT_EQ(Translate("SELECT * FROM v, t"), "SELECT * FROM (SELECT id FROM " + t_ + " AS \"t\") AS \"v\", " + t_ +
                                                 " AS \"t\"");
  Ok("INSERT INTO t VALUES (1), (2)");
  EXPECT_EQ(Value("SELECT count(*) FROM t a JOIN t b USING (id) JOIN v USING (id)"), "2");
  Ok("DROP TABLE t");
  EXPECT_TRUE(Value("SELECT count(*) FROM t a, t b").starts_with("ERROR 42P01: ")) << Value("SELECT * FROM t a, t b");
  Ok("CREATE TABLE t (id BIGINT, s STRING)");
  Ok("INSERT INTO t VALUES (5, 'x')");
  EXPECT_EQ(Value("SELECT count(*) || max(a.s) FROM t a JOIN t b USING (id) JOIN v USING (id)"), "1x");
  EXPECT_EQ(Value("SELECT max(id) FROM v"), "5");
}

}  // namespace
}  // namespace tarn::sql
