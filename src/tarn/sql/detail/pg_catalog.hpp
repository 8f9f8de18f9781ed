// SPDX-License-Identifier: Apache-2.0
// PgCatalog (module-private): a PostgreSQL-shaped pg_catalog / information_schema over the Tarn catalog, per session.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/status.hpp"
#include "tarn/catalog/catalog.hpp"
#include "tarn/delta/schema.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/sql/detail/tokens.hpp"

namespace tarn::engine {
class DuckCheckpointReader;
}

namespace tarn::sql::detail {

/// True when a statement mentions PostgreSQL catalog objects or functions (pg_catalog, information_schema, pg_*,
/// current_schema, regclass casts, OPERATOR(...)), i.e. when it needs the emulated catalog and RewritePgDialect.
bool NeedsPgCatalog(const std::vector<Token>& tokens);

/// Rewrites the PostgreSQL-only syntax client catalog queries use into DuckDB SQL over the session's emulated
/// catalog: strips `pg_catalog.` qualifiers (temporary tables/macros of the same names shadow DuckDB's),
/// `information_schema.x` -> `__pgi_x`, `OPERATOR(pg_catalog.~)`, PostgreSQL's partial-match `~`/`!~`/`~*` on a
/// pattern literal, `COLLATE pg_catalog.default`, casts to regclass/regtype/regnamespace/regproc/oid/name and
/// `'{a,b}'` array literals, 0-based int2vector subscripts (`indkey[n]`) and `generate_series(...) alias`.
std::string RewritePgDialect(std::string_view text);

/// The PostgreSQL type (OID, typmod) a Delta column is reported as.
struct PgColumnType {
  int32_t oid = 25;
  int32_t typmod = -1;
  int16_t len = -1;
};
PgColumnType PgColumnTypeOf(const delta::DataType& type);

/// Deterministic OID for a catalog object key (>= 16384, fits a signed int4).
int32_t PgObjectOid(std::string_view key);

/// One session's emulated catalog: DuckDB temporary tables, views and macros named like PostgreSQL's (pg_class,
/// pg_namespace, pg_attribute, pg_type, ..., format_type, current_schemas, ...) plus `__pgi_*` for
/// information_schema. Refresh rebuilds the tables describing the current catalog when anything changed (catalog
/// entries, a table's Delta version, the current catalog/schema), so DDL from any connection shows at the next
/// catalog query. Used by one thread at a time (the session's).
class PgCatalog {
 public:
  /// Errors: catalog errors, kInternal when DuckDB refuses the generated SQL.
  Status Refresh(engine::Session& engine, catalog::Catalog& catalog, engine::DuckCheckpointReader& reader,
                 const std::string& current_catalog, const std::string& current_schema);

 private:
  struct CachedSchema {
    int64_t version = -1;
    std::vector<delta::StructField> fields;
  };
  std::map<std::string, CachedSchema> schemas_;  // by table location
};

}  // namespace tarn::sql::detail
