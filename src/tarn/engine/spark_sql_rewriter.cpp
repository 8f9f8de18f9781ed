// SPDX-License-Identifier: Apache-2.0
// SparkSqlRewriter: tokenizer plus the rewrites of Delta references, time travel, DESCRIBE HISTORY/DETAIL, backticks.
#include "tarn/engine/spark_sql_rewriter.hpp"

#include <cctype>
#include <optional>
#include <vector>

#include "tarn/engine/delta_scan_plan.hpp"
#include "tarn/engine/delta_table.hpp"
#include "tarn/engine/sql_quoting.hpp"

namespace tarn::engine {
namespace {

enum class TokenKind { kSpace, kWord, kQuoted, kBacktick, kString, kNumber, kSymbol, kOther };

struct Token {
  TokenKind kind;
  std::string_view text;  // as written
  std::string value;      // unquoted content (identifiers, strings)
};

bool IsWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); }
bool IsWordChar(char c) { return IsWordStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$'; }

// Reads a quoted token starting at `pos` (quote char `q`, doubled to escape); returns its end and unquoted value.
size_t ReadQuoted(std::string_view sql, size_t pos, char q, std::string& value) {
  size_t i = pos + 1;
  while (i < sql.size()) {
    if (sql[i] == q) {
      if (i + 1 < sql.size() && sql[i + 1] == q) {
        value += q;
        i += 2;
        continue;
      }
      return i + 1;
    }
    value += sql[i++];
  }
  return sql.size();
}

std::vector<Token> Tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < sql.size()) {
    size_t start = i;
    char c = sql[i];
    Token token{TokenKind::kOther, {}, {}};
    if (std::isspace(static_cast<unsigned char>(c))) {
      while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) i++;
      token.kind = TokenKind::kSpace;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') i++;
      token.kind = TokenKind::kSpace;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
      token.kind = TokenKind::kSpace;
    } else if (c == '\'' || c == '"' || c == '`') {
      i = ReadQuoted(sql, i, c, token.value);
      token.kind = c == '\'' ? TokenKind::kString : (c == '"' ? TokenKind::kQuoted : TokenKind::kBacktick);
    } else if (c == '$') {
      size_t j = i + 1;
      while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) j++;
      if (j < sql.size() && sql[j] == '$' && (j == i + 1 || !std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
        std::string_view tag = sql.substr(i, j - i + 1);
        size_t end = sql.find(tag, j + 1);
        i = end == std::string_view::npos ? sql.size() : end + tag.size();
        token.kind = TokenKind::kOther;  // dollar-quoted string: never rewritten
      } else {
        i = j;
        token.kind = TokenKind::kOther;  // $1 parameter
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
      while (i < sql.size() && (std::isdigit(static_cast<unsigned char>(sql[i])) || sql[i] == '.')) i++;
      if (i < sql.size() && (sql[i] == 'e' || sql[i] == 'E')) {
        size_t j = i + 1;
        if (j < sql.size() && (sql[j] == '+' || sql[j] == '-')) j++;
        if (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) {
          i = j;
          while (i < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i]))) i++;
        }
      }
      token.kind = TokenKind::kNumber;
    } else if (IsWordStart(c)) {
      while (i < sql.size() && IsWordChar(sql[i])) i++;
      token.kind = TokenKind::kWord;
    } else {
      static constexpr std::string_view kTwoCharOps[] = {"<=", ">=", "<>", "!=", "==", "::", "=>", "->", "||", ":="};
      i++;
      for (std::string_view op : kTwoCharOps) {
        if (sql.substr(start, 2) == op) {
          i = start + 2;
          break;
        }
      }
      token.kind = TokenKind::kSymbol;
    }
    token.text = sql.substr(start, i - start);
    if (token.kind == TokenKind::kWord) token.value = std::string(token.text);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

bool IsKeyword(const Token& token, std::string_view word) {
  if (token.kind != TokenKind::kWord || token.text.size() != word.size()) return false;
  for (size_t i = 0; i < word.size(); i++) {
    if (std::toupper(static_cast<unsigned char>(token.text[i])) != word[i]) return false;
  }
  return true;
}

bool IsSymbol(const Token& token, std::string_view symbol) {
  return token.kind == TokenKind::kSymbol && token.text == symbol;
}

// Words that end a table reference's alias position.
bool IsClauseKeyword(const Token& token) {
  static constexpr std::string_view kWords[] = {
      "WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "WINDOW", "QUALIFY", "UNION", "EXCEPT", "INTERSECT", "OFFSET",
      "FETCH", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "ON", "USING", "SEMI", "ANTI",
      "ASOF", "POSITIONAL", "LATERAL", "PIVOT", "UNPIVOT", "TABLESAMPLE", "USING", "VERSION", "TIMESTAMP", "FOR",
      "AT", "AS", "RETURNING", "SET", "VALUES", "DO"};
  for (std::string_view word : kWords) {
    if (IsKeyword(token, word)) return true;
  }
  return false;
}

struct TableReference {
  std::string function;  // delta_scan, read_parquet, ...
  DeltaTableSpec spec;
  size_t end = 0;  // index after the last token consumed
};

class Rewriter {
 public:
  Rewriter(std::vector<Token> tokens, const SparkSqlContext& context)
      : tokens_(std::move(tokens)), loader_(context.loader), context_(context) {}

  Result<std::string> Run(std::string_view original) {
    std::string out;
    size_t i = 0;
    while (i < tokens_.size()) {
      const Token& token = tokens_[i];
      if (token.kind == TokenKind::kSpace) {
        out += token.text;
        i++;
        continue;
      }
      if (IsSymbol(token, ";")) {
        out += token.text;
        i++;
        continue;
      }
      // DESCRIBE HISTORY/DETAIL: a statement, or a subquery "(DESCRIBE HISTORY ...)" as DuckDB allows for DESCRIBE.
      if (IsKeyword(token, "DESCRIBE") || IsKeyword(token, "DESC")) {
        size_t kind = Next(i);
        if (kind < tokens_.size() && (IsKeyword(tokens_[kind], "HISTORY") || IsKeyword(tokens_[kind], "DETAIL"))) {
          bool history = IsKeyword(tokens_[kind], "HISTORY");
          size_t target = Next(kind);
          std::optional<DeltaTableSpec> spec;
          size_t end = target;
          if (target < tokens_.size() && tokens_[target].kind == TokenKind::kString) {
            spec = DeltaTableSpec{tokens_[target].value, std::nullopt, std::nullopt};
            end = target + 1;
          } else {
            TARN_ASSIGN_OR_RETURN(auto ref, ParseTableReference(target, /*allow_time_travel=*/false));
            if (ref && ref->function == "delta_scan") {
              spec = ref->spec;
              end = ref->end;
            }
          }
          if (spec) {  // otherwise a plain DESCRIBE of a relation called history/detail
            if (loader_ != nullptr) TARN_RETURN_IF_ERROR(loader_->Load(*spec).status());
            out += std::string("SELECT * FROM ") + (history ? "delta_history(" : "delta_detail(") +
                   QuoteSqlString(spec->location) + ")";
            changed_ = true;
            i = end;
            continue;
          }
        }
      }
      TARN_ASSIGN_OR_RETURN(auto ref, ParseTableReference(i, /*allow_time_travel=*/true));
      if (ref) {
        TARN_ASSIGN_OR_RETURN(std::string call, EmitReference(i, *ref));
        out += call;
        changed_ = true;
        i = ref->end;
        continue;
      }
      if (IsKeyword(token, "TABLE_CHANGES") && At(Next(i)) && IsSymbol(*At(Next(i)), "(")) {
        // Spark's positional end version becomes the named parameter the table function takes.
        if (auto third = ThirdArgument(Next(i))) {
          for (; i < *third; i++) out += RewriteToken(tokens_[i]);
          out += "end_version => ";
          changed_ = true;
          continue;
        }
      }
      if (token.kind == TokenKind::kBacktick) {
        out += QuoteSqlIdentifier(token.value);
        changed_ = true;
        i++;
        continue;
      }
      out += token.text;
      i++;
    }
    if (!changed_) return std::string(original);
    return out;
  }

 private:
  size_t Next(size_t i) const {
    for (i++; i < tokens_.size(); i++) {
      if (tokens_[i].kind != TokenKind::kSpace) return i;
    }
    return tokens_.size();
  }
  size_t Prev(size_t i) const {
    while (i > 0) {
      i--;
      if (tokens_[i].kind != TokenKind::kSpace) return i;
    }
    return tokens_.size();
  }
  const Token* At(size_t i) const { return i < tokens_.size() ? &tokens_[i] : nullptr; }

  std::string RewriteToken(const Token& token) const {
    return token.kind == TokenKind::kBacktick ? QuoteSqlIdentifier(token.value) : std::string(token.text);
  }

  // Index of the first significant token of the third top-level argument of the call whose '(' is at `open`.
  std::optional<size_t> ThirdArgument(size_t open) const {
    int depth = 0;
    int commas = 0;
    for (size_t i = open; i < tokens_.size(); i = Next(i)) {
      const Token& t = tokens_[i];
      if (IsSymbol(t, "(") || IsSymbol(t, "[") || IsSymbol(t, "{")) depth++;
      if (IsSymbol(t, ")") || IsSymbol(t, "]") || IsSymbol(t, "}")) {
        if (--depth == 0) return std::nullopt;
      }
      if (depth == 1 && IsSymbol(t, ",") && ++commas == 2) {
        size_t arg = Next(i);
        if (At(arg) && At(Next(arg)) && IsSymbol(*At(Next(arg)), "=>")) return std::nullopt;  // already named
        return arg;
      }
    }
    return std::nullopt;
  }

  // Recognises `format.`path`` [@vN inside the path] [VERSION AS OF n | TIMESTAMP AS OF 'ts'] at token i.
  Result<std::optional<TableReference>> ParseTableReference(size_t i, bool allow_time_travel) {
    const Token* format = At(i);
    if (format == nullptr || format->kind != TokenKind::kWord) return std::optional<TableReference>();
    size_t dot = i + 1;  // no whitespace allowed inside the qualified name
    size_t path = i + 2;
    if (!At(dot) || !IsSymbol(*At(dot), ".") || !At(path) || At(path)->kind != TokenKind::kBacktick) {
      return std::optional<TableReference>();
    }
    TableReference ref;
    if (IsKeyword(*format, "DELTA")) ref.function = "delta_scan";
    else if (IsKeyword(*format, "PARQUET")) ref.function = "read_parquet";
    else if (IsKeyword(*format, "JSON")) ref.function = "read_json_auto";
    else if (IsKeyword(*format, "CSV")) ref.function = "read_csv_auto";
    else return std::optional<TableReference>();
    ref.spec.location = At(path)->value;
    ref.end = path + 1;
    if (ref.function != "delta_scan") return std::optional<TableReference>(std::move(ref));
    // Spark's `/path@v12` suffix.
    size_t at = ref.spec.location.rfind("@v");
    if (at != std::string::npos && at + 2 < ref.spec.location.size() &&
        ref.spec.location.find_first_not_of("0123456789", at + 2) == std::string::npos) {
      ref.spec.version = std::stoll(ref.spec.location.substr(at + 2));
      ref.spec.location.resize(at);
    }
    if (!allow_time_travel) return std::optional<TableReference>(std::move(ref));
    size_t next = Next(path);
    size_t kind = next;
    if (At(next) && IsKeyword(*At(next), "FOR")) kind = Next(next);  // FOR VERSION AS OF (SQL:2011 style)
    if (At(kind) && (IsKeyword(*At(kind), "VERSION") || IsKeyword(*At(kind), "TIMESTAMP"))) {
      size_t as = Next(kind);
      size_t of = Next(as);
      if (!At(as) || !IsKeyword(*At(as), "AS") || !At(of) || !IsKeyword(*At(of), "OF")) {
        return std::optional<TableReference>(std::move(ref));  // e.g. an alias named "version"
      }
      size_t value = Next(of);
      const Token* v = At(value);
      if (IsKeyword(*At(kind), "VERSION")) {
        if (v == nullptr || v->kind != TokenKind::kNumber || v->text.find_first_not_of("0123456789") != std::string::npos) {
          return Error(ErrorCode::kSyntaxError, "VERSION AS OF expects a non-negative integer version");
        }
        ref.spec.version = std::stoll(std::string(v->text));
        ref.end = value + 1;
      } else {
        size_t literal = value;
        if (v && (IsKeyword(*v, "TIMESTAMP") || IsKeyword(*v, "DATE"))) literal = Next(value);
        const Token* s = At(literal);
        if (s == nullptr || s->kind != TokenKind::kString) {
          return Error(ErrorCode::kSyntaxError, "TIMESTAMP AS OF expects a timestamp string literal");
        }
        ref.spec.timestamp = s->value;
        ref.end = literal + 1;
      }
    }
    return std::optional<TableReference>(std::move(ref));
  }

  Result<std::string> EmitReference(size_t start, const TableReference& ref) {
    if (ref.function != "delta_scan") return ref.function + "(" + QuoteSqlString(ref.spec.location) + ")";
    std::string call = "delta_scan(" + QuoteSqlString(ref.spec.location);
    if (loader_ != nullptr) {
      TARN_ASSIGN_OR_RETURN(DeltaTable table, loader_->Load(ref.spec));
      if (context_.inline_scan && !InCreateView(start)) {
        std::vector<ScanPredicate> predicates = ExtractPredicates(start, ref.end);
        TARN_ASSIGN_OR_RETURN(std::string sql, context_.inline_scan(table, predicates));
        return "(" + sql + ")";
      }
      call += ", version => " + std::to_string(table.snapshot->version());
    } else if (ref.spec.version) {
      call += ", version => " + std::to_string(*ref.spec.version);
    } else if (ref.spec.timestamp) {
      call += ", timestamp => " + QuoteSqlString(*ref.spec.timestamp);
    }
    std::vector<ScanPredicate> predicates = ExtractPredicates(start, ref.end);
    if (!predicates.empty()) call += ", filter => " + QuoteSqlString(EncodeScanPredicates(predicates));
    return call + ")";
  }

  // The conjuncts of `FROM <ref> [[AS] alias] WHERE ...` that compare a column of this table with a literal.
  std::vector<ScanPredicate> ExtractPredicates(size_t start, size_t end) {
    std::vector<ScanPredicate> out;
    size_t before = Prev(start);
    if (before >= tokens_.size() || !IsKeyword(tokens_[before], "FROM")) return out;
    size_t i = Next(end - 1);
    std::string alias;
    if (At(i) && IsKeyword(*At(i), "AS")) i = Next(i);
    if (At(i) && (At(i)->kind == TokenKind::kWord || At(i)->kind == TokenKind::kQuoted ||
                  At(i)->kind == TokenKind::kBacktick) &&
        !IsClauseKeyword(*At(i))) {
      alias = At(i)->value;
      i = Next(i);
    }
    if (!At(i) || !IsKeyword(*At(i), "WHERE")) return out;
    // Collect the WHERE clause's conjuncts at parenthesis depth 0.
    std::vector<std::vector<size_t>> conjuncts(1);
    int depth = 0;
    for (i = Next(i); i < tokens_.size(); i = Next(i)) {
      const Token& t = tokens_[i];
      if (IsSymbol(t, "(")) depth++;
      if (IsSymbol(t, ")")) {
        if (depth == 0) break;
        depth--;
      }
      if (depth == 0) {
        if (IsSymbol(t, ";") || IsKeyword(t, "GROUP") || IsKeyword(t, "ORDER") || IsKeyword(t, "LIMIT") ||
            IsKeyword(t, "HAVING") || IsKeyword(t, "WINDOW") || IsKeyword(t, "QUALIFY") || IsKeyword(t, "UNION") ||
            IsKeyword(t, "EXCEPT") || IsKeyword(t, "INTERSECT") || IsKeyword(t, "OFFSET")) {
          break;
        }
        if (IsKeyword(t, "OR")) return {};
        if (IsKeyword(t, "AND")) {
          conjuncts.emplace_back();
          continue;
        }
      }
      conjuncts.back().push_back(i);
    }
    for (const auto& conjunct : conjuncts) {
      if (auto predicate = ReadPredicate(conjunct, alias)) out.push_back(std::move(*predicate));
    }
    return out;
  }

  // [alias.]column, returning the index after it.
  std::optional<std::string> ReadColumn(const std::vector<size_t>& t, size_t& k, const std::string& alias) const {
    auto is_name = [&](size_t idx) {
      return idx < t.size() && (tokens_[t[idx]].kind == TokenKind::kWord || tokens_[t[idx]].kind == TokenKind::kQuoted ||
                                tokens_[t[idx]].kind == TokenKind::kBacktick);
    };
    if (!is_name(k)) return std::nullopt;
    if (k + 1 < t.size() && IsSymbol(tokens_[t[k + 1]], ".")) {
      if (alias.empty() || tokens_[t[k]].value != alias || !is_name(k + 2)) return std::nullopt;
      k += 3;
      return tokens_[t[k - 1]].value;
    }
    static constexpr std::string_view kNotColumns[] = {"NULL", "TRUE", "FALSE", "DATE", "TIMESTAMP", "NOT"};
    for (std::string_view word : kNotColumns) {
      if (IsKeyword(tokens_[t[k]], word)) return std::nullopt;
    }
    k += 1;
    return tokens_[t[k - 1]].value;
  }

  std::optional<std::string> ReadLiteral(const std::vector<size_t>& t, size_t& k) const {
    if (k >= t.size()) return std::nullopt;
    const Token& token = tokens_[t[k]];
    if (token.kind == TokenKind::kNumber) {
      k++;
      return std::string(token.text);
    }
    if (IsSymbol(token, "-") && k + 1 < t.size() && tokens_[t[k + 1]].kind == TokenKind::kNumber) {
      k += 2;
      return "-" + std::string(tokens_[t[k - 1]].text);
    }
    if (token.kind == TokenKind::kString) {
      k++;
      return token.value;
    }
    if ((IsKeyword(token, "DATE") || IsKeyword(token, "TIMESTAMP") || IsKeyword(token, "TIMESTAMP_NTZ")) &&
        k + 1 < t.size() && tokens_[t[k + 1]].kind == TokenKind::kString) {
      k += 2;
      return tokens_[t[k - 1]].value;
    }
    if (IsKeyword(token, "TRUE") || IsKeyword(token, "FALSE")) {
      k++;
      return IsKeyword(token, "TRUE") ? "true" : "false";
    }
    return std::nullopt;
  }

  static std::optional<std::string> ReadOperator(const Token& token) {
    static constexpr std::string_view kOps[] = {"=", "==", "<", "<=", ">", ">=", "<>", "!="};
    for (std::string_view op : kOps) {
      if (IsSymbol(token, op)) {
        if (op == "==") return "=";
        if (op == "!=") return "<>";
        return std::string(op);
      }
    }
    return std::nullopt;
  }

  std::optional<ScanPredicate> ReadPredicate(const std::vector<size_t>& t, const std::string& alias) const {
    size_t k = 0;
    if (auto column = ReadColumn(t, k, alias)) {
      if (k < t.size() && IsKeyword(tokens_[t[k]], "IS")) {
        k++;
        bool negated = k < t.size() && IsKeyword(tokens_[t[k]], "NOT");
        if (negated) k++;
        if (k + 1 == t.size() && IsKeyword(tokens_[t[k]], "NULL")) {
          return ScanPredicate{*column, negated ? "is_not_null" : "is_null", ""};
        }
        return std::nullopt;
      }
      if (k >= t.size()) return std::nullopt;
      auto op = ReadOperator(tokens_[t[k]]);
      if (!op) return std::nullopt;
      k++;
      auto literal = ReadLiteral(t, k);
      if (!literal || k != t.size()) return std::nullopt;
      return ScanPredicate{*column, *op, *literal};
    }
    k = 0;
    auto literal = ReadLiteral(t, k);
    if (!literal || k >= t.size()) return std::nullopt;
    auto op = ReadOperator(tokens_[t[k]]);
    if (!op) return std::nullopt;
    k++;
    auto column = ReadColumn(t, k, alias);
    if (!column || k != t.size()) return std::nullopt;
    std::string flipped = *op == "<" ? ">" : *op == ">" ? "<" : *op == "<=" ? ">=" : *op == ">=" ? "<=" : *op;
    return ScanPredicate{*column, flipped, *literal};
  }

  std::vector<Token> tokens_;
  // True when the statement that token i belongs to creates a view (its references must stay table functions).
  bool InCreateView(size_t i) const {
    size_t start = i;
    while (start > 0 && !IsSymbol(tokens_[start - 1], ";")) start--;
    size_t first = tokens_[start].kind == TokenKind::kSpace ? Next(start) : start;
    if (!At(first) || !IsKeyword(*At(first), "CREATE")) return false;
    for (size_t j = Next(first); j < i; j = Next(j)) {
      if (IsKeyword(tokens_[j], "VIEW")) return true;
      if (IsKeyword(tokens_[j], "AS") || IsKeyword(tokens_[j], "TABLE")) return false;
    }
    return false;
  }

  DeltaTableLoader* loader_;
  const SparkSqlContext& context_;
  bool changed_ = false;
};

}  // namespace

Result<std::string> RewriteSparkSql(std::string_view sql, const SparkSqlContext& context) {
  // Fast path: nothing to rewrite without a backtick, DESCRIBE HISTORY/DETAIL or table_changes.
  bool candidate = sql.find('`') != std::string_view::npos;
  if (!candidate) {
    for (size_t i = 0; i + 6 <= sql.size() && !candidate; i++) {
      char c = static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i])));
      if (c != 'H' && c != 'D' && c != 'T') continue;
      std::string word;
      for (size_t j = i; j < sql.size() && j < i + 13; j++) {
        word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[j])));
      }
      candidate = word.starts_with("HISTORY") || word.starts_with("DETAIL") || word.starts_with("TABLE_CHANGES");
    }
  }
  if (!candidate) return std::string(sql);
  Rewriter rewriter(Tokenize(sql), context);
  return rewriter.Run(sql);
}

}  // namespace tarn::engine
