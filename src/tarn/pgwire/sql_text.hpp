// SPDX-License-Identifier: Apache-2.0
// SQL text handling the wire layer needs before the engine sees a statement: splitting a Query string into
// statements and recognising the session/utility commands the server answers itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"

namespace tarn::pgwire {

/// One lexical token. Words are lower-cased in `text`; quoted identifiers keep their case; strings are unescaped.
struct Token {
  enum class Kind { kWord, kQuotedIdent, kString, kNumber, kSymbol };
  Kind kind = Kind::kWord;
  std::string text;
  size_t begin = 0;  // byte offsets into the statement
  size_t end = 0;
};

/// Tokenizes SQL, skipping comments. Never fails: an unterminated quote or comment runs to the end.
std::vector<Token> Tokenize(std::string_view sql);

/// Splits on top-level semicolons, respecting '...', E'...', "...", $tag$...$tag$, -- and /* */ comments.
/// Statements with no tokens (empty, only comments) are dropped; offsets into `sql` are kept for error positions.
struct StatementText {
  std::string_view text;
  size_t offset = 0;
};
std::vector<StatementText> SplitStatements(std::string_view sql);

/// COPY ... TO STDOUT / FROM STDIN.
struct CopySpec {
  enum class Format { kText, kCsv, kBinary };
  bool to_stdout = true;
  std::string table;    // SQL text of the table name (empty when `query` is set)
  std::string columns;  // SQL text of the column list including parentheses, or empty
  std::string query;    // COPY (query) TO STDOUT
  Format format = Format::kText;
  char delimiter = '\t';
  std::string null_string = "\\N";
  bool header = false;
  char quote = '"';
  char escape = '"';
  bool delimiter_given = false;  // the client set DELIMITER / NULL (CSV defaults apply otherwise)
  bool null_given = false;
};

/// What a statement is, for the wire layer.
struct Command {
  enum class Kind {
    kEngine,          // passed to the engine as is
    kBegin,
    kCommit,
    kRollback,
    kSavepoint,
    kRelease,
    kRollbackToSavepoint,
    kSetTransaction,  // SET TRANSACTION / SET SESSION CHARACTERISTICS: accepted, no effect beyond the tag
    kSet,             // SET name = value (name lower-case; value empty with set_default)
    kReset,           // RESET name ("all" for RESET ALL)
    kShow,            // SHOW name ("all" for SHOW ALL); unknown names go to the engine
    kDeclare,
    kFetch,
    kMove,
    kCloseCursor,     // name empty = CLOSE ALL
    kDiscardAll,
    kDeallocate,      // name empty = DEALLOCATE ALL
    kCopy,
    kUnsupported,     // recognised but refused with 0A000 (message in `error`)
  };
  Kind kind = Kind::kEngine;
  std::string name;
  std::string value;
  bool set_default = false;
  bool set_local = false;
  // DECLARE
  std::string query;
  bool hold = false;
  bool binary = false;
  // FETCH / MOVE: count of rows (INT64_MAX for ALL)
  int64_t count = 1;
  CopySpec copy;
  std::string error;
  /// For kEngine: the PostgreSQL command tag of a statement without rows ("CREATE TABLE", "DROP VIEW", ...).
  std::string tag;
  /// For kEngine: the first keyword ("select", "insert", ...).
  std::string keyword;
  /// For kEngine: SQL to run instead of the statement text when non-empty (PREPARE name(types) AS ... becomes
  /// PREPARE name AS ... with each $n cast to its declared type, since the engine has no typed PREPARE).
  std::string rewritten;
};

/// Classifies one statement (as produced by SplitStatements). Errors: kSyntaxError for malformed utility commands
/// the server must answer itself (e.g. FETCH without a cursor name).
Result<Command> ClassifyStatement(std::string_view statement);

}  // namespace tarn::pgwire
