// SPDX-License-Identifier: Apache-2.0
// Catalog: catalogs, schemas, tables and views in the metadata store (migration 4), managed-table directories.
#include "tarn/catalog/catalog.hpp"

#include <chrono>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "tarn/base/logging.hpp"
#include "tarn/delta/uuid.hpp"

namespace tarn::catalog {
namespace {

namespace fs = std::filesystem;

std::string PropertiesToJson(const Properties& properties) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : properties) j[k] = v;
  return j.dump();
}

Properties PropertiesFromJson(const std::string& text) {
  Properties out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return out;
}

Status CheckName(std::string_view kind, std::string_view name) {
  if (name.empty()) return Error(ErrorCode::kInvalidParameterValue, "{} name must not be empty", kind);
  if (name.size() > 255) return Error(ErrorCode::kInvalidParameterValue, "{} name is longer than 255 bytes", kind);
  for (char c : name) {
    if (c == '.' || c == '/' || c == '\0' || static_cast<unsigned char>(c) < 0x20) {
      return Error(ErrorCode::kInvalidParameterValue, "invalid {} name '{}': '.', '/' and control characters are "
                   "not allowed", kind, name);
    }
  }
  return Status::OK();
}

constexpr std::string_view kTableColumns =
    "catalog_name, schema_name, name, table_id, table_type, data_source_format, location, comment, properties, "
    "view_text, view_catalog, view_schema, owner, created_at, updated_at";

TableType ParseTableType(const std::string& text) {
  if (text == "EXTERNAL") return TableType::kExternal;
  if (text == "VIEW") return TableType::kView;
  return TableType::kManaged;
}

TableInfo TableFromRow(const meta::Row& row) {
  TableInfo t;
  t.catalog_name = row.String(0);
  t.schema_name = row.String(1);
  t.name = row.String(2);
  t.table_id = row.String(3);
  t.type = ParseTableType(row.String(4));
  t.data_source_format = row.String(5);
  t.location = row.String(6);
  t.comment = row.String(7);
  t.properties = PropertiesFromJson(row.String(8));
  t.view_text = row.String(9);
  t.view_catalog = row.String(10);
  t.view_schema = row.String(11);
  t.owner = row.String(12);
  t.created_at = row.Int(13);
  t.updated_at = row.Int(14);
  return t;
}

// Deletes a managed table's directory (after its metadata is gone). Failures are logged: the drop has happened.
void DeleteManagedData(const TableInfo& table) {
  if (table.type != TableType::kManaged || table.location.empty()) return;
  std::error_code ec;
  fs::remove_all(table.location, ec);
  if (ec) TARN_LOG_WARN("could not delete the data of dropped table {} at {}: {}", table.full_name(), table.location,
                        ec.message());
}

Status CatalogExists(meta::Executor& ex, const std::string& catalog) {
  TARN_ASSIGN_OR_RETURN(auto row, ex.QueryRow("SELECT name FROM catalog_catalogs WHERE name = ?", {catalog}));
  if (!row) return Error(ErrorCode::kCatalogNotFound, "catalog '{}' does not exist", catalog);
  return Status::OK();
}

Status SchemaExists(meta::Executor& ex, const std::string& catalog, const std::string& schema) {
  TARN_RETURN_IF_ERROR(CatalogExists(ex, catalog));
  TARN_ASSIGN_OR_RETURN(auto row, ex.QueryRow("SELECT name FROM catalog_schemas WHERE catalog_name = ? AND name = ?",
                                              {catalog, schema}));
  if (!row) return Error(ErrorCode::kSchemaNotFound, "schema '{}.{}' does not exist", catalog, schema);
  return Status::OK();
}

Result<std::vector<TableInfo>> QueryTables(meta::Executor& ex, std::string_view where, const meta::Params& params) {
  TARN_ASSIGN_OR_RETURN(auto result, ex.Query(std::string("SELECT ") + std::string(kTableColumns) +
                                                  " FROM catalog_tables WHERE " + std::string(where) +
                                                  " ORDER BY catalog_name, schema_name, name",
                                              params));
  std::vector<TableInfo> out;
  out.reserve(result.rows.size());
  for (const auto& row : result.rows) out.push_back(TableFromRow(row));
  return out;
}

}  // namespace

std::string_view TableTypeName(TableType type) {
  switch (type) {
    case TableType::kManaged: return "MANAGED";
    case TableType::kExternal: return "EXTERNAL";
    case TableType::kView: return "VIEW";
  }
  return "MANAGED";
}

std::string NormalizeName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

int64_t Catalog::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Catalog>> Catalog::Open(meta::MetaStore& store, CatalogOptions options) {
  if (options.dbfs_root.empty()) return Error(ErrorCode::kInvalidParameterValue, "catalog needs a dbfs root");
  while (options.dbfs_root.size() > 1 && options.dbfs_root.back() == '/') options.dbfs_root.pop_back();
  std::unique_ptr<Catalog> catalog(new Catalog(store, std::move(options)));
  TARN_RETURN_IF_ERROR(catalog->CreateCatalog({std::string(kDefaultCatalog), "Main catalog", {}, "", 0, 0}, true)
                           .status());
  SchemaInfo schema;
  schema.catalog_name = std::string(kDefaultCatalog);
  schema.name = std::string(kDefaultSchema);
  schema.comment = "Default schema";
  TARN_RETURN_IF_ERROR(catalog->CreateSchema(schema, true).status());
  return catalog;
}

// ---- catalogs ----

Result<std::vector<CatalogInfo>> Catalog::ListCatalogs() {
  TARN_ASSIGN_OR_RETURN(auto result, store_.Query("SELECT name, comment, properties, owner, created_at, updated_at "
                                                  "FROM catalog_catalogs ORDER BY name"));
  std::vector<CatalogInfo> out;
  for (const auto& row : result.rows) {
    out.push_back({row.String(0), row.String(1), PropertiesFromJson(row.String(2)), row.String(3), row.Int(4),
                   row.Int(5)});
  }
  return out;
}

Result<CatalogInfo> Catalog::GetCatalog(std::string_view name) {
  std::string key = NormalizeName(name);
  TARN_ASSIGN_OR_RETURN(auto row, store_.QueryRow("SELECT name, comment, properties, owner, created_at, updated_at "
                                                  "FROM catalog_catalogs WHERE name = ?",
                                                  {key}));
  if (!row) return Error(ErrorCode::kCatalogNotFound, "catalog '{}' does not exist", key);
  return CatalogInfo{row->String(0), row->String(1), PropertiesFromJson(row->String(2)), row->String(3), row->Int(4),
                     row->Int(5)};
}

Result<bool> Catalog::CreateCatalog(CatalogInfo info, bool if_not_exists) {
  info.name = NormalizeName(info.name);
  TARN_RETURN_IF_ERROR(CheckName("catalog", info.name));
  int64_t now = Now();
  bool created = false;
  TARN_RETURN_IF_ERROR(store_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("SELECT name FROM catalog_catalogs WHERE name = ?", {info.name}));
    if (row) {
      if (if_not_exists) return Status::OK();
      return Error(ErrorCode::kDuplicateObject, "catalog '{}' already exists", info.name);
    }
    TARN_RETURN_IF_ERROR(tx.Execute("INSERT INTO catalog_catalogs (name, comment, properties, owner, created_at, "
                                    "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                                    {info.name, info.comment, PropertiesToJson(info.properties), info.owner, now, now})
                             .status());
    // Databricks creates a `default` schema in every new catalog.
    TARN_RETURN_IF_ERROR(tx.Execute("INSERT INTO catalog_schemas (catalog_name, name, comment, properties, owner, "
                                    "created_at, updated_at) VALUES (?, ?, ?, '{}', ?, ?, ?)",
                                    {info.name, std::string(kDefaultSchema), "Default schema", info.owner, now, now})
                             .status());
    created = true;
    return Status::OK();
  }));
  return created;
}

Result<bool> Catalog::DropCatalog(std::string_view name, bool if_exists, bool cascade) {
  std::string key = NormalizeName(name);
  std::vector<TableInfo> dropped;
  bool existed = false;
  TARN_RETURN_IF_ERROR(store_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("SELECT name FROM catalog_catalogs WHERE name = ?", {key}));
    if (!row) {
      if (if_exists) return Status::OK();
      return Error(ErrorCode::kCatalogNotFound, "catalog '{}' does not exist", key);
    }
    existed = true;
    TARN_ASSIGN_OR_RETURN(dropped, QueryTables(tx, "catalog_name = ?", {key}));
    TARN_ASSIGN_OR_RETURN(auto schemas, tx.Query("SELECT name FROM catalog_schemas WHERE catalog_name = ? AND "
                                                 "name <> ?",
                                                 {key, std::string(kDefaultSchema)}));
    if (!cascade && (!dropped.empty() || !schemas.rows.empty())) {
      return Error(ErrorCode::kInvalidState, "catalog '{}' is not empty: use DROP CATALOG ... CASCADE", key);
    }
    TARN_RETURN_IF_ERROR(tx.Execute("DELETE FROM catalog_tables WHERE catalog_name = ?", {key}).status());
    TARN_RETURN_IF_ERROR(tx.Execute("DELETE FROM catalog_schemas WHERE catalog_name = ?", {key}).status());
    return tx.Execute("DELETE FROM catalog_catalogs WHERE name = ?", {key}).status();
  }));
  for (const auto& table : dropped) DeleteManagedData(table);
  return existed;
}

// ---- schemas ----

Result<std::vector<SchemaInfo>> Catalog::ListSchemas(std::string_view catalog) {
  std::string key = NormalizeName(catalog);
  TARN_RETURN_IF_ERROR(CatalogExists(store_, key));
  TARN_ASSIGN_OR_RETURN(auto result, store_.Query("SELECT catalog_name, name, comment, properties, owner, created_at, "
                                                  "updated_at FROM catalog_schemas WHERE catalog_name = ? ORDER BY name",
                                                  {key}));
  std::vector<SchemaInfo> out;
  for (const auto& row : result.rows) {
    out.push_back({row.String(0), row.String(1), row.String(2), PropertiesFromJson(row.String(3)), row.String(4),
                   row.Int(5), row.Int(6)});
  }
  return out;
}

Result<SchemaInfo> Catalog::GetSchema(std::string_view catalog, std::string_view name) {
  std::string c = NormalizeName(catalog);
  std::string s = NormalizeName(name);
  TARN_RETURN_IF_ERROR(CatalogExists(store_, c));
  TARN_ASSIGN_OR_RETURN(auto row, store_.QueryRow("SELECT catalog_name, name, comment, properties, owner, created_at, "
                                                  "updated_at FROM catalog_schemas WHERE catalog_name = ? AND name = ?",
                                                  {c, s}));
  if (!row) return Error(ErrorCode::kSchemaNotFound, "schema '{}.{}' does not exist", c, s);
  return SchemaInfo{row->String(0), row->String(1), row->String(2), PropertiesFromJson(row->String(3)),
                    row->String(4), row->Int(5), row->Int(6)};
}

Result<bool> Catalog::CreateSchema(SchemaInfo info, bool if_not_exists) {
  info.catalog_name = NormalizeName(info.catalog_name);
  info.name = NormalizeName(info.name);
  TARN_RETURN_IF_ERROR(CheckName("schema", info.name));
  int64_t now = Now();
  bool created = false;
  TARN_RETURN_IF_ERROR(store_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_RETURN_IF_ERROR(CatalogExists(tx, info.catalog_name));
    TARN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("SELECT name FROM catalog_schemas WHERE catalog_name = ? AND name = ?",
                                                {info.catalog_name, info.name}));
    if (row) {
      if (if_not_exists) return Status::OK();
      return Error(ErrorCode::kDuplicateObject, "schema '{}' already exists", info.full_name());
    }
    TARN_RETURN_IF_ERROR(tx.Execute("INSERT INTO catalog_schemas (catalog_name, name, comment, properties, owner, "
                                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    {info.catalog_name, info.name, info.comment, PropertiesToJson(info.properties),
                                     info.owner, now, now})
                             .status());
    created = true;
    return Status::OK();
  }));
  return created;
}

Result<bool> Catalog::DropSchema(std::string_view catalog, std::string_view name, bool if_exists, bool cascade) {
  std::string c = NormalizeName(catalog);
  std::string s = NormalizeName(name);
  std::vector<TableInfo> dropped;
  bool existed = false;
  TARN_RETURN_IF_ERROR(store_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_RETURN_IF_ERROR(CatalogExists(tx, c));
    TARN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("SELECT name FROM catalog_schemas WHERE catalog_name = ? AND name = ?",
                                                {c, s}));
    if (!row) {
      if (if_exists) return Status::OK();
      return Error(ErrorCode::kSchemaNotFound, "schema '{}.{}' does not exist", c, s);
    }
    existed = true;
    TARN_ASSIGN_OR_RETURN(dropped, QueryTables(tx, "catalog_name = ? AND schema_name = ?", {c, s}));
    if (!cascade && !dropped.empty()) {
      return Error(ErrorCode::kInvalidState, "schema '{}.{}' is not empty: use DROP SCHEMA ... CASCADE", c, s);
    }
    TARN_RETURN_IF_ERROR(tx.Execute("DELETE FROM catalog_tables WHERE catalog_name = ? AND schema_name = ?", {c, s})
                             .status());
    return tx.Execute("DELETE FROM catalog_schemas WHERE catalog_name = ? AND name = ?", {c, s}).status();
  }));
  for (const auto& table : dropped) DeleteManagedData(table);
  return existed;
}

// ---- tables ----

Result<std::vector<TableInfo>> Catalog::ListTables(std::string_view catalog, std::string_view schema) {
  std::string c = NormalizeName(catalog);
  std::string s = NormalizeName(schema);
  TARN_RETURN_IF_ERROR(SchemaExists(store_, c, s));
  return QueryTables(store_, "catalog_name = ? AND schema_name = ?", {c, s});
}

Result<std::optional<TableInfo>> Catalog::FindTable(std::string_view catalog, std::string_view schema,
                                                    std::string_view name) {
  std::string c = NormalizeName(catalog);
  std::string s = NormalizeName(schema);
  TARN_ASSIGN_OR_RETURN(auto tables, QueryTables(store_, "catalog_name = ? AND schema_name = ? AND name = ?",
                                                 {c, s, NormalizeName(name)}));
  if (!tables.empty()) return std::optional<TableInfo>(std::move(tables.front()));
  TARN_RETURN_IF_ERROR(SchemaExists(store_, c, s));
  return std::optional<TableInfo>();
}

Result<TableInfo> Catalog::GetTable(std::string_view catalog, std::string_view schema, std::string_view name) {
  TARN_ASSIGN_OR_RETURN(auto table, FindTable(catalog, schema, name));
  if (!table) {
    return Error(ErrorCode::kTableNotFound, "table or view '{}.{}.{}' does not exist", NormalizeName(catalog),
                 NormalizeName(schema), NormalizeName(name));
  }
  return std::move(*table);
}

Status Catalog::CreateTable(TableInfo info, bool replace) {
  info.catalog_name = NormalizeName(info.catalog_name);
  info.schema_name = NormalizeName(info.schema_name);
  info.name = NormalizeName(info.name);
  TARN_RETURN_IF_ERROR(CheckName("table", info.name));
  if (info.table_id.empty()) info.table_id = delta::NewUuid();
  if (!info.is_view() && info.location.empty()) {
    return Error(ErrorCode::kInvalidParameterValue, "table '{}' needs a location", info.full_name());
  }
  int64_t now = Now();
  info.created_at = info.created_at != 0 ? info.created_at : now;
  info.updated_at = now;
  std::optional<TableInfo> replaced;
  TARN_RETURN_IF_ERROR(store_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_RETURN_IF_ERROR(SchemaExists(tx, info.catalog_name, info.schema_name));
    TARN_ASSIGN_OR_RETURN(auto existing, QueryTables(tx, "catalog_name = ? AND schema_name = ? AND name = ?",
                                                     {info.catalog_name, info.schema_name, info.name}));
    if (!existing.empty()) {
      if (!replace) {
        return Error(ErrorCode::kDuplicateObject, "{} '{}' already exists",
                     existing.front().is_view() ? "view" : "table", info.full_name());
      }
      replaced = existing.front();
      TARN_RETURN_IF_ERROR(tx.Execute("DELETE FROM catalog_tables WHERE catalog_name = ? AND schema_name = ? AND "
                                      "name = ?",
                                      {info.catalog_name, info.schema_name, info.name})
                               .status());
    }
    return tx.Execute(std::string("INSERT INTO catalog_tables (") + std::string(kTableColumns) +
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      {info.catalog_name, info.schema_name, info.name, info.table_id,
                       std::string(TableTypeName(info.type)), info.data_source_format, info.location, info.comment,
                       PropertiesToJson(info.properties), info.view_text, info.view_catalog, info.view_schema,
                       info.owner, info.created_at, info.updated_at})
        .status();
  }));
  if (replaced && replaced->location != info.location) DeleteManagedData(*replaced);
  return Status::OK();
}

Result<std::optional<TableInfo>> Catalog::DropTable(std::string_view catalog, std::string_view schema,
                                                    std::string_view name) {
  std::string c = NormalizeName(catalog);
  std::string s = NormalizeName(schema);
  std::string n = NormalizeName(name);
  std::optional<TableInfo> dropped;
  TARN_RETURN_IF_ERROR(store_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_RETURN_IF_ERROR(SchemaExists(tx, c, s));
    TARN_ASSIGN_OR_RETURN(auto existing, QueryTables(tx, "catalog_name = ? AND schema_name = ? AND name = ?",
                                                     {c, s, n}));
    if (existing.empty()) return Status::OK();
    dropped = existing.front();
    return tx.Execute("DELETE FROM catalog_tables WHERE catalog_name = ? AND schema_name = ? AND name = ?", {c, s, n})
        .status();
  }));
  if (dropped) DeleteManagedData(*dropped);
  return dropped;
}

Status Catalog::RenameTable(std::string_view catalog, std::string_view schema, std::string_view name,
                            std::string_view new_schema, std::string_view new_name) {
  std::string c = NormalizeName(catalog);
  std::string s = NormalizeName(schema);
  std::string n = NormalizeName(name);
  std::string s2 = NormalizeName(new_schema);
  std::string n2 = NormalizeName(new_name);
  TARN_RETURN_IF_ERROR(CheckName("table", n2));
  int64_t now = Now();
  return store_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_RETURN_IF_ERROR(SchemaExists(tx, c, s));
    TARN_RETURN_IF_ERROR(SchemaExists(tx, c, s2));
    TARN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("SELECT name FROM catalog_tables WHERE catalog_name = ? AND "
                                                "schema_name = ? AND name = ?",
                                                {c, s, n}));
    if (!row) return Error(ErrorCode::kTableNotFound, "table or view '{}.{}.{}' does not exist", c, s, n);
    TARN_ASSIGN_OR_RETURN(auto target, tx.QueryRow("SELECT name FROM catalog_tables WHERE catalog_name = ? AND "
                                                   "schema_name = ? AND name = ?",
                                                   {c, s2, n2}));
    if (target) return Error(ErrorCode::kDuplicateObject, "table or view '{}.{}.{}' already exists", c, s2, n2);
    return tx.Execute("UPDATE catalog_tables SET schema_name = ?, name = ?, updated_at = ? WHERE catalog_name = ? AND "
                      "schema_name = ? AND name = ?",
                      {s2, n2, now, c, s, n})
        .status();
  });
}

Status Catalog::UpdateTable(const TableInfo& info) {
  std::string c = NormalizeName(info.catalog_name);
  std::string s = NormalizeName(info.schema_name);
  std::string n = NormalizeName(info.name);
  TARN_ASSIGN_OR_RETURN(int64_t changed,
                        store_.Execute("UPDATE catalog_tables SET comment = ?, properties = ?, updated_at = ? WHERE "
                                       "catalog_name = ? AND schema_name = ? AND name = ?",
                                       {info.comment, PropertiesToJson(info.properties), Now(), c, s, n}));
  if (changed == 0) return Error(ErrorCode::kTableNotFound, "table or view '{}.{}.{}' does not exist", c, s, n);
  return Status::OK();
}

std::string Catalog::ManagedLocation(std::string_view catalog, std::string_view schema, std::string_view table) const {
  std::string c = NormalizeName(catalog);
  std::string s = NormalizeName(schema);
  std::string base = options_.dbfs_root + "/user/hive/warehouse";
  if (c != kDefaultCatalog) base += "/" + c + ".catalog";
  if (c != kDefaultCatalog || s != kDefaultSchema) base += "/" + s + ".db";
  std::string location = base + "/" + NormalizeName(table);
  std::error_code ec;
  for (int n = 1; fs::exists(location, ec); n++) location = base + "/" + NormalizeName(table) + "_" + std::to_string(n);
  return location;
}

Result<std::string> Catalog::ResolveLocation(std::string_view location) const {
  std::string path;
  if (location.starts_with("dbfs:/")) {
    std::string_view rest = location.substr(5);
    while (rest.starts_with("//")) rest.remove_prefix(1);
    path = options_.dbfs_root + std::string(rest);
  } else if (location.starts_with("file:")) {
    std::string_view rest = location.substr(5);
    if (rest.starts_with("///")) rest.remove_prefix(2);
    else if (rest.starts_with("//")) {
      return Error(ErrorCode::kInvalidParameterValue, "LOCATION '{}': file URIs with a host are not supported",
                   location);
    }
    path = std::string(rest);
  } else if (location.starts_with("/")) {
    path = std::string(location);
  } else {
    return Error(ErrorCode::kInvalidParameterValue,
                 "LOCATION '{}' must be an absolute path, a file: URI or a dbfs:/ path", location);
  }
  if (path.empty() || path[0] != '/') {
    return Error(ErrorCode::kInvalidParameterValue, "LOCATION '{}' is not an absolute path", location);
  }
  for (const auto& part : fs::path(path)) {
    if (part == "..") return Error(ErrorCode::kInvalidParameterValue, "LOCATION '{}' must not contain '..'", location);
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace tarn::catalog
