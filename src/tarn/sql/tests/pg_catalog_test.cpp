// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL-dialect rewrite of client catalog queries and the Delta -> PostgreSQL type mapping.
#include <gtest/gtest.h>

#include "tarn/sql/detail/pg_catalog.hpp"

namespace tarn::sql::detail {
namespace {

TEST(PgDialectTest, DropsCatalogQualifiersAndCollations) {
  EXPECT_EQ(RewritePgDialect("SELECT pg_catalog.format_type(a.atttypid, NULL) FROM pg_catalog.pg_attribute a"),
            "SELECT format_type(a.atttypid, NULL) FROM pg_attribute a");
  EXPECT_EQ(RewritePgDialect("SELECT 1 WHERE c.relname = 'x' COLLATE pg_catalog.default"),
            "SELECT 1 WHERE c.relname = 'x' ");
}

TEST(PgDialectTest, RegexOperatorsMatchAnywhereLikePostgres) {
  EXPECT_EQ(RewritePgDialect("c.relname OPERATOR(pg_catalog.~) '^(t)$'"), "c.relname  ~  '(?s).*(?:^(t)$).*'");
  EXPECT_EQ(RewritePgDialect("n.nspname !~ '^pg_'"), "n.nspname  !~  '(?s).*(?:^pg_).*'");
  EXPECT_EQ(RewritePgDialect("n.nspname ~* 'PG'"), "n.nspname  ~  '(?is).*(?:PG).*'");
}

TEST(PgDialectTest, RegCastsBecomeLookups) {
  EXPECT_EQ(RewritePgDialect("d.classoid = 'pg_class'::regclass"), "d.classoid = __pg_regclass_in('pg_class')");
  EXPECT_EQ(RewritePgDialect("c.oid::pg_catalog.regclass::pg_catalog.text"), "__pg_regclass_out(c.oid)::text");
  EXPECT_EQ(RewritePgDialect("typinput='pg_catalog.array_in'::regproc"), "typinput='array_in'");
  EXPECT_EQ(RewritePgDialect("f(x)::regtype"), "__pg_regtype_out(f(x))");
  EXPECT_EQ(RewritePgDialect("'16386'::oid"), "'16386'::INTEGER");
}

TEST(PgDialectTest, ArrayLiteralsSubscriptsAndSeries) {
  EXPECT_EQ(RewritePgDialect("word <> ALL ('{a,b}'::text[])"), "word <> ALL (__pg_text_array('{a,b}'))");
  EXPECT_EQ(RewritePgDialect("pol.polroles = '{0}'"), "pol.polroles = [0]");
  EXPECT_EQ(RewritePgDialect("ta.attnum = i.indkey[ia.attnum-1]"), "ta.attnum = i.indkey[1 + (ia.attnum-1)]");
  EXPECT_EQ(RewritePgDialect("FROM pg_catalog.generate_series(0, 3) s, t"), "FROM generate_series(0, 3) s(\"s\"), t");
  EXPECT_EQ(RewritePgDialect("FROM generate_series(1, 2) AS s(r)"), "FROM generate_series(1, 2) AS s(r)");
  EXPECT_EQ(RewritePgDialect("(information_schema._pg_expandarray(i.indkey)).n"), "(__pg_expandarray(i.indkey)).n");
  EXPECT_EQ(RewritePgDialect("SELECT * FROM information_schema.tables WHERE 1"),
            "SELECT * FROM __pgi_tables AS tables WHERE 1");
  EXPECT_EQ(RewritePgDialect("SELECT * FROM information_schema.columns c"), "SELECT * FROM __pgi_columns c");
}

TEST(PgDialectTest, OnlyCatalogStatementsNeedIt) {
  EXPECT_TRUE(NeedsPgCatalog(Tokenize("SELECT * FROM pg_class")));
  EXPECT_TRUE(NeedsPgCatalog(Tokenize("select current_schema()")));
  EXPECT_TRUE(NeedsPgCatalog(Tokenize("SELECT * FROM information_schema.tables")));
  EXPECT_FALSE(NeedsPgCatalog(Tokenize("SELECT a ~ 'x', '{1}' FROM t")));
  // a user query without catalog words is left exactly as written
  EXPECT_EQ(RewritePgDialect("SELECT 'abc' ~ 'b'"), "SELECT 'abc'  ~  '(?s).*(?:b).*'");
}

TEST(PgDialectTest, BiToolRewrites) {
  // Grafana: a scalar array function as a FROM item is a one-row relation named by its alias.
  EXPECT_EQ(RewritePgDialect("FROM generate_series(1, 2) as i, string_to_array(current_setting('search_path'),',') s"),
            "FROM generate_series(1, 2) as i(\"i\"), (SELECT string_to_array(current_setting('search_path'),',') AS "
            "\"s\") s");
  EXPECT_EQ(RewritePgDialect("FROM t, current_schemas(false)"),
            "FROM t, (SELECT current_schemas(false) AS \"current_schemas\") AS \"current_schemas\"");
  // ... but not in a select list.
  EXPECT_EQ(RewritePgDialect("SELECT a, string_to_array(b, ',') s FROM t"),
            "SELECT a, string_to_array(b, ',') s FROM t");
  // SQLAlchemy: json_build_object, and `= ANY(array column)` in a join condition.
  EXPECT_EQ(RewritePgDialect("SELECT json_build_object('a', 1)"), "SELECT json_object('a', 1)");
  EXPECT_EQ(RewritePgDialect("ON t.oid = a.attrelid and a.attnum = ANY(ix.indkey)"),
            "ON t.oid = a.attrelid and list_contains(ix.indkey, a.attnum)");
  EXPECT_EQ(RewritePgDialect("WHERE x = ANY(SELECT y FROM t)"), "WHERE x = ANY(SELECT y FROM t)");
  EXPECT_TRUE(NeedsPgCatalog(Tokenize("SELECT current_catalog")));
  EXPECT_TRUE(NeedsPgCatalog(Tokenize("SELECT current_setting('search_path')")));
}

TEST(PgTypesTest, DeltaTypesMapToPostgresOids) {
  using delta::DataType;
  using delta::TypeKind;
  EXPECT_EQ(PgColumnTypeOf(*DataType::Primitive(TypeKind::kInteger)).oid, 23);
  EXPECT_EQ(PgColumnTypeOf(*DataType::Primitive(TypeKind::kString)).oid, 1043);
  EXPECT_EQ(PgColumnTypeOf(*DataType::Primitive(TypeKind::kTimestamp)).oid, 1184);
  EXPECT_EQ(PgColumnTypeOf(*DataType::Primitive(TypeKind::kTimestampNtz)).oid, 1114);
  auto dec = PgColumnTypeOf(*DataType::Decimal(10, 2));
  EXPECT_EQ(dec.oid, 1700);
  EXPECT_EQ(dec.typmod, (10 << 16 | 2) + 4);
  EXPECT_EQ(PgColumnTypeOf(*DataType::Array(DataType::Primitive(TypeKind::kLong), true)).oid, 1016);
  EXPECT_EQ(PgObjectOid("rel:x"), PgObjectOid("rel:x"));
  EXPECT_GE(PgObjectOid("rel:y"), 16384);
}

}  // namespace
}  // namespace tarn::sql::detail
