// SPDX-License-Identifier: Apache-2.0
// Spark SQL functions: results as Spark documents them (examples from the Spark SQL function reference).
#include "tarn/sql/spark_functions.hpp"

#include "sql_test_env.hpp"

namespace tarn::sql {
namespace {

class SparkFunctionsTest : public SqlTestEnv {};

TEST_F(SparkFunctionsTest, DateFunctions) {
  EXPECT_EQ(Value("SELECT date_format(DATE '2016-04-08', 'y')"), "2016");
  EXPECT_EQ(Value("SELECT date_format(TIMESTAMP '2016-04-08 13:05:09.123', 'yyyy-MM-dd HH:mm:ss.SSS')"),
            "2016-04-08 13:05:09.123");
  EXPECT_EQ(Value("SELECT date_format(TIMESTAMP '2016-04-08 13:05:09', 'dd/MM/yy hh a ''at'' EEE MMM')"),
            "08/04/16 01 PM at Fri Apr");
  EXPECT_EQ(Value("SELECT to_date('2009-07-30 04:17:52')"), "2009-07-30");
  EXPECT_EQ(Value("SELECT to_date('2016-12-31', 'yyyy-MM-dd')"), "2016-12-31");
  EXPECT_EQ(Value("SELECT to_date('31/12/2016', 'dd/MM/yyyy')"), "2016-12-31");
  EXPECT_EQ(Value("SELECT to_timestamp('2016-12-31 00:12:00')"), "2016-12-31 00:12:00+00");
  EXPECT_EQ(Value("SELECT to_timestamp('2016-12-31', 'yyyy-MM-dd')"), "2016-12-31 00:00:00+00");
  EXPECT_EQ(Value("SELECT date_add(DATE '2016-07-30', 1)"), "2016-07-31");
  EXPECT_EQ(Value("SELECT datediff('2009-07-31', '2009-07-30')"), "1");
  EXPECT_EQ(Value("SELECT datediff('2009-07-30', '2009-07-31')"), "-1");
  EXPECT_EQ(Value("SELECT datediff('day', DATE '2009-07-30', DATE '2009-08-01')"), "2");
  EXPECT_EQ(Value("SELECT typeof(current_timestamp())"), "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(Value("SELECT current_timestamp() = current_timestamp"), "true");
}

TEST_F(SparkFunctionsTest, PatternConversionMatchesTheSqlVersion) {
  EXPECT_EQ(SparkPatternToStrftime("yyyy-MM-dd HH:mm:ss"), "%Y-%m-%d %H:%M:%S");
  EXPECT_EQ(SparkPatternToStrftime("d/M/yy h a"), "%-d/%-m/%y %-I %p");
  EXPECT_EQ(SparkPatternToStrftime("yyyy'T'HH 100%"), "%YT%H 100%%");
  EXPECT_EQ(SparkPatternToStrftime("EEEE MMMM SSS"), "%A %B %g");
}

TEST_F(SparkFunctionsTest, CollectionFunctions) {
  EXPECT_EQ(Value("SELECT collect_list(col) FROM VALUES (1), (2), (NULL), (1) AS tab(col)"), "[1, 2, 1]");
  EXPECT_EQ(Value("SELECT list_sort(collect_set(col)) FROM VALUES (1), (2), (NULL), (1) AS tab(col)"), "[1, 2]");
  EXPECT_EQ(Value("SELECT collect_list(col) FROM VALUES (CAST(NULL AS INT)) AS tab(col)"), "[]");
  EXPECT_EQ(Rows("SELECT explode([10, 20])"), (std::vector<std::vector<std::string>>{{"10"}, {"20"}}));
  EXPECT_EQ(Value("SELECT size(['b', 'd', 'c', 'a'])"), "4");
  EXPECT_EQ(Value("SELECT size(CAST(NULL AS INT[]))"), "NULL");
  EXPECT_EQ(Value("SELECT named_struct('a', 1, 'b', 'x')"), "{'a': 1, 'b': x}");
  EXPECT_EQ(Value("SELECT named_struct('a', 1, 'b', 'x').b"), "x");
  EXPECT_EQ(Value("SELECT from_json('{\"a\":1, \"b\":0.8}', 'a INT, b DOUBLE')"), "{'a': 1, 'b': 0.8}");
  EXPECT_EQ(Value("SELECT from_json('{\"a\":[1,2],\"s\":{\"x\":\"y\"}}', 'a ARRAY<INT>, s STRUCT<x: STRING>')"),
            "{'a': [1, 2], 's': {'x': y}}");
  Fails("SELECT from_json('{}', 'a NOTATYPE')", ErrorCode::kInvalidParameterValue);
}

TEST_F(SparkFunctionsTest, NullAndStringFunctions) {
  EXPECT_EQ(Value("SELECT nvl(NULL, 2)"), "2");
  EXPECT_EQ(Value("SELECT nvl2(NULL, 2, 1)"), "1");
  EXPECT_EQ(Value("SELECT nvl2(0, 2, 1)"), "2");
  EXPECT_EQ(Value("SELECT ifnull(NULL, 2)"), "2");
  EXPECT_EQ(Value("SELECT concat_ws(' ', 'Spark', 'SQL')"), "Spark SQL");
  EXPECT_EQ(Value("SELECT concat_ws(',', 'a', NULL, 'b')"), "a,b");
  EXPECT_EQ(Value("SELECT split('oneAtwoBthreeC', '[ABC]')"), "[one, two, three, '']");
  EXPECT_EQ(Value("SELECT regexp_extract('100-200', '(\\d+)-(\\d+)')"), "100");
  EXPECT_EQ(Value("SELECT regexp_extract('100-200', '(\\d+)-(\\d+)', 2)"), "200");
  EXPECT_EQ(Value("SELECT regexp_extract('100-200', '(\\d+)-(\\d+)', 0)"), "100-200");
  EXPECT_EQ(Value("SELECT get_json_object('{\"a\":\"b\"}', '$.a')"), "b");
  EXPECT_EQ(Value("SELECT get_json_object('{\"a\":{\"b\":1}}', '$.a')"), "{\"b\":1}");
}

}  // namespace
}  // namespace tarn::sql
