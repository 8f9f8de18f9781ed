// SPDX-License-Identifier: Apache-2.0
// DeltaScanPlan: turns a pinned Delta snapshot (or a change-data range) into DuckDB SQL over read_parquet.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/actions.hpp"
#include "tarn/delta/schema.hpp"
#include "tarn/engine/delta_table.hpp"
#include "tarn/engine/types.hpp"

namespace tarn::engine {

/// A conjunct of a query's WHERE clause the front-end could read: `column op literal`. Used only to skip files (the
/// query still applies its own filter), so an unusable predicate is simply ignored.
struct ScanPredicate {
  std::string column;   // logical top-level column name
  std::string op;       // "=", "<>", "<", "<=", ">", ">=", "is_null", "is_not_null"
  std::string literal;  // the literal's text, unquoted (empty for the null tests)
};

/// Parses predicates from their transport form: lines "column\x1fop\x1fliteral" separated by '\x1e'.
std::vector<ScanPredicate> DecodeScanPredicates(std::string_view text);
std::string EncodeScanPredicates(std::span<const ScanPredicate> predicates);

/// One output column of a scan.
struct ScanColumn {
  enum class Kind { kData, kPartition, kConstant };
  std::string name;      // logical name (the SQL column name)
  std::string sql_type;  // DuckDB type spelling the column is cast to
  Kind kind = Kind::kData;
  const delta::StructField* field = nullptr;  // kData / kPartition (owned by the plan's schema)
  size_t value_index = 0;                     // kPartition / kConstant: index into ScanFile::values
  std::string file_column;  // kConstant: a Parquet column that, when present and non-null, wins (CDF _change_type)
};

/// One Parquet file to read, with its per-file constants and row filters.
struct ScanFile {
  std::string path;                             // absolute local path
  std::vector<std::optional<std::string>> values;  // per partition/constant column: text castable to its type
  std::optional<delta::DeletionVectorDescriptor> drop_rows;  // rows to skip (a deletion vector)
  std::optional<delta::DeletionVectorDescriptor> keep_rows;  // when set, only these rows are read (CDF deletes)
  int64_t num_records = -1;                                // from stats; -1 when unknown
};

/// Row filter of one file: drop the sorted `drop` rows; if `keep` is set, read only rows in it.
struct RowFilter {
  std::vector<uint64_t> drop;
  std::optional<std::vector<uint64_t>> keep;
  bool Passes(uint64_t row) const;
};

/// The plan of one scan: columns, files and how to express them in SQL. Immutable once built; owns everything it
/// refers to (the schema and the table's store).
class DeltaScanPlan {
 public:
  /// Plans a scan of `table`'s snapshot, skipping files that `predicates` prove empty (partition values, then
  /// min/max/nullCount stats). Errors: kCorruptData for unparsable partition values.
  static Result<std::shared_ptr<const DeltaScanPlan>> ForSnapshot(const DeltaTable& table,
                                                                  std::span<const ScanPredicate> predicates);
  /// Plans the change data feed of versions [start, end] (end nullopt: latest) with the columns of the end version
  /// plus _change_type, _commit_version and _commit_timestamp (PROTOCOL.md "Change Data Files").
  static Result<std::shared_ptr<const DeltaScanPlan>> ForChanges(DeltaTableLoader& loader, std::string_view location,
                                                                 int64_t start, std::optional<int64_t> end);

  const std::vector<ScanColumn>& columns() const { return columns_; }
  const std::vector<ScanFile>& files() const { return files_; }
  int64_t num_skipped_files() const { return num_skipped_files_; }
  /// Sum of the files' record counts when every file has stats, else -1 (deleted rows subtracted).
  int64_t EstimatedRows() const;
  /// True when some file has a row filter (the scan then needs file_index and file_row_number).
  bool NeedsRowFilter() const;

  /// SQL selecting every column of the Parquet files as DuckDB reads them (union by name), to learn the physical
  /// schema; empty when there are no files.
  std::string PhysicalSchemaSql() const;
  /// SQL producing the columns `projection` (indexes into columns(); an index past the end yields a BIGINT NULL),
  /// reading Parquet columns of the physical schema `physical` (from PhysicalSchemaSql) by physical name and casting
  /// them to the table schema. With `with_row_ids`, two BIGINT columns follow: file index, row number in file.
  std::string BuildSql(std::span<const size_t> projection, const std::vector<Column>& physical, bool with_row_ids) const;
  /// Loads the row filters of every file (index = file index; nullopt: no filter). Reads deletion vectors.
  Result<std::vector<std::optional<RowFilter>>> LoadRowFilters() const;

 private:
  DeltaScanPlan() = default;
  std::string ReadParquetSql() const;

  std::shared_ptr<storage::ObjectStore> store_;
  std::shared_ptr<const delta::Schema> schema_;
  std::vector<ScanColumn> columns_;
  std::vector<ScanFile> files_;
  int64_t num_skipped_files_ = 0;
};

/// Returns the DuckDB type spelling of a Delta type ("BIGINT", "TIMESTAMP WITH TIME ZONE", "STRUCT(...)").
std::string DuckTypeOf(const delta::DataType& type);

}  // namespace tarn::engine
