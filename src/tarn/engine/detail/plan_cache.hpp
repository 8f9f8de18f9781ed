// SPDX-License-Identifier: Apache-2.0
// PlanCache: a session's prepared DuckDB statements keyed by their final SQL text, and the text checks deciding what may be cached.
#pragma once

#include <duckdb.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "tarn/engine/detail/duck_handles.hpp"

namespace tarn::engine::detail {

/// Names of DuckDB table functions and table macros (lower case); they may read data outside the catalog (files,
/// globs, Delta tables) at bind time, so a statement calling one is not cached unless the front-end generated the
/// call (pinned file lists).
using TableFunctionNames = std::unordered_set<std::string>;

/// True when `sql` is exactly one statement that a plain scanner can delimit safely: some text outside comments before
/// the first `;` outside quotes and comments, and only whitespace or `;` after it. Text with a backslash or a `$`
/// other than `$<digits>` (escape strings, dollar quoting) is refused (false), as is an unterminated quote or
/// comment: callers then fall back to DuckDB's own statement splitting.
bool IsSingleStatement(std::string_view sql);

/// Counts calls of table functions in `sql`: a name (bare or double-quoted, optionally schema-qualified) directly
/// followed by `(` that is in `names` or looks like a reader (read_*, *_scan, glob, sniff_csv, parquet_*,
/// iceberg_*). range, generate_series and unnest are not counted (they read nothing).
size_t CountTableFunctionCalls(std::string_view sql, const TableFunctionNames& names);

/// True when `sql` (one statement) reads nothing but catalog objects and the front-end's pinned scans:
/// - its table function calls number exactly `generated_calls` (those of the inlined Delta scans, whose file lists
///   and deletion vectors are part of the text);
/// - no string literal, and no double-quoted name containing `.`, `/` or `:`, stands where a table goes (after FROM,
///   JOIN or a FROM-list comma): DuckDB replacement scans read files named that way;
/// - no backslash or dollar quoting (see IsSingleStatement).
bool ReadsOnlyPinnedData(std::string_view sql, size_t generated_calls, const TableFunctionNames& names);

/// A bounded LRU map from final SQL text to a prepared statement. Owned by one session (one thread).
/// DuckDB 1.4 keeps a result collector per execution inside a prepared statement until it is destroyed (duckdb#21089,
/// ~2 KB per run), so an entry is dropped and prepared afresh after kMaxUses executions.
class PlanCache {
 public:
  static constexpr size_t kDefaultCapacity = 32;
  static constexpr uint32_t kMaxUses = 64;
  explicit PlanCache(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  /// The statement cached for `sql` (now the most recently used), or nullptr (also when it ran kMaxUses times: the
  /// entry is dropped).
  duckdb_prepared_statement Find(const std::string& sql);
  /// Caches `prepared` for `sql`, evicting the least recently used entry when full; returns the handle (owned by
  /// the cache).
  duckdb_prepared_statement Insert(std::string sql, DuckPrepared prepared);
  /// Destroys every cached statement. No stream may be running one of them.
  void Clear();

  size_t size() const { return lru_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  struct Entry {
    std::string sql;
    DuckPrepared prepared;
    uint32_t uses = 0;
  };
  size_t capacity_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // keys view the list's strings
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace tarn::engine::detail
