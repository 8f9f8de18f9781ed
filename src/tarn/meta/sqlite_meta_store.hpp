// SPDX-License-Identifier: Apache-2.0
// SqliteMetaStore: the embedded metadata store on libsqlite3 (WAL, one writer connection, a pool of readers).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/meta/meta_store.hpp"
#include "tarn/meta/migration.hpp"

namespace tarn::meta {

struct SqliteOptions {
  /// Reader connections opened on demand; 0 runs every query on the writer connection. ":memory:" and "" (temporary
  /// databases private to one connection) always use 0.
  int num_readers = 4;
  /// How long a statement waits for another process's lock before failing with kTemporarilyUnavailable.
  int busy_timeout_ms = 5000;
  /// Migrations applied by Open(); nullptr means BuiltinMigrations().
  const std::vector<Migration>* migrations = nullptr;
};

/// A metadata store in one SQLite file. Every connection runs with journal_mode=WAL, synchronous=NORMAL,
/// foreign_keys=ON and a busy timeout; readers also with query_only=ON. Writers are serialised by a mutex on the
/// single writer connection; readers use their own connections, so they never wait for a writer. Safe for
/// concurrent use.
class SqliteMetaStore final : public MetaStore {
 public:
  /// Opens (creating if missing) the database at `path` and applies the migrations. Errors: kIoError when the file
  /// cannot be opened, kCorruptData when it is not a database, kInvalidState when its schema is newer than this
  /// binary knows.
  static Result<std::unique_ptr<SqliteMetaStore>> Open(const std::string& path, const SqliteOptions& options = {});
  ~SqliteMetaStore() override;
  SqliteMetaStore(const SqliteMetaStore&) = delete;
  SqliteMetaStore& operator=(const SqliteMetaStore&) = delete;

  Result<int64_t> Execute(std::string_view sql, const Params& params = {}) override;
  Result<QueryResult> Query(std::string_view sql, const Params& params = {}) override;
  Status RunInTransaction(const TransactionBody& body) override;
  Dialect dialect() const override { return Dialect::kSqlite; }
  Result<int> SchemaVersion() override;

  const std::string& path() const;

 private:
  struct Impl;
  explicit SqliteMetaStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tarn::meta
