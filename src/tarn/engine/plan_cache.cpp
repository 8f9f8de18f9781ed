// SPDX-License-Identifier: Apache-2.0
// PlanCache and the token scans that decide whether a statement is single and safe to cache.
#include "tarn/engine/detail/plan_cache.hpp"

#include <cctype>
#include <vector>

namespace tarn::engine::detail {
namespace {

struct Tok {
  enum Kind { kWord, kQuoted, kString, kPunct, kParam } kind;
  std::string_view text;  // word (original case), quoted name or string without quotes, or the punctuation char
};

bool IsWordChar(unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c >= 0x80; }

// Splits `sql` into tokens, skipping whitespace and comments. False for what the scan does not understand
// (backslashes, dollar quoting) or an unterminated quote or comment.
bool Lex(std::string_view sql, std::vector<Tok>& out) {
  size_t i = 0;
  const size_t n = sql.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(sql[i]);
    if (std::isspace(c) != 0) {
      i++;
    } else if (c == '\\') {
      return false;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') i++;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      int depth = 1;
      i += 2;
      while (depth > 0) {
        if (i + 1 >= n) return false;
        if (sql[i] == '/' && sql[i + 1] == '*') {
          depth++;
          i += 2;
        } else if (sql[i] == '*' && sql[i + 1] == '/') {
          depth--;
          i += 2;
        } else {
          i++;
        }
      }
    } else if (c == '\'' || c == '"') {
      size_t start = ++i;
      while (true) {
        if (i >= n) return false;
        if (static_cast<unsigned char>(sql[i]) == c) {
          if (i + 1 < n && static_cast<unsigned char>(sql[i + 1]) == c) {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      out.push_back(Tok{c == '\'' ? Tok::kString : Tok::kQuoted, sql.substr(start, i - start)});
      i++;
    } else if (c == '$') {
      size_t start = i++;
      if (i >= n || std::isdigit(static_cast<unsigned char>(sql[i])) == 0) return false;  // dollar quoting
      while (i < n && std::isdigit(static_cast<unsigned char>(sql[i])) != 0) i++;
      out.push_back(Tok{Tok::kParam, sql.substr(start, i - start)});
    } else if (IsWordChar(c)) {
      size_t start = i;
      while (i < n && (IsWordChar(static_cast<unsigned char>(sql[i])) || sql[i] == '$')) i++;
      out.push_back(Tok{Tok::kWord, sql.substr(start, i - start)});
    } else {
      out.push_back(Tok{Tok::kPunct, sql.substr(i, 1)});
      i++;
    }
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsPunct(const Tok& t, char c) { return t.kind == Tok::kPunct && t.text[0] == c; }

bool IsTableFunction(const std::string& name, const TableFunctionNames& names) {
  if (name == "range" || name == "generate_series" || name == "unnest" || name == "repeat" || name == "repeat_row") {
    return false;  // generators: read nothing
  }
  if (names.count(name) > 0) return true;
  return StartsWith(name, "read_") || EndsWith(name, "_scan") || name == "glob" || name == "sniff_csv" ||
         StartsWith(name, "parquet_") || StartsWith(name, "iceberg_") || StartsWith(name, "delta_");
}

size_t CountCalls(const std::vector<Tok>& toks, const TableFunctionNames& names) {
  size_t calls = 0;
  for (size_t i = 0; i + 1 < toks.size(); i++) {
    if ((toks[i].kind != Tok::kWord && toks[i].kind != Tok::kQuoted) || !IsPunct(toks[i + 1], '(')) continue;
    if (IsTableFunction(Lower(toks[i].text), names)) calls++;
  }
  return calls;
}

bool IsKeyword(const Tok& t, std::string_view lower) {
  if (t.kind != Tok::kWord || t.text.size() != lower.size()) return false;
  for (size_t i = 0; i < lower.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(t.text[i])) != lower[i]) return false;
  }
  return true;
}

// Keywords that end a FROM list at their parenthesis level.
bool EndsFromList(const Tok& t) {
  static constexpr std::string_view kEnders[] = {"where",  "group",     "having", "order",  "limit",  "offset",
                                                 "qualify", "window",   "union",  "except", "intersect", "select",
                                                 "on",     "using",     "returning", "values", "set"};
  for (std::string_view k : kEnders) {
    if (IsKeyword(t, k)) return true;
  }
  return false;
}

}  // namespace

bool IsSingleStatement(std::string_view sql) {
  std::vector<Tok> toks;
  if (!Lex(sql, toks)) return false;
  size_t first = 0;
  while (first < toks.size() && !IsPunct(toks[first], ';')) first++;
  if (first == 0) return false;  // empty, comment-only, or starts with ';'
  for (size_t i = first; i < toks.size(); i++) {
    if (!IsPunct(toks[i], ';')) return false;
  }
  return true;
}

size_t CountTableFunctionCalls(std::string_view sql, const TableFunctionNames& names) {
  std::vector<Tok> toks;
  Lex(sql, toks);  // counts what could be scanned; callers of ReadsOnlyPinnedData refuse unscannable text anyway
  return CountCalls(toks, names);
}

bool ReadsOnlyPinnedData(std::string_view sql, size_t generated_calls, const TableFunctionNames& names) {
  std::vector<Tok> toks;
  if (!Lex(sql, toks)) return false;
  if (CountCalls(toks, names) != generated_calls) return false;
  std::vector<bool> in_from{false};  // per parenthesis level: inside a FROM list
  for (size_t i = 0; i < toks.size(); i++) {
    const Tok& t = toks[i];
    if (t.kind == Tok::kQuoted && t.text.find_first_of("./:") != std::string_view::npos) return false;
    if (t.kind == Tok::kString && i > 0) {
      const Tok& prev = toks[i - 1];
      if (IsKeyword(prev, "from") || IsKeyword(prev, "join") || (IsPunct(prev, ',') && in_from.back())) return false;
    }
    if (IsKeyword(t, "from") || IsKeyword(t, "join")) {
      in_from.back() = true;
    } else if (EndsFromList(t)) {
      in_from.back() = false;
    } else if (IsPunct(t, '(')) {
      in_from.push_back(false);
    } else if (IsPunct(t, ')') && in_from.size() > 1) {
      in_from.pop_back();
    }
  }
  return true;
}

// ---- PlanCache ----

duckdb_prepared_statement PlanCache::Find(const std::string& sql) {
  auto it = index_.find(std::string_view(sql));
  if (it == index_.end()) {
    misses_++;
    return nullptr;
  }
  auto node = it->second;
  if (node->uses >= kMaxUses) {
    index_.erase(it);
    lru_.erase(node);
    misses_++;
    return nullptr;
  }
  hits_++;
  node->uses++;
  lru_.splice(lru_.begin(), lru_, node);
  return node->prepared.get();
}

duckdb_prepared_statement PlanCache::Insert(std::string sql, DuckPrepared prepared) {
  auto existing = index_.find(std::string_view(sql));
  if (existing != index_.end()) {
    auto node = existing->second;
    index_.erase(existing);
    lru_.erase(node);
  }
  while (!lru_.empty() && lru_.size() >= capacity_) {
    index_.erase(std::string_view(lru_.back().sql));
    lru_.pop_back();
  }
  lru_.push_front(Entry{std::move(sql), std::move(prepared), 1});
  index_.emplace(std::string_view(lru_.front().sql), lru_.begin());
  return lru_.front().prepared.get();
}

void PlanCache::Clear() {
  index_.clear();
  lru_.clear();
}

}  // namespace tarn::engine::detail
