// SPDX-License-Identifier: Apache-2.0
// Tests for statement splitting and the classification of session commands.
#include "tarn/pgwire/sql_text.hpp"

#include <gtest/gtest.h>

namespace tarn::pgwire {
namespace {

std::vector<std::string> Texts(std::string_view sql) {
  std::vector<std::string> out;
  for (const auto& s : SplitStatements(sql)) out.emplace_back(s.text);
  return out;
}

TEST(SplitStatementsTest, RespectsQuotesCommentsAndDollarQuotes) {
  EXPECT_EQ(Texts("SELECT 1; SELECT 2"), (std::vector<std::string>{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(Texts("SELECT ';'; SELECT \"a;b\""), (std::vector<std::string>{"SELECT ';'", "SELECT \"a;b\""}));
  EXPECT_EQ(Texts("SELECT E'\\';'; SELECT 2"), (std::vector<std::string>{"SELECT E'\\';'", "SELECT 2"}));
  EXPECT_EQ(Texts("SELECT $$a;b$$; SELECT $x$;$x$"),
            (std::vector<std::string>{"SELECT $$a;b$$", "SELECT $x$;$x$"}));
  EXPECT_EQ(Texts("SELECT 1 -- c;\n; /* ; */ SELECT 2"),
            (std::vector<std::string>{"SELECT 1 -- c;\n", "/* ; */ SELECT 2"}));
  EXPECT_TRUE(Texts("").empty());
  EXPECT_TRUE(Texts(" ; ;; -- only a comment").empty());
  auto parts = SplitStatements("SELECT 1;  SELECT x");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].offset, 11u);
}

TEST(ClassifyTest, TransactionCommands) {
  EXPECT_EQ(ClassifyStatement("BEGIN")->kind, Command::Kind::kBegin);
  EXPECT_EQ(ClassifyStatement("start transaction isolation level serializable")->kind, Command::Kind::kBegin);
  EXPECT_EQ(ClassifyStatement("COMMIT")->kind, Command::Kind::kCommit);
  EXPECT_EQ(ClassifyStatement("end")->kind, Command::Kind::kCommit);
  EXPECT_EQ(ClassifyStatement("ABORT")->kind, Command::Kind::kRollback);
  auto to = ClassifyStatement("ROLLBACK TO SAVEPOINT _EXEC_SVP_1");
  EXPECT_EQ(to->kind, Command::Kind::kRollbackToSavepoint);
  EXPECT_EQ(to->name, "_exec_svp_1");
  EXPECT_EQ(ClassifyStatement("SAVEPOINT \"Sp\"")->name, "Sp");
  EXPECT_EQ(ClassifyStatement("release sp")->kind, Command::Kind::kRelease);
  EXPECT_EQ(ClassifyStatement("COMMIT PREPARED 'x'")->kind, Command::Kind::kUnsupported);
}

TEST(ClassifyTest, SetShowReset) {
  auto set = ClassifyStatement("SET DateStyle = 'ISO'");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->kind, Command::Kind::kSet);
  EXPECT_EQ(set->name, "datestyle");
  EXPECT_EQ(set->value, "ISO");
  EXPECT_EQ(ClassifyStatement("SET extra_float_digits TO -3")->value, "-3");
  EXPECT_EQ(ClassifyStatement("set search_path to a, \"B\"")->value, "a, B");
  EXPECT_EQ(ClassifyStatement("SET TIME ZONE 'Europe/Berlin'")->name, "timezone");
  EXPECT_EQ(ClassifyStatement("SET NAMES 'UTF8'")->name, "client_encoding");
  EXPECT_TRUE(ClassifyStatement("SET application_name TO DEFAULT")->set_default);
  EXPECT_TRUE(ClassifyStatement("SET LOCAL work_mem = '8MB'")->set_local);
  EXPECT_EQ(ClassifyStatement("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED")->kind,
            Command::Kind::kSetTransaction);
  EXPECT_FALSE(ClassifyStatement("SET x").ok());
  EXPECT_EQ(ClassifyStatement("SHOW transaction isolation level")->name, "transaction_isolation");
  EXPECT_EQ(ClassifyStatement("show ALL")->name, "all");
  EXPECT_EQ(ClassifyStatement("SHOW TABLES FROM x")->kind, Command::Kind::kEngine);
  EXPECT_EQ(ClassifyStatement("RESET ALL")->name, "all");
}

TEST(ClassifyTest, CursorsAndDeallocate) {
  auto d = ClassifyStatement("declare \"SQL_CUR1\" cursor with hold for select 1");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->kind, Command::Kind::kDeclare);
  EXPECT_EQ(d->name, "SQL_CUR1");
  EXPECT_TRUE(d->hold);
  EXPECT_EQ(d->query, "select 1");
  auto f = ClassifyStatement("FETCH FORWARD 1000 FROM c");
  EXPECT_EQ(f->kind, Command::Kind::kFetch);
  EXPECT_EQ(f->count, 1000);
  EXPECT_EQ(f->name, "c");
  EXPECT_EQ(ClassifyStatement("fetch all in c")->count, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ClassifyStatement("fetch c")->count, 1);
  EXPECT_EQ(ClassifyStatement("FETCH BACKWARD 1 FROM c")->kind, Command::Kind::kUnsupported);
  EXPECT_EQ(ClassifyStatement("MOVE 5 IN c")->kind, Command::Kind::kMove);
  EXPECT_FALSE(ClassifyStatement("FETCH 5").ok());
  EXPECT_EQ(ClassifyStatement("CLOSE ALL")->name, "");
  EXPECT_EQ(ClassifyStatement("DEALLOCATE \"_PLAN0x1\"")->name, "_PLAN0x1");
  EXPECT_EQ(ClassifyStatement("DISCARD ALL")->kind, Command::Kind::kDiscardAll);
}

TEST(ClassifyTest, Copy) {
  auto out = ClassifyStatement("COPY (SELECT i, t FROM x) TO STDOUT WITH (FORMAT csv, HEADER)");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->kind, Command::Kind::kCopy);
  EXPECT_TRUE(out->copy.to_stdout);
  EXPECT_EQ(out->copy.query, "SELECT i, t FROM x");
  EXPECT_EQ(out->copy.format, CopySpec::Format::kCsv);
  EXPECT_EQ(out->copy.delimiter, ',');
  EXPECT_EQ(out->copy.null_string, "");
  EXPECT_TRUE(out->copy.header);
  auto in = ClassifyStatement("COPY main.t (a, b) FROM STDIN with csv header delimiter '|'");
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_FALSE(in->copy.to_stdout);
  EXPECT_EQ(in->copy.table, "main.t");
  EXPECT_EQ(in->copy.columns, "(a, b)");
  EXPECT_EQ(in->copy.delimiter, '|');
  auto text = ClassifyStatement("copy t to stdout");
  EXPECT_EQ(text->copy.format, CopySpec::Format::kText);
  EXPECT_EQ(text->copy.null_string, "\\N");
  EXPECT_EQ(ClassifyStatement("COPY t TO '/tmp/x.csv'")->kind, Command::Kind::kEngine);
  EXPECT_EQ(ClassifyStatement("COPY t TO STDOUT (FORMAT xml)").status().code(), ErrorCode::kInvalidParameterValue);
  // Databricks COPY INTO goes to the SQL session as it is.
  auto into = ClassifyStatement("COPY INTO t FROM '/data/in' FILEFORMAT = CSV");
  ASSERT_TRUE(into.ok()) << into.status().ToString();
  EXPECT_EQ(into->kind, Command::Kind::kEngine);
  EXPECT_EQ(into->keyword, "copy");
  EXPECT_EQ(into->tag, "COPY");
}

TEST(ClassifyTest, TypedPrepareCastsParameters) {
  auto c = ClassifyStatement("PREPARE q (integer, numeric(10, 2)) AS SELECT $1 + 1, $2, '$1'");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, Command::Kind::kEngine);
  EXPECT_EQ(c->tag, "PREPARE");
  EXPECT_EQ(c->rewritten, "PREPARE q AS SELECT CAST($1 AS integer) + 1, CAST($2 AS numeric(10, 2)), '$1'");
  EXPECT_TRUE(ClassifyStatement("PREPARE q AS SELECT $1")->rewritten.empty());
  EXPECT_FALSE(ClassifyStatement("PREPARE q (int) SELECT 1").ok());
}

TEST(ClassifyTest, EngineTags) {
  EXPECT_EQ(ClassifyStatement("CREATE TABLE t (a int)")->tag, "CREATE TABLE");
  EXPECT_EQ(ClassifyStatement("create or replace temp view v as select 1")->tag, "CREATE VIEW");
  EXPECT_EQ(ClassifyStatement("DROP TABLE IF EXISTS t")->tag, "DROP TABLE");
  EXPECT_EQ(ClassifyStatement("/* c */ select 1")->kind, Command::Kind::kEngine);
  EXPECT_EQ(ClassifyStatement("(select 1)")->kind, Command::Kind::kEngine);
}

}  // namespace
}  // namespace tarn::pgwire
