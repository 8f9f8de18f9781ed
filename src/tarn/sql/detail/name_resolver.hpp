// SPDX-License-Identifier: Apache-2.0
// NameResolver (module-private): rewrites catalog table/view references in a query into Delta scans / view text.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/catalog/catalog.hpp"
#include "tarn/sql/detail/tokens.hpp"

namespace tarn::sql::detail {

/// A multi-part name as written: `t`, `s.t`, `c.s.t` (quoted parts unquoted).
struct QualifiedName {
  std::vector<std::string> parts;
  size_t first_token = 0;
  size_t end_token = 0;  // one past the last token of the name
};

/// Reads a dotted name at t[i] (no space around the dots); nullopt when t[i] is not a name.
std::optional<QualifiedName> ReadQualifiedName(const std::vector<Token>& t, size_t i);

/// Where unqualified names resolve.
struct NameContext {
  std::string catalog;
  std::string schema;
  /// spark.sql.timestampType is TIMESTAMP_LTZ: a bare TIMESTAMP in an expression (`CAST(x AS TIMESTAMP)`,
  /// `x::timestamp`, `TIMESTAMP '...'`) becomes TIMESTAMPTZ, as in Spark (ADR 0004).
  bool ltz_timestamps = false;
};

/// Returns (catalog, schema, table) for a 1-3 part name in `context`; kInvalidParameterValue for 4+ parts.
Result<std::vector<std::string>> Qualify(const QualifiedName& name, const NameContext& context);

/// Returns the latest committed version of the Delta table at a local path (from the _delta_log listing), or
/// nullopt when it cannot be read (the scan then reports the error).
using LatestVersionFn = std::function<std::optional<int64_t>(const std::string& location)>;

/// The latest version in a table's `_delta_log` listing (nullopt when there is no commit file): what a statement
/// pins its reads to, and what the pg_catalog fingerprint compares.
std::optional<int64_t> LatestLogVersion(const std::string& location);

/// A client transaction's view of the tables it wrote: for a qualified (catalog, schema, table) name, the query that
/// replaces a reference to it (the table's snapshot plus the transaction's staged rows), or nullopt to read the
/// catalog's table. Consulted before the catalog, so a table created inside the transaction resolves too; references
/// with time travel (`t@v3`, `VERSION AS OF`) bypass it.
using OverlayFn = std::function<std::optional<std::string>(const std::vector<std::string>& qualified)>;

/// Rewrites every reference to a catalog table in FROM/JOIN position of `tokens` (tokens of `text`; the result spans
/// the first to the last token): a table
/// becomes `delta.`<location>`` [VERSION AS OF n | TIMESTAMP AS OF 'ts'] AS name, a view becomes
/// `(<its resolved text>) AS name`. CTE names shadow tables; names that are not in the catalog (DuckDB tables,
/// information_schema, functions like range()) are left as written. A table referenced more than once is pinned to
/// one version so the statement reads one snapshot. With `context.ltz_timestamps`, TIMESTAMP in casts and typed
/// literals becomes TIMESTAMPTZ (also in expanded views); Spark's TIMESTAMP_NTZ / TIMESTAMP_LTZ there always become
/// DuckDB's TIMESTAMP / TIMESTAMPTZ. Errors: kSyntaxError (malformed time travel), catalog errors,
/// kInvalidState for views nested too deeply (a cycle).
Result<std::string> ResolveNames(std::string_view text, const std::vector<Token>& tokens, catalog::Catalog& catalog, const NameContext& context,
                                 const LatestVersionFn& latest_version, int depth = 0,
                                 const OverlayFn& overlay = {});

/// Returns the text of a Delta reference to `location` for the engine's front-end: delta.`<location>`.
std::string DeltaReference(std::string_view location);

}  // namespace tarn::sql::detail
