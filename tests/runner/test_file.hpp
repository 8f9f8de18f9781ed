// SPDX-License-Identifier: Apache-2.0
// Parses sqllogictest files (DuckDB's dialect plus `statement error <SQLSTATE>`) into records.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tarn::sqllogictest {

enum class RecordKind { kStatementOk, kStatementError, kQuery, kRequire, kLoop, kEndLoop };
enum class SortMode { kNoSort, kRowSort, kValueSort };

/// One record of a test file. `line` is the 1-based line of its header.
struct Record {
  RecordKind kind = RecordKind::kStatementOk;
  int line = 0;
  std::string sql;
  // statement error
  std::string expected_sqlstate;  // empty = any error
  std::string expected_message;   // empty = any message; else a substring of the error message
  // query
  std::string types;  // one letter per column (I, T, R, B, D, ...)
  SortMode sort = SortMode::kNoSort;
  std::string label;
  std::vector<std::string> expected_lines;
  // require
  std::string argument;
  // loop / foreach
  std::string loop_variable;
  std::vector<std::string> loop_values;
  // `skipif <transport> <reason>` / `onlyif <transport> <reason>` lines before a statement or query: the record
  // runs only on the transports they allow (kTransports); the reason is mandatory.
  std::string skip_transport;
  std::string only_transport;
};

/// Transport names the skipif/onlyif directives accept: `wire` is the PostgreSQL wire with either protocol,
/// `wire-simple` / `wire-extended` one of them.
inline constexpr const char* kTransports[] = {"inprocess", "wire", "wire-simple", "wire-extended"};

/// True when directive name `directive` names the running transport `transport` (inprocess, wire-simple or
/// wire-extended).
inline bool TransportMatches(const std::string& directive, const std::string& transport) {
  return directive == transport || (directive == "wire" && transport.rfind("wire-", 0) == 0);
}

/// Parses `text`. On a malformed or unsupported record (including `mode skip`, which is not allowed), returns
/// false with `error` and the 1-based `error_line`.
bool ParseTestFile(std::string_view text, std::vector<Record>& records, std::string& error, int& error_line);

}  // namespace tarn::sqllogictest
