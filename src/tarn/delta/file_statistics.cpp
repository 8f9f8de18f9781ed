// SPDX-License-Identifier: Apache-2.0
// Statistics JSON for add.stats, written by hand so decimals keep their exact text.
#include "tarn/delta/file_statistics.hpp"

#include <charconv>
#include <cmath>

#include "tarn/delta/partition_value.hpp"

namespace tarn::delta {
namespace {

struct CodePoint {
  uint32_t value;
  size_t offset;  // byte offset in the UTF-8 text
};

// Decodes UTF-8 leniently: a malformed byte becomes one code point of its own (value U+FFFD).
std::vector<CodePoint> Decode(std::string_view text) {
  std::vector<CodePoint> out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    uint32_t cp = 0xFFFD;
    size_t length = 1;
    if (byte < 0x80) {
      cp = byte;
    } else if ((byte >> 5) == 0x6) {
      length = 2;
      cp = byte & 0x1F;
    } else if ((byte >> 4) == 0xE) {
      length = 3;
      cp = byte & 0x0F;
    } else if ((byte >> 3) == 0x1E) {
      length = 4;
      cp = byte & 0x07;
    } else {
      length = 0;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next >> 6) != 0x2) valid = false;
      cp = (cp << 6) | (next & 0x3F);
    }
    if (!valid) {
      cp = 0xFFFD;
      length = 1;
    }
    out.push_back({cp, i});
    i += length;
  }
  return out;
}

int Utf16Units(uint32_t cp) { return cp >= 0x10000 ? 2 : 1; }

// Number of code points of the min-truncated prefix (Spark takes prefix_length UTF-16 units, never half a pair).
size_t MinPrefixCodePoints(const std::vector<CodePoint>& cps, int prefix_length, int& units) {
  units = 0;
  size_t count = 0;
  while (count < cps.size() && units < prefix_length) {
    units += Utf16Units(cps[count].value);
    ++count;
  }
  return count;
}

int TotalUnits(const std::vector<CodePoint>& cps) {
  int units = 0;
  for (const CodePoint& cp : cps) units += Utf16Units(cp.value);
  return units;
}

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  return fmt::format("{:04d}-{:02d}-{:02d}", y, m, d);
}

// Milliseconds precision, as Spark writes timestamp statistics (truncated towards negative infinity).
std::string FormatTimestamp(int64_t micros, bool utc) {
  int64_t millis = FloorDiv(micros, 1000);
  int64_t days = FloorDiv(millis, 86400000);
  int64_t rest = millis - days * 86400000;
  std::string out = FormatDate(days) +
                    fmt::format("T{:02d}:{:02d}:{:02d}.{:03d}", rest / 3600000, (rest / 60000) % 60,
                                (rest / 1000) % 60, rest % 1000);
  if (utc) out += 'Z';
  return out;
}

bool CollectsMinMax(TypeKind kind) {
  switch (kind) {
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
    case TypeKind::kFloat:
    case TypeKind::kDouble:
    case TypeKind::kDecimal:
    case TypeKind::kString:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      return true;
    default:
      return false;
  }
}

bool IsDecimalText(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  bool digits = false;
  bool dot = false;
  for (; i < text.size(); ++i) {
    if (text[i] >= '0' && text[i] <= '9') {
      digits = true;
    } else if (text[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits;
}

// Renders a bound as JSON text; nullopt when the value cannot be a bound (NaN, type mismatch, no tie-breaker fits).
Result<std::optional<std::string>> RenderBound(const StatsValue& value, const DataType& type, bool is_max,
                                               int prefix_length, std::string_view column) {
  if (std::holds_alternative<std::monostate>(value)) return std::optional<std::string>();
  auto mismatch = [&]() {
    return Error(ErrorCode::kTypeMismatch, "statistics value for column {} does not fit type {}", column,
                 type.ToString());
  };
  std::string out;
  switch (type.kind()) {
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
      if (!std::holds_alternative<int64_t>(value)) return mismatch();
      return std::optional<std::string>(std::to_string(std::get<int64_t>(value)));
    case TypeKind::kFloat:
    case TypeKind::kDouble: {
      double number = 0;
      if (std::holds_alternative<double>(value)) {
        number = std::get<double>(value);
      } else if (std::holds_alternative<int64_t>(value)) {
        number = static_cast<double>(std::get<int64_t>(value));
      } else {
        return mismatch();
      }
      if (!std::isfinite(number)) return std::optional<std::string>();
      if (type.kind() == TypeKind::kFloat) return std::optional<std::string>(fmt::format("{}", static_cast<float>(number)));
      return std::optional<std::string>(fmt::format("{}", number));
    }
    case TypeKind::kDecimal:
      if (std::holds_alternative<int64_t>(value)) return std::optional<std::string>(std::to_string(std::get<int64_t>(value)));
      if (!std::holds_alternative<std::string>(value) || !IsDecimalText(std::get<std::string>(value))) return mismatch();
      return std::optional<std::string>(std::get<std::string>(value));
    case TypeKind::kString: {
      if (!std::holds_alternative<std::string>(value)) return mismatch();
      const std::string& text = std::get<std::string>(value);
      std::optional<std::string> bound =
          is_max ? TruncateMaxString(text, prefix_length) : std::optional<std::string>(TruncateMinString(text, prefix_length));
      if (!bound) return std::optional<std::string>();
      AppendJsonString(out, *bound);
      return std::optional<std::string>(std::move(out));
    }
    case TypeKind::kDate:
      if (std::holds_alternative<int64_t>(value)) {
        AppendJsonString(out, FormatDate(std::get<int64_t>(value)));
      } else if (std::holds_alternative<std::string>(value)) {
        AppendJsonString(out, std::get<std::string>(value));
      } else {
        return mismatch();
      }
      return std::optional<std::string>(std::move(out));
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      if (std::holds_alternative<int64_t>(value)) {
        AppendJsonString(out, FormatTimestamp(std::get<int64_t>(value), type.kind() == TypeKind::kTimestamp));
      } else if (std::holds_alternative<std::string>(value)) {
        AppendJsonString(out, std::get<std::string>(value));
      } else {
        return mismatch();
      }
      return std::optional<std::string>(std::move(out));
    default:
      return std::optional<std::string>();
  }
}

// One JSON object level of minValues / maxValues / nullCount, in schema order.
struct StatsNode {
  std::string key;
  std::optional<std::string> value;  // rendered JSON for leaves
  std::vector<StatsNode> children;
};

void Render(const std::vector<StatsNode>& nodes, std::string& out) {
  out += '{';
  bool first = true;
  for (const StatsNode& node : nodes) {
    if (node.children.empty() && !node.value) continue;
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, node.key);
    out += ':';
    if (node.value) {
      out += *node.value;
    } else {
      Render(node.children, out);
    }
  }
  out += '}';
}

bool HasContent(const std::vector<StatsNode>& nodes) {
  for (const StatsNode& node : nodes) {
    if (node.value || HasContent(node.children)) return true;
  }
  return false;
}

std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& part : path) {
    if (!out.empty()) out += '.';
    out += part;
  }
  return out;
}

struct Builder {
  const StatsOptions& options;
  const std::map<std::string, const ColumnStatistics*>& by_path;
  int leaves_seen = 0;
  int leaves_used = 0;

  Status Walk(const std::vector<StructField>& fields, const std::string& prefix, std::vector<StatsNode>& mins,
              std::vector<StatsNode>& maxs, std::vector<StatsNode>& nulls, bool top_level) {
    for (const StructField& field : fields) {
      if (top_level) {
        bool is_partition = false;
        for (const std::string& column : options.partition_columns) is_partition |= column == field.name;
        if (is_partition) continue;
      }
      std::string key = options.use_physical_names ? field.PhysicalName() : field.name;
      std::string logical = prefix.empty() ? field.name : prefix + "." + field.name;
      if (field.type->kind() == TypeKind::kStruct) {
        StatsNode min_node{key, std::nullopt, {}};
        StatsNode max_node{key, std::nullopt, {}};
        StatsNode null_node{key, std::nullopt, {}};
        TARN_RETURN_IF_ERROR(Walk(field.type->fields(), logical, min_node.children, max_node.children,
                                  null_node.children, false));
        mins.push_back(std::move(min_node));
        maxs.push_back(std::move(max_node));
        nulls.push_back(std::move(null_node));
        continue;
      }
      ++leaves_seen;
      bool indexed = false;
      if (!options.stats_columns.empty()) {
        for (const std::string& column : options.stats_columns) {
          indexed |= column == logical || logical.starts_with(column + ".");
        }
      } else {
        indexed = options.num_indexed_columns < 0 || leaves_seen <= options.num_indexed_columns;
      }
      if (!indexed) continue;
      auto it = by_path.find(logical);
      if (it == by_path.end()) continue;
      ++leaves_used;
      const ColumnStatistics& stats = *it->second;
      nulls.push_back({key, std::to_string(stats.null_count), {}});
      if (!CollectsMinMax(field.type->kind())) continue;
      TARN_ASSIGN_OR_RETURN(std::optional<std::string> min,
                            RenderBound(stats.min, *field.type, false, options.string_prefix_length, logical));
      TARN_ASSIGN_OR_RETURN(std::optional<std::string> max,
                            RenderBound(stats.max, *field.type, true, options.string_prefix_length, logical));
      if (min) mins.push_back({key, std::move(min), {}});
      if (max) maxs.push_back({key, std::move(max), {}});
    }
    return Status::OK();
  }
};

bool ResolvePath(const std::vector<StructField>& fields, const std::vector<std::string>& path, size_t depth) {
  for (const StructField& field : fields) {
    if (field.name != path[depth]) continue;
    if (depth + 1 == path.size()) return field.type->kind() != TypeKind::kStruct;
    return field.type->kind() == TypeKind::kStruct && ResolvePath(field.type->fields(), path, depth + 1);
  }
  return false;
}

}  // namespace

Result<StatsOptions> StatsOptionsFromConfiguration(const std::map<std::string, std::string>& configuration) {
  StatsOptions options;
  if (auto it = configuration.find("delta.dataSkippingNumIndexedCols"); it != configuration.end()) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size() || value < -1) {
      return Error(ErrorCode::kInvalidParameterValue, "invalid delta.dataSkippingNumIndexedCols: {}", it->second);
    }
    options.num_indexed_columns = value;
  }
  if (auto it = configuration.find("delta.dataSkippingStatsColumns"); it != configuration.end()) {
    std::string_view rest = it->second;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item.size() >= 2 && item.front() == '`' && item.back() == '`') item = item.substr(1, item.size() - 2);
      if (!item.empty()) options.stats_columns.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (auto it = configuration.find("delta.columnMapping.mode"); it != configuration.end()) {
    options.use_physical_names = it->second == "name" || it->second == "id";
  }
  if (auto it = configuration.find("delta.enableDeletionVectors"); it != configuration.end()) {
    options.tight_bounds = it->second == "true";
  }
  return options;
}

std::string TruncateMinString(std::string_view value, int prefix_length) {
  std::vector<CodePoint> cps = Decode(value);
  if (TotalUnits(cps) <= prefix_length) return std::string(value);
  if (prefix_length <= 0) return "";
  int units = 0;
  size_t count = MinPrefixCodePoints(cps, prefix_length, units);
  return std::string(value.substr(0, count < cps.size() ? cps[count].offset : value.size()));
}

std::optional<std::string> TruncateMaxString(std::string_view value, int prefix_length) {
  std::vector<CodePoint> cps = Decode(value);
  if (TotalUnits(cps) <= prefix_length) return std::string(value);
  if (prefix_length <= 0) return std::nullopt;
  const int max_units = 2 * prefix_length;
  int units = 0;
  size_t count = MinPrefixCodePoints(cps, prefix_length, units);
  while (units <= max_units) {
    if (count >= cps.size()) return std::string(value);
    uint32_t next = cps[count].value;
    std::string prefix(value.substr(0, cps[count].offset));
    if (next == 0x10FFFF) {
      units += 2;
      ++count;
    } else if (next < 0x7F) {
      return prefix + '\x7F';
    } else {
      return prefix + "\xF4\x8F\xBF\xBF";  // U+10FFFF
    }
  }
  return std::nullopt;
}

Result<std::string> BuildStatsJson(const Schema& schema, int64_t num_records,
                                   const std::vector<ColumnStatistics>& columns, const StatsOptions& options) {
  std::map<std::string, const ColumnStatistics*> by_path;
  for (const ColumnStatistics& column : columns) {
    if (column.path.empty() || !ResolvePath(schema.fields(), column.path, 0)) {
      return Error(ErrorCode::kColumnNotFound, "statistics for unknown column {}", JoinPath(column.path));
    }
    by_path[JoinPath(column.path)] = &column;
  }
  std::vector<StatsNode> mins, maxs, nulls;
  Builder builder{options, by_path};
  TARN_RETURN_IF_ERROR(builder.Walk(schema.fields(), "", mins, maxs, nulls, true));
  std::string out = "{\"numRecords\":" + std::to_string(num_records);
  if (HasContent(mins)) {
    out += ",\"minValues\":";
    Render(mins, out);
  }
  if (HasContent(maxs)) {
    out += ",\"maxValues\":";
    Render(maxs, out);
  }
  if (HasContent(nulls)) {
    out += ",\"nullCount\":";
    Render(nulls, out);
  }
  if (options.tight_bounds) out += ",\"tightBounds\":true";
  out += '}';
  return out;
}

}  // namespace tarn::delta
