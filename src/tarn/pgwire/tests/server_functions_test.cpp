// SPDX-License-Identifier: Apache-2.0
// Server functions over the real wire with libpq: current_user, pg_backend_pid, pg_cancel_backend,
// pg_terminate_backend, pg_stat_activity, and the renewal of long-lived prepared statements.
#include <libpq-fe.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/identity/token_service.hpp"
#include "tarn/identity/user_store.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/pgwire/detail/connection.hpp"
#include "tarn/pgwire/server.hpp"
#include "tarn/sql/warehouse.hpp"

namespace tarn::pgwire {
namespace {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, PgConnDeleter>;

// One statement's outcome: its rows as text ("NULL" for NULL) or its SQLSTATE.
struct Outcome {
  std::vector<std::vector<std::string>> rows;
  std::string sqlstate;  // empty: success
  std::string message;
};

Outcome Exec(PGconn* c, const std::string& sql) {
  Outcome out;
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType status = PQresultStatus(r);
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
    for (int i = 0; i < PQntuples(r); i++) {
      std::vector<std::string> row;
      for (int k = 0; k < PQnfields(r); k++) row.push_back(PQgetisnull(r, i, k) ? "NULL" : PQgetvalue(r, i, k));
      out.rows.push_back(std::move(row));
    }
  } else {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    out.sqlstate = state != nullptr ? state : "?????";
    out.message = PQerrorMessage(c);
  }
  PQclear(r);
  return out;
}

// libpq reports the server's FATAL and then the lost connection (as with PostgreSQL); with verbose errors the
// message carries the SQLSTATE.
bool Terminated(const Outcome& o) {
  return o.message.find("FATAL:  57P01: terminating connection due to administrator command") != std::string::npos;
}

std::string One(PGconn* c, const std::string& sql) {
  Outcome o = Exec(c, sql);
  EXPECT_EQ(o.sqlstate, "") << sql << ": " << o.message;
  if (o.rows.empty() || o.rows[0].empty()) return "<no rows>";
  return o.rows[0][0];
}

class ServerFunctionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = meta::SqliteMetaStore::Open(":memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    users_ = std::make_unique<identity::UserStore>(*store_);
    tokens_ = std::make_unique<identity::TokenService>(*store_);
    for (const char* name : {"alice", "bob", "admin"}) {
      auto user = users_->Create(name, name);
      ASSERT_TRUE(user.ok()) << user.status().ToString();
      auto token = tokens_->Create(user->id, std::nullopt, "test");
      ASSERT_TRUE(token.ok()) << token.status().ToString();
      tokens_of_[name] = token->token_value;
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("tarn_pgwire_functions_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "dbfs");
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto catalog = catalog::Catalog::Open(*store_, {(dir_ / "dbfs").string(), nullptr});
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(*catalog);
    auto warehouse = sql::Warehouse::Open(*db_, *catalog_);
    ASSERT_TRUE(warehouse.ok()) << warehouse.status().ToString();
    warehouse_ = std::move(*warehouse);
    ServerOptions options;
    options.port = 0;
    auto server = Server::Create(options, *tokens_, WarehouseBackendFactory(*warehouse_));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    server_->Start();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    warehouse_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Logs in as `user` (user name "token", its personal access token as password), as drivers do.
  Conn Connect(const std::string& user, const std::string& application = "tests") {
    std::string port = std::to_string(server_->port());
    const char* keys[] = {"host", "port", "user", "password", "dbname", "sslmode", "application_name", nullptr};
    const char* values[] = {"127.0.0.1", port.c_str(), "token", tokens_of_[user].c_str(), "main", "disable",
                            application.c_str(), nullptr};
    Conn c(PQconnectdbParams(keys, values, 0));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
    PQsetErrorVerbosity(c.get(), PQERRORS_VERBOSE);
    return c;
  }

  // Polls pg_stat_activity from `observer` until connection `pid` is running a statement (bounded by iterations,
  // not time: each poll is a round trip).
  bool WaitActive(PGconn* observer, int pid) {
    for (int i = 0; i < 100000; i++) {
      if (One(observer, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid) +
                            " AND state = 'active'") == "1") {
        return true;
      }
    }
    return false;
  }

  std::unique_ptr<meta::SqliteMetaStore> store_;
  std::unique_ptr<identity::UserStore> users_;
  std::unique_ptr<identity::TokenService> tokens_;
  std::map<std::string, std::string> tokens_of_;
  std::filesystem::path dir_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<sql::Warehouse> warehouse_;
  std::unique_ptr<Server> server_;
};

constexpr const char* kLongQuery = "SELECT count(*) FROM range(1000000000000) a";

TEST_F(ServerFunctionsTest, CurrentUserIsTheAuthenticatedUser) {
  Conn alice = Connect("alice");
  Outcome o = Exec(alice.get(), "SELECT current_user, current_user(), session_user, user, current_role, user()");
  ASSERT_EQ(o.sqlstate, "") << o.message;
  EXPECT_EQ(o.rows, (std::vector<std::vector<std::string>>{{"alice", "alice", "alice", "alice", "alice", "alice"}}));
  Conn bob = Connect("bob");
  EXPECT_EQ(One(bob.get(), "SELECT current_user"), "bob");
  // A column named user still wins over the function (as in PostgreSQL with a quoted name).
  EXPECT_EQ(One(bob.get(), "SELECT \"user\" FROM (SELECT 7 AS \"user\")"), "7");
  // version() is PostgreSQL-shaped (SQLAlchemy's regex); server functions drivers call.
  EXPECT_EQ(One(bob.get(), "SELECT version() LIKE 'PostgreSQL 15.% on x86_64-pc-linux-gnu, %'"), "t");
  EXPECT_EQ(One(bob.get(), "SELECT inet_server_port()"), std::to_string(server_->port()));
  EXPECT_EQ(One(bob.get(), "SELECT pg_postmaster_start_time() <= now()"), "t");
}

TEST_F(ServerFunctionsTest, BackendPidIsTheKeyDataPid) {
  Conn a = Connect("alice");
  Conn b = Connect("alice");
  // Created on first use; a first use inside a transaction that rolls back does not lose them.
  One(a.get(), "BEGIN");
  EXPECT_EQ(One(a.get(), "SELECT pg_backend_pid()"), std::to_string(PQbackendPID(a.get())));
  One(a.get(), "ROLLBACK");
  EXPECT_EQ(One(a.get(), "SELECT pg_backend_pid()"), std::to_string(PQbackendPID(a.get())));
  EXPECT_EQ(One(b.get(), "SELECT pg_catalog.pg_backend_pid()"), std::to_string(PQbackendPID(b.get())));
  EXPECT_NE(PQbackendPID(a.get()), PQbackendPID(b.get()));
}

TEST_F(ServerFunctionsTest, StatActivityListsLiveSessions) {
  Conn a = Connect("alice", "dashboard");
  Conn b = Connect("alice", "dbeaver");
  One(a.get(), "SELECT 42 AS answer");
  std::string pid_a = std::to_string(PQbackendPID(a.get()));
  std::string pid_b = std::to_string(PQbackendPID(b.get()));
  Outcome o = Exec(b.get(),
                   "SELECT pid, usename, application_name, state, query, backend_start <= now(), client_addr, "
                   "datname FROM pg_catalog.pg_stat_activity ORDER BY pid");
  ASSERT_EQ(o.sqlstate, "") << o.message;
  ASSERT_EQ(o.rows.size(), 2u);
  EXPECT_EQ(o.rows[0], (std::vector<std::string>{pid_a, "alice", "dashboard", "idle", "SELECT 42 AS answer", "t",
                                                 "127.0.0.1", "main"}));
  EXPECT_EQ(o.rows[1][0], pid_b);
  EXPECT_EQ(o.rows[1][1], "alice");
  EXPECT_EQ(o.rows[1][3], "active");  // the observer's own row shows its running statement
  // Another user sees alice's session but not her statement (PostgreSQL's rule); the admin sees everything.
  Conn bob_view = Connect("bob");
  EXPECT_EQ(One(bob_view.get(), "SELECT coalesce(state, 'NULL') || ' ' || query || ' ' || (client_addr IS NULL) "
                                   "FROM pg_stat_activity WHERE pid = " + pid_a),
            "NULL <insufficient privilege> true");
  Conn admin = Connect("admin");
  EXPECT_EQ(One(admin.get(), "SELECT state || ' ' || query FROM pg_stat_activity WHERE pid = " + pid_a),
            "idle SELECT 42 AS answer");
  bob_view.reset();
  admin.reset();
  // A transaction block shows as idle in transaction; a closed connection disappears.
  One(a.get(), "BEGIN");
  EXPECT_EQ(One(b.get(), "SELECT state || ' ' || (xact_start IS NOT NULL) FROM pg_stat_activity WHERE pid = " + pid_a),
            "idle in transaction true");
  a.reset();
  // The server unregisters the connection when its thread sees the close; poll by round trips.
  std::string count = "1";
  for (int i = 0; i < 100000 && count != "0"; i++) {
    count = One(b.get(), "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid_a);
  }
  EXPECT_EQ(count, "0");
}

TEST_F(ServerFunctionsTest, CancelBackendInterruptsTheRunningQuery) {
  Conn victim = Connect("alice");
  Conn other = Connect("alice");
  int pid = PQbackendPID(victim.get());
  Outcome victim_outcome;
  std::thread running([&] { victim_outcome = Exec(victim.get(), kLongQuery); });
  bool active = WaitActive(other.get(), pid);
  EXPECT_TRUE(active);
  Outcome cancel = Exec(other.get(), "SELECT pg_cancel_backend(" + std::to_string(pid) + ")");
  if (!active) Exec(other.get(), "SELECT pg_terminate_backend(" + std::to_string(pid) + ")");  // unblock the thread
  running.join();
  ASSERT_EQ(cancel.sqlstate, "") << cancel.message;
  EXPECT_EQ(cancel.rows[0][0], "t");
  EXPECT_EQ(victim_outcome.sqlstate, "57014") << victim_outcome.message;
  // The victim's connection stays usable; an unknown pid answers false.
  EXPECT_EQ(One(victim.get(), "SELECT 1"), "1");
  EXPECT_EQ(One(other.get(), "SELECT pg_cancel_backend(999999999)"), "f");
  EXPECT_EQ(One(other.get(), "SELECT pg_cancel_backend(NULL)"), "NULL");
  // Through the extended protocol with a bound pid (pgjdbc, DBeaver's session manager).
  const char* params[] = {"999999999"};
  PGresult* r = PQexecParams(other.get(), "SELECT pg_terminate_backend($1)", 1, nullptr, params, nullptr, nullptr, 0);
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(other.get());
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 0)), "f");
  PQclear(r);
}

TEST_F(ServerFunctionsTest, TerminateBackendClosesTheConnection) {
  // An idle victim: FATAL 57P01 waits for it; its next statement reports it and the connection is closed.
  Conn idle = Connect("alice");
  Conn other = Connect("alice");
  EXPECT_EQ(One(other.get(), "SELECT pg_terminate_backend(" + std::to_string(PQbackendPID(idle.get())) + ")"), "t");
  Outcome after = Exec(idle.get(), "SELECT 1");
  EXPECT_TRUE(Terminated(after)) << after.message;
  EXPECT_EQ(PQstatus(idle.get()), CONNECTION_BAD);

  // A running victim: its statement ends with FATAL 57P01.
  Conn busy = Connect("alice");
  int pid = PQbackendPID(busy.get());
  Outcome busy_outcome;
  std::thread running([&] { busy_outcome = Exec(busy.get(), kLongQuery); });
  EXPECT_TRUE(WaitActive(other.get(), pid));
  EXPECT_EQ(One(other.get(), "SELECT pg_terminate_backend(" + std::to_string(pid) + ")"), "t");
  running.join();
  EXPECT_TRUE(Terminated(busy_outcome)) << busy_outcome.message;
  EXPECT_EQ(PQstatus(busy.get()), CONNECTION_BAD);
}

TEST_F(ServerFunctionsTest, OnlyTheSameUserOrTheAdminMaySignal) {
  Conn alice = Connect("alice");
  Conn bob = Connect("bob");
  Conn admin = Connect("admin");
  std::string pid_alice = std::to_string(PQbackendPID(alice.get()));
  Outcome denied = Exec(bob.get(), "SELECT pg_cancel_backend(" + pid_alice + ")");
  EXPECT_EQ(denied.sqlstate, "42501") << denied.message;
  denied = Exec(bob.get(), "SELECT pg_terminate_backend(" + pid_alice + ")");
  EXPECT_EQ(denied.sqlstate, "42501") << denied.message;
  EXPECT_EQ(One(alice.get(), "SELECT 2"), "2");  // untouched
  // The caller's identity cannot be forged through the function behind them.
  Outcome forged = Exec(bob.get(), "SELECT __tarn_pg_signal(" + pid_alice + ", 0, 1, " + pid_alice + ")");
  EXPECT_EQ(forged.sqlstate, "42501") << forged.message;
  EXPECT_EQ(One(alice.get(), "SELECT 3"), "3");
  // The admin may terminate anyone's connection.
  EXPECT_EQ(One(admin.get(), "SELECT pg_terminate_backend(" + pid_alice + ")"), "t");
  Outcome after = Exec(alice.get(), "SELECT 4");
  EXPECT_TRUE(Terminated(after)) << after.message;
}

TEST_F(ServerFunctionsTest, PreparedStatementIsRenewedEvery64Executions) {
  Conn c = Connect("alice");
  PGresult* prepared = PQprepare(c.get(), "q", "SELECT $1::INTEGER * 2", 1, nullptr);
  ASSERT_EQ(PQresultStatus(prepared), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  PQclear(prepared);
  uint64_t before = detail::PreparedRenewals();
  constexpr int kRuns = 200;
  for (int i = 0; i < kRuns; i++) {
    std::string value = std::to_string(i);
    const char* params[] = {value.c_str()};
    PGresult* r = PQexecPrepared(c.get(), "q", 1, params, nullptr, nullptr, 0);
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    EXPECT_EQ(std::string(PQgetvalue(r, 0, 0)), std::to_string(2 * i));
    PQclear(r);
  }
  // 200 runs = 4 preparations of 64, 64, 64 and 8 runs: renewed 3 times, transparently.
  EXPECT_EQ(detail::PreparedRenewals() - before, 3u);
}

}  // namespace
}  // namespace tarn::pgwire
