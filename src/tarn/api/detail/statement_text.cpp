// SPDX-License-Identifier: Apache-2.0
// Statement Execution API helpers: named-parameter binding, Databricks type names, JSON_ARRAY and CSV value text.
#include "tarn/api/detail/statement_text.hpp"

#include <cctype>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "tarn/base/crypto.hpp"
#include "tarn/engine/delta_scan_plan.hpp"
#include "tarn/sql/spark_types.hpp"

namespace tarn::api::detail {
namespace {

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// Returns the position after a quoted run starting at `pos` (doubled quotes stay inside).
size_t SkipQuoted(std::string_view sql, size_t pos) {
  char q = sql[pos];
  size_t i = pos + 1;
  while (i < sql.size()) {
    if (sql[i] == q) {
      if (i + 1 < sql.size() && sql[i + 1] == q) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.size();
}

std::string QuoteLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

Result<std::string> LiteralOf(const StatementParameter& parameter) {
  std::string duck_type = "VARCHAR";
  if (!parameter.type.empty()) {
    auto type = sql::ParseSparkType(parameter.type);
    if (!type.has_value()) {
      return Error(ErrorCode::kSyntaxError, "Parameter '{}' has an unknown type '{}': {}", parameter.name,
                   parameter.type, type.status().message());
    }
    duck_type = engine::DuckTypeOf(**type);
  }
  return "CAST(" + (parameter.value ? QuoteLiteral(*parameter.value) : std::string("NULL")) + " AS " + duck_type +
         ")";
}

struct TypeDescription {
  std::string name;
  std::string text;
};

TypeDescription Describe(const engine::LogicalType& type) {
  using engine::TypeId;
  switch (type.id) {
    case TypeId::kBoolean: return {"BOOLEAN", "BOOLEAN"};
    case TypeId::kTinyInt: return {"BYTE", "TINYINT"};
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt: return {"SHORT", "SMALLINT"};
    case TypeId::kInteger:
    case TypeId::kUSmallInt: return {"INT", "INT"};
    case TypeId::kBigInt:
    case TypeId::kUInteger: return {"LONG", "BIGINT"};
    case TypeId::kUBigInt:
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt:
    case TypeId::kBigNum: return {"DECIMAL", "DECIMAL(38,0)"};
    case TypeId::kFloat: return {"FLOAT", "FLOAT"};
    case TypeId::kDouble: return {"DOUBLE", "DOUBLE"};
    case TypeId::kDecimal:
      return {"DECIMAL", "DECIMAL(" + std::to_string(type.decimal_width) + "," + std::to_string(type.decimal_scale) +
                             ")"};
    case TypeId::kDate: return {"DATE", "DATE"};
    case TypeId::kTimestampTz: return {"TIMESTAMP", "TIMESTAMP"};
    case TypeId::kTimestamp:
    case TypeId::kTimestampS:
    case TypeId::kTimestampMs:
    case TypeId::kTimestampNs: return {"TIMESTAMP", "TIMESTAMP_NTZ"};
    case TypeId::kBlob:
    case TypeId::kBit: return {"BINARY", "BINARY"};
    case TypeId::kInterval: return {"INTERVAL", "INTERVAL"};
    case TypeId::kSqlNull: return {"NULL", "VOID"};
    case TypeId::kList:
    case TypeId::kArray:
      return {"ARRAY", "ARRAY<" + (type.children.empty() ? std::string("STRING") : Describe(type.children[0].type).text) +
                           ">"};
    case TypeId::kMap:
      if (type.children.size() == 2) {
        return {"MAP",
                "MAP<" + Describe(type.children[0].type).text + ", " + Describe(type.children[1].type).text + ">"};
      }
      return {"MAP", "MAP<STRING, STRING>"};
    case TypeId::kStruct: {
      std::string text = "STRUCT<";
      for (size_t k = 0; k < type.children.size(); k++) {
        if (k > 0) text += ", ";
        text += type.children[k].name + ": " + Describe(type.children[k].type).text;
      }
      return {"STRUCT", text + ">"};
    }
    default: return {"STRING", "STRING"};
  }
}

bool IsNumeric(engine::TypeId id) {
  using engine::TypeId;
  switch (id) {
    case TypeId::kTinyInt: case TypeId::kSmallInt: case TypeId::kInteger: case TypeId::kBigInt:
    case TypeId::kUTinyInt: case TypeId::kUSmallInt: case TypeId::kUInteger: case TypeId::kUBigInt:
    case TypeId::kHugeInt: case TypeId::kUHugeInt: case TypeId::kFloat: case TypeId::kDouble: case TypeId::kDecimal:
      return true;
    default: return false;
  }
}

/// Reads DuckDB's text form of a nested value (what ValueStyle::kDuckDb prints) back into JSON, guided by the type.
/// Unquoted elements never contain the delimiters `,'"[](){}:=` (DuckDB quotes those), which makes this unambiguous.
class DuckTextReader {
 public:
  explicit DuckTextReader(std::string_view text) : text_(text) {}

  bool Read(const engine::LogicalType& type, nlohmann::ordered_json& out) {
    using engine::TypeId;
    Skip();
    if (!IsQuoted() && text_.substr(pos_, 4) == "NULL" && AtDelimiter(pos_ + 4)) {
      pos_ += 4;
      out = nullptr;
      return true;
    }
    switch (type.id) {
      case TypeId::kList:
      case TypeId::kArray: {
        out = nlohmann::ordered_json::array();
        if (!Expect('[') || type.children.empty()) return false;
        return ReadItems(']', [&] {
          nlohmann::ordered_json item;
          if (!Read(type.children[0].type, item)) return false;
          out.push_back(std::move(item));
          return true;
        });
      }
      case TypeId::kStruct: {
        out = nlohmann::ordered_json::object();
        if (!Expect('{')) return false;
        size_t field = 0;
        return ReadItems('}', [&] {
          std::string key;
          if (field >= type.children.size() || !ReadScalar(key) || !Expect(':')) return false;
          return Read(type.children[field++].type, out[key]);
        });
      }
      case TypeId::kMap: {
        out = nlohmann::ordered_json::object();
        if (!Expect('{') || type.children.size() != 2) return false;
        return ReadItems('}', [&] {
          nlohmann::ordered_json key;
          if (!Read(type.children[0].type, key) || !Expect('=')) return false;
          std::string name = key.is_string() ? key.get<std::string>() : key.dump();
          return Read(type.children[1].type, out[name]);
        });
      }
      case TypeId::kUnion: return false;
      default: {
        bool quoted = IsQuoted();
        std::string text;
        if (!ReadScalar(text)) return false;
        if (!quoted && IsNumeric(type.id)) {
          out = nlohmann::ordered_json::parse(text, nullptr, false);
          if (out.is_discarded() || !out.is_number()) out = text;
        } else if (!quoted && type.id == TypeId::kBoolean && (text == "true" || text == "false")) {
          out = text == "true";
        } else {
          out = std::move(text);
        }
        return true;
      }
    }
  }

  bool AtEnd() {
    Skip();
    return pos_ == text_.size();
  }

 private:
  void Skip() {
    while (pos_ < text_.size() && text_[pos_] == ' ') pos_++;
  }
  bool IsQuoted() const { return pos_ < text_.size() && text_[pos_] == '\''; }
  bool AtDelimiter(size_t at) const {
    return at >= text_.size() || std::strchr(",]}=:", text_[at]) != nullptr || text_[at] == ' ';
  }
  bool Expect(char c) {
    Skip();
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    pos_++;
    return true;
  }
  template <typename ReadOne>
  bool ReadItems(char close, ReadOne read_one) {
    Skip();
    if (pos_ < text_.size() && text_[pos_] == close) {
      pos_++;
      return true;
    }
    while (true) {
      if (!read_one()) return false;
      Skip();
      if (pos_ >= text_.size()) return false;
      char c = text_[pos_++];
      if (c == close) return true;
      if (c != ',') return false;
    }
  }
  bool ReadScalar(std::string& out) {
    Skip();
    if (IsQuoted()) {
      pos_++;
      while (pos_ < text_.size() && text_[pos_] != '\'') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) pos_++;
        out += text_[pos_++];
      }
      return Expect('\'');
    }
    size_t start = pos_;
    while (pos_ < text_.size() && std::strchr(",]}=:", text_[pos_]) == nullptr) pos_++;
    size_t end = pos_;
    while (end > start && text_[end - 1] == ' ') end--;
    out.assign(text_.substr(start, end - start));
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> NestedValueJson(std::string_view duck_text, const engine::LogicalType& type) {
  DuckTextReader reader(duck_text);
  nlohmann::ordered_json value;
  if (!reader.Read(type, value) || !reader.AtEnd()) return std::nullopt;
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<std::string> BindNamedParameters(std::string_view sql, const std::vector<StatementParameter>& parameters) {
  for (const auto& parameter : parameters) {
    if (parameter.name.empty() || !IsNameStart(parameter.name[0])) {
      return Error(ErrorCode::kInvalidParameterValue, "Invalid parameter name '{}'.", parameter.name);
    }
    for (char c : parameter.name) {
      if (!IsNameChar(c)) return Error(ErrorCode::kInvalidParameterValue, "Invalid parameter name '{}'.", parameter.name);
    }
  }
  std::string out;
  out.reserve(sql.size());
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      size_t end = SkipQuoted(sql, i);
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() : end + 2;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      out.append("::");
      i += 2;
    } else if (c == ':' && i + 1 < sql.size() && IsNameStart(sql[i + 1]) && (i == 0 || sql[i - 1] != ':')) {
      size_t end = i + 1;
      while (end < sql.size() && IsNameChar(sql[end])) end++;
      std::string_view name = sql.substr(i + 1, end - i - 1);
      // `col:field` (a colon right after a name, quote or bracket) is a JSON path, not a marker.
      char before = i == 0 ? ' ' : sql[i - 1];
      if (IsNameChar(before) || before == ')' || before == ']' || before == '`' || before == '"') {
        out.append(sql.substr(i, end - i));
        i = end;
        continue;
      }
      const StatementParameter* found = nullptr;
      for (const auto& parameter : parameters) {
        if (parameter.name == name) found = &parameter;
      }
      if (found == nullptr) {
        return Error(ErrorCode::kUnboundParameter,
                     "[UNBOUND_SQL_PARAMETER] Found the unbound parameter: {}. Please provide a value for it in "
                     "`parameters`.",
                     name);
      }
      TARN_ASSIGN_OR_RETURN(std::string literal, LiteralOf(*found));
      out += literal;
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

ResultColumn DescribeColumn(const engine::Column& column) {
  ResultColumn out;
  out.name = column.name;
  TypeDescription description = Describe(column.type);
  out.type_name = std::move(description.name);
  out.type_text = std::move(description.text);
  if (column.type.id == engine::TypeId::kDecimal) {
    out.type_precision = column.type.decimal_width;
    out.type_scale = column.type.decimal_scale;
  } else if (out.type_name == "DECIMAL") {
    out.type_precision = 38;
    out.type_scale = 0;
  }
  return out;
}

std::string FormatTimestampMicros(int64_t micros) {
  int64_t days = micros >= 0 ? micros / 86'400'000'000 : -((-micros + 86'400'000'000 - 1) / 86'400'000'000);
  int64_t rest = micros - days * 86'400'000'000;  // [0, one day)
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  int64_t seconds = rest / 1'000'000;
  int64_t fraction = rest % 1'000'000;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, seconds / 3600, seconds / 60 % 60,
                                seconds % 60);
  if (fraction % 1000 == 0) {
    out += fmt::format(".{:03}", fraction / 1000);
  } else {
    out += fmt::format(".{:06}", fraction);
  }
  return out;
}

std::optional<std::string> FormatCell(const engine::Chunk& chunk, size_t col, size_t row) {
  if (chunk.IsNull(col, row)) return std::nullopt;
  using engine::TypeId;
  const engine::LogicalType& type = chunk.column_type(col);
  switch (type.id) {
    case TypeId::kBoolean: return std::string(chunk.GetBool(col, row) ? "true" : "false");
    case TypeId::kTimestampTz: return FormatTimestampMicros(chunk.GetMicros(col, row)) + "Z";
    case TypeId::kTimestamp: return FormatTimestampMicros(chunk.GetMicros(col, row));
    case TypeId::kBlob: return Base64Encode(chunk.GetString(col, row));
    case TypeId::kVarchar: return std::string(chunk.GetString(col, row));
    case TypeId::kFloat:
    case TypeId::kDouble: {
      double value = chunk.GetDouble(col, row);
      if (std::isnan(value)) return std::string("NaN");
      if (std::isinf(value)) return std::string(value > 0 ? "Infinity" : "-Infinity");
      return chunk.FormatValue(col, row, engine::ValueStyle::kDuckDb);
    }
    case TypeId::kList:
    case TypeId::kArray:
    case TypeId::kStruct:
    case TypeId::kMap: {
      std::string text = chunk.FormatValue(col, row, engine::ValueStyle::kDuckDb);
      std::optional<std::string> json = NestedValueJson(text, type);
      return json ? std::move(*json) : std::move(text);
    }
    default: return chunk.FormatValue(col, row, engine::ValueStyle::kDuckDb);
  }
}

void AppendCsvRecord(std::string& out, const std::optional<std::string>* cells, size_t count) {
  for (size_t k = 0; k < count; k++) {
    if (k > 0) out += ',';
    if (!cells[k]) {
      out += "null";
      continue;
    }
    const std::string& value = *cells[k];
    bool quote = value.find_first_of(",\"\r\n") != std::string::npos;
    if (!quote) {
      out += value;
      continue;
    }
    out += '"';
    for (char c : value) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  out += "\r\n";
}

}  // namespace tarn::api::detail
