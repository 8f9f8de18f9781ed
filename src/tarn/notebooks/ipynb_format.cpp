// SPDX-License-Identifier: Apache-2.0
// nbformat-4 conversion: cells and metadata to and from JSON, keeping fields Tarn does not interpret.
#include "tarn/notebooks/ipynb_format.hpp"

#include <nlohmann/json.hpp>

#include "tarn/base/json_depth.hpp"

namespace tarn::notebooks {
namespace {

using nlohmann::json;

constexpr char kTarnKey[] = "tarn";
constexpr char kDatabricksNotebookKey[] = "application/vnd.databricks.v1+notebook";

std::string Dump(const json& value, int indent = -1) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

Status Invalid(std::string_view what) {
  return Error(ErrorCode::kInvalidParameterValue, "Invalid Jupyter notebook: {}", what);
}

// nbformat "multiline strings" are a string or a list of strings to concatenate.
Result<std::string> MultilineString(const json& value, std::string_view field) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string out;
    for (const auto& piece : value) {
      if (!piece.is_string()) return Invalid(fmt::format("'{}' must be a string or a list of strings", field));
      out += piece.get_ref<const std::string&>();
    }
    return out;
  }
  return Invalid(fmt::format("'{}' must be a string or a list of strings", field));
}

// Splits text into lines that keep their '\n', as Jupyter stores `source`.
json SourceLines(std::string_view text) {
  json lines = json::array();
  size_t start = 0;
  while (start < text.size()) {
    size_t newline = text.find('\n', start);
    size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    lines.push_back(std::string(text.substr(start, end - start)));
    start = end;
  }
  return lines;
}

std::optional<Language> LanguageFromName(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  auto parsed = ParseLanguage(it->get_ref<const std::string&>());
  if (!parsed.has_value()) return std::nullopt;
  return *parsed;
}

std::optional<Language> MetadataLanguage(const json& metadata) {
  if (!metadata.is_object()) return std::nullopt;
  if (auto it = metadata.find("kernelspec"); it != metadata.end()) {
    if (auto language = LanguageFromName(*it, "language")) return language;
  }
  if (auto it = metadata.find("language_info"); it != metadata.end()) {
    if (auto language = LanguageFromName(*it, "name")) return language;
  }
  if (auto it = metadata.find(kDatabricksNotebookKey); it != metadata.end()) {
    if (auto language = LanguageFromName(*it, "language")) return language;
  }
  return std::nullopt;
}

json KernelSpec(Language language) {
  switch (language) {
    case Language::kPython:
      return {{"display_name", "Python 3"}, {"language", "python"}, {"name", "python3"}};
    case Language::kR:
      return {{"display_name", "R"}, {"language", "R"}, {"name", "ir"}};
    case Language::kSql:
      return {{"display_name", "SQL"}, {"language", "sql"}, {"name", "sql"}};
    case Language::kScala:
      return {{"display_name", "Scala"}, {"language", "scala"}, {"name", "scala"}};
  }
  return json::object();
}

std::string LanguageInfoName(Language language) {
  switch (language) {
    case Language::kPython:
      return "python";
    case Language::kR:
      return "R";
    case Language::kSql:
      return "sql";
    case Language::kScala:
      return "scala";
  }
  return "python";
}

Result<Cell> ParseCell(const json& object) {
  if (!object.is_object()) return Invalid("a cell is not a JSON object");
  Cell cell;
  auto type = object.find("cell_type");
  if (type == object.end() || !type->is_string()) return Invalid("a cell has no 'cell_type'");
  const std::string& type_name = type->get_ref<const std::string&>();
  if (type_name == "code") {
    cell.type = CellType::kCode;
  } else if (type_name == "markdown") {
    cell.type = CellType::kMarkdown;
  } else if (type_name == "raw") {
    cell.type = CellType::kRaw;
  } else {
    return Invalid(fmt::format("unknown cell_type '{}'", type_name));
  }
  if (auto source = object.find("source"); source != object.end()) {
    TARN_ASSIGN_OR_RETURN(cell.source, MultilineString(*source, "source"));
  }
  json rest = object;
  rest.erase("cell_type");
  rest.erase("source");
  if (auto metadata = rest.find("metadata"); metadata != rest.end()) {
    if (!metadata->is_object()) return Invalid("cell 'metadata' must be an object");
    if (auto tarn = metadata->find(kTarnKey); tarn != metadata->end()) {
      if (tarn->is_object()) {
        if (auto padding = tarn->find("source_padding");
            padding != tarn->end() && padding->is_array() && padding->size() == 2 &&
            (*padding)[0].is_number_integer() && (*padding)[1].is_number_integer() && (*padding)[0] >= 0 &&
            (*padding)[1] >= 0 && (*padding)[0] <= 1'000'000 && (*padding)[1] <= 1'000'000) {
          cell.source_padding = std::pair<int, int>((*padding)[0].get<int>(), (*padding)[1].get<int>());
        }
        cell.verbatim = tarn->value("verbatim", false) == true;
        cell.magic_blank_space = tarn->value("magic_blank_space", false) == true;
        cell.markdown_inline = tarn->value("markdown_inline", false) == true;
      }
      metadata->erase(kTarnKey);
    }
    if (metadata->empty()) rest.erase("metadata");
  }
  // Fields every code cell has are re-created on rendering; keep them only when they carry something.
  if (auto outputs = rest.find("outputs"); outputs != rest.end() && outputs->is_array() && outputs->empty()) {
    rest.erase("outputs");
  }
  if (auto count = rest.find("execution_count"); count != rest.end() && count->is_null()) {
    rest.erase("execution_count");
  }
  if (!rest.empty()) cell.ipynb_fields = Dump(rest);
  return cell;
}

json RenderCell(const Cell& cell) {
  json object = json::object();
  if (!cell.ipynb_fields.empty()) {
    json parsed = json::parse(cell.ipynb_fields, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) object = std::move(parsed);
  }
  switch (cell.type) {
    case CellType::kCode:
      object["cell_type"] = "code";
      if (!object.contains("outputs") || !object["outputs"].is_array()) object["outputs"] = json::array();
      if (!object.contains("execution_count")) object["execution_count"] = nullptr;
      break;
    case CellType::kMarkdown:
    case CellType::kRaw:
      object["cell_type"] = cell.type == CellType::kMarkdown ? "markdown" : "raw";
      object.erase("outputs");
      object.erase("execution_count");
      break;
  }
  if (!object.contains("metadata") || !object["metadata"].is_object()) object["metadata"] = json::object();
  json tarn = json::object();
  if (cell.source_padding) tarn["source_padding"] = {cell.source_padding->first, cell.source_padding->second};
  if (cell.verbatim) tarn["verbatim"] = true;
  if (cell.magic_blank_space) tarn["magic_blank_space"] = true;
  if (cell.markdown_inline) tarn["markdown_inline"] = true;
  if (!tarn.empty()) object["metadata"][kTarnKey] = std::move(tarn);
  object["source"] = SourceLines(cell.source);
  return object;
}

}  // namespace

Result<Notebook> ParseIpynb(std::string_view text, std::optional<Language> language) {
  if (!JsonNestingWithin(text)) return Invalid(fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth));
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Invalid("the content is not valid JSON");
  if (!document.is_object()) return Invalid("the content is not a JSON object");
  auto major = document.find("nbformat");
  if (major == document.end() || !major->is_number_integer()) return Invalid("'nbformat' is missing");
  if (*major != 4) return Invalid(fmt::format("nbformat {} is not supported (only 4)", major->dump()));
  Notebook notebook;
  if (auto minor = document.find("nbformat_minor"); minor != document.end() && minor->is_number_integer()) {
    notebook.nbformat_minor = std::max(0, std::min(minor->get<int>(), 1000));
  }
  auto cells = document.find("cells");
  if (cells == document.end() || !cells->is_array()) return Invalid("'cells' must be a list");
  bool all_have_ids = true;
  for (const auto& object : *cells) {
    TARN_ASSIGN_OR_RETURN(Cell cell, ParseCell(object));
    if (!object.contains("id")) all_have_ids = false;
    notebook.cells.push_back(std::move(cell));
  }
  // nbformat 4.5 requires cell ids; cells converted from SOURCE have none, so older minors are written then.
  if (notebook.nbformat_minor >= 5 && !all_have_ids) notebook.nbformat_minor = 4;
  json metadata = json::object();
  if (auto it = document.find("metadata"); it != document.end()) {
    if (!it->is_object()) return Invalid("'metadata' must be an object");
    metadata = *it;
  }
  notebook.language = language ? *language : MetadataLanguage(metadata).value_or(Language::kPython);
  if (auto tarn = metadata.find(kTarnKey); tarn != metadata.end()) {
    if (tarn->is_object()) notebook.source_header = tarn->value("source_header", true) != false;
    metadata.erase(kTarnKey);
  }
  // The language fields are rewritten from Notebook::language on rendering.
  metadata.erase("kernelspec");
  if (auto info = metadata.find("language_info"); info != metadata.end() && info->is_object()) {
    info->erase("name");
    if (info->empty()) metadata.erase("language_info");
  }
  if (!metadata.empty()) notebook.ipynb_metadata = Dump(metadata);
  return notebook;
}

std::string RenderIpynb(const Notebook& notebook) {
  json metadata = json::object();
  if (!notebook.ipynb_metadata.empty()) {
    json parsed = json::parse(notebook.ipynb_metadata, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) metadata = std::move(parsed);
  }
  metadata["kernelspec"] = KernelSpec(notebook.language);
  if (!metadata.contains("language_info") || !metadata["language_info"].is_object()) {
    metadata["language_info"] = json::object();
  }
  metadata["language_info"]["name"] = LanguageInfoName(notebook.language);
  if (!notebook.source_header) metadata[kTarnKey] = {{"source_header", false}};
  json cells = json::array();
  for (const Cell& cell : notebook.cells) cells.push_back(RenderCell(cell));
  json document = {{"cells", std::move(cells)},
                   {"metadata", std::move(metadata)},
                   {"nbformat", 4},
                   {"nbformat_minor", notebook.nbformat_minor}};
  return Dump(document, 1) + "\n";
}

}  // namespace tarn::notebooks
