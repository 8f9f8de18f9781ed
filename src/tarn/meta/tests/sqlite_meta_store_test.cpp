// SPDX-License-Identifier: Apache-2.0
// Tests for SqliteMetaStore: persistence, pragmas, values, transactions, concurrency and error mapping.
#include "tarn/meta/sqlite_meta_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tarn/base/crypto.hpp"

namespace tarn::meta {
namespace {

namespace fs = std::filesystem;

// A fresh directory removed at the end of the test.
class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("tarn-meta-test-" + RandomHex(8))) { fs::create_directories(path_); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::unique_ptr<SqliteMetaStore> OpenOrDie(const std::string& path, const SqliteOptions& options = {}) {
  auto store = SqliteMetaStore::Open(path, options);
  EXPECT_TRUE(store.has_value()) << store.status().ToString();
  if (!store.has_value()) return nullptr;
  return std::move(store).value();
}

int64_t CountRows(MetaStore& store, const std::string& table) {
  auto row = store.QueryRow("SELECT COUNT(*) FROM " + table);
  EXPECT_TRUE(row.has_value()) << row.status().ToString();
  return row.has_value() && row->has_value() ? (*row)->Int(0) : -1;
}

TEST(SqliteMetaStoreTest, ReopenKeepsData) {
  TempDir dir;
  std::string path = dir.File("meta.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)").has_value());
    auto changed = store->Execute("INSERT INTO kv (k, v) VALUES (?, ?), (?, ?)", {"a", 1, "b", 2});
    ASSERT_TRUE(changed.has_value()) << changed.status().ToString();
    EXPECT_EQ(*changed, 2);
  }
  EXPECT_TRUE(fs::exists(path));
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  auto rows = store->Query("SELECT k, v FROM kv ORDER BY k");
  ASSERT_TRUE(rows.has_value()) << rows.status().ToString();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"k", "v"}));
  EXPECT_EQ(rows->rows[0].String(0), "a");
  EXPECT_EQ(rows->rows[1].Int(1), 2);
}

TEST(SqliteMetaStoreTest, ConnectionsUseWalAndSafePragmas) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  auto mode = store->QueryRow("PRAGMA journal_mode");
  ASSERT_TRUE(mode.has_value() && mode->has_value());
  EXPECT_EQ((*mode)->String(0), "wal");
  auto fk = store->QueryRow("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.has_value() && fk->has_value());
  EXPECT_EQ((*fk)->Int(0), 1);
  auto sync = store->QueryRow("PRAGMA synchronous");
  ASSERT_TRUE(sync.has_value() && sync->has_value());
  EXPECT_EQ((*sync)->Int(0), 1);  // NORMAL
  // Foreign keys are enforced on the writer too.
  ASSERT_TRUE(store->Execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)").has_value());
  ASSERT_TRUE(store->Execute("CREATE TABLE child (pid INTEGER REFERENCES parent(id))").has_value());
  auto orphan = store->Execute("INSERT INTO child (pid) VALUES (?)", {42});
  ASSERT_FALSE(orphan.has_value());
  EXPECT_EQ(orphan.status().code(), ErrorCode::kConstraintViolation);
}

TEST(SqliteMetaStoreTest, ValuesRoundTrip) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (a, b, c, d, e, f)").has_value());
  std::string bytes("\x00\x01\xff z", 5);
  ASSERT_TRUE(store
                  ->Execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                            {nullptr, int64_t{1} << 40, 2.5, "héllo", Value::Blob(bytes), Value::Blob("")})
                  .has_value());
  auto row = store->QueryRow("SELECT a, b, c, d, e, f FROM t");
  ASSERT_TRUE(row.has_value() && row->has_value()) << row.status().ToString();
  const Row& r = **row;
  EXPECT_TRUE(r.IsNull(0));
  EXPECT_EQ(r[1].type(), ValueType::kInt);
  EXPECT_EQ(r.Int(1), int64_t{1} << 40);
  EXPECT_EQ(r[2].type(), ValueType::kDouble);
  EXPECT_DOUBLE_EQ(r.Double(2), 2.5);
  EXPECT_EQ(r[3].type(), ValueType::kText);
  EXPECT_EQ(r.String(3), "héllo");
  EXPECT_EQ(r[4].type(), ValueType::kBlob);
  EXPECT_EQ(r.String(4), bytes);
  EXPECT_EQ(r[5].type(), ValueType::kBlob);
  EXPECT_EQ(r.String(5), "");
  auto missing = store->QueryRow("SELECT a FROM t WHERE b = ?", {-1});
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

TEST(SqliteMetaStoreTest, InsertReturningRunsAsWrite) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)").has_value());
  auto first = store->QueryRow("INSERT INTO t (name) VALUES (?) RETURNING id", {"x"});
  auto second = store->QueryRow("INSERT INTO t (name) VALUES (?) RETURNING id", {"y"});
  ASSERT_TRUE(first.has_value() && first->has_value()) << first.status().ToString();
  ASSERT_TRUE(second.has_value() && second->has_value()) << second.status().ToString();
  EXPECT_EQ((*second)->Int(0), (*first)->Int(0) + 1);
  EXPECT_EQ(CountRows(*store, "t"), 2);
}

TEST(SqliteMetaStoreTest, TransactionCommitsOnOk) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (x INTEGER)").has_value());
  Status st = store->RunInTransaction([](Transaction& tx) -> Status {
    TARN_RETURN_IF_ERROR(tx.Execute("INSERT INTO t VALUES (?)", {1}).status());
    TARN_RETURN_IF_ERROR(tx.Execute("INSERT INTO t VALUES (?)", {2}).status());
    auto inside = tx.QueryRow("SELECT COUNT(*) FROM t");
    if (!inside.has_value()) return inside.status();
    if ((*inside)->Int(0) != 2) return Error(ErrorCode::kInternal, "transaction does not see its own writes");
    return Status::OK();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(CountRows(*store, "t"), 2);
}

TEST(SqliteMetaStoreTest, TransactionRollsBackOnError) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (x INTEGER)").has_value());
  Status st = store->RunInTransaction([](Transaction& tx) -> Status {
    TARN_RETURN_IF_ERROR(tx.Execute("INSERT INTO t VALUES (?)", {1}).status());
    TARN_RETURN_IF_ERROR(tx.ExecuteScript("CREATE TABLE u (y INTEGER); INSERT INTO u VALUES (5)"));
    return Error(ErrorCode::kResourceConflict, "changed my mind");
  });
  EXPECT_EQ(st.code(), ErrorCode::kResourceConflict);
  EXPECT_EQ(CountRows(*store, "t"), 0);
  auto u = store->Query("SELECT * FROM u");
  EXPECT_FALSE(u.has_value());  // the DDL rolled back too
  // A failing statement inside the body rolls back the earlier ones as well.
  st = store->RunInTransaction([](Transaction& tx) -> Status {
    TARN_RETURN_IF_ERROR(tx.Execute("INSERT INTO t VALUES (?)", {1}).status());
    return tx.Execute("INSERT INTO no_such_table VALUES (1)").status();
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(CountRows(*store, "t"), 0);
}

TEST(SqliteMetaStoreTest, TransactionRollsBackWhenBodyThrows) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (x INTEGER)").has_value());
  EXPECT_THROW(store
                   ->RunInTransaction([](Transaction& tx) -> Status {
                     tx.Execute("INSERT INTO t VALUES (1)").status().IgnoreError();
                     throw std::runtime_error("boom");
                   })
                   .IgnoreError(),
               std::runtime_error);
  EXPECT_EQ(CountRows(*store, "t"), 0);
  // The writer is free and usable again.
  EXPECT_TRUE(
      store->RunInTransaction([](Transaction& tx) { return tx.Execute("INSERT INTO t VALUES (2)").status(); }).ok());
  EXPECT_EQ(CountRows(*store, "t"), 1);
}

TEST(SqliteMetaStoreTest, ReentrantUseIsAnErrorNotADeadlock) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (x INTEGER)").has_value());
  Status inner_execute;
  Status inner_tx;
  Status st = store->RunInTransaction([&](Transaction& tx) -> Status {
    inner_execute = store->Execute("INSERT INTO t VALUES (1)").status();
    inner_tx = store->RunInTransaction([](Transaction&) { return Status::OK(); });
    return Status::OK();
  });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(inner_execute.code(), ErrorCode::kInvalidTransactionState);
  EXPECT_EQ(inner_tx.code(), ErrorCode::kInvalidTransactionState);
}

TEST(SqliteMetaStoreTest, ManualTransactionControlIsRejected) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (x INTEGER)").has_value());
  EXPECT_EQ(store->Execute("BEGIN").status().code(), ErrorCode::kInvalidTransactionState);
  EXPECT_EQ(store->Query("BEGIN").status().code(), ErrorCode::kInvalidTransactionState);
  Status st = store->RunInTransaction([](Transaction& tx) { return tx.Execute("COMMIT").status(); });
  EXPECT_EQ(st.code(), ErrorCode::kInvalidTransactionState);
  // Nothing is left open: a normal transaction still works.
  EXPECT_TRUE(
      store->RunInTransaction([](Transaction& tx) { return tx.Execute("INSERT INTO t VALUES (1)").status(); }).ok());
  EXPECT_EQ(CountRows(*store, "t"), 1);
}

TEST(SqliteMetaStoreTest, ConcurrentWritersLoseNothing) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE counter (n INTEGER NOT NULL)").has_value());
  ASSERT_TRUE(store->Execute("INSERT INTO counter VALUES (0)").has_value());
  ASSERT_TRUE(store->Execute("CREATE TABLE log (thread INTEGER, i INTEGER)").has_value());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> failures{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Read-modify-write: only correct when transactions are serialised.
        Status st = store->RunInTransaction([&](Transaction& tx) -> Status {
          TARN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("SELECT n FROM counter"));
          if (!row) return Error(ErrorCode::kInternal, "counter row missing");
          TARN_RETURN_IF_ERROR(tx.Execute("UPDATE counter SET n = ?", {row->Int(0) + 1}).status());
          return tx.Execute("INSERT INTO log VALUES (?, ?)", {t, i}).status();
        });
        if (!st.ok()) ++failures;
        if (!store->Execute("INSERT INTO log VALUES (?, ?)", {t, -i - 1}).has_value()) ++failures;
      }
    });
  }
  std::thread reader([&] {
    while (writing.load()) {
      if (!store->Query("SELECT COUNT(*) FROM log").has_value()) ++failures;
    }
  });
  for (auto& th : threads) th.join();
  writing.store(false);
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(CountRows(*store, "log"), 2 * kThreads * kPerThread);
  auto n = store->QueryRow("SELECT n FROM counter");
  ASSERT_TRUE(n.has_value() && n->has_value());
  EXPECT_EQ((*n)->Int(0), kThreads * kPerThread);
}

TEST(SqliteMetaStoreTest, BadSqlIsAnError) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (x INTEGER)").has_value());
  struct Case {
    std::string sql;
    Params params;
  };
  std::vector<Case> cases = {
      {"SELEKT 1", {}},
      {"SELECT * FROM no_such_table", {}},
      {"SELECT x FROM t WHERE x = ?", {}},    // too few parameters
      {"SELECT x FROM t", {1}},               // too many
      {"SELECT x FROM t WHERE x = :x", {1}},  // named placeholders are not portable
      {"SELECT 1; SELECT 2", {}},             // two statements
      {"", {}},
      {"-- only a comment", {}},
  };
  for (const auto& c : cases) {
    auto q = store->Query(c.sql, c.params);
    ASSERT_FALSE(q.has_value()) << c.sql;
    EXPECT_EQ(q.status().code(), ErrorCode::kInternal) << c.sql;
    auto e = store->Execute(c.sql, c.params);
    ASSERT_FALSE(e.has_value()) << c.sql;
    EXPECT_EQ(e.status().code(), ErrorCode::kInternal) << c.sql;
  }
  // Trailing semicolons and comments are fine.
  EXPECT_TRUE(store->Query("SELECT 1; -- done").has_value());
  // The store still works after the errors.
  EXPECT_TRUE(store->Execute("INSERT INTO t VALUES (1)").has_value());
}

TEST(SqliteMetaStoreTest, ConstraintViolationsAreMapped) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)").has_value());
  ASSERT_TRUE(store->Execute("INSERT INTO t (id, name) VALUES (1, 'a')").has_value());
  EXPECT_EQ(store->Execute("INSERT INTO t (id, name) VALUES (2, 'a')").status().code(), ErrorCode::kUniqueViolation);
  EXPECT_EQ(store->Execute("INSERT INTO t (id, name) VALUES (1, 'b')").status().code(), ErrorCode::kUniqueViolation);
  EXPECT_EQ(store->Execute("INSERT INTO t (id, name) VALUES (3, ?)", {nullptr}).status().code(),
            ErrorCode::kNotNullViolation);
}

TEST(SqliteMetaStoreTest, OpenFailuresAreErrors) {
  TempDir dir;
  auto missing_dir = SqliteMetaStore::Open(dir.File("no/such/dir/meta.db"));
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_EQ(missing_dir.status().code(), ErrorCode::kIoError);
  std::string junk = dir.File("junk.db");
  {
    std::ofstream out(junk);
    out << std::string(4096, 'x');
  }
  auto not_db = SqliteMetaStore::Open(junk);
  ASSERT_FALSE(not_db.has_value());
  EXPECT_EQ(not_db.status().code(), ErrorCode::kCorruptData);
}

TEST(SqliteMetaStoreTest, InMemoryDatabaseWorks) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Execute("CREATE TABLE t (x INTEGER)").has_value());
  ASSERT_TRUE(
      store->RunInTransaction([](Transaction& tx) { return tx.Execute("INSERT INTO t VALUES (1)").status(); }).ok());
  EXPECT_EQ(CountRows(*store, "t"), 1);
  auto version = store->SchemaVersion();
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, LatestSchemaVersion());
}

}  // namespace
}  // namespace tarn::meta
