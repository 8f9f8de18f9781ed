// SPDX-License-Identifier: Apache-2.0
// Per-file statistics for add.stats: builds the JSON (numRecords, minValues, maxValues, nullCount) the way Spark does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/schema.hpp"

namespace tarn::delta {

/// Spark's spark.databricks.io.skipping.stringPrefixLength.
inline constexpr int kStatsStringPrefixLength = 32;
/// Default delta.dataSkippingNumIndexedCols.
inline constexpr int kDefaultNumIndexedColumns = 32;

/// A min or max value as the engine computed it. Interpretation follows the column type:
/// integers (byte/short/int/long) and date (days since epoch) and timestamp/timestamp_ntz (microseconds since epoch)
/// use int64_t; float/double use double (NaN/inf omit the bound); strings use std::string (UTF-8); decimals use
/// std::string holding the plain decimal text ("12.50"), written as a JSON number.
using StatsValue = std::variant<std::monostate, int64_t, double, bool, std::string>;

/// Statistics of one leaf column of a data file. `path` names the column by its logical names from the top level
/// ({"a", "b"} for struct field a.b).
struct ColumnStatistics {
  std::vector<std::string> path;
  StatsValue min;
  StatsValue max;
  int64_t null_count = 0;
};

struct StatsOptions {
  /// delta.dataSkippingNumIndexedCols: leaf columns (in schema order, nested leaves counted) that get statistics;
  /// -1 = all.
  int num_indexed_columns = kDefaultNumIndexedColumns;
  /// delta.dataSkippingStatsColumns: when non-empty, exactly these columns (dotted logical names) get statistics.
  std::vector<std::string> stats_columns;
  /// Use physical column names (column mapping name/id mode).
  bool use_physical_names = false;
  int string_prefix_length = kStatsStringPrefixLength;
  /// Adds "tightBounds":true (tables with deletion vectors).
  bool tight_bounds = false;
  /// Top-level columns left out (partition columns: their values live in partitionValues).
  std::vector<std::string> partition_columns;
};

/// Returns options from a table configuration (delta.dataSkippingNumIndexedCols, delta.dataSkippingStatsColumns,
/// delta.columnMapping.mode, delta.enableDeletionVectors). Malformed numbers are kInvalidParameterValue.
Result<StatsOptions> StatsOptionsFromConfiguration(const std::map<std::string, std::string>& configuration);

/// Builds add.stats JSON for a file with `num_records` rows. Columns outside the indexed set are skipped; unknown
/// column paths are kColumnNotFound. min/max are written only for types Spark collects them for (numbers, decimal,
/// string, date, timestamp, timestamp_ntz); strings are truncated (TruncateMinString / TruncateMaxString), timestamps
/// truncated to milliseconds. nullCount is written for every indexed leaf that has statistics.
Result<std::string> BuildStatsJson(const Schema& schema, int64_t num_records,
                                   const std::vector<ColumnStatistics>& columns, const StatsOptions& options);

/// Spark's truncateMinStringAgg: the first `prefix_length` UTF-16 code units (a surrogate pair is never split), so
/// the result stays a lower bound.
std::string TruncateMinString(std::string_view value, int prefix_length = kStatsStringPrefixLength);

/// Spark's truncateMaxStringAgg: a prefix followed by a tie-breaker (U+007F when the next character is below it,
/// else U+10FFFF) so the result stays an upper bound in UTF-8 byte order. The prefix grows (up to 2x) past U+10FFFF
/// characters; nullopt when no bound fits (the stat is then omitted).
std::optional<std::string> TruncateMaxString(std::string_view value, int prefix_length = kStatsStringPrefixLength);

}  // namespace tarn::delta
