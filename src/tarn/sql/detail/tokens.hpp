// SPDX-License-Identifier: Apache-2.0
// Tokens of Databricks SQL text (module-private): words, quoted names, strings, numbers, symbols, with offsets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tarn::sql::detail {

enum class TokenKind { kWord, kQuoted, kBacktick, kString, kNumber, kSymbol, kParam, kOther };

struct Token {
  TokenKind kind;
  size_t begin;       // byte offset in the text
  size_t end;         // one past the last byte
  std::string value;  // identifiers: unquoted name; strings: unquoted content; else the text as written
  bool space_before;  // whitespace or a comment precedes the token

  bool IsName() const { return kind == TokenKind::kWord || kind == TokenKind::kQuoted || kind == TokenKind::kBacktick; }
  /// Case-insensitive keyword test (`word` upper-case); only unquoted words match.
  bool Is(std::string_view word) const;
  bool IsSymbol(std::string_view symbol) const { return kind == TokenKind::kSymbol && value == symbol; }
};

/// Splits `sql` into tokens (whitespace and comments dropped). Never fails: unterminated quotes run to the end.
std::vector<Token> Tokenize(std::string_view sql);

/// One statement of a script: its text range and tokens.
struct StatementText {
  size_t begin = 0;
  size_t end = 0;
  std::vector<Token> tokens;  // offsets relative to the whole script
};

/// Splits a script at top-level `;` (statements without tokens are dropped).
std::vector<StatementText> SplitStatements(std::string_view sql);

}  // namespace tarn::sql::detail
