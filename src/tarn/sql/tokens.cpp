// SPDX-License-Identifier: Apache-2.0
// Tokenizer and statement splitter for Databricks SQL text.
#include <cctype>

#include "tarn/sql/detail/tokens.hpp"

namespace tarn::sql::detail {
namespace {

bool IsWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); }
bool IsWordChar(char c) { return IsWordStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$'; }

size_t ReadQuoted(std::string_view sql, size_t pos, char q, std::string& value, bool backslash_escapes) {
  size_t i = pos + 1;
  while (i < sql.size()) {
    if (backslash_escapes && sql[i] == '\\' && i + 1 < sql.size()) {
      value += sql[i];
      value += sql[i + 1];
      i += 2;
      continue;
    }
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

}  // namespace

bool Token::Is(std::string_view word) const {
  if (kind != TokenKind::kWord || value.size() != word.size()) return false;
  for (size_t i = 0; i < word.size(); i++) {
    if (std::toupper(static_cast<unsigned char>(value[i])) != word[i]) return false;
  }
  return true;
}

std::vector<Token> Tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t i = 0;
  bool space = false;
  while (i < sql.size()) {
    size_t start = i;
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      i++;
      space = true;
      continue;
    }
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') i++;
      space = true;
      continue;
    }
    if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
      space = true;
      continue;
    }
    Token token{TokenKind::kOther, start, start, {}, space};
    space = false;
    if (c == '\'' || c == '"' || c == '`') {
      i = ReadQuoted(sql, i, c, token.value, /*backslash_escapes=*/false);
      token.kind = c == '\'' ? TokenKind::kString : (c == '"' ? TokenKind::kQuoted : TokenKind::kBacktick);
    } else if (c == '$') {
      size_t j = i + 1;
      while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) j++;
      if (j < sql.size() && sql[j] == '$' && (j == i + 1 || !std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
        std::string_view tag = sql.substr(i, j - i + 1);
        size_t end = sql.find(tag, j + 1);
        i = end == std::string_view::npos ? sql.size() : end + tag.size();
        token.kind = TokenKind::kOther;
      } else {
        i = j;
        token.kind = TokenKind::kParam;
      }
      token.value = std::string(sql.substr(start, i - start));
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
      // Spark numeric suffixes (10L, 1.5D, 2BD) stay part of the number token.
      while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i]))) i++;
      token.kind = TokenKind::kNumber;
      token.value = std::string(sql.substr(start, i - start));
    } else if (IsWordStart(c)) {
      while (i < sql.size() && IsWordChar(sql[i])) i++;
      token.kind = TokenKind::kWord;
      token.value = std::string(sql.substr(start, i - start));
    } else if (c == '?') {
      i++;
      token.kind = TokenKind::kParam;
      token.value = "?";
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
      token.value = std::string(sql.substr(start, i - start));
    }
    token.end = i;
    tokens.push_back(std::move(token));
  }
  return tokens;
}

std::vector<StatementText> SplitStatements(std::string_view sql) {
  std::vector<StatementText> out;
  std::vector<Token> tokens = Tokenize(sql);
  StatementText current;
  int depth = 0;
  for (auto& token : tokens) {
    if (token.IsSymbol("(")) depth++;
    if (token.IsSymbol(")") && depth > 0) depth--;
    if (token.IsSymbol(";") && depth == 0) {
      if (!current.tokens.empty()) {
        current.end = current.tokens.back().end;
        out.push_back(std::move(current));
      }
      current = StatementText{};
      continue;
    }
    if (current.tokens.empty()) current.begin = token.begin;
    current.tokens.push_back(std::move(token));
  }
  if (!current.tokens.empty()) {
    current.end = current.tokens.back().end;
    out.push_back(std::move(current));
  }
  return out;
}

}  // namespace tarn::sql::detail
