// SPDX-License-Identifier: Apache-2.0
// Language names, extensions and comment prefixes of the notebook model.
#include "tarn/notebooks/notebook.hpp"

#include <cctype>
#include <cstdint>

namespace tarn::notebooks {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view LanguageName(Language language) {
  switch (language) {
    case Language::kPython:
      return "PYTHON";
    case Language::kSql:
      return "SQL";
    case Language::kR:
      return "R";
    case Language::kScala:
      return "SCALA";
  }
  return "PYTHON";
}

Result<Language> ParseLanguage(std::string_view name) {
  std::string lower = Lower(name);
  if (lower == "python") return Language::kPython;
  if (lower == "sql") return Language::kSql;
  if (lower == "r") return Language::kR;
  if (lower == "scala") return Language::kScala;
  return Error(ErrorCode::kInvalidParameterValue, "Invalid language: '{}' (expected PYTHON, SQL, R or SCALA)", name);
}

std::string_view SourceExtension(Language language) {
  switch (language) {
    case Language::kPython:
      return "py";
    case Language::kSql:
      return "sql";
    case Language::kR:
      return "r";
    case Language::kScala:
      return "scala";
  }
  return "py";
}

std::optional<Language> LanguageForExtension(std::string_view extension) {
  if (!extension.empty() && extension.front() == '.') extension.remove_prefix(1);
  std::string lower = Lower(extension);
  if (lower == "py") return Language::kPython;
  if (lower == "sql") return Language::kSql;
  if (lower == "r") return Language::kR;
  if (lower == "scala") return Language::kScala;
  return std::nullopt;
}

std::string_view CommentPrefix(Language language) {
  switch (language) {
    case Language::kPython:
    case Language::kR:
      return "#";
    case Language::kSql:
      return "--";
    case Language::kScala:
      return "//";
  }
  return "#";
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code_point = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code_point = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code_point = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code_point = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are invalid.
    constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace tarn::notebooks
