// SPDX-License-Identifier: Apache-2.0
// MetaStore: the narrow, backend-neutral interface to the metadata database (SQLite now, PostgreSQL later).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/meta/value.hpp"

namespace tarn::meta {

/// Which SQL dialect a store speaks, for the rare statement that cannot be written portably.
enum class Dialect { kSqlite, kPostgres };

/// Runs parameterised statements.
///
/// SQL contract (the portable subset every backend accepts):
/// - Placeholders are positional `?` (never `$1` or `:name`); parameters bind in order. The PostgreSQL backend
///   rewrites `?` to `$n` outside string literals, so never put a literal `?` in SQL text: bind it instead.
/// - One statement per Execute()/Query() call; trailing text after the statement is an error.
/// - Values are NULL, int64, double, text and blob (see Value). Booleans are stored as 0/1 integers, times as
///   int64 epoch milliseconds.
/// - Use `INSERT ... RETURNING col` through Query() to learn generated ids (SQLite >= 3.35 and PostgreSQL).
/// - Do not issue BEGIN/COMMIT/ROLLBACK yourself: use MetaStore::RunInTransaction.
///
/// Errors: kUniqueViolation, kNotNullViolation, kConstraintViolation for constraint failures;
/// kTemporarilyUnavailable when the database stayed locked past the busy timeout; kIoError, kCorruptData for
/// storage failures; kInternal for bad SQL (a programmer error: the message carries the database's text).
class Executor {
 public:
  virtual ~Executor() = default;
  /// Runs one statement and returns the number of rows it changed.
  virtual Result<int64_t> Execute(std::string_view sql, const Params& params = {}) = 0;
  /// Runs one statement and returns all its rows.
  virtual Result<QueryResult> Query(std::string_view sql, const Params& params = {}) = 0;
  /// Returns the first row of the result, or nullopt when there is none.
  Result<std::optional<Row>> QueryRow(std::string_view sql, const Params& params = {});
};

/// The statements of one write transaction. Only valid inside the callback given to RunInTransaction, and only on
/// the thread that runs the callback.
class Transaction : public Executor {
 public:
  /// Runs several `;`-separated statements without parameters (migrations, DDL scripts).
  virtual Status ExecuteScript(std::string_view sql) = 0;
};

/// A metadata database. Safe for concurrent use: writes (Execute, RunInTransaction) are serialised; Query runs on
/// a pool of reader connections and sees the last committed state (a Query whose statement writes, such as
/// INSERT ... RETURNING, runs as a write).
class MetaStore : public Executor {
 public:
  using TransactionBody = std::function<Status(Transaction& tx)>;

  /// Runs `body` in one write transaction (BEGIN IMMEDIATE on SQLite): commits when it returns OK, rolls back and
  /// returns its error otherwise (when it throws, rolls back and lets the exception through). Calling
  /// RunInTransaction or a store-level Execute from inside `body` is an error (kInvalidTransactionState), not a
  /// deadlock.
  virtual Status RunInTransaction(const TransactionBody& body) = 0;

  virtual Dialect dialect() const = 0;
  /// Returns the highest applied schema migration version (0 for an empty database).
  virtual Result<int> SchemaVersion() = 0;
};

}  // namespace tarn::meta
