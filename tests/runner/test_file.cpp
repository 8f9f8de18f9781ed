// SPDX-License-Identifier: Apache-2.0
// Parses sqllogictest files (DuckDB's dialect plus `statement error <SQLSTATE>`) into records.
#include "test_file.hpp"

#include <cctype>
#include <charconv>
#include <sstream>

namespace tarn::sqllogictest {
namespace {

std::vector<std::string> Tokens(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string token;
  while (in >> token) out.push_back(token);
  return out;
}

bool IsBlank(const std::string& line) {
  for (char c : line) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsSqlState(const std::string& token) {
  if (token.size() != 5) return false;
  for (char c : token) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string Trimmed(std::string line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
  return line;
}

}  // namespace

bool ParseTestFile(std::string_view text, std::vector<Record>& records, std::string& error, int& error_line) {
  std::vector<std::string> lines;
  {
    std::string current;
    for (char c : text) {
      if (c == '\n') {
        lines.push_back(current);
        current.clear();
      } else if (c != '\r') {
        current += c;
      }
    }
    if (!current.empty()) lines.push_back(current);
  }
  auto fail = [&](size_t index, const std::string& why) {
    error = why;
    error_line = static_cast<int>(index + 1);
    return false;
  };
  size_t i = 0;
  std::string skip_transport;  // directives waiting for the next statement/query
  std::string only_transport;
  size_t directive_index = 0;
  while (i < lines.size()) {
    if (IsBlank(lines[i]) || lines[i][0] == '#') {
      i++;
      continue;
    }
    size_t header_index = i;
    std::vector<std::string> tokens = Tokens(lines[i]);
    i++;
    const std::string& command = tokens[0];
    if (command == "skipif" || command == "onlyif") {
      if (tokens.size() < 3) {
        return fail(header_index, "expected '" + command + " <transport> <reason>': the reason is mandatory");
      }
      bool known = false;
      for (const char* name : kTransports) known = known || tokens[1] == name;
      if (!known) return fail(header_index, "unknown transport in " + command + ": " + tokens[1]);
      std::string& pending = command == "skipif" ? skip_transport : only_transport;
      if (!pending.empty()) return fail(header_index, "one " + command + " per record");
      pending = tokens[1];
      directive_index = header_index;
      continue;
    }
    Record record;
    record.line = static_cast<int>(header_index + 1);
    if (!skip_transport.empty() || !only_transport.empty()) {
      if (command != "statement" && command != "query") {
        return fail(directive_index, "skipif/onlyif must precede a statement or query");
      }
      record.skip_transport = std::move(skip_transport);
      record.only_transport = std::move(only_transport);
      skip_transport.clear();
      only_transport.clear();
    }

    // Reads SQL lines up to a blank line or "----"; returns true when "----" was seen.
    auto read_sql = [&]() {
      std::string sql;
      while (i < lines.size() && !IsBlank(lines[i]) && Trimmed(lines[i]) != "----") {
        if (!sql.empty()) sql += '\n';
        sql += lines[i];
        i++;
      }
      record.sql = sql;
      if (i < lines.size() && Trimmed(lines[i]) == "----") {
        i++;
        return true;
      }
      return false;
    };
    auto read_block = [&]() {
      std::vector<std::string> block;
      while (i < lines.size() && !IsBlank(lines[i])) {
        block.push_back(Trimmed(lines[i]));
        i++;
      }
      return block;
    };

    if (command == "statement") {
      if (tokens.size() < 2) return fail(header_index, "statement needs 'ok' or 'error'");
      if (tokens[1] == "ok") {
        record.kind = RecordKind::kStatementOk;
        if (tokens.size() > 2) return fail(header_index, "unexpected tokens after 'statement ok'");
        if (read_sql()) return fail(header_index, "'statement ok' cannot have a ---- section");
      } else if (tokens[1] == "error") {
        record.kind = RecordKind::kStatementError;
        if (tokens.size() > 3 || (tokens.size() == 3 && !IsSqlState(tokens[2]))) {
          return fail(header_index, "expected 'statement error [SQLSTATE]'");
        }
        if (tokens.size() == 3) record.expected_sqlstate = tokens[2];
        if (read_sql()) {
          std::vector<std::string> message = read_block();
          for (size_t m = 0; m < message.size(); m++) {
            if (m > 0) record.expected_message += '\n';
            record.expected_message += message[m];
          }
        }
      } else {
        return fail(header_index, "unsupported statement kind: " + tokens[1]);
      }
      if (record.sql.empty()) return fail(header_index, "statement without SQL");
    } else if (command == "query") {
      record.kind = RecordKind::kQuery;
      if (tokens.size() < 2) return fail(header_index, "query needs column types");
      record.types = tokens[1];
      if (tokens.size() >= 3) {
        if (tokens[2] == "nosort") {
          record.sort = SortMode::kNoSort;
        } else if (tokens[2] == "rowsort") {
          record.sort = SortMode::kRowSort;
        } else if (tokens[2] == "valuesort") {
          record.sort = SortMode::kValueSort;
        } else {
          return fail(header_index, "unknown sort mode: " + tokens[2]);
        }
      }
      if (tokens.size() >= 4) record.label = tokens[3];
      if (tokens.size() > 4) return fail(header_index, "unexpected tokens after query label");
      if (read_sql()) record.expected_lines = read_block();
      if (record.sql.empty()) return fail(header_index, "query without SQL");
    } else if (command == "require") {
      if (tokens.size() != 2) return fail(header_index, "require needs one argument");
      record.kind = RecordKind::kRequire;
      record.argument = tokens[1];
    } else if (command == "loop") {
      if (tokens.size() != 4) return fail(header_index, "expected 'loop <var> <start> <end>'");
      record.kind = RecordKind::kLoop;
      record.loop_variable = tokens[1];
      long start = 0;
      long end = 0;
      auto parse = [](const std::string& token, long& value) {
        auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
        return ec == std::errc() && ptr == token.data() + token.size();
      };
      if (!parse(tokens[2], start) || !parse(tokens[3], end)) {
        return fail(header_index, "loop bounds must be integers");
      }
      for (long v = start; v < end; v++) record.loop_values.push_back(std::to_string(v));
    } else if (command == "foreach") {
      if (tokens.size() < 3) return fail(header_index, "expected 'foreach <var> <value>...'");
      record.kind = RecordKind::kLoop;
      record.loop_variable = tokens[1];
      record.loop_values.assign(tokens.begin() + 2, tokens.end());
    } else if (command == "endloop") {
      record.kind = RecordKind::kEndLoop;
    } else if (command == "mode") {
      return fail(header_index, "'mode " + (tokens.size() > 1 ? tokens[1] : std::string()) +
                                    "' is not allowed: tests are never skipped");
    } else {
      return fail(header_index, "unsupported command: " + command);
    }
    records.push_back(std::move(record));
  }
  if (!skip_transport.empty() || !only_transport.empty()) {
    return fail(directive_index, "skipif/onlyif must precede a statement or query");
  }
  return true;
}

}  // namespace tarn::sqllogictest
