// SPDX-License-Identifier: Apache-2.0
// Tests for nbformat-4 reading and writing: language metadata, kept fields, validation.
#include "tarn/notebooks/ipynb_format.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tarn/notebooks/source_format.hpp"

namespace tarn::notebooks {
namespace {

using nlohmann::json;

TEST(IpynbFormatTest, WritesNbformat4WithLanguageMetadata) {
  Notebook notebook = ParseSource(
      "# Databricks notebook source\n# MAGIC %md\n# MAGIC # T\n\n"
      "# COMMAND ----------\n\nx <- 1\ny <- 2",
      Language::kR);
  json document = json::parse(RenderIpynb(notebook));
  EXPECT_EQ(document["nbformat"], 4);
  EXPECT_EQ(document["nbformat_minor"], 4);
  EXPECT_EQ(document["metadata"]["kernelspec"]["name"], "ir");
  EXPECT_EQ(document["metadata"]["kernelspec"]["language"], "R");
  EXPECT_EQ(document["metadata"]["language_info"]["name"], "R");
  ASSERT_EQ(document["cells"].size(), 2u);
  EXPECT_EQ(document["cells"][0]["cell_type"], "markdown");
  EXPECT_EQ(document["cells"][0]["source"], json::array({"# T"}));
  EXPECT_FALSE(document["cells"][0].contains("outputs"));
  EXPECT_EQ(document["cells"][1]["cell_type"], "code");
  EXPECT_EQ(document["cells"][1]["source"], json::array({"x <- 1\n", "y <- 2"}));
  EXPECT_EQ(document["cells"][1]["outputs"], json::array());
  EXPECT_TRUE(document["cells"][1]["execution_count"].is_null());
  EXPECT_EQ(document["cells"][1]["metadata"], json::object());  // canonical layout: no tarn metadata
}

TEST(IpynbFormatTest, ReadsLanguageFromMetadataOrArgument) {
  struct Case {
    json metadata;
    Language expected;
  };
  std::vector<Case> cases = {
      {json::object(), Language::kPython},
      {{{"kernelspec", {{"language", "python"}, {"name", "python3"}}}}, Language::kPython},
      {{{"kernelspec", {{"language", "R"}, {"name", "ir"}}}}, Language::kR},
      {{{"language_info", {{"name", "scala"}}}}, Language::kScala},
      {{{"application/vnd.databricks.v1+notebook", {{"language", "sql"}}}}, Language::kSql},
      {{{"kernelspec", {{"language", "julia"}}}}, Language::kPython},
  };
  for (const auto& c : cases) {
    json document = {{"cells", json::array()}, {"metadata", c.metadata}, {"nbformat", 4}, {"nbformat_minor", 2}};
    auto notebook = ParseIpynb(document.dump());
    ASSERT_TRUE(notebook.has_value()) << notebook.status().ToString();
    EXPECT_EQ(notebook->language, c.expected) << c.metadata.dump();
  }
  json r = {{"cells", json::array()}, {"metadata", {{"kernelspec", {{"language", "R"}}}}}, {"nbformat", 4}};
  EXPECT_EQ(ParseIpynb(r.dump(), Language::kSql)->language, Language::kSql);
}

TEST(IpynbFormatTest, KeepsOutputsIdsAndMetadataAcrossRoundTrips) {
  json document = {{"cells",
                    {{{"cell_type", "code"},
                      {"id", "a1"},
                      {"execution_count", 3},
                      {"metadata", {{"collapsed", true}}},
                      {"outputs", {{{"output_type", "stream"}, {"name", "stdout"}, {"text", {"hi\n"}}}}},
                      {"source", "print('hi')"}},
                     {{"cell_type", "raw"}, {"id", "b2"}, {"metadata", json::object()}, {"source", {"raw ", "text"}}}}},
                   {"metadata", {{"kernelspec", {{"language", "python"}}}, {"authors", {"me"}}}},
                   {"nbformat", 4},
                   {"nbformat_minor", 5}};
  auto notebook = ParseIpynb(document.dump());
  ASSERT_TRUE(notebook.has_value()) << notebook.status().ToString();
  EXPECT_EQ(notebook->nbformat_minor, 5);
  ASSERT_EQ(notebook->cells.size(), 2u);
  EXPECT_EQ(notebook->cells[0].source, "print('hi')");
  EXPECT_EQ(notebook->cells[1].type, CellType::kRaw);
  EXPECT_EQ(notebook->cells[1].source, "raw text");
  json rendered = json::parse(RenderIpynb(*notebook));
  EXPECT_EQ(rendered["nbformat_minor"], 5);
  EXPECT_EQ(rendered["metadata"]["authors"], json::array({"me"}));
  EXPECT_EQ(rendered["cells"][0]["outputs"], document["cells"][0]["outputs"]);
  EXPECT_EQ(rendered["cells"][0]["execution_count"], 3);
  EXPECT_EQ(rendered["cells"][0]["id"], "a1");
  EXPECT_EQ(rendered["cells"][0]["metadata"]["collapsed"], true);
  auto again = ParseIpynb(RenderIpynb(*notebook));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *notebook);
}

TEST(IpynbFormatTest, JupyterCellsSurviveSource) {
  // Cells written in Jupyter (no Tarn metadata) -> SOURCE -> model keep their types and text.
  json document = {{"cells",
                    {{{"cell_type", "markdown"}, {"metadata", json::object()}, {"source", {"# Title\n", "text"}}},
                     {{"cell_type", "code"},
                      {"metadata", json::object()},
                      {"source", {"%sql\n", "SELECT 1"}},
                      {"outputs", json::array()},
                      {"execution_count", nullptr}},
                     {{"cell_type", "code"},
                      {"metadata", json::object()},
                      {"source", "x = 1\n\ny = 2"},
                      {"outputs", json::array()},
                      {"execution_count", nullptr}}}},
                   {"metadata", {{"kernelspec", {{"language", "python"}}}}},
                   {"nbformat", 4},
                   {"nbformat_minor", 4}};
  auto notebook = ParseIpynb(document.dump());
  ASSERT_TRUE(notebook.has_value());
  std::string source = RenderSource(*notebook);
  EXPECT_EQ(source,
            "# Databricks notebook source\n# MAGIC %md\n# MAGIC # Title\n# MAGIC text\n\n# COMMAND ----------\n\n"
            "# MAGIC %sql\n# MAGIC SELECT 1\n\n# COMMAND ----------\n\nx = 1\n\ny = 2");
  EXPECT_EQ(ParseSource(source, Language::kPython).cells, notebook->cells);
}

TEST(IpynbFormatTest, RejectsInvalidDocuments) {
  for (std::string text :
       {std::string("not json"), std::string("[]"), std::string("{}"), std::string(R"({"nbformat": 3, "cells": []})"),
        std::string(R"({"nbformat": 4})"), std::string(R"({"nbformat": 4, "cells": [{"source": "x"}]})"),
        std::string(R"({"nbformat": 4, "cells": [{"cell_type": "heading", "source": "x"}]})"),
        std::string(R"({"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]})"),
        std::string(R"({"nbformat": 4, "cells": [], "metadata": []})")}) {
    auto parsed = ParseIpynb(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidParameterValue) << text;
  }
}

TEST(IpynbFormatTest, LanguageNames) {
  for (Language language : {Language::kPython, Language::kSql, Language::kR, Language::kScala}) {
    EXPECT_EQ(*ParseLanguage(LanguageName(language)), language);
    EXPECT_EQ(LanguageForExtension(SourceExtension(language)), language);
  }
  EXPECT_EQ(*ParseLanguage("python"), Language::kPython);
  EXPECT_EQ(ParseLanguage("COBOL").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(LanguageForExtension(".R"), Language::kR);
  EXPECT_EQ(LanguageForExtension("txt"), std::nullopt);
}

TEST(IpynbFormatTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

// Fuzzing regression (workspace_import_fuzzer): deeply nested cell metadata overflowed the stack in nlohmann's
// recursive copy; nesting beyond kMaxJsonDepth is refused before parsing.
TEST(IpynbFormatTest, DeepNestingIsRefused) {
  std::string deep = std::string(30000, '[') + std::string(30000, ']');
  std::string text = R"({"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","source":"x",)"
                     R"("metadata":{"y":)" + deep + R"(},"outputs":[]}]})";
  auto parsed = ParseIpynb(text);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidParameterValue);
  std::string shallow = std::string(100, '[') + std::string(100, ']');
  std::string ok = R"({"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","source":"[[[[",)"
                   R"("metadata":{"y":)" + shallow + R"(},"outputs":[]}]})";
  EXPECT_TRUE(ParseIpynb(ok).has_value()) << ParseIpynb(ok).status().ToString();
}

}  // namespace
}  // namespace tarn::notebooks
