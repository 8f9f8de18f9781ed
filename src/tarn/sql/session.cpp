// SPDX-License-Identifier: Apache-2.0
// sql::Session: statement routing (catalog DDL, SHOW/DESCRIBE, USE, transactions) and name resolution for queries.
#include "tarn/sql/session.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/log_segment.hpp"
#include "tarn/delta/schema_serializer.hpp"
#include "tarn/delta/table_maintenance.hpp"
#include "tarn/delta/transaction.hpp"
#include "tarn/engine/chunk.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/delta_scan_plan.hpp"
#include "tarn/engine/delta_table.hpp"
#include "tarn/engine/delta_writer.hpp"
#include "tarn/engine/errors.hpp"
#include "tarn/engine/sql_quoting.hpp"
#include "tarn/sql/detail/name_resolver.hpp"
#include "tarn/sql/detail/pg_catalog.hpp"
#include "tarn/sql/detail/spark_type_parser.hpp"
#include "tarn/sql/detail/tokens.hpp"
#include "tarn/sql/spark_types.hpp"
#include "tarn/sql/warehouse.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace tarn::sql {

using detail::QualifiedName;
using detail::Token;
using detail::TokenKind;
using engine::QuoteSqlIdentifier;
using engine::QuoteSqlString;

struct Session::Statement {
  size_t begin = 0;  // offsets into the script
  size_t end = 0;
  std::vector<Token> tokens;
};

// A client transaction (BEGIN ... COMMIT): the one Delta table it writes, staged in a DuckDB temporary table of the
// session (created inside the engine's transaction, so ROLLBACK drops it) and committed at COMMIT.
struct Session::Transaction {
  struct Table {
    std::string key;  // catalog.schema.table
    catalog::TableInfo info;
    int64_t read_version = -1;   // snapshot the transaction read (-1: created in the transaction)
    std::string buffer;          // quoted name of the DuckDB temp table holding the staged rows
    std::vector<std::string> columns;
    bool whole_table = false;    // the buffer holds the entire table (after UPDATE/DELETE/MERGE/overwrite)
    bool dirty = false;          // rows were staged or changed
    // A table created in the transaction (CREATE TABLE / CTAS): created at COMMIT with the staged rows.
    bool is_new = false;
    bool from_query = false;  // CTAS
    std::vector<delta::StructField> fields;
    std::vector<std::string> partition_columns;
    catalog::Properties properties;
    std::optional<std::string> comment;
  };
  bool failed = false;
  int64_t counter = 0;
  std::optional<Table> table;
};

namespace {

namespace fs = std::filesystem;
using Rows = std::vector<std::vector<std::optional<std::string>>>;
struct OutColumn {
  std::string name;
  std::string type;  // DuckDB type: VARCHAR, BIGINT, BOOLEAN
};

// ---- small parsing helpers over a statement's tokens ----

class Cursor {
 public:
  explicit Cursor(const std::vector<Token>& t) : t_(t) {}
  bool AtEnd() const { return i_ >= t_.size(); }
  const Token* Peek(size_t ahead = 0) const { return i_ + ahead < t_.size() ? &t_[i_ + ahead] : nullptr; }
  bool Is(std::string_view word, size_t ahead = 0) const {
    const Token* t = Peek(ahead);
    return t != nullptr && t->Is(word);
  }
  bool Accept(std::string_view word) {
    if (!Is(word)) return false;
    i_++;
    return true;
  }
  bool AcceptSymbol(std::string_view symbol) {
    if (AtEnd() || !t_[i_].IsSymbol(symbol)) return false;
    i_++;
    return true;
  }
  bool AcceptAll(std::initializer_list<std::string_view> words) {
    size_t k = 0;
    for (auto w : words) {
      if (!Is(w, k)) return false;
      k++;
    }
    i_ += k;
    return true;
  }
  Status Expect(std::string_view word) {
    if (Accept(word)) return Status::OK();
    return SyntaxError("expected " + std::string(word));
  }
  Status ExpectSymbol(std::string_view symbol) {
    if (AcceptSymbol(symbol)) return Status::OK();
    return SyntaxError("expected '" + std::string(symbol) + "'");
  }
  Result<QualifiedName> Name() {
    auto name = detail::ReadQualifiedName(t_, i_);
    if (!name) return SyntaxError("expected a name");
    i_ = name->end_token;
    return std::move(*name);
  }
  Result<std::string> String() {
    if (AtEnd() || t_[i_].kind != TokenKind::kString) return SyntaxError("expected a string literal");
    return t_[i_++].value;
  }
  Status SyntaxError(const std::string& what) const {
    return Error(ErrorCode::kSyntaxError, "syntax error at or near '{}': {}",
                 AtEnd() ? std::string("end of input") : t_[i_].value, what);
  }
  Status ExpectEnd() const {
    if (AtEnd()) return Status::OK();
    return SyntaxError("unexpected text");
  }
  size_t pos() const { return i_; }
  void set_pos(size_t i) { i_ = i; }
  const std::vector<Token>& tokens() const { return t_; }

 private:
  const std::vector<Token>& t_;
  size_t i_ = 0;
};

// Reads ('k' = 'v', k.x = 1, ...): keys are strings or dotted words; values strings, numbers or booleans.
Result<catalog::Properties> ReadProperties(Cursor& c) {
  catalog::Properties out;
  TARN_RETURN_IF_ERROR(c.ExpectSymbol("("));
  while (!c.AcceptSymbol(")")) {
    std::string key;
    const Token* t = c.Peek();
    if (t == nullptr) return c.SyntaxError("unterminated property list");
    if (t->kind == TokenKind::kString) {
      key = t->value;
      c.set_pos(c.pos() + 1);
    } else {
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      for (const auto& part : name.parts) key += (key.empty() ? "" : ".") + part;
    }
    std::string value;
    if (c.AcceptSymbol("=")) {
      const Token* v = c.Peek();
      if (v == nullptr || !(v->kind == TokenKind::kString || v->kind == TokenKind::kNumber || v->Is("TRUE") ||
                            v->Is("FALSE"))) {
        return c.SyntaxError("expected a property value");
      }
      value = v->kind == TokenKind::kWord ? catalog::NormalizeName(v->value) : v->value;
      c.set_pos(c.pos() + 1);
    }
    out[key] = value;
    if (!c.AcceptSymbol(",")) {
      TARN_RETURN_IF_ERROR(c.ExpectSymbol(")"));
      break;
    }
  }
  return out;
}

// Reads ('k1', 'k2') of UNSET TBLPROPERTIES / SHOW TBLPROPERTIES t ('k').
Result<std::vector<std::string>> ReadKeyList(Cursor& c) {
  std::vector<std::string> keys;
  TARN_RETURN_IF_ERROR(c.ExpectSymbol("("));
  while (!c.AcceptSymbol(")")) {
    const Token* t = c.Peek();
    if (t == nullptr) return c.SyntaxError("unterminated key list");
    if (t->kind == TokenKind::kString) {
      keys.push_back(t->value);
      c.set_pos(c.pos() + 1);
    } else {
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      std::string key;
      for (const auto& part : name.parts) key += (key.empty() ? "" : ".") + part;
      keys.push_back(key);
    }
    c.AcceptSymbol(",");
  }
  return keys;
}

// Databricks LIKE patterns of SHOW: '*' any characters, '|' alternatives, case-insensitive.
bool MatchesPattern(std::string_view pattern, std::string_view name) {
  auto match_one = [](std::string_view p, std::string_view s) {
    size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
    while (si < s.size()) {
      if (pi < p.size() && (std::tolower(static_cast<unsigned char>(p[pi])) ==
                                std::tolower(static_cast<unsigned char>(s[si])))) {
        pi++;
        si++;
      } else if (pi < p.size() && (p[pi] == '*' || p[pi] == '%')) {
        star = pi++;
        mark = si;
      } else if (star != std::string_view::npos) {
        pi = star + 1;
        si = ++mark;
      } else {
        return false;
      }
    }
    while (pi < p.size() && (p[pi] == '*' || p[pi] == '%')) pi++;
    return pi == p.size();
  };
  size_t start = 0;
  while (true) {
    size_t bar = pattern.find('|', start);
    std::string_view alt = pattern.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    while (!alt.empty() && alt.front() == ' ') alt.remove_prefix(1);
    while (!alt.empty() && alt.back() == ' ') alt.remove_suffix(1);
    if (match_one(alt, name)) return true;
    if (bar == std::string_view::npos) return false;
    start = bar + 1;
  }
}

// Reads an optional [LIKE] 'pattern'.
Result<std::optional<std::string>> ReadPattern(Cursor& c) {
  c.Accept("LIKE");
  if (c.AtEnd()) return std::optional<std::string>();
  TARN_ASSIGN_OR_RETURN(std::string p, c.String());
  return std::optional<std::string>(std::move(p));
}

std::string FieldComment(const delta::StructField& field) {
  auto j = nlohmann::json::parse(field.metadata_json, nullptr, false);
  if (j.is_object() && j.contains("comment") && j["comment"].is_string()) return j["comment"].get<std::string>();
  return "";
}

std::string WithComment(const std::string& metadata_json, const std::string& comment) {
  auto j = nlohmann::json::parse(metadata_json, nullptr, false);
  if (!j.is_object()) j = nlohmann::json::object();
  j["comment"] = comment;
  return j.dump();
}

// A column definition of CREATE TABLE / ADD COLUMNS: name type [NOT NULL] [COMMENT 'c'].
Result<delta::StructField> ReadColumnDefinition(Cursor& c, TimestampType timestamp_type) {
  const Token* t = c.Peek();
  if (t == nullptr || !t->IsName()) return c.SyntaxError("expected a column name");
  if (t->Is("CONSTRAINT") || t->Is("PRIMARY") || t->Is("FOREIGN")) {
    return Error(ErrorCode::kFeatureNotSupported, "table constraints are not supported in CREATE TABLE");
  }
  delta::StructField field;
  field.name = t->value;
  c.set_pos(c.pos() + 1);
  size_t i = c.pos();
  TARN_ASSIGN_OR_RETURN(field.type, detail::ParseTypeTokens(c.tokens(), i, timestamp_type));
  c.set_pos(i);
  while (!c.AtEnd() && !c.Peek()->IsSymbol(",") && !c.Peek()->IsSymbol(")")) {
    if (c.AcceptAll({"NOT", "NULL"})) {
      field.nullable = false;
    } else if (c.Accept("NULL")) {
      field.nullable = true;
    } else if (c.Accept("COMMENT")) {
      TARN_ASSIGN_OR_RETURN(std::string comment, c.String());
      field.metadata_json = WithComment(field.metadata_json, comment);
    } else if (c.AcceptAll({"PRIMARY", "KEY"})) {
      // An informational key (as Unity Catalog's): kept in the field metadata for the PostgreSQL catalog
      // (pg_index/pg_constraint), not enforced; its column is NOT NULL as in PostgreSQL.
      field.nullable = false;
      auto j = nlohmann::json::parse(field.metadata_json, nullptr, false);
      if (!j.is_object()) j = nlohmann::json::object();
      j["tarn.primaryKey"] = true;
      field.metadata_json = j.dump();
    } else if (c.Is("GENERATED") || c.Is("DEFAULT") || c.Is("PRIMARY") || c.Is("MASK")) {
      return Error(ErrorCode::kFeatureNotSupported, "column {}: {} columns are not supported", field.name,
                   c.Peek()->value);
    } else {
      return c.SyntaxError("unexpected text in the definition of column " + field.name);
    }
  }
  return field;
}

// Delta's protocol and properties as SHOW TBLPROPERTIES lists them.
catalog::Properties DeltaProperties(const delta::Snapshot& snapshot) {
  catalog::Properties out = snapshot.metadata().configuration;
  const auto& protocol = snapshot.protocol();
  out["delta.minReaderVersion"] = std::to_string(protocol.min_reader_version);
  out["delta.minWriterVersion"] = std::to_string(protocol.min_writer_version);
  if (protocol.reader_features) {
    for (const auto& f : *protocol.reader_features) out["delta.feature." + f] = "supported";
  }
  if (protocol.writer_features) {
    for (const auto& f : *protocol.writer_features) out["delta.feature." + f] = "supported";
  }
  return out;
}

std::string UpperType(const delta::DataType& type) {
  std::string s = type.ToString();
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// What a reference to the transaction's table reads: its snapshot plus the staged rows, or the staged table alone.
std::string StagedTableSql(const Session::Transaction::Table& t) {
  if (t.is_new || t.whole_table) return "SELECT * FROM " + t.buffer;
  return "SELECT * FROM " + detail::DeltaReference(t.info.location) + " VERSION AS OF " +
         std::to_string(t.read_version) + " UNION ALL SELECT * FROM " + t.buffer;
}

std::string TableKey(const std::vector<std::string>& q) {
  return catalog::NormalizeName(q[0]) + "." + catalog::NormalizeName(q[1]) + "." + catalog::NormalizeName(q[2]);
}

// The name resolver's view of a transaction's staged table (empty outside a transaction with writes).
detail::OverlayFn OverlayOf(const Session::Transaction* txn) {
  if (txn == nullptr || !txn->table) return {};
  return [txn](const std::vector<std::string>& q) -> std::optional<std::string> {
    if (!txn->table || q.size() != 3 || TableKey(q) != txn->table->key) return std::nullopt;
    return StagedTableSql(*txn->table);
  };
}

bool IsTransactionStart(const std::vector<Token>& t) {
  return !t.empty() && (t[0].Is("BEGIN") || (t[0].Is("START") && t.size() > 1 && t[1].Is("TRANSACTION")));
}
bool IsTransactionEnd(const std::vector<Token>& t) {
  return !t.empty() && (t[0].Is("COMMIT") || t[0].Is("END") || t[0].Is("ROLLBACK") || t[0].Is("ABORT"));
}

// A Delta table opened for a metadata commit.
struct OpenedTable {
  std::unique_ptr<storage::LocalObjectStore> store;
  std::unique_ptr<delta::DeltaTable> table;
};

}  // namespace

// ---- the statement handler ----

class StatementRunner {
 public:
  StatementRunner(Session& session, Warehouse& warehouse, std::string_view script, const Session::Statement& st,
                  std::string& catalog, std::string& schema, bool& in_transaction, Session::Transaction& txn)
      : session_(session),
        warehouse_(warehouse),
        catalog_(warehouse.catalog()),
        script_(script),
        st_(st),
        t_(st.tokens),
        current_catalog_(catalog),
        current_schema_(schema),
        in_transaction_(in_transaction),
        txn_(txn) {}

  Result<std::unique_ptr<engine::ResultStream>> Run() {
    if (IsTransactionStart(t_)) {
      TARN_ASSIGN_OR_RETURN(auto stream, PassThrough());
      in_transaction_ = true;
      txn_.failed = false;
      txn_.table.reset();
      return stream;
    }
    if (IsTransactionEnd(t_)) return EndTransaction();
    if (in_transaction_ && txn_.failed) {
      return Error(ErrorCode::kInvalidTransactionState,
                   "current transaction is aborted, commands ignored until end of transaction block");
    }
    auto result = RunStatement();
    if (!result.ok() && in_transaction_) txn_.failed = true;  // PostgreSQL: the block is aborted until ROLLBACK
    return result;
  }

 private:
  Result<std::unique_ptr<engine::ResultStream>> RunStatement() {
    if (auto setting = TimestampTypeSetting()) return std::move(*setting);
    Cursor c(t_);
    if (c.Accept("USE")) return Use(c);
    if (c.Accept("CREATE")) return Create(c);
    if (c.Accept("DROP")) return Drop(c);
    if (c.Accept("ALTER")) return Alter(c);
    if (c.Accept("SHOW")) return Show(c);
    if (c.Accept("DESCRIBE") || c.Accept("DESC")) return Describe(c);
    TARN_ASSIGN_OR_RETURN(auto written, Write());
    if (written) return written;
    return PassThrough();
  }

  // SET [SESSION] spark.sql.timestampType [= | TO] TIMESTAMP_NTZ|TIMESTAMP_LTZ|DEFAULT, SET spark.sql.timestampType,
  // RESET spark.sql.timestampType, SHOW spark.sql.timestampType (ADR 0004). nullopt for any other statement.
  std::optional<Result<std::unique_ptr<engine::ResultStream>>> TimestampTypeSetting() {
    Cursor c(t_);
    bool set = c.Accept("SET");
    bool reset = !set && c.Accept("RESET");
    bool show = !set && !reset && c.Accept("SHOW");
    if (!set && !reset && !show) return std::nullopt;
    if (set) c.Accept("SESSION");
    auto dot = [&](size_t ahead) { return c.Peek(ahead) != nullptr && c.Peek(ahead)->IsSymbol("."); };
    if (!c.Is("SPARK") || !dot(1) || !c.Is("SQL", 2) || !dot(3) || !c.Is("TIMESTAMPTYPE", 4)) return std::nullopt;
    c.set_pos(c.pos() + 5);
    static constexpr std::string_view kKey = "spark.sql.timestampType";
    auto current = [&]() { return std::string(TimestampTypeName(session_.timestamp_type())); };
    if (reset || (set && (c.AcceptSymbol("=") || c.Accept("TO")))) {
      if (set && !c.Accept("DEFAULT")) {
        const Token* value = c.Peek();
        if (value == nullptr || (value->kind != TokenKind::kWord && value->kind != TokenKind::kString)) {
          return c.SyntaxError("expected TIMESTAMP_NTZ or TIMESTAMP_LTZ");
        }
        c.set_pos(c.pos() + 1);
        TARN_RETURN_IF_ERROR(c.ExpectEnd());
        TARN_ASSIGN_OR_RETURN(TimestampType type, ParseTimestampType(value->value));
        session_.SetTimestampType(type);
        return RowsResult({{"key", "VARCHAR"}, {"value", "VARCHAR"}}, {{std::string(kKey), current()}});
      }
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      session_.ResetTimestampType();
      if (reset) return Done();
      return RowsResult({{"key", "VARCHAR"}, {"value", "VARCHAR"}}, {{std::string(kKey), current()}});
    }
    TARN_RETURN_IF_ERROR(c.ExpectEnd());
    if (show) return RowsResult({{std::string(kKey), "VARCHAR"}}, {{current()}});
    return RowsResult({{"key", "VARCHAR"}, {"value", "VARCHAR"}}, {{std::string(kKey), current()}});
  }

  // ---- plumbing ----

  detail::NameContext Context() const {
    return {current_catalog_, current_schema_, session_.timestamp_type() == TimestampType::kLtz};
  }

  std::string_view Text() const { return script_.substr(st_.begin, st_.end - st_.begin); }

  Result<std::string> Resolve(const std::vector<Token>& tokens) {
    return detail::ResolveNames(script_, tokens, catalog_, Context(), detail::LatestLogVersion, 0, OverlayOf(&txn_));
  }

  Result<std::unique_ptr<engine::ResultStream>> Engine(const std::string& sql) {
    auto result = session_.engine().Execute(sql);
    if (!result.ok() && result.status().code() == ErrorCode::kSyntaxError && sql != Text()) {
      // The rewritten text moved positions: report the error against what the user wrote when DuckDB also
      // rejects that (backticks made double quotes, same length).
      std::string original(Text());
      bool same_length = true;
      for (const auto& token : t_) {
        if (token.kind != TokenKind::kBacktick) continue;
        if (token.value.find('"') != std::string::npos) same_length = false;
        original[token.begin - st_.begin] = '"';
        if (token.end - 1 > token.begin) original[token.end - 1 - st_.begin] = '"';
      }
      if (same_length) {
        auto check = session_.engine().CountStatements(original);
        if (!check.ok() && check.status().code() == ErrorCode::kSyntaxError) return check.status();
      }
    }
    return result;
  }

  Result<std::unique_ptr<engine::ResultStream>> PassThrough() {
    TARN_ASSIGN_OR_RETURN(std::string sql, Resolve(t_));
    if (detail::NeedsPgCatalog(t_)) {  // PostgreSQL clients' catalog queries (pg_catalog.cpp)
      TARN_RETURN_IF_ERROR(session_.RefreshPgCatalog());
      sql = detail::RewritePgDialect(sql);
    }
    return Engine(sql);
  }

  Result<std::unique_ptr<engine::ResultStream>> Done() { return session_.engine().Execute(""); }

  Result<std::unique_ptr<engine::ResultStream>> RowsResult(const std::vector<OutColumn>& columns, const Rows& rows) {
    std::string sql = "SELECT ";
    if (rows.empty()) {
      for (size_t k = 0; k < columns.size(); k++) {
        if (k > 0) sql += ", ";
        sql += "CAST(NULL AS " + columns[k].type + ") AS " + QuoteSqlIdentifier(columns[k].name);
      }
      return session_.engine().Execute(sql + " WHERE false");
    }
    for (size_t k = 0; k < columns.size(); k++) {
      if (k > 0) sql += ", ";
      sql += "CAST(c" + std::to_string(k) + " AS " + columns[k].type + ") AS " + QuoteSqlIdentifier(columns[k].name);
    }
    sql += " FROM (VALUES ";
    for (size_t r = 0; r < rows.size(); r++) {
      if (r > 0) sql += ", ";
      sql += "(";
      for (size_t k = 0; k < columns.size(); k++) {
        if (k > 0) sql += ", ";
        const auto& v = k < rows[r].size() ? rows[r][k] : std::nullopt;
        sql += v ? QuoteSqlString(*v) : "NULL";
      }
      sql += ")";
    }
    sql += ") AS v(";
    for (size_t k = 0; k < columns.size(); k++) sql += (k > 0 ? ", c" : "c") + std::to_string(k);
    sql += ")";
    return session_.engine().Execute(sql);
  }

  // Statements a transaction cannot stage (catalog changes, table maintenance): refused before anything changes.
  Status NoTransaction(std::string_view what) const {
    if (!in_transaction_) return Status::OK();
    return Error(ErrorCode::kFeatureNotSupported,
                 "{} cannot run inside a multi-statement transaction (BEGIN ... COMMIT): it would commit on its own, "
                 "not atomically with the transaction; the transaction is aborted, ROLLBACK and run it in autocommit "
                 "mode",
                 what);
  }

  Result<std::vector<std::string>> QualifyName(const QualifiedName& name) {
    return detail::Qualify(name, Context());
  }

  Result<OpenedTable> OpenDelta(const std::string& location, bool create_root) {
    OpenedTable out;
    TARN_ASSIGN_OR_RETURN(out.store, storage::LocalObjectStore::Create(location, create_root));
    delta::TableOptions options;
    options.checkpoint_reader = &warehouse_.checkpoint_reader();
    // DDL commits (ALTER TABLE, ...) checkpoint through the process-wide background checkpointer, as data writes do.
    options.post_commit_scheduler = &warehouse_.writer().checkpointer();
    out.table = std::make_unique<delta::DeltaTable>(*out.store, "", options);
    return out;
  }

  Result<delta::SnapshotPtr> LatestSnapshot(const catalog::TableInfo& table) {
    TARN_ASSIGN_OR_RETURN(auto opened, OpenDelta(table.location, false));
    auto latest = opened.table->Latest();
    if (!latest.ok() && latest.status().code() == ErrorCode::kTableNotFound) {
      return Error(ErrorCode::kTableNotFound, "table {} has no Delta log at {}", table.full_name(), table.location);
    }
    return latest;
  }

  // Resolves a table/view name to its catalog entry (kTableNotFound when it is not in the catalog).
  Result<catalog::TableInfo> Lookup(const QualifiedName& name) {
    TARN_ASSIGN_OR_RETURN(auto q, QualifyName(name));
    return catalog_.GetTable(q[0], q[1], q[2]);
  }
  // As Lookup, but nullopt when the name is not a catalog object (e.g. a DuckDB temp table).
  Result<std::optional<catalog::TableInfo>> Find(const QualifiedName& name) {
    if (name.parts.size() > 3) return std::optional<catalog::TableInfo>();
    TARN_ASSIGN_OR_RETURN(auto q, QualifyName(name));
    auto found = catalog_.FindTable(q[0], q[1], q[2]);
    if (!found.ok() && (found.status().code() == ErrorCode::kCatalogNotFound ||
                        found.status().code() == ErrorCode::kSchemaNotFound)) {
      return std::optional<catalog::TableInfo>();
    }
    return found;
  }

  // Columns of a view: run it with LIMIT 0.
  Result<std::vector<engine::Column>> ViewColumns(const catalog::TableInfo& view) {
    std::vector<Token> tokens = detail::Tokenize(view.view_text);
    TARN_ASSIGN_OR_RETURN(std::string sql, detail::ResolveNames(view.view_text, tokens, catalog_,
                                                                {view.view_catalog, view.view_schema,
                                                                 session_.timestamp_type() == TimestampType::kLtz},
                                                                detail::LatestLogVersion, 0, OverlayOf(&txn_)));
    TARN_ASSIGN_OR_RETURN(auto stream, session_.engine().Execute("SELECT * FROM (" + sql + ") LIMIT 0"));
    return stream->columns();
  }

  // ---- client transactions ----

  // Runs `sql` on the engine and returns the first column of its first row as an integer (0 when there is none).
  Result<int64_t> EngineCount(const std::string& sql) {
    TARN_ASSIGN_OR_RETURN(auto stream, session_.engine().Execute(sql));
    int64_t value = 0;
    bool first = true;
    while (true) {
      TARN_ASSIGN_OR_RETURN(auto chunk, stream->Next());
      if (!chunk) break;
      if (first && chunk->num_rows() > 0) {
        value = chunk->GetInt64(0, 0);
        first = false;
      }
    }
    return value;
  }

  // COMMIT / END / ROLLBACK / ABORT. COMMIT commits the staged table first (one Delta commit, conflicts checked
  // against the version the transaction read); when that fails, or the transaction had failed, it rolls back.
  Result<std::unique_ptr<engine::ResultStream>> EndTransaction() {
    bool commit = t_[0].Is("COMMIT") || t_[0].Is("END");
    bool was_in_transaction = in_transaction_;
    bool failed = txn_.failed;
    std::optional<Session::Transaction::Table> staged = std::move(txn_.table);
    txn_.table.reset();
    txn_.failed = false;
    in_transaction_ = false;
    auto rollback = [&]() { session_.engine().Execute("ROLLBACK").status().IgnoreError(); };
    if (!was_in_transaction) return PassThrough();
    if (!commit || failed) {
      rollback();
      return Done();
    }
    if (staged && staged->dirty) {
      Status committed = CommitStaged(*staged);
      if (!committed.ok()) {
        rollback();
        return committed;
      }
    }
    if (staged) session_.engine().Execute("DROP TABLE IF EXISTS " + staged->buffer).status().IgnoreError();
    auto result = session_.engine().Execute("COMMIT");
    if (!result.ok()) {
      rollback();
      return result.status();
    }
    return result;
  }

  // One Delta commit for the staged table (and, for a table created in the transaction, its catalog row).
  Status CommitStaged(Session::Transaction::Table& t) {
    engine::DeltaWriteOptions options;
    options.session = &session_.engine();
    std::string rows = "SELECT * FROM " + t.buffer;
    if (!t.is_new) {
      options.read_version = t.read_version;
      engine::DeltaWrite write;
      write.mode = t.whole_table ? engine::DeltaWrite::Mode::kOverwrite : engine::DeltaWrite::Mode::kAppend;
      write.source_query = rows;
      auto written = warehouse_.writer().Write(t.info.location, write, options);
      if (!written.ok()) return written.status().WithContext("COMMIT of {}", t.key);
      return Status::OK();
    }
    // A new table: nobody sees it before its catalog row, which is added last.
    TARN_ASSIGN_OR_RETURN(auto existing, catalog_.FindTable(t.info.catalog_name, t.info.schema_name, t.info.name));
    if (existing) {
      return Error(ErrorCode::kDuplicateObject, "COMMIT: table {} was created by another session during this "
                   "transaction", existing->full_name());
    }
    bool log_existed = fs::exists(fs::path(t.info.location) / "_delta_log");
    auto cleanup = [&]() {
      if (t.info.type == catalog::TableType::kManaged && !log_existed) {
        std::error_code ec;
        fs::remove_all(t.info.location, ec);
      }
    };
    engine::DeltaCreateTable request;
    request.partition_columns = t.partition_columns;
    request.properties = t.properties;
    request.name = t.info.name;
    request.comment = t.comment;
    request.source_query = rows;
    bool has_comments = false;
    for (const auto& field : t.fields) {
      if (!field.nullable) request.not_null_columns.push_back(field.name);
      if (!FieldComment(field).empty()) has_comments = true;
    }
    Status status = Status::OK();
    if (t.from_query || !has_comments) {
      // Version 0 holds the schema and the staged rows (the buffer's types are the declared column types).
      status = warehouse_.writer().CreateTable(t.info.location, request, options).status();
    } else {
      // Column comments: create the declared schema, then append the staged rows (still invisible: no catalog row).
      TARN_ASSIGN_OR_RETURN(auto opened, OpenDelta(t.info.location, true));
      delta::CreateTableRequest create;
      create.schema = delta::Schema(delta::DataType::Struct(t.fields));
      create.partition_columns = t.partition_columns;
      create.configuration = t.properties;
      create.name = t.info.name;
      create.description = t.comment;
      create.is_managed = t.info.type == catalog::TableType::kManaged;
      status = opened.table->Create(create).status();
      if (status.ok()) {
        TARN_ASSIGN_OR_RETURN(int64_t count, EngineCount("SELECT count(*) FROM " + t.buffer));
        if (count > 0) {
          engine::DeltaWrite write;
          write.source_query = rows;
          status = warehouse_.writer().Write(t.info.location, write, options).status();
        }
      }
    }
    if (status.ok()) status = catalog_.CreateTable(t.info, false);
    if (!status.ok()) {
      cleanup();
      return status.WithContext("COMMIT of {}", t.key);
    }
    return Status::OK();
  }

  // The transaction's staged state for `info`, created at its first write: the transaction writes one Delta table.
  Result<Session::Transaction::Table*> Stage(const catalog::TableInfo& info) {
    std::string key = info.full_name();
    if (txn_.table) {
      if (txn_.table->key == key) return &*txn_.table;
      return Error(ErrorCode::kFeatureNotSupported,
                   "cannot write {} in this transaction: it already writes {}, and Delta commits each table on its "
                   "own, so two tables cannot commit atomically; the transaction is aborted, ROLLBACK and write each "
                   "table in its own transaction",
                   key, txn_.table->key);
    }
    Session::Transaction::Table t;
    t.key = key;
    t.info = info;
    TARN_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(info));
    t.read_version = snapshot->version();
    for (const auto& field : snapshot->schema().fields()) t.columns.push_back(field.name);
    t.buffer = QuoteSqlIdentifier("__tarn_txn_" + std::to_string(++txn_.counter));
    TARN_RETURN_IF_ERROR(session_.engine()
                             .Execute("CREATE TEMP TABLE " + t.buffer + " AS SELECT * FROM " +
                                      detail::DeltaReference(info.location) + " VERSION AS OF " +
                                      std::to_string(t.read_version) + " LIMIT 0")
                             .status());
    txn_.table = std::move(t);
    return &*txn_.table;
  }

  // A table created inside the transaction (CREATE TABLE, CTAS): its rows are staged; the Delta table and the catalog
  // row are created at COMMIT. `query`: the CTAS query (DuckDB SQL), else the declared columns define the buffer.
  Status StageNew(const catalog::TableInfo& info, const std::vector<delta::StructField>& fields,
                  const std::vector<std::string>& partition_columns, const catalog::Properties& properties,
                  const std::optional<std::string>& comment, const std::string& query) {
    std::string key = info.full_name();
    if (txn_.table) {
      return Error(ErrorCode::kFeatureNotSupported,
                   "cannot create {} in this transaction: it already writes {}, and Delta commits each table on its "
                   "own, so two tables cannot commit atomically; the transaction is aborted, ROLLBACK and create it "
                   "in its own transaction",
                   key, txn_.table->key);
    }
    Session::Transaction::Table t;
    t.key = key;
    t.info = info;
    t.is_new = true;
    t.from_query = !query.empty();
    t.fields = fields;
    t.partition_columns = partition_columns;
    t.properties = properties;
    t.comment = comment;
    t.dirty = true;
    t.buffer = QuoteSqlIdentifier("__tarn_txn_" + std::to_string(++txn_.counter));
    std::string sql = "CREATE TEMP TABLE " + t.buffer;
    if (!query.empty()) {
      sql += " AS " + query;
    } else {
      sql += " (";
      for (size_t k = 0; k < fields.size(); k++) {
        sql += (k > 0 ? ", " : "") + QuoteSqlIdentifier(fields[k].name) + " " + engine::DuckTypeOf(*fields[k].type);
      }
      sql += ")";
    }
    TARN_RETURN_IF_ERROR(session_.engine().Execute(sql).status());
    if (!query.empty()) {
      TARN_ASSIGN_OR_RETURN(auto stream, session_.engine().Execute("SELECT * FROM " + t.buffer + " LIMIT 0"));
      for (const auto& col : stream->columns()) t.columns.push_back(col.name);
    } else {
      for (const auto& f : fields) t.columns.push_back(f.name);
    }
    txn_.table = std::move(t);
    return Status::OK();
  }

  // A query (not VALUES) appended in a transaction keeps the writer's schema check: a column whose type differs from
  // the table's must be a numeric conversion (or NULL), else kSchemaMismatch naming it, as outside transactions.
  Status CheckStagedTypes(const Session::Transaction::Table& t, const std::string& query) {
    TARN_ASSIGN_OR_RETURN(auto source, session_.engine().Execute("SELECT * FROM (" + query + ") LIMIT 0"));
    std::vector<engine::Column> source_columns = source->columns();
    source.reset();
    TARN_ASSIGN_OR_RETURN(auto table, session_.engine().Execute("SELECT * FROM " + t.buffer + " LIMIT 0"));
    std::vector<engine::Column> table_columns = table->columns();
    table.reset();
    auto numeric = [](const std::string& type) {
      return type == "tinyint" || type == "smallint" || type == "int" || type == "bigint" || type == "float" ||
             type == "double" || type.starts_with("decimal");
    };
    for (const auto& column : source_columns) {
      for (const auto& target : table_columns) {
        if (catalog::NormalizeName(target.name) != catalog::NormalizeName(column.name)) continue;
        std::string from = SparkTypeNameOf(column.type);
        std::string to = SparkTypeNameOf(target.type);
        if (from == to || from == "void" || (numeric(from) && numeric(to))) break;
        return Error(ErrorCode::kSchemaMismatch,
                     "cannot write column `{}` of {}: the query produces {}, the table has {}", target.name, t.key,
                     from, to);
      }
    }
    return Status::OK();
  }

  // Before UPDATE/DELETE/MERGE/overwrite in a transaction: the buffer takes the table's rows at the read version, so
  // the statement runs on it and COMMIT replaces the table's files with it (one overwrite commit).
  Status MakeWholeTable(Session::Transaction::Table& t) {
    if (t.is_new || t.whole_table) return Status::OK();
    TARN_RETURN_IF_ERROR(session_.engine()
                             .Execute("INSERT INTO " + t.buffer + " SELECT * FROM " +
                                      detail::DeltaReference(t.info.location) + " VERSION AS OF " +
                                      std::to_string(t.read_version))
                             .status());
    t.whole_table = true;
    return Status::OK();
  }

  // ---- USE ----

  Result<std::unique_ptr<engine::ResultStream>> Use(Cursor& c) {
    if (c.Accept("CATALOG")) {
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      TARN_RETURN_IF_ERROR(session_.UseCatalog(name.parts.back()));
      return Done();
    }
    bool schema_keyword = c.Accept("SCHEMA") || c.Accept("DATABASE") || c.Accept("NAMESPACE");
    TARN_ASSIGN_OR_RETURN(auto name, c.Name());
    TARN_RETURN_IF_ERROR(c.ExpectEnd());
    if (name.parts.size() == 2) {
      TARN_RETURN_IF_ERROR(catalog_.GetSchema(name.parts[0], name.parts[1]).status());
      TARN_RETURN_IF_ERROR(session_.UseCatalog(name.parts[0]));
      TARN_RETURN_IF_ERROR(session_.UseSchema(name.parts[1]));
      return Done();
    }
    if (name.parts.size() != 1) return Error(ErrorCode::kInvalidParameterValue, "USE takes schema or catalog.schema");
    (void)schema_keyword;
    TARN_RETURN_IF_ERROR(session_.UseSchema(name.parts[0]));
    return Done();
  }

  // ---- CREATE ----

  Result<std::unique_ptr<engine::ResultStream>> Create(Cursor& c) {
    bool replace = c.AcceptAll({"OR", "REPLACE"});
    if (c.Is("TEMP") || c.Is("TEMPORARY") || c.Is("MACRO") || c.Is("FUNCTION") || c.Is("SEQUENCE") ||
        c.Is("TYPE") || c.Is("INDEX") || c.Is("UNIQUE") || c.Is("SECRET")) {
      return PassThrough();  // session-local DuckDB objects
    }
    if (c.Accept("CATALOG")) return CreateCatalog(c);
    if (c.Accept("SCHEMA") || c.Accept("DATABASE")) return CreateSchema(c);
    bool external = c.Accept("EXTERNAL");
    if (c.Accept("TABLE")) return CreateTable(c, replace, external);
    if (c.Accept("VIEW")) return CreateView(c, replace);
    return PassThrough();
  }

  Result<std::unique_ptr<engine::ResultStream>> CreateCatalog(Cursor& c) {
    TARN_RETURN_IF_ERROR(NoTransaction("CREATE CATALOG"));
    bool if_not_exists = c.AcceptAll({"IF", "NOT", "EXISTS"});
    TARN_ASSIGN_OR_RETURN(auto name, c.Name());
    if (name.parts.size() != 1) return Error(ErrorCode::kInvalidParameterValue, "a catalog name has one part");
    catalog::CatalogInfo info;
    info.name = name.parts[0];
    while (!c.AtEnd()) {
      if (c.Accept("COMMENT")) {
        TARN_ASSIGN_OR_RETURN(info.comment, c.String());
      } else if (c.Accept("OPTIONS") || c.AcceptAll({"WITH", "DBPROPERTIES"}) || c.Accept("PROPERTIES")) {
        TARN_ASSIGN_OR_RETURN(info.properties, ReadProperties(c));
      } else {
        return c.SyntaxError("unexpected text in CREATE CATALOG");
      }
    }
    TARN_RETURN_IF_ERROR(catalog_.CreateCatalog(info, if_not_exists).status());
    return Done();
  }

  Result<std::unique_ptr<engine::ResultStream>> CreateSchema(Cursor& c) {
    TARN_RETURN_IF_ERROR(NoTransaction("CREATE SCHEMA"));
    bool if_not_exists = c.AcceptAll({"IF", "NOT", "EXISTS"});
    TARN_ASSIGN_OR_RETURN(auto name, c.Name());
    catalog::SchemaInfo info;
    if (name.parts.size() == 1) {
      info.catalog_name = current_catalog_;
      info.name = name.parts[0];
    } else if (name.parts.size() == 2) {
      info.catalog_name = name.parts[0];
      info.name = name.parts[1];
    } else {
      return Error(ErrorCode::kInvalidParameterValue, "a schema name is schema or catalog.schema");
    }
    while (!c.AtEnd()) {
      if (c.Accept("COMMENT")) {
        TARN_ASSIGN_OR_RETURN(info.comment, c.String());
      } else if (c.AcceptAll({"WITH", "DBPROPERTIES"}) || c.Accept("DBPROPERTIES") || c.Accept("PROPERTIES")) {
        TARN_ASSIGN_OR_RETURN(info.properties, ReadProperties(c));
      } else if (c.Is("LOCATION") || c.Is("MANAGED")) {
        return Error(ErrorCode::kFeatureNotSupported,
                     "schema locations are not supported: managed tables live under dbfs:/user/hive/warehouse");
      } else {
        return c.SyntaxError("unexpected text in CREATE SCHEMA");
      }
    }
    TARN_RETURN_IF_ERROR(catalog_.CreateSchema(info, if_not_exists).status());
    return Done();
  }

  struct TableDefinition {
    bool has_columns = false;
    std::vector<delta::StructField> columns;
    std::vector<std::string> partition_columns;
    std::optional<std::string> location;
    std::optional<std::string> comment;
    catalog::Properties properties;
    std::optional<size_t> query_token;  // AS <query>
  };

  Result<TableDefinition> ReadTableDefinition(Cursor& c) {
    TableDefinition def;
    if (c.AcceptSymbol("(")) {
      def.has_columns = true;
      while (true) {
        TARN_ASSIGN_OR_RETURN(auto field, ReadColumnDefinition(c, session_.timestamp_type()));
        def.columns.push_back(std::move(field));
        if (c.AcceptSymbol(",")) continue;
        TARN_RETURN_IF_ERROR(c.ExpectSymbol(")"));
        break;
      }
    }
    while (!c.AtEnd()) {
      if (c.Accept("USING")) {
        TARN_ASSIGN_OR_RETURN(auto format, c.Name());
        if (catalog::NormalizeName(format.parts.back()) != "delta") {
          return Error(ErrorCode::kFeatureNotSupported, "only Delta tables are supported (USING {})",
                       format.parts.back());
        }
      } else if (c.AcceptAll({"PARTITIONED", "BY"})) {
        TARN_RETURN_IF_ERROR(c.ExpectSymbol("("));
        while (true) {
          TARN_ASSIGN_OR_RETURN(auto col, c.Name());
          def.partition_columns.push_back(col.parts.back());
          // PARTITIONED BY (p STRING): a typed partition column defines the column too.
          if (!c.AtEnd() && !c.Peek()->IsSymbol(",") && !c.Peek()->IsSymbol(")")) {
            size_t i = c.pos();
            TARN_ASSIGN_OR_RETURN(auto type, detail::ParseTypeTokens(c.tokens(), i, session_.timestamp_type()));
            c.set_pos(i);
            delta::StructField field;
            field.name = col.parts.back();
            field.type = type;
            def.columns.push_back(std::move(field));
          }
          if (c.AcceptSymbol(",")) continue;
          TARN_RETURN_IF_ERROR(c.ExpectSymbol(")"));
          break;
        }
      } else if (c.Accept("LOCATION")) {
        TARN_ASSIGN_OR_RETURN(std::string location, c.String());
        def.location = location;
      } else if (c.Accept("COMMENT")) {
        TARN_ASSIGN_OR_RETURN(std::string comment, c.String());
        def.comment = comment;
      } else if (c.Accept("TBLPROPERTIES")) {
        TARN_ASSIGN_OR_RETURN(auto props, ReadProperties(c));
        for (auto& [k, v] : props) def.properties[k] = v;
      } else if (c.Accept("OPTIONS")) {
        TARN_RETURN_IF_ERROR(ReadProperties(c).status());
      } else if (c.Is("CLUSTER")) {
        return Error(ErrorCode::kFeatureNotSupported, "CLUSTER BY (liquid clustering) is not supported");
      } else if (c.Accept("AS")) {
        def.query_token = c.pos();
        break;
      } else if (c.Is("SELECT") || c.Is("WITH") || c.Is("FROM") || c.Peek()->IsSymbol("(")) {
        def.query_token = c.pos();  // CREATE TABLE t SELECT ... (AS is optional in Spark)
        break;
      } else {
        return c.SyntaxError("unexpected text in CREATE TABLE");
      }
    }
    return def;
  }

  Result<std::unique_ptr<engine::ResultStream>> CreateTable(Cursor& c, bool replace, bool external) {
    bool if_not_exists = c.AcceptAll({"IF", "NOT", "EXISTS"});
    TARN_ASSIGN_OR_RETURN(auto name, c.Name());
    TARN_ASSIGN_OR_RETURN(auto q, QualifyName(name));
    TARN_ASSIGN_OR_RETURN(TableDefinition def, ReadTableDefinition(c));
    if (external && !def.location) {
      return Error(ErrorCode::kInvalidParameterValue, "CREATE EXTERNAL TABLE needs a LOCATION");
    }
    TARN_RETURN_IF_ERROR(catalog_.GetSchema(q[0], q[1]).status());
    TARN_ASSIGN_OR_RETURN(auto existing, catalog_.FindTable(q[0], q[1], q[2]));
    if (existing) {
      if (if_not_exists) return Done();
      if (!replace) {
        return Error(ErrorCode::kDuplicateObject, "{} {} already exists", existing->is_view() ? "view" : "table",
                     existing->full_name());
      }
      if (existing->is_view()) {
        return Error(ErrorCode::kInvalidParameterValue, "{} is a view: use CREATE OR REPLACE VIEW or DROP VIEW",
                     existing->full_name());
      }
    }
    catalog::TableInfo info;
    info.catalog_name = q[0];
    info.schema_name = q[1];
    info.name = q[2];
    info.comment = def.comment.value_or("");
    info.properties = def.properties;
    if (def.location) {
      TARN_ASSIGN_OR_RETURN(info.location, catalog_.ResolveLocation(*def.location));
      info.type = catalog::TableType::kExternal;
    } else if (existing && existing->type == catalog::TableType::kManaged) {
      info.location = existing->location;
      info.type = catalog::TableType::kManaged;
    } else {
      info.location = catalog_.ManagedLocation(q[0], q[1], q[2]);
      info.type = catalog::TableType::kManaged;
    }
    if (existing) info.table_id = existing->table_id;
    if (in_transaction_) return CreateTableInTransaction(def, info, replace, if_not_exists);
    if (def.query_token) return CreateTableAsSelect(def, info, existing);
    TARN_ASSIGN_OR_RETURN(auto opened, OpenDelta(info.location, true));
    auto latest = opened.table->Latest();
    if (!latest.ok() && latest.status().code() != ErrorCode::kTableNotFound) return latest.status();
    delta::Schema schema(delta::DataType::Struct(def.columns));
    if (latest.ok()) {
      const delta::SnapshotPtr& snapshot = *latest;
      bool same_table = existing && existing->location == info.location;
      if (replace && (same_table || def.location)) {
        if (!def.has_columns) {
          return Error(ErrorCode::kInvalidParameterValue, "CREATE OR REPLACE TABLE {} needs a column list",
                       info.full_name());
        }
        TARN_RETURN_IF_ERROR(ReplaceTableContent(*opened.table, snapshot, schema, def, info));
      } else if (def.has_columns && !schema.type()->Equals(*snapshot->schema().type())) {
        return Error(ErrorCode::kSchemaMismatch,
                     "the Delta table at {} has schema {}, which differs from the specified schema {}", info.location,
                     snapshot->schema().ToString(), schema.ToString());
      }
      // Otherwise: register the existing table (its schema comes from its log).
    } else {
      if (!def.has_columns) {
        return Error(ErrorCode::kInvalidParameterValue,
                     "CREATE TABLE {} needs a column list (or AS SELECT): there is no Delta table at {}",
                     info.full_name(), info.location);
      }
      delta::CreateTableRequest request;
      request.schema = schema;
      request.partition_columns = def.partition_columns;
      request.configuration = def.properties;
      request.name = info.name;
      if (def.comment) request.description = def.comment;
      request.is_managed = info.type == catalog::TableType::kManaged;
      auto created = opened.table->Create(request);
      if (!created.ok()) {
        if (info.type == catalog::TableType::kManaged && !existing) {
          std::error_code ec;
          fs::remove_all(info.location, ec);
        }
        return created.status();
      }
    }
    TARN_RETURN_IF_ERROR(catalog_.CreateTable(info, replace));
    return Done();
  }

  // CREATE TABLE / CTAS inside a client transaction: a new managed table whose rows are staged; the Delta table and
  // its catalog row are created at COMMIT. Replacing or registering tables would commit on its own: refused.
  Result<std::unique_ptr<engine::ResultStream>> CreateTableInTransaction(const TableDefinition& def,
                                                                        const catalog::TableInfo& info, bool replace,
                                                                        bool if_not_exists) {
    if (replace) TARN_RETURN_IF_ERROR(NoTransaction("CREATE OR REPLACE TABLE"));
    if (def.location) TARN_RETURN_IF_ERROR(NoTransaction("CREATE TABLE ... LOCATION"));
    if (txn_.table && txn_.table->is_new && txn_.table->key == info.full_name()) {
      if (if_not_exists) return Done();
      return Error(ErrorCode::kDuplicateObject, "table {} already exists (created in this transaction)",
                   info.full_name());
    }
    if (fs::exists(fs::path(info.location) / "_delta_log")) {
      return NoTransaction("CREATE TABLE over the existing Delta table at " + info.location);
    }
    if (def.query_token) {
      if (def.has_columns) {
        return Error(ErrorCode::kInvalidParameterValue, "CREATE TABLE AS SELECT takes its columns from the query");
      }
      TARN_ASSIGN_OR_RETURN(std::string query, ResolveRange(*def.query_token, t_.size()));
      TARN_RETURN_IF_ERROR(StageNew(info, {}, def.partition_columns, def.properties, def.comment,
                                    "SELECT * FROM (" + query + ") AS __tarn_source"));
      TARN_ASSIGN_OR_RETURN(int64_t rows, EngineCount("SELECT count(*) FROM " + txn_.table->buffer));
      return CountsResult({{"num_affected_rows", rows}, {"num_inserted_rows", rows}});
    }
    if (!def.has_columns) {
      return Error(ErrorCode::kInvalidParameterValue,
                   "CREATE TABLE {} needs a column list (or AS SELECT): there is no Delta table at {}",
                   info.full_name(), info.location);
    }
    for (const auto& partition : def.partition_columns) {
      bool found = false;
      for (const auto& field : def.columns) {
        if (catalog::NormalizeName(field.name) == catalog::NormalizeName(partition)) found = true;
      }
      if (!found) {
        return Error(ErrorCode::kInvalidParameterValue, "partition column `{}` is not a column of the table",
                     partition);
      }
    }
    TARN_RETURN_IF_ERROR(StageNew(info, def.columns, def.partition_columns, def.properties, def.comment, ""));
    return Done();
  }

  // CTAS: the writer creates version 0 with the data; OR REPLACE over an existing table commits the new schema (all
  // files removed) and then appends the query's rows.
  Result<std::unique_ptr<engine::ResultStream>> CreateTableAsSelect(const TableDefinition& def,
                                                                   catalog::TableInfo info,
                                                                   const std::optional<catalog::TableInfo>& existing) {
    if (def.has_columns) {
      return Error(ErrorCode::kInvalidParameterValue, "CREATE TABLE AS SELECT takes its columns from the query");
    }
    TARN_ASSIGN_OR_RETURN(std::string query, ResolveRange(*def.query_token, t_.size()));
    int64_t rows = 0;
    bool log_exists = fs::exists(fs::path(info.location) / "_delta_log");
    if (existing && log_exists && existing->location == info.location) {
      TARN_ASSIGN_OR_RETURN(auto stream, session_.engine().Execute("SELECT * FROM (" + query + ") LIMIT 0"));
      std::vector<delta::StructField> fields;
      for (const auto& col : stream->columns()) {
        delta::StructField field;
        field.name = col.name;
        TARN_ASSIGN_OR_RETURN(field.type, ParseSparkType(SparkTypeNameOf(col.type)));
        fields.push_back(std::move(field));
      }
      stream.reset();
      TARN_ASSIGN_OR_RETURN(auto opened, OpenDelta(info.location, false));
      TARN_ASSIGN_OR_RETURN(auto snapshot, opened.table->Latest());
      TARN_RETURN_IF_ERROR(ReplaceTableContent(*opened.table, snapshot,
                                               delta::Schema(delta::DataType::Struct(std::move(fields))), def, info));
      engine::DeltaWrite write;
      write.source_query = query;
      TARN_ASSIGN_OR_RETURN(auto result, warehouse_.writer().Write(info.location, write));
      rows = result.num_output_rows;
    } else {
      engine::DeltaCreateTable request;
      request.partition_columns = def.partition_columns;
      request.properties = def.properties;
      request.name = info.name;
      request.comment = def.comment;
      request.source_query = query;
      auto result = warehouse_.writer().CreateTable(info.location, request);
      if (!result.ok()) {
        if (info.type == catalog::TableType::kManaged && !log_exists) {
          std::error_code ec;
          fs::remove_all(info.location, ec);
        }
        return result.status();
      }
      rows = result->num_output_rows;
    }
    TARN_RETURN_IF_ERROR(catalog_.CreateTable(info, existing.has_value()));
    return CountsResult({{"num_affected_rows", rows}, {"num_inserted_rows", rows}});
  }

  // CREATE OR REPLACE TABLE over an existing Delta table: one commit removing every file with the new metadata.
  Status ReplaceTableContent(delta::DeltaTable& table, const delta::SnapshotPtr& snapshot, const delta::Schema& schema,
                             const TableDefinition& def, const catalog::TableInfo& info) {
    TARN_ASSIGN_OR_RETURN(auto txn, table.StartTransactionAt(snapshot));
    txn->ReadWholeTable();
    for (const auto& file : snapshot->active_files()) txn->RemoveFile(file);
    delta::MetadataAction metadata = snapshot->metadata();
    metadata.schema_string = delta::SerializeSchema(schema);
    metadata.partition_columns = def.partition_columns;
    metadata.configuration = def.properties;
    metadata.description = def.comment;
    metadata.name = info.name;
    TARN_RETURN_IF_ERROR(txn->UpdateMetadata(std::move(metadata)));
    nlohmann::json partition_by = def.partition_columns;
    txn->SetOperation("CREATE OR REPLACE TABLE",
                      {{"isManaged", info.type == catalog::TableType::kManaged ? "true" : "false"},
                       {"description", def.comment.value_or("")},
                       {"partitionBy", partition_by.dump()},
                       {"properties", nlohmann::json(def.properties).dump()}});
    return txn->Commit().status();
  }

  Result<std::unique_ptr<engine::ResultStream>> CreateView(Cursor& c, bool replace) {
    bool if_not_exists = c.AcceptAll({"IF", "NOT", "EXISTS"});
    TARN_ASSIGN_OR_RETURN(auto name, c.Name());
    TARN_ASSIGN_OR_RETURN(auto q, QualifyName(name));
    TARN_RETURN_IF_ERROR(NoTransaction("CREATE VIEW"));
    std::vector<std::string> column_names;
    if (c.AcceptSymbol("(")) {
      while (true) {
        TARN_ASSIGN_OR_RETURN(auto col, c.Name());
        column_names.push_back(col.parts.back());
        if (c.Accept("COMMENT")) TARN_RETURN_IF_ERROR(c.String().status());
        if (c.AcceptSymbol(",")) continue;
        TARN_RETURN_IF_ERROR(c.ExpectSymbol(")"));
        break;
      }
    }
    catalog::TableInfo info;
    info.catalog_name = q[0];
    info.schema_name = q[1];
    info.name = q[2];
    info.type = catalog::TableType::kView;
    info.data_source_format = "";
    info.view_catalog = current_catalog_;
    info.view_schema = current_schema_;
    while (!c.Accept("AS")) {
      if (c.AtEnd()) return c.SyntaxError("CREATE VIEW needs AS <query>");
      if (c.Accept("COMMENT")) {
        TARN_ASSIGN_OR_RETURN(info.comment, c.String());
      } else if (c.Accept("TBLPROPERTIES")) {
        TARN_ASSIGN_OR_RETURN(info.properties, ReadProperties(c));
      } else {
        return c.SyntaxError("unexpected text in CREATE VIEW");
      }
    }
    if (c.AtEnd()) return c.SyntaxError("CREATE VIEW needs a query after AS");
    size_t query_begin = t_[c.pos()].begin;
    std::string query(script_.substr(query_begin, st_.end - query_begin));
    if (!column_names.empty()) {
      std::string list;
      for (const auto& col : column_names) list += (list.empty() ? "" : ", ") + QuoteSqlIdentifier(col);
      query = "SELECT * FROM (" + query + ") AS " + QuoteSqlIdentifier(info.name) + "(" + list + ")";
    }
    info.view_text = query;
    TARN_ASSIGN_OR_RETURN(auto existing, catalog_.FindTable(q[0], q[1], q[2]));
    if (existing) {
      if (if_not_exists) return Done();
      if (!replace) return Error(ErrorCode::kDuplicateObject, "view {} already exists", existing->full_name());
      if (!existing->is_view()) {
        return Error(ErrorCode::kInvalidParameterValue, "{} is a table, not a view", existing->full_name());
      }
      info.table_id = existing->table_id;
    }
    // Validate: the query must bind (unknown tables/columns fail here, not at first use).
    TARN_RETURN_IF_ERROR(ViewColumns(info).status());
    TARN_RETURN_IF_ERROR(catalog_.CreateTable(info, replace));
    return Done();
  }

  // ---- DROP ----

  Result<std::unique_ptr<engine::ResultStream>> Drop(Cursor& c) {
    if (c.Accept("CATALOG")) {
      TARN_RETURN_IF_ERROR(NoTransaction("DROP CATALOG"));
      bool if_exists = c.AcceptAll({"IF", "EXISTS"});
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      bool cascade = c.Accept("CASCADE");
      if (!cascade) c.Accept("RESTRICT");
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      if (catalog::NormalizeName(name.parts.back()) == current_catalog_) {
        return Error(ErrorCode::kInvalidState, "cannot drop the current catalog {}", current_catalog_);
      }
      TARN_RETURN_IF_ERROR(catalog_.DropCatalog(name.parts.back(), if_exists, cascade).status());
      return Done();
    }
    if (c.Accept("SCHEMA") || c.Accept("DATABASE")) {
      TARN_RETURN_IF_ERROR(NoTransaction("DROP SCHEMA"));
      bool if_exists = c.AcceptAll({"IF", "EXISTS"});
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      bool cascade = c.Accept("CASCADE");
      if (!cascade) c.Accept("RESTRICT");
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      std::string cat = name.parts.size() == 2 ? name.parts[0] : current_catalog_;
      if (name.parts.size() > 2) return Error(ErrorCode::kInvalidParameterValue, "a schema name has 1 or 2 parts");
      TARN_RETURN_IF_ERROR(catalog_.DropSchema(cat, name.parts.back(), if_exists, cascade).status());
      return Done();
    }
    bool view = c.Accept("VIEW");
    bool table = !view && c.Accept("TABLE");
    if (!view && !table) return PassThrough();
    bool if_exists = c.AcceptAll({"IF", "EXISTS"});
    TARN_ASSIGN_OR_RETURN(auto name, c.Name());
    c.Accept("PURGE");
    if (!c.AtEnd()) return PassThrough();
    TARN_ASSIGN_OR_RETURN(auto found, Find(name));
    if (!found) {
      if (if_exists && name.parts.size() > 1) return Done();
      return PassThrough();  // a DuckDB temp table/view, or DuckDB's own "does not exist" error
    }
    if (view && !found->is_view()) {
      return Error(ErrorCode::kInvalidParameterValue, "{} is a table: use DROP TABLE", found->full_name());
    }
    if (table && found->is_view()) {
      return Error(ErrorCode::kInvalidParameterValue, "{} is a view: use DROP VIEW", found->full_name());
    }
    TARN_RETURN_IF_ERROR(NoTransaction(view ? "DROP VIEW" : "DROP TABLE"));
    TARN_RETURN_IF_ERROR(catalog_.DropTable(found->catalog_name, found->schema_name, found->name).status());
    return Done();
  }

  // ---- ALTER TABLE / VIEW ----

  Result<std::unique_ptr<engine::ResultStream>> Alter(Cursor& c) {
    bool view = c.Accept("VIEW");
    if (!view && !c.Accept("TABLE")) return PassThrough();
    TARN_ASSIGN_OR_RETURN(auto name, c.Name());
    TARN_ASSIGN_OR_RETURN(auto found, Find(name));
    if (!found) return PassThrough();
    TARN_RETURN_IF_ERROR(NoTransaction("ALTER TABLE"));
    catalog::TableInfo info = *found;
    if (c.AcceptAll({"RENAME", "TO"})) {
      TARN_ASSIGN_OR_RETURN(auto target, c.Name());
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      std::vector<std::string> q;
      if (target.parts.size() == 1) {
        q = {info.catalog_name, info.schema_name, target.parts[0]};
      } else {
        TARN_ASSIGN_OR_RETURN(q, QualifyName(target));
      }
      if (catalog::NormalizeName(q[0]) != info.catalog_name) {
        return Error(ErrorCode::kInvalidParameterValue, "cannot rename {} into another catalog ({})",
                     info.full_name(), q[0]);
      }
      TARN_RETURN_IF_ERROR(catalog_.RenameTable(info.catalog_name, info.schema_name, info.name, q[1], q[2]));
      return Done();
    }
    if (info.is_view()) {
      if (c.AcceptAll({"SET", "TBLPROPERTIES"})) {
        TARN_ASSIGN_OR_RETURN(auto props, ReadProperties(c));
        for (auto& [k, v] : props) info.properties[k] = v;
        TARN_RETURN_IF_ERROR(catalog_.UpdateTable(info));
        return Done();
      }
      return Error(ErrorCode::kInvalidParameterValue, "{} is a view: only RENAME TO and SET TBLPROPERTIES apply",
                   info.full_name());
    }
    TARN_ASSIGN_OR_RETURN(auto opened, OpenDelta(info.location, false));
    TARN_ASSIGN_OR_RETURN(auto txn, opened.table->StartTransaction());
    delta::MetadataAction metadata = txn->metadata();
    std::string operation;
    std::map<std::string, std::string> parameters;
    if (c.AcceptAll({"SET", "TBLPROPERTIES"})) {
      TARN_ASSIGN_OR_RETURN(auto props, ReadProperties(c));
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      for (auto& [k, v] : props) {
        metadata.configuration[k] = v;
        info.properties[k] = v;
      }
      operation = "SET TBLPROPERTIES";
      parameters["properties"] = nlohmann::json(props).dump();
    } else if (c.AcceptAll({"UNSET", "TBLPROPERTIES"})) {
      bool if_exists = c.AcceptAll({"IF", "EXISTS"});
      TARN_ASSIGN_OR_RETURN(auto keys, ReadKeyList(c));
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      for (const auto& k : keys) {
        if (metadata.configuration.erase(k) == 0 && !if_exists) {
          return Error(ErrorCode::kInvalidParameterValue, "table {} has no property '{}'", info.full_name(), k);
        }
        info.properties.erase(k);
      }
      operation = "UNSET TBLPROPERTIES";
      parameters["properties"] = nlohmann::json(keys).dump();
      parameters["ifExists"] = if_exists ? "true" : "false";
    } else if (c.Accept("ADD")) {
      if (!c.Accept("COLUMNS")) c.Accept("COLUMN");
      bool parens = c.AcceptSymbol("(");
      std::vector<delta::StructField> added;
      while (true) {
        TARN_ASSIGN_OR_RETURN(auto field, ReadColumnDefinition(c, session_.timestamp_type()));
        if (!field.nullable) {
          return Error(ErrorCode::kInvalidParameterValue, "column {}: added columns must be nullable", field.name);
        }
        added.push_back(std::move(field));
        if (c.AcceptSymbol(",")) continue;
        break;
      }
      if (parens) TARN_RETURN_IF_ERROR(c.ExpectSymbol(")"));
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      std::vector<delta::StructField> fields = txn->schema().fields();
      nlohmann::json columns = nlohmann::json::array();
      for (auto& field : added) {
        for (const auto& f : fields) {
          if (catalog::NormalizeName(f.name) == catalog::NormalizeName(field.name)) {
            return Error(ErrorCode::kDuplicateObject, "column {} already exists in {}", field.name, info.full_name());
          }
        }
        columns.push_back({{"column", {{"name", field.name}, {"type", field.type->ToString()}}}});
        fields.push_back(std::move(field));
      }
      delta::Schema schema(delta::DataType::Struct(std::move(fields)));
      if (txn->snapshot()->column_mapping_mode() != delta::ColumnMappingMode::kNone) {
        // Column mapping: the new columns get the next ids and fresh physical names (maxColumnId moves on).
        TARN_ASSIGN_OR_RETURN(schema, delta::ApplyColumnMapping(schema, metadata.configuration));
      }
      metadata.schema_string = delta::SerializeSchema(schema);
      operation = "ADD COLUMNS";
      parameters["columns"] = columns.dump();
    } else if (c.Accept("ALTER") || c.Accept("CHANGE")) {
      c.Accept("COLUMN");
      TARN_ASSIGN_OR_RETURN(auto column, c.Name());
      if (!c.Accept("COMMENT")) {
        return Error(ErrorCode::kFeatureNotSupported, "ALTER COLUMN supports COMMENT only");
      }
      TARN_ASSIGN_OR_RETURN(std::string comment, c.String());
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      std::vector<delta::StructField> fields = txn->schema().fields();
      bool found_column = false;
      for (auto& f : fields) {
        if (catalog::NormalizeName(f.name) == catalog::NormalizeName(column.parts.back())) {
          f.metadata_json = WithComment(f.metadata_json, comment);
          found_column = true;
        }
      }
      if (!found_column) {
        return Error(ErrorCode::kColumnNotFound, "column {} does not exist in {}", column.parts.back(),
                     info.full_name());
      }
      metadata.schema_string = delta::SerializeSchema(delta::Schema(delta::DataType::Struct(std::move(fields))));
      operation = "CHANGE COLUMN";
      parameters["column"] = nlohmann::json({{"name", column.parts.back()}, {"comment", comment}}).dump();
    } else {
      return Error(ErrorCode::kFeatureNotSupported,
                   "ALTER TABLE supports RENAME TO, SET/UNSET TBLPROPERTIES, ADD COLUMNS and ALTER COLUMN COMMENT");
    }
    TARN_RETURN_IF_ERROR(txn->UpdateMetadata(std::move(metadata)));
    txn->SetOperation(operation, parameters);
    TARN_RETURN_IF_ERROR(txn->Commit().status());
    if (operation.find("TBLPROPERTIES") != std::string::npos) TARN_RETURN_IF_ERROR(catalog_.UpdateTable(info));
    return Done();
  }

  // ---- SHOW ----

  Result<std::unique_ptr<engine::ResultStream>> Show(Cursor& c) {
    if (c.Accept("CATALOGS")) {
      TARN_ASSIGN_OR_RETURN(auto pattern, ReadPattern(c));
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      TARN_ASSIGN_OR_RETURN(auto catalogs, catalog_.ListCatalogs());
      Rows rows;
      for (const auto& cat : catalogs) {
        if (!pattern || MatchesPattern(*pattern, cat.name)) rows.push_back({cat.name});
      }
      return RowsResult({{"catalog", "VARCHAR"}}, rows);
    }
    if (c.Accept("SCHEMAS") || c.Accept("DATABASES") || c.Accept("NAMESPACES")) {
      std::string cat = current_catalog_;
      if (c.Accept("FROM") || c.Accept("IN")) {
        TARN_ASSIGN_OR_RETURN(auto name, c.Name());
        cat = name.parts.back();
      }
      TARN_ASSIGN_OR_RETURN(auto pattern, ReadPattern(c));
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      TARN_ASSIGN_OR_RETURN(auto schemas, catalog_.ListSchemas(cat));
      Rows rows;
      for (const auto& s : schemas) {
        if (!pattern || MatchesPattern(*pattern, s.name)) rows.push_back({s.name});
      }
      return RowsResult({{"databaseName", "VARCHAR"}}, rows);
    }
    bool views = c.Is("VIEWS");
    if (c.Accept("TABLES") || c.Accept("VIEWS")) {
      std::string cat = current_catalog_;
      std::string schema = current_schema_;
      if (c.Accept("FROM") || c.Accept("IN")) {
        TARN_ASSIGN_OR_RETURN(auto name, c.Name());
        if (name.parts.size() == 2) cat = name.parts[0];
        if (name.parts.size() > 2) return Error(ErrorCode::kInvalidParameterValue, "expected schema or catalog.schema");
        schema = name.parts.back();
      }
      TARN_ASSIGN_OR_RETURN(auto pattern, ReadPattern(c));
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      TARN_ASSIGN_OR_RETURN(auto tables, catalog_.ListTables(cat, schema));
      Rows rows;
      for (const auto& t : tables) {
        if (pattern && !MatchesPattern(*pattern, t.name)) continue;
        if (views && !t.is_view()) continue;
        if (views) {
          rows.push_back({t.schema_name, t.name, "false", "false"});
        } else {
          rows.push_back({t.schema_name, t.name, "false"});
        }
      }
      if (views) {
        return RowsResult({{"namespace", "VARCHAR"}, {"viewName", "VARCHAR"}, {"isTemporary", "BOOLEAN"},
                           {"isMaterialized", "BOOLEAN"}},
                          rows);
      }
      return RowsResult({{"database", "VARCHAR"}, {"tableName", "VARCHAR"}, {"isTemporary", "BOOLEAN"}}, rows);
    }
    if (c.Accept("COLUMNS")) {
      if (!c.Accept("IN") && !c.Accept("FROM")) return c.SyntaxError("expected IN or FROM");
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      if (c.Accept("IN") || c.Accept("FROM")) {
        TARN_ASSIGN_OR_RETURN(auto schema, c.Name());
        if (name.parts.size() != 1) return Error(ErrorCode::kInvalidParameterValue, "table name must have one part");
        QualifiedName full;
        full.parts = schema.parts;
        full.parts.push_back(name.parts[0]);
        name = full;
      }
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      TARN_ASSIGN_OR_RETURN(auto table, Lookup(name));
      TARN_ASSIGN_OR_RETURN(auto columns, Columns(table));
      Rows rows;
      for (const auto& col : columns) rows.push_back({col.name});
      return RowsResult({{"col_name", "VARCHAR"}}, rows);
    }
    if (c.AcceptAll({"CREATE", "TABLE"})) {
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      c.Accept("AS");
      c.Accept("SERDE");
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      TARN_ASSIGN_OR_RETURN(auto table, Lookup(name));
      TARN_ASSIGN_OR_RETURN(std::string text, ShowCreate(table));
      return RowsResult({{"createtab_stmt", "VARCHAR"}}, {{text}});
    }
    if (c.Accept("TBLPROPERTIES")) {
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      std::optional<std::vector<std::string>> keys;
      if (!c.AtEnd()) {
        TARN_ASSIGN_OR_RETURN(auto list, ReadKeyList(c));
        keys = list;
      }
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      TARN_ASSIGN_OR_RETURN(auto table, Lookup(name));
      catalog::Properties props = table.properties;
      if (!table.is_view()) {
        TARN_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(table));
        props = DeltaProperties(*snapshot);
      }
      Rows rows;
      if (keys) {
        for (const auto& k : *keys) {
          auto it = props.find(k);
          rows.push_back({k, it != props.end() ? it->second
                                               : "Table " + table.full_name() + " does not have property: " + k});
        }
      } else {
        for (const auto& [k, v] : props) rows.push_back({k, v});
      }
      return RowsResult({{"key", "VARCHAR"}, {"value", "VARCHAR"}}, rows);
    }
    return PassThrough();
  }

  struct ColumnInfo {
    std::string name;
    std::string type;  // Spark spelling
    std::string comment;
    bool nullable = true;
  };

  Result<std::vector<ColumnInfo>> Columns(const catalog::TableInfo& table) {
    std::vector<ColumnInfo> out;
    if (table.is_view()) {
      TARN_ASSIGN_OR_RETURN(auto columns, ViewColumns(table));
      for (const auto& col : columns) out.push_back({col.name, SparkTypeNameOf(col.type), "", true});
      return out;
    }
    TARN_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(table));
    for (const auto& f : snapshot->schema().fields()) {
      out.push_back({f.name, f.type->ToString(), FieldComment(f), f.nullable});
    }
    return out;
  }

  Result<std::string> ShowCreate(const catalog::TableInfo& table) {
    if (table.is_view()) {
      return "CREATE VIEW " + table.full_name() + " AS " + table.view_text;
    }
    TARN_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(table));
    std::string out = "CREATE TABLE " + table.full_name() + " (\n";
    const auto& fields = snapshot->schema().fields();
    for (size_t k = 0; k < fields.size(); k++) {
      out += "  " + fields[k].name + " " + UpperType(*fields[k].type);
      if (!fields[k].nullable) out += " NOT NULL";
      std::string comment = FieldComment(fields[k]);
      if (!comment.empty()) out += " COMMENT " + QuoteSqlString(comment);
      out += k + 1 < fields.size() ? ",\n" : ")\n";
    }
    out += "USING delta\n";
    if (!snapshot->partition_columns().empty()) {
      out += "PARTITIONED BY (";
      for (size_t k = 0; k < snapshot->partition_columns().size(); k++) {
        out += (k > 0 ? ", " : "") + snapshot->partition_columns()[k];
      }
      out += ")\n";
    }
    if (snapshot->metadata().description && !snapshot->metadata().description->empty()) {
      out += "COMMENT " + QuoteSqlString(*snapshot->metadata().description) + "\n";
    }
    if (table.type == catalog::TableType::kExternal) out += "LOCATION " + QuoteSqlString(table.location) + "\n";
    catalog::Properties props = DeltaProperties(*snapshot);
    out += "TBLPROPERTIES (\n";
    size_t k = 0;
    for (const auto& [key, value] : props) {
      out += "  " + QuoteSqlString(key) + " = " + QuoteSqlString(value) + (++k < props.size() ? ",\n" : ")\n");
    }
    return out;
  }

  // ---- DESCRIBE ----

  Result<std::unique_ptr<engine::ResultStream>> Describe(Cursor& c) {
    if (c.Is("DETAIL") || c.Is("HISTORY")) {
      size_t kind = c.pos();
      c.set_pos(kind + 1);
      auto name = detail::ReadQualifiedName(t_, c.pos());
      if (name && !(name->parts.size() == 2 && t_[name->first_token + 2].kind == TokenKind::kBacktick)) {
        TARN_ASSIGN_OR_RETURN(auto table, Lookup(*name));
        if (table.is_view()) {
          return Error(ErrorCode::kInvalidParameterValue, "DESCRIBE {} needs a Delta table; {} is a view",
                       t_[kind].value, table.full_name());
        }
        std::string sql = "DESCRIBE " + t_[kind].value + " " + detail::DeltaReference(table.location);
        size_t rest = name->end_token < t_.size() ? t_[name->end_token].begin : st_.end;
        sql += " " + std::string(script_.substr(rest, st_.end - rest));
        return Engine(sql);
      }
      return PassThrough();
    }
    if (c.Accept("CATALOG")) {
      c.Accept("EXTENDED");
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      TARN_ASSIGN_OR_RETURN(auto info, catalog_.GetCatalog(name.parts.back()));
      return RowsResult({{"info_name", "VARCHAR"}, {"info_value", "VARCHAR"}},
                        {{"Catalog Name", info.name}, {"Comment", info.comment}, {"Owner", info.owner}});
    }
    if (c.Accept("SCHEMA") || c.Accept("DATABASE")) {
      c.Accept("EXTENDED");
      TARN_ASSIGN_OR_RETURN(auto name, c.Name());
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      std::string cat = name.parts.size() == 2 ? name.parts[0] : current_catalog_;
      TARN_ASSIGN_OR_RETURN(auto info, catalog_.GetSchema(cat, name.parts.back()));
      return RowsResult({{"database_description_item", "VARCHAR"}, {"database_description_value", "VARCHAR"}},
                        {{"Catalog Name", info.catalog_name},
                         {"Namespace Name", info.name},
                         {"Comment", info.comment},
                         {"Owner", info.owner}});
    }
    size_t start = c.pos();
    c.Accept("TABLE");
    bool extended = c.Accept("EXTENDED") || c.Accept("FORMATTED");
    auto name = detail::ReadQualifiedName(t_, c.pos());
    if (!name || (name->end_token < t_.size() && !t_[name->end_token].IsName())) {
      c.set_pos(start);
      return PassThrough();  // DESCRIBE SELECT ..., DESCRIBE delta.`path`
    }
    TARN_ASSIGN_OR_RETURN(auto found, Find(*name));
    if (!found) return PassThrough();
    c.set_pos(name->end_token);
    std::optional<std::string> column;
    if (!c.AtEnd()) {
      TARN_ASSIGN_OR_RETURN(auto col, c.Name());
      column = col.parts.back();
    }
    TARN_RETURN_IF_ERROR(c.ExpectEnd());
    TARN_ASSIGN_OR_RETURN(auto columns, Columns(*found));
    if (column) {
      for (const auto& col : columns) {
        if (catalog::NormalizeName(col.name) == catalog::NormalizeName(*column)) {
          return RowsResult({{"info_name", "VARCHAR"}, {"info_value", "VARCHAR"}},
                            {{"col_name", col.name}, {"data_type", col.type}, {"comment", col.comment}});
        }
      }
      return Error(ErrorCode::kColumnNotFound, "column {} does not exist in {}", *column, found->full_name());
    }
    Rows rows;
    for (const auto& col : columns) {
      rows.push_back({col.name, col.type, col.comment.empty() ? std::nullopt : std::optional<std::string>(col.comment)});
    }
    delta::SnapshotPtr snapshot;
    if (!found->is_view()) {
      TARN_ASSIGN_OR_RETURN(snapshot, LatestSnapshot(*found));
      if (!snapshot->partition_columns().empty()) {
        rows.push_back({"# Partition Information", "", ""});
        rows.push_back({"# col_name", "data_type", "comment"});
        for (const auto& p : snapshot->partition_columns()) {
          for (const auto& col : columns) {
            if (col.name == p) rows.push_back({col.name, col.type, std::nullopt});
          }
        }
      }
    }
    if (extended) {
      rows.push_back({"", "", ""});
      rows.push_back({"# Detailed Table Information", "", ""});
      rows.push_back({"Catalog", found->catalog_name, ""});
      rows.push_back({"Database", found->schema_name, ""});
      rows.push_back({"Table", found->name, ""});
      rows.push_back({"Type", std::string(catalog::TableTypeName(found->type)), ""});
      if (!found->comment.empty()) rows.push_back({"Comment", found->comment, ""});
      if (found->is_view()) {
        rows.push_back({"View Text", found->view_text, ""});
        rows.push_back({"View Catalog and Namespace", found->view_catalog + "." + found->view_schema, ""});
      } else {
        rows.push_back({"Location", found->location, ""});
        rows.push_back({"Provider", "delta", ""});
        std::string props;
        for (const auto& [k, v] : DeltaProperties(*snapshot)) props += (props.empty() ? "" : ",") + k + "=" + v;
        rows.push_back({"Table Properties", "[" + props + "]", ""});
      }
    }
    return RowsResult({{"col_name", "VARCHAR"}, {"data_type", "VARCHAR"}, {"comment", "VARCHAR"}}, rows);
  }

  // ---- writes ----

  std::string Slice(size_t a, size_t b) const {
    if (a >= b) return "";
    return std::string(script_.substr(t_[a].begin, t_[b - 1].end - t_[a].begin));
  }
  Result<std::string> ResolveRange(size_t a, size_t b) {
    if (a >= b) return std::string();
    std::vector<Token> tokens(t_.begin() + static_cast<std::ptrdiff_t>(a), t_.begin() + static_cast<std::ptrdiff_t>(b));
    return detail::ResolveNames(script_, tokens, catalog_, Context(), detail::LatestLogVersion, 0, OverlayOf(&txn_));
  }
  // Index of the first token at parenthesis depth 0 in [from, t_.size()) that is one of `words`, else t_.size().
  size_t FindTopLevel(size_t from, std::initializer_list<std::string_view> words) const {
    int depth = 0;
    for (size_t i = from; i < t_.size(); i++) {
      if (t_[i].IsSymbol("(")) depth++;
      if (t_[i].IsSymbol(")")) depth--;
      if (depth == 0) {
        for (auto w : words) {
          if (t_[i].Is(w)) return i;
        }
      }
    }
    return t_.size();
  }

  Result<std::unique_ptr<engine::ResultStream>> CountsResult(const std::vector<std::pair<std::string, int64_t>>& counts) {
    std::vector<OutColumn> columns;
    std::vector<std::optional<std::string>> row;
    for (const auto& [name, value] : counts) {
      columns.push_back({name, "BIGINT"});
      row.push_back(std::to_string(value));
    }
    return RowsResult(columns, {row});
  }

  // The target of a data-writing statement: a catalog table (not a view), or nullopt when the name is not ours.
  // `stageable`: the statement can run inside a client transaction (staged until COMMIT); a table created in the
  // transaction is then a target too.
  Result<std::optional<catalog::TableInfo>> WriteTarget(const QualifiedName& name, std::string_view what,
                                                        bool stageable = false) {
    if (in_transaction_ && txn_.table && txn_.table->is_new && name.parts.size() <= 3) {
      TARN_ASSIGN_OR_RETURN(auto q, QualifyName(name));
      if (TableKey(q) == txn_.table->key) {
        if (!stageable) TARN_RETURN_IF_ERROR(NoTransaction(std::string(what) + " on a Delta table"));
        return std::optional<catalog::TableInfo>(txn_.table->info);
      }
    }
    TARN_ASSIGN_OR_RETURN(auto found, Find(name));
    if (!found) return found;
    if (!stageable) TARN_RETURN_IF_ERROR(NoTransaction(std::string(what) + " on a Delta table"));
    if (found->is_view()) return Error(ErrorCode::kInvalidParameterValue, "cannot write to view {}", found->full_name());
    return found;
  }

  // Statements that write catalog tables; nullptr when the statement is not one (DuckDB handles it).
  Result<std::unique_ptr<engine::ResultStream>> Write() {
    Cursor c(t_);
    if (c.Accept("INSERT")) return Insert(c);
    if (c.Accept("UPDATE")) return Update(c);
    if (c.AcceptAll({"DELETE", "FROM"})) return Delete(c);
    if (c.Accept("TRUNCATE")) {
      c.Accept("TABLE");
      auto name = detail::ReadQualifiedName(t_, c.pos());
      if (!name) return std::unique_ptr<engine::ResultStream>();
      TARN_ASSIGN_OR_RETURN(auto target, WriteTarget(*name, "TRUNCATE", true));
      if (!target) return std::unique_ptr<engine::ResultStream>();
      c.set_pos(name->end_token);
      TARN_RETURN_IF_ERROR(c.ExpectEnd());
      if (in_transaction_) {
        TARN_ASSIGN_OR_RETURN(auto* staged, Stage(*target));
        TARN_RETURN_IF_ERROR(MakeWholeTable(*staged));
        TARN_RETURN_IF_ERROR(session_.engine().Execute("DELETE FROM " + staged->buffer).status());
        staged->dirty = true;
        return Done();
      }
      TARN_RETURN_IF_ERROR(warehouse_.writer().Delete(target->location, "").status());
      return Done();
    }
    if (c.Accept("VACUUM")) return Vacuum(c);
    if (c.Accept("RESTORE")) return Restore(c);
    if (c.AcceptAll({"MERGE", "INTO"})) return Merge(c);
    if (c.AcceptAll({"COPY", "INTO"})) return CopyInto(c);
    if (c.Accept("OPTIMIZE")) return Optimize(c);
    return std::unique_ptr<engine::ResultStream>();
  }

  // OPTIMIZE table [WHERE partition_predicate] [ZORDER BY (col, ...)]: bin-packing through the Delta writer; answers
  // the table path and the file metrics, as Databricks does.
  Result<std::unique_ptr<engine::ResultStream>> Optimize(Cursor& c) {
    auto name = detail::ReadQualifiedName(t_, c.pos());
    if (!name) return std::unique_ptr<engine::ResultStream>();
    TARN_ASSIGN_OR_RETURN(auto target, WriteTarget(*name, "OPTIMIZE"));
    if (!target) return std::unique_ptr<engine::ResultStream>();
    c.set_pos(name->end_token);
    engine::DeltaOptimize request;
    if (c.Accept("WHERE")) {
      size_t end = FindTopLevel(c.pos(), {"ZORDER"});
      if (end == c.pos()) return c.SyntaxError("OPTIMIZE WHERE needs a predicate");
      TARN_ASSIGN_OR_RETURN(request.partition_predicate, ResolveRange(c.pos(), std::min(end, t_.size())));
      c.set_pos(std::min(end, t_.size()));
    }
    if (c.AcceptAll({"ZORDER", "BY"})) {
      bool parenthesized = c.AcceptSymbol("(");
      while (true) {
        TARN_ASSIGN_OR_RETURN(auto column, c.Name());
        request.zorder_by.push_back(column.parts.back());
        if (!c.AcceptSymbol(",")) break;
      }
      if (parenthesized) TARN_RETURN_IF_ERROR(c.ExpectSymbol(")"));
    }
    TARN_RETURN_IF_ERROR(c.ExpectEnd());
    TARN_ASSIGN_OR_RETURN(auto result, warehouse_.writer().Optimize(target->location, request));
    std::string metrics = "{'numFilesAdded': " + std::to_string(result.num_added_files) +
                          ", 'numFilesRemoved': " + std::to_string(result.num_removed_files) + "}";
    return RowsResult({{"path", "VARCHAR"}, {"metrics", "STRUCT(numFilesAdded BIGINT, numFilesRemoved BIGINT)"}},
                      {{target->location, metrics}});
  }

  Result<std::unique_ptr<engine::ResultStream>> Insert(Cursor& c) {
    bool overwrite = false;
    if (c.Accept("OVERWRITE")) overwrite = true;
    else if (!c.Accept("INTO")) return std::unique_ptr<engine::ResultStream>();
    c.Accept("TABLE");
    auto name = detail::ReadQualifiedName(t_, c.pos());
    if (!name) return std::unique_ptr<engine::ResultStream>();
    TARN_ASSIGN_OR_RETURN(auto target, WriteTarget(*name, "INSERT", true));
    if (!target) return std::unique_ptr<engine::ResultStream>();
    Session::Transaction::Table* staged = nullptr;
    if (in_transaction_) {
      TARN_ASSIGN_OR_RETURN(staged, Stage(*target));
    }
    c.set_pos(name->end_token);
    std::vector<std::string> columns;
    bool by_name = false;
    std::string replace_where;
    if (c.Peek() != nullptr && c.Peek()->IsSymbol("(") && c.Peek(1) != nullptr && c.Peek(1)->IsName() &&
        !c.Is("SELECT", 1) && !c.Is("WITH", 1) && !c.Is("VALUES", 1) && !c.Is("FROM", 1)) {
      c.AcceptSymbol("(");
      while (true) {
        TARN_ASSIGN_OR_RETURN(auto col, c.Name());
        columns.push_back(col.parts.back());
        if (c.AcceptSymbol(",")) continue;
        TARN_RETURN_IF_ERROR(c.ExpectSymbol(")"));
        break;
      }
    }
    if (c.AcceptAll({"BY", "NAME"})) by_name = true;
    if (c.AcceptAll({"REPLACE", "WHERE"})) {
      size_t query = FindTopLevel(c.pos(), {"SELECT", "WITH", "VALUES", "TABLE", "FROM"});
      if (query == c.pos() || query >= t_.size()) return c.SyntaxError("REPLACE WHERE needs a predicate and a query");
      TARN_ASSIGN_OR_RETURN(replace_where, ResolveRange(c.pos(), query));
      c.set_pos(query);
      overwrite = true;
    }
    if (c.AtEnd()) return c.SyntaxError("INSERT needs VALUES or a query");
    bool values = c.Is("VALUES") && !by_name;
    std::string query;
    if (values && staged == nullptr) {
      TARN_ASSIGN_OR_RETURN(query, TypedValues(*target, c.pos(), columns));
    } else {
      TARN_ASSIGN_OR_RETURN(query, ResolveRange(c.pos(), t_.size()));
    }
    if (c.Is("VALUES")) query = "SELECT * FROM (" + query + ")";
    if (!by_name) {
      if (columns.empty() && staged != nullptr) columns = staged->columns;
      if (columns.empty()) {
        TARN_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(*target));
        for (const auto& f : snapshot->schema().fields()) columns.push_back(f.name);
      }
      std::string list;
      for (const auto& col : columns) list += (list.empty() ? "" : ", ") + QuoteSqlIdentifier(col);
      query = "SELECT * FROM (" + query + ") AS __tarn_source(" + list + ")";
    }
    if (staged != nullptr) {
      // Staged: the rows go to the transaction's buffer (cast to the table's column types); COMMIT writes them.
      if (overwrite) {
        TARN_RETURN_IF_ERROR(MakeWholeTable(*staged));
        std::string clear = "DELETE FROM " + staged->buffer;
        if (!replace_where.empty()) clear += " WHERE COALESCE((" + replace_where + "), false)";
        TARN_RETURN_IF_ERROR(session_.engine().Execute(clear).status());
      }
      if (!values) TARN_RETURN_IF_ERROR(CheckStagedTypes(*staged, query));
      TARN_ASSIGN_OR_RETURN(int64_t inserted, EngineCount("INSERT INTO " + staged->buffer + " BY NAME " + query));
      staged->dirty = true;
      return CountsResult({{"num_affected_rows", inserted}, {"num_inserted_rows", inserted}});
    }
    engine::DeltaWrite request;
    request.mode = overwrite ? engine::DeltaWrite::Mode::kOverwrite : engine::DeltaWrite::Mode::kAppend;
    request.source_query = query;
    request.cast_to_table_types = values;  // VALUES literals take the column types (Spark's inline tables)
    request.replace_where = replace_where;
    TARN_ASSIGN_OR_RETURN(auto result, warehouse_.writer().Write(target->location, request));
    return CountsResult({{"num_affected_rows", result.num_output_rows}, {"num_inserted_rows", result.num_output_rows}});
  }

  // INSERT ... VALUES from `values_token` (at VALUES): string literals in a column whose table type is not a string
  // (extended-protocol parameters of unknown type arrive that way, PostgreSQL's "unknown" literals) are cast to the
  // column's type when every one of them converts, else kSchemaMismatch naming the column. Returns the resolved text.
  Result<std::string> TypedValues(const catalog::TableInfo& target, size_t values_token,
                                  const std::vector<std::string>& explicit_columns) {
    std::map<size_t, std::string> replacements;  // token index -> text
    auto groups = SplitTopLevel(values_token + 1, t_.size());
    std::vector<std::vector<std::pair<size_t, size_t>>> rows;
    for (auto [a, b] : groups) {
      if (b - a < 2 || !t_[a].IsSymbol("(") || !t_[b - 1].IsSymbol(")")) return ResolveRange(values_token, t_.size());
      rows.push_back(SplitTopLevel(a + 1, b - 1));
    }
    if (rows.empty()) return ResolveRange(values_token, t_.size());
    TARN_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(target));
    std::vector<const delta::StructField*> fields;
    if (explicit_columns.empty()) {
      for (const auto& f : snapshot->schema().fields()) fields.push_back(&f);
    } else {
      for (const auto& name : explicit_columns) fields.push_back(snapshot->schema().FindField(name));
    }
    for (size_t k = 0; k < fields.size(); k++) {
      const delta::StructField* field = fields[k];
      if (field == nullptr || field->type->kind() == delta::TypeKind::kString) continue;
      std::vector<size_t> literals;
      bool only_literals = true;
      for (const auto& cells : rows) {
        if (k >= cells.size()) {
          only_literals = false;
          break;
        }
        auto [a, b] = cells[k];
        if (b - a == 1 && t_[a].kind == TokenKind::kString) {
          literals.push_back(a);
        } else if (!(b - a == 1 && t_[a].Is("NULL"))) {
          only_literals = false;
        }
      }
      if (!only_literals || literals.empty()) continue;
      std::string type = engine::DuckTypeOf(*field->type);
      std::string check = "SELECT CAST(bool_and(TRY_CAST(v AS " + type + ") IS NOT NULL) AS BIGINT) FROM (VALUES ";
      for (size_t i = 0; i < literals.size(); i++) {
        check += (i > 0 ? ", (" : "(") + QuoteSqlString(t_[literals[i]].value) + ")";
      }
      TARN_ASSIGN_OR_RETURN(int64_t all_convert, EngineCount(check + ") AS __tarn_values(v)"));
      if (all_convert == 0) {
        return Error(ErrorCode::kSchemaMismatch, "cannot write a string into column `{}` of type {} of {}",
                     field->name, field->type->ToString(), target.full_name());
      }
      for (size_t index : literals) {
        replacements[index] = "CAST(" + QuoteSqlString(t_[index].value) + " AS " + type + ")";
      }
    }
    if (replacements.empty()) return ResolveRange(values_token, t_.size());
    std::string text;
    size_t pos = t_[values_token].begin;
    for (const auto& [index, replacement] : replacements) {
      text += script_.substr(pos, t_[index].begin - pos);
      text += replacement;
      pos = t_[index].end;
    }
    text += script_.substr(pos, t_.back().end - pos);
    std::vector<Token> tokens = detail::Tokenize(text);
    return detail::ResolveNames(text, tokens, catalog_, Context(), detail::LatestLogVersion, 0, OverlayOf(&txn_));
  }

  // Reads an optional `[AS] alias` after the target of DELETE FROM / UPDATE (stops at WHERE / SET).
  std::optional<std::string> TargetAlias(Cursor& c) {
    bool as = c.Accept("AS");
    const Token* t = c.Peek();
    if (t == nullptr || !t->IsName()) return std::nullopt;
    if (!as && t->kind == TokenKind::kWord && (t->Is("WHERE") || t->Is("SET"))) return std::nullopt;
    c.set_pos(c.pos() + 1);
    return t->value;
  }

  // Resolves tokens [a, b) after removing the `alias.` qualifier from column references (the writer evaluates
  // predicates and SET expressions over the table's own columns).
  Result<std::string> ResolveUnqualified(size_t a, size_t b, const std::optional<std::string>& alias) {
    if (!alias || a >= b) return ResolveRange(a, b);
    std::string wanted = catalog::NormalizeName(*alias);
    std::string text;
    size_t pos = t_[a].begin;
    for (size_t i = a; i < b; i++) {
      bool qualifier = t_[i].IsName() && catalog::NormalizeName(t_[i].value) == wanted && i + 1 < b && t_[i + 1].IsSymbol(".") && !t_[i + 1].space_before &&
                       (i == a || !t_[i - 1].IsSymbol("."));
      if (!qualifier) continue;
      text += script_.substr(pos, t_[i].begin - pos);
      pos = t_[i + 1].end;
      i++;
    }
    text += script_.substr(pos, t_[b - 1].end - pos);
    std::vector<Token> tokens = detail::Tokenize(text);
    return detail::ResolveNames(text, tokens, catalog_, Context(), detail::LatestLogVersion, 0, OverlayOf(&txn_));
  }

  Result<std::unique_ptr<engine::ResultStream>> Delete(Cursor& c) {
    auto name = detail::ReadQualifiedName(t_, c.pos());
    if (!name) return std::unique_ptr<engine::ResultStream>();
    TARN_ASSIGN_OR_RETURN(auto target, WriteTarget(*name, "DELETE", true));
    if (!target) return std::unique_ptr<engine::ResultStream>();
    c.set_pos(name->end_token);
    std::optional<std::string> alias = TargetAlias(c);
    if (!c.AtEnd() && !c.Is("WHERE")) return c.SyntaxError("expected WHERE");
    bool has_where = c.Accept("WHERE");
    if (has_where && c.AtEnd()) return c.SyntaxError("WHERE needs a condition");
    if (in_transaction_) {
      // Staged: the statement runs on the transaction's copy of the table.
      TARN_ASSIGN_OR_RETURN(auto* staged, Stage(*target));
      TARN_RETURN_IF_ERROR(MakeWholeTable(*staged));
      std::string sql = "DELETE FROM " + staged->buffer + " AS " + QuoteSqlIdentifier(alias.value_or(name->parts.back()));
      if (has_where) {
        TARN_ASSIGN_OR_RETURN(std::string predicate, ResolveRange(c.pos(), t_.size()));
        sql += " WHERE " + predicate;
      }
      TARN_ASSIGN_OR_RETURN(int64_t deleted, EngineCount(sql));
      staged->dirty = true;
      return CountsResult({{"num_affected_rows", deleted}});
    }
    std::string predicate;
    if (has_where) {
      TARN_ASSIGN_OR_RETURN(predicate, ResolveUnqualified(c.pos(), t_.size(), alias.value_or(name->parts.back())));
    }
    TARN_ASSIGN_OR_RETURN(auto result, warehouse_.writer().Delete(target->location, predicate));
    return CountsResult({{"num_affected_rows", result.num_deleted_rows}});
  }

  Result<std::unique_ptr<engine::ResultStream>> Update(Cursor& c) {
    auto name = detail::ReadQualifiedName(t_, c.pos());
    if (!name) return std::unique_ptr<engine::ResultStream>();
    TARN_ASSIGN_OR_RETURN(auto target, WriteTarget(*name, "UPDATE", true));
    if (!target) return std::unique_ptr<engine::ResultStream>();
    c.set_pos(name->end_token);
    std::optional<std::string> alias = TargetAlias(c);
    TARN_RETURN_IF_ERROR(c.Expect("SET"));
    size_t where = FindTopLevel(c.pos(), {"WHERE"});
    std::vector<engine::DeltaAssignment> assignments;
    // In a transaction the statement runs on the staged copy, where the alias (or the table name) qualifies columns.
    std::optional<std::string> strip =
        in_transaction_ ? std::nullopt : std::optional<std::string>(alias.value_or(name->parts.back()));
    size_t i = c.pos();
    while (i < where) {
      auto column = detail::ReadQualifiedName(t_, i);
      if (!column || column->end_token >= where || !t_[column->end_token].IsSymbol("=")) {
        return Error(ErrorCode::kSyntaxError, "syntax error in UPDATE: expected column = expression");
      }
      size_t expr = column->end_token + 1;
      size_t end = expr;
      int depth = 0;
      for (; end < where; end++) {
        if (t_[end].IsSymbol("(") || t_[end].IsSymbol("[")) depth++;
        if (t_[end].IsSymbol(")") || t_[end].IsSymbol("]")) depth--;
        if (depth == 0 && t_[end].IsSymbol(",")) break;
      }
      if (end == expr) return Error(ErrorCode::kSyntaxError, "syntax error in UPDATE: missing expression");
      TARN_ASSIGN_OR_RETURN(std::string value, ResolveUnqualified(expr, end, strip));
      assignments.emplace_back(column->parts.back(), value);
      i = end < where ? end + 1 : end;
    }
    if (assignments.empty()) return Error(ErrorCode::kSyntaxError, "UPDATE needs SET column = expression");
    std::string predicate;
    if (where < t_.size()) {
      if (where + 1 >= t_.size()) return Error(ErrorCode::kSyntaxError, "WHERE needs a condition");
      TARN_ASSIGN_OR_RETURN(predicate, ResolveUnqualified(where + 1, t_.size(), strip));
    }
    if (in_transaction_) {
      TARN_ASSIGN_OR_RETURN(auto* staged, Stage(*target));
      TARN_RETURN_IF_ERROR(MakeWholeTable(*staged));
      std::string sql = "UPDATE " + staged->buffer + " AS " + QuoteSqlIdentifier(alias.value_or(name->parts.back())) +
                        " SET ";
      for (size_t k = 0; k < assignments.size(); k++) {
        sql += (k > 0 ? ", " : "") + QuoteSqlIdentifier(assignments[k].first) + " = " + assignments[k].second;
      }
      if (!predicate.empty()) sql += " WHERE " + predicate;
      TARN_ASSIGN_OR_RETURN(int64_t updated, EngineCount(sql));
      staged->dirty = true;
      return CountsResult({{"num_affected_rows", updated}});
    }
    TARN_ASSIGN_OR_RETURN(auto result, warehouse_.writer().Update(target->location, assignments, predicate));
    return CountsResult({{"num_affected_rows", result.num_updated_rows}});
  }

  // Splits [a, b) at top-level commas.
  std::vector<std::pair<size_t, size_t>> SplitTopLevel(size_t a, size_t b) const {
    std::vector<std::pair<size_t, size_t>> out;
    int depth = 0;
    size_t start = a;
    for (size_t i = a; i < b; i++) {
      if (t_[i].IsSymbol("(") || t_[i].IsSymbol("[") || t_[i].IsSymbol("{")) depth++;
      if (t_[i].IsSymbol(")") || t_[i].IsSymbol("]") || t_[i].IsSymbol("}")) depth--;
      if (depth == 0 && t_[i].IsSymbol(",")) {
        out.emplace_back(start, i);
        start = i + 1;
      }
    }
    if (start < b) out.emplace_back(start, b);
    return out;
  }

  // SET a = expr, t.b = expr over [a, b).
  Result<std::vector<engine::DeltaAssignment>> ReadAssignments(size_t a, size_t b) {
    std::vector<engine::DeltaAssignment> out;
    for (auto [first, end] : SplitTopLevel(a, b)) {
      auto column = detail::ReadQualifiedName(t_, first);
      if (!column || column->end_token >= end || !t_[column->end_token].IsSymbol("=") ||
          column->end_token + 1 >= end) {
        return Error(ErrorCode::kSyntaxError, "syntax error: expected column = expression near '{}'",
                     first < t_.size() ? t_[first].value : std::string("end of input"));
      }
      TARN_ASSIGN_OR_RETURN(std::string value, ResolveRange(column->end_token + 1, end));
      out.emplace_back(column->parts.back(), value);
    }
    if (out.empty()) return Error(ErrorCode::kSyntaxError, "SET needs column = expression");
    return out;
  }

  // Reads an optional alias ([AS] name) at the cursor, unless the next word is one of `stop`.
  std::optional<std::string> ReadAlias(Cursor& c, std::initializer_list<std::string_view> stop) {
    bool as = c.Accept("AS");
    const Token* t = c.Peek();
    if (t == nullptr || !t->IsName()) return std::nullopt;
    if (!as && t->kind == TokenKind::kWord) {
      for (auto w : stop) {
        if (t->Is(w)) return std::nullopt;
      }
    }
    c.set_pos(c.pos() + 1);
    return t->value;
  }

  Result<std::unique_ptr<engine::ResultStream>> Merge(Cursor& c) {
    auto name = detail::ReadQualifiedName(t_, c.pos());
    if (!name) return std::unique_ptr<engine::ResultStream>();
    TARN_ASSIGN_OR_RETURN(auto target, WriteTarget(*name, "MERGE", true));
    if (!target) return std::unique_ptr<engine::ResultStream>();
    c.set_pos(name->end_token);
    engine::DeltaMerge merge;
    merge.target_alias = ReadAlias(c, {"USING"}).value_or(name->parts.back());
    TARN_RETURN_IF_ERROR(c.Expect("USING"));
    if (c.Peek() != nullptr && c.Peek()->IsSymbol("(")) {
      size_t open = c.pos();
      int depth = 0;
      size_t close = open;
      for (; close < t_.size(); close++) {
        if (t_[close].IsSymbol("(")) depth++;
        if (t_[close].IsSymbol(")") && --depth == 0) break;
      }
      if (close >= t_.size()) return c.SyntaxError("unbalanced parentheses in the MERGE source");
      TARN_ASSIGN_OR_RETURN(merge.source_query, ResolveRange(open + 1, close));
      c.set_pos(close + 1);
      auto alias = ReadAlias(c, {"ON"});
      if (!alias) return Error(ErrorCode::kSyntaxError, "a MERGE source subquery needs an alias");
      merge.source_alias = *alias;
    } else {
      auto source = detail::ReadQualifiedName(t_, c.pos());
      if (!source) return c.SyntaxError("expected the MERGE source table or (query)");
      size_t end = source->end_token;
      // Time travel on the source table: VERSION AS OF n / TIMESTAMP AS OF 'ts' / @vN.
      while (end < t_.size() && !t_[end].Is("ON") && !t_[end].Is("AS") &&
             (t_[end].Is("VERSION") || t_[end].Is("TIMESTAMP") || t_[end].Is("FOR") || t_[end].Is("OF") ||
              t_[end].IsSymbol("@") || (end > source->end_token && (t_[end - 1].Is("OF") || t_[end - 1].IsSymbol("@"))))) {
        end++;
      }
      std::vector<Token> query_tokens = detail::Tokenize("SELECT * FROM " + Slice(source->first_token, end));
      std::string query_text = "SELECT * FROM " + Slice(source->first_token, end);
      TARN_ASSIGN_OR_RETURN(merge.source_query, detail::ResolveNames(query_text, query_tokens, catalog_, Context(),
                                                                     detail::LatestLogVersion, 0, OverlayOf(&txn_)));
      c.set_pos(end);
      merge.source_alias = ReadAlias(c, {"ON"}).value_or(source->parts.back());
    }
    TARN_RETURN_IF_ERROR(c.Expect("ON"));
    size_t on_end = FindTopLevel(c.pos(), {"WHEN"});
    if (on_end == c.pos()) return c.SyntaxError("MERGE needs an ON condition");
    TARN_ASSIGN_OR_RETURN(merge.on, ResolveRange(c.pos(), on_end));
    size_t i = on_end;
    if (i >= t_.size()) return c.SyntaxError("MERGE needs at least one WHEN clause");
    while (i < t_.size()) {
      size_t next = FindTopLevel(i + 1, {"WHEN"});
      Cursor w(t_);
      w.set_pos(i + 1);
      enum { kMatched, kNotMatched, kNotMatchedBySource } kind;
      if (w.Accept("MATCHED")) {
        kind = kMatched;
      } else if (w.AcceptAll({"NOT", "MATCHED"})) {
        kind = kNotMatched;
        if (w.AcceptAll({"BY", "SOURCE"})) kind = kNotMatchedBySource;
        else w.AcceptAll({"BY", "TARGET"});
      } else {
        return w.SyntaxError("expected MATCHED or NOT MATCHED");
      }
      engine::DeltaMergeClause clause;
      if (w.Accept("AND")) {
        size_t then = FindTopLevel(w.pos(), {"THEN"});
        if (then >= next) return w.SyntaxError("expected THEN");
        TARN_ASSIGN_OR_RETURN(clause.condition, ResolveRange(w.pos(), then));
        w.set_pos(then);
      }
      TARN_RETURN_IF_ERROR(w.Expect("THEN"));
      if (w.Accept("DELETE")) {
        if (kind == kNotMatched) return w.SyntaxError("WHEN NOT MATCHED takes INSERT");
        clause.action = engine::DeltaMergeClause::Action::kDelete;
      } else if (w.AcceptAll({"UPDATE", "SET"})) {
        if (kind == kNotMatched) return w.SyntaxError("WHEN NOT MATCHED takes INSERT");
        clause.action = engine::DeltaMergeClause::Action::kUpdate;
        if (w.AcceptSymbol("*")) {
          clause.star = true;
        } else {
          TARN_ASSIGN_OR_RETURN(clause.assignments, ReadAssignments(w.pos(), next));
          w.set_pos(next);
        }
      } else if (w.Accept("INSERT")) {
        if (kind != kNotMatched) return w.SyntaxError("INSERT belongs to WHEN NOT MATCHED");
        clause.action = engine::DeltaMergeClause::Action::kInsert;
        if (w.AcceptSymbol("*")) {
          clause.star = true;
        } else {
          std::vector<std::string> columns;
          TARN_RETURN_IF_ERROR(w.ExpectSymbol("("));
          while (true) {
            TARN_ASSIGN_OR_RETURN(auto col, w.Name());
            columns.push_back(col.parts.back());
            if (w.AcceptSymbol(",")) continue;
            TARN_RETURN_IF_ERROR(w.ExpectSymbol(")"));
            break;
          }
          TARN_RETURN_IF_ERROR(w.Expect("VALUES"));
          size_t open = w.pos();
          if (open >= next || !t_[open].IsSymbol("(") || !t_[next - 1].IsSymbol(")")) {
            return w.SyntaxError("expected VALUES (...)");
          }
          auto values = SplitTopLevel(open + 1, next - 1);
          if (values.size() != columns.size()) {
            return Error(ErrorCode::kSyntaxError, "MERGE INSERT lists {} columns but {} values", columns.size(),
                         values.size());
          }
          for (size_t k = 0; k < columns.size(); k++) {
            TARN_ASSIGN_OR_RETURN(std::string value, ResolveRange(values[k].first, values[k].second));
            clause.assignments.emplace_back(columns[k], value);
          }
          w.set_pos(next);
        }
      } else {
        return w.SyntaxError("expected UPDATE, DELETE or INSERT");
      }
      if (w.pos() != next) return w.SyntaxError("unexpected text in the WHEN clause");
      if (kind == kMatched) merge.when_matched.push_back(std::move(clause));
      else if (kind == kNotMatched) merge.when_not_matched.push_back(std::move(clause));
      else merge.when_not_matched_by_source.push_back(std::move(clause));
      i = next;
    }
    if (in_transaction_) return StagedMerge(*target, merge);
    TARN_ASSIGN_OR_RETURN(auto result, warehouse_.writer().Merge(target->location, merge));
    return CountsResult({{"num_affected_rows", result.num_updated_rows + result.num_deleted_rows +
                                                   result.num_inserted_rows},
                         {"num_updated_rows", result.num_updated_rows},
                         {"num_deleted_rows", result.num_deleted_rows},
                         {"num_inserted_rows", result.num_inserted_rows}});
  }

  // MERGE inside a client transaction: DuckDB's MERGE INTO on the transaction's copy of the table.
  Result<std::unique_ptr<engine::ResultStream>> StagedMerge(const catalog::TableInfo& target,
                                                           const engine::DeltaMerge& merge) {
    TARN_ASSIGN_OR_RETURN(auto* staged, Stage(target));
    TARN_RETURN_IF_ERROR(MakeWholeTable(*staged));
    std::string source = QuoteSqlIdentifier(merge.source_alias);
    auto action = [&](const engine::DeltaMergeClause& clause) -> std::string {
      std::string out;
      if (!clause.condition.empty()) out += " AND (" + clause.condition + ")";
      out += " THEN ";
      switch (clause.action) {
        case engine::DeltaMergeClause::Action::kDelete:
          return out + "DELETE";
        case engine::DeltaMergeClause::Action::kUpdate: {
          out += "UPDATE SET ";
          if (clause.star) {
            for (size_t k = 0; k < staged->columns.size(); k++) {
              std::string col = QuoteSqlIdentifier(staged->columns[k]);
              out += (k > 0 ? ", " : "") + col + " = " + source + "." + col;
            }
          } else {
            for (size_t k = 0; k < clause.assignments.size(); k++) {
              out += (k > 0 ? ", " : "") + QuoteSqlIdentifier(clause.assignments[k].first) + " = " +
                     clause.assignments[k].second;
            }
          }
          return out;
        }
        case engine::DeltaMergeClause::Action::kInsert: {
          std::string columns, values;
          if (clause.star) {
            for (const auto& c : staged->columns) {
              columns += (columns.empty() ? "" : ", ") + QuoteSqlIdentifier(c);
              values += (values.empty() ? "" : ", ") + source + "." + QuoteSqlIdentifier(c);
            }
          } else {
            for (const auto& [c, v] : clause.assignments) {
              columns += (columns.empty() ? "" : ", ") + QuoteSqlIdentifier(c);
              values += (values.empty() ? "" : ", ") + v;
            }
          }
          return out + "INSERT (" + columns + ") VALUES (" + values + ")";
        }
      }
      return out;
    };
    std::string sql = "MERGE INTO " + staged->buffer + " AS " + QuoteSqlIdentifier(merge.target_alias) + " USING (" +
                      merge.source_query + ") AS " + source + " ON " + merge.on;
    for (const auto& clause : merge.when_matched) sql += " WHEN MATCHED" + action(clause);
    for (const auto& clause : merge.when_not_matched) sql += " WHEN NOT MATCHED" + action(clause);
    for (const auto& clause : merge.when_not_matched_by_source) sql += " WHEN NOT MATCHED BY SOURCE" + action(clause);
    sql += " RETURNING merge_action";
    TARN_ASSIGN_OR_RETURN(auto stream, session_.engine().Execute(sql));
    int64_t updated = 0, deleted = 0, inserted = 0;
    while (true) {
      TARN_ASSIGN_OR_RETURN(auto chunk, stream->Next());
      if (!chunk) break;
      for (size_t row = 0; row < chunk->num_rows(); row++) {
        std::string_view kind = chunk->GetString(0, row);
        if (kind == "UPDATE") updated++;
        else if (kind == "DELETE") deleted++;
        else if (kind == "INSERT") inserted++;
      }
    }
    stream.reset();
    staged->dirty = true;
    return CountsResult({{"num_affected_rows", updated + deleted + inserted},
                         {"num_updated_rows", updated},
                         {"num_deleted_rows", deleted},
                         {"num_inserted_rows", inserted}});
  }

  // COPY INTO t FROM 'path' FILEFORMAT = CSV|JSON|PARQUET [FILES = (...)] [PATTERN = 'glob']
  // [FORMAT_OPTIONS (...)] [COPY_OPTIONS ('mergeSchema' = 'true')]. Each source file is appended in its own
  // idempotent commit (Delta txn app id = file path, size and mtime), so a file already loaded is skipped.
  Result<std::unique_ptr<engine::ResultStream>> CopyInto(Cursor& c) {
    auto name = detail::ReadQualifiedName(t_, c.pos());
    if (!name) return std::unique_ptr<engine::ResultStream>();
    TARN_ASSIGN_OR_RETURN(auto target, WriteTarget(*name, "COPY INTO"));
    if (!target) return std::unique_ptr<engine::ResultStream>();
    c.set_pos(name->end_token);
    TARN_RETURN_IF_ERROR(c.Expect("FROM"));
    TARN_ASSIGN_OR_RETURN(std::string source, c.String());
    TARN_ASSIGN_OR_RETURN(std::string root, catalog_.ResolveLocation(source));
    std::string format;
    std::optional<std::vector<std::string>> files;
    std::optional<std::string> pattern;
    catalog::Properties format_options;
    catalog::Properties copy_options;
    while (!c.AtEnd()) {
      if (c.Accept("FILEFORMAT")) {
        TARN_RETURN_IF_ERROR(c.ExpectSymbol("="));
        TARN_ASSIGN_OR_RETURN(auto f, c.Name());
        format = catalog::NormalizeName(f.parts.back());
      } else if (c.Accept("FILES")) {
        TARN_RETURN_IF_ERROR(c.ExpectSymbol("="));
        TARN_ASSIGN_OR_RETURN(auto list, ReadKeyList(c));
        files = list;
      } else if (c.Accept("PATTERN")) {
        TARN_RETURN_IF_ERROR(c.ExpectSymbol("="));
        TARN_ASSIGN_OR_RETURN(std::string p, c.String());
        pattern = p;
      } else if (c.Accept("FORMAT_OPTIONS")) {
        TARN_ASSIGN_OR_RETURN(format_options, ReadProperties(c));
      } else if (c.Accept("COPY_OPTIONS")) {
        TARN_ASSIGN_OR_RETURN(copy_options, ReadProperties(c));
      } else {
        return c.SyntaxError("unexpected text in COPY INTO");
      }
    }
    if (format != "csv" && format != "json" && format != "parquet") {
      return Error(ErrorCode::kInvalidParameterValue, "COPY INTO needs FILEFORMAT = CSV, JSON or PARQUET");
    }
    // The source files, sorted: one file, the FILES list, or the directory's files (hidden ones skipped).
    std::vector<std::string> paths;
    std::error_code ec;
    if (files) {
      for (const auto& f : *files) paths.push_back(root + "/" + f);
    } else if (fs::is_regular_file(root, ec)) {
      paths.push_back(root);
    } else if (fs::is_directory(root, ec)) {
      for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        std::string file = it->path().filename().string();
        if (file.starts_with("_") || file.starts_with(".")) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (!it->is_regular_file()) continue;
        std::string relative = fs::relative(it->path(), root).string();
        if (pattern && !MatchesPattern(*pattern, relative) && !MatchesPattern(*pattern, file)) continue;
        paths.push_back(it->path().string());
      }
    } else {
      return Error(ErrorCode::kResourceDoesNotExist, "COPY INTO: no such file or directory: {}", source);
    }
    std::sort(paths.begin(), paths.end());
    auto option = [&](const std::string& key) -> std::optional<std::string> {
      for (const auto& [k, v] : format_options) {
        if (catalog::NormalizeName(k) == catalog::NormalizeName(key)) return v;
      }
      return std::nullopt;
    };
    engine::DeltaWriteOptions options;
    for (const auto& [k, v] : copy_options) {
      if (catalog::NormalizeName(k) == "mergeschema") options.merge_schema = catalog::NormalizeName(v) == "true";
    }
    int64_t inserted = 0;
    for (const auto& path : paths) {
      if (!fs::is_regular_file(path, ec)) {
        return Error(ErrorCode::kResourceDoesNotExist, "COPY INTO: no such file: {}", path);
      }
      std::string read;
      if (format == "csv") {
        read = "read_csv(" + QuoteSqlString(path) + ", header = " +
               (catalog::NormalizeName(option("header").value_or("false")) == "true" ? "true" : "false");
        if (auto sep = option("sep") ? option("sep") : option("delimiter")) read += ", delim = " + QuoteSqlString(*sep);
        read += ")";
      } else if (format == "json") {
        read = "read_json_auto(" + QuoteSqlString(path) + ")";
      } else {
        read = "read_parquet(" + QuoteSqlString(path) + ")";
      }
      auto size = fs::file_size(path, ec);
      auto mtime = fs::last_write_time(path, ec).time_since_epoch().count();
      options.app_id = "tarn.copy_into:" + path + "#" + std::to_string(size) + "#" + std::to_string(mtime);
      options.app_version = 0;
      engine::DeltaWrite write;
      write.source_query = "SELECT * FROM " + read;
      TARN_ASSIGN_OR_RETURN(auto result, warehouse_.writer().Write(target->location, write, options));
      if (!result.skipped) inserted += result.num_output_rows;
    }
    return CountsResult({{"num_affected_rows", inserted}, {"num_inserted_rows", inserted},
                         {"num_skipped_corrupt_files", 0}});
  }

  Result<std::unique_ptr<engine::ResultStream>> Vacuum(Cursor& c) {
    auto name = detail::ReadQualifiedName(t_, c.pos());
    if (!name) return std::unique_ptr<engine::ResultStream>();
    TARN_ASSIGN_OR_RETURN(auto target, WriteTarget(*name, "VACUUM"));
    if (!target) return std::unique_ptr<engine::ResultStream>();
    c.set_pos(name->end_token);
    delta::VacuumOptions options;
    if (c.Accept("RETAIN")) {
      const Token* n = c.Peek();
      if (n == nullptr || n->kind != TokenKind::kNumber) return c.SyntaxError("RETAIN expects a number of hours");
      double hours = std::stod(n->value);
      c.set_pos(c.pos() + 1);
      TARN_RETURN_IF_ERROR(c.Expect("HOURS"));
      options.retention_millis = static_cast<int64_t>(hours * 3600.0 * 1000.0);
    }
    if (c.AcceptAll({"DRY", "RUN"})) options.dry_run = true;
    TARN_RETURN_IF_ERROR(c.ExpectEnd());
    TARN_ASSIGN_OR_RETURN(auto opened, OpenDelta(target->location, false));
    TARN_ASSIGN_OR_RETURN(auto result, delta::Vacuum(*opened.table, options));
    Rows rows;
    if (options.dry_run) {
      for (const auto& f : result.files) rows.push_back({target->location + "/" + f});
    } else {
      rows.push_back({target->location});
    }
    return RowsResult({{"path", "VARCHAR"}}, rows);
  }

  Result<std::unique_ptr<engine::ResultStream>> Restore(Cursor& c) {
    c.Accept("TABLE");
    auto name = detail::ReadQualifiedName(t_, c.pos());
    if (!name) return std::unique_ptr<engine::ResultStream>();
    TARN_ASSIGN_OR_RETURN(auto target, WriteTarget(*name, "RESTORE"));
    if (!target) return std::unique_ptr<engine::ResultStream>();
    c.set_pos(name->end_token);
    c.Accept("TO");
    delta::RestoreTarget restore;
    if (c.AcceptAll({"VERSION", "AS", "OF"})) {
      const Token* n = c.Peek();
      if (n == nullptr || n->kind != TokenKind::kNumber || n->value.find_first_not_of("0123456789") != std::string::npos) {
        return c.SyntaxError("VERSION AS OF expects a version number");
      }
      restore.version = std::stoll(n->value);
      c.set_pos(c.pos() + 1);
    } else if (c.AcceptAll({"TIMESTAMP", "AS", "OF"})) {
      c.Accept("TIMESTAMP");
      TARN_ASSIGN_OR_RETURN(std::string ts, c.String());
      TARN_ASSIGN_OR_RETURN(int64_t millis, engine::ParseTimestampMillis(ts));
      restore.timestamp_millis = millis;
    } else {
      return c.SyntaxError("RESTORE needs TO VERSION AS OF n or TO TIMESTAMP AS OF 'ts'");
    }
    TARN_RETURN_IF_ERROR(c.ExpectEnd());
    TARN_ASSIGN_OR_RETURN(auto opened, OpenDelta(target->location, false));
    TARN_RETURN_IF_ERROR(delta::RestoreTable(*opened.table, restore).status());
    return Done();
  }

  Session& session_;
  Warehouse& warehouse_;
  catalog::Catalog& catalog_;
  std::string_view script_;
  const Session::Statement& st_;
  const std::vector<Token>& t_;
  std::string& current_catalog_;
  std::string& current_schema_;
  bool& in_transaction_;
  Session::Transaction& txn_;
};

// ---- Session ----

Session::Session(Warehouse& warehouse, std::unique_ptr<engine::Session> engine, std::string catalog,
                 std::string schema)
    : warehouse_(warehouse),
      engine_(std::move(engine)),
      catalog_(std::move(catalog)),
      schema_(std::move(schema)),
      txn_(std::make_unique<Transaction>()) {}

bool Session::transaction_failed() const { return in_transaction_ && txn_->failed; }

void Session::SetTimestampType(TimestampType type, bool as_default) {
  timestamp_type_ = type;
  if (as_default) default_timestamp_type_ = type;
}

Session::~Session() = default;

Status Session::SetUser(std::string_view user) {
  user_ = std::string(user);
  user_macros_ = false;
  return Status::OK();
}

// The user functions are temporary macros created when a statement first names one (a session that never asks
// pays nothing). Created inside a transaction they may roll back with it, so they count as installed only when
// created outside one.
Status Session::EnsureUserMacros(const std::vector<detail::Token>& tokens) {
  if (user_.empty() || (user_macros_ && !in_transaction_)) return Status::OK();
  bool mentioned = false;
  for (const auto& t : tokens) {
    if (t.Is("CURRENT_USER") || t.Is("SESSION_USER") || t.Is("USER") || t.Is("CURRENT_ROLE")) {
      mentioned = true;
      break;
    }
  }
  if (!mentioned) return Status::OK();
  std::string literal = QuoteSqlString(user_);
  std::string sql;
  for (const char* name : {"current_user", "session_user", "current_role", "\"user\""}) {
    sql += "CREATE OR REPLACE TEMP MACRO " + std::string(name) + "() AS " + literal + ";";
  }
  TARN_ASSIGN_OR_RETURN(auto stream, engine_->Execute(sql));
  stream->Close();
  user_macros_ = !in_transaction_;
  return Status::OK();
}

Status Session::RefreshPgCatalog() {
  if (!pg_catalog_) pg_catalog_ = std::make_unique<detail::PgCatalog>();
  return pg_catalog_->Refresh(*engine_, warehouse_.catalog(), warehouse_.checkpoint_reader(), catalog_, schema_);
}

Status Session::UseCatalog(std::string_view catalog) {
  TARN_ASSIGN_OR_RETURN(auto info, warehouse_.catalog().GetCatalog(catalog));
  catalog_ = info.name;
  schema_ = std::string(catalog::kDefaultSchema);
  return Status::OK();
}

Status Session::UseSchema(std::string_view schema) {
  TARN_ASSIGN_OR_RETURN(auto info, warehouse_.catalog().GetSchema(catalog_, schema));
  schema_ = info.name;
  return Status::OK();
}

void Session::Interrupt() { engine_->Interrupt(); }

Result<std::unique_ptr<engine::ResultStream>> Session::Run(std::string_view script, const Statement& statement) {
  TARN_RETURN_IF_ERROR(EnsureUserMacros(statement.tokens));
  StatementRunner runner(*this, warehouse_, script, statement, catalog_, schema_, in_transaction_, *txn_);
  return runner.Run();
}

Result<std::unique_ptr<engine::ResultStream>> Session::Execute(std::string_view sql) {
  auto statements = detail::SplitStatements(sql);
  if (statements.empty()) return engine_->Execute(sql);
  std::unique_ptr<engine::ResultStream> last;
  for (size_t i = 0; i < statements.size(); i++) {
    Statement st{statements[i].begin, statements[i].end, std::move(statements[i].tokens)};
    last.reset();
    TARN_ASSIGN_OR_RETURN(last, Run(sql, st));
    if (i + 1 < statements.size()) {
      while (true) {
        TARN_ASSIGN_OR_RETURN(auto chunk, last->Next());
        if (!chunk) break;
      }
    }
  }
  return last;
}

Status Session::ExecuteScript(std::string_view sql, const engine::StatementCallback& on_result) {
  auto statements = detail::SplitStatements(sql);
  for (size_t i = 0; i < statements.size(); i++) {
    Statement st{statements[i].begin, statements[i].end, std::move(statements[i].tokens)};
    TARN_ASSIGN_OR_RETURN(auto stream, Run(sql, st));
    Status status = on_result(i, *stream);
    stream->Close();
    TARN_RETURN_IF_ERROR(status);
  }
  return Status::OK();
}

Result<std::string> Session::Translate(std::string_view sql) {
  auto tokens = detail::Tokenize(sql);
  TARN_RETURN_IF_ERROR(EnsureUserMacros(tokens));
  TARN_ASSIGN_OR_RETURN(std::string out,
                        detail::ResolveNames(sql, tokens, warehouse_.catalog(),
                                             {catalog_, schema_, timestamp_type_ == TimestampType::kLtz},
                                             detail::LatestLogVersion,
                                             0, OverlayOf(in_transaction_ ? txn_.get() : nullptr)));
  if (detail::NeedsPgCatalog(tokens)) {  // PostgreSQL clients' catalog queries (pg_catalog.cpp)
    TARN_RETURN_IF_ERROR(RefreshPgCatalog());
    out = detail::RewritePgDialect(out);
  }
  return out;
}

}  // namespace tarn::sql
