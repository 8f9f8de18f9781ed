// SPDX-License-Identifier: Apache-2.0
// SOURCE parsing and rendering. Parsing proposes the nicest reading of each cell and keeps it only when rendering
// it gives back the exact text, which makes SOURCE -> model -> SOURCE lossless by construction.
#include "tarn/notebooks/source_format.hpp"

#include <vector>

namespace tarn::notebooks {
namespace {

constexpr std::string_view kHeaderText = " Databricks notebook source";
constexpr std::string_view kSeparatorText = " COMMAND ----------";
constexpr std::string_view kMagicText = " MAGIC";
constexpr std::string_view kMarkdownMagic = "%md";

// Splits on '\n'; the piece after the last '\n' (possibly empty) is the last line.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (true) {
    size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos) {
      lines.push_back(text.substr(start));
      return lines;
    }
    lines.push_back(text.substr(start, newline - start));
    start = newline + 1;
  }
}

std::string SeparatorLine(Language language) {
  return std::string(CommentPrefix(language)) + std::string(kSeparatorText);
}
std::string MagicMarker(Language language) { return std::string(CommentPrefix(language)) + std::string(kMagicText); }

// Prefixes every line of `text` with "<prefix> MAGIC ".
std::string MagicLines(std::string_view text, Language language, bool blank_space) {
  std::string marker = MagicMarker(language);
  std::string out;
  bool first = true;
  for (std::string_view line : SplitLines(text)) {
    if (!first) out += '\n';
    first = false;
    out += marker;
    if (!line.empty() || blank_space) out += ' ';
    out.append(line);
  }
  return out;
}

// The SOURCE text of one cell without the newlines around it.
std::string RenderCellText(const Cell& cell, Language language) {
  switch (cell.type) {
    case CellType::kMarkdown: {
      std::string magic(kMarkdownMagic);
      if (cell.markdown_inline) {
        magic += ' ';
        magic += cell.source;
      } else if (!cell.source.empty()) {
        magic += '\n';
        magic += cell.source;
      }
      return MagicLines(magic, language, cell.magic_blank_space);
    }
    case CellType::kCode:
      if (!cell.verbatim && !cell.source.empty() && cell.source.front() == '%') {
        return MagicLines(cell.source, language, cell.magic_blank_space);
      }
      return cell.source;
    case CellType::kRaw:
      return cell.source;
  }
  return cell.source;
}

// Returns the text with the "<prefix> MAGIC" marker removed from every line, or nullopt when some line lacks it.
std::optional<std::string> StripMagic(std::string_view text, Language language) {
  std::string marker = MagicMarker(language);
  std::string out;
  bool first = true;
  for (std::string_view line : SplitLines(text)) {
    if (line.substr(0, marker.size()) != marker) return std::nullopt;
    std::string_view rest = line.substr(marker.size());
    if (!rest.empty()) {
      if (rest.front() != ' ') return std::nullopt;
      rest.remove_prefix(1);
    }
    if (!first) out += '\n';
    first = false;
    out.append(rest);
  }
  return out;
}

// Candidate readings of a cell's text, nicest first; the last one (verbatim) always renders back exactly.
std::vector<Cell> CandidateCells(std::string_view text, Language language) {
  std::vector<Cell> candidates;
  if (!text.empty()) {
    if (std::optional<std::string> magic = StripMagic(text, language);
        magic && !magic->empty() && magic->front() == '%') {
      Cell cell;
      std::string_view body = *magic;
      bool markdown = body.substr(0, kMarkdownMagic.size()) == kMarkdownMagic &&
                      (body.size() == kMarkdownMagic.size() || body[kMarkdownMagic.size()] == '\n' ||
                       body[kMarkdownMagic.size()] == ' ');
      if (markdown) {
        cell.type = CellType::kMarkdown;
        if (body.size() > kMarkdownMagic.size()) {
          cell.markdown_inline = body[kMarkdownMagic.size()] == ' ';
          cell.source = std::string(body.substr(kMarkdownMagic.size() + 1));
        }
      } else {
        cell.source = std::string(body);
      }
      candidates.push_back(cell);
      cell.magic_blank_space = true;
      candidates.push_back(cell);
    }
  }
  Cell plain;
  plain.source = std::string(text);
  candidates.push_back(plain);
  plain.verbatim = true;
  candidates.push_back(plain);
  return candidates;
}

Cell ParseCellText(std::string_view text, Language language) {
  std::vector<Cell> candidates = CandidateCells(text, language);
  for (Cell& candidate : candidates) {
    if (RenderCellText(candidate, language) == text) return std::move(candidate);
  }
  return candidates.back();  // unreachable: the verbatim reading always matches
}

// Canonical newlines around cell `index` of `count` (see ParseSource for what a part spans).
std::pair<int, int> CanonicalPadding(size_t index, size_t count) {
  return {index > 0 ? 2 : 1, index + 1 < count ? 1 : 0};
}

size_t CountLeading(std::string_view text, char c) {
  size_t n = 0;
  while (n < text.size() && text[n] == c) ++n;
  return n;
}

size_t CountTrailing(std::string_view text, char c) {
  size_t n = 0;
  while (n < text.size() && text[text.size() - 1 - n] == c) ++n;
  return n;
}

Cell ParsePart(std::string_view part, std::pair<int, int> canonical_padding, Language language) {
  auto [lead, trail] = canonical_padding;
  size_t canonical = static_cast<size_t>(lead + trail);
  if (part.size() >= canonical && CountLeading(part, '\n') >= static_cast<size_t>(lead) &&
      CountTrailing(part, '\n') >= static_cast<size_t>(trail)) {
    return ParseCellText(part.substr(lead, part.size() - canonical), language);
  }
  size_t leading = CountLeading(part, '\n');
  std::string_view rest = part.substr(leading);
  size_t trailing = CountTrailing(rest, '\n');
  Cell cell = ParseCellText(rest.substr(0, rest.size() - trailing), language);
  cell.source_padding = std::pair<int, int>(static_cast<int>(leading), static_cast<int>(trailing));
  return cell;
}

}  // namespace

std::string SourceHeader(Language language) { return std::string(CommentPrefix(language)) + std::string(kHeaderText); }

std::optional<Language> DetectSourceLanguage(std::string_view text) {
  for (Language language : {Language::kPython, Language::kSql, Language::kScala}) {
    std::string header = SourceHeader(language);
    if (text.substr(0, header.size()) == header && (text.size() == header.size() || text[header.size()] == '\n')) {
      return language;
    }
  }
  return std::nullopt;
}

// Layout: header, then parts separated by "\n<prefix> COMMAND ----------" (a separator line must end the text or be
// followed by '\n'). Part 0 starts with the header's newline, later parts with the separator line's newline, so a
// canonical part is "\n" cell "\n" (first), "\n\n" cell "\n" (middle) or "\n\n" cell (last).
Notebook ParseSource(std::string_view text, Language language) {
  Notebook notebook;
  notebook.language = language;
  std::string header = SourceHeader(language);
  if (text == header) return notebook;  // a header and no cells
  if (text.substr(0, header.size()) != header || text[header.size()] != '\n') {
    // A plain script: one cell, split nowhere (Databricks imports it the same way).
    notebook.source_header = false;
    notebook.cells.push_back(ParsePart(text, {0, 0}, language));
    return notebook;
  }
  std::string_view rest = text.substr(header.size());
  std::string separator = "\n" + SeparatorLine(language);
  std::vector<std::string_view> parts;
  size_t start = 0;
  size_t search = 0;
  while (true) {
    size_t found = rest.find(separator, search);
    if (found == std::string_view::npos) break;
    size_t end = found + separator.size();
    if (end < rest.size() && rest[end] != '\n') {
      search = found + 1;
      continue;
    }
    parts.push_back(rest.substr(start, found - start));
    start = search = end;
  }
  parts.push_back(rest.substr(start));
  for (size_t i = 0; i < parts.size(); ++i) {
    notebook.cells.push_back(ParsePart(parts[i], CanonicalPadding(i, parts.size()), language));
  }
  return notebook;
}

std::string RenderSource(const Notebook& notebook) {
  std::string out;
  if (notebook.source_header) {
    out = SourceHeader(notebook.language);
  } else if (notebook.cells.size() == 1) {
    const Cell& cell = notebook.cells[0];
    auto [lead, trail] = cell.source_padding.value_or(std::pair<int, int>(0, 0));
    out.append(static_cast<size_t>(lead), '\n');
    out += RenderCellText(cell, notebook.language);
    out.append(static_cast<size_t>(trail), '\n');
    return out;
  }
  // A notebook without a header but with several cells (edited elsewhere) is written with the header.
  if (!notebook.source_header) out = SourceHeader(notebook.language);
  std::string separator = "\n" + SeparatorLine(notebook.language);
  for (size_t i = 0; i < notebook.cells.size(); ++i) {
    const Cell& cell = notebook.cells[i];
    if (i > 0) out += separator;
    auto [lead, trail] = cell.source_padding.value_or(CanonicalPadding(i, notebook.cells.size()));
    out.append(static_cast<size_t>(lead), '\n');
    out += RenderCellText(cell, notebook.language);
    out.append(static_cast<size_t>(trail), '\n');
  }
  return out;
}

}  // namespace tarn::notebooks
