// SPDX-License-Identifier: Apache-2.0
// Versioned schema migrations of the metadata database: the registered list and the code that applies it.
#pragma once

#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/meta/meta_store.hpp"

namespace tarn::meta {

/// One schema step. `sql` is a `;`-separated script in the portable subset; `postgres_sql`, when not empty,
/// replaces it on PostgreSQL for statements that cannot be portable (e.g. generated integer keys).
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
  std::string_view postgres_sql = {};
};

/// Returns the migrations this binary knows, in ascending version order (defined in migrations.cpp).
const std::vector<Migration>& BuiltinMigrations();

/// Returns the highest version in BuiltinMigrations().
int LatestSchemaVersion();

/// Brings `store` up to the last version of `migrations` (ascending, unique, positive versions; else kInternal).
/// Creates `schema_migrations` if missing, then applies each pending migration and records it in its own
/// transaction, so a failure leaves the database at the previous version. Safe to run again (applied versions are
/// skipped) and from two processes at once. A database whose recorded version is newer than the last one given is
/// refused with kInvalidState ("metadata schema version N is newer than this tarn supports (M); upgrade tarn").
Status ApplyMigrations(MetaStore& store, const std::vector<Migration>& migrations);

}  // namespace tarn::meta
