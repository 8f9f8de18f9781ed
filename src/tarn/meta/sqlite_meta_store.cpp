// SPDX-License-Identifier: Apache-2.0
// SQLite implementation of MetaStore: connection setup, statement execution, error mapping, transactions.
#include "tarn/meta/sqlite_meta_store.hpp"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace tarn::meta {
namespace {

Status FromSqlite(sqlite3* db, int rc, std::string_view what) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  if ((ext & 0xff) != (rc & 0xff)) ext = rc;  // the handle's code belongs to an older call
  std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  ErrorCode code = ErrorCode::kInternal;
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      code = ErrorCode::kUniqueViolation;
      break;
    case SQLITE_CONSTRAINT_NOTNULL:
      code = ErrorCode::kNotNullViolation;
      break;
    default:
      switch (ext & 0xff) {
        case SQLITE_CONSTRAINT:
          code = ErrorCode::kConstraintViolation;
          break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
          code = ErrorCode::kTemporarilyUnavailable;
          break;
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
        case SQLITE_PERM:
          code = ErrorCode::kIoError;
          break;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
          code = ErrorCode::kCorruptData;
          break;
        case SQLITE_NOMEM:
          code = ErrorCode::kOutOfMemory;
          break;
        default:
          code = ErrorCode::kInternal;
      }
  }
  return Error(code, "metadata store: {}: {}", what, detail);
}

// Owns one sqlite3 handle.
class Connection {
 public:
  Connection() = default;
  ~Connection() {
    if (db_) sqlite3_close_v2(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int busy_timeout_ms, bool reader) {
    auto conn = std::make_unique<Connection>();
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path.c_str(), &conn->db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      Status st = FromSqlite(conn->db_, rc, "opening " + path);
      return st;
    }
    sqlite3_extended_result_codes(conn->db_, 1);
    sqlite3_busy_timeout(conn->db_, busy_timeout_ms);
    // journal_mode=WAL is persistent in the file, but asking on every connection is cheap and self-healing.
    TARN_RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode=WAL").WithContext("opening {}", path));
    TARN_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON"));
    if (reader) TARN_RETURN_IF_ERROR(conn->Exec("PRAGMA query_only=ON"));
    return conn;
  }

  sqlite3* db() const { return db_; }

  Status Exec(std::string_view sql) {
    std::string text(sql);
    char* message = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return Status::OK();
    std::string detail = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    Status st = FromSqlite(db_, rc, "script");
    return Status(st.code(), "metadata store: " + detail);
  }

  // Rolls back a transaction a statement left open (the contract forbids BEGIN/COMMIT outside RunInTransaction).
  Status CheckAutocommit() {
    if (sqlite3_get_autocommit(db_)) return Status::OK();
    Exec("ROLLBACK").IgnoreError();  // best effort: the error below is what the caller needs to see
    return Error(ErrorCode::kInvalidTransactionState,
                 "metadata store: statement left a transaction open; use RunInTransaction instead of BEGIN");
  }

 private:
  sqlite3* db_ = nullptr;
};

// Owns one prepared statement.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() {
    if (stmt_) sqlite3_finalize(stmt_);
  }
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  static Result<Statement> Prepare(sqlite3* db, std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), 0, &stmt, &tail);
    if (rc != SQLITE_OK) return FromSqlite(db, rc, "preparing statement");
    if (stmt == nullptr) return Error(ErrorCode::kInternal, "metadata store: empty SQL statement");
    Statement statement(db, stmt);
    // Anything but whitespace and comments after the statement is a second statement we would silently skip.
    size_t consumed = static_cast<size_t>(tail - sql.data());
    if (consumed < sql.size()) {
      std::string_view rest = sql.substr(consumed);
      sqlite3_stmt* extra = nullptr;
      int extra_rc = sqlite3_prepare_v3(db, rest.data(), static_cast<int>(rest.size()), 0, &extra, nullptr);
      bool has_extra = extra != nullptr || extra_rc != SQLITE_OK;
      if (extra) sqlite3_finalize(extra);
      if (has_extra) {
        return Error(ErrorCode::kInternal,
                     "metadata store: one statement per call (use Transaction::ExecuteScript for scripts): {}", sql);
      }
    }
    return statement;
  }

  bool ReadOnly() const { return sqlite3_stmt_readonly(stmt_) != 0; }

  Status Bind(const Params& params) {
    int expected = sqlite3_bind_parameter_count(stmt_);
    if (expected != static_cast<int>(params.size())) {
      return Error(ErrorCode::kInternal, "metadata store: statement has {} placeholders but {} parameters were given",
                   expected, params.size());
    }
    for (int i = 1; i <= expected; ++i) {
      if (sqlite3_bind_parameter_name(stmt_, i) != nullptr) {
        return Error(ErrorCode::kInternal, "metadata store: use plain '?' placeholders, not '{}'",
                     sqlite3_bind_parameter_name(stmt_, i));
      }
      const Value& v = params[static_cast<size_t>(i - 1)];
      int rc = SQLITE_OK;
      switch (v.type()) {
        case ValueType::kNull:
          rc = sqlite3_bind_null(stmt_, i);
          break;
        case ValueType::kInt:
          rc = sqlite3_bind_int64(stmt_, i, v.AsInt());
          break;
        case ValueType::kDouble:
          rc = sqlite3_bind_double(stmt_, i, v.AsDouble());
          break;
        case ValueType::kText:
          // SQLITE_STATIC: `params` outlives the statement's execution.
          rc = sqlite3_bind_text64(stmt_, i, v.AsString().data(), v.AsString().size(), SQLITE_STATIC, SQLITE_UTF8);
          break;
        case ValueType::kBlob:
          if (v.AsString().empty()) {
            rc = sqlite3_bind_zeroblob(stmt_, i, 0);  // a null data pointer would bind NULL
          } else {
            rc = sqlite3_bind_blob64(stmt_, i, v.AsString().data(), v.AsString().size(), SQLITE_STATIC);
          }
          break;
      }
      if (rc != SQLITE_OK) return FromSqlite(db_, rc, "binding parameter");
    }
    return Status::OK();
  }

  // Steps to completion, collecting rows when `result` is not null.
  Status Run(QueryResult* result) {
    if (result) {
      int num_columns = sqlite3_column_count(stmt_);
      result->columns.reserve(static_cast<size_t>(num_columns));
      for (int c = 0; c < num_columns; ++c) result->columns.emplace_back(sqlite3_column_name(stmt_, c));
    }
    while (true) {
      int rc = sqlite3_step(stmt_);
      if (rc == SQLITE_DONE) return Status::OK();
      if (rc != SQLITE_ROW) return FromSqlite(db_, rc, "executing statement");
      if (!result) continue;
      int num_columns = sqlite3_column_count(stmt_);
      std::vector<Value> values;
      values.reserve(static_cast<size_t>(num_columns));
      for (int c = 0; c < num_columns; ++c) {
        switch (sqlite3_column_type(stmt_, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt_, c)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(stmt_, c));
            break;
          case SQLITE_TEXT: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
            values.emplace_back(std::string(text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt_, c))));
            break;
          }
          case SQLITE_BLOB: {
            const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
            values.push_back(
                Value::Blob(std::string(bytes ? bytes : "", static_cast<size_t>(sqlite3_column_bytes(stmt_, c)))));
            break;
          }
          default:
            values.emplace_back();
        }
      }
      result->rows.emplace_back(std::move(values));
    }
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

Result<QueryResult> RunQuery(Connection& conn, std::string_view sql, const Params& params) {
  TARN_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(conn.db(), sql));
  TARN_RETURN_IF_ERROR(stmt.Bind(params));
  QueryResult result;
  Status st = stmt.Run(&result);
  TARN_RETURN_IF_ERROR(conn.CheckAutocommit());
  TARN_RETURN_IF_ERROR(st);
  return result;
}

Result<int64_t> RunExecute(Connection& conn, std::string_view sql, const Params& params) {
  TARN_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(conn.db(), sql));
  TARN_RETURN_IF_ERROR(stmt.Bind(params));
  Status st = stmt.Run(nullptr);
  TARN_RETURN_IF_ERROR(conn.CheckAutocommit());
  TARN_RETURN_IF_ERROR(st);
  return static_cast<int64_t>(sqlite3_changes64(conn.db()));
}

// Runs `sql` on a reader connection when it only reads; nullopt when it would write.
std::optional<Result<QueryResult>> RunIfReadOnly(Connection& conn, std::string_view sql, const Params& params) {
  auto stmt = Statement::Prepare(conn.db(), sql);
  if (!stmt.has_value()) return Result<QueryResult>(stmt.error());
  if (!stmt->ReadOnly()) return std::nullopt;
  QueryResult result;
  Status st = stmt->Bind(params);
  if (st.ok()) st = stmt->Run(&result);
  Status open_tx = conn.CheckAutocommit();
  if (st.ok()) st = open_tx;
  if (!st.ok()) return Result<QueryResult>(st);
  return Result<QueryResult>(std::move(result));
}

// Statements of one RunInTransaction call, on the writer connection (whose mutex the caller holds).
class SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(Connection& conn) : conn_(conn) {}
  Result<int64_t> Execute(std::string_view sql, const Params& params) override {
    TARN_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(conn_.db(), sql));
    TARN_RETURN_IF_ERROR(stmt.Bind(params));
    TARN_RETURN_IF_ERROR(stmt.Run(nullptr));
    return static_cast<int64_t>(sqlite3_changes64(conn_.db()));
  }
  Result<QueryResult> Query(std::string_view sql, const Params& params) override {
    TARN_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(conn_.db(), sql));
    TARN_RETURN_IF_ERROR(stmt.Bind(params));
    QueryResult result;
    TARN_RETURN_IF_ERROR(stmt.Run(&result));
    return result;
  }
  Status ExecuteScript(std::string_view sql) override { return conn_.Exec(sql); }

 private:
  Connection& conn_;
};

}  // namespace

struct SqliteMetaStore::Impl {
  std::string path;
  SqliteOptions options;

  std::mutex writer_mu;
  std::unique_ptr<Connection> writer;  // guarded by writer_mu
  // The thread holding writer_mu, so re-entrant use from a transaction body fails instead of deadlocking.
  std::atomic<std::thread::id> writer_owner{};

  std::mutex readers_mu;
  std::condition_variable readers_cv;
  std::vector<std::unique_ptr<Connection>> idle_readers;  // guarded by readers_mu
  int num_open_readers = 0;                               // guarded by readers_mu

  Status CheckNotReentrant() const {
    if (writer_owner.load() == std::this_thread::get_id()) {
      return Error(ErrorCode::kInvalidTransactionState,
                   "metadata store used directly inside RunInTransaction; use the Transaction it passed");
    }
    return Status::OK();
  }

  // Runs `fn(writer)` holding the writer lock.
  template <typename Fn>
  auto WithWriter(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    TARN_RETURN_IF_ERROR(CheckNotReentrant());
    std::lock_guard lock(writer_mu);
    struct OwnerMark {
      std::atomic<std::thread::id>& owner;
      explicit OwnerMark(std::atomic<std::thread::id>& o) : owner(o) { owner.store(std::this_thread::get_id()); }
      ~OwnerMark() { owner.store(std::thread::id()); }
    } mark(writer_owner);
    return fn(*writer);
  }

  Result<std::unique_ptr<Connection>> AcquireReader() {
    std::unique_lock lock(readers_mu);
    readers_cv.wait(lock, [&] { return !idle_readers.empty() || num_open_readers < options.num_readers; });
    if (!idle_readers.empty()) {
      auto conn = std::move(idle_readers.back());
      idle_readers.pop_back();
      return conn;
    }
    ++num_open_readers;
    lock.unlock();
    auto opened = Connection::Open(path, options.busy_timeout_ms, /*reader=*/true);
    if (!opened.has_value()) {
      lock.lock();
      --num_open_readers;
      readers_cv.notify_one();
      return opened.error();
    }
    return std::move(opened).value();
  }

  void ReleaseReader(std::unique_ptr<Connection> conn) {
    {
      std::lock_guard lock(readers_mu);
      idle_readers.push_back(std::move(conn));
    }
    readers_cv.notify_one();
  }
};

SqliteMetaStore::SqliteMetaStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteMetaStore::~SqliteMetaStore() {
  // Readers first: the last connection to close checkpoints the WAL.
  impl_->idle_readers.clear();
  impl_->writer.reset();
}

const std::string& SqliteMetaStore::path() const { return impl_->path; }

Result<std::unique_ptr<SqliteMetaStore>> SqliteMetaStore::Open(const std::string& path, const SqliteOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  if (path.empty() || path == ":memory:" || impl->options.num_readers < 0) impl->options.num_readers = 0;
  TARN_ASSIGN_OR_RETURN(impl->writer, Connection::Open(path, options.busy_timeout_ms, /*reader=*/false));
  std::unique_ptr<SqliteMetaStore> store(new SqliteMetaStore(std::move(impl)));
  const auto& migrations = options.migrations ? *options.migrations : BuiltinMigrations();
  TARN_RETURN_IF_ERROR(ApplyMigrations(*store, migrations));
  return store;
}

Result<int64_t> SqliteMetaStore::Execute(std::string_view sql, const Params& params) {
  return impl_->WithWriter([&](Connection& conn) { return RunExecute(conn, sql, params); });
}

Result<QueryResult> SqliteMetaStore::Query(std::string_view sql, const Params& params) {
  auto on_writer = [&] { return impl_->WithWriter([&](Connection& conn) { return RunQuery(conn, sql, params); }); };
  if (impl_->options.num_readers == 0) return on_writer();
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, impl_->AcquireReader());
  std::optional<Result<QueryResult>> answer = RunIfReadOnly(*reader, sql, params);
  impl_->ReleaseReader(std::move(reader));
  if (answer.has_value()) return std::move(*answer);
  return on_writer();  // INSERT ... RETURNING and friends write, so they take the writer lock
}

Status SqliteMetaStore::RunInTransaction(const TransactionBody& body) {
  return impl_->WithWriter([&](Connection& conn) -> Status {
    TARN_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE").WithContext("starting a metadata transaction"));
    // Rolls back if `body` throws; the exception then continues to the caller's barrier.
    struct RollbackOnUnwind {
      Connection& conn;
      bool armed = true;
      ~RollbackOnUnwind() {
        if (armed && !sqlite3_get_autocommit(conn.db())) conn.Exec("ROLLBACK").IgnoreError();
      }
    } guard{conn};
    SqliteTransaction tx(conn);
    Status st = body(tx);
    guard.armed = false;
    if (sqlite3_get_autocommit(conn.db())) {
      return Error(ErrorCode::kInvalidTransactionState,
                   "metadata transaction ended inside its body (COMMIT/ROLLBACK are issued by RunInTransaction)");
    }
    if (!st.ok()) {
      conn.Exec("ROLLBACK").IgnoreError();  // the body's error is what the caller needs
      return st;
    }
    Status commit = conn.Exec("COMMIT");
    if (!commit.ok()) {
      if (!sqlite3_get_autocommit(conn.db())) conn.Exec("ROLLBACK").IgnoreError();
      return commit.WithContext("committing a metadata transaction");
    }
    return Status::OK();
  });
}

Result<int> SqliteMetaStore::SchemaVersion() {
  TARN_ASSIGN_OR_RETURN(
      auto exists, QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"));
  if (!exists || exists->Int(0) == 0) return 0;
  TARN_ASSIGN_OR_RETURN(auto row, QueryRow("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return row ? static_cast<int>(row->Int(0)) : 0;
}

}  // namespace tarn::meta
