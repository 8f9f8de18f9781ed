// SPDX-License-Identifier: Apache-2.0
// Databricks SOURCE notebook format ("# Databricks notebook source", "# COMMAND ----------", "# MAGIC %sql").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tarn/notebooks/notebook.hpp"

namespace tarn::notebooks {

/// Returns the header line of a SOURCE file in `language`, e.g. "-- Databricks notebook source".
std::string SourceHeader(Language language);
/// Returns the language whose header line starts `text` ("#" → PYTHON, since Python and R share it), if any.
std::optional<Language> DetectSourceLanguage(std::string_view text);

/// Parses SOURCE text written in `language`. Never fails: a file without the header line is one cell, and cells
/// that do not follow Databricks' layout keep their exact text (Cell layout fields), so
/// RenderSource(ParseSource(text, l)) == text for every text. Magic cells (every line `<prefix> MAGIC ...`) become
/// code cells starting with the magic (`%sql ...`), `%md` cells become markdown cells.
Notebook ParseSource(std::string_view text, Language language);

/// Renders a notebook as SOURCE text in its language: header line, cells separated by
/// "\n\n<prefix> COMMAND ----------\n\n", magic cells and markdown cells as `<prefix> MAGIC` lines.
std::string RenderSource(const Notebook& notebook);

}  // namespace tarn::notebooks
