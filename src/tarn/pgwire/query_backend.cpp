// SPDX-License-Identifier: Apache-2.0
// QueryBackend implementations (warehouse SQL sessions, plain engine sessions) and the SQL text helpers they use.
#include "tarn/pgwire/query_backend.hpp"

#include <atomic>
#include <cctype>
#include <climits>
#include <cmath>
#include <memory>
#include <set>
#include <string>

#include <fmt/format.h>

#include "tarn/base/version.hpp"
#include "tarn/engine/scalar_functions.hpp"
#include "tarn/engine/sql_quoting.hpp"
#include "tarn/identity/bootstrap.hpp"
#include "tarn/pgwire/detail/signals.hpp"
#include "tarn/pgwire/pg_types.hpp"
#include "tarn/pgwire/sql_text.hpp"
#include "tarn/sql/session.hpp"
#include "tarn/sql/warehouse.hpp"

namespace tarn::pgwire {
namespace {

bool IsWord(const Token& t, std::string_view word) { return t.kind == Token::Kind::kWord && t.text == word; }
bool IsSymbol(const Token& t, std::string_view s) { return t.kind == Token::Kind::kSymbol && t.text == s; }

std::string QuoteLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

// The DuckDB type a parameter of PostgreSQL type `oid` is cast to when inlined; empty: keep the literal as is
// (text types, unknown/unspecified).
std::string_view CastTypeOf(int32_t type_oid) {
  switch (type_oid) {
    case oid::kBool: return "BOOLEAN";
    case oid::kBytea: return "BLOB";
    case oid::kInt2: return "SMALLINT";
    case oid::kInt4: return "INTEGER";
    case oid::kOid:
    case oid::kInt8: return "BIGINT";
    case oid::kFloat4: return "FLOAT";
    case oid::kFloat8: return "DOUBLE";
    case oid::kDate: return "DATE";
    case oid::kTime: return "TIME";
    case oid::kTimestamp: return "TIMESTAMP";
    case oid::kTimestampTz: return "TIMESTAMPTZ";
    case oid::kInterval: return "INTERVAL";
    case oid::kUuid: return "UUID";
    default: return {};
  }
}

bool IsPlainNumber(std::string_view s) {
  size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  size_t digits = 0;
  bool dot = false;
  for (; i < s.size(); i++) {
    if (s[i] == '.' && !dot) {
      dot = true;
    } else if (s[i] >= '0' && s[i] <= '9') {
      digits++;
    } else {
      return false;
    }
  }
  return digits > 0;
}

std::string Literal(const engine::ParamValue& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(bool b) const { return b ? "TRUE" : "FALSE"; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const {
      if (std::isnan(v)) return "CAST('nan' AS DOUBLE)";
      if (std::isinf(v)) return v > 0 ? "CAST('inf' AS DOUBLE)" : "CAST('-inf' AS DOUBLE)";
      return fmt::format("CAST({} AS DOUBLE)", v);  // shortest round-trip form
    }
    std::string operator()(const std::string& s) const { return QuoteLiteral(s); }
  };
  return std::visit(Visitor{}, value);
}

std::string TypedLiteral(const engine::ParamValue& value, int32_t type_oid) {
  if (std::holds_alternative<std::monostate>(value)) return "NULL";
  if (type_oid == oid::kNumeric) {
    const auto* text = std::get_if<std::string>(&value);
    if (text != nullptr && IsPlainNumber(*text)) return *text;  // a DECIMAL literal of the digits given
    return "CAST(" + Literal(value) + " AS DOUBLE)";
  }
  std::string_view type = CastTypeOf(type_oid);
  if (type.empty()) return Literal(value);
  return "CAST(" + Literal(value) + " AS " + std::string(type) + ")";
}

// Calls a `$n` placeholder token pair at index k gives, or 0.
size_t PlaceholderAt(const std::vector<Token>& t, size_t k) {
  if (k + 1 >= t.size() || !IsSymbol(t[k], "$") || t[k + 1].kind != Token::Kind::kNumber ||
      t[k + 1].begin != t[k].end) {
    return 0;
  }
  size_t n = 0;
  for (char c : t[k + 1].text) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<size_t>(c - '0');
    if (n > 65535) return 0;
  }
  return n;
}

// Databricks SQL sessions of the warehouse (production).
class WarehouseBackend final : public QueryBackend {
 public:
  explicit WarehouseBackend(std::unique_ptr<sql::Session> session) : session_(std::move(session)) {}

  bool RunsInSession(std::string_view sql) const override {
    static const std::set<std::string, std::less<>> kSessionWords = {
        "use",    "create",   "drop",    "alter",  "show",     "describe", "desc",  "insert",
        "update", "delete",   "merge",   "truncate", "restore", "vacuum",  "optimize"};
    auto t = Tokenize(sql);
    if (t.empty() || t[0].kind != Token::Kind::kWord) return false;
    if (kSessionWords.count(t[0].text)) return true;
    return t[0].text == "copy" && t.size() > 1 && IsWord(t[1], "into");
  }
  void Interrupt() override { session_->Interrupt(); }
  engine::Session& engine_session() override { return session_->engine(); }
  bool in_transaction() const override { return session_->in_transaction(); }

 protected:
  Result<std::unique_ptr<engine::ResultStream>> DoExecute(std::string_view sql) override {
    return session_->Execute(sql);
  }
  Result<std::unique_ptr<engine::PreparedStatement>> DoPrepare(std::string_view sql) override {
    TARN_ASSIGN_OR_RETURN(std::string translated, session_->Translate(sql));
    return session_->engine().Prepare(translated);
  }
  Result<std::string> DoTranslate(std::string_view sql) override { return session_->Translate(sql); }

 private:
  std::unique_ptr<sql::Session> session_;
};

// Plain engine sessions (protocol tests).
class EngineBackend final : public QueryBackend {
 public:
  explicit EngineBackend(std::unique_ptr<engine::Session> session) : session_(std::move(session)) {}
  bool RunsInSession(std::string_view) const override { return false; }
  void Interrupt() override { session_->Interrupt(); }
  engine::Session& engine_session() override { return *session_; }
  bool in_transaction() const override { return true; }  // not tracked: server functions re-created on use

 protected:
  Result<std::unique_ptr<engine::ResultStream>> DoExecute(std::string_view sql) override {
    return session_->Execute(sql);
  }
  Result<std::unique_ptr<engine::PreparedStatement>> DoPrepare(std::string_view sql) override {
    return session_->Prepare(sql);
  }
  Result<std::string> DoTranslate(std::string_view sql) override { return std::string(sql); }

 private:
  std::unique_ptr<engine::Session> session_;
};

// What a statement names among the server objects (one case-insensitive pass; a cheap pre-check before any
// engine call).
struct ServerMentions {
  bool functions = false;  // pg_backend_pid, pg_cancel_backend, pg_terminate_backend, inet_server_port
  bool activity = false;   // pg_stat_activity
};

ServerMentions MentionsOf(std::string_view sql) {
  auto at = [&](size_t i, std::string_view word) {
    if (i + word.size() > sql.size()) return false;
    for (size_t k = 0; k < word.size(); k++) {
      if (std::tolower(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
    }
    return true;
  };
  ServerMentions m;
  for (size_t i = 0; i < sql.size(); i++) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i])));
    if (c == '_' && (at(i, "_backend") || at(i, "_server_port"))) m.functions = true;
    if (c == 's' && at(i, "stat_activity")) m.activity = true;
  }
  return m;
}

constexpr const char* kActivityColumns =
    "datid INTEGER, datname VARCHAR, pid INTEGER, leader_pid INTEGER, usesysid INTEGER, usename VARCHAR, "
    "application_name VARCHAR, client_addr VARCHAR, client_hostname VARCHAR, client_port INTEGER, "
    "backend_start TIMESTAMPTZ, xact_start TIMESTAMPTZ, query_start TIMESTAMPTZ, state_change TIMESTAMPTZ, "
    "wait_event_type VARCHAR, wait_event VARCHAR, state VARCHAR, backend_xid BIGINT, backend_xmin BIGINT, "
    "query_id BIGINT, query VARCHAR, backend_type VARCHAR";

std::string TimestampOrNull(int64_t micros) {
  if (micros == 0) return "NULL";
  return "CAST(make_timestamp(CAST(" + std::to_string(micros) + " AS BIGINT)) AS TIMESTAMPTZ)";
}

// The per-connection SQL of the server functions (temporary macros, visible to this connection only): the caller's
// pid and secret are baked into pg_cancel_backend / pg_terminate_backend, so a call names its connection.
std::string ServerFunctionsSql(const BackendStart& start) {
  std::string pid = std::to_string(start.pid);
  std::string caller = pid + ", " + std::to_string(start.secret);
  std::string sql;
  sql += "CREATE OR REPLACE TEMP MACRO pg_backend_pid() AS CAST(" + pid + " AS INTEGER);";
  sql += "CREATE OR REPLACE TEMP MACRO pg_cancel_backend(p) AS __tarn_pg_signal(" + caller + ", 0, p);";
  sql += "CREATE OR REPLACE TEMP MACRO pg_terminate_backend(p) AS __tarn_pg_signal(" + caller +
         ", 1, p), (p, timeout) AS __tarn_pg_signal(" + caller + ", 1, p);";
  sql += "CREATE OR REPLACE TEMP MACRO inet_server_port() AS CAST(" + std::to_string(start.server_port) +
         " AS INTEGER);";
  return sql;
}

// Registers __tarn_pg_signal(caller_pid, caller_secret, terminate, target_pid) in the database once.
Status RegisterSignalFunction(engine::Session& session) {
  Status status = engine::RegisterBigintPredicate(
      session, "__tarn_pg_signal", 4, [](const std::vector<int64_t>& a) -> Result<bool> {
        auto int32 = [](int64_t v) { return static_cast<int32_t>(v); };
        if (a[3] < INT32_MIN || a[3] > INT32_MAX) return false;  // no such backend
        return detail::SignalBackend(int32(a[0]), int32(a[1]), a[2] != 0, int32(a[3]));
      });
  if (status.code() == ErrorCode::kAlreadyExists) return Status::OK();
  return status;
}

// Registers the database's signal function on first use.
Status EnsureSignalFunction(engine::Session& session, const std::shared_ptr<std::atomic<bool>>& registered) {
  if (registered->load()) return Status::OK();
  TARN_RETURN_IF_ERROR(RegisterSignalFunction(session));
  registered->store(true);
  return Status::OK();
}

}  // namespace

void QueryBackend::PrepareServerObjects(std::string_view sql) {
  if (functions_sql_.empty() && !activity_) return;
  ServerMentions mentions = MentionsOf(sql);
  if (mentions.functions && !functions_sql_.empty() && (!functions_installed_ || in_transaction())) {
    if (before_call_) before_call_();
    bool outside = !in_transaction();
    auto stream = engine_session().Execute(functions_sql_);
    if (stream.ok()) {
      (*stream)->Close();
      functions_installed_ = outside;
    }  // else: in a failed transaction the statement itself reports the state
  }
  if (!mentions.activity || !activity_) return;
  if (before_call_) before_call_();
  std::string refresh = std::string("CREATE TEMP TABLE IF NOT EXISTS pg_stat_activity (") + kActivityColumns +
                        "); DELETE FROM pg_stat_activity;";
  std::vector<ActivityRow> rows = activity_();
  for (ActivityRow& r : rows) {
    if (r.user == viewer_ || viewer_ == identity::kAdminUserName) continue;
    r.query = "<insufficient privilege>";
    r.state.clear();
    r.client_addr.clear();
    r.client_port = -1;
    r.xact_start_us = r.query_start_us = r.state_change_us = 0;
  }
  if (!rows.empty()) {
    refresh += "INSERT INTO pg_stat_activity VALUES ";
    for (size_t i = 0; i < rows.size(); i++) {
      const ActivityRow& r = rows[i];
      auto str = [](const std::string& v) { return engine::QuoteSqlString(v); };
      if (i > 0) refresh += ", ";
      refresh += "(0, " + str(r.database) + ", " + std::to_string(r.pid) + ", NULL, 10, " + str(r.user) + ", " +
                 str(r.application_name) + ", " + (r.client_addr.empty() ? "NULL" : str(r.client_addr)) +
                 ", NULL, " + (r.client_port < 0 ? std::string("NULL") : std::to_string(r.client_port)) + ", " +
                 TimestampOrNull(r.backend_start_us) + ", " +
                 TimestampOrNull(r.xact_start_us) + ", " + TimestampOrNull(r.query_start_us) + ", " +
                 TimestampOrNull(r.state_change_us) + ", " +
                 (r.state == "idle" || r.state.starts_with("idle in") ? "'Client', 'ClientRead'" : "NULL, NULL") +
                 ", " + (r.state.empty() ? std::string("NULL") : str(r.state)) +
                 ", NULL, NULL, NULL, " + str(r.query) + ", 'client backend')";
    }
    refresh += ";";
  }
  // Best effort: in a failed transaction the statement itself reports the state.
  auto stream = engine_session().Execute(refresh);
  if (stream.ok()) (*stream)->Close();
}

Result<std::unique_ptr<engine::ResultStream>> QueryBackend::Execute(std::string_view sql) {
  if (before_call_) before_call_();
  PrepareServerObjects(sql);
  return DoExecute(RewriteVersionCalls(sql));
}

Result<std::unique_ptr<engine::PreparedStatement>> QueryBackend::Prepare(std::string_view sql) {
  if (before_call_) before_call_();
  PrepareServerObjects(sql);
  return DoPrepare(RewriteVersionCalls(sql));
}

Result<std::string> QueryBackend::Translate(std::string_view sql) {
  PrepareServerObjects(sql);
  return DoTranslate(RewriteVersionCalls(sql));
}

Result<std::unique_ptr<engine::ResultStream>> QueryBackend::Execute(engine::PreparedStatement& statement) {
  if (before_call_) before_call_();
  return statement.Execute();
}

std::string PgVersionString() {
  return fmt::format("PostgreSQL 15.0 (Tarn {}) on x86_64-pc-linux-gnu, compiled by Tarn, 64-bit", kVersion);
}

std::string RewriteVersionCalls(std::string_view sql) {
  // Cheap pre-check: most statements never mention version.
  bool mentions = false;
  for (size_t i = 0; i + 7 <= sql.size() && !mentions; i++) {
    if ((sql[i] | 0x20) != 'v') continue;
    std::string word(sql.substr(i, 7));
    for (char& c : word) c = static_cast<char>(c | 0x20);
    mentions = word == "version";
  }
  if (!mentions) return std::string(sql);
  auto t = Tokenize(sql);
  std::string out;
  size_t copied = 0;
  for (size_t k = 0; k + 2 < t.size(); k++) {
    if (!IsWord(t[k], "version") || !IsSymbol(t[k + 1], "(") || !IsSymbol(t[k + 2], ")")) continue;
    size_t begin = t[k].begin;
    if (k > 0 && IsSymbol(t[k - 1], ".")) {
      if (k < 2 || !IsWord(t[k - 2], "pg_catalog")) continue;  // some other schema's version()
      begin = t[k - 2].begin;
    }
    if (begin < copied) continue;
    out.append(sql.substr(copied, begin - copied));
    out += QuoteLiteral(PgVersionString());
    copied = t[k + 2].end;
  }
  out.append(sql.substr(copied));
  return out;
}

Result<std::string> InlineParams(std::string_view sql, const std::vector<engine::ParamValue>& params,
                                 const std::vector<int32_t>& type_oids) {
  auto t = Tokenize(sql);
  std::string out;
  size_t copied = 0;
  for (size_t k = 0; k < t.size(); k++) {
    size_t n = PlaceholderAt(t, k);
    if (n == 0) continue;
    if (n > params.size()) {
      return Error(ErrorCode::kInvalidParameterValue, "there is no parameter ${}", n);
    }
    out.append(sql.substr(copied, t[k].begin - copied));
    out += TypedLiteral(params[n - 1], n - 1 < type_oids.size() ? type_oids[n - 1] : 0);
    copied = t[k + 1].end;
    k++;
  }
  out.append(sql.substr(copied));
  return out;
}

size_t CountParams(std::string_view sql) {
  auto t = Tokenize(sql);
  size_t most = 0;
  for (size_t k = 0; k < t.size(); k++) most = std::max(most, PlaceholderAt(t, k));
  return most;
}

BackendFactory WarehouseBackendFactory(sql::Warehouse& warehouse) {
  auto registered = std::make_shared<std::atomic<bool>>(false);
  return [&warehouse, registered](const BackendStart& start) -> Result<std::unique_ptr<QueryBackend>> {
    sql::SessionOptions options;
    options.timestamp_type = sql::TimestampType::kNtz;  // PostgreSQL's TIMESTAMP (ADR 0004)
    options.user = start.user;
    if (!start.database.empty()) {
      auto info = warehouse.catalog().GetCatalog(start.database);
      if (info.ok()) options.catalog = info->name;
    }
    TARN_ASSIGN_OR_RETURN(auto session, warehouse.NewSession(options));
    TARN_RETURN_IF_ERROR(EnsureSignalFunction(session->engine(), registered));
    auto backend = std::make_unique<WarehouseBackend>(std::move(session));
    backend->SetServerFunctions(ServerFunctionsSql(start));
    backend->SetActivitySource(start.activity, start.user);
    return std::unique_ptr<QueryBackend>(std::move(backend));
  };
}

BackendFactory EngineBackendFactory(engine::Database& database) {
  auto registered = std::make_shared<std::atomic<bool>>(false);
  return [&database, registered](const BackendStart& start) -> Result<std::unique_ptr<QueryBackend>> {
    TARN_ASSIGN_OR_RETURN(auto session, database.Connect());
    TARN_RETURN_IF_ERROR(EnsureSignalFunction(*session, registered));
    auto backend = std::make_unique<EngineBackend>(std::move(session));
    backend->SetServerFunctions(ServerFunctionsSql(start));
    backend->SetActivitySource(start.activity, start.user);
    return std::unique_ptr<QueryBackend>(std::move(backend));
  };
}

}  // namespace tarn::pgwire
