// SPDX-License-Identifier: Apache-2.0
// PgCatalog: pg_catalog / information_schema emulation over the Tarn catalog, and the PostgreSQL-dialect rewrites.
#include "tarn/sql/detail/pg_catalog.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "tarn/delta/delta_table.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/sql_quoting.hpp"
#include "tarn/sql/detail/name_resolver.hpp"
#include "tarn/sql/detail/tokens.hpp"
#include "tarn/sql/spark_types.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace tarn::sql::detail {
namespace {

namespace fs = std::filesystem;
using engine::QuoteSqlString;

constexpr int32_t kPgCatalogNamespace = 11;
constexpr int32_t kInformationSchemaNamespace = 13183;
constexpr int32_t kOwner = 10;
constexpr const char* kOwnerName = "tarn";
// pg_postmaster_start_time(): when this process started (static initialization), Unix microseconds.
const int64_t kProcessStartMicros = std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();

// ---- types ----

struct PgType {
  int32_t oid;
  const char* name;
  int16_t len;
  char category;
  int32_t array;
  const char* input;
  const char* sql_name;  // format_type / information_schema.columns.data_type
};

constexpr PgType kTypes[] = {
    {16, "bool", 1, 'B', 1000, "boolin", "boolean"},
    {17, "bytea", -1, 'U', 1001, "byteain", "bytea"},
    {18, "char", 1, 'S', 1002, "charin", "\"char\""},
    {19, "name", 64, 'S', 1003, "namein", "name"},
    {20, "int8", 8, 'N', 1016, "int8in", "bigint"},
    {21, "int2", 2, 'N', 1005, "int2in", "smallint"},
    {22, "int2vector", -1, 'A', 1006, "int2vectorin", "int2vector"},
    {23, "int4", 4, 'N', 1007, "int4in", "integer"},
    {24, "regproc", 4, 'N', 1008, "regprocin", "regproc"},
    {25, "text", -1, 'S', 1009, "textin", "text"},
    {26, "oid", 4, 'N', 1028, "oidin", "oid"},
    {114, "json", -1, 'U', 199, "json_in", "json"},
    {700, "float4", 4, 'N', 1021, "float4in", "real"},
    {701, "float8", 8, 'N', 1022, "float8in", "double precision"},
    {705, "unknown", -2, 'X', 0, "unknownin", "unknown"},
    {1042, "bpchar", -1, 'S', 1014, "bpcharin", "character"},
    {1043, "varchar", -1, 'S', 1015, "varcharin", "character varying"},
    {1082, "date", 4, 'D', 1182, "date_in", "date"},
    {1083, "time", 8, 'D', 1183, "time_in", "time without time zone"},
    {1114, "timestamp", 8, 'D', 1115, "timestamp_in", "timestamp without time zone"},
    {1184, "timestamptz", 8, 'D', 1185, "timestamptz_in", "timestamp with time zone"},
    {1186, "interval", 16, 'T', 1187, "interval_in", "interval"},
    {1266, "timetz", 12, 'D', 1270, "timetz_in", "time with time zone"},
    {1700, "numeric", -1, 'N', 1231, "numeric_in", "numeric"},
    {2205, "regclass", 4, 'N', 2210, "regclassin", "regclass"},
    {2206, "regtype", 4, 'N', 2211, "regtypein", "regtype"},
    {2950, "uuid", 16, 'U', 2951, "uuid_in", "uuid"},
    {3802, "jsonb", -1, 'U', 3807, "jsonb_in", "jsonb"},
};

bool IsTextOid(int32_t oid) { return oid == 25 || oid == 1043 || oid == 1042 || oid == 19; }

std::string Q(std::string_view s) { return QuoteSqlString(s); }
std::string Num(int64_t v) { return std::to_string(v); }
std::string Bool(bool b) { return b ? "true" : "false"; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string FieldComment(const delta::StructField& field) {
  auto j = nlohmann::json::parse(field.metadata_json, nullptr, false);
  if (j.is_object() && j.contains("comment") && j["comment"].is_string()) return j["comment"].get<std::string>();
  return "";
}

bool IsPrimaryKey(const delta::StructField& field) {
  auto j = nlohmann::json::parse(field.metadata_json, nullptr, false);
  return j.is_object() && j.contains("tarn.primaryKey") && j["tarn.primaryKey"].is_boolean() &&
         j["tarn.primaryKey"].get<bool>();
}

Status Run(engine::Session& engine, const std::string& sql) {
  auto result = engine.Execute(sql);
  if (!result.ok()) {
    return Error(ErrorCode::kInternal, "pg_catalog emulation: {} (in: {})", result.status().message(),
                 sql.substr(0, 200));
  }
  (*result)->Close();
  return Status::OK();
}

// CREATE OR REPLACE TEMP TABLE name (cols); INSERT rows.
Status Table(engine::Session& engine, const std::string& name, const std::string& columns,
             const std::vector<std::string>& rows) {
  TARN_RETURN_IF_ERROR(Run(engine, "CREATE OR REPLACE TEMP TABLE " + name + " (" + columns + ")"));
  for (size_t i = 0; i < rows.size(); i += 500) {
    std::string sql = "INSERT INTO " + name + " VALUES ";
    for (size_t k = i; k < rows.size() && k < i + 500; k++) sql += (k > i ? ", (" : "(") + rows[k] + ")";
    TARN_RETURN_IF_ERROR(Run(engine, sql));
  }
  return Status::OK();
}

// PostgreSQL's quote_ident: quoted only when not a plain lower-case identifier.
std::string QuoteIdent(const std::string& name) {
  bool plain = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  return plain ? name : engine::QuoteSqlIdentifier(name);
}

// The PostgreSQL settings pg_settings and current_setting() answer (search_path is rewritten per session).
const std::vector<std::pair<const char*, const char*>>& PgSettings() {
  static const std::vector<std::pair<const char*, const char*>> settings = {
      {"max_index_keys", "32"},
      {"max_identifier_length", "63"},
      {"standard_conforming_strings", "on"},
      {"server_version", "15.0"},
      {"server_version_num", "150000"},
      {"server_encoding", "UTF8"},
      {"client_encoding", "UTF8"},
      {"DateStyle", "ISO, MDY"},
      {"IntervalStyle", "postgres"},
      {"TimeZone", "UTC"},
      {"integer_datetimes", "on"},
      {"search_path", "\"$user\", public"},
      {"transaction_isolation", "read committed"},
      {"default_transaction_isolation", "read committed"},
      {"block_size", "8192"},
      {"lc_collate", "C.UTF-8"},
      {"lc_ctype", "C.UTF-8"}
  };
  return settings;
}

// A view's columns: the result columns of `SELECT * FROM view LIMIT 0` (names resolved as any query's), as Delta
// fields through their Spark type names. Empty when the view cannot be read (e.g. a table it reads was dropped).
std::vector<delta::StructField> ViewFields(engine::Session& engine, catalog::Catalog& catalog,
                                           const catalog::TableInfo& view) {
  auto backtick = [](const std::string& name) {
    std::string out = "`";
    for (char c : name) out += c == '`' ? std::string("``") : std::string(1, c);
    return out + "`";
  };
  std::string sql = "SELECT * FROM " + backtick(view.catalog_name) + "." + backtick(view.schema_name) + "." +
                    backtick(view.name) + " LIMIT 0";
  std::vector<delta::StructField> fields;
  auto resolved = ResolveNames(sql, Tokenize(sql), catalog, {view.catalog_name, view.schema_name}, LatestLogVersion);
  if (!resolved.ok()) return fields;
  auto result = engine.Execute(*resolved);
  if (!result.ok()) return fields;
  for (const auto& column : (*result)->columns()) {
    delta::StructField field;
    field.name = column.name;
    auto type = ParseSparkType(SparkTypeNameOf(column.type));
    field.type = type.ok() ? *type : delta::DataType::Primitive(delta::TypeKind::kString);
    fields.push_back(std::move(field));
  }
  (*result)->Close();
  return fields;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// ---- the static part: types, settings, roles, empty catalogs, functions ----

Status CreateStatic(engine::Session& engine) {
  std::vector<std::string> types;
  std::vector<std::string> typeinfo;
  for (const auto& t : kTypes) {
    bool byval = t.len > 0 && t.len <= 8;
    types.push_back(Join({Num(t.oid), Q(t.name), Num(kPgCatalogNamespace), Num(kOwner), Num(t.len), Bool(byval), "'b'",
                          Q(std::string(1, t.category)), "false", "true", "','", "0", "0", Num(t.array), Q(t.input),
                          Q(std::string(t.input).substr(0, std::string(t.input).size() - 2) + "out"), Q("-"), Q("-"),
                          "'-'", "'-'", "'-'", t.len == 8 ? "'d'" : "'i'", t.len == -1 ? "'x'" : "'p'", "false", "0",
                          "-1", "0", Num(IsTextOid(t.oid) ? 100 : 0), "NULL", "NULL", "NULL"}));
    typeinfo.push_back(Join({Num(t.oid), Q(t.sql_name), "0"}));
    if (t.array != 0) {
      types.push_back(Join({Num(t.array), Q(std::string("_") + t.name), Num(kPgCatalogNamespace), Num(kOwner), "-1",
                            "false", "'b'", "'A'", "false", "true", "','", "0", Num(t.oid), "0", "'array_in'",
                            "'array_out'", "'array_recv'", "'array_send'", "'-'", "'-'", "'-'", "'i'", "'x'",
                            "false", "0", "-1", "0", Num(IsTextOid(t.oid) ? 100 : 0), "NULL", "NULL", "NULL"}));
      typeinfo.push_back(Join({Num(t.array), Q(std::string(t.sql_name) + "[]"), Num(t.oid)}));
    }
  }
  TARN_RETURN_IF_ERROR(Table(
      engine, "pg_type",
      "oid INTEGER, typname VARCHAR, typnamespace INTEGER, typowner INTEGER, typlen SMALLINT, typbyval BOOLEAN, "
      "typtype VARCHAR, typcategory VARCHAR, typispreferred BOOLEAN, typisdefined BOOLEAN, typdelim VARCHAR, "
      "typrelid INTEGER, typelem INTEGER, typarray INTEGER, typinput VARCHAR, typoutput VARCHAR, typreceive VARCHAR, "
      "typsend VARCHAR, typmodin VARCHAR, typmodout VARCHAR, typanalyze VARCHAR, typalign VARCHAR, typstorage VARCHAR, "
      "typnotnull BOOLEAN, typbasetype INTEGER, typtypmod INTEGER, typndims INTEGER, typcollation INTEGER, "
      "typdefaultbin VARCHAR, typdefault VARCHAR, typacl VARCHAR[]",
      types));
  // typreceive for arrays: Npgsql checks proname = 'array_recv'; the base types get <name>recv.
  TARN_RETURN_IF_ERROR(Run(engine, "UPDATE pg_type SET typreceive = regexp_replace(typinput, 'in$', 'recv'), "
                                   "typsend = regexp_replace(typinput, 'in$', 'send') WHERE typcategory <> 'A'"));
  TARN_RETURN_IF_ERROR(Table(engine, "__pg_typeinfo", "oid INTEGER, sql_name VARCHAR, elem INTEGER", typeinfo));

  TARN_RETURN_IF_ERROR(Table(engine, "pg_am", "oid INTEGER, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR",
                             {"2, 'heap', 'heap_tableam_handler', 't'", "403, 'btree', 'bthandler', 'i'"}));
  std::vector<std::string> settings;
  for (auto [name, value] : PgSettings()) {
    settings.push_back(Join({Q(name), Q(value), "NULL", "'Preset Options'", "''", "NULL", "'internal'", "'string'",
                             "'default'", "NULL", "NULL", "NULL", Q(value), Q(value), "NULL", "NULL", "false"}));
  }
  TARN_RETURN_IF_ERROR(Table(engine, "pg_settings",
                             "name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR, "
                             "extra_desc VARCHAR, context VARCHAR, vartype VARCHAR, source VARCHAR, min_val VARCHAR, "
                             "max_val VARCHAR, enumvals VARCHAR[], boot_val VARCHAR, reset_val VARCHAR, "
                             "sourcefile VARCHAR, sourceline INTEGER, pending_restart BOOLEAN",
                             settings));
  const std::string role_columns =
      "oid INTEGER, rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, "
      "rolcanlogin BOOLEAN, rolreplication BOOLEAN, rolconnlimit INTEGER, rolpassword VARCHAR, rolvaliduntil "
      "TIMESTAMPTZ, rolbypassrls BOOLEAN, rolconfig VARCHAR[]";
  TARN_RETURN_IF_ERROR(Table(engine, "pg_roles", role_columns,
                             {Num(kOwner) + ", " + Q(kOwnerName) +
                              ", false, true, false, false, true, false, -1, '********', NULL, false, NULL"}));
  TARN_RETURN_IF_ERROR(Run(engine, "CREATE OR REPLACE TEMP VIEW pg_user AS SELECT rolname AS usename, oid AS usesysid, "
                                   "rolcreatedb AS usecreatedb, rolsuper AS usesuper, rolreplication AS userepl, "
                                   "rolbypassrls AS usebypassrls, rolpassword AS passwd, rolvaliduntil AS valuntil, "
                                   "rolconfig AS useconfig FROM pg_roles"));
  TARN_RETURN_IF_ERROR(Table(engine, "pg_collation",
                             "oid INTEGER, collname VARCHAR, collnamespace INTEGER, collowner INTEGER, "
                             "collprovider VARCHAR, collisdeterministic BOOLEAN, collencoding INTEGER, "
                             "collcollate VARCHAR, collctype VARCHAR, colliculocale VARCHAR, collversion VARCHAR",
                             {"100, 'default', 11, 10, 'd', true, -1, NULL, NULL, NULL, NULL",
                              "950, 'C', 11, 10, 'c', true, -1, 'C', 'C', NULL, NULL"}));
  TARN_RETURN_IF_ERROR(Table(engine, "pg_tablespace",
                             "oid INTEGER, spcname VARCHAR, spcowner INTEGER, spcacl VARCHAR[], spcoptions VARCHAR[]",
                             {"1663, 'pg_default', 10, NULL, NULL"}));
  // Catalogs that exist in PostgreSQL and have nothing to say here: empty but with PostgreSQL's columns.
  const std::pair<const char*, const char*> empty[] = {
      {"pg_attrdef", "oid INTEGER, adrelid INTEGER, adnum SMALLINT, adbin VARCHAR"},
      {"pg_inherits", "inhrelid INTEGER, inhparent INTEGER, inhseqno INTEGER, inhdetachpending BOOLEAN"},
      {"pg_policy",
       "oid INTEGER, polname VARCHAR, polrelid INTEGER, polcmd VARCHAR, polpermissive BOOLEAN, polroles INTEGER[], "
       "polqual VARCHAR, polwithcheck VARCHAR"},
      {"pg_statistic_ext",
       "oid INTEGER, stxrelid INTEGER, stxname VARCHAR, stxnamespace INTEGER, stxowner INTEGER, stxstattarget "
       "INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR"},
      {"pg_publication",
       "oid INTEGER, pubname VARCHAR, pubowner INTEGER, puballtables BOOLEAN, pubinsert BOOLEAN, pubupdate BOOLEAN, "
       "pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN"},
      {"pg_publication_namespace", "oid INTEGER, pnpubid INTEGER, pnnspid INTEGER"},
      {"pg_publication_rel", "oid INTEGER, prpubid INTEGER, prrelid INTEGER, prqual VARCHAR, prattrs SMALLINT[]"},
      {"pg_trigger",
       "oid INTEGER, tgrelid INTEGER, tgparentid INTEGER, tgname VARCHAR, tgfoid INTEGER, tgtype SMALLINT, "
       "tgenabled VARCHAR, tgisinternal BOOLEAN, tgconstrrelid INTEGER, tgconstrindid INTEGER, tgconstraint INTEGER, "
       "tgdeferrable BOOLEAN, tginitdeferred BOOLEAN, tgnargs SMALLINT, tgattr SMALLINT[], tgargs VARCHAR, "
       "tgqual VARCHAR, tgoldtable VARCHAR, tgnewtable VARCHAR"},
      {"pg_extension",
       "oid INTEGER, extname VARCHAR, extowner INTEGER, extnamespace INTEGER, extrelocatable BOOLEAN, extversion "
       "VARCHAR, extconfig INTEGER[], extcondition VARCHAR[]"},
      {"pg_range",
       "rngtypid INTEGER, rngsubtype INTEGER, rngmultitypid INTEGER, rngcollation INTEGER, rngsubopc INTEGER, "
       "rngcanonical VARCHAR, rngsubdiff VARCHAR"},
      {"pg_enum", "oid INTEGER, enumtypid INTEGER, enumsortorder FLOAT, enumlabel VARCHAR"},
      {"pg_auth_members", "roleid INTEGER, member INTEGER, grantor INTEGER, admin_option BOOLEAN"},
      {"pg_matviews",
       "schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR, tablespace VARCHAR, hasindexes BOOLEAN, "
       "ispopulated BOOLEAN, definition VARCHAR"},
      {"pg_shdescription", "objoid INTEGER, classoid INTEGER, description VARCHAR"},
      {"pg_partitioned_table",
       "partrelid INTEGER, partstrat VARCHAR, partnatts SMALLINT, partdefid INTEGER, partattrs SMALLINT[]"},
      {"pg_foreign_table", "ftrelid INTEGER, ftserver INTEGER, ftoptions VARCHAR[]"},
  };
  for (const auto& [name, columns] : empty) TARN_RETURN_IF_ERROR(Table(engine, name, columns, {}));
  return Status::OK();
}

// Functions (temporary macros shadow DuckDB's pg_catalog ones); created after the tables they read.
Status CreateFunctions(engine::Session& engine) {

  // format_type: PostgreSQL spellings with typmods.
  TARN_RETURN_IF_ERROR(Run(
      engine,
      "CREATE OR REPLACE TEMP MACRO format_type(t, m) AS CASE WHEN t IS NULL THEN NULL "
      "WHEN t = 1700 AND m >= 4 THEN 'numeric(' || ((m - 4) >> 16) || ',' || ((m - 4) & 65535) || ')' "
      "WHEN t = 1043 AND m >= 4 THEN 'character varying(' || (m - 4) || ')' "
      "WHEN t = 1042 AND m >= 4 THEN 'character(' || (m - 4) || ')' "
      "WHEN t IN (1114, 1184, 1083, 1266) AND m >= 0 THEN regexp_replace((SELECT sql_name FROM __pg_typeinfo __i WHERE "
      "__i.oid = t), '^(timestamp|time)', '\\1(' || m || ')') "
      "ELSE coalesce((SELECT sql_name FROM __pg_typeinfo __i WHERE __i.oid = t), repeat('?', 3)) END"));
  const char* macros[] = {
      "pg_get_userbyid(r) AS CASE WHEN r IS NULL THEN NULL ELSE 'tarn' END",
      "pg_encoding_to_char(e) AS CASE WHEN e = 6 THEN 'UTF8' WHEN e = 0 THEN 'SQL_ASCII' ELSE '' END",
      "pg_char_to_encoding(e) AS CASE WHEN upper(e) IN ('UTF8', 'UTF-8') THEN 6 ELSE -1 END",
      "pg_table_is_visible(r) AS coalesce((SELECT __n.nspname IN (current_schema(), 'pg_catalog') FROM pg_class __c "
      "JOIN pg_namespace __n ON __n.oid = __c.relnamespace WHERE __c.oid = r), false)",
      "pg_type_is_visible(t) AS true",
      "pg_function_is_visible(f) AS true",
      "obj_description(o) AS (SELECT min(description) FROM pg_description WHERE objoid = o AND objsubid = 0), "
      "(o, c) AS (SELECT min(description) FROM pg_description WHERE objoid = o AND objsubid = 0)",
      "col_description(o, n) AS (SELECT min(description) FROM pg_description WHERE objoid = o AND objsubid = n)",
      "shobj_description(o, c) AS CAST(NULL AS VARCHAR)",
      "pg_get_expr(e, r) AS CAST(e AS VARCHAR), (e, r, p) AS CAST(e AS VARCHAR)",
      "has_table_privilege(a, b) AS true, (a, b, c) AS true",
      "has_schema_privilege(a, b) AS true, (a, b, c) AS true",
      "has_database_privilege(a, b) AS true, (a, b, c) AS true",
      "has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true",
      "has_any_column_privilege(a, b) AS true, (a, b, c) AS true",
      "has_function_privilege(a, b) AS true, (a, b, c) AS true",
      "has_sequence_privilege(a, b) AS true, (a, b, c) AS true",
      "pg_has_role(a, b) AS true, (a, b, c) AS true",
      "array_upper(a, d) AS CASE WHEN len(a) > 0 THEN len(a) END",
      "array_lower(a, d) AS CASE WHEN len(a) > 0 THEN 1 END",
      "array_ndims(a) AS CASE WHEN a IS NOT NULL THEN 1 END",
      "pg_get_indexdef(i) AS (SELECT min(indexdef) FROM __pg_indexdef __d WHERE __d.oid = i), "
      "(i, c, p) AS (SELECT min(CASE WHEN c = 0 THEN indexdef ELSE columndef END) FROM __pg_indexdef __d "
      "WHERE __d.oid = i)",
      "pg_get_constraintdef(i) AS (SELECT min(def) FROM __pg_constraintdef __d WHERE __d.oid = i), "
      "(i, p) AS (SELECT min(def) FROM __pg_constraintdef __d WHERE __d.oid = i)",
      "pg_get_viewdef(v) AS (SELECT min(__w.definition) FROM pg_views __w JOIN pg_class __c ON __c.relname = __w.viewname "
      "WHERE __c.oid = v), (v, p) AS (SELECT min(__w.definition) FROM pg_views __w JOIN pg_class __c ON "
      "__c.relname = __w.viewname WHERE __c.oid = v)",
      "pg_relation_is_publishable(r) AS false",
      "pg_get_statisticsobjdef_columns(o) AS CAST(NULL AS VARCHAR)",
      "pg_get_partkeydef(r) AS CAST(NULL AS VARCHAR)",
      "pg_get_serial_sequence(t, c) AS CAST(NULL AS VARCHAR)",
      "pg_get_function_result(f) AS CAST(NULL AS VARCHAR)",
      "pg_get_function_arguments(f) AS CAST(NULL AS VARCHAR)",
      "pg_get_function_identity_arguments(f) AS CAST(NULL AS VARCHAR)",
      "pg_get_triggerdef(t) AS CAST(NULL AS VARCHAR), (t, p) AS CAST(NULL AS VARCHAR)",
      "pg_get_ruledef(t) AS CAST(NULL AS VARCHAR), (t, p) AS CAST(NULL AS VARCHAR)",
      "pg_is_in_recovery() AS false",
      "pg_total_relation_size(r) AS CAST(0 AS BIGINT)",
      "pg_relation_size(r) AS CAST(0 AS BIGINT), (r, f) AS CAST(0 AS BIGINT)",
      "pg_table_size(r) AS CAST(0 AS BIGINT)",
      "pg_indexes_size(r) AS CAST(0 AS BIGINT)",
      "pg_size_pretty(s) AS format_bytes(CAST(s AS BIGINT))",
      "quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s ELSE "
      "'\"' || replace(s, '\"', '\"\"') || '\"' END",
      "txid_current() AS CAST(1 AS BIGINT)",
      "parse_ident(s) AS list_transform(regexp_extract_all(s, '\"(?:[^\"]|\"\")*\"|[^.\"]+'), x -> CASE WHEN "
      "x LIKE '\"%' THEN replace(x[2:-2], '\"\"', '\"') ELSE lower(trim(x)) END), (s, strict) AS "
      "list_transform(regexp_extract_all(s, '\"(?:[^\"]|\"\")*\"|[^.\"]+'), x -> CASE WHEN x LIKE '\"%' THEN "
      "replace(x[2:-2], '\"\"', '\"') ELSE lower(trim(x)) END)",
      "__pg_regclass_in(s) AS coalesce(CASE lower(regexp_replace(s, '^pg_catalog\\.', '')) WHEN 'pg_class' THEN 1259 "
      "WHEN 'pg_type' THEN 1247 WHEN 'pg_proc' THEN 1255 WHEN 'pg_attribute' THEN 1249 WHEN 'pg_namespace' THEN 2615 "
      "WHEN 'pg_database' THEN 1262 WHEN 'pg_constraint' THEN 2606 WHEN 'pg_extension' THEN 3079 WHEN 'pg_index' THEN "
      "2610 WHEN 'pg_description' THEN 2609 WHEN 'pg_authid' THEN 1260 WHEN 'pg_trigger' THEN 2620 WHEN 'pg_am' THEN "
      "2601 WHEN 'pg_collation' THEN 3456 END, (SELECT min(__c.oid) FROM pg_class __c WHERE __c.relname = "
      "regexp_replace(regexp_replace(s, '^.*\\.', ''), '\"', '', 'g')))",
      "__pg_regclass_out(o) AS coalesce((SELECT min(__c.relname) FROM pg_class __c WHERE __c.oid = o), CAST(o AS VARCHAR))",
      "__pg_regtype_in(s) AS (SELECT min(__t.oid) FROM pg_type __t WHERE __t.typname = "
      "regexp_replace(lower(s), '^pg_catalog\\.', '') OR __t.oid = (SELECT min(__i.oid) FROM __pg_typeinfo __i WHERE "
      "__i.sql_name = lower(s)))",
      "__pg_regtype_out(o) AS format_type(o, NULL)",
      "__pg_regnamespace_in(s) AS (SELECT min(__n.oid) FROM pg_namespace __n WHERE __n.nspname = s)",
      "__pg_regnamespace_out(o) AS coalesce((SELECT min(__n.nspname) FROM pg_namespace __n WHERE __n.oid = o), "
      "CAST(o AS VARCHAR))",
      "__pg_text_array(s) AS CASE WHEN s IS NULL THEN NULL WHEN trim(s) = '{}' THEN CAST([] AS VARCHAR[]) ELSE "
      "list_transform(string_split(trim(trim(s), '{}'), ','), x -> trim(trim(x), '\"')) END",
      "__pg_expandarray(a) AS unnest(list_transform(generate_series(1, len(a)), k -> {'x': a[k], 'n': k}))",
  };
  for (const char* m : macros) TARN_RETURN_IF_ERROR(Run(engine, std::string("CREATE OR REPLACE TEMP MACRO ") + m));
  TARN_RETURN_IF_ERROR(Run(engine, "CREATE OR REPLACE TEMP MACRO pg_postmaster_start_time() AS CAST(make_timestamp("
                                   "CAST(" + Num(kProcessStartMicros) + " AS BIGINT)) AS TIMESTAMPTZ)"));
  TARN_RETURN_IF_ERROR(Run(engine,
                           "CREATE OR REPLACE TEMP MACRO pg_get_keywords() AS TABLE SELECT * FROM (VALUES "
                           "('all', 'R', 'reserved'), ('and', 'R', 'reserved'), ('any', 'R', 'reserved'), "
                           "('as', 'R', 'reserved'), ('from', 'R', 'reserved'), ('select', 'R', 'reserved'), "
                           "('where', 'R', 'reserved'), ('qualify', 'R', 'reserved'), ('pivot', 'R', 'reserved'), "
                           "('unpivot', 'R', 'reserved')) AS k(word, catcode, catdesc)"));
  return Status::OK();
}

// Views over the dynamic tables (created once; they read whatever the tables hold).
Status CreateViews(engine::Session& engine) {
  const char* views[] = {
      "pg_tables AS SELECT n.nspname AS schemaname, c.relname AS tablename, 'tarn' AS tableowner, "
      "CAST(NULL AS VARCHAR) AS tablespace, c.relhasindex AS hasindexes, false AS hasrules, false AS hastriggers, "
      "false AS rowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', "
      "'p')",
      "pg_views AS SELECT n.nspname AS schemaname, c.relname AS viewname, 'tarn' AS viewowner, v.definition "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN __pg_viewdef v ON v.oid = c.oid "
      "WHERE c.relkind = 'v'",
      "pg_indexes AS SELECT n.nspname AS schemaname, t.relname AS tablename, ic.relname AS indexname, "
      "CAST(NULL AS VARCHAR) AS tablespace, d.indexdef FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
      "JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
      "JOIN __pg_indexdef d ON d.oid = i.indexrelid",
      "__pgi_schemata AS SELECT current_database() AS catalog_name, nspname AS schema_name, 'tarn' AS schema_owner, "
      "CAST(NULL AS VARCHAR) AS default_character_set_catalog, CAST(NULL AS VARCHAR) AS default_character_set_schema, "
      "CAST(NULL AS VARCHAR) AS default_character_set_name, CAST(NULL AS VARCHAR) AS sql_path FROM pg_namespace",
      "__pgi_tables AS SELECT current_database() AS table_catalog, n.nspname AS table_schema, c.relname AS "
      "table_name, CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'BASE TABLE' END AS table_type, "
      "CAST(NULL AS VARCHAR) AS self_referencing_column_name, CAST(NULL AS VARCHAR) AS reference_generation, "
      "CAST(NULL AS VARCHAR) AS user_defined_type_catalog, CAST(NULL AS VARCHAR) AS user_defined_type_schema, "
      "CAST(NULL AS VARCHAR) AS user_defined_type_name, CASE c.relkind WHEN 'r' THEN 'YES' ELSE 'NO' END AS "
      "is_insertable_into, 'NO' AS is_typed, CAST(NULL AS VARCHAR) AS commit_action FROM pg_class c JOIN "
      "pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v')",
      "__pgi_columns AS SELECT current_database() AS table_catalog, n.nspname AS table_schema, c.relname AS "
      "table_name, a.attname AS column_name, CAST(a.attnum AS INTEGER) AS ordinal_position, CAST(NULL AS VARCHAR) AS "
      "column_default, CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable, CASE WHEN ti.elem <> 0 THEN "
      "'ARRAY' ELSE ti.sql_name END AS data_type, CASE WHEN a.atttypid IN (1043, 1042) AND a.atttypmod >= 4 THEN "
      "a.atttypmod - 4 END AS character_maximum_length, CASE WHEN a.atttypid IN (25, 1043, 1042) THEN 1073741824 END "
      "AS character_octet_length, CASE a.atttypid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64 WHEN 700 THEN 24 "
      "WHEN 701 THEN 53 WHEN 1700 THEN CASE WHEN a.atttypmod >= 4 THEN (a.atttypmod - 4) >> 16 END END AS "
      "numeric_precision, CASE WHEN a.atttypid IN (21, 23, 20, 700, 701) THEN 2 WHEN a.atttypid = 1700 THEN 10 END AS "
      "numeric_precision_radix, CASE WHEN a.atttypid IN (21, 23, 20) THEN 0 WHEN a.atttypid = 1700 AND a.atttypmod "
      ">= 4 THEN (a.atttypmod - 4) & 65535 END AS numeric_scale, CASE WHEN a.atttypid IN (1082) THEN 0 WHEN "
      "a.atttypid IN (1083, 1114, 1184, 1266) THEN 6 END AS datetime_precision, CAST(NULL AS VARCHAR) AS "
      "interval_type, CAST(NULL AS INTEGER) AS interval_precision, current_database() AS udt_catalog, 'pg_catalog' "
      "AS udt_schema, t.typname AS udt_name, CAST(a.attnum AS INTEGER) AS dtd_identifier, 'NO' AS "
      "is_self_referencing, 'NO' AS is_identity, CAST(NULL AS VARCHAR) AS identity_generation, 'NEVER' AS "
      "is_generated, CAST(NULL AS VARCHAR) AS generation_expression, CASE c.relkind WHEN 'r' THEN 'YES' ELSE 'NO' END "
      "AS is_updatable FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = "
      "c.relnamespace LEFT JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN __pg_typeinfo ti ON ti.oid = a.atttypid "
      "WHERE c.relkind IN ('r', 'p', 'v') AND a.attnum > 0",
      "__pgi_views AS SELECT current_database() AS table_catalog, schemaname AS table_schema, viewname AS "
      "table_name, definition AS view_definition, 'NONE' AS check_option, 'NO' AS is_updatable, 'NO' AS "
      "is_insertable_into, 'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable, 'NO' AS "
      "is_trigger_insertable_into FROM pg_views",
      "__pgi_table_constraints AS SELECT current_database() AS constraint_catalog, n.nspname AS constraint_schema, "
      "k.conname AS constraint_name, current_database() AS table_catalog, n.nspname AS table_schema, c.relname AS "
      "table_name, 'PRIMARY KEY' AS constraint_type, 'NO' AS is_deferrable, 'NO' AS initially_deferred, 'YES' AS "
      "enforced, CAST(NULL AS VARCHAR) AS nulls_distinct FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace",
      "__pgi_key_column_usage AS SELECT current_database() AS constraint_catalog, n.nspname AS constraint_schema, "
      "k.conname AS constraint_name, current_database() AS table_catalog, n.nspname AS table_schema, c.relname AS "
      "table_name, a.attname AS column_name, CAST(k.e.n AS INTEGER) AS ordinal_position, CAST(NULL AS INTEGER) AS "
      "position_in_unique_constraint FROM (SELECT *, __pg_expandarray(conkey) AS e FROM pg_constraint) k JOIN "
      "pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON "
      "a.attrelid = k.conrelid AND a.attnum = k.e.x",
  };
  for (const char* v : views) TARN_RETURN_IF_ERROR(Run(engine, std::string("CREATE OR REPLACE TEMP VIEW ") + v));
  return Status::OK();
}

}  // namespace

PgColumnType PgColumnTypeOf(const delta::DataType& type) {
  using delta::TypeKind;
  switch (type.kind()) {
    case TypeKind::kString: return {1043, -1, -1};
    case TypeKind::kLong: return {20, -1, 8};
    case TypeKind::kInteger: return {23, -1, 4};
    case TypeKind::kShort:
    case TypeKind::kByte: return {21, -1, 2};
    case TypeKind::kFloat: return {700, -1, 4};
    case TypeKind::kDouble: return {701, -1, 8};
    case TypeKind::kBoolean: return {16, -1, 1};
    case TypeKind::kBinary: return {17, -1, -1};
    case TypeKind::kDate: return {1082, -1, 4};
    case TypeKind::kTimestamp: return {1184, -1, 8};
    case TypeKind::kTimestampNtz: return {1114, -1, 8};
    case TypeKind::kDecimal: return {1700, ((type.precision() << 16) | type.scale()) + 4, -1};
    case TypeKind::kArray: {
      PgColumnType element = PgColumnTypeOf(*type.element_type());
      for (const auto& t : kTypes) {
        if (t.oid == element.oid && t.array != 0) return {t.array, element.typmod, -1};
      }
      return {25, -1, -1};
    }
    case TypeKind::kVariant: return {114, -1, -1};
    default: return {25, -1, -1};
  }
}

int32_t PgObjectOid(std::string_view key) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int32_t>(16384 + (h % 2000000000ull));
}

Status PgCatalog::Refresh(engine::Session& engine, catalog::Catalog& catalog, engine::DuckCheckpointReader& reader,
                          const std::string& current_catalog, const std::string& current_schema) {
  // Everything the emulated catalog shows, as a fingerprint: rebuild only when it changed.
  TARN_ASSIGN_OR_RETURN(auto catalogs, catalog.ListCatalogs());
  TARN_ASSIGN_OR_RETURN(auto schemas, catalog.ListSchemas(current_catalog));
  std::vector<catalog::TableInfo> tables;
  std::string fp = current_catalog + "\x1f" + current_schema + "\x1e";
  for (const auto& c : catalogs) fp += c.name + "\x1f" + c.comment + "\x1e";
  std::vector<std::optional<int64_t>> versions;
  for (const auto& s : schemas) {
    fp += "S" + s.name + "\x1f" + s.comment + "\x1e";
    TARN_ASSIGN_OR_RETURN(auto list, catalog.ListTables(current_catalog, s.name));
    for (auto& t : list) {
      std::optional<int64_t> version = t.is_view() ? std::nullopt : LatestLogVersion(t.location);
      fp += "T" + t.schema_name + "\x1f" + t.name + "\x1f" + t.table_id + "\x1f" + t.comment + "\x1f" +
            t.view_text + "\x1f" + std::to_string(version.value_or(-1)) + "\x1e";
      versions.push_back(version);
      tables.push_back(std::move(t));
    }
  }
  fp = std::to_string(std::hash<std::string>{}(fp));
  // The state lives in DuckDB so that a ROLLBACK of the transaction that built it is noticed.
  std::optional<std::string> stored;
  if (auto state = engine.Execute("SELECT fp FROM __pg_state"); state.ok()) {
    auto chunk = (*state)->Next();
    if (chunk.ok() && *chunk && (*chunk)->num_rows() == 1) stored = std::string((*chunk)->GetString(0, 0));
    (*state)->Close();
  }
  if (stored && *stored == fp) return Status::OK();
  if (!stored) TARN_RETURN_IF_ERROR(CreateStatic(engine));

  std::vector<std::string> databases;
  for (const auto& c : catalogs) {
    databases.push_back(Join({Num(PgObjectOid("db:" + c.name)), Q(c.name), Num(kOwner), "6", "'c'", "false", "true",
                              "-1", "0", "0", "1663", "'C.UTF-8'", "'C.UTF-8'", "NULL", "NULL", "NULL"}));
  }
  std::vector<std::string> namespaces = {Join({Num(kPgCatalogNamespace), "'pg_catalog'", Num(kOwner), "NULL"}),
                                         Join({Num(kInformationSchemaNamespace), "'information_schema'", Num(kOwner),
                                               "NULL"})};
  std::vector<std::string> descriptions;
  std::map<std::string, int32_t> namespace_oids;
  for (const auto& s : schemas) {
    int32_t oid = PgObjectOid("ns:" + current_catalog + "." + s.name);
    namespace_oids[s.name] = oid;
    namespaces.push_back(Join({Num(oid), Q(s.name), Num(kOwner), "NULL"}));
    if (!s.comment.empty()) descriptions.push_back(Join({Num(oid), "2615", "0", Q(s.comment)}));
  }
  std::vector<std::string> classes;
  std::vector<std::string> attributes;
  std::vector<std::string> indexes;
  std::vector<std::string> indexdefs;
  std::vector<std::string> constraints;
  std::vector<std::string> constraintdefs;
  std::vector<std::string> viewdefs;
  std::set<std::string> live_locations;
  for (size_t k = 0; k < tables.size(); k++) {
    const auto& t = tables[k];
    int32_t oid = PgObjectOid("rel:" + t.table_id + ":" + t.full_name());
    int32_t ns = namespace_oids[t.schema_name];
    std::vector<delta::StructField> fields;
    if (t.is_view()) fields = ViewFields(engine, catalog, t);
    if (!t.is_view() && versions[k]) {
      live_locations.insert(t.location);
      auto& cached = schemas_[t.location];
      if (cached.version != *versions[k]) {
        auto store = storage::LocalObjectStore::Create(t.location, false);
        if (store.ok()) {
          delta::TableOptions options;
          options.checkpoint_reader = &reader;
          delta::DeltaTable table(**store, "", options);
          auto snapshot = table.Latest();
          if (snapshot.ok()) {
            cached.version = (*snapshot)->version();
            cached.fields = (*snapshot)->schema().fields();
          }
        }
      }
      fields = cached.fields;
    }
    std::vector<std::pair<std::string, int16_t>> key;  // primary key columns
    for (size_t a = 0; a < fields.size(); a++) {
      const auto& f = fields[a];
      PgColumnType pt = PgColumnTypeOf(*f.type);
      bool byval = pt.len > 0 && pt.len <= 8;
      attributes.push_back(Join({Num(oid), Q(f.name), Num(pt.oid), "-1", Num(pt.len), Num(static_cast<int64_t>(a + 1)),
                                 Num(pt.oid >= 1000 && pt.oid != 1042 && pt.oid != 1043 && pt.oid < 1200 ? 1 : 0),
                                 "-1", Num(pt.typmod), Bool(byval), "'i'", byval ? "'p'" : "'x'", "''",
                                 Bool(!f.nullable), "false", "false", "''", "''", "false", "true", "0",
                                 Num(IsTextOid(pt.oid) ? 100 : 0)}));
      std::string comment = FieldComment(f);
      if (!comment.empty()) {
        descriptions.push_back(Join({Num(oid), "1259", Num(static_cast<int64_t>(a + 1)), Q(comment)}));
      }
      if (IsPrimaryKey(f)) key.emplace_back(f.name, static_cast<int16_t>(a + 1));
    }
    classes.push_back(Join({Num(oid), Q(t.name), Num(ns), "0", "0", Num(kOwner), t.is_view() ? "0" : "2", "0", "0",
                            "0", "-1", "0", "0", Bool(!key.empty()), "false", "'p'", t.is_view() ? "'v'" : "'r'",
                            Num(static_cast<int64_t>(fields.size())), "0", Bool(t.is_view()), "false", "false",
                            "false", "false", "false", "true", "'d'", "0", "0", "0", "NULL", "NULL", "NULL"}));
    if (!t.comment.empty()) descriptions.push_back(Join({Num(oid), "1259", "0", Q(t.comment)}));
    if (t.is_view()) viewdefs.push_back(Join({Num(oid), Q(t.view_text)}));
    if (!key.empty()) {
      std::string index_name = t.name + "_pkey";
      int32_t index_oid = PgObjectOid("idx:" + t.table_id + ":" + t.full_name());
      int32_t constraint_oid = PgObjectOid("con:" + t.table_id + ":" + t.full_name());
      std::string keys;
      std::string names;
      std::string zeros;
      for (size_t i = 0; i < key.size(); i++) {
        keys += (i ? ", " : "") + Num(key[i].second);
        names += (i ? ", " : "") + QuoteIdent(key[i].first);
        zeros += i ? ", 0" : "0";
        // The index's own attributes (ODBC's SQLPrimaryKeys joins them).
        const delta::StructField& f = fields[static_cast<size_t>(key[i].second - 1)];
        PgColumnType pt = PgColumnTypeOf(*f.type);
        attributes.push_back(Join({Num(index_oid), Q(f.name), Num(pt.oid), "-1", Num(pt.len),
                                   Num(static_cast<int64_t>(i + 1)), "0", "-1", Num(pt.typmod), "false", "'i'", "'p'",
                                   "''", "false", "false", "false", "''", "''", "false", "true", "0",
                                   Num(IsTextOid(pt.oid) ? 100 : 0)}));
      }
      classes.push_back(Join({Num(index_oid), Q(index_name), Num(ns), "0", "0", Num(kOwner), "403", "0", "0", "0",
                              "-1", "0", "0", "false", "false", "'p'", "'i'", Num(static_cast<int64_t>(key.size())),
                              "0", "false", "false", "false", "false", "false", "false", "true", "'n'", "0", "0", "0",
                              "NULL", "NULL", "NULL"}));
      indexes.push_back(Join({Num(index_oid), Num(oid), Num(static_cast<int64_t>(key.size())),
                              Num(static_cast<int64_t>(key.size())), "true", "true", "false", "true", "false", "true",
                              "false", "true", "true", "false", "[" + keys + "]", "[" + zeros + "]",
                              "[" + zeros + "]", "[" + zeros + "]", "NULL", "NULL"}));
      std::string qualified = QuoteIdent(t.schema_name) + "." + QuoteIdent(t.name);
      indexdefs.push_back(Join({Num(index_oid), Q("CREATE UNIQUE INDEX " + index_name + " ON " + qualified +
                                                 " USING btree (" + names + ")"),
                                Q(names)}));
      constraints.push_back(Join({Num(constraint_oid), Q(index_name), Num(ns), "'p'", "false", "false", "true",
                                  Num(oid), "0", Num(index_oid), "0", "0", "' '", "' '", "' '", "true", "0", "true",
                                  "[" + keys + "]", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"}));
      constraintdefs.push_back(Join({Num(constraint_oid), Q("PRIMARY KEY (" + names + ")")}));
    }
  }
  for (auto it = schemas_.begin(); it != schemas_.end();) {
    it = live_locations.count(it->first) ? std::next(it) : schemas_.erase(it);
  }

  TARN_RETURN_IF_ERROR(Table(
      engine, "pg_database",
      "oid INTEGER, datname VARCHAR, datdba INTEGER, encoding INTEGER, datlocprovider VARCHAR, datistemplate BOOLEAN, "
      "datallowconn BOOLEAN, datconnlimit INTEGER, datfrozenxid INTEGER, datminmxid INTEGER, dattablespace INTEGER, "
      "datcollate VARCHAR, datctype VARCHAR, daticulocale VARCHAR, datcollversion VARCHAR, datacl VARCHAR[]",
      databases));
  TARN_RETURN_IF_ERROR(
      Table(engine, "pg_namespace", "oid INTEGER, nspname VARCHAR, nspowner INTEGER, nspacl VARCHAR[]", namespaces));
  TARN_RETURN_IF_ERROR(Table(
      engine, "pg_class",
      "oid INTEGER, relname VARCHAR, relnamespace INTEGER, reltype INTEGER, reloftype INTEGER, relowner INTEGER, "
      "relam INTEGER, relfilenode INTEGER, reltablespace INTEGER, relpages INTEGER, reltuples FLOAT, relallvisible "
      "INTEGER, reltoastrelid INTEGER, relhasindex BOOLEAN, relisshared BOOLEAN, relpersistence VARCHAR, relkind "
      "VARCHAR, relnatts SMALLINT, relchecks SMALLINT, relhasrules BOOLEAN, relhastriggers BOOLEAN, relhassubclass "
      "BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN, relispartition BOOLEAN, relispopulated BOOLEAN, "
      "relreplident VARCHAR, relrewrite INTEGER, relfrozenxid INTEGER, relminmxid INTEGER, relacl VARCHAR[], "
      "reloptions VARCHAR[], relpartbound VARCHAR",
      classes));
  TARN_RETURN_IF_ERROR(Table(
      engine, "pg_attribute",
      "attrelid INTEGER, attname VARCHAR, atttypid INTEGER, attstattarget INTEGER, attlen SMALLINT, attnum SMALLINT, "
      "attndims INTEGER, attcacheoff INTEGER, atttypmod INTEGER, attbyval BOOLEAN, attalign VARCHAR, attstorage "
      "VARCHAR, attcompression VARCHAR, attnotnull BOOLEAN, atthasdef BOOLEAN, atthasmissing BOOLEAN, attidentity "
      "VARCHAR, attgenerated VARCHAR, attisdropped BOOLEAN, attislocal BOOLEAN, attinhcount INTEGER, attcollation "
      "INTEGER",
      attributes));
  TARN_RETURN_IF_ERROR(Run(engine, "ALTER TABLE pg_attribute ADD COLUMN attacl VARCHAR[]"));
  TARN_RETURN_IF_ERROR(Run(engine, "ALTER TABLE pg_attribute ADD COLUMN attoptions VARCHAR[]"));
  TARN_RETURN_IF_ERROR(Run(engine, "ALTER TABLE pg_attribute ADD COLUMN attfdwoptions VARCHAR[]"));
  TARN_RETURN_IF_ERROR(Run(engine, "ALTER TABLE pg_attribute ADD COLUMN attmissingval VARCHAR"));
  TARN_RETURN_IF_ERROR(Table(engine, "pg_description",
                             "objoid INTEGER, classoid INTEGER, objsubid INTEGER, description VARCHAR", descriptions));
  TARN_RETURN_IF_ERROR(Table(
      engine, "pg_index",
      "indexrelid INTEGER, indrelid INTEGER, indnatts SMALLINT, indnkeyatts SMALLINT, indisunique BOOLEAN, "
      "indisprimary BOOLEAN, indisexclusion BOOLEAN, indimmediate BOOLEAN, indisclustered BOOLEAN, indisvalid "
      "BOOLEAN, indcheckxmin BOOLEAN, indisready BOOLEAN, indislive BOOLEAN, indisreplident BOOLEAN, indkey "
      "SMALLINT[], indcollation INTEGER[], indclass INTEGER[], indoption SMALLINT[], indexprs VARCHAR, indpred "
      "VARCHAR",
      indexes));
  TARN_RETURN_IF_ERROR(Table(engine, "__pg_indexdef", "oid INTEGER, indexdef VARCHAR, columndef VARCHAR", indexdefs));
  TARN_RETURN_IF_ERROR(Table(
      engine, "pg_constraint",
      "oid INTEGER, conname VARCHAR, connamespace INTEGER, contype VARCHAR, condeferrable BOOLEAN, condeferred "
      "BOOLEAN, convalidated BOOLEAN, conrelid INTEGER, contypid INTEGER, conindid INTEGER, conparentid INTEGER, "
      "confrelid INTEGER, confupdtype VARCHAR, confdeltype VARCHAR, confmatchtype VARCHAR, conislocal BOOLEAN, "
      "coninhcount INTEGER, connoinherit BOOLEAN, conkey SMALLINT[], confkey SMALLINT[], conpfeqop INTEGER[], "
      "conppeqop INTEGER[], conffeqop INTEGER[], conexclop INTEGER[], conbin VARCHAR",
      constraints));
  TARN_RETURN_IF_ERROR(Table(engine, "__pg_constraintdef", "oid INTEGER, def VARCHAR", constraintdefs));
  TARN_RETURN_IF_ERROR(Table(engine, "__pg_viewdef", "oid INTEGER, definition VARCHAR", viewdefs));
  TARN_RETURN_IF_ERROR(Run(engine, "CREATE OR REPLACE TEMP MACRO current_schema() AS " + Q(current_schema)));
  TARN_RETURN_IF_ERROR(Run(engine, "CREATE OR REPLACE TEMP MACRO current_schemas(i) AS CASE WHEN i THEN "
                                   "['pg_catalog', " + Q(current_schema) + "] ELSE [" + Q(current_schema) + "] END"));
  TARN_RETURN_IF_ERROR(Run(engine, "CREATE OR REPLACE TEMP MACRO current_database() AS " + Q(current_catalog)));
  TARN_RETURN_IF_ERROR(Run(engine, "CREATE OR REPLACE TEMP MACRO current_catalog() AS " + Q(current_catalog)));
  // search_path names the current schema (quote_ident's spelling), so clients that read it find the tables.
  // current_setting() is a CASE over literals (no subquery: Grafana calls it inside generate_series()).
  std::string search_path = "\"$user\", " + QuoteIdent(current_schema);
  TARN_RETURN_IF_ERROR(Run(engine, "UPDATE pg_settings SET setting = " + Q(search_path) +
                                       ", reset_val = " + Q(search_path) + " WHERE name = 'search_path'"));
  std::string cases = "CASE lower(n)";
  for (const auto& [name, value] : PgSettings()) {
    cases += " WHEN " + Q(Lower(name)) + " THEN " + Q(Lower(name) == "search_path" ? search_path : value);
  }
  cases += " END";
  TARN_RETURN_IF_ERROR(
      Run(engine, "CREATE OR REPLACE TEMP MACRO current_setting(n) AS " + cases + ", (n, missing_ok) AS " + cases));
  if (!stored) {
    TARN_RETURN_IF_ERROR(CreateFunctions(engine));
    TARN_RETURN_IF_ERROR(CreateViews(engine));
  }
  return Run(engine, "CREATE OR REPLACE TEMP TABLE __pg_state AS SELECT " + Q(fp) + " AS fp");
}

// ---- the dialect rewrite ----

namespace {

bool IsWordToken(const Token& t, std::string_view lower_word) {
  return t.kind == TokenKind::kWord && Lower(t.value) == lower_word;
}

const std::set<std::string>& InformationSchemaViews() {
  static const std::set<std::string> names = {"tables", "columns", "schemata", "views", "table_constraints",
                                              "key_column_usage"};
  return names;
}

// Words after which a relation's alias cannot start.
bool IsClauseWord(const Token& t) {
  static const std::set<std::string> words = {
      "where", "group", "order", "limit", "having", "window", "union", "except", "intersect", "offset", "fetch",
      "join", "inner", "left", "right", "full", "cross", "natural", "on", "using", "lateral", "select", "and",
      "or", "not", "outer", "with", "from", "by", "for", "as", "when", "then", "else", "end"};
  return t.kind == TokenKind::kWord && words.count(Lower(t.value)) > 0;
}

// True when t[i] starts an item of a FROM list: after FROM / JOIN, or after a comma of a FROM list at this depth.
bool IsFromItemStart(const std::vector<Token>& t, size_t i) {
  if (i == 0) return false;
  if (IsWordToken(t[i - 1], "from") || IsWordToken(t[i - 1], "join")) return true;
  if (!t[i - 1].IsSymbol(",")) return false;
  int depth = 0;
  for (size_t k = i - 1; k-- > 0;) {
    if (t[k].IsSymbol(")") || t[k].IsSymbol("]")) depth++;
    if (t[k].IsSymbol("(") || t[k].IsSymbol("[")) {
      if (depth == 0) return false;
      depth--;
    }
    if (depth > 0 || t[k].kind != TokenKind::kWord) continue;
    std::string w = Lower(t[k].value);
    if (w == "from" || w == "join") return true;
    if (w == "select" || w == "where" || w == "group" || w == "order" || w == "having" || w == "on" || w == "set" ||
        w == "values" || w == "by") {
      return false;
    }
  }
  return false;
}

struct Edit {
  size_t begin;
  size_t end;
  std::string text;
};

size_t MatchingOpen(const std::vector<Token>& t, size_t close) {
  int depth = 0;
  for (size_t i = close + 1; i-- > 0;) {
    if (t[i].IsSymbol(")") || t[i].IsSymbol("]")) depth++;
    if (t[i].IsSymbol("(") || t[i].IsSymbol("[")) {
      if (--depth == 0) return i;
    }
  }
  return 0;
}

size_t MatchingClose(const std::vector<Token>& t, size_t open) {
  int depth = 0;
  for (size_t i = open; i < t.size(); i++) {
    if (t[i].IsSymbol("(") || t[i].IsSymbol("[")) depth++;
    if (t[i].IsSymbol(")") || t[i].IsSymbol("]")) {
      if (--depth == 0) return i;
    }
  }
  return t.size();
}

// First token of the operand that ends at t[last] (for `operand::type`).
size_t OperandStart(const std::vector<Token>& t, size_t last) {
  size_t i = last;
  if (t[i].IsSymbol(")") || t[i].IsSymbol("]")) {
    i = MatchingOpen(t, i);
    if (i > 0 && t[i - 1].kind == TokenKind::kWord && !t[i].space_before && !IsClauseWord(t[i - 1])) i--;
  }
  while (i >= 2 && t[i - 1].IsSymbol(".") && t[i - 2].IsName()) i -= 2;
  return i;
}

}  // namespace

bool NeedsPgCatalog(const std::vector<Token>& tokens) {
  for (const auto& t : tokens) {
    if (t.kind != TokenKind::kWord) continue;
    std::string w = Lower(t.value);
    if (w.starts_with("pg_") || w == "information_schema" || w == "current_schema" || w == "current_schemas" ||
        w == "current_database" || w == "regclass" || w == "regtype" || w == "regproc" || w == "regnamespace" ||
        w == "format_type" || w == "obj_description" || w == "col_description" || w == "array_upper" ||
        w == "array_lower" || w == "quote_ident" || w == "operator" || w.starts_with("has_") ||
        w == "txid_current" || w == "current_catalog" || w == "current_setting") {
      return true;
    }
  }
  return false;
}

std::string RewritePgDialect(std::string_view text) {
  std::vector<Token> t = Tokenize(text);
  std::vector<Edit> edits;
  auto replace = [&](size_t first, size_t last, std::string with) {
    edits.push_back({t[first].begin, t[last].end, std::move(with)});
  };
  auto insert_before = [&](size_t i, std::string with) { edits.push_back({t[i].begin, t[i].begin, std::move(with)}); };
  auto regex_literal = [](const std::string& pattern, bool icase) {
    return QuoteSqlString(std::string(icase ? "(?is)" : "(?s)") + ".*(?:" + pattern + ").*");
  };
  for (size_t i = 0; i < t.size(); i++) {
    const Token& tok = t[i];
    // OPERATOR(pg_catalog.~) and the regex operators ~ !~ ~* !~* followed by a pattern literal.
    size_t op_first = i, op_last = i;
    std::string op;
    if (IsWordToken(tok, "operator") && i + 1 < t.size() && t[i + 1].IsSymbol("(")) {
      size_t close = MatchingClose(t, i + 1);
      if (close < t.size()) {
        size_t k = i + 2;
        if (k + 1 < close && IsWordToken(t[k], "pg_catalog") && t[k + 1].IsSymbol(".")) k += 2;
        for (; k < close; k++) op += t[k].value;
        op_last = close;
      }
    } else if (tok.IsSymbol("~") || (tok.IsSymbol("!") && i + 1 < t.size() && t[i + 1].IsSymbol("~") &&
                                      !t[i + 1].space_before)) {
      op = tok.value;
      if (tok.IsSymbol("!")) {
        op += "~";
        op_last = i + 1;
      }
      if (op_last + 1 < t.size() && t[op_last + 1].IsSymbol("*") && !t[op_last + 1].space_before) {
        op += "*";
        op_last++;
      }
    }
    if (!op.empty()) {
      bool negate = op[0] == '!';
      bool icase = op.back() == '*';
      bool regex = op == "~" || op == "!~" || op == "~*" || op == "!~*";
      if (regex) {
        replace(op_first, op_last, negate ? " !~ " : " ~ ");
        if (op_last + 1 < t.size() && t[op_last + 1].kind == TokenKind::kString) {
          replace(op_last + 1, op_last + 1, regex_literal(t[op_last + 1].value, icase));
          i = op_last + 1;
        } else {
          i = op_last;
        }
        continue;
      }
      if (op_last != op_first) {  // OPERATOR(pg_catalog.=) and friends
        replace(op_first, op_last, " " + op + " ");
        i = op_last;
        continue;
      }
    }
    // COLLATE pg_catalog.default / COLLATE "C": DuckDB has no such collations; the comparison is binary anyway.
    if (IsWordToken(tok, "collate") && i + 1 < t.size() && t[i + 1].IsName()) {
      size_t last = i + 1;
      while (last + 2 < t.size() && t[last + 1].IsSymbol(".") && t[last + 2].IsName()) last += 2;
      std::string name = Lower(t[last].value);
      if (name == "default" || name == "c" || name == "posix" || IsWordToken(t[i + 1], "pg_catalog")) {
        replace(i, last, "");
        i = last;
        continue;
      }
    }
    // information_schema.x -> __pgi_x
    if (IsWordToken(tok, "information_schema") && i + 2 < t.size() && t[i + 1].IsSymbol(".") &&
        t[i + 2].IsName() && !t[i + 1].space_before) {
      std::string name = Lower(t[i + 2].value);
      if (name == "_pg_expandarray") {
        replace(i, i + 2, "__pg_expandarray");
        i += 2;
        continue;
      }
      if (InformationSchemaViews().count(name) > 0) {
        bool alias = i + 3 < t.size() && (t[i + 3].IsName() && !IsClauseWord(t[i + 3]) && !t[i + 3].IsSymbol(","));
        alias = alias || (i + 3 < t.size() && IsWordToken(t[i + 3], "as"));
        replace(i, i + 2, "__pgi_" + name + (alias ? "" : " AS " + name));
        i += 2;
        continue;
      }
    }
    // pg_catalog.x -> x (the session's temporary objects shadow DuckDB's pg_catalog).
    if (IsWordToken(tok, "pg_catalog") && i + 2 < t.size() && t[i + 1].IsSymbol(".") && !t[i + 1].space_before &&
        (t[i + 2].IsName() || t[i + 2].kind == TokenKind::kQuoted)) {
      replace(i, i + 1, "");
      i += 1;
      continue;
    }
    // 0-based int2vector/oidvector subscripts.
    if (tok.kind == TokenKind::kWord && i + 1 < t.size() && t[i + 1].IsSymbol("[") && !t[i + 1].space_before) {
      std::string w = Lower(tok.value);
      if (w == "indkey" || w == "indoption" || w == "indclass" || w == "indcollation") {
        size_t close = MatchingClose(t, i + 1);
        if (close < t.size()) {
          replace(i + 1, i + 1, "[1 + (");
          replace(close, close, ")]");
        }
        continue;
      }
    }
    // generate_series(...) alias: PostgreSQL names the column after the alias.
    if (IsWordToken(tok, "generate_series") && i > 0 && (IsWordToken(t[i - 1], "from") || IsWordToken(t[i - 1], "join") ||
                                                          (i > 2 && t[i - 1].IsSymbol(".") &&
                                                           (IsWordToken(t[i - 3], "from") || IsWordToken(t[i - 3], "join")))) &&
        i + 1 < t.size() && t[i + 1].IsSymbol("(")) {
      size_t close = MatchingClose(t, i + 1);
      size_t a = close + 1;
      if (a < t.size() && IsWordToken(t[a], "as")) a++;
      if (a < t.size() && t[a].IsName() && !IsClauseWord(t[a]) && !(a + 1 < t.size() && t[a + 1].IsSymbol("("))) {
        edits.push_back({t[a].end, t[a].end, "(" + engine::QuoteSqlIdentifier(t[a].value) + ")"});
      }
      continue;
    }
    // json_build_object / json_build_array: DuckDB's json_object / json_array take the same arguments.
    if ((IsWordToken(tok, "json_build_object") || IsWordToken(tok, "json_build_array")) && i + 1 < t.size() &&
        t[i + 1].IsSymbol("(")) {
      replace(i, i, IsWordToken(tok, "json_build_object") ? "json_object" : "json_array");
      continue;
    }
    // column = ANY(array_column) (SQLAlchemy's index reflection joins on it): list_contains(array_column, column).
    if (tok.IsSymbol("=") && i > 0 && i + 4 < t.size() && IsWordToken(t[i + 1], "any") && t[i + 2].IsSymbol("(") &&
        t[i + 3].IsName() && !IsWordToken(t[i + 3], "select") && !IsWordToken(t[i + 3], "with") && t[i - 1].IsName()) {
      size_t close = MatchingClose(t, i + 2);
      size_t start = OperandStart(t, i - 1);
      bool plain = close < t.size();
      for (size_t k = i + 3; plain && k < close; k++) plain = (k - i - 3) % 2 == 0 ? t[k].IsName() : t[k].IsSymbol(".");
      if (plain && start <= i - 1) {
        std::string lhs(text.substr(t[start].begin, t[i - 1].end - t[start].begin));
        std::string rhs(text.substr(t[i + 3].begin, t[close - 1].end - t[i + 3].begin));
        edits.push_back({t[start].begin, t[close].end, "list_contains(" + rhs + ", " + lhs + ")"});
        i = close;
        continue;
      }
    }
    // A scalar function as a FROM item (`FROM generate_series(...) i, string_to_array(x, ',') s`, Grafana): in
    // PostgreSQL a one-row relation whose column is named after the alias; DuckDB needs a subquery.
    if ((IsWordToken(tok, "string_to_array") || IsWordToken(tok, "regexp_split_to_array") ||
         IsWordToken(tok, "current_schemas") || IsWordToken(tok, "parse_ident")) &&
        i + 1 < t.size() && t[i + 1].IsSymbol("(") && IsFromItemStart(t, i)) {
      size_t close = MatchingClose(t, i + 1);
      if (close >= t.size()) continue;
      size_t a = close + 1;
      if (a < t.size() && IsWordToken(t[a], "as")) a++;
      bool aliased =
          a < t.size() && t[a].IsName() && !IsClauseWord(t[a]) && !(a + 1 < t.size() && t[a + 1].IsSymbol("("));
      std::string alias = engine::QuoteSqlIdentifier(aliased ? t[a].value : Lower(tok.value));
      insert_before(i, "(SELECT ");
      edits.push_back({t[close].end, t[close].end, " AS " + alias + ")" + (aliased ? "" : " AS " + alias)});
      continue;
    }
    // PostgreSQL array literals compared with arrays: '{a,b}'.
    if (tok.kind == TokenKind::kString && tok.value.size() >= 2 && tok.value.front() == '{' &&
        tok.value.back() == '}' && i > 0 && (t[i - 1].IsSymbol("=") || t[i - 1].IsSymbol("<>") ||
                                             t[i - 1].IsSymbol("(")) &&
        !(i + 1 < t.size() && t[i + 1].IsSymbol("::"))) {
      std::string inner = tok.value.substr(1, tok.value.size() - 2);
      if (!inner.empty() && inner.find_first_not_of("0123456789,- ") == std::string::npos) {
        replace(i, i, "[" + inner + "]");  // '{0}' -> [0]: an integer list
      } else {
        replace(i, i, "__pg_text_array(" + QuoteSqlString(tok.value) + ")");
      }
      continue;
    }
    // Casts to PostgreSQL-only types.
    if (tok.IsSymbol("::") && i > 0 && i + 1 < t.size()) {
      size_t k = i + 1;
      if (k + 2 < t.size() && IsWordToken(t[k], "pg_catalog") && t[k + 1].IsSymbol(".")) k += 2;
      if (!t[k].IsName()) continue;
      std::string type = Lower(t[k].value);
      bool array = k + 2 < t.size() && t[k + 1].IsSymbol("[") && t[k + 2].IsSymbol("]");
      size_t type_last = array ? k + 2 : k;
      size_t start = OperandStart(t, i - 1);
      bool literal = start == i - 1 && t[i - 1].kind == TokenKind::kString;
      auto wrap = [&](const std::string& fn) {
        insert_before(start, fn + "(");
        replace(i, type_last, ")");
      };
      if (array && literal && tok.kind == TokenKind::kSymbol) {
        bool ints = type == "int2" || type == "int4" || type == "int8" || type == "oid" || type == "smallint" ||
                    type == "integer" || type == "bigint";
        replace(i - 1, type_last, ints ? "CAST(__pg_text_array(" + QuoteSqlString(t[i - 1].value) + ") AS BIGINT[])"
                                       : "__pg_text_array(" + QuoteSqlString(t[i - 1].value) + ")");
      } else if (array) {
        if (k != i + 1) replace(i + 1, k - 1, "");
      } else if (type == "regclass" || type == "regtype" || type == "regnamespace") {
        if (literal) {
          replace(i - 1, type_last, "__pg_" + type + "_in(" + QuoteSqlString(t[i - 1].value) + ")");
        } else {
          wrap("__pg_" + type + "_out");
        }
      } else if (type == "regproc" || type == "regprocedure") {
        if (literal) {
          std::string name = t[i - 1].value;
          if (name.starts_with("pg_catalog.")) name = name.substr(11);
          replace(i - 1, type_last, QuoteSqlString(name));
        } else {
          replace(i, type_last, "");
        }
      } else if (type == "oid" || type == "regrole" || type == "xid") {
        replace(i, type_last, "::INTEGER");
      } else if (type == "name" || type == "int2vector" || type == "oidvector" || type == "aclitem" ||
                 type == "pg_node_tree") {
        replace(i, type_last, "::VARCHAR");
      } else if (k != i + 1) {
        replace(i + 1, k - 1, "");  // ::pg_catalog.text -> ::text
      }
      i = type_last;
      continue;
    }
  }
  if (edits.empty()) return std::string(text);
  // Insertions sort before a replacement starting at the same offset.
  std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end == a.begin && b.end != b.begin;
  });
  std::string out;
  size_t pos = 0;
  for (const auto& e : edits) {
    if (e.begin < pos) continue;  // overlapping edit: keep the first
    out.append(text.substr(pos, e.begin - pos));
    out += e.text;
    pos = e.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace tarn::sql::detail
