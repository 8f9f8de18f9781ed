// SPDX-License-Identifier: Apache-2.0
// Data file layout: Hive-style partition directories escaped as Spark does, unique data file names, add.path encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/delta/actions.hpp"

namespace tarn::delta {

/// The directory value Hive and Spark use for a null (or empty) partition value.
inline constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

/// Escapes one path component as Spark's ExternalCatalogUtils.escapePathName: control characters, '"', '#', '%',
/// '\'', '*', '/', ':', '=', '?', '\\', DEL, '{', '[', ']', '^' become %XX (uppercase hex); everything else (including
/// non-ASCII) stays.
std::string EscapePartitionPathComponent(std::string_view text);
/// Reverses EscapePartitionPathComponent (malformed escapes are kept literally, as Spark does).
std::string UnescapePartitionPathComponent(std::string_view text);

/// Returns "a=1/b=x%3Ay/" for the partition values in `partition_columns` order (null or empty →
/// __HIVE_DEFAULT_PARTITION__); "" for an unpartitioned table. Values are the log's serialised strings. A column
/// missing from `values` is kInvalidParameterValue.
Result<std::string> PartitionDirectory(const std::vector<std::string>& partition_columns,
                                       const std::vector<MapEntry>& values);

/// Returns a new data file name like Spark's: "part-00000-<uuid>-c000.snappy.parquet" (`task` is the 5-digit number).
std::string NewDataFileName(int task = 0, std::string_view extension = ".snappy.parquet");

/// Returns the add.path for a file at `relative_path` (unescaped directory + name, relative to the table root):
/// the RFC 2396 encoding of the on-disk name, e.g. "a=x%3Ay/part..." → "a=x%253Ay/part...".
std::string EncodeAddPath(std::string_view relative_path);

}  // namespace tarn::delta
