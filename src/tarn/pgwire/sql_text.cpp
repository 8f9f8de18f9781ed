// SPDX-License-Identifier: Apache-2.0
// Statement splitting and classification of the session commands the wire layer answers itself.
#include "tarn/pgwire/sql_text.hpp"

#include <cctype>
#include <limits>

namespace tarn::pgwire {
namespace {

bool IsIdentStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsIdentChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Returns the end of a dollar-quote tag starting at i ("$tag$" or "$$"), or npos when it is not one.
size_t DollarTagEnd(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j < s.size() && s[j] == '$') return j + 1;
  if (j >= s.size() || !IsIdentStart(static_cast<unsigned char>(s[j]))) return std::string_view::npos;
  while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) j++;
  if (j < s.size() && s[j] == '$') return j + 1;
  return std::string_view::npos;
}

// Skips a quoted or commented region starting at i; returns the index after it, or i when s[i] starts none.
size_t SkipSpecial(std::string_view s, size_t i, std::string* literal) {
  char c = s[i];
  if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
    size_t e = s.find('\n', i);
    return e == std::string_view::npos ? s.size() : e + 1;
  }
  if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
    int depth = 1;
    size_t j = i + 2;
    while (j < s.size() && depth > 0) {
      if (s[j] == '/' && j + 1 < s.size() && s[j + 1] == '*') {
        depth++;
        j += 2;
      } else if (s[j] == '*' && j + 1 < s.size() && s[j + 1] == '/') {
        depth--;
        j += 2;
      } else {
        j++;
      }
    }
    return j;
  }
  bool escape_string = (c == 'e' || c == 'E') && i + 1 < s.size() && s[i + 1] == '\'' &&
                       (i == 0 || !IsIdentChar(static_cast<unsigned char>(s[i - 1])));
  if (c == '\'' || escape_string) {
    size_t j = i + (escape_string ? 2 : 1);
    while (j < s.size()) {
      if (escape_string && s[j] == '\\' && j + 1 < s.size()) {
        if (literal) {
          char n = s[j + 1];
          *literal += n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n;
        }
        j += 2;
        continue;
      }
      if (s[j] == '\'') {
        if (j + 1 < s.size() && s[j + 1] == '\'') {
          if (literal) *literal += '\'';
          j += 2;
          continue;
        }
        return j + 1;
      }
      if (literal) *literal += s[j];
      j++;
    }
    return s.size();
  }
  if (c == '"') {
    size_t j = i + 1;
    while (j < s.size()) {
      if (s[j] == '"') {
        if (j + 1 < s.size() && s[j + 1] == '"') {
          if (literal) *literal += '"';
          j += 2;
          continue;
        }
        return j + 1;
      }
      if (literal) *literal += s[j];
      j++;
    }
    return s.size();
  }
  if (c == '$' && (i == 0 || !IsIdentChar(static_cast<unsigned char>(s[i - 1])))) {
    size_t tag_end = DollarTagEnd(s, i);
    if (tag_end == std::string_view::npos) return i;
    std::string_view tag = s.substr(i, tag_end - i);
    size_t close = s.find(tag, tag_end);
    if (close == std::string_view::npos) {
      if (literal) *literal += s.substr(tag_end);
      return s.size();
    }
    if (literal) *literal += s.substr(tag_end, close - tag_end);
    return close + tag.size();
  }
  return i;
}

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> tokens) : sql_(sql), t_(std::move(tokens)) {}
  bool AtEnd() const { return i_ >= t_.size(); }
  const Token* Peek(size_t ahead = 0) const { return i_ + ahead < t_.size() ? &t_[i_ + ahead] : nullptr; }
  bool IsWord(std::string_view w, size_t ahead = 0) const {
    const Token* t = Peek(ahead);
    return t && t->kind == Token::Kind::kWord && t->text == w;
  }
  bool IsSymbol(std::string_view s, size_t ahead = 0) const {
    const Token* t = Peek(ahead);
    return t && t->kind == Token::Kind::kSymbol && t->text == s;
  }
  bool Accept(std::string_view w) {
    if (IsWord(w)) {
      i_++;
      return true;
    }
    return false;
  }
  bool AcceptSymbol(std::string_view s) {
    if (IsSymbol(s)) {
      i_++;
      return true;
    }
    return false;
  }
  const Token* Next() { return i_ < t_.size() ? &t_[i_++] : nullptr; }
  // An identifier (word or quoted), optionally dotted; returns its name (last part for dotted names joined by '.').
  bool Name(std::string& out) {
    const Token* t = Peek();
    if (!t || (t->kind != Token::Kind::kWord && t->kind != Token::Kind::kQuotedIdent)) return false;
    out = t->text;
    i_++;
    while (IsSymbol(".") && Peek(1) &&
           (Peek(1)->kind == Token::Kind::kWord || Peek(1)->kind == Token::Kind::kQuotedIdent)) {
      out += '.';
      out += Peek(1)->text;
      i_ += 2;
    }
    return true;
  }
  size_t Position() const { return i_ < t_.size() ? t_[i_].begin : sql_.size(); }
  size_t index() const { return i_; }
  void set_index(size_t i) { i_ = i; }
  std::string_view Source(size_t from, size_t to) const { return sql_.substr(from, to - from); }
  const std::vector<Token>& tokens() const { return t_; }

 private:
  std::string_view sql_;
  std::vector<Token> t_;
  size_t i_ = 0;
};

Status Syntax(std::string_view message) { return Error(ErrorCode::kSyntaxError, "{}", message); }

// Collects a SET value list: strings, words, numbers (with sign), joined by ", ".
std::string SetValue(Parser& p) {
  std::string value;
  std::string item;
  while (!p.AtEnd()) {
    const Token* t = p.Next();
    if (t->kind == Token::Kind::kSymbol && t->text == ",") {
      value += item;
      value += ", ";
      item.clear();
      continue;
    }
    if (t->kind == Token::Kind::kSymbol && t->text == ";") break;
    item += t->kind == Token::Kind::kWord ? std::string(p.Source(t->begin, t->end)) : t->text;
  }
  value += item;
  return value;
}

Result<Command> ParseSet(Parser& p) {
  Command cmd;
  cmd.kind = Command::Kind::kSet;
  if (p.Accept("local")) {
    cmd.set_local = true;
  } else {
    p.Accept("session");
  }
  if (p.IsWord("transaction") || p.IsWord("characteristics")) {
    cmd.kind = Command::Kind::kSetTransaction;
    return cmd;
  }
  if (p.IsWord("authorization") || (p.IsWord("session") && p.IsWord("authorization", 1)) || p.IsWord("role")) {
    cmd.kind = Command::Kind::kUnsupported;
    cmd.error = "SET SESSION AUTHORIZATION / SET ROLE is not supported";
    return cmd;
  }
  if (p.IsWord("time") && p.IsWord("zone", 1)) {
    p.Next();
    p.Next();
    cmd.name = "timezone";
  } else if (p.Accept("names")) {
    cmd.name = "client_encoding";
  } else {
    if (!p.Name(cmd.name)) return Syntax("syntax error in SET: expected a parameter name");
    cmd.name = Lower(cmd.name);
    if (!p.Accept("to") && !p.AcceptSymbol("=")) {
      if (cmd.name == "schema") {
        cmd.name = "search_path";
      } else {
        return Syntax("syntax error in SET: expected TO or =");
      }
    }
  }
  if (p.IsWord("default") && p.Peek(1) == nullptr) {
    cmd.set_default = true;
    return cmd;
  }
  if (cmd.name == "timezone" && p.IsWord("local")) {
    cmd.set_default = true;
    return cmd;
  }
  cmd.value = SetValue(p);
  if (cmd.value.empty()) return Syntax("syntax error in SET: expected a value");
  return cmd;
}

// FETCH/MOVE direction and cursor name.
Result<Command> ParseFetch(Parser& p, Command::Kind kind) {
  Command cmd;
  cmd.kind = kind;
  constexpr int64_t kAll = std::numeric_limits<int64_t>::max();
  auto number = [&](int64_t& out) -> bool {
    bool negative = p.AcceptSymbol("-");
    if (!negative) p.AcceptSymbol("+");
    const Token* t = p.Peek();
    if (!t || t->kind != Token::Kind::kNumber) return false;
    p.Next();
    try {
      out = std::stoll(t->text);
    } catch (...) {
      return false;
    }
    if (negative) out = -out;
    return true;
  };
  bool backwards = false;
  if (p.Accept("next")) {
    cmd.count = 1;
  } else if (p.Accept("all")) {
    cmd.count = kAll;
  } else if (p.Accept("forward")) {
    if (p.Accept("all")) {
      cmd.count = kAll;
    } else {
      int64_t n = 1;
      if (p.Peek() && (p.Peek()->kind == Token::Kind::kNumber || p.IsSymbol("-"))) {
        if (!number(n)) return Syntax("syntax error in FETCH count");
      }
      cmd.count = n;
      backwards = n < 0;
    }
  } else if (p.IsWord("prior") || p.IsWord("first") || p.IsWord("last") || p.IsWord("absolute") ||
             p.IsWord("relative") || p.IsWord("backward")) {
    backwards = true;
  } else if (p.Peek() && (p.Peek()->kind == Token::Kind::kNumber || p.IsSymbol("-"))) {
    int64_t n = 0;
    if (!number(n)) return Syntax("syntax error in FETCH count");
    cmd.count = n;
    backwards = n < 0;
  }
  if (backwards) {
    cmd.kind = Command::Kind::kUnsupported;
    cmd.error = "cursor can only scan forward";
    return cmd;
  }
  p.Accept("from") || p.Accept("in");
  if (!p.Name(cmd.name) || !p.AtEnd()) return Syntax("syntax error in FETCH: expected a cursor name");
  return cmd;
}

// One COPY option value: a string, word or number.
bool OptionValue(Parser& p, std::string& out) {
  const Token* t = p.Peek();
  if (!t || t->kind == Token::Kind::kSymbol) return false;
  p.Next();
  out = t->text;
  return true;
}

Status ApplyCopyOption(CopySpec& copy, const std::string& name, const std::string& value, bool has_value) {
  auto one_char = [&](char& target) -> Status {
    if (value.size() != 1) return Error(ErrorCode::kFeatureNotSupported, "COPY {} must be a single one-byte character", name);
    target = value[0];
    return Status::OK();
  };
  if (name == "format") {
    std::string f = Lower(value);
    if (f == "csv") {
      copy.format = CopySpec::Format::kCsv;
    } else if (f == "text") {
      copy.format = CopySpec::Format::kText;
    } else if (f == "binary") {
      copy.format = CopySpec::Format::kBinary;
    } else {
      return Error(ErrorCode::kInvalidParameterValue, "COPY format \"{}\" not recognized", value);
    }
  } else if (name == "delimiter") {
    copy.delimiter_given = true;
    return one_char(copy.delimiter);
  } else if (name == "null") {
    copy.null_given = true;
    copy.null_string = value;
  } else if (name == "header") {
    std::string v = Lower(value);
    copy.header = !has_value || v == "true" || v == "on" || v == "1";
  } else if (name == "quote") {
    return one_char(copy.quote);
  } else if (name == "escape") {
    return one_char(copy.escape);
  } else if (name == "encoding") {
    std::string v = Lower(value);
    if (v != "utf8" && v != "utf-8" && v != "unicode") {
      return Error(ErrorCode::kFeatureNotSupported, "COPY encoding {} is not supported (only UTF8)", value);
    }
  } else if (name == "freeze") {
    // No effect here: accepted like PostgreSQL does for tables created in the same transaction.
  } else {
    return Error(ErrorCode::kFeatureNotSupported, "COPY option \"{}\" is not supported", name);
  }
  return Status::OK();
}

Result<Command> ParseCopy(Parser& p, std::string_view sql) {
  Command cmd;
  cmd.kind = Command::Kind::kCopy;
  CopySpec& copy = cmd.copy;
  if (p.IsSymbol("(")) {
    // COPY (query) TO ...: find the matching parenthesis.
    size_t open = p.index();
    int depth = 0;
    size_t close = open;
    for (size_t k = open; k < p.tokens().size(); k++) {
      const Token& t = p.tokens()[k];
      if (t.kind == Token::Kind::kSymbol && t.text == "(") depth++;
      if (t.kind == Token::Kind::kSymbol && t.text == ")" && --depth == 0) {
        close = k;
        break;
      }
    }
    if (close == open) return Syntax("syntax error in COPY: unbalanced parentheses");
    copy.query = std::string(sql.substr(p.tokens()[open].end, p.tokens()[close].begin - p.tokens()[open].end));
    p.set_index(close + 1);
  } else {
    size_t begin = p.Position();
    std::string name;
    if (!p.Name(name)) return Syntax("syntax error in COPY: expected a table name");
    copy.table = std::string(sql.substr(begin, p.tokens()[p.index() - 1].end - begin));
    if (p.IsSymbol("(")) {
      size_t open_pos = p.Peek()->begin;
      while (!p.AtEnd() && !p.IsSymbol(")")) p.Next();
      if (!p.AcceptSymbol(")")) return Syntax("syntax error in COPY column list");
      copy.columns = std::string(sql.substr(open_pos, p.tokens()[p.index() - 1].end - open_pos));
    }
  }
  if (p.Accept("to")) {
    copy.to_stdout = true;
    if (!p.Accept("stdout")) {
      cmd.kind = Command::Kind::kEngine;  // COPY ... TO 'file': the engine's own COPY
      return cmd;
    }
  } else if (p.Accept("from")) {
    copy.to_stdout = false;
    if (!p.Accept("stdin")) {
      cmd.kind = Command::Kind::kEngine;
      return cmd;
    }
    if (!copy.query.empty()) return Syntax("COPY (query) FROM is not valid");
  } else {
    return Syntax("syntax error in COPY: expected TO or FROM");
  }
  p.Accept("with");
  if (p.AcceptSymbol("(")) {
    while (!p.AtEnd() && !p.IsSymbol(")")) {
      std::string name;
      const Token* t = p.Next();
      if (t->kind != Token::Kind::kWord) return Syntax("syntax error in COPY options");
      name = t->text;
      std::string value;
      bool has_value = false;
      if (!p.IsSymbol(",") && !p.IsSymbol(")")) has_value = OptionValue(p, value);
      TARN_RETURN_IF_ERROR(ApplyCopyOption(copy, name, value, has_value));
      p.AcceptSymbol(",");
    }
    if (!p.AcceptSymbol(")")) return Syntax("syntax error in COPY options: missing )");
  } else {
    // Pre-9.0 option syntax: BINARY, DELIMITER [AS] 'c', NULL [AS] 's', CSV, HEADER, QUOTE [AS] 'c', ESCAPE ...
    while (!p.AtEnd()) {
      const Token* t = p.Next();
      if (t->kind != Token::Kind::kWord) return Syntax("syntax error in COPY options");
      std::string word = t->text;
      if (word == "binary" || word == "csv") {
        TARN_RETURN_IF_ERROR(ApplyCopyOption(copy, "format", word, true));
      } else if (word == "header") {
        copy.header = true;
      } else if (word == "delimiter" || word == "null" || word == "quote" || word == "escape" ||
                 word == "encoding") {
        p.Accept("as");
        std::string value;
        if (!OptionValue(p, value)) return Syntax("syntax error in COPY options: missing value");
        TARN_RETURN_IF_ERROR(ApplyCopyOption(copy, word, value, true));
      } else {
        return Error(ErrorCode::kFeatureNotSupported, "COPY option \"{}\" is not supported", word);
      }
    }
  }
  if (copy.format == CopySpec::Format::kCsv) {
    // CSV defaults differ from text unless the client set them.
    if (!copy.delimiter_given) copy.delimiter = ',';
    if (!copy.null_given) copy.null_string = "";
  }
  return cmd;
}

std::string EngineTag(Parser& p) {
  const Token* first = p.Peek();
  if (!first || first->kind != Token::Kind::kWord) return "";
  std::string kw = first->text;
  if (kw == "create" || kw == "drop" || kw == "alter") {
    size_t k = 1;
    std::string object;
    while (const Token* t = p.Peek(k)) {
      if (t->kind != Token::Kind::kWord) break;
      const std::string& w = t->text;
      if (w == "or" || w == "replace" || w == "temp" || w == "temporary" || w == "local" || w == "global" ||
          w == "unlogged" || w == "persistent" || w == "unique" || w == "materialized" || w == "external" ||
          w == "if" || w == "not" || w == "exists" || w == "or") {
        if (w == "unique" || w == "materialized") object += Upper(w) + " ";
        k++;
        continue;
      }
      object += Upper(w);
      break;
    }
    if (object.empty()) return Upper(kw);
    return Upper(kw) + " " + object;
  }
  if (kw == "truncate") return "TRUNCATE TABLE";
  if (kw == "use") return "SET";
  return Upper(kw);
}

}  // namespace

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
      i++;
      continue;
    }
    std::string literal;
    size_t after = SkipSpecial(s, i, &literal);
    if (after != i) {
      char first = s[i];
      if (first == '-' || first == '/') {
        i = after;
        continue;
      }
      Token t;
      t.kind = first == '"' ? Token::Kind::kQuotedIdent : Token::Kind::kString;
      t.text = std::move(literal);
      t.begin = i;
      t.end = after;
      tokens.push_back(std::move(t));
      i = after;
      continue;
    }
    Token t;
    t.begin = i;
    if (IsIdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IsIdentChar(static_cast<unsigned char>(s[j]))) j++;
      t.kind = Token::Kind::kWord;
      t.text = Lower(s.substr(i, j - i));
      i = j;
    } else if (std::isdigit(c) || (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' || s[j] == '_')) j++;
      t.kind = Token::Kind::kNumber;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else {
      t.kind = Token::Kind::kSymbol;
      t.text = std::string(1, static_cast<char>(c));
      i++;
    }
    t.end = i;
    tokens.push_back(std::move(t));
  }
  return tokens;
}

std::vector<StatementText> SplitStatements(std::string_view s) {
  std::vector<StatementText> out;
  size_t start = 0;
  size_t i = 0;
  bool has_token = false;
  auto flush = [&](size_t end) {
    if (has_token) {
      // Trim leading whitespace so offsets point at the statement.
      size_t b = start;
      while (b < end && std::isspace(static_cast<unsigned char>(s[b]))) b++;
      out.push_back(StatementText{s.substr(b, end - b), b});
    }
    has_token = false;
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == ';') {
      flush(i);
      start = i + 1;
      i++;
      continue;
    }
    size_t after = SkipSpecial(s, i, nullptr);
    if (after != i) {
      if (c != '-' && c != '/') has_token = true;
      i = after;
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) has_token = true;
    i++;
  }
  flush(s.size());
  return out;
}

Result<Command> ClassifyStatement(std::string_view sql) {
  Parser p(sql, Tokenize(sql));
  Command cmd;
  const Token* first = p.Peek();
  if (!first || first->kind != Token::Kind::kWord) {
    cmd.tag = "SELECT";
    return cmd;
  }
  std::string kw = first->text;
  cmd.keyword = kw;
  auto simple = [&](Command::Kind kind) {
    Command c;
    c.kind = kind;
    c.keyword = kw;
    return c;
  };
  if (kw == "begin" || (kw == "start" && p.IsWord("transaction", 1))) {
    return simple(Command::Kind::kBegin);
  }
  if (kw == "commit" || kw == "end") {
    if (p.IsWord("prepared", 1)) {
      Command c = simple(Command::Kind::kUnsupported);
      c.error = "two-phase commit is not supported";
      return c;
    }
    return simple(Command::Kind::kCommit);
  }
  if (kw == "rollback" || kw == "abort") {
    p.Next();
    if (p.IsWord("prepared")) {
      Command c = simple(Command::Kind::kUnsupported);
      c.error = "two-phase commit is not supported";
      return c;
    }
    p.Accept("work") || p.Accept("transaction");
    if (p.Accept("to")) {
      p.Accept("savepoint");
      Command c = simple(Command::Kind::kRollbackToSavepoint);
      if (!p.Name(c.name)) return Syntax("syntax error in ROLLBACK TO SAVEPOINT");
      return c;
    }
    return simple(Command::Kind::kRollback);
  }
  if (kw == "savepoint") {
    p.Next();
    Command c = simple(Command::Kind::kSavepoint);
    if (!p.Name(c.name)) return Syntax("syntax error in SAVEPOINT");
    return c;
  }
  if (kw == "release") {
    p.Next();
    p.Accept("savepoint");
    Command c = simple(Command::Kind::kRelease);
    if (!p.Name(c.name)) return Syntax("syntax error in RELEASE");
    return c;
  }
  if (kw == "prepare" && p.IsWord("transaction", 1)) {
    Command c = simple(Command::Kind::kUnsupported);
    c.error = "two-phase commit is not supported";
    return c;
  }
  if (kw == "prepare" && p.Peek(1) && p.IsSymbol("(", 2)) {
    // PREPARE name (type, ...) AS statement: cast each $n to its declared type.
    const auto& t = p.tokens();
    size_t open = 2;
    std::vector<std::string> types;
    size_t depth = 0;
    size_t type_begin = t[open].end;
    size_t k = open;
    for (; k < t.size(); k++) {
      if (t[k].kind != Token::Kind::kSymbol) continue;
      if (t[k].text == "(") {
        depth++;
      } else if (t[k].text == ")" && --depth == 0) {
        types.emplace_back(sql.substr(type_begin, t[k].begin - type_begin));
        break;
      } else if (t[k].text == "," && depth == 1) {
        types.emplace_back(sql.substr(type_begin, t[k].begin - type_begin));
        type_begin = t[k].end;
      }
    }
    if (k >= t.size() || k + 2 >= t.size() || !(t[k + 1].kind == Token::Kind::kWord && t[k + 1].text == "as")) {
      return Syntax("syntax error in PREPARE: expected AS after the parameter types");
    }
    size_t body_begin = t[k + 2].begin;
    std::string body;
    size_t copied = body_begin;
    for (size_t m = k + 2; m + 1 < t.size(); m++) {
      if (t[m].kind == Token::Kind::kSymbol && t[m].text == "$" && t[m + 1].kind == Token::Kind::kNumber &&
          t[m + 1].begin == t[m].end) {
        size_t index = 0;
        try {
          index = std::stoul(t[m + 1].text);
        } catch (...) {
          continue;
        }
        if (index == 0 || index > types.size()) continue;
        body += sql.substr(copied, t[m].begin - copied);
        std::string type(types[index - 1]);
        while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) type.erase(0, 1);
        while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
        body += "CAST($" + t[m + 1].text + " AS " + type + ")";
        copied = t[m + 1].end;
      }
    }
    body += sql.substr(copied);
    cmd.tag = "PREPARE";
    cmd.rewritten = "PREPARE " + std::string(sql.substr(t[1].begin, t[1].end - t[1].begin)) + " AS " + body;
    return cmd;
  }
  if (kw == "set") {
    p.Next();
    TARN_ASSIGN_OR_RETURN(Command c, ParseSet(p));
    c.keyword = kw;
    return c;
  }
  if (kw == "reset") {
    p.Next();
    Command c = simple(Command::Kind::kReset);
    if (p.IsWord("time") && p.IsWord("zone", 1)) {
      c.name = "timezone";
    } else if (p.IsWord("session") && p.IsWord("authorization", 1)) {
      c.name = "session_authorization";
    } else if (!p.Name(c.name)) {
      return Syntax("syntax error in RESET");
    }
    c.name = Lower(c.name);
    return c;
  }
  if (kw == "show") {
    p.Next();
    Command c = simple(Command::Kind::kShow);
    if (p.IsWord("transaction") && p.IsWord("isolation", 1) && p.IsWord("level", 2) && p.Peek(3) == nullptr) {
      c.name = "transaction_isolation";
      return c;
    }
    if (p.IsWord("time") && p.IsWord("zone", 1) && p.Peek(2) == nullptr) {
      c.name = "timezone";
      return c;
    }
    if (p.Name(c.name) && p.AtEnd()) {
      c.name = Lower(c.name);
      return c;
    }
    Command engine;
    engine.keyword = kw;
    engine.tag = "SHOW";
    return engine;
  }
  if (kw == "declare") {
    p.Next();
    Command c = simple(Command::Kind::kDeclare);
    if (!p.Name(c.name)) return Syntax("syntax error in DECLARE: expected a cursor name");
    while (!p.AtEnd() && !p.IsWord("for")) {
      const Token* t = p.Next();
      if (t->kind != Token::Kind::kWord) return Syntax("syntax error in DECLARE");
      if (t->text == "binary") c.binary = true;
      if (t->text == "with" && p.IsWord("hold")) c.hold = true;
    }
    if (!p.Accept("for")) return Syntax("syntax error in DECLARE: expected FOR");
    c.query = std::string(sql.substr(p.Position()));
    if (c.query.empty()) return Syntax("syntax error in DECLARE: expected a query");
    return c;
  }
  if (kw == "fetch" || kw == "move") {
    p.Next();
    TARN_ASSIGN_OR_RETURN(Command c, ParseFetch(p, kw == "fetch" ? Command::Kind::kFetch : Command::Kind::kMove));
    c.keyword = kw;
    return c;
  }
  if (kw == "close") {
    p.Next();
    Command c = simple(Command::Kind::kCloseCursor);
    if (p.Accept("all")) return c;
    if (!p.Name(c.name) || !p.AtEnd()) return Syntax("syntax error in CLOSE");
    return c;
  }
  if (kw == "discard") {
    p.Next();
    if (p.Accept("all") && p.AtEnd()) return simple(Command::Kind::kDiscardAll);
    Command c = simple(Command::Kind::kUnsupported);
    c.error = "only DISCARD ALL is supported";
    return c;
  }
  if (kw == "deallocate") {
    p.Next();
    p.Accept("prepare");
    Command c = simple(Command::Kind::kDeallocate);
    if (p.Accept("all")) return c;
    if (!p.Name(c.name)) return Syntax("syntax error in DEALLOCATE");
    return c;
  }
  if (kw == "copy") {
    p.Next();
    // Databricks COPY INTO <table> FROM ... is the SQL session's (INTO is reserved in PostgreSQL: no COPY table).
    if (p.IsWord("into")) {
      cmd.tag = "COPY";
      return cmd;
    }
    TARN_ASSIGN_OR_RETURN(Command c, ParseCopy(p, sql));
    c.keyword = kw;
    if (c.kind == Command::Kind::kEngine) c.tag = "COPY";
    return c;
  }
  cmd.tag = EngineTag(p);
  return cmd;
}

}  // namespace tarn::pgwire
