// SPDX-License-Identifier: Apache-2.0
// Catalog: the three-level namespace (catalog.schema.table) of Delta tables and views, kept in the metadata store.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/base/status.hpp"
#include "tarn/meta/meta_store.hpp"

namespace tarn::catalog {

/// The catalog and schema every Tarn metastore starts with.
inline constexpr std::string_view kDefaultCatalog = "main";
inline constexpr std::string_view kDefaultSchema = "default";

using Properties = std::map<std::string, std::string>;

struct CatalogInfo {
  std::string name;
  std::string comment;
  Properties properties;
  std::string owner;
  int64_t created_at = 0;  // epoch millis
  int64_t updated_at = 0;
};

struct SchemaInfo {
  std::string catalog_name;
  std::string name;
  std::string comment;
  Properties properties;
  std::string owner;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::string full_name() const { return catalog_name + "." + name; }
};

enum class TableType { kManaged, kExternal, kView };
/// "MANAGED", "EXTERNAL", "VIEW" (Unity Catalog's table_type).
std::string_view TableTypeName(TableType type);

/// A table or view. Tables are Delta tables at `location`; their columns, partitioning and Delta properties live
/// in the Delta log (read them from there). `comment` and `properties` here are what CREATE/ALTER set.
struct TableInfo {
  std::string catalog_name;
  std::string schema_name;
  std::string name;
  std::string table_id;  // a UUID, assigned by CreateTable when empty
  TableType type = TableType::kManaged;
  std::string data_source_format = "DELTA";  // tables; empty for views
  std::string location;                      // absolute local path of the table root (tables only)
  std::string comment;
  Properties properties;
  std::string view_text;     // views: the SELECT text as written
  std::string view_catalog;  // views: the current catalog/schema when the view was created (names resolve there)
  std::string view_schema;
  std::string owner;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::string full_name() const { return catalog_name + "." + schema_name + "." + name; }
  bool is_view() const { return type == TableType::kView; }
};

/// Where managed tables live and how LOCATION strings map to local paths.
struct CatalogOptions {
  /// Local directory behind dbfs:/ (`<data>/dbfs`). Managed tables go under `<dbfs_root>/user/hive/warehouse`.
  std::string dbfs_root;
  /// Wall clock in epoch millis (tests); default system clock.
  std::function<int64_t()> clock;
};

/// The catalog. Thread-safe: every operation is one metadata-store transaction (or one read); data directories
/// of managed tables are deleted after the metadata is gone (a crash in between leaves an orphan directory, never
/// a table without data).
///
/// Names are case-insensitive and stored lower-case (as Databricks does). Errors: kCatalogNotFound (3D000),
/// kSchemaNotFound (3F000), kTableNotFound (42P01), kDuplicateObject (42P07) for existing names,
/// kInvalidState for a non-empty catalog/schema dropped without CASCADE, kInvalidParameterValue for bad names or
/// locations, and the store's errors.
class Catalog {
 public:
  /// Opens the catalog on `store` (migrated: version >= 4) and creates `main` and `main.default` when missing.
  static Result<std::unique_ptr<Catalog>> Open(meta::MetaStore& store, CatalogOptions options);

  // ---- catalogs ----
  Result<std::vector<CatalogInfo>> ListCatalogs();
  Result<CatalogInfo> GetCatalog(std::string_view name);
  /// Creates `info.name` (kDuplicateObject when it exists, unless if_not_exists). Returns whether it created it.
  Result<bool> CreateCatalog(CatalogInfo info, bool if_not_exists);
  /// Drops a catalog; with cascade its schemas, tables (managed data too) and views. Returns whether it existed.
  Result<bool> DropCatalog(std::string_view name, bool if_exists, bool cascade);

  // ---- schemas ----
  Result<std::vector<SchemaInfo>> ListSchemas(std::string_view catalog);
  Result<SchemaInfo> GetSchema(std::string_view catalog, std::string_view name);
  Result<bool> CreateSchema(SchemaInfo info, bool if_not_exists);
  Result<bool> DropSchema(std::string_view catalog, std::string_view name, bool if_exists, bool cascade);

  // ---- tables and views ----
  Result<std::vector<TableInfo>> ListTables(std::string_view catalog, std::string_view schema);
  /// nullopt when there is no such table (the schema must exist: kSchemaNotFound / kCatalogNotFound otherwise).
  Result<std::optional<TableInfo>> FindTable(std::string_view catalog, std::string_view schema, std::string_view name);
  /// As FindTable, but a missing table is kTableNotFound naming it.
  Result<TableInfo> GetTable(std::string_view catalog, std::string_view schema, std::string_view name);
  /// Registers a table or view. With `replace`, an existing entry is replaced (its managed data is kept only when
  /// the location is the same). kDuplicateObject when it exists and !replace.
  Status CreateTable(TableInfo info, bool replace);
  /// Drops a table or view; a managed table's directory is deleted. Returns the dropped entry (nullopt: none).
  Result<std::optional<TableInfo>> DropTable(std::string_view catalog, std::string_view schema, std::string_view name);
  /// Renames (and possibly moves to another schema of the same catalog) a table or view; data stays where it is.
  Status RenameTable(std::string_view catalog, std::string_view schema, std::string_view name,
                     std::string_view new_schema, std::string_view new_name);
  /// Replaces comment and properties of a table or view.
  Status UpdateTable(const TableInfo& info);

  /// The location a new managed table gets: `<dbfs>/user/hive/warehouse/<schema>.db/<table>` in catalog `main`
  /// (default schema: `warehouse/<table>`, the Hive layout), `<dbfs>/user/hive/warehouse/<catalog>.catalog/
  /// <schema>.db/<table>` in other catalogs; a suffix `_<n>` is added when that directory already exists.
  std::string ManagedLocation(std::string_view catalog, std::string_view schema, std::string_view table) const;
  /// Maps a LOCATION string to an absolute local path: `dbfs:/x` -> `<dbfs_root>/x`, `file:/x` / `file:///x` ->
  /// `/x`, `/x` -> `/x`. Relative paths, other schemes and `..` segments are kInvalidParameterValue.
  Result<std::string> ResolveLocation(std::string_view location) const;

  const CatalogOptions& options() const { return options_; }

 private:
  Catalog(meta::MetaStore& store, CatalogOptions options) : store_(store), options_(std::move(options)) {}
  int64_t Now() const;

  meta::MetaStore& store_;
  CatalogOptions options_;
};

/// Lower-cases an identifier (ASCII) the way the catalog stores names.
std::string NormalizeName(std::string_view name);

}  // namespace tarn::catalog
