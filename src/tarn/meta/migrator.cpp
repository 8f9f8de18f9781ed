// SPDX-License-Identifier: Apache-2.0
// Applies registered schema migrations, one transaction per version, and refuses schemas newer than the binary.
#include "tarn/base/clock.hpp"
#include "tarn/base/logging.hpp"
#include "tarn/meta/migration.hpp"

namespace tarn::meta {

Status ApplyMigrations(MetaStore& store, const std::vector<Migration>& migrations) {
  int last = 0;
  for (const auto& m : migrations) {
    if (m.version <= last) {
      return Error(ErrorCode::kInternal, "metadata migrations must have ascending positive versions: {} follows {}",
                   m.version, last);
    }
    last = m.version;
  }
  TARN_RETURN_IF_ERROR(store.RunInTransaction([](Transaction& tx) {
    return tx.ExecuteScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)");
  }));
  TARN_ASSIGN_OR_RETURN(int current, store.SchemaVersion());
  auto newer_error = [last](int version) {
    return Error(ErrorCode::kInvalidState,
                 "metadata schema version {} is newer than this tarn supports ({}); upgrade tarn", version, last);
  };
  if (current > last) return newer_error(current);

  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    bool applied_here = false;
    Status st = store.RunInTransaction([&](Transaction& tx) -> Status {
      // Re-check under the write lock: another process may have migrated since we read the version.
      TARN_ASSIGN_OR_RETURN(auto max_row, tx.QueryRow("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
      int64_t max_version = max_row ? max_row->Int(0) : 0;
      if (max_version > last) return newer_error(static_cast<int>(max_version));
      TARN_ASSIGN_OR_RETURN(auto done, tx.QueryRow("SELECT 1 FROM schema_migrations WHERE version = ?", {m.version}));
      if (done) return Status::OK();
      std::string_view sql =
          (store.dialect() == Dialect::kPostgres && !m.postgres_sql.empty()) ? m.postgres_sql : m.sql;
      TARN_RETURN_IF_ERROR(tx.ExecuteScript(sql));
      TARN_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
                     {m.version, m.description, NowMillis()})
              .status());
      applied_here = true;
      return Status::OK();
    });
    if (!st.ok()) {
      if (st.code() == ErrorCode::kInvalidState) return st;
      return st.WithContext("applying metadata migration {} ({})", m.version, m.description);
    }
    if (applied_here) TARN_LOG_INFO("applied metadata migration {}: {}", m.version, m.description);
  }
  return Status::OK();
}

}  // namespace tarn::meta
