// SPDX-License-Identifier: Apache-2.0
// NameResolver: finds table references (FROM/JOIN items, comma lists, CTE shadowing) and inlines catalog objects.
#include "tarn/sql/detail/name_resolver.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "tarn/engine/delta_scan_plan.hpp"
#include "tarn/engine/sql_quoting.hpp"
#include "tarn/sql/detail/spark_type_parser.hpp"
#include "tarn/sql/spark_functions.hpp"

namespace tarn::sql::detail {
namespace {

constexpr int kMaxViewDepth = 16;

std::string Lower(std::string_view s) { return catalog::NormalizeName(s); }

bool IsOneOf(const Token& t, std::initializer_list<std::string_view> words) {
  for (auto w : words) {
    if (t.Is(w)) return true;
  }
  return false;
}

// Words after which a FROM item's alias cannot start.
bool IsNotAlias(const Token& t) {
  return IsOneOf(t, {"WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "WINDOW", "QUALIFY", "UNION", "EXCEPT",
                     "INTERSECT", "OFFSET", "FETCH", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL",
                     "ON", "USING", "SEMI", "ANTI", "ASOF", "POSITIONAL", "LATERAL", "PIVOT", "UNPIVOT",
                     "TABLESAMPLE", "SET", "VALUES", "RETURNING", "SELECT", "WHEN", "THEN", "ELSE", "END", "AND",
                     "OR", "NOT", "OUTER", "WITH", "INTO", "FROM", "BY", "VERSION", "TIMESTAMP", "FOR", "SAMPLE"});
}

// Words that end the FROM clause of the current query level.
bool EndsFrom(const Token& t) {
  return IsOneOf(t, {"WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "QUALIFY", "WINDOW", "UNION", "EXCEPT",
                     "INTERSECT", "OFFSET", "FETCH", "SET", "VALUES", "RETURNING", "WHEN", "SELECT"});
}

// Words before '(' that make it a subquery/expression parenthesis rather than a function call.
bool IsKeywordBeforeParen(const Token& t) {
  return IsOneOf(t, {"FROM", "JOIN", "IN", "AS", "EXISTS", "ON", "AND", "OR", "NOT", "SELECT", "WHERE", "UNION",
                     "ALL", "ANY", "SOME", "LATERAL", "USING", "WITH", "VALUES", "INTO", "TABLE", "BY", "HAVING",
                     "THEN", "ELSE", "WHEN", "CASE", "IS", "EXCEPT", "INTERSECT", "MATERIALIZED", "RECURSIVE",
                     "DISTINCT", "LIMIT", "OFFSET", "RETURN", "QUALIFY", "VIEW"});
}

size_t SkipParens(const std::vector<Token>& t, size_t open) {
  int depth = 0;
  for (size_t i = open; i < t.size(); i++) {
    if (t[i].IsSymbol("(")) depth++;
    if (t[i].IsSymbol(")") && --depth == 0) return i + 1;
  }
  return t.size();
}

std::set<std::string> CollectCteNames(const std::vector<Token>& t) {
  std::set<std::string> names;
  for (size_t i = 0; i < t.size(); i++) {
    if (!t[i].Is("WITH")) continue;
    size_t j = i + 1;
    if (j < t.size() && t[j].Is("RECURSIVE")) j++;
    while (j < t.size() && t[j].IsName()) {
      std::string name = Lower(t[j].value);
      j++;
      if (j < t.size() && t[j].IsSymbol("(")) j = SkipParens(t, j);
      if (j >= t.size() || !t[j].Is("AS")) break;
      names.insert(name);
      j++;
      if (j < t.size() && t[j].Is("NOT")) j++;
      if (j < t.size() && t[j].Is("MATERIALIZED")) j++;
      if (j < t.size() && t[j].IsSymbol("(")) j = SkipParens(t, j);
      if (j < t.size() && t[j].IsSymbol(",")) {
        j++;
        continue;
      }
      break;
    }
  }
  return names;
}

struct Replacement {
  size_t first = 0;  // token range replaced
  size_t end = 0;
  bool is_view = false;
  std::string location;  // tables
  std::string view_sql;  // views: resolved text
  std::optional<int64_t> version;
  std::optional<std::string> timestamp;
  std::string alias;  // empty when the query gives one
  std::optional<std::string> raw;  // a plain text replacement (function rewrites)
};

// DuckDB's from_json structure for a Spark type: {"a":"INTEGER"}, ["VARCHAR"], "MAP(VARCHAR, INTEGER)".
std::string JsonStructure(const delta::DataType& type) {
  if (type.kind() == delta::TypeKind::kStruct) {
    std::string out = "{";
    for (size_t k = 0; k < type.fields().size(); k++) {
      if (k > 0) out += ",";
      std::string name;
      for (char c : type.fields()[k].name) {
        if (c == '"' || c == '\\') name += '\\';
        name += c;
      }
      out += "\"" + name + "\":" + JsonStructure(*type.fields()[k].type);
    }
    return out + "}";
  }
  if (type.kind() == delta::TypeKind::kArray) return "[" + JsonStructure(*type.element_type()) + "]";
  return "\"" + engine::DuckTypeOf(type) + "\"";
}

// Top-level arguments of the call whose '(' is t[open]: token ranges [first, end).
std::vector<std::pair<size_t, size_t>> CallArguments(const std::vector<Token>& t, size_t open, size_t& close) {
  std::vector<std::pair<size_t, size_t>> args;
  int depth = 0;
  size_t start = open + 1;
  close = t.size();
  for (size_t i = open; i < t.size(); i++) {
    if (t[i].IsSymbol("(") || t[i].IsSymbol("[") || t[i].IsSymbol("{")) depth++;
    if (t[i].IsSymbol(")") || t[i].IsSymbol("]") || t[i].IsSymbol("}")) {
      if (--depth == 0) {
        if (i > start) args.emplace_back(start, i);
        close = i;
        return args;
      }
    }
    if (depth == 1 && t[i].IsSymbol(",")) {
      args.emplace_back(start, i);
      start = i + 1;
    }
  }
  return args;
}

// Reads [FOR] VERSION|SYSTEM_VERSION|TIMESTAMP|SYSTEM_TIME AS OF <literal> at t[j]; advances j when present.
Status ReadTimeTravel(const std::vector<Token>& t, size_t& j, Replacement& r) {
  size_t k = j;
  if (k < t.size() && t[k].Is("FOR")) k++;
  if (k + 2 >= t.size() || !t[k + 1].Is("AS") || !t[k + 2].Is("OF")) return Status::OK();
  bool version = t[k].Is("VERSION") || t[k].Is("SYSTEM_VERSION");
  bool timestamp = t[k].Is("TIMESTAMP") || t[k].Is("SYSTEM_TIME");
  if (!version && !timestamp) return Status::OK();
  size_t v = k + 3;
  if (version) {
    if (v >= t.size() || t[v].kind != TokenKind::kNumber ||
        t[v].value.find_first_not_of("0123456789") != std::string::npos || t[v].value.size() > 18) {
      return Error(ErrorCode::kSyntaxError, "VERSION AS OF expects a non-negative integer version");
    }
    r.version = std::stoll(t[v].value);
    j = v + 1;
    return Status::OK();
  }
  if (v < t.size() && (t[v].Is("TIMESTAMP") || t[v].Is("DATE"))) v++;
  if (v >= t.size() || t[v].kind != TokenKind::kString) {
    return Error(ErrorCode::kSyntaxError, "TIMESTAMP AS OF expects a timestamp string literal");
  }
  r.timestamp = t[v].value;
  j = v + 1;
  return Status::OK();
}

// The catalog entries one statement looked up, by normalized (catalog, schema, name): a table named several times
// (TPC-H Q21 reads lineitem three times), also inside views, costs one catalog query per statement. Entries live only
// while the statement is resolved, so a later statement sees DROP/CREATE/ALTER of other sessions.
using TableLookups = std::map<std::vector<std::string>, std::optional<catalog::TableInfo>>;

class Resolver {
 public:
  Resolver(std::string_view text, const std::vector<Token>& t, catalog::Catalog& catalog, const NameContext& context,
           const LatestVersionFn& latest, int depth, const OverlayFn& overlay, TableLookups& lookups)
      : text_(text), t_(t), catalog_(catalog), context_(context), latest_(latest), depth_(depth), overlay_(overlay),
        lookups_(lookups) {}

  Result<std::string> Run() {
    if (t_.empty()) return std::string();
    ctes_ = CollectCteNames(t_);
    struct Frame {
      bool select_seen = false;
      bool in_from = false;
      bool call = false;
    };
    std::vector<Frame> frames(1);
    bool expect_table = false;
    std::vector<Replacement> reps;
    for (size_t i = 0; i < t_.size();) {
      const Token& tok = t_[i];
      if (expect_table) {
        expect_table = false;
        if (tok.IsName()) {
          auto name = ReadQualifiedName(t_, i);
          if (name && !(name->end_token < t_.size() && t_[name->end_token].IsSymbol("("))) {
            TARN_ASSIGN_OR_RETURN(auto rep, TryResolve(*name));
            if (rep) {
              i = rep->end;
              reps.push_back(std::move(*rep));
            } else {
              i = name->end_token;
            }
            continue;
          }
        }
      }
      // DESCRIBE HISTORY|DETAIL <table>, also as a subquery: the engine reads the Delta path.
      if ((tok.Is("DESCRIBE") || tok.Is("DESC")) && i + 2 < t_.size() &&
          (t_[i + 1].Is("HISTORY") || t_[i + 1].Is("DETAIL"))) {
        auto name = ReadQualifiedName(t_, i + 2);
        if (name) {
          TARN_ASSIGN_OR_RETURN(auto rep, TryResolve(*name, /*bare=*/true));
          if (rep) {
            if (rep->is_view) {
              return Error(ErrorCode::kInvalidParameterValue, "DESCRIBE {} needs a Delta table, not a view",
                           t_[i + 1].value);
            }
            i = rep->end;
            reps.push_back(std::move(*rep));
            continue;
          }
        }
      }
      // Expression types: TIMESTAMP per spark.sql.timestampType; Spark's TIMESTAMP_NTZ / TIMESTAMP_LTZ always.
      bool ntz = tok.Is("TIMESTAMP_NTZ");
      if ((context_.ltz_timestamps && tok.Is("TIMESTAMP")) || ntz || tok.Is("TIMESTAMP_LTZ")) {
        size_t end = LtzCastEnd(i);
        if (end > i) {
          Replacement r;
          r.first = i;
          r.end = end;
          r.raw = ntz ? "TIMESTAMP" : "TIMESTAMPTZ";
          reps.push_back(std::move(r));
          i = end;
          continue;
        }
      }
      if (tok.kind == TokenKind::kWord && i + 1 < t_.size() && t_[i + 1].IsSymbol("(")) {
        TARN_RETURN_IF_ERROR(RewriteFunction(i, reps));
      }
      Frame& f = frames.back();
      if (tok.IsSymbol("(")) {
        Frame inner;
        inner.call = i > 0 && t_[i - 1].kind == TokenKind::kWord && !IsKeywordBeforeParen(t_[i - 1]);
        frames.push_back(inner);
      } else if (tok.IsSymbol(")")) {
        if (frames.size() > 1) frames.pop_back();
      } else if (tok.Is("SELECT")) {
        f.select_seen = true;
        f.in_from = false;
      } else if (tok.Is("FROM")) {
        bool first_in_frame = i == 0 || (t_[i - 1].IsSymbol("(") && !f.call);
        bool after_cte = i > 0 && t_[i - 1].IsSymbol(")") && !f.call;
        bool after_delete = i > 0 && t_[i - 1].Is("DELETE");
        if (f.select_seen || first_in_frame || after_cte || after_delete) {
          f.in_from = true;
          expect_table = true;
        }
      } else if (tok.Is("JOIN") && f.in_from) {
        expect_table = true;
      } else if (tok.IsSymbol(",") && f.in_from) {
        expect_table = true;
      } else if (EndsFrom(tok)) {
        f.in_from = false;
        if (tok.Is("SELECT")) f.select_seen = true;
      }
      i++;
    }
    TARN_RETURN_IF_ERROR(UnqualifyColumns(reps));
    // A table read more than once is pinned to one version: the statement reads one snapshot per table.
    std::map<std::string, int> uses;
    for (const auto& r : reps) {
      if (!r.is_view && !r.version && !r.timestamp) uses[r.location]++;
    }
    std::map<std::string, std::optional<int64_t>> pinned;
    for (const auto& [location, count] : uses) {
      if (count > 1 && latest_) pinned[location] = latest_(location);
    }
    std::sort(reps.begin(), reps.end(), [](const Replacement& a, const Replacement& b) { return a.first < b.first; });
    std::string out;
    size_t pos = t_.front().begin;
    for (auto& r : reps) {
      out.append(text_.substr(pos, t_[r.first].begin - pos));
      if (r.raw) {
        out += *r.raw;
      } else if (r.is_view) {
        out += "(" + r.view_sql + ")";
      } else {
        if (!r.version && !r.timestamp) {
          auto it = pinned.find(r.location);
          if (it != pinned.end()) r.version = it->second;
        }
        out += DeltaReference(r.location);
        if (r.version) out += " VERSION AS OF " + std::to_string(*r.version);
        if (r.timestamp) out += " TIMESTAMP AS OF " + engine::QuoteSqlString(*r.timestamp);
      }
      if (!r.alias.empty()) out += " AS " + engine::QuoteSqlIdentifier(r.alias);
      pos = t_[r.end - 1].end;
    }
    out.append(text_.substr(pos, t_.back().end - pos));
    return out;
  }

 private:
  // A bare TIMESTAMP (or TIMESTAMP_NTZ / TIMESTAMP_LTZ) at t_[i] used as an expression type: `::TIMESTAMP`,
  // `CAST(x AS TIMESTAMP)` (also TRY_CAST), `TIMESTAMP 'literal'`, each optionally with a precision `(p)`.
  // Returns one past its last token (the precision included, TIMESTAMPTZ takes none), or i when it is something
  // else (a column type in DDL, `TIMESTAMP AS OF`, an alias, `timestamp without time zone`).
  size_t LtzCastEnd(size_t i) const {
    size_t end = i + 1;
    if (end + 2 < t_.size() && t_[end].IsSymbol("(") && t_[end + 1].kind == TokenKind::kNumber &&
        t_[end + 2].IsSymbol(")")) {
      end += 3;
    }
    if (end < t_.size() && (t_[end].Is("WITH") || t_[end].Is("WITHOUT"))) return i;
    if (end == i + 1 && end < t_.size() && t_[end].kind == TokenKind::kString) return end;  // TIMESTAMP '...'
    if (i == 0) return i;
    if (t_[i - 1].IsSymbol("::")) return end;
    if (!t_[i - 1].Is("AS") || end >= t_.size() || !(t_[end].IsSymbol(")") || t_[end].IsSymbol("["))) return i;
    // AS must sit directly in the parentheses of CAST( / TRY_CAST(.
    int depth = 0;
    for (size_t k = i - 1; k-- > 0;) {
      if (t_[k].IsSymbol(")")) {
        depth++;
      } else if (t_[k].IsSymbol("(")) {
        if (depth-- > 0) continue;
        return k > 0 && (t_[k - 1].Is("CAST") || t_[k - 1].Is("TRY_CAST")) ? end : i;
      }
    }
    return i;
  }

  // PostgreSQL lets `schema.table.column` (and `catalog.schema.table.column`, `schema.table.*`) name a column of a
  // table referenced as `schema.table` without an alias (Metabase writes every query so). The reference becomes
  // `(...) AS table`, so the qualifier is cut to `table.column`.
  Status UnqualifyColumns(std::vector<Replacement>& reps) {
    std::vector<std::vector<std::string>> refs;
    std::vector<bool> covered(t_.size(), false);
    for (const auto& r : reps) {
      for (size_t k = r.first; k < r.end && k < t_.size(); k++) covered[k] = true;
      if (r.raw || r.alias.empty()) continue;
      auto name = ReadQualifiedName(t_, r.first);
      if (!name || name->parts.size() < 2) continue;
      std::vector<std::string> parts;
      for (const auto& p : name->parts) parts.push_back(Lower(p));
      refs.push_back(std::move(parts));
    }
    if (refs.empty()) return Status::OK();
    for (size_t i = 0; i < t_.size(); i++) {
      if (covered[i] || !t_[i].IsName() || (i > 0 && t_[i - 1].IsSymbol("."))) continue;
      auto name = ReadQualifiedName(t_, i);
      if (!name) continue;
      size_t n = name->parts.size();
      bool star = name->end_token + 1 < t_.size() && t_[name->end_token].IsSymbol(".") &&
                  t_[name->end_token + 1].IsSymbol("*");
      for (const auto& ref : refs) {
        size_t k = ref.size();
        if (!(n == k + 1 || (n == k && star))) continue;
        bool match = true;
        for (size_t p = 0; p < k && match; p++) match = Lower(name->parts[p]) == ref[p];
        if (!match) continue;
        reps.push_back(Raw(i, i + 2 * (k - 1), ""));
        break;
      }
      i = name->end_token - 1;
    }
    return Status::OK();
  }

  static Replacement Raw(size_t first, size_t end, std::string text) {
    Replacement r;
    r.first = first;
    r.end = end;
    r.raw = std::move(text);
    return r;
  }

  // Spark functions DuckDB spells differently and a macro cannot express (constant arguments are converted here).
  Status RewriteFunction(size_t i, std::vector<Replacement>& reps) {
    std::string name = Lower(t_[i].value);
    if (name != "to_date" && name != "to_timestamp" && name != "named_struct" && name != "from_json" &&
        name != "array" && name != "map") {
      return Status::OK();
    }
    if (i > 0 && t_[i - 1].IsSymbol(".")) return Status::OK();  // qualified: someone else's function
    size_t close = 0;
    auto args = CallArguments(t_, i + 1, close);
    if (name == "array") {
      // Spark's array(a, b, ...) constructor; ARRAY(SELECT ...) stays DuckDB's subquery form.
      if (i + 2 < t_.size() && (t_[i + 2].Is("SELECT") || t_[i + 2].Is("WITH") || t_[i + 2].Is("VALUES") ||
                                t_[i + 2].Is("FROM"))) {
        return Status::OK();
      }
      reps.push_back(Raw(i, i + 1, "list_value"));
      return Status::OK();
    }
    if (name == "map") {
      // Spark's map(k1, v1, k2, v2, ...) -> map_from_entries([row(k1, v1), row(k2, v2)]); DuckDB's own
      // map(keys_list, values_list) and map() are left alone.
      if (args.empty() || close >= t_.size()) return Status::OK();
      bool duck_form = args.size() == 2 && t_[args[0].first].IsSymbol("[") && t_[args[1].first].IsSymbol("[");
      if (duck_form) return Status::OK();
      if (args.size() % 2 != 0) {
        return Error(ErrorCode::kInvalidParameterValue, "map expects pairs of (key, value) arguments, got {}",
                     args.size());
      }
      reps.push_back(Raw(i, i + 2, "map_from_entries([row("));
      for (size_t a = 1; a + 1 < args.size(); a += 2) reps.push_back(Raw(args[a].second, args[a].second + 1, "), row("));
      reps.push_back(Raw(close, close + 1, ")])"));
      return Status::OK();
    }
    auto single_string = [&](size_t a) {
      return a < args.size() && args[a].second == args[a].first + 1 && t_[args[a].first].kind == TokenKind::kString;
    };
    if (name == "to_date" || name == "to_timestamp") {
      if (args.size() != 2) return Status::OK();
      if (!single_string(1)) {
        return Error(ErrorCode::kInvalidParameterValue, "{}: the format must be a string literal", name);
      }
      reps.push_back(Raw(i, i + 1, "__tarn_" + name));
      size_t f = args[1].first;
      reps.push_back(Raw(f, f + 1, engine::QuoteSqlString(SparkPatternToStrftime(t_[f].value))));
      return Status::OK();
    }
    if (name == "named_struct") {
      if (args.size() % 2 != 0) {
        return Error(ErrorCode::kInvalidParameterValue, "named_struct expects pairs of (name, value) arguments");
      }
      reps.push_back(Raw(i, i + 1, "struct_pack"));
      for (size_t a = 0; a < args.size(); a += 2) {
        if (!single_string(a)) {
          return Error(ErrorCode::kInvalidParameterValue, "named_struct: field names must be string literals");
        }
        // 'key', -> "key" :=
        reps.push_back(Raw(args[a].first, args[a].second + 1, engine::QuoteSqlIdentifier(t_[args[a].first].value) +
                                                                  " :="));
      }
      return Status::OK();
    }
    // from_json(json, 'a INT, b ARRAY<STRING>'): Spark's DDL schema becomes DuckDB's JSON structure.
    if (args.size() < 2 || !single_string(1)) return Status::OK();
    size_t f = args[1].first;
    const std::string& ddl = t_[f].value;
    if (!ddl.empty() && (ddl[0] == '{' || ddl[0] == '[' || ddl[0] == '"')) return Status::OK();  // DuckDB form
    std::vector<Token> type_tokens = Tokenize("STRUCT<" + ddl + ">");
    size_t k = 0;
    auto type = ParseTypeTokens(type_tokens, k);
    if (!type.ok() || k != type_tokens.size()) {
      return Error(ErrorCode::kInvalidParameterValue, "from_json: cannot parse the schema '{}'{}", ddl,
                   type.ok() ? "" : ": " + type.status().message());
    }
    reps.push_back(Raw(f, f + 1, engine::QuoteSqlString(JsonStructure(**type))));
    if (args.size() > 2) reps.push_back(Raw(args[1].second, args.back().second, ""));  // Spark options: ignored
    return Status::OK();
  }

  // `bare`: no time travel and no alias (DESCRIBE HISTORY/DETAIL targets).
  Result<std::optional<Replacement>> TryResolve(const QualifiedName& name, bool bare = false) {
    const auto& parts = name.parts;
    if (parts.size() > 3) return std::optional<Replacement>();
    if (parts.size() == 2 && t_[name.first_token + 2].kind == TokenKind::kBacktick) {
      std::string format = Lower(parts[0]);
      if (format == "delta" || format == "parquet" || format == "json" || format == "csv") {
        return std::optional<Replacement>();
      }
    }
    if (parts.size() == 1 && ctes_.count(Lower(parts[0])) > 0) return std::optional<Replacement>();
    TARN_ASSIGN_OR_RETURN(auto qualified, Qualify(name, context_));
    if (overlay_) {
      size_t j = name.end_token;
      bool time_travel = j < t_.size() && (t_[j].IsSymbol("@") || t_[j].Is("VERSION") || t_[j].Is("TIMESTAMP") ||
                                           (t_[j].Is("FOR") && j + 1 < t_.size() &&
                                            (t_[j + 1].Is("VERSION") || t_[j + 1].Is("TIMESTAMP"))));
      std::optional<std::string> staged = time_travel || bare ? std::nullopt : overlay_(qualified);
      if (staged) {
        Replacement r = Raw(name.first_token, name.end_token, "(" + *staged + ")");
        bool has_alias = bare || (j < t_.size() && (t_[j].Is("AS") || t_[j].kind == TokenKind::kQuoted ||
                                                    t_[j].kind == TokenKind::kBacktick ||
                                                    (t_[j].kind == TokenKind::kWord && !IsNotAlias(t_[j]))));
        if (!has_alias) r.alias = parts.back();
        return std::optional<Replacement>(std::move(r));
      }
    }
    auto found = FindTable(qualified);
    if (!found.ok()) {
      ErrorCode code = found.status().code();
      if (code == ErrorCode::kSchemaNotFound && parts.size() == 3) {
        // Our catalog, no such schema: the table does not exist (Databricks: TABLE_OR_VIEW_NOT_FOUND).
        return Error(ErrorCode::kTableNotFound, "table or view '{}' does not exist ({})", Lower(parts[0]) + "." +
                     Lower(parts[1]) + "." + Lower(parts[2]), found.status().message());
      }
      if (code == ErrorCode::kCatalogNotFound || code == ErrorCode::kSchemaNotFound) {
        return std::optional<Replacement>();  // not ours: a DuckDB schema such as information_schema
      }
      return found.status();
    }
    if (!found->has_value()) return std::optional<Replacement>();
    const catalog::TableInfo& table = **found;
    Replacement r;
    r.first = name.first_token;
    size_t j = name.end_token;
    // Spark's t@v3.
    if (j + 1 < t_.size() && t_[j].IsSymbol("@") && !t_[j].space_before && !t_[j + 1].space_before &&
        t_[j + 1].kind == TokenKind::kWord && t_[j + 1].value.size() > 1 &&
        (t_[j + 1].value[0] == 'v' || t_[j + 1].value[0] == 'V') &&
        t_[j + 1].value.find_first_not_of("0123456789", 1) == std::string::npos && t_[j + 1].value.size() < 19) {
      r.version = std::stoll(t_[j + 1].value.substr(1));
      j += 2;
    } else if (j + 1 < t_.size() && t_[j].IsSymbol("@") && !t_[j].space_before && !t_[j + 1].space_before &&
               t_[j + 1].kind == TokenKind::kNumber && t_[j + 1].value.size() == 17 &&
               t_[j + 1].value.find_first_not_of("0123456789") == std::string::npos) {
      // Spark's t@yyyyMMddHHmmssSSS: the version as of that timestamp.
      const std::string& d = t_[j + 1].value;
      r.timestamp = d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2) + " " + d.substr(8, 2) + ":" +
                    d.substr(10, 2) + ":" + d.substr(12, 2) + "." + d.substr(14, 3);
      j += 2;
    }
    if (!r.version && !r.timestamp && !bare) TARN_RETURN_IF_ERROR(ReadTimeTravel(t_, j, r));
    r.end = j;
    bool has_alias = bare || (j < t_.size() && (t_[j].Is("AS") || t_[j].kind == TokenKind::kQuoted ||
                                       t_[j].kind == TokenKind::kBacktick ||
                                       (t_[j].kind == TokenKind::kWord && !IsNotAlias(t_[j]))));
    if (!has_alias) r.alias = parts.back();
    if (table.is_view()) {
      if (r.version || r.timestamp) {
        return Error(ErrorCode::kInvalidParameterValue, "time travel is not supported on view {}", table.full_name());
      }
      if (depth_ >= kMaxViewDepth) {
        return Error(ErrorCode::kInvalidState, "view {} nests more than {} views (a cycle?)", table.full_name(),
                     kMaxViewDepth);
      }
      std::vector<Token> view_tokens = Tokenize(table.view_text);
      const NameContext view_context{table.view_catalog, table.view_schema, context_.ltz_timestamps};
      Resolver inner(table.view_text, view_tokens, catalog_, view_context, latest_, depth_ + 1, overlay_, lookups_);
      TARN_ASSIGN_OR_RETURN(r.view_sql, inner.Run());
      r.is_view = true;
    } else {
      r.location = table.location;
    }
    return std::optional<Replacement>(std::move(r));
  }

  std::string_view text_;
  const std::vector<Token>& t_;
  catalog::Catalog& catalog_;
  const NameContext& context_;
  const LatestVersionFn& latest_;
  int depth_;
  // Catalog::FindTable through the statement's lookups (errors are returned, not kept).
  Result<std::optional<catalog::TableInfo>> FindTable(const std::vector<std::string>& qualified) {
    std::vector<std::string> key;
    for (const auto& part : qualified) key.push_back(Lower(part));
    auto it = lookups_.find(key);
    if (it != lookups_.end()) return it->second;
    TARN_ASSIGN_OR_RETURN(auto found, catalog_.FindTable(key[0], key[1], key[2]));
    lookups_.emplace(std::move(key), found);
    return found;
  }

  const OverlayFn& overlay_;
  TableLookups& lookups_;
  std::set<std::string> ctes_;
};

}  // namespace

std::optional<QualifiedName> ReadQualifiedName(const std::vector<Token>& t, size_t i) {
  if (i >= t.size() || !t[i].IsName()) return std::nullopt;
  QualifiedName q;
  q.first_token = i;
  q.parts.push_back(t[i].value);
  size_t j = i + 1;
  while (j + 1 < t.size() && t[j].IsSymbol(".") && !t[j].space_before && t[j + 1].IsName() &&
         !t[j + 1].space_before) {
    q.parts.push_back(t[j + 1].value);
    j += 2;
  }
  q.end_token = j;
  return q;
}

Result<std::vector<std::string>> Qualify(const QualifiedName& name, const NameContext& context) {
  const auto& p = name.parts;
  if (p.size() == 1) return std::vector<std::string>{context.catalog, context.schema, p[0]};
  if (p.size() == 2) return std::vector<std::string>{context.catalog, p[0], p[1]};
  if (p.size() == 3) return std::vector<std::string>{p[0], p[1], p[2]};
  std::string joined;
  for (const auto& part : p) joined += (joined.empty() ? "" : ".") + part;
  return Error(ErrorCode::kInvalidParameterValue, "name '{}' has more than three parts (catalog.schema.table)",
               joined);
}

std::string DeltaReference(std::string_view location) {
  std::string out = "delta.`";
  for (char c : location) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

Result<std::string> ResolveNames(std::string_view text, const std::vector<Token>& tokens, catalog::Catalog& catalog,
                                 const NameContext& context, const LatestVersionFn& latest_version, int depth,
                                 const OverlayFn& overlay) {
  TableLookups lookups;
  Resolver resolver(text, tokens, catalog, context, latest_version, depth, overlay, lookups);
  return resolver.Run();
}

std::optional<int64_t> LatestLogVersion(const std::string& location) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::optional<int64_t> latest;
  for (const auto& entry : fs::directory_iterator(fs::path(location) / "_delta_log", ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() != 25 || !name.ends_with(".json")) continue;  // <20 digits>.json commit files only
    std::string digits = name.substr(0, 20);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    int64_t v = std::stoll(digits);
    if (!latest || v > *latest) latest = v;
  }
  return latest;
}

}  // namespace tarn::sql::detail
