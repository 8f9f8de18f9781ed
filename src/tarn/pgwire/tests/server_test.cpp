// SPDX-License-Identifier: Apache-2.0
// End-to-end protocol tests: a real Server on a free loopback port, a real engine and token store, and a small raw
// protocol client that speaks SCRAM and the simple and extended query protocols byte by byte.
#include "tarn/pgwire/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "tarn/base/crypto.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/identity/token_service.hpp"
#include "tarn/identity/user_store.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/pgwire/protocol.hpp"
#include "tarn/pgwire/query_backend.hpp"
#include "tarn/catalog/catalog.hpp"
#include "tarn/sql/warehouse.hpp"

namespace tarn::pgwire {
namespace {

struct Msg {
  char type = 0;
  std::string body;
  // ErrorResponse/NoticeResponse field.
  std::string Field(char code) const {
    size_t i = 0;
    while (i < body.size() && body[i] != '\0') {
      char c = body[i];
      size_t end = body.find('\0', i + 1);
      if (c == code) return body.substr(i + 1, end - i - 1);
      i = end + 1;
    }
    return "";
  }
};

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() { ::close(fd_); }

  void Raw(std::string_view bytes) { ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())); }
  void Send(char type, std::string_view body) {
    std::string m(1, type);
    AppendInt32(m, static_cast<int32_t>(body.size() + 4));
    m += body;
    Raw(m);
  }
  void Startup(const std::string& user, const std::string& database = "main") {
    std::string body;
    AppendInt32(body, kProtocolVersion3);
    body += std::string("user\0", 5) + user + '\0' + std::string("database\0", 9) + database + '\0' + '\0';
    std::string m;
    AppendInt32(m, static_cast<int32_t>(body.size() + 4));
    Raw(m + body);
  }
  // Returns nullopt-like type 0 on EOF.
  Msg Read() {
    while (true) {
      if (in_.size() >= 5) {
        int32_t len = ReadInt32(in_.data() + 1);
        if (in_.size() >= static_cast<size_t>(len) + 1) {
          Msg m{in_[0], in_.substr(5, static_cast<size_t>(len) - 4)};
          in_.erase(0, static_cast<size_t>(len) + 1);
          return m;
        }
      }
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return Msg{};
      in_.append(buf, static_cast<size_t>(n));
    }
  }
  char ReadByte() {
    if (!in_.empty()) {
      char c = in_[0];
      in_.erase(0, 1);
      return c;
    }
    char c = 0;
    return ::recv(fd_, &c, 1, 0) == 1 ? c : '\0';
  }
  // Reads until ReadyForQuery (included).
  std::vector<Msg> UntilReady() {
    std::vector<Msg> out;
    while (true) {
      Msg m = Read();
      if (m.type == 0) return out;
      out.push_back(m);
      if (m.type == 'Z') return out;
    }
  }
  // SCRAM-SHA-256 client; returns the final messages through ReadyForQuery (or the error).
  std::vector<Msg> Login(const std::string& user, const std::string& password, const std::string& database = "main") {
    Startup(user, database);
    Msg sasl = Read();
    if (sasl.type != 'R' || ReadInt32(sasl.body.data()) != 10) return {sasl};
    std::string nonce = "clientnonce123";
    std::string bare = "n=,r=" + nonce;
    std::string first = "n,," + bare;
    std::string body = std::string("SCRAM-SHA-256\0", 14);
    AppendInt32(body, static_cast<int32_t>(first.size()));
    body += first;
    Send('p', body);
    Msg cont = Read();
    if (cont.type != 'R') return {cont};
    std::string server_first = cont.body.substr(4);
    std::string combined, salt;
    int iterations = 0;
    for (size_t i = 0; i < server_first.size();) {
      size_t end = server_first.find(',', i);
      if (end == std::string::npos) end = server_first.size();
      std::string attr = server_first.substr(i, end - i);
      if (attr[0] == 'r') combined = attr.substr(2);
      if (attr[0] == 's') salt = *Base64Decode(attr.substr(2));
      if (attr[0] == 'i') iterations = std::stoi(attr.substr(2));
      i = end + 1;
    }
    std::string salted = Pbkdf2Sha256(password, salt, iterations, 32);
    std::string client_key = HmacSha256(salted, "Client Key");
    std::string stored_key = Sha256(client_key);
    std::string without_proof = "c=biws,r=" + combined;
    std::string auth = bare + "," + server_first + "," + without_proof;
    std::string signature = HmacSha256(stored_key, auth);
    std::string proof(32, '\0');
    for (size_t i = 0; i < 32; i++) proof[i] = static_cast<char>(client_key[i] ^ signature[i]);
    Send('p', without_proof + ",p=" + Base64Encode(proof));
    Msg final_msg = Read();
    if (final_msg.type != 'R') return {final_msg};
    server_signature_ok_ =
        final_msg.body.substr(4) == "v=" + Base64Encode(HmacSha256(HmacSha256(salted, "Server Key"), auth));
    return UntilReady();
  }
  std::vector<Msg> Query(const std::string& sql) {
    Send('Q', sql + '\0');
    return UntilReady();
  }
  bool connected() const { return connected_; }
  bool server_signature_ok() const { return server_signature_ok_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool server_signature_ok_ = false;
  std::string in_;
};

std::string Types(const std::vector<Msg>& msgs) {
  std::string s;
  for (const auto& m : msgs) s += m.type;
  return s;
}

// DataRow values as text (NULL -> "NULL").
std::vector<std::string> RowValues(const Msg& m) {
  std::vector<std::string> out;
  int16_t n = ReadInt16(m.body.data());
  size_t at = 2;
  for (int i = 0; i < n; i++) {
    int32_t len = ReadInt32(m.body.data() + at);
    at += 4;
    if (len < 0) {
      out.emplace_back("NULL");
      continue;
    }
    out.push_back(m.body.substr(at, static_cast<size_t>(len)));
    at += static_cast<size_t>(len);
  }
  return out;
}

std::string Tag(const Msg& m) { return m.body.substr(0, m.body.size() - 1); }

std::string Str(std::string_view s) { return std::string(s) + '\0'; }
std::string I16(int16_t v) {
  std::string s;
  AppendInt16(s, v);
  return s;
}
std::string I32(int32_t v) {
  std::string s;
  AppendInt32(s, v);
  return s;
}

class PgWireServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = meta::SqliteMetaStore::Open(":memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    users_ = std::make_unique<identity::UserStore>(*store_);
    tokens_ = std::make_unique<identity::TokenService>(*store_);
    auto user = users_->Create("alice", "Alice");
    ASSERT_TRUE(user.ok());
    auto token = tokens_->Create(user->id, std::nullopt, "test");
    ASSERT_TRUE(token.ok());
    token_ = token->token_value;
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    ServerOptions options;
    options.port = 0;
    auto server = Server::Create(options, *tokens_, MakeBackends());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    server_->Start();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  // The connections' SQL backend: plain engine sessions (protocol tests).
  virtual BackendFactory MakeBackends() { return EngineBackendFactory(*db_); }
  std::unique_ptr<Client> Connect(const std::string& database = "main") {
    auto c = std::make_unique<Client>(server_->port());
    EXPECT_TRUE(c->connected());
    auto msgs = c->Login("token", token_, database);
    EXPECT_FALSE(msgs.empty());
    if (!msgs.empty()) {
      EXPECT_EQ(msgs.back().type, 'Z') << msgs.back().Field('M');
    }
    return c;
  }

  std::unique_ptr<meta::SqliteMetaStore> store_;
  std::unique_ptr<identity::UserStore> users_;
  std::unique_ptr<identity::TokenService> tokens_;
  std::string token_;
  std::unique_ptr<engine::Database> db_;
  std::filesystem::path dir_;                      // warehouse fixture: the data directory
  std::unique_ptr<catalog::Catalog> catalog_;      // warehouse fixture
  std::unique_ptr<sql::Warehouse> warehouse_;      // warehouse fixture
  std::unique_ptr<Server> server_;
};

TEST_F(PgWireServerTest, ScramLoginReportsParametersAndKeyData) {
  Client c(server_->port());
  auto msgs = c.Login("anyone", token_);
  EXPECT_TRUE(c.server_signature_ok());
  std::map<std::string, std::string> params;
  bool key = false;
  for (const auto& m : msgs) {
    if (m.type == 'S') {
      size_t nul = m.body.find('\0');
      params[m.body.substr(0, nul)] = m.body.substr(nul + 1, m.body.size() - nul - 2);
    }
    if (m.type == 'K') key = m.body.size() == 8;
  }
  EXPECT_TRUE(key);
  EXPECT_EQ(params["client_encoding"], "UTF8");
  EXPECT_EQ(params["DateStyle"], "ISO, MDY");
  EXPECT_EQ(params["integer_datetimes"], "on");
  EXPECT_EQ(params["standard_conforming_strings"], "on");
  EXPECT_EQ(params["server_version"].substr(0, 4), "15.0");
  EXPECT_EQ(msgs.back().body, "I");
}

TEST_F(PgWireServerTest, WrongTokenFailsWith28P01AndCloses) {
  Client c(server_->port());
  auto msgs = c.Login("token", "dapi00000000000000000000000000000000");
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(msgs.back().type, 'E');
  EXPECT_EQ(msgs.back().Field('C'), "28P01");
  EXPECT_EQ(c.Read().type, 0);  // closed
}

TEST_F(PgWireServerTest, SslAndGssRequestsAnsweredNWithoutTls) {
  Client c(server_->port());
  std::string req;
  AppendInt32(req, 8);
  AppendInt32(req, kSslRequestCode);
  c.Raw(req);
  EXPECT_EQ(c.ReadByte(), 'N');
  req.clear();
  AppendInt32(req, 8);
  AppendInt32(req, kGssEncRequestCode);
  c.Raw(req);
  EXPECT_EQ(c.ReadByte(), 'N');
  auto msgs = c.Login("token", token_);
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(msgs.back().type, 'Z');
}

TEST_F(PgWireServerTest, SimpleQueryResultsTagsAndEmptyQuery) {
  auto c = Connect();
  auto msgs = c->Query("SELECT 1 AS a, 'x' AS b; CREATE TABLE t (i INTEGER); INSERT INTO t VALUES (1), (2);"
                       "UPDATE t SET i = i + 1; DELETE FROM t WHERE i = 3");
  EXPECT_EQ(Types(msgs), "TDCCCCCZ");
  EXPECT_EQ(RowValues(msgs[1]), (std::vector<std::string>{"1", "x"}));
  EXPECT_EQ(Tag(msgs[2]), "SELECT 1");
  EXPECT_EQ(Tag(msgs[3]), "CREATE TABLE");
  EXPECT_EQ(Tag(msgs[4]), "INSERT 0 2");
  EXPECT_EQ(Tag(msgs[5]), "UPDATE 2");
  EXPECT_EQ(Tag(msgs[6]), "DELETE 1");
  EXPECT_EQ(Types(c->Query("")), "IZ");
  EXPECT_EQ(Types(c->Query(" ; -- nothing")), "IZ");
}

TEST_F(PgWireServerTest, ErrorsCarrySqlstateAndPositionAndStopTheQueryString) {
  auto c = Connect();
  auto msgs = c->Query("SELECT 1; SELEC 2; SELECT 3");
  ASSERT_EQ(Types(msgs), "TDCEZ");
  EXPECT_EQ(msgs[3].Field('C'), "42601");
  EXPECT_EQ(msgs[3].Field('P'), "11");
  msgs = c->Query("SELECT * FROM missing_table");
  ASSERT_EQ(Types(msgs), "EZ");
  EXPECT_EQ(msgs[0].Field('C'), "42P01");
}

TEST_F(PgWireServerTest, TransactionStatusAndFailedTransactions) {
  auto c = Connect();
  auto msgs = c->Query("BEGIN");
  EXPECT_EQ(msgs.back().body, "T");
  msgs = c->Query("SELECT * FROM nope");
  EXPECT_EQ(msgs.back().body, "E");
  msgs = c->Query("SELECT 1");
  ASSERT_EQ(Types(msgs), "EZ");
  EXPECT_EQ(msgs[0].Field('C'), "25P02");
  msgs = c->Query("COMMIT");
  EXPECT_EQ(Tag(msgs[0]), "ROLLBACK");
  EXPECT_EQ(msgs.back().body, "I");
  msgs = c->Query("ROLLBACK");
  ASSERT_EQ(Types(msgs), "NCZ");
  EXPECT_EQ(msgs[0].Field('S'), "WARNING");
  EXPECT_EQ(msgs[0].Field('C'), "25P01");
  msgs = c->Query("BEGIN; SAVEPOINT a; RELEASE SAVEPOINT a; COMMIT");
  EXPECT_EQ(Types(msgs), "CCCCZ");
  EXPECT_EQ(msgs.back().body, "I");
}

TEST_F(PgWireServerTest, SetShowResetReportParameterStatus) {
  auto c = Connect();
  auto msgs = c->Query("SET application_name = 'probe'");
  ASSERT_EQ(Types(msgs), "SCZ");
  msgs = c->Query("SHOW application_name");
  ASSERT_EQ(Types(msgs), "TDCZ");
  EXPECT_EQ(RowValues(msgs[1])[0], "probe");
  msgs = c->Query("SHOW transaction isolation level");
  EXPECT_EQ(RowValues(msgs[1])[0], "read committed");
  msgs = c->Query("SET client_encoding = 'LATIN1'");
  EXPECT_EQ(msgs[0].type, 'E');
  msgs = c->Query("RESET application_name");
  EXPECT_EQ(Types(msgs), "SCZ");
  msgs = c->Query("SET DateStyle = 'ISO'; SHOW datestyle");
  EXPECT_EQ(RowValues(msgs[3])[0], "ISO, MDY");
}

TEST_F(PgWireServerTest, ExtendedProtocolWithBinaryParamsRowLimitsAndSuspendedPortals) {
  auto c = Connect();
  c->Send('P', Str("s1") + Str("SELECT i, i * $1::BIGINT AS x FROM range(5) t(i) WHERE i >= $2") + I16(2) + I32(20) +
                   I32(0));
  c->Send('D', "S" + Str("s1"));
  std::string p1;
  AppendInt64(p1, 10);
  c->Send('B', Str("p") + Str("s1") + I16(2) + I16(1) + I16(0) + I16(2) + I32(8) + p1 + I32(1) + "0" + I16(1) +
                   I16(1));
  c->Send('E', Str("p") + I32(2));
  c->Send('E', Str("p") + I32(0));
  c->Send('S', "");
  auto msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "1tT2DDsDDDCZ") << msgs[0].Field('M');
  // ParameterDescription: int8 (given) and the inferred type of $2.
  EXPECT_EQ(ReadInt16(msgs[1].body.data()), 2);
  EXPECT_EQ(ReadInt32(msgs[1].body.data() + 2), 20);
  // Binary int8 results: row 2 is (2, 20).
  auto row = RowValues(msgs[7]);
  ASSERT_EQ(row.size(), 2u);
  EXPECT_EQ(ReadInt64(row[0].data()), 2);
  EXPECT_EQ(ReadInt64(row[1].data()), 20);
  EXPECT_EQ(Tag(msgs[10]), "SELECT 5");
  // The unnamed portal is gone after Sync; the named statement stays.
  c->Send('E', Str("") + I32(0));
  c->Send('S', "");
  msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "EZ");
  EXPECT_EQ(msgs[0].Field('C'), "34000");
  c->Send('P', Str("s1") + Str("SELECT 1") + I16(0));
  c->Send('S', "");
  msgs = c->UntilReady();
  EXPECT_EQ(msgs[0].Field('C'), "42P07");
}

TEST_F(PgWireServerTest, ErrorRecoverySkipsToSyncAndPipelinesContinue) {
  auto c = Connect();
  c->Send('P', Str("") + Str("SELECT 1") + I16(0));
  c->Send('B', Str("") + Str("") + I16(0) + I16(0) + I16(0));
  c->Send('E', Str("") + I32(0));
  c->Send('P', Str("") + Str("SELECT * FROM nope") + I16(0));
  c->Send('B', Str("") + Str("") + I16(0) + I16(0) + I16(0));
  c->Send('E', Str("") + I32(0));
  c->Send('S', "");
  c->Send('P', Str("") + Str("SELECT 2") + I16(0));
  c->Send('B', Str("") + Str("") + I16(0) + I16(0) + I16(0));
  c->Send('D', "P" + Str(""));
  c->Send('E', Str("") + I32(0));
  c->Send('S', "");
  auto msgs = c->UntilReady();
  EXPECT_EQ(Types(msgs), "12DCEZ");
  msgs = c->UntilReady();
  EXPECT_EQ(Types(msgs), "12TDCZ");
  EXPECT_EQ(RowValues(msgs[3])[0], "2");
}

TEST_F(PgWireServerTest, NamedPortalsSurviveSyncInsideTransactionAndInterleave) {
  auto c = Connect();
  EXPECT_EQ(c->Query("BEGIN").back().body, "T");
  c->Send('P', Str("s") + Str("SELECT i FROM range(6) t(i) WHERE i >= $1") + I16(1) + I32(20));
  c->Send('B', Str("a") + Str("s") + I16(0) + I16(1) + I32(1) + "0" + I16(0));
  c->Send('E', Str("a") + I32(2));
  c->Send('S', "");
  auto msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "12DDsZ");
  EXPECT_EQ(msgs.back().body, "T");
  // A second portal of the same statement runs while "a" is suspended.
  c->Send('B', Str("b") + Str("s") + I16(0) + I16(1) + I32(1) + "4" + I16(0));
  c->Send('E', Str("b") + I32(0));
  c->Send('E', Str("a") + I32(3));
  c->Send('E', Str("a") + I32(3));
  c->Send('S', "");
  msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "2DDCDDDsDCZ");
  EXPECT_EQ(RowValues(msgs[1])[0], "4");
  EXPECT_EQ(RowValues(msgs[4])[0], "2");
  EXPECT_EQ(RowValues(msgs[8])[0], "5");
  EXPECT_EQ(Tag(msgs[9]), "SELECT 6");
  c->Query("COMMIT");
  c->Send('E', Str("a") + I32(0));
  c->Send('S', "");
  msgs = c->UntilReady();
  EXPECT_EQ(msgs[0].Field('C'), "34000");  // portals die at COMMIT
}

TEST_F(PgWireServerTest, DescribeDmlIsNoDataAndCloseIsIdempotent) {
  auto c = Connect();
  c->Query("CREATE TABLE d (a INTEGER)");
  c->Send('P', Str("ins") + Str("INSERT INTO d VALUES ($1)") + I16(1) + I32(23));
  c->Send('D', "S" + Str("ins"));
  c->Send('B', Str("") + Str("ins") + I16(1) + I16(1) + I16(1) + I32(4) + I32(7) + I16(0));
  c->Send('E', Str("") + I32(0));
  c->Send('C', "S" + Str("ins"));
  c->Send('C', "S" + Str("ins"));
  c->Send('C', "P" + Str("nothing"));
  c->Send('S', "");
  auto msgs = c->UntilReady();
  EXPECT_EQ(Types(msgs), "1tn2C333Z");
  EXPECT_EQ(Tag(msgs[4]), "INSERT 0 1");
  msgs = c->Query("SELECT a FROM d");
  EXPECT_EQ(RowValues(msgs[1])[0], "7");
}

TEST_F(PgWireServerTest, CursorsAndCopyOut) {
  auto c = Connect();
  auto msgs = c->Query("DECLARE c CURSOR FOR SELECT * FROM range(5)");
  EXPECT_EQ(msgs[0].Field('C'), "25P01");  // needs a transaction block
  msgs = c->Query("BEGIN; DECLARE c CURSOR FOR SELECT * FROM range(5); FETCH 2 FROM c; FETCH ALL FROM c; COMMIT");
  EXPECT_EQ(Types(msgs), "CCTDDCTDDDCCZ");
  EXPECT_EQ(Tag(msgs[5]), "FETCH 2");
  EXPECT_EQ(Tag(msgs[10]), "FETCH 3");
  msgs = c->Query("FETCH 1 FROM c");
  EXPECT_EQ(msgs[0].Field('C'), "34000");  // closed at COMMIT

  msgs = c->Query("COPY (SELECT i, CASE WHEN i = 1 THEN NULL ELSE 'a\tb' END FROM range(2) t(i)) TO STDOUT");
  ASSERT_EQ(Types(msgs), "HdcCZ");
  EXPECT_EQ(msgs[1].body, "0\ta\\tb\n1\t\\N\n");
  EXPECT_EQ(Tag(msgs[3]), "COPY 2");
  msgs = c->Query("COPY (SELECT 'x,y' AS s, NULL AS n) TO STDOUT WITH (FORMAT csv, HEADER)");
  EXPECT_EQ(msgs[1].body, "s,n\n\"x,y\",\n");
}

TEST_F(PgWireServerTest, CopyInFromStdin) {
  auto c = Connect();
  c->Query("CREATE TABLE ci (a INTEGER, b VARCHAR)");
  c->Send('Q', Str("COPY ci FROM STDIN"));
  Msg g = c->Read();
  ASSERT_EQ(g.type, 'G') << g.Field('M');
  c->Send('d', "1\tone\n2\t\\N\n3\t");
  c->Send('d', "a\\tb\n4\t\n");
  c->Send('c', "");
  auto msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "CZ") << msgs[0].Field('M');
  EXPECT_EQ(Tag(msgs[0]), "COPY 4");
  msgs = c->Query("SELECT count(*), count(b), max(CASE WHEN a = 3 THEN b END), max(CASE WHEN a = 4 THEN length(b) END) FROM ci");
  EXPECT_EQ(RowValues(msgs[1]), (std::vector<std::string>{"4", "3", "a\tb", "0"}));
  c->Send('Q', Str("COPY ci FROM STDIN"));
  ASSERT_EQ(c->Read().type, 'G');
  c->Send('f', Str("client gave up"));
  msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "EZ");
  EXPECT_EQ(msgs[0].Field('C'), "57014");
}

TEST_F(PgWireServerTest, CancelRequestInterruptsRunningQuery) {
  Client c(server_->port());
  auto login = c.Login("token", token_);
  int32_t pid = 0, secret = 0;
  for (const auto& m : login) {
    if (m.type == 'K') {
      pid = ReadInt32(m.body.data());
      secret = ReadInt32(m.body.data() + 4);
    }
  }
  c.Send('Q', Str("SELECT sum(i * i) FROM range(10000000000) t(i)"));
  // A cancel that arrives before the statement runs is ignored (as in PostgreSQL), so keep asking until it ends.
  std::atomic<bool> done{false};
  std::thread canceller([&] {
    while (!done.load()) {
      Client k(server_->port());
      std::string req;
      AppendInt32(req, 16);
      AppendInt32(req, kCancelRequestCode);
      AppendInt32(req, pid);
      AppendInt32(req, secret);
      k.Raw(req);
      k.Read();  // the server closes without answering
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  auto msgs = c.UntilReady();
  done.store(true);
  canceller.join();
  ASSERT_FALSE(msgs.empty());
  ASSERT_EQ(msgs[0].type, 'E');
  EXPECT_EQ(msgs[0].Field('C'), "57014");
  msgs = c.Query("SELECT 1");
  EXPECT_EQ(Types(msgs), "TDCZ");
}

TEST_F(PgWireServerTest, ProtocolViolationGetsErrorAndClose) {
  auto c = Connect();
  c->Send('Y', "junk");
  Msg m = c->Read();
  EXPECT_EQ(m.type, 'E');
  EXPECT_EQ(m.Field('C'), "08P01");
  EXPECT_EQ(c->Read().type, 0);
  // The server keeps serving others.
  auto d = Connect();
  EXPECT_EQ(Types(d->Query("SELECT 1")), "TDCZ");
}

}  // namespace
}  // namespace tarn::pgwire

namespace tarn::pgwire {
namespace {

// The production backend: Databricks SQL sessions of a warehouse (catalog tables are Delta tables on disk).
class PgWireWarehouseTest : public PgWireServerTest {
 protected:
  BackendFactory MakeBackends() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tarn_pgwire_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "dbfs");
    auto catalog = catalog::Catalog::Open(*store_, {(dir_ / "dbfs").string(), nullptr});
    EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
    auto warehouse = sql::Warehouse::Open(*db_, *catalog_);
    EXPECT_TRUE(warehouse.ok()) << warehouse.status().ToString();
    warehouse_ = std::move(warehouse).value();
    return WarehouseBackendFactory(*warehouse_);
  }
  void TearDown() override {
    PgWireServerTest::TearDown();
    server_.reset();
    warehouse_.reset();
    std::filesystem::remove_all(dir_);
  }
};

TEST_F(PgWireWarehouseTest, DeltaTablesThroughSimpleAndExtendedProtocol) {
  auto c = Connect();
  auto msgs = c->Query("CREATE TABLE t (id INT, name STRING); INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  ASSERT_EQ(Types(msgs), "CCZ") << msgs[0].Field('M');
  EXPECT_EQ(Tag(msgs[1]), "INSERT 0 2");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "dbfs/user/hive/warehouse/t/_delta_log/00000000000000000001.json"));
  // Parse/Bind/Execute of a Delta write: the parameters are inlined and the session runs it.
  c->Send('P', Str("ins") + Str("INSERT INTO main.default.t VALUES ($1, $2)") + I16(2) + I32(23) + I32(25));
  c->Send('D', "S" + Str("ins"));
  c->Send('B', Str("") + Str("ins") + I16(0) + I16(2) + I32(1) + "3" + I32(4) + "it's" + I16(0));
  c->Send('E', Str("") + I32(0));
  c->Send('S', "");
  msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "1tn2CZ") << msgs[4].Field('M');
  EXPECT_EQ(ReadInt16(msgs[1].body.data()), 2);
  EXPECT_EQ(Tag(msgs[4]), "INSERT 0 1");
  // A prepared query over a catalog name.
  c->Send('P', Str("sel") + Str("SELECT id, name FROM t WHERE id >= $1 ORDER BY id") + I16(0));
  c->Send('D', "S" + Str("sel"));
  c->Send('B', Str("") + Str("sel") + I16(0) + I16(1) + I32(1) + "2" + I16(0));
  c->Send('E', Str("") + I32(0));
  c->Send('S', "");
  msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "1tT2DDCZ") << msgs[0].Field('M');
  EXPECT_EQ(RowValues(msgs[4]), (std::vector<std::string>{"2", "b"}));
  EXPECT_EQ(RowValues(msgs[5]), (std::vector<std::string>{"3", "it's"}));
  // The prepared query reads the table's latest version at each execution.
  msgs = c->Query("INSERT INTO t VALUES (4, 'd')");
  ASSERT_EQ(Types(msgs), "CZ") << msgs[0].Field('M');
  c->Send('B', Str("") + Str("sel") + I16(0) + I16(1) + I32(1) + "2" + I16(0));
  c->Send('E', Str("") + I32(0));
  c->Send('S', "");
  msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "2DDDCZ") << msgs[0].Field('M');
  EXPECT_EQ(RowValues(msgs[3]), (std::vector<std::string>{"4", "d"}));
  // SHOW TABLES through Parse: Describe reports the session's columns.
  c->Send('P', Str("") + Str("SHOW TABLES") + I16(0));
  c->Send('D', "S" + Str(""));
  c->Send('B', Str("") + Str("") + I16(0) + I16(0) + I16(0));
  c->Send('E', Str("") + I32(0));
  c->Send('S', "");
  msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "1tT2DCZ") << msgs[0].Field('M');
  auto row = RowValues(msgs[4]);
  EXPECT_NE(std::find(row.begin(), row.end(), "t"), row.end());
  // Delta writes inside a transaction block are staged by the session: visible to the block, gone after ROLLBACK.
  msgs = c->Query("BEGIN; INSERT INTO t VALUES (9, 'x'); SELECT count(*) FROM t");
  ASSERT_EQ(Types(msgs), "CCTDCZ") << msgs[0].Field('M');
  EXPECT_EQ(RowValues(msgs[3])[0], "5");
  msgs = c->Query("ROLLBACK; SELECT count(*) FROM t");
  ASSERT_EQ(Types(msgs), "CTDCZ");
  EXPECT_EQ(RowValues(msgs[2])[0], "4");
}

// Statements the session runs whose columns are unknown before they run (OPTIMIZE, VACUUM, RESTORE) are described as
// NoData through Parse/Describe; Execute then sends no DataRow (a row without a RowDescription breaks clients), and
// the simple protocol still shows their rows. COPY INTO is the session's too, not PostgreSQL's COPY.
TEST_F(PgWireWarehouseTest, SessionStatementsDescribedAsNoDataSendNoRows) {
  auto c = Connect();
  auto msgs = c->Query("CREATE TABLE t (id INT); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)");
  ASSERT_EQ(Types(msgs), "CCCZ") << msgs[0].Field('M');
  c->Send('P', Str("") + Str("OPTIMIZE t") + I16(0));
  c->Send('B', Str("") + Str("") + I16(0) + I16(0) + I16(0));
  c->Send('D', "P" + Str(""));
  c->Send('E', Str("") + I32(0));
  c->Send('S', "");
  msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "12nCZ") << msgs[0].Field('M');
  EXPECT_EQ(Tag(msgs[3]), "OPTIMIZE");
  msgs = c->Query("OPTIMIZE t");
  ASSERT_EQ(Types(msgs), "TDCZ") << msgs[0].Field('M');
  msgs = c->Query("SELECT count(*) FROM t");
  ASSERT_EQ(Types(msgs), "TDCZ");
  EXPECT_EQ(RowValues(msgs[1])[0], "2");
  // COPY INTO reads files into the Delta table through the session (a missing directory is its error, not 42601).
  msgs = c->Query("COPY INTO t FROM '" + (dir_ / "no_such_dir").string() + "' FILEFORMAT = CSV");
  ASSERT_EQ(Types(msgs), "EZ");
  EXPECT_NE(msgs[0].Field('C'), "42601") << msgs[0].Field('M');
}

TEST_F(PgWireWarehouseTest, StartupDatabaseSelectsCatalogAndVersionIsPostgres15) {
  auto c = Connect();
  auto msgs = c->Query("CREATE CATALOG dev; CREATE TABLE dev.default.x (v INT); INSERT INTO dev.default.x VALUES (7)");
  ASSERT_EQ(Types(msgs), "CCCZ") << msgs[0].Field('M');
  msgs = c->Query("SELECT version(), pg_catalog.version() LIKE 'PostgreSQL 15.0 (Tarn %'");
  ASSERT_EQ(Types(msgs), "TDCZ") << msgs[0].Field('M');
  auto row = RowValues(msgs[1]);
  EXPECT_EQ(row[0].rfind("PostgreSQL 15.0 (Tarn ", 0), 0u) << row[0];
  EXPECT_EQ(row[1], "t");
  auto dev = Connect("dev");
  msgs = dev->Query("SELECT v FROM x");
  ASSERT_EQ(Types(msgs), "TDCZ") << msgs[0].Field('M');
  EXPECT_EQ(RowValues(msgs[1])[0], "7");
  // A database name that is no catalog (psql defaults to the user name) leaves the session on main.
  auto other = Connect("token");
  msgs = other->Query("SELECT v FROM x");
  ASSERT_EQ(Types(msgs), "EZ");
  EXPECT_EQ(msgs[0].Field('C'), "42P01");
  msgs = other->Query("USE CATALOG dev; SELECT v FROM x");
  ASSERT_EQ(Types(msgs), "CTDCZ") << msgs[0].Field('M');
}

// spark.sql.timestampType (ADR 0004): PostgreSQL's TIMESTAMP on the wire; SET/SHOW/RESET reach the SQL session.
TEST_F(PgWireWarehouseTest, TimestampTypeSettingIsTheSessionsAndStartsNtz) {
  auto c = Connect();
  auto type_of = [&](const std::string& table) {
    auto msgs = c->Query("SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class r ON "
                         "r.oid = a.attrelid WHERE r.relname = '" + table + "' AND a.attnum = 1");
    return Types(msgs) == "TDCZ" ? RowValues(msgs[1])[0] : "error: " + msgs[0].Field('M');
  };
  auto show = [&]() {
    auto msgs = c->Query("SHOW spark.sql.timestampType");
    return Types(msgs) == "TDCZ" ? RowValues(msgs[1])[0] : "error: " + msgs[0].Field('M');
  };
  EXPECT_EQ(show(), "TIMESTAMP_NTZ");
  ASSERT_EQ(Types(c->Query("CREATE TABLE n (t TIMESTAMP)")), "CZ");
  EXPECT_EQ(type_of("n"), "timestamp without time zone");
  // SET through the extended protocol, as pgjdbc sends it
  c->Send('P', Str("") + Str("SET spark.sql.timestampType = TIMESTAMP_LTZ") + I16(0));
  c->Send('B', Str("") + Str("") + I16(0) + I16(0) + I16(0));
  c->Send('E', Str("") + I32(0));
  c->Send('S', "");
  auto msgs = c->UntilReady();
  ASSERT_EQ(Types(msgs), "12CZ") << msgs[0].Field('M');
  EXPECT_EQ(Tag(msgs[2]), "SET");
  EXPECT_EQ(show(), "TIMESTAMP_LTZ");
  ASSERT_EQ(Types(c->Query("CREATE TABLE l (t TIMESTAMP)")), "CZ");
  EXPECT_EQ(type_of("l"), "timestamp with time zone");
  msgs = c->Query("RESET spark.sql.timestampType");
  ASSERT_EQ(Types(msgs), "CZ");
  EXPECT_EQ(Tag(msgs[0]), "RESET");
  EXPECT_EQ(show(), "TIMESTAMP_NTZ");
  ASSERT_EQ(Types(c->Query("SET spark.sql.timestampType TO 'TIMESTAMP_LTZ'; RESET ALL")), "CCZ");
  EXPECT_EQ(show(), "TIMESTAMP_NTZ");
  ASSERT_EQ(Types(c->Query("SET spark.sql.timestampType TO TIMESTAMP_LTZ; SET spark.sql.timestampType TO DEFAULT")),
            "CCZ");
  EXPECT_EQ(show(), "TIMESTAMP_NTZ");
  msgs = c->Query("SET spark.sql.timestampType = nope");
  ASSERT_EQ(Types(msgs), "EZ");
  EXPECT_EQ(msgs[0].Field('C'), "22023");
  EXPECT_EQ(show(), "TIMESTAMP_NTZ");
  // Another connection has its own setting.
  ASSERT_EQ(Types(c->Query("SET spark.sql.timestampType = TIMESTAMP_LTZ")), "CZ");
  auto other = Connect();
  msgs = other->Query("SHOW spark.sql.timestampType");
  ASSERT_EQ(Types(msgs), "TDCZ");
  EXPECT_EQ(RowValues(msgs[1])[0], "TIMESTAMP_NTZ");
}

}  // namespace
}  // namespace tarn::pgwire
