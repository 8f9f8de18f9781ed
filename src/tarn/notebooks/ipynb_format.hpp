// SPDX-License-Identifier: Apache-2.0
// Jupyter nbformat-4 (.ipynb) reading and writing for the notebook model.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/notebooks/notebook.hpp"

namespace tarn::notebooks {

/// Parses an nbformat-4 JSON document. The language is `language` when given, else the notebook metadata's
/// (kernelspec.language, language_info.name, Databricks' notebook metadata), else PYTHON. Cell outputs, ids and
/// other metadata are kept (Cell::ipynb_fields, Notebook::ipynb_metadata). Errors: kInvalidParameterValue for
/// invalid JSON, another nbformat major version, or malformed cells.
Result<Notebook> ParseIpynb(std::string_view json, std::optional<Language> language = std::nullopt);

/// Renders the notebook as nbformat-4 JSON (one-space indentation, sorted keys, as Jupyter writes it) with the
/// language in metadata.kernelspec and metadata.language_info. Tarn's SOURCE layout details go to
/// metadata.tarn of the cell or notebook, and only when they deviate from the canonical layout.
std::string RenderIpynb(const Notebook& notebook);

}  // namespace tarn::notebooks
