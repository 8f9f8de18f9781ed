// SPDX-License-Identifier: Apache-2.0
// Tests for `tarn sql --local` against the real engine: formats, scripts and the one-line error contract.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tarn/cli/command_line.hpp"
#include "tarn/cli/local_sql.hpp"

namespace tarn::cli {
namespace {

namespace fs = std::filesystem;

class LocalSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tarn-cli-sql-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  struct Output {
    int exit_code;
    std::string out;
    std::string err;
  };

  Output RunSql(const std::string& sql, SqlFormat format = SqlFormat::kTable) {
    LocalSqlOptions options;
    options.data_dir = dir_ + "/data";
    options.sql = sql;
    options.format = format;
    std::ostringstream out;
    std::ostringstream err;
    int code = RunLocalSql(options, out, err);
    return {code, out.str(), err.str()};
  }

  std::string dir_;
};

TEST_F(LocalSqlTest, SelectPrintsAlignedTable) {
  Output result = RunSql("SELECT 42 AS answer, 'hello' AS greeting");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "answer  greeting\n"
            "------  --------\n"
            "    42  hello\n"
            "(1 row)\n");
  EXPECT_EQ(result.err, "");
  EXPECT_TRUE(fs::is_directory(dir_ + "/data"));
}

TEST_F(LocalSqlTest, ExplainPrintsThePlanVerbatim) {
  Output result = RunSql("EXPLAIN SELECT 1");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("PROJECTION"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("explain_key"), std::string::npos) << result.out;
  EXPECT_GT(std::count(result.out.begin(), result.out.end(), '\n'), 3) << result.out;
}

TEST_F(LocalSqlTest, UncreatableDataDirIsAnIoError) {
  std::ofstream(dir_ + "/file") << "x";
  LocalSqlOptions options;
  options.data_dir = dir_ + "/file/data";
  options.sql = "SELECT 1";
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunLocalSql(options, out, err), 1);
  EXPECT_EQ(err.str().rfind("ERROR 58030: cannot create data directory", 0), 0u) << err.str();
}

TEST_F(LocalSqlTest, ErrorsAreOneLineWithSqlstate) {
  Output syntax = RunSql("SELEC 42");
  EXPECT_EQ(syntax.exit_code, 1);
  EXPECT_EQ(syntax.err.rfind("ERROR 42601: ", 0), 0u) << syntax.err;
  EXPECT_EQ(std::count(syntax.err.begin(), syntax.err.end(), '\n'), 1) << syntax.err;
  EXPECT_EQ(syntax.out, "");

  Output missing = RunSql("SELECT * FROM no_such_table");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err.rfind("ERROR 42P01: ", 0), 0u) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
}

TEST_F(LocalSqlTest, CsvQuotesFieldsAndLeavesNullEmpty) {
  Output result = RunSql("SELECT 1 AS a, 'x,y' AS b, NULL AS c, 'say \"hi\"' AS d", SqlFormat::kCsv);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "a,b,c,d\n1,\"x,y\",,\"say \"\"hi\"\"\"\n");
}

TEST_F(LocalSqlTest, JsonKeepsTypes) {
  Output result = RunSql(
      "SELECT * FROM (VALUES (1, 'q\"', NULL, true, 1.5::DOUBLE, 12.30::DECIMAL(5,2)), (2, 'b', 3, false, 0.25, 1)) "
      "t(i, s, n, b, d, m)",
      SqlFormat::kJson);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  auto rows = nlohmann::json::parse(result.out);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["i"], 1);
  EXPECT_EQ(rows[0]["s"], "q\"");
  EXPECT_TRUE(rows[0]["n"].is_null());
  EXPECT_EQ(rows[0]["b"], true);
  EXPECT_DOUBLE_EQ(rows[0]["d"].get<double>(), 1.5);
  EXPECT_TRUE(rows[0]["m"].is_number()) << result.out;
  EXPECT_EQ(rows[1]["n"], 3);
  EXPECT_EQ(rows[1]["b"], false);

  Output empty = RunSql("SELECT 1 AS x WHERE false", SqlFormat::kJson);
  EXPECT_EQ(empty.out, "[]\n");
}

TEST_F(LocalSqlTest, ScriptRunsStatementsInOrderAndStopsAtFirstError) {
  Output script = RunSql(
      "CREATE TABLE t (i INTEGER);\n"
      "INSERT INTO t VALUES (1), (2), (3);\n"
      "SELECT sum(i) AS total FROM t;\n"
      "SELECT count(*) AS n FROM t WHERE i > 1;");
  EXPECT_EQ(script.exit_code, 0) << script.err;
  // Statements run through the catalog: CREATE TABLE makes a Delta table (no rows: "OK"), INSERT answers with
  // Databricks' counts.
  EXPECT_EQ(script.out,
            "OK\n"
            "num_affected_rows  num_inserted_rows\n"
            "-----------------  -----------------\n"
            "                3                  3\n"
            "(1 row)\n"
            "total\n"
            "-----\n"
            "    6\n"
            "(1 row)\n"
            "n\n"
            "-\n"
            "2\n"
            "(1 row)\n");

  Output failing = RunSql("SELECT 1 AS a; SELECT * FROM missing; SELECT 3 AS c", SqlFormat::kCsv);
  EXPECT_EQ(failing.exit_code, 1);
  EXPECT_EQ(failing.out, "a\n1\n");
  EXPECT_EQ(failing.err.rfind("ERROR 42P01: ", 0), 0u) << failing.err;
}

TEST_F(LocalSqlTest, CatalogTablesPersistInTheDataDirectoryAcrossRuns) {
  Output create = RunSql("CREATE SCHEMA sales; CREATE TABLE sales.orders (id BIGINT, amount DOUBLE); "
                         "INSERT INTO sales.orders VALUES (1, 2.5), (2, 4.0)");
  ASSERT_EQ(create.exit_code, 0) << create.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/data/dbfs/user/hive/warehouse/sales.db/orders/_delta_log"));
  Output query = RunSql("SELECT sum(amount) AS total FROM main.sales.orders", SqlFormat::kCsv);
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.out, "total\n6.5\n");
  Output tables = RunSql("SHOW TABLES IN sales", SqlFormat::kCsv);
  EXPECT_EQ(tables.out, "database,tableName,isTemporary\nsales,orders,false\n");
}

TEST_F(LocalSqlTest, MainRunsFilesAndCommands) {
  std::string script = dir_ + "/script.sql";
  std::ofstream(script) << "-- a comment\nSELECT 40 + 2 AS answer;\nSELECT 'two' AS second;\n";
  std::string data = dir_ + "/new/nested/data";
  std::vector<std::string> args = {"tarn", "sql", "--local", "--data", data, "-f", script, "--format", "csv"};
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(Main(static_cast<int>(argv.size()), argv.data(), {}, out, err), kExitOk) << err.str();
  EXPECT_EQ(out.str(), "answer\n42\n\nsecond\ntwo\n");
  EXPECT_TRUE(fs::is_directory(data));

  std::vector<const char*> json_argv = {"tarn", "-o", "json", "sql", "--local", "--data", data.c_str(), "-c",
                                        "SELECT 42 AS answer"};
  std::ostringstream json_out;
  EXPECT_EQ(Main(static_cast<int>(json_argv.size()), json_argv.data(), {}, json_out, err), kExitOk) << err.str();
  EXPECT_EQ(nlohmann::json::parse(json_out.str()), nlohmann::json::parse(R"([{"answer": 42}])"));

  std::vector<const char*> bad_argv = {"tarn", "sql", "--local", "--data", data.c_str(), "-c", "SELECT FROM WHERE"};
  std::ostringstream bad_err;
  EXPECT_EQ(Main(static_cast<int>(bad_argv.size()), bad_argv.data(), {}, out, bad_err), kExitFailure);
  EXPECT_EQ(bad_err.str().rfind("ERROR 42601: ", 0), 0u) << bad_err.str();

  std::string missing = dir_ + "/missing.sql";
  std::vector<const char*> missing_argv = {"tarn", "sql", "--local", "--data", data.c_str(), "-f", missing.c_str()};
  std::ostringstream missing_err;
  EXPECT_EQ(Main(static_cast<int>(missing_argv.size()), missing_argv.data(), {}, out, missing_err), kExitFailure);
  EXPECT_EQ(missing_err.str().rfind("ERROR 58030: cannot read ", 0), 0u) << missing_err.str();
}

}  // namespace
}  // namespace tarn::cli
