// SPDX-License-Identifier: Apache-2.0
// Formats values held in DuckDB vectors as DuckDB-CLI (VARCHAR cast) or PostgreSQL text output.
#include "tarn/engine/detail/value_format.hpp"
#include "tarn/engine/nested_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include <fmt/format.h>

namespace tarn::engine::detail {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;
constexpr int64_t kNanosPerMicro = 1000;

template <typename T>
const T& DataAt(duckdb_vector vector, idx_t row) {
  return static_cast<const T*>(duckdb_vector_get_data(vector))[row];
}

template <typename T>
void AppendInteger(std::string& out, T value) {
  std::array<char, 48> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  out.append(buf.data(), end);
}

// Appends the fraction of `value` (0 <= value < 10^digits) with `digits` digits, trailing zeros removed, with a
// leading '.', or nothing when it is zero.
void AppendFraction(std::string& out, int64_t value, int digits) {
  if (value == 0) return;
  std::string frac = fmt::format("{:0{}d}", value, digits);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  out += '.';
  out += frac;
}

// DuckDB and PostgreSQL print years <= 0 as BC years counted from 1 (year 0 is 1 BC).
void AppendDate(std::string& out, int32_t year, int8_t month, int8_t day, bool& bc) {
  bc = year <= 0;
  int64_t shown = bc ? 1 - static_cast<int64_t>(year) : year;
  out += fmt::format("{:04d}-{:02d}-{:02d}", shown, month, day);
}

void AppendTime(std::string& out, int64_t hours, int64_t minutes, int64_t seconds, int64_t fraction, int digits) {
  out += fmt::format("{:02d}:{:02d}:{:02d}", hours, minutes, seconds);
  AppendFraction(out, fraction, digits);
}

void AppendBcSuffix(std::string& out, bool bc, ValueStyle style) {
  if (bc) out += style == ValueStyle::kDuckDb ? " (BC)" : " BC";
}

void AppendDateValue(std::string& out, duckdb_date date, ValueStyle style) {
  if (!duckdb_is_finite_date(date)) {
    out += date.days > 0 ? "infinity" : "-infinity";
    return;
  }
  duckdb_date_struct d = duckdb_from_date(date);
  bool bc = false;
  AppendDate(out, d.year, d.month, d.day, bc);
  AppendBcSuffix(out, bc, style);
}

// Splits nanoseconds since the epoch into a date and a time of day (floor division for times before 1970).
void AppendTimestampNanos(std::string& out, int64_t seconds, int64_t sub_second, int digits, ValueStyle style,
                          bool with_offset) {
  int64_t days = seconds / 86400;
  int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    days -= 1;
  }
  duckdb_date_struct d = duckdb_from_date(duckdb_date{static_cast<int32_t>(days)});
  bool bc = false;
  AppendDate(out, d.year, d.month, d.day, bc);
  if (style == ValueStyle::kDuckDb) AppendBcSuffix(out, bc, style);
  out += ' ';
  AppendTime(out, second_of_day / 3600, (second_of_day / 60) % 60, second_of_day % 60, sub_second, digits);
  if (with_offset) out += "+00";
  if (style == ValueStyle::kPostgres) AppendBcSuffix(out, bc, style);
}

// seconds + sub-second part in units of 10^-digits, floor-normalised so that 0 <= sub_second.
void AppendTimestamp(std::string& out, int64_t value, int64_t units_per_second, int digits, ValueStyle style,
                     bool with_offset) {
  if (value == std::numeric_limits<int64_t>::max()) {
    out += "infinity";
    return;
  }
  if (value == -std::numeric_limits<int64_t>::max()) {
    out += "-infinity";
    return;
  }
  int64_t seconds = value / units_per_second;
  int64_t sub = value % units_per_second;
  if (sub < 0) {
    sub += units_per_second;
    seconds -= 1;
  }
  AppendTimestampNanos(out, seconds, sub, digits, style, with_offset);
}

void AppendOffset(std::string& out, int32_t offset_seconds) {
  out += offset_seconds < 0 ? '-' : '+';
  int32_t abs_offset = std::abs(offset_seconds);
  out += fmt::format("{:02d}", abs_offset / 3600);
  int32_t minutes = (abs_offset / 60) % 60;
  int32_t seconds = abs_offset % 60;
  if (minutes != 0 || seconds != 0) out += fmt::format(":{:02d}", minutes);
  if (seconds != 0) out += fmt::format(":{:02d}", seconds);
}

void AppendBlob(std::string& out, std::string_view bytes, ValueStyle style) {
  static constexpr char kHexUpper[] = "0123456789ABCDEF";
  static constexpr char kHexLower[] = "0123456789abcdef";
  if (style == ValueStyle::kPostgres) {
    out += "\\x";
    for (unsigned char c : bytes) {
      out += kHexLower[c >> 4];
      out += kHexLower[c & 0xF];
    }
    return;
  }
  for (unsigned char c : bytes) {
    bool regular = c >= 32 && c <= 126 && c != '\\' && c != '\'' && c != '"';
    if (regular) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 0xF];
    }
  }
}

void AppendBits(std::string& out, std::string_view bytes) {
  if (bytes.empty()) return;
  auto padding = static_cast<unsigned char>(bytes[0]);
  for (size_t i = 1; i < bytes.size(); i++) {
    auto byte = static_cast<unsigned char>(bytes[i]);
    for (int bit = 7; bit >= 0; bit--) {
      if (i == 1 && 7 - bit < padding) continue;
      out += (byte >> bit) & 1 ? '1' : '0';
    }
  }
}

void AppendUuid(std::string& out, const duckdb_hugeint& value) {
  uint64_t upper = static_cast<uint64_t>(value.upper) ^ (uint64_t{1} << 63);
  std::string hex = fmt::format("{:016x}{:016x}", upper, value.lower);
  out += hex.substr(0, 8);
  out += '-';
  out += hex.substr(8, 4);
  out += '-';
  out += hex.substr(12, 4);
  out += '-';
  out += hex.substr(16, 4);
  out += '-';
  out += hex.substr(20, 12);
}

Int128 ToInt128(const duckdb_hugeint& value) {
  return (static_cast<Int128>(value.upper) << 64) | static_cast<Int128>(value.lower);
}

Int128 DecimalAt(duckdb_vector vector, const LogicalType& type, idx_t row) {
  if (type.decimal_width <= 4) return DataAt<int16_t>(vector, row);
  if (type.decimal_width <= 9) return DataAt<int32_t>(vector, row);
  if (type.decimal_width <= 18) return DataAt<int64_t>(vector, row);
  return ToInt128(DataAt<duckdb_hugeint>(vector, row));
}

uint32_t EnumIndexAt(duckdb_vector vector, const LogicalType& type, idx_t row) {
  size_t size = type.enum_values.size();
  if (size <= std::numeric_limits<uint8_t>::max()) return DataAt<uint8_t>(vector, row);
  if (size <= std::numeric_limits<uint16_t>::max()) return DataAt<uint16_t>(vector, row);
  return DataAt<uint32_t>(vector, row);
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }


void AppendPgArrayElement(std::string& out, std::string_view text) {
  bool quote = text.empty() || EqualsNullIgnoreCase(text);
  for (char c : text) {
    if (c == '{' || c == '}' || c == ',' || c == '"' || c == '\\' || IsSpace(c)) quote = true;
  }
  if (!quote) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void AppendPgRecordField(std::string& out, std::string_view text) {
  bool quote = text.empty();
  for (char c : text) {
    if (c == '(' || c == ')' || c == ',' || c == '"' || c == '\\' || IsSpace(c)) quote = true;
  }
  if (!quote) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += c;
    out += c;
  }
  out += '"';
}

// Appends a child value inside a nested value in `style`.
void AppendChild(duckdb_vector vector, const LogicalType& type, idx_t row, ValueStyle style, std::string& out,
                 bool pg_record_field) {
  if (type.id == TypeId::kUnion && style == ValueStyle::kPostgres && IsValidAt(vector, row)) {
    // A union prints as its active member.
    uint8_t tag = DataAt<uint8_t>(duckdb_struct_vector_get_child(vector, 0), row);
    if (tag < type.children.size()) {
      AppendChild(duckdb_struct_vector_get_child(vector, tag + 1), type.children[tag].type, row, style, out,
                  pg_record_field);
      return;
    }
  }
  if (!IsValidAt(vector, row)) {
    if (!pg_record_field) out += "NULL";  // a NULL record field is empty
    return;
  }
  bool pg_list_child = style == ValueStyle::kPostgres && !pg_record_field &&
                       (type.id == TypeId::kList || type.id == TypeId::kArray);
  if (style == ValueStyle::kDuckDb && type.IsNested()) {  // unions included: DuckDB never quotes their members
    AppendValue(vector, type, row, style, out);
    return;
  }
  if (pg_list_child) {  // PostgreSQL nests arrays without quoting them
    AppendValue(vector, type, row, style, out);
    return;
  }
  std::string text;
  AppendValue(vector, type, row, style, text);
  if (style == ValueStyle::kDuckDb) {
    AppendDuckNestedText(out, text);
  } else if (pg_record_field) {
    AppendPgRecordField(out, text);
  } else {
    AppendPgArrayElement(out, text);
  }
}

void AppendList(duckdb_vector child, const LogicalType& child_type, uint64_t offset, uint64_t length,
                ValueStyle style, std::string& out) {
  out += style == ValueStyle::kDuckDb ? '[' : '{';
  for (uint64_t i = 0; i < length; i++) {
    if (i > 0) out += style == ValueStyle::kDuckDb ? ", " : ",";
    AppendChild(child, child_type, offset + i, style, out, false);
  }
  out += style == ValueStyle::kDuckDb ? ']' : '}';
}

void AppendStruct(duckdb_vector vector, const LogicalType& type, idx_t row, ValueStyle style, std::string& out) {
  if (style == ValueStyle::kDuckDb) {
    out += '{';
    for (size_t i = 0; i < type.children.size(); i++) {
      if (i > 0) out += ", ";
      out += '\'';
      for (char c : type.children[i].name) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      out += "': ";
      AppendChild(duckdb_struct_vector_get_child(vector, i), type.children[i].type, row, style, out, false);
    }
    out += '}';
    return;
  }
  out += '(';
  for (size_t i = 0; i < type.children.size(); i++) {
    if (i > 0) out += ',';
    AppendChild(duckdb_struct_vector_get_child(vector, i), type.children[i].type, row, style, out, true);
  }
  out += ')';
}

// Maps have no PostgreSQL counterpart: both styles print DuckDB's {key=value, ...}.
void AppendMap(duckdb_vector vector, const LogicalType& type, idx_t row, std::string& out) {
  const auto& entry = DataAt<duckdb_list_entry>(vector, row);
  duckdb_vector entries = duckdb_list_vector_get_child(vector);
  duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
  duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
  out += '{';
  for (uint64_t i = 0; i < entry.length; i++) {
    if (i > 0) out += ", ";
    AppendChild(keys, type.children[0].type, entry.offset + i, ValueStyle::kDuckDb, out, false);
    out += '=';
    AppendChild(values, type.children[1].type, entry.offset + i, ValueStyle::kDuckDb, out, false);
  }
  out += '}';
}

void AppendUnion(duckdb_vector vector, const LogicalType& type, idx_t row, ValueStyle style, std::string& out) {
  duckdb_vector tags = duckdb_struct_vector_get_child(vector, 0);
  uint8_t tag = DataAt<uint8_t>(tags, row);
  if (tag >= type.children.size()) return;
  duckdb_vector member = duckdb_struct_vector_get_child(vector, tag + 1);
  const LogicalType& member_type = type.children[tag].type;
  if (!IsValidAt(member, row)) {
    out += "NULL";
    return;
  }
  AppendValue(member, member_type, row, style, out);
}

}  // namespace

bool IsValidAt(duckdb_vector vector, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vector);
  return validity == nullptr || duckdb_validity_row_is_valid(validity, row);
}

std::string_view StringAt(duckdb_vector vector, idx_t row) {
  auto* strings = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
  duckdb_string_t* s = &strings[row];
  return std::string_view(duckdb_string_t_data(s), duckdb_string_t_length(*s));
}

std::string FormatInt128(Int128 value) {
  if (value >= 0) return FormatUInt128(static_cast<UInt128>(value));
  // Negate as unsigned so that the minimum value does not overflow.
  return "-" + FormatUInt128(static_cast<UInt128>(0) - static_cast<UInt128>(value));
}

std::string FormatUInt128(UInt128 value) {
  if (value == 0) return "0";
  std::string digits;
  while (value > 0) {
    digits += static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string FormatDecimal(Int128 value, uint8_t scale) {
  bool negative = value < 0;
  UInt128 magnitude =
      negative ? static_cast<UInt128>(0) - static_cast<UInt128>(value)
               : static_cast<UInt128>(value);
  std::string digits = FormatUInt128(magnitude);
  if (scale > 0) {
    if (digits.size() <= scale) digits.insert(0, scale - digits.size() + 1, '0');
    digits.insert(digits.size() - scale, 1, '.');
  }
  return negative ? "-" + digits : digits;
}

// Appends shortest round-trip digits laid out like printf's %g family: exponent form when the decimal exponent is
// below -4 or at least `max_fixed_exponent`. Works on a stack buffer: no allocation besides `out` growing.
template <typename T>
void AppendShortest(std::string& out, T value, int max_fixed_exponent, bool force_decimal_point) {
  std::array<char, 64> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::scientific);
  const char* p = buf.data();
  if (*p == '-') {
    out += '-';
    p++;
  }
  // Mantissa digits without the point: d[.ddd]e[+-]xx
  std::array<char, 32> digits;
  size_t ndigits = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') digits[ndigits++] = *p;
    p++;
  }
  int exponent = 0;
  if (p < end) std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), end, exponent);
  const char* d = digits.data();
  if (exponent < -4 || exponent >= max_fixed_exponent) {
    out += d[0];
    if (ndigits > 1) {
      out += '.';
      out.append(d + 1, ndigits - 1);
    }
    int magnitude = exponent < 0 ? -exponent : exponent;
    out += 'e';
    out += exponent < 0 ? '-' : '+';
    if (magnitude < 10) out += '0';
    AppendInteger(out, magnitude);
    return;
  }
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out.append(d, ndigits);
    return;
  }
  size_t int_digits = static_cast<size_t>(exponent) + 1;
  if (ndigits <= int_digits) {
    out.append(d, ndigits);
    out.append(int_digits - ndigits, '0');
    if (force_decimal_point) out += ".0";
    return;
  }
  out.append(d, int_digits);
  out += '.';
  out.append(d + int_digits, ndigits - int_digits);
}

template <typename T>
void AppendFloating(std::string& out, T value, ValueStyle style, int pg_max_fixed_exponent) {
  if (std::isnan(value)) {
    out += style == ValueStyle::kDuckDb ? "nan" : "NaN";
    return;
  }
  if (std::isinf(value)) {
    if (style == ValueStyle::kDuckDb) {
      out += value > 0 ? "inf" : "-inf";
    } else {
      out += value > 0 ? "Infinity" : "-Infinity";
    }
    return;
  }
  if (style == ValueStyle::kDuckDb) {
    AppendShortest(out, value, 16, true);
  } else {
    AppendShortest(out, value, pg_max_fixed_exponent, false);
  }
}

template <typename T>
std::string FormatFloating(T value, ValueStyle style, int pg_max_fixed_exponent) {
  std::string out;
  AppendFloating(out, value, style, pg_max_fixed_exponent);
  return out;
}

std::string FormatDouble(double value, ValueStyle style) { return FormatFloating(value, style, 15); }
std::string FormatFloat(float value, ValueStyle style) { return FormatFloating(value, style, 6); }

std::string FormatInterval(int32_t months, int32_t days, int64_t micros, ValueStyle style) {
  std::string out;
  int32_t years = months / 12;
  int32_t mons = months % 12;
  if (style == ValueStyle::kDuckDb) {
    auto add = [&](int64_t value, const char* unit) {
      if (value == 0) return;
      if (!out.empty()) out += ' ';
      out += fmt::format("{} {}{}", value, unit, (value == 1 || value == -1) ? "" : "s");
    };
    add(years, "year");
    add(mons, "month");
    add(days, "day");
    if (micros != 0 || out.empty()) {
      if (!out.empty()) out += ' ';
      uint64_t abs_micros = micros < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(micros)
                                       : static_cast<uint64_t>(micros);
      if (micros < 0) out += '-';
      out += fmt::format("{:02d}:{:02d}:{:02d}", abs_micros / kMicrosPerHour, (abs_micros / kMicrosPerMinute) % 60,
                         (abs_micros / kMicrosPerSecond) % 60);
      AppendFraction(out, static_cast<int64_t>(abs_micros % kMicrosPerSecond), 6);
    }
    return out;
  }
  // PostgreSQL's IntervalStyle 'postgres' (EncodeInterval): "+" marks a positive field after a negative one.
  bool is_zero = true;
  bool is_before = false;
  auto add = [&](int64_t value, const char* unit) {
    if (value == 0) return;
    out += fmt::format("{}{}{} {}{}", is_zero ? "" : " ", (is_before && value > 0) ? "+" : "", value, unit,
                       value != 1 ? "s" : "");
    is_before = value < 0;
    is_zero = false;
  };
  add(years, "year");
  add(mons, "mon");
  add(days, "day");
  if (is_zero || micros != 0) {
    bool minus = micros < 0;
    uint64_t abs_micros =
        minus ? static_cast<uint64_t>(0) - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
    out += fmt::format("{}{}{:02d}:{:02d}:{:02d}", is_zero ? "" : " ", minus ? "-" : (is_before ? "+" : ""),
                       abs_micros / kMicrosPerHour, (abs_micros / kMicrosPerMinute) % 60,
                       (abs_micros / kMicrosPerSecond) % 60);
    AppendFraction(out, static_cast<int64_t>(abs_micros % kMicrosPerSecond), 6);
  }
  return out;
}

// DuckDB's BIGNUM (VARINT) layout: a 3-byte header (bit 23 set = non-negative, low bits = payload size), then the
// magnitude big-endian; for negative numbers every byte, header included, is inverted.
std::string FormatBigNum(std::string_view bytes) {
  if (bytes.size() < 3) return "0";
  bool negative = (static_cast<unsigned char>(bytes[0]) & 0x80) == 0;
  std::vector<uint32_t> magnitude;  // base 2^8 digits, most significant first
  for (size_t i = 3; i < bytes.size(); i++) {
    auto byte = static_cast<unsigned char>(bytes[i]);
    magnitude.push_back(negative ? static_cast<unsigned char>(~byte) : byte);
  }
  // Repeated division by 10^9 turns the base-256 digits into base-10^9 chunks.
  std::vector<uint32_t> chunks;
  while (!magnitude.empty()) {
    uint64_t remainder = 0;
    std::vector<uint32_t> quotient;
    for (uint32_t digit : magnitude) {
      uint64_t current = (remainder << 8) | digit;
      uint32_t q = static_cast<uint32_t>(current / 1000000000ULL);
      remainder = current % 1000000000ULL;
      if (!quotient.empty() || q != 0) quotient.push_back(q);
    }
    chunks.push_back(static_cast<uint32_t>(remainder));
    magnitude = std::move(quotient);
  }
  if (chunks.empty()) return "0";
  std::string out = negative ? "-" : "";
  out += std::to_string(chunks.back());
  for (size_t i = chunks.size() - 1; i-- > 0;) out += fmt::format("{:09d}", chunks[i]);
  return out;
}

void AppendValue(duckdb_vector vector, const LogicalType& type, idx_t row, ValueStyle style, std::string& out) {
  const bool pg = style == ValueStyle::kPostgres;
  switch (type.id) {
    case TypeId::kBoolean:
      out += DataAt<bool>(vector, row) ? (pg ? "t" : "true") : (pg ? "f" : "false");
      return;
    case TypeId::kTinyInt: AppendInteger(out, DataAt<int8_t>(vector, row)); return;
    case TypeId::kSmallInt: AppendInteger(out, DataAt<int16_t>(vector, row)); return;
    case TypeId::kInteger: AppendInteger(out, DataAt<int32_t>(vector, row)); return;
    case TypeId::kBigInt: AppendInteger(out, DataAt<int64_t>(vector, row)); return;
    case TypeId::kUTinyInt: AppendInteger(out, DataAt<uint8_t>(vector, row)); return;
    case TypeId::kUSmallInt: AppendInteger(out, DataAt<uint16_t>(vector, row)); return;
    case TypeId::kUInteger: AppendInteger(out, DataAt<uint32_t>(vector, row)); return;
    case TypeId::kUBigInt: AppendInteger(out, DataAt<uint64_t>(vector, row)); return;
    case TypeId::kHugeInt: out += FormatInt128(ToInt128(DataAt<duckdb_hugeint>(vector, row))); return;
    case TypeId::kUHugeInt: {
      const auto& v = DataAt<duckdb_uhugeint>(vector, row);
      out += FormatUInt128((static_cast<UInt128>(v.upper) << 64) | v.lower);
      return;
    }
    case TypeId::kFloat: AppendFloating(out, DataAt<float>(vector, row), style, 6); return;
    case TypeId::kDouble: AppendFloating(out, DataAt<double>(vector, row), style, 15); return;
    case TypeId::kDecimal: out += FormatDecimal(DecimalAt(vector, type, row), type.decimal_scale); return;
    case TypeId::kDate: AppendDateValue(out, DataAt<duckdb_date>(vector, row), style); return;
    case TypeId::kTime: {
      duckdb_time_struct t = duckdb_from_time(DataAt<duckdb_time>(vector, row));
      AppendTime(out, t.hour, t.min, t.sec, t.micros, 6);
      return;
    }
    case TypeId::kTimeNs: {
      int64_t nanos = DataAt<int64_t>(vector, row);
      int64_t seconds = nanos / 1000000000;
      AppendTime(out, seconds / 3600, (seconds / 60) % 60, seconds % 60, nanos % 1000000000, 9);
      return;
    }
    case TypeId::kTimeTz: {
      duckdb_time_tz_struct t = duckdb_from_time_tz(DataAt<duckdb_time_tz>(vector, row));
      AppendTime(out, t.time.hour, t.time.min, t.time.sec, t.time.micros, 6);
      AppendOffset(out, t.offset);
      return;
    }
    case TypeId::kTimestamp:
      AppendTimestamp(out, DataAt<int64_t>(vector, row), kMicrosPerSecond, 6, style, false);
      return;
    case TypeId::kTimestampTz:
      AppendTimestamp(out, DataAt<int64_t>(vector, row), kMicrosPerSecond, 6, style, true);
      return;
    case TypeId::kTimestampS: AppendTimestamp(out, DataAt<int64_t>(vector, row), 1, 0, style, false); return;
    case TypeId::kTimestampMs: AppendTimestamp(out, DataAt<int64_t>(vector, row), 1000, 3, style, false); return;
    case TypeId::kTimestampNs:
      AppendTimestamp(out, DataAt<int64_t>(vector, row), kMicrosPerSecond * kNanosPerMicro, 9, style, false);
      return;
    case TypeId::kInterval: {
      const auto& v = DataAt<duckdb_interval>(vector, row);
      out += FormatInterval(v.months, v.days, v.micros, style);
      return;
    }
    case TypeId::kVarchar:
    case TypeId::kStringLiteral:
      out += StringAt(vector, row);
      return;
    case TypeId::kBlob: AppendBlob(out, StringAt(vector, row), style); return;
    case TypeId::kBit: AppendBits(out, StringAt(vector, row)); return;
    case TypeId::kBigNum: out += FormatBigNum(StringAt(vector, row)); return;
    case TypeId::kUuid: AppendUuid(out, DataAt<duckdb_hugeint>(vector, row)); return;
    case TypeId::kEnum: {
      uint32_t index = EnumIndexAt(vector, type, row);
      if (index < type.enum_values.size()) out += type.enum_values[index];
      return;
    }
    case TypeId::kList: {
      const auto& entry = DataAt<duckdb_list_entry>(vector, row);
      AppendList(duckdb_list_vector_get_child(vector), type.children[0].type, entry.offset, entry.length, style,
                 out);
      return;
    }
    case TypeId::kArray:
      AppendList(duckdb_array_vector_get_child(vector), type.children[0].type, row * type.array_size,
                 type.array_size, style, out);
      return;
    case TypeId::kStruct: AppendStruct(vector, type, row, style, out); return;
    case TypeId::kMap: AppendMap(vector, type, row, out); return;
    case TypeId::kUnion: AppendUnion(vector, type, row, style, out); return;
    case TypeId::kIntegerLiteral: AppendInteger(out, DataAt<int64_t>(vector, row)); return;
    case TypeId::kSqlNull:
    case TypeId::kAny:
    case TypeId::kInvalid:
      out += "NULL";
      return;
  }
}

namespace {

bool ValidAt(const uint64_t* validity, idx_t row) {
  return validity == nullptr || ((validity[row / 64] >> (row % 64)) & 1) != 0;
}

// Integers of one column: std::to_chars straight into `text`, grown once per call.
template <typename T>
void AppendIntegerColumn(const T* values, const uint64_t* validity, idx_t begin, idx_t end, std::string& text,
                         std::vector<int32_t>& lengths) {
  constexpr size_t kMaxDigits = 21;  // sign + 20 digits of a 64-bit value
  size_t pos = text.size();
  text.resize(pos + (end - begin) * kMaxDigits);
  char* base = text.data();
  for (idx_t r = begin; r < end; r++) {
    if (!ValidAt(validity, r)) {
      lengths.push_back(-1);
      continue;
    }
    char* first = base + pos;
    auto [last, ec] = std::to_chars(first, first + kMaxDigits, values[r]);
    lengths.push_back(static_cast<int32_t>(last - first));
    pos = static_cast<size_t>(last - base);
  }
  text.resize(pos);
}

}  // namespace

void AppendColumn(duckdb_vector vector, const void* data, const uint64_t* validity, const LogicalType& type,
                  idx_t begin, idx_t end, ValueStyle style, std::string& text, std::vector<int32_t>& lengths) {
  switch (type.id) {
    case TypeId::kTinyInt:
      return AppendIntegerColumn(static_cast<const int8_t*>(data), validity, begin, end, text, lengths);
    case TypeId::kSmallInt:
      return AppendIntegerColumn(static_cast<const int16_t*>(data), validity, begin, end, text, lengths);
    case TypeId::kInteger:
      return AppendIntegerColumn(static_cast<const int32_t*>(data), validity, begin, end, text, lengths);
    case TypeId::kBigInt:
      return AppendIntegerColumn(static_cast<const int64_t*>(data), validity, begin, end, text, lengths);
    case TypeId::kUTinyInt:
      return AppendIntegerColumn(static_cast<const uint8_t*>(data), validity, begin, end, text, lengths);
    case TypeId::kUSmallInt:
      return AppendIntegerColumn(static_cast<const uint16_t*>(data), validity, begin, end, text, lengths);
    case TypeId::kUInteger:
      return AppendIntegerColumn(static_cast<const uint32_t*>(data), validity, begin, end, text, lengths);
    case TypeId::kUBigInt:
      return AppendIntegerColumn(static_cast<const uint64_t*>(data), validity, begin, end, text, lengths);
    case TypeId::kVarchar: {
      const auto* strings = static_cast<const duckdb_string_t*>(data);
      for (idx_t r = begin; r < end; r++) {
        if (!ValidAt(validity, r)) {
          lengths.push_back(-1);
          continue;
        }
        const duckdb_string_t& s = strings[r];
        uint32_t length = s.value.inlined.length;
        text.append(length <= 12 ? s.value.inlined.inlined : s.value.pointer.ptr, length);
        lengths.push_back(static_cast<int32_t>(length));
      }
      return;
    }
    case TypeId::kDouble: {
      const auto* values = static_cast<const double*>(data);
      for (idx_t r = begin; r < end; r++) {
        if (!ValidAt(validity, r)) {
          lengths.push_back(-1);
          continue;
        }
        size_t before = text.size();
        AppendFloating(text, values[r], style, 15);
        lengths.push_back(static_cast<int32_t>(text.size() - before));
      }
      return;
    }
    default:
      for (idx_t r = begin; r < end; r++) {
        if (!ValidAt(validity, r)) {
          lengths.push_back(-1);
          continue;
        }
        size_t before = text.size();
        AppendValue(vector, type, r, style, text);
        lengths.push_back(static_cast<int32_t>(text.size() - before));
      }
      return;
  }
}

}  // namespace tarn::engine::detail

namespace tarn::engine {

bool EqualsNullIgnoreCase(std::string_view text) {
  return text.size() == 4 && (text[0] == 'n' || text[0] == 'N') && (text[1] == 'u' || text[1] == 'U') &&
         (text[2] == 'l' || text[2] == 'L') && (text[3] == 'l' || text[3] == 'L');
}

void AppendDuckNestedText(std::string& out, std::string_view text) {
  bool quote = text.empty() || EqualsNullIgnoreCase(text) || detail::IsSpace(text.front()) || detail::IsSpace(text.back());
  for (char c : text) {
    if (std::strchr(",'\"[](){}:=", c) != nullptr && c != '\0') quote = true;
  }
  if (!quote) {
    out += text;
    return;
  }
  out += '\'';
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

}  // namespace tarn::engine
