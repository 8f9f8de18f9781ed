// SPDX-License-Identifier: Apache-2.0
// Column-aligned text tables and ISO time formatting for CLI output.
#include "tarn/cli/table_printer.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace tarn::cli {
namespace {

constexpr std::string_view kColumnGap = "  ";

// Replaces control characters so one cell never breaks the row across lines.
std::string Sanitize(std::string cell) {
  for (char& c : cell) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return cell;
}

void AppendPadded(std::string& line, const std::string& cell, size_t width, bool right_aligned) {
  size_t pad = width - std::min(width, DisplayWidth(cell));
  if (right_aligned) line.append(pad, ' ');
  line += cell;
  if (!right_aligned) line.append(pad, ' ');
}

}  // namespace

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;  // skip UTF-8 continuation bytes
  }
  return width;
}

std::string FormatEpochMillis(int64_t epoch_millis) {
  int64_t seconds = epoch_millis / 1000;
  if (epoch_millis < 0 && epoch_millis % 1000 != 0) --seconds;  // floor, so times before 1970 stay correct
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(epoch_millis);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

TablePrinter::TablePrinter(std::vector<std::string> headers) : right_aligned_(headers.size(), false) {
  headers_.reserve(headers.size());
  for (auto& header : headers) headers_.push_back(Sanitize(std::move(header)));
}

void TablePrinter::SetRightAligned(size_t column, bool right_aligned) {
  if (column < right_aligned_.size()) right_aligned_[column] = right_aligned;
}

void TablePrinter::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (auto& cell : cells) cell = Sanitize(std::move(cell));
  rows_.push_back(std::move(cells));
}

std::string TablePrinter::ToString() const {
  std::vector<size_t> widths(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = DisplayWidth(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }

  std::string out;
  auto emit_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) line += kColumnGap;
      AppendPadded(line, cells[i], widths[i], right_aligned_[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };

  emit_line(headers_);
  std::vector<std::string> rule;
  rule.reserve(widths.size());
  for (size_t width : widths) rule.emplace_back(width, '-');
  emit_line(rule);
  for (const auto& row : rows_) emit_line(row);
  return out;
}

}  // namespace tarn::cli
