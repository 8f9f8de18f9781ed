// SPDX-License-Identifier: Apache-2.0
// The notebook model shared by every notebook format: language, cells, and what a format needs to stay lossless.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tarn/base/result.hpp"

namespace tarn::notebooks {

/// A notebook's default language (Databricks' four).
enum class Language { kPython, kSql, kR, kScala };

/// Returns "PYTHON", "SQL", "R" or "SCALA" (the Workspace API spelling).
std::string_view LanguageName(Language language);
/// Parses a Workspace API language name, case-insensitively ("python", "PYTHON"). kInvalidParameterValue otherwise.
Result<Language> ParseLanguage(std::string_view name);
/// Returns the file extension of a SOURCE export without the dot: "py", "sql", "r", "scala".
std::string_view SourceExtension(Language language);
/// Returns the language a SOURCE file extension stands for (".py", "py", ".R", ...), if any.
std::optional<Language> LanguageForExtension(std::string_view extension);
/// Returns the line-comment prefix SOURCE files use for the language: "#", "--" or "//".
std::string_view CommentPrefix(Language language);
/// Returns whether `text` is valid UTF-8. Notebook text must be, because notebooks are stored as JSON.
bool IsValidUtf8(std::string_view text);

enum class CellType { kCode, kMarkdown, kRaw };

/// One cell. `source` is the cell text as Jupyter shows it (a markdown cell without its `%md` line, a magic code
/// cell with its `%sql`/`%r`/... first line). The layout fields record how a SOURCE file spelled the cell when it
/// deviated from Databricks' canonical layout, so exporting reproduces an imported file byte for byte.
struct Cell {
  CellType type = CellType::kCode;
  std::string source;
  /// Newlines around the cell in a SOURCE file when they differ from the canonical layout (leading, trailing).
  std::optional<std::pair<int, int>> source_padding;
  /// The SOURCE text is `source` as is (no `MAGIC` prefixing), e.g. a plain-code cell that starts with '%'.
  bool verbatim = false;
  /// Empty magic lines are spelled "# MAGIC " (with a trailing space, as older exports do) instead of "# MAGIC".
  bool magic_blank_space = false;
  /// A markdown cell spelled "%md text" (text on the magic line) instead of "%md" followed by the text.
  bool markdown_inline = false;
  /// Other ipynb fields of the cell (outputs, execution_count, id, metadata) as a serialised JSON object, kept
  /// across conversions; empty when there are none.
  std::string ipynb_fields;

  bool operator==(const Cell&) const = default;
};

/// A notebook: its language, cells, and format details kept for lossless round trips.
struct Notebook {
  Language language = Language::kPython;
  std::vector<Cell> cells;
  /// The SOURCE text started with the "Databricks notebook source" header line (false for a plain script).
  bool source_header = true;
  /// Notebook-level ipynb metadata other than the language fields Tarn writes, as serialised JSON; empty = none.
  std::string ipynb_metadata;
  /// nbformat minor version to write (4 unless the notebook came from a newer ipynb whose cells all have ids).
  int nbformat_minor = 4;

  bool operator==(const Notebook&) const = default;
};

}  // namespace tarn::notebooks
