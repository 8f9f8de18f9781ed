// SPDX-License-Identifier: Apache-2.0
// Tests for the Databricks SOURCE notebook format: cells, magics, markdown, layout edge cases, lossless round trips.
#include "tarn/notebooks/source_format.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tarn/notebooks/ipynb_format.hpp"

namespace tarn::notebooks {
namespace {

Cell Code(std::string source) {
  Cell cell;
  cell.source = std::move(source);
  return cell;
}

Cell Markdown(std::string source) {
  Cell cell;
  cell.type = CellType::kMarkdown;
  cell.source = std::move(source);
  return cell;
}

// SOURCE -> model -> ipynb -> model -> SOURCE must give back the same bytes.
std::string ThroughIpynb(const std::string& text, Language language) {
  Notebook parsed = ParseSource(text, language);
  auto reparsed = ParseIpynb(RenderIpynb(parsed));
  EXPECT_TRUE(reparsed.has_value()) << reparsed.status().ToString();
  if (!reparsed.has_value()) return "";
  EXPECT_EQ(reparsed->language, language);
  return RenderSource(*reparsed);
}

TEST(SourceFormatTest, ParsesADatabricksPythonExport) {
  std::string text =
      "# Databricks notebook source\n"
      "# MAGIC %md\n"
      "# MAGIC # Title\n"
      "# MAGIC\n"
      "# MAGIC Some *text*\n"
      "\n"
      "# COMMAND ----------\n"
      "\n"
      "import os\n"
      "print(os.getcwd())\n"
      "\n"
      "# COMMAND ----------\n"
      "\n"
      "# MAGIC %sql\n"
      "# MAGIC SELECT 1\n"
      "\n"
      "# COMMAND ----------\n"
      "\n"
      "# MAGIC %run ./other";
  Notebook notebook = ParseSource(text, Language::kPython);
  EXPECT_TRUE(notebook.source_header);
  ASSERT_EQ(notebook.cells.size(), 4u);
  EXPECT_EQ(notebook.cells[0], Markdown("# Title\n\nSome *text*"));
  EXPECT_EQ(notebook.cells[1], Code("import os\nprint(os.getcwd())"));
  EXPECT_EQ(notebook.cells[2], Code("%sql\nSELECT 1"));
  EXPECT_EQ(notebook.cells[3], Code("%run ./other"));
  EXPECT_EQ(RenderSource(notebook), text);
  EXPECT_EQ(ThroughIpynb(text, Language::kPython), text);
}

TEST(SourceFormatTest, EachLanguageUsesItsCommentSyntax) {
  struct Case {
    Language language;
    std::string prefix;
    std::string code;
    std::string magic;
  };
  std::vector<Case> cases = {
      {Language::kPython, "#", "x = 1", "%sql"},
      {Language::kR, "#", "x <- 1", "%python"},
      {Language::kSql, "--", "SELECT 1", "%python"},
      {Language::kScala, "//", "val x = 1", "%r"},
  };
  for (const auto& c : cases) {
    Notebook notebook;
    notebook.language = c.language;
    notebook.cells = {Code(c.code), Code(c.magic + "\nbody"), Markdown("hello")};
    std::string expected = c.prefix + " Databricks notebook source\n" + c.code + "\n\n" + c.prefix +
                           " COMMAND ----------\n\n" + c.prefix + " MAGIC " + c.magic + "\n" + c.prefix +
                           " MAGIC body\n\n" + c.prefix + " COMMAND ----------\n\n" + c.prefix + " MAGIC %md\n" +
                           c.prefix + " MAGIC hello";
    EXPECT_EQ(RenderSource(notebook), expected) << LanguageName(c.language);
    EXPECT_EQ(ParseSource(expected, c.language), notebook) << LanguageName(c.language);
    if (c.language != Language::kR) {
      EXPECT_EQ(DetectSourceLanguage(expected), c.language);
    }
  }
  // Another language's separator is just text.
  Notebook sql =
      ParseSource("-- Databricks notebook source\nSELECT 1\n\n# COMMAND ----------\n\nSELECT 2", Language::kSql);
  EXPECT_EQ(sql.cells.size(), 1u);
}

TEST(SourceFormatTest, MarkdownForms) {
  // "%md" alone, "%md text" inline, and an empty markdown cell.
  std::string text =
      "# Databricks notebook source\n"
      "# MAGIC %md ## Inline heading\n"
      "# MAGIC more\n"
      "\n"
      "# COMMAND ----------\n"
      "\n"
      "# MAGIC %md";
  Notebook notebook = ParseSource(text, Language::kPython);
  ASSERT_EQ(notebook.cells.size(), 2u);
  EXPECT_EQ(notebook.cells[0].type, CellType::kMarkdown);
  EXPECT_EQ(notebook.cells[0].source, "## Inline heading\nmore");
  EXPECT_TRUE(notebook.cells[0].markdown_inline);
  EXPECT_EQ(notebook.cells[1], Markdown(""));
  EXPECT_EQ(RenderSource(notebook), text);
  EXPECT_EQ(ThroughIpynb(text, Language::kPython), text);
  // %md-sandbox is not markdown: it stays a magic code cell.
  Notebook sandbox =
      ParseSource("# Databricks notebook source\n# MAGIC %md-sandbox\n# MAGIC <b>x</b>", Language::kPython);
  ASSERT_EQ(sandbox.cells.size(), 1u);
  EXPECT_EQ(sandbox.cells[0], Code("%md-sandbox\n<b>x</b>"));
}

TEST(SourceFormatTest, OldStyleBlankMagicLinesKeepTheirTrailingSpace) {
  std::string text = "# Databricks notebook source\n# MAGIC %sql\n# MAGIC SELECT 1;\n# MAGIC \n# MAGIC SELECT 2;";
  Notebook notebook = ParseSource(text, Language::kPython);
  ASSERT_EQ(notebook.cells.size(), 1u);
  EXPECT_EQ(notebook.cells[0].source, "%sql\nSELECT 1;\n\nSELECT 2;");
  EXPECT_TRUE(notebook.cells[0].magic_blank_space);
  EXPECT_EQ(RenderSource(notebook), text);
  EXPECT_EQ(ThroughIpynb(text, Language::kPython), text);
  // Mixed blank-line styles cannot be expressed as a magic cell: the cell is kept as it is.
  std::string mixed = "# Databricks notebook source\n# MAGIC %sql\n# MAGIC \n# MAGIC\n# MAGIC SELECT 2";
  Notebook kept = ParseSource(mixed, Language::kPython);
  ASSERT_EQ(kept.cells.size(), 1u);
  EXPECT_EQ(kept.cells[0].source, "# MAGIC %sql\n# MAGIC \n# MAGIC\n# MAGIC SELECT 2");
  EXPECT_EQ(RenderSource(kept), mixed);
}

TEST(SourceFormatTest, LayoutEdgeCasesRoundTripExactly) {
  std::vector<std::string> texts = {
      "# Databricks notebook source",
      "# Databricks notebook source\n",
      "# Databricks notebook source\nprint(1)\n",
      "# Databricks notebook source\nprint(1)\n\n# COMMAND ----------\n",    // trailing separator
      "# Databricks notebook source\nprint(1)\n\n# COMMAND ----------\n\n",  // trailing separator + blank
      "# Databricks notebook source\n\n# COMMAND ----------\n\n# COMMAND ----------\n\nx",  // empty cells
      "# Databricks notebook source\na\n# COMMAND ----------\nb",                           // no blank lines
      "# Databricks notebook source\na\n\n\n\n# COMMAND ----------\n\n\n\nb\n\n\n",         // extra blank lines
      "# Databricks notebook source\n# COMMAND ----------",
      "# Databricks notebook source\n# MAGIC not a magic\n",
      "# Databricks notebook source\n%timeit x\n",            // code starting with '%' that is not MAGIC-prefixed
      "# Databricks notebook source\n# MAGIC %sql\n# MAGIC",  // magic cell ending in an empty line
      "# Databricks notebook source\n# MAGIC %md\n# MAGIC",   // markdown "%md" + one empty line
      "# DBTITLE 1,Load\n# Databricks notebook source\nx",
      "print('plain script without a header')\n",
      "",
      "# Databricks notebook source\r\nx = 1\r\n",  // CRLF: kept as one plain cell
      "# Databricks notebook source\n# DBTITLE 1,Title\n# MAGIC %sql\n# MAGIC SELECT 1",
      "# Databricks notebook source\ncontrol \x01 bytes \xe2\x82\xac",
  };
  for (const auto& text : texts) {
    Notebook notebook = ParseSource(text, Language::kPython);
    EXPECT_EQ(RenderSource(notebook), text);
    EXPECT_EQ(ThroughIpynb(text, Language::kPython), text);
  }
  EXPECT_TRUE(ParseSource("# Databricks notebook source", Language::kPython).cells.empty());
  Notebook plain = ParseSource("x = 1\n\n# COMMAND ----------\n\ny = 2", Language::kPython);
  EXPECT_FALSE(plain.source_header);
  EXPECT_EQ(plain.cells.size(), 1u);  // no header: one cell, not split
  Notebook trailing =
      ParseSource("# Databricks notebook source\nprint(1)\n\n# COMMAND ----------\n", Language::kPython);
  ASSERT_EQ(trailing.cells.size(), 2u);
  EXPECT_EQ(trailing.cells[0].source, "print(1)");
  EXPECT_EQ(trailing.cells[1].source, "");
}

TEST(SourceFormatTest, DetectsLanguageFromTheHeaderOnly) {
  EXPECT_EQ(DetectSourceLanguage("# Databricks notebook source\nx"), Language::kPython);
  EXPECT_EQ(DetectSourceLanguage("-- Databricks notebook source"), Language::kSql);
  EXPECT_EQ(DetectSourceLanguage("// Databricks notebook source\nval x = 1"), Language::kScala);
  EXPECT_EQ(DetectSourceLanguage("print(1)"), std::nullopt);
  EXPECT_EQ(DetectSourceLanguage("# Databricks notebook sourcery"), std::nullopt);
}

// Property: any text built from notebook-ish lines survives SOURCE -> ipynb -> SOURCE byte for byte, in every
// language, and models built from random cells survive model -> SOURCE -> model.
TEST(SourceFormatTest, RandomRoundTrips) {
  std::mt19937 random(20240501);
  const std::vector<std::string> fragments = {"",
                                              "x = 1",
                                              "SELECT 1",
                                              "%sql",
                                              "%md",
                                              "%md ## heading",
                                              "%r",
                                              "%python",
                                              "%scala",
                                              "%run ./x",
                                              "  indented",
                                              "# comment",
                                              "-- comment",
                                              "// comment",
                                              "# MAGIC",
                                              "# MAGIC ",
                                              "# MAGIC %sql",
                                              "-- MAGIC %md",
                                              "# COMMAND ----------",
                                              "-- COMMAND ----------",
                                              "// COMMAND ----------",
                                              "unicode: \xc3\xa9\xe2\x82\xac",
                                              "trailing space ",
                                              "\t tab",
                                              "%",
                                              "%%sql",
                                              "%md-sandbox"};
  for (int iteration = 0; iteration < 3000; ++iteration) {
    Language language = static_cast<Language>(random() % 4);
    std::string prefix(CommentPrefix(language));
    // Random text: header or not, then random lines with separators and magic prefixes mixed in.
    std::string text = random() % 5 == 0 ? "" : SourceHeader(language) + "\n";
    int num_lines = static_cast<int>(random() % 12);
    for (int i = 0; i < num_lines; ++i) {
      if (i > 0) text += '\n';
      int kind = static_cast<int>(random() % 6);
      if (kind == 0) {
        text += prefix + " COMMAND ----------";
      } else if (kind == 1) {
        text += prefix + " MAGIC " + fragments[random() % fragments.size()];
      } else {
        text += fragments[random() % fragments.size()];
      }
    }
    if (random() % 3 == 0) text += '\n';
    ASSERT_EQ(RenderSource(ParseSource(text, language)), text) << text;
    ASSERT_EQ(ThroughIpynb(text, language), text) << text;

    // Random cells: canonical sources (no separator lines, no leading/trailing newlines) survive
    // model -> SOURCE -> model.
    Notebook notebook;
    notebook.language = language;
    int num_cells = static_cast<int>(random() % 6);
    for (int c = 0; c < num_cells; ++c) {
      Cell cell;
      int kind = static_cast<int>(random() % 3);
      std::vector<std::string> lines;
      int cell_lines = static_cast<int>(random() % 4) + 1;
      for (int l = 0; l < cell_lines; ++l) {
        std::string line = fragments[random() % fragments.size()];
        if (line.find("COMMAND") != std::string::npos || line.find("MAGIC") != std::string::npos) line = "y";
        lines.push_back(line);
      }
      while (!lines.empty() && lines.front().empty()) lines.erase(lines.begin());
      while (!lines.empty() && lines.back().empty()) lines.pop_back();
      for (size_t l = 0; l < lines.size(); ++l) cell.source += (l ? "\n" : "") + lines[l];
      if (kind == 0) {
        cell.type = CellType::kMarkdown;
        if (cell.source.empty()) cell.source = "text";
      } else if (kind == 1) {
        cell.source = "%sql\n" + cell.source;
      } else if (!cell.source.empty() && cell.source.front() == '%') {
        cell.source = "x" + cell.source;
      }
      notebook.cells.push_back(cell);
    }
    std::string rendered = RenderSource(notebook);
    Notebook reparsed = ParseSource(rendered, language);
    ASSERT_EQ(reparsed.cells.size(), notebook.cells.size()) << rendered;
    for (size_t c = 0; c < notebook.cells.size(); ++c) {
      EXPECT_EQ(reparsed.cells[c].type, notebook.cells[c].type) << rendered;
      EXPECT_EQ(reparsed.cells[c].source, notebook.cells[c].source) << rendered;
    }
  }
}

}  // namespace
}  // namespace tarn::notebooks
