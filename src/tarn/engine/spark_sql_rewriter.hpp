// SPDX-License-Identifier: Apache-2.0
// SparkSqlRewriter: the statement front-end that turns Databricks/Spark-only syntax into DuckDB SQL at token level.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/engine/delta_scan_plan.hpp"

namespace tarn::engine {

/// What the front-end needs from the database. Either member may be empty.
struct SparkSqlContext {
  /// Loads tables to validate references and pin their version.
  DeltaTableLoader* loader = nullptr;
  /// Returns a DuckDB query (no parentheses) reading `table` with the predicates usable for file skipping; when
  /// set, references are inlined as subqueries so DuckDB parallelises and pushes filters into read_parquet.
  std::function<Result<std::string>(const DeltaTable& table, std::span<const ScanPredicate> predicates)> inline_scan;
};

/// Rewrites, before DuckDB parses it:
/// - `` delta.`/path` `` [`` `/path@v3` ``] [VERSION AS OF n | TIMESTAMP AS OF 'ts'] -> a subquery over read_parquet
///   (context.inline_scan), or delta_scan('/path', version => n [, filter => ...]) inside CREATE VIEW (a view must
///   read the latest version each time) and without inline_scan. The table is loaded here (errors: kTableNotFound
///   naming the path, kFeatureNotSupported naming an unsupported reader feature, kInvalidParameterValue for versions
///   outside the log) and its version pinned, so the whole statement reads one snapshot. Simple `column op literal`
///   conjuncts of a WHERE that filters only this table are used to skip files.
/// - `` parquet.`/path` `` / `` json.`…` `` / `` csv.`…` `` -> read_parquet / read_json_auto / read_csv_auto.
/// - DESCRIBE|DESC HISTORY <table> [LIMIT n] -> SELECT * FROM delta_history(...); DESCRIBE|DESC DETAIL <table> ->
///   SELECT * FROM delta_detail(...). <table> is a delta.`path` reference or a quoted path.
/// - any other `backtick identifier` -> "double-quoted identifier".
/// Text without any of these is returned unchanged (so error positions stay valid). Strings, quoted identifiers,
/// dollar-quoted strings and comments are never rewritten. Without a loader, tables are not loaded (no
/// validation, no pinning). Errors: kSyntaxError for a malformed time-travel clause, and the loader's errors.
Result<std::string> RewriteSparkSql(std::string_view sql, const SparkSqlContext& context);

}  // namespace tarn::engine
