// SPDX-License-Identifier: Apache-2.0
// Runs parsed sqllogictest records against a Transport and reports the first failure.
#include "test_runner.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace tarn::sqllogictest {
namespace {

// Extensions compiled into the pinned libduckdb; `require` of anything else fails (tests are never skipped).
// `require catalog` selects the catalog transport (see main.cpp).
const std::set<std::string> kBuiltInExtensions = {"parquet", "json", "icu", "catalog"};
constexpr size_t kMaxLinesShown = 40;

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
}

Record Substitute(const Record& record, const std::map<std::string, std::string>& variables) {
  Record out = record;
  for (const auto& [name, value] : variables) {
    ReplaceAll(out.sql, "${" + name + "}", value);
    ReplaceAll(out.expected_message, "${" + name + "}", value);
    for (auto& line : out.expected_lines) ReplaceAll(line, "${" + name + "}", value);
  }
  return out;
}

// Flattens loops into a plain list of records. Returns false on unbalanced loop/endloop.
bool Expand(const std::vector<Record>& records, size_t begin, size_t end, std::map<std::string, std::string>& vars,
            std::vector<Record>& out, std::string& error, int& error_line) {
  for (size_t i = begin; i < end; i++) {
    const Record& record = records[i];
    if (record.kind == RecordKind::kEndLoop) {
      error = "endloop without loop";
      error_line = record.line;
      return false;
    }
    if (record.kind != RecordKind::kLoop) {
      out.push_back(Substitute(record, vars));
      continue;
    }
    size_t depth = 1;
    size_t j = i + 1;
    for (; j < end; j++) {
      if (records[j].kind == RecordKind::kLoop) depth++;
      if (records[j].kind == RecordKind::kEndLoop && --depth == 0) break;
    }
    if (j >= end) {
      error = "loop without endloop";
      error_line = record.line;
      return false;
    }
    for (const std::string& value : record.loop_values) {
      auto saved = vars;
      vars[record.loop_variable] = value;
      if (!Expand(records, i + 1, j, vars, out, error, error_line)) return false;
      vars = saved;
    }
    i = j;
  }
  return true;
}

std::string Indent(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < kMaxLinesShown; i++) out += "    " + lines[i] + "\n";
  if (lines.size() > kMaxLinesShown) out += "    ... (" + std::to_string(lines.size() - kMaxLinesShown) + " more)\n";
  if (lines.empty()) out += "    (no rows)\n";
  return out;
}

std::string JoinRow(const std::vector<std::string>& row) {
  std::string out;
  for (size_t i = 0; i < row.size(); i++) {
    if (i > 0) out += '\t';
    out += row[i];
  }
  return out;
}

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> out;
  std::string current;
  for (char c : line) {
    if (c == '\t') {
      out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  out.push_back(current);
  return out;
}

// Turns expected lines into rows: one row per line (tab-separated), or one value per line when the line count is
// rows x columns (DuckDB's value-wise layout).
std::vector<std::vector<std::string>> ExpectedRows(const std::vector<std::string>& lines, size_t num_columns,
                                                   size_t actual_rows) {
  bool row_wise = true;
  for (const auto& line : lines) {
    if (SplitTabs(line).size() != num_columns) row_wise = false;
  }
  std::vector<std::vector<std::string>> rows;
  if (row_wise || num_columns == 0 || lines.size() != actual_rows * num_columns) {
    for (const auto& line : lines) rows.push_back(SplitTabs(line));
    return rows;
  }
  for (size_t i = 0; i < lines.size(); i += num_columns) {
    rows.emplace_back(lines.begin() + static_cast<long>(i), lines.begin() + static_cast<long>(i + num_columns));
  }
  return rows;
}

void Sort(std::vector<std::vector<std::string>>& rows, SortMode mode) {
  if (mode == SortMode::kRowSort) {
    std::sort(rows.begin(), rows.end());
  } else if (mode == SortMode::kValueSort) {
    std::vector<std::string> values;
    size_t width = rows.empty() ? 0 : rows[0].size();
    for (const auto& row : rows) values.insert(values.end(), row.begin(), row.end());
    std::sort(values.begin(), values.end());
    rows.clear();
    for (size_t i = 0; width > 0 && i < values.size(); i += width) {
      rows.emplace_back(values.begin() + static_cast<long>(i),
                        values.begin() + static_cast<long>(std::min(values.size(), i + width)));
    }
  }
}

std::vector<std::string> AsLines(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::string> lines;
  for (const auto& row : rows) lines.push_back(JoinRow(row));
  return lines;
}

}  // namespace

FileOutcome RunRecords(const std::vector<Record>& records, Transport& transport, const std::string& test_dir,
                       const std::string& transport_name) {
  FileOutcome outcome;
  std::vector<Record> flat;
  std::map<std::string, std::string> vars;
  std::string error;
  int error_line = 0;
  if (!Expand(records, 0, records.size(), vars, flat, error, error_line)) {
    outcome.passed = false;
    outcome.failed_line = error_line;
    outcome.message = error;
    return outcome;
  }
  std::map<std::string, std::vector<std::vector<std::string>>> labels;
  auto fail = [&](const Record& record, std::string message) {
    outcome.passed = false;
    outcome.failed_line = record.line;
    outcome.message = std::move(message);
    return outcome;
  };
  for (Record record : flat) {
    if ((!record.skip_transport.empty() && TransportMatches(record.skip_transport, transport_name)) ||
        (!record.only_transport.empty() && !TransportMatches(record.only_transport, transport_name))) {
      outcome.records_skipped++;
      continue;
    }
    ReplaceAll(record.sql, "__TEST_DIR__", test_dir);
    outcome.records_run++;
    switch (record.kind) {
      case RecordKind::kRequire:
        if (kBuiltInExtensions.count(record.argument) == 0) {
          return fail(record, "require " + record.argument + ": not available, and tests are never skipped");
        }
        break;
      case RecordKind::kStatementOk: {
        StatementResult result = transport.Execute(record.sql);
        if (!result.ok) {
          return fail(record, "statement failed but should have succeeded\n  sql: " + record.sql + "\n  error: " +
                                  result.sqlstate + " " + result.error_message);
        }
        break;
      }
      case RecordKind::kStatementError: {
        StatementResult result = transport.Execute(record.sql);
        if (result.ok) return fail(record, "statement succeeded but should have failed\n  sql: " + record.sql);
        if (result.transport_failed) {
          return fail(record, "the transport failed\n  sql: " + record.sql + "\n  error: " + result.error_message);
        }
        if (!record.expected_sqlstate.empty() && result.sqlstate != record.expected_sqlstate) {
          return fail(record, "wrong SQLSTATE\n  sql: " + record.sql + "\n  expected: " + record.expected_sqlstate +
                                  "\n  actual:   " + result.sqlstate + " " + result.error_message);
        }
        if (!record.expected_message.empty() &&
            result.error_message.find(record.expected_message) == std::string::npos) {
          return fail(record, "error message does not contain the expected text\n  sql: " + record.sql +
                                  "\n  expected substring: " + record.expected_message +
                                  "\n  actual: " + result.error_message);
        }
        break;
      }
      case RecordKind::kQuery: {
        StatementResult result = transport.Execute(record.sql);
        if (!result.ok) {
          return fail(record, "query failed\n  sql: " + record.sql + "\n  error: " + result.sqlstate + " " +
                                  result.error_message);
        }
        if (result.num_columns != record.types.size()) {
          return fail(record, "wrong number of columns: expected " + std::to_string(record.types.size()) + " (" +
                                  record.types + "), got " + std::to_string(result.num_columns) +
                                  "\n  sql: " + record.sql);
        }
        std::vector<std::vector<std::string>> actual = result.rows;
        std::vector<std::vector<std::string>> expected =
            ExpectedRows(record.expected_lines, result.num_columns, actual.size());
        Sort(actual, record.sort);
        Sort(expected, record.sort);
        if (actual != expected) {
          return fail(record, "wrong result\n  sql: " + record.sql + "\n  expected:\n" + Indent(AsLines(expected)) +
                                  "  actual:\n" + Indent(AsLines(actual)));
        }
        if (!record.label.empty()) {
          auto [it, inserted] = labels.emplace(record.label, actual);
          if (!inserted && it->second != actual) {
            return fail(record, "result differs from the earlier query labelled " + record.label);
          }
        }
        break;
      }
      case RecordKind::kLoop:
      case RecordKind::kEndLoop:
        break;  // expanded above
    }
  }
  return outcome;
}

}  // namespace tarn::sqllogictest
