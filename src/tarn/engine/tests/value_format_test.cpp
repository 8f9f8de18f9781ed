// SPDX-License-Identifier: Apache-2.0
// Tests Chunk::FormatValue for every DuckDB type in both styles; DuckDB's own VARCHAR cast is the kDuckDb oracle.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tarn/engine/database.hpp"

namespace tarn::engine {
namespace {

struct FormatCase {
  std::string expr;       // SQL expression
  std::string duck;       // expected kDuckDb text
  std::string pg;         // expected kPostgres text
  TypeId type;            // expected column type
};

class ValueFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto session = db_->Connect();
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
  }

  // Returns {kDuckDb, kPostgres, DuckDB's own ::VARCHAR} texts of `expr`, and its type.
  void Format(const std::string& expr, std::string& duck, std::string& pg, std::string& oracle, TypeId& type) {
    auto stream = session_->Execute("SELECT " + expr + " AS v, (" + expr + ")::VARCHAR AS o");
    ASSERT_TRUE(stream.ok()) << expr << ": " << stream.status().ToString();
    auto chunk = (*stream)->Next();
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    ASSERT_NE(*chunk, nullptr);
    ASSERT_EQ((*chunk)->num_rows(), 1u);
    duck = (*chunk)->FormatValue(0, 0, ValueStyle::kDuckDb);
    pg = (*chunk)->FormatValue(0, 0, ValueStyle::kPostgres);
    oracle = (*chunk)->IsNull(1, 0) ? "NULL" : std::string((*chunk)->GetString(1, 0));
    type = (*chunk)->column_type(0).id;
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<Session> session_;
};

TEST_F(ValueFormatTest, FormatsEveryTypeInBothStyles) {
  const FormatCase cases[] = {
      {"true", "true", "t", TypeId::kBoolean},
      {"false", "false", "f", TypeId::kBoolean},
      {"(-128)::TINYINT", "-128", "-128", TypeId::kTinyInt},
      {"(-32768)::SMALLINT", "-32768", "-32768", TypeId::kSmallInt},
      {"(-2147483648)::INTEGER", "-2147483648", "-2147483648", TypeId::kInteger},
      {"(-9223372036854775808)::BIGINT", "-9223372036854775808", "-9223372036854775808", TypeId::kBigInt},
      {"255::UTINYINT", "255", "255", TypeId::kUTinyInt},
      {"65535::USMALLINT", "65535", "65535", TypeId::kUSmallInt},
      {"4294967295::UINTEGER", "4294967295", "4294967295", TypeId::kUInteger},
      {"18446744073709551615::UBIGINT", "18446744073709551615", "18446744073709551615", TypeId::kUBigInt},
      {"(-170141183460469231731687303715884105728)::HUGEINT", "-170141183460469231731687303715884105728",
       "-170141183460469231731687303715884105728", TypeId::kHugeInt},
      {"340282366920938463463374607431768211455::UHUGEINT", "340282366920938463463374607431768211455",
       "340282366920938463463374607431768211455", TypeId::kUHugeInt},
      {"1.0::DOUBLE", "1.0", "1", TypeId::kDouble},
      {"100.0::DOUBLE", "100.0", "100", TypeId::kDouble},
      {"0.1::DOUBLE", "0.1", "0.1", TypeId::kDouble},
      {"-2.5::DOUBLE", "-2.5", "-2.5", TypeId::kDouble},
      {"1e20::DOUBLE", "1e+20", "1e+20", TypeId::kDouble},
      {"1.5e-7::DOUBLE", "1.5e-07", "1.5e-07", TypeId::kDouble},
      {"0.0001::DOUBLE", "0.0001", "0.0001", TypeId::kDouble},
      {"123456789012345678.0::DOUBLE", "1.2345678901234568e+17", "1.2345678901234568e+17", TypeId::kDouble},
      {"1e15::DOUBLE", "1000000000000000.0", "1e+15", TypeId::kDouble},
      {"123456789012345.0::DOUBLE", "123456789012345.0", "123456789012345", TypeId::kDouble},
      {"'inf'::DOUBLE", "inf", "Infinity", TypeId::kDouble},
      {"'-inf'::DOUBLE", "-inf", "-Infinity", TypeId::kDouble},
      {"'nan'::DOUBLE", "nan", "NaN", TypeId::kDouble},
      {"-0.0::DOUBLE", "-0.0", "-0", TypeId::kDouble},
      {"0.1::FLOAT", "0.1", "0.1", TypeId::kFloat},
      {"123456.0::FLOAT", "123456.0", "123456", TypeId::kFloat},
      {"3.50::DECIMAL(4,2)", "3.50", "3.50", TypeId::kDecimal},
      {"-0.05::DECIMAL(9,2)", "-0.05", "-0.05", TypeId::kDecimal},
      {"1234567890.123::DECIMAL(18,3)", "1234567890.123", "1234567890.123", TypeId::kDecimal},
      {"-12345678901234567890.123::DECIMAL(38,3)", "-12345678901234567890.123", "-12345678901234567890.123",
       TypeId::kDecimal},
      {"42::DECIMAL(5,0)", "42", "42", TypeId::kDecimal},
      {"'hello world'", "hello world", "hello world", TypeId::kVarchar},
      {"''", "", "", TypeId::kVarchar},
      {"'\\xAA\\x00ab''\"\\x5C'::BLOB", "\\xAA\\x00ab\\x27\\x22\\x5C", "\\xaa00616227225c", TypeId::kBlob},
      {"DATE '2024-01-02'", "2024-01-02", "2024-01-02", TypeId::kDate},
      {"'infinity'::DATE", "infinity", "infinity", TypeId::kDate},
      {"'-infinity'::DATE", "-infinity", "-infinity", TypeId::kDate},
      {"DATE '0044-03-15 (BC)'", "0044-03-15 (BC)", "0044-03-15 BC", TypeId::kDate},
      {"DATE '1969-12-31'", "1969-12-31", "1969-12-31", TypeId::kDate},
      {"TIME '03:04:05.25'", "03:04:05.25", "03:04:05.25", TypeId::kTime},
      {"TIME '24:00:00'", "24:00:00", "24:00:00", TypeId::kTime},
      {"TIMETZ '03:04:05+02:30'", "03:04:05+02:30", "03:04:05+02:30", TypeId::kTimeTz},
      {"TIMETZ '03:04:05-08'", "03:04:05-08", "03:04:05-08", TypeId::kTimeTz},
      {"TIMESTAMP '2024-01-02 03:04:05.123456'", "2024-01-02 03:04:05.123456", "2024-01-02 03:04:05.123456",
       TypeId::kTimestamp},
      {"TIMESTAMP '2024-01-02 03:04:05.1'", "2024-01-02 03:04:05.1", "2024-01-02 03:04:05.1", TypeId::kTimestamp},
      {"TIMESTAMP '1969-12-31 23:59:59.5'", "1969-12-31 23:59:59.5", "1969-12-31 23:59:59.5", TypeId::kTimestamp},
      {"'infinity'::TIMESTAMP", "infinity", "infinity", TypeId::kTimestamp},
      {"'-infinity'::TIMESTAMP", "-infinity", "-infinity", TypeId::kTimestamp},
      {"TIMESTAMPTZ '2024-01-02 03:04:05.5+00'", "2024-01-02 03:04:05.5+00", "2024-01-02 03:04:05.5+00",
       TypeId::kTimestampTz},
      {"TIMESTAMPTZ '2024-01-01 00:00:00-05'", "2024-01-01 05:00:00+00", "2024-01-01 05:00:00+00",
       TypeId::kTimestampTz},
      {"TIMESTAMP_S '2024-01-02 03:04:05'", "2024-01-02 03:04:05", "2024-01-02 03:04:05", TypeId::kTimestampS},
      {"TIMESTAMP_MS '2024-01-02 03:04:05.123'", "2024-01-02 03:04:05.123", "2024-01-02 03:04:05.123",
       TypeId::kTimestampMs},
      {"TIMESTAMP_NS '2024-01-02 03:04:05.123456789'", "2024-01-02 03:04:05.123456789",
       "2024-01-02 03:04:05.123456789", TypeId::kTimestampNs},
      {"INTERVAL 1 YEAR + INTERVAL 2 MONTH + INTERVAL 3 DAY + INTERVAL '04:05:06.789'",
       "1 year 2 months 3 days 04:05:06.789", "1 year 2 mons 3 days 04:05:06.789", TypeId::kInterval},
      {"INTERVAL 2 MONTH", "2 months", "2 mons", TypeId::kInterval},
      {"INTERVAL (-1) DAY", "-1 day", "-1 days", TypeId::kInterval},
      {"INTERVAL '-01:00:00'", "-01:00:00", "-01:00:00", TypeId::kInterval},
      {"INTERVAL 0 DAY", "00:00:00", "00:00:00", TypeId::kInterval},
      {"INTERVAL '100 hours'", "100:00:00", "100:00:00", TypeId::kInterval},
      {"INTERVAL '-1 day' + INTERVAL '2 hours'", "-1 day 02:00:00", "-1 days +02:00:00", TypeId::kInterval},
      {"uuid '550e8400-e29b-41d4-a716-446655440000'", "550e8400-e29b-41d4-a716-446655440000",
       "550e8400-e29b-41d4-a716-446655440000", TypeId::kUuid},
      {"uuid '00000000-0000-0000-0000-000000000001'", "00000000-0000-0000-0000-000000000001",
       "00000000-0000-0000-0000-000000000001", TypeId::kUuid},
      {"'0101'::BIT", "0101", "0101", TypeId::kBit},
      {"'101100111'::BIT", "101100111", "101100111", TypeId::kBit},
      {"'y'::ENUM('x', 'y')", "y", "y", TypeId::kEnum},
      {"12345678901234567890123456789::BIGNUM", "12345678901234567890123456789", "12345678901234567890123456789",
       TypeId::kBigNum},
      {"(-256)::BIGNUM", "-256", "-256", TypeId::kBigNum},
      {"0::BIGNUM", "0", "0", TypeId::kBigNum},
      {"'{\"a\": [1, 2]}'::JSON", "{\"a\": [1, 2]}", "{\"a\": [1, 2]}", TypeId::kVarchar},
      // Nested types.
      {"[1, 2]", "[1, 2]", "{1,2}", TypeId::kList},
      {"[]::INT[]", "[]", "{}", TypeId::kList},
      {"['a', 'b c', NULL, '', 'NULL', 'it''s', 'x,y']", "[a, b c, NULL, '', 'NULL', 'it\\'s', 'x,y']",
       "{a,\"b c\",NULL,\"\",\"NULL\",it's,\"x,y\"}", TypeId::kList},
      {"['a\"b', 'back\\slash', ' pad']", "['a\"b', back\\slash, ' pad']",
       "{\"a\\\"b\",\"back\\\\slash\",\" pad\"}", TypeId::kList},
      {"[[1], [2, 3], NULL]", "[[1], [2, 3], NULL]", "{{1},{2,3},NULL}", TypeId::kList},
      {"[true, false]", "[true, false]", "{t,f}", TypeId::kList},
      {"[TIMESTAMP '2024-01-01 01:02:03']", "['2024-01-01 01:02:03']", "{\"2024-01-01 01:02:03\"}", TypeId::kList},
      {"[1, 2]::INT[2]", "[1, 2]", "{1,2}", TypeId::kArray},
      {"{'a': 1, 'b': 'x y'}", "{'a': 1, 'b': x y}", "(1,\"x y\")", TypeId::kStruct},
      {"{'a': NULL, 'b': ''}", "{'a': NULL, 'b': ''}", "(,\"\")", TypeId::kStruct},
      {"{'a': [1, 2], 'b': {'c': 'it''s'}}", "{'a': [1, 2], 'b': {'c': 'it\\'s'}}", "(\"{1,2}\",\"(it's)\")",
       TypeId::kStruct},
      {"[{'a': 1}, {'a': 2}]", "[{'a': 1}, {'a': 2}]", "{(1),(2)}", TypeId::kList},
      {"[{'a': 1, 'b': 'x'}]", "[{'a': 1, 'b': x}]", "{\"(1,x)\"}", TypeId::kList},
      {"MAP {'k': 1, 'a b': 2}", "{k=1, a b=2}", "{k=1, a b=2}", TypeId::kMap},
      {"MAP {1: [1, 2]}", "{1=[1, 2]}", "{1=[1, 2]}", TypeId::kMap},
      {"union_value(num := 2)::UNION(num INT, str VARCHAR)", "2", "2", TypeId::kUnion},
      {"[union_value(str := 'x,y')::UNION(num INT, str VARCHAR)]", "[x,y]", "{\"x,y\"}", TypeId::kList},
      {"['\\xAA'::BLOB]", "[\\xAA]", "{\"\\\\xaa\"}", TypeId::kList},
  };
  for (const FormatCase& c : cases) {
    SCOPED_TRACE(c.expr);
    std::string duck, pg, oracle;
    TypeId type = TypeId::kInvalid;
    ASSERT_NO_FATAL_FAILURE(Format(c.expr, duck, pg, oracle, type));
    EXPECT_EQ(type, c.type);
    EXPECT_EQ(duck, c.duck);
    EXPECT_EQ(pg, c.pg);
    EXPECT_EQ(duck, oracle) << "kDuckDb text differs from DuckDB's own VARCHAR cast";
  }
}

TEST_F(ValueFormatTest, MatchesDuckDbCastOnGeneratedValues) {
  // Many values per type, checked against DuckDB's VARCHAR cast (the duckdb CLI's text).
  const char* exprs[] = {
      "(i * 7919 - 500000)::INTEGER",
      "(i::DOUBLE * 1.37e-3 - 12.5) * pow(10, i % 40 - 20)",
      "(i::FLOAT * 0.37 - 100)",
      "(i * 31 - 9999)::DECIMAL(10,3) / 7",
      "DATE '1900-01-01' + (i * 37)::INTEGER",
      "TIMESTAMP '1960-01-01' + to_microseconds(i * 987654321)",
      "to_microseconds(i * 123456789) + to_days(i % 40) - to_months(i % 17)",
      "['s' || i, NULL, (i % 3)::VARCHAR]",
      "{'k': i, 'v': repeat(chr(32 + (i % 90)::INTEGER), 2)}",
      "TIME '00:00:00' + to_microseconds(i * 7654321)",
      "encode(chr(1 + (i % 126)::INTEGER))",
      "[chr(1 + (i % 126)::INTEGER) || 'x', chr(1 + (i % 126)::INTEGER), 'a' || chr(1 + (i % 126)::INTEGER) || 'b']",
      "MAP {chr(1 + (i % 126)::INTEGER): i}",
      "{'k': chr(1 + (i % 126)::INTEGER)}",
  };
  for (const char* expr : exprs) {
    SCOPED_TRACE(expr);
    std::string sql = std::string("SELECT ") + expr + " AS v, (" + expr + ")::VARCHAR AS o FROM range(1, 400) t(i)";
    auto stream = session_->Execute(sql);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    size_t rows = 0;
    while (true) {
      auto chunk = (*stream)->Next();
      ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
      if (!*chunk) break;
      for (size_t r = 0; r < (*chunk)->num_rows(); r++, rows++) {
        std::string oracle = (*chunk)->IsNull(1, r) ? "NULL" : std::string((*chunk)->GetString(1, r));
        EXPECT_EQ((*chunk)->FormatValue(0, r, ValueStyle::kDuckDb), oracle);
      }
    }
    EXPECT_EQ(rows, 399u);
  }
}

TEST_F(ValueFormatTest, FormatColumnMatchesFormatValue) {
  // The bulk path (one call per column slice) gives each row the text FormatValue gives it, NULL as length -1;
  // integer, text and double columns have their own loops, the rest go value by value.
  auto stream = session_->Execute(
      "SELECT (i * 7919 - 5000000)::INTEGER AS a, CASE WHEN i % 5 = 0 THEN NULL ELSE i * -3 END::BIGINT AS b, "
      "(i % 200 - 100)::TINYINT AS c, (i * 1000003)::UBIGINT AS d, CASE WHEN i % 7 = 0 THEN NULL ELSE "
      "repeat('x', (i % 20)::INTEGER) || i END AS e, CASE WHEN i % 11 = 0 THEN NULL WHEN i % 13 = 0 THEN 'nan'::DOUBLE "
      "ELSE (i::DOUBLE * 1.37e-3 - 12.5) * pow(10, i % 40 - 20) END AS f, (i % 3 = 0) AS g, "
      "DATE '2000-01-01' + (i % 999)::INTEGER AS h, (i / 7)::DECIMAL(12,3) AS k, [i, NULL] AS l "
      "FROM range(0, 5000) t(i)");
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  std::string text;
  std::vector<int32_t> lengths;
  size_t rows = 0;
  while (true) {
    auto chunk = (*stream)->Next();
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    if (!*chunk) break;
    const Chunk& c = **chunk;
    rows += c.num_rows();
    // A slice that does not start at row 0, and the whole chunk.
    for (size_t begin : {size_t{0}, size_t{3}}) {
      for (size_t col = 0; col < c.num_columns(); col++) {
        SCOPED_TRACE(col);
        c.FormatColumn(col, begin, c.num_rows(), ValueStyle::kPostgres, text, lengths);
        ASSERT_EQ(lengths.size(), c.num_rows() - begin);
        size_t offset = 0;
        for (size_t r = begin; r < c.num_rows(); r++) {
          int32_t length = lengths[r - begin];
          if (c.IsNull(col, r)) {
            EXPECT_EQ(length, -1);
            continue;
          }
          ASSERT_GE(length, 0);
          EXPECT_EQ(text.substr(offset, static_cast<size_t>(length)), c.FormatValue(col, r, ValueStyle::kPostgres));
          offset += static_cast<size_t>(length);
        }
        EXPECT_EQ(offset, text.size());
      }
    }
  }
  EXPECT_EQ(rows, 5000u);
}

TEST_F(ValueFormatTest, NullFormatting) {
  auto stream = session_->Execute("SELECT NULL::INT AS a, [NULL]::INT[] AS b");
  ASSERT_TRUE(stream.ok());
  auto chunk = (*stream)->Next();
  ASSERT_TRUE(chunk.ok() && *chunk);
  EXPECT_TRUE((*chunk)->IsNull(0, 0));
  EXPECT_EQ((*chunk)->FormatValue(0, 0, ValueStyle::kDuckDb), "NULL");
  EXPECT_EQ((*chunk)->FormatValue(0, 0, ValueStyle::kPostgres), "");
  EXPECT_EQ((*chunk)->FormatValue(1, 0, ValueStyle::kPostgres), "{NULL}");
}

TEST_F(ValueFormatTest, DescribesNestedTypes) {
  auto stream = session_->Execute(
      "SELECT 1.5::DECIMAL(18,3) AS d, [1]::INT[] AS l, {'a': 1, 'b': 'x'} AS s, MAP {'k': 1} AS m, "
      "[1, 2]::INT[2] AS arr, 'x'::ENUM('x', 'y') AS e, '{}'::JSON AS j");
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  const auto& cols = (*stream)->columns();
  ASSERT_EQ(cols.size(), 7u);
  EXPECT_EQ(cols[0].name, "d");
  EXPECT_EQ(cols[0].type.decimal_width, 18);
  EXPECT_EQ(cols[0].type.decimal_scale, 3);
  EXPECT_EQ(cols[0].type.ToString(), "DECIMAL(18,3)");
  EXPECT_EQ(cols[1].type.ToString(), "INTEGER[]");
  EXPECT_EQ(cols[2].type.ToString(), "STRUCT(a INTEGER, b VARCHAR)");
  EXPECT_EQ(cols[3].type.ToString(), "MAP(VARCHAR, INTEGER)");
  EXPECT_EQ(cols[4].type.ToString(), "INTEGER[2]");
  EXPECT_EQ(cols[4].type.array_size, 2u);
  EXPECT_EQ(cols[5].type.enum_values, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(cols[6].type.id, TypeId::kVarchar);
  EXPECT_EQ(cols[6].type.alias, "JSON");
}

TEST_F(ValueFormatTest, TypedGetters) {
  auto stream = session_->Execute(
      "SELECT true, 42::TINYINT, 18446744073709551615::UBIGINT, 2.5::DOUBLE, 1.25::DECIMAL(5,2), 'abc', "
      "DATE '1970-01-03', TIMESTAMP '1970-01-01 00:00:01'");
  ASSERT_TRUE(stream.ok());
  auto chunk = (*stream)->Next();
  ASSERT_TRUE(chunk.ok() && *chunk);
  const Chunk& c = **chunk;
  EXPECT_TRUE(c.GetBool(0, 0));
  EXPECT_EQ(c.GetInt64(1, 0), 42);
  EXPECT_EQ(c.GetUInt64(2, 0), 18446744073709551615ULL);
  EXPECT_EQ(c.GetDouble(3, 0), 2.5);
  EXPECT_EQ(c.GetDouble(4, 0), 1.25);
  EXPECT_EQ(c.GetString(5, 0), "abc");
  EXPECT_EQ(c.GetDateDays(6, 0), 2);
  EXPECT_EQ(c.GetMicros(7, 0), 1000000);
}


TEST_F(ValueFormatTest, AppendValueAppendsWhatFormatValueReturns) {
  auto stream = session_->Execute(
      "SELECT (i::DOUBLE * 1.37e-3 - 12.5) * pow(10, i % 40 - 20) AS d, (i::FLOAT * 0.37 - 100) AS f, "
      "(i * 31 - 9999)::DECIMAL(10,3) / 7 AS n, DATE '1900-01-01' + (i * 37)::INTEGER AS dt, ['s' || i] AS l, "
      "CASE WHEN i % 5 = 0 THEN 'nan'::DOUBLE WHEN i % 7 = 0 THEN '-inf'::DOUBLE ELSE i / 3 END AS special "
      "FROM range(1, 300) t(i)");
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  size_t rows = 0;
  while (true) {
    auto chunk = (*stream)->Next();
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    if (!*chunk) break;
    for (size_t r = 0; r < (*chunk)->num_rows(); r++, rows++) {
      for (size_t c = 0; c < (*chunk)->num_columns(); c++) {
        for (ValueStyle style : {ValueStyle::kDuckDb, ValueStyle::kPostgres}) {
          std::string out = "prefix|";
          (*chunk)->AppendValue(c, r, style, out);
          EXPECT_EQ(out, "prefix|" + (*chunk)->FormatValue(c, r, style)) << "column " << c << " row " << r;
        }
      }
    }
  }
  EXPECT_EQ(rows, 299u);
}

}  // namespace
}  // namespace tarn::engine
