// SPDX-License-Identifier: Apache-2.0
// DeltaWriter: writes DuckDB query results into Delta tables (create/CTAS, append, overwrite, replaceWhere) and runs
// copy-on-write DELETE / UPDATE / MERGE, each as data files first and then one Delta commit.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/delta_checkpoint_writer.hpp"
#include "tarn/engine/delta_checkpointer.hpp"

namespace tarn::delta {
class DeltaTable;
}
namespace tarn::storage {
class ObjectStore;
}

namespace tarn::engine {

class Database;
class Session;

/// (column, SQL expression) of an UPDATE SET or a MERGE clause; the column is a logical top-level column name.
using DeltaAssignment = std::pair<std::string, std::string>;

/// Options shared by every write.
struct DeltaWriteOptions {
  /// mergeSchema: new source columns are added to the table (nullable); without it they are kSchemaMismatch.
  bool merge_schema = false;
  /// Idempotent write (Spark's txnAppId/txnVersion): skipped when the table already has a txn for app_id with a
  /// version >= app_version.
  std::optional<std::string> app_id;
  std::optional<int64_t> app_version;
  /// Target size of written data files in bytes; 0 = table property delta.targetFileSize, else 128 MiB.
  int64_t target_file_size = 0;
  /// commitInfo.userMetadata.
  std::optional<std::string> user_metadata;
  /// Write() and CreateTable(): run the queries on this session instead of a fresh connection, so source queries see
  /// its temporary tables and open transaction (sql::Session stages a client transaction's rows that way). Null: a
  /// new connection. The session must not have an open result stream.
  Session* session = nullptr;
  /// Write(): read the table at this version instead of the latest (the snapshot a client transaction started
  /// from); Delta's conflict rules then check every commit after it at commit time.
  std::optional<int64_t> read_version;
};

/// CREATE TABLE [AS SELECT].
struct DeltaCreateTable {
  /// Columns as (name, SQL type), used when there is no source query (e.g. {"id", "BIGINT"}, {"s", "STRING"});
  /// with a source query they must be empty (the query's columns define the schema).
  std::vector<std::pair<std::string, std::string>> columns;
  /// Nullability per column name (NOT NULL constraints); columns not listed are nullable.
  std::vector<std::string> not_null_columns;
  std::vector<std::string> partition_columns;
  /// Table properties (delta.*; delta.feature.<name>=supported requests a feature; delta.columnMapping.mode=name).
  std::map<std::string, std::string> properties;
  std::optional<std::string> name;
  std::optional<std::string> comment;
  /// CTAS source (DuckDB SQL, may use delta.`/path` references); empty for a plain CREATE TABLE.
  std::string source_query;
  /// Succeed without doing anything when the table exists (else kResourceAlreadyExists).
  bool if_not_exists = false;
};

/// INSERT INTO / INSERT OVERWRITE / DataFrame-style save.
struct DeltaWrite {
  enum class Mode { kAppend, kOverwrite };
  Mode mode = Mode::kAppend;
  /// DuckDB SQL producing the rows; columns are matched to the table by name (case-insensitive); table columns the
  /// query lacks are written as NULL; a type that differs from the table's is cast when the cast cannot lose data
  /// (integer widening, float to double, int to decimal/double), else kSchemaMismatch naming the column.
  std::string source_query;
  /// Positional INSERT ... VALUES: besides the assignable types, a primitive literal fits a STRING column and an
  /// INTEGER-typed column (DuckDB's type for NULL literals) is cast to the table's type, so NULL or 5 go into a
  /// STRING column as in Spark. A value that does not convert fails the write and nothing is committed.
  bool cast_to_table_types = false;
  /// kOverwrite only: replaceWhere predicate (SQL over table columns). Rows of the table matching it are replaced:
  /// files whose rows all match are removed, other rows of partially matching files are rewritten; every new row
  /// must satisfy it (else kConstraintViolation, nothing committed). Empty: replace the whole table.
  std::string replace_where;
};

/// MERGE INTO target USING source ON condition.
struct DeltaMergeClause {
  enum class Action { kUpdate, kDelete, kInsert };
  Action action = Action::kUpdate;
  /// Optional extra condition (`WHEN MATCHED AND <condition>`); empty = always.
  std::string condition;
  /// kUpdate: SET columns; kInsert: (column, value) pairs. Columns not set keep their value (update) or are NULL
  /// (insert). `star` means UPDATE SET * / INSERT * (every table column from the source column of the same name).
  std::vector<DeltaAssignment> assignments;
  bool star = false;
};

struct DeltaMerge {
  /// Source rows: DuckDB SQL (may use delta.`/path` references).
  std::string source_query;
  std::string source_alias = "source";
  std::string target_alias = "target";
  /// Join condition; expressions qualify columns with the aliases (target.id = source.id).
  std::string on;
  std::vector<DeltaMergeClause> when_matched;               // kUpdate or kDelete, first matching clause applies
  std::vector<DeltaMergeClause> when_not_matched;           // kInsert
  std::vector<DeltaMergeClause> when_not_matched_by_source;  // kUpdate or kDelete
};

/// OPTIMIZE [WHERE partition_predicate] [ZORDER BY (columns)].
struct DeltaOptimize {
  /// SQL predicate over partition columns only (empty: every partition).
  std::string partition_predicate;
  /// Z-order columns (data columns); empty: plain bin-packing.
  std::vector<std::string> zorder_by;
  /// Bin size; 0 = delta.targetFileSize, else 1 GiB (Spark's optimize.maxFileSize).
  int64_t target_file_size = 0;
};

/// What a write committed.
struct DeltaWriteResult {
  int64_t version = -1;  // committed version (the read version when skipped)
  bool skipped = false;  // idempotent write already applied, or CREATE IF NOT EXISTS of an existing table
  int64_t num_added_files = 0;
  int64_t num_removed_files = 0;
  int64_t num_output_rows = 0;  // rows in the added files
  int64_t num_output_bytes = 0;
  int64_t num_inserted_rows = 0;
  int64_t num_updated_rows = 0;
  int64_t num_deleted_rows = 0;
  int64_t num_copied_rows = 0;  // unchanged rows rewritten from affected files
  /// commitInfo.operationMetrics as committed (Spark's names, string values).
  std::map<std::string, std::string> operation_metrics;
};

/// Writes Delta tables at absolute local paths from DuckDB queries. Every operation writes its data files first
/// (Spark-like names part-00000-<uuid>.c000.snappy.parquet, Hive-style escaped partition directories, per-file
/// stats on the first delta.dataSkippingNumIndexedCols columns), then commits once through delta's optimistic
/// transaction (conflict detection, retries of blind appends). A failed write leaves at most unreferenced data
/// files, never a visible partial result. Checkpoints (DuckCheckpointWriter, every delta.checkpointInterval
/// commits) and log cleanup run on the writer's background DeltaCheckpointer, coalesced per table, never in the
/// committing thread; the destructor finishes the queued ones. Safe for concurrent use by several threads (tables
/// are opened once per path and shared); the Database must outlive the writer.
/// Errors: kTableNotFound (no table at the path), kResourceAlreadyExists (create of an existing table),
/// kSchemaMismatch (naming the column), kConstraintViolation (replaceWhere, NOT NULL), kCommitConflict, DuckDB
/// errors of the queries with their codes (kSyntaxError, kColumnNotFound...), kInvalidParameterValue.
class DeltaWriter {
 public:
  explicit DeltaWriter(Database& database);
  ~DeltaWriter();
  DeltaWriter(const DeltaWriter&) = delete;
  DeltaWriter& operator=(const DeltaWriter&) = delete;

  /// CREATE TABLE (version 0; with source_query: CREATE TABLE AS SELECT, data included in version 0).
  Result<DeltaWriteResult> CreateTable(std::string_view location, const DeltaCreateTable& request,
                                       const DeltaWriteOptions& options = {});
  /// Appends or overwrites (all or replaceWhere).
  Result<DeltaWriteResult> Write(std::string_view location, const DeltaWrite& request,
                                 const DeltaWriteOptions& options = {});
  /// DELETE FROM table [WHERE predicate] (empty predicate: every row; whole files are removed without rewriting).
  Result<DeltaWriteResult> Delete(std::string_view location, std::string_view predicate,
                                  const DeltaWriteOptions& options = {});
  /// UPDATE table SET assignments [WHERE predicate].
  Result<DeltaWriteResult> Update(std::string_view location, const std::vector<DeltaAssignment>& assignments,
                                  std::string_view predicate, const DeltaWriteOptions& options = {});
  /// MERGE INTO table. kInvalidParameterValue when several source rows match one target row that an update/delete
  /// clause applies to (Spark's DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE).
  Result<DeltaWriteResult> Merge(std::string_view location, const DeltaMerge& request,
                                 const DeltaWriteOptions& options = {});

  /// OPTIMIZE: packs small files of each partition into files of about the target size (delta::PlanOptimize), rows
  /// ordered by a Z-order key (interleaved bits of each column's rank) when zorder_by is set; removes and adds with
  /// dataChange=false. With nothing to rewrite nothing is committed (skipped, version = the read version).
  Result<DeltaWriteResult> Optimize(std::string_view location, const DeltaOptimize& request,
                                    const DeltaWriteOptions& options = {});

  /// The checkpoint writer used for tables opened by this writer (also usable by other delta::DeltaTable users).
  DuckCheckpointWriter& checkpoint_writer() { return checkpoint_writer_; }
  /// The background checkpointer of this writer's commits; set it as TableOptions::post_commit_scheduler of other
  /// DeltaTables of the process (SQL DDL commits) so that one queue serves every table. Drain() it to wait for the
  /// checkpoints of the commits so far.
  DeltaCheckpointer& checkpointer() { return checkpointer_; }

  struct OpenTable;  // engine-internal: a table opened for writing

 private:
  Result<std::shared_ptr<OpenTable>> Open(std::string_view location, bool create);

  Database& database_;
  DuckCheckpointReader checkpoint_reader_;
  DuckCheckpointWriter checkpoint_writer_;
  DeltaCheckpointer checkpointer_;  // after checkpoint_writer_ (uses it), before tables_ (destroyed after them)
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<OpenTable>> tables_;  // by resolved root; guarded by mu_
};

}  // namespace tarn::engine
