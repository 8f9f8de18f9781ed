// SPDX-License-Identifier: Apache-2.0
// Partition value parsing for every primitive Delta type.
#include "tarn/delta/partition_value.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace tarn::delta {
namespace {

Status Malformed(std::string_view raw, const DataType& type) {
  return Error(ErrorCode::kInvalidTextRepresentation, "invalid {} partition value: \"{}\"", type.ToString(), raw);
}

bool ParseInt64(std::string_view text, int64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

// Reads exactly `digits` decimal digits at `pos`.
bool ReadDigits(std::string_view text, size_t& pos, int digits, int64_t& out) {
  if (pos + static_cast<size_t>(digits) > text.size()) return false;
  out = 0;
  for (int i = 0; i < digits; ++i) {
    char c = text[pos + static_cast<size_t>(i)];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += static_cast<size_t>(digits);
  return true;
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool ValidDate(int64_t y, int64_t m, int64_t d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  int64_t limit = kDays[m - 1] + (m == 2 && IsLeapYear(y) ? 1 : 0);
  return d <= limit;
}

// Parses "YYYY-MM-DD" at the start of text; returns the position after it.
bool ParseDatePart(std::string_view text, size_t& pos, int64_t& days) {
  int64_t year = 0, month = 0, day = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
    negative = text[pos] == '-';
    ++pos;
  }
  size_t start = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  if (pos - start < 4 || pos - start > 6) return false;
  size_t year_pos = start;
  if (!ReadDigits(text, year_pos, static_cast<int>(pos - start), year)) return false;
  if (negative) year = -year;
  if (pos >= text.size() || text[pos] != '-') return false;
  ++pos;
  if (!ReadDigits(text, pos, 2, month) || pos >= text.size() || text[pos] != '-') return false;
  ++pos;
  if (!ReadDigits(text, pos, 2, day) || !ValidDate(year, month, day)) return false;
  days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return true;
}

// Parses timestamps: date [(' '|'T') HH:MM[:SS[.fraction]]] [Z | ±HH[:MM]]. Returns micros since epoch (UTC).
bool ParseTimestamp(std::string_view text, bool allow_zone, int64_t& micros) {
  size_t pos = 0;
  int64_t days = 0;
  if (!ParseDatePart(text, pos, days)) return false;
  int64_t hour = 0, minute = 0, second = 0, fraction_micros = 0;
  if (pos < text.size() && (text[pos] == ' ' || text[pos] == 'T')) {
    ++pos;
    if (!ReadDigits(text, pos, 2, hour) || pos >= text.size() || text[pos] != ':') return false;
    ++pos;
    if (!ReadDigits(text, pos, 2, minute)) return false;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!ReadDigits(text, pos, 2, second)) return false;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (digits < 6) fraction_micros = fraction_micros * 10 + (text[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0 || digits > 9) return false;
        for (int i = digits; i < 6; ++i) fraction_micros *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return false;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    if (!allow_zone) return false;
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      int64_t offset_hours = 0, offset_minutes = 0;
      if (!ReadDigits(text, pos, 2, offset_hours)) return false;
      if (pos < text.size() && text[pos] == ':') ++pos;
      if (pos < text.size() && !ReadDigits(text, pos, 2, offset_minutes)) return false;
      if (pos != text.size() || offset_hours > 18 || offset_minutes > 59) return false;
      offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60);
    } else {
      return false;
    }
  }
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;  // |days| < 4e8: no overflow
  // Six-digit years reach past the int64 microsecond range (about ±292,000 years): out of range, not overflow.
  return !__builtin_mul_overflow(seconds, int64_t{1000000}, &micros) &&
         !__builtin_add_overflow(micros, fraction_micros, &micros);
}

bool ParseDecimal(std::string_view text, int precision, int scale, Int128& out) {
  bool negative = false;
  size_t pos = 0;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
    negative = text[pos] == '-';
    ++pos;
  }
  Int128 value = 0;
  int integer_digits = 0;
  int fraction_digits = 0;
  bool seen_point = false;
  bool any_digit = false;
  int64_t exponent = 0;
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == '.') {
      if (seen_point) return false;
      seen_point = true;
      continue;
    }
    if (c == 'e' || c == 'E') {
      if (!ParseInt64(text.substr(pos + 1), exponent)) return false;
      pos = text.size();
      break;
    }
    if (c < '0' || c > '9') return false;
    any_digit = true;
    if (value > (std::numeric_limits<Int128>::max() / 10)) return false;
    value = value * 10 + (c - '0');
    if (seen_point) ++fraction_digits;
    else if (value != 0 || integer_digits > 0) ++integer_digits;
  }
  if (!any_digit) return false;
  // Zero is zero at any exponent; otherwise an exponent this large cannot fit 38 digits (and would loop for ages).
  if (value == 0) exponent = 0;
  if (exponent > 100 || exponent < -100) return false;
  int64_t shift = scale - fraction_digits + exponent;
  while (shift > 0) {
    if (value > (std::numeric_limits<Int128>::max() / 10)) return false;
    value *= 10;
    --shift;
  }
  while (shift < 0) {
    if (value % 10 != 0) return false;  // would lose digits: more scale than the type has
    value /= 10;
    ++shift;
  }
  Int128 limit = 1;
  for (int i = 0; i < precision; ++i) limit *= 10;
  if (value >= limit) return false;
  out = negative ? -value : value;
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  // Howard Hinnant's days_from_civil.
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Result<Scalar> ParsePartitionValue(std::optional<std::string_view> raw, const DataType& type) {
  Scalar scalar;
  scalar.kind = type.kind();
  scalar.precision = type.precision();
  scalar.scale = type.scale();
  if (!raw.has_value() || raw->empty()) return scalar;
  std::string_view text = *raw;
  scalar.is_null = false;
  switch (type.kind()) {
    case TypeKind::kString:
    case TypeKind::kBinary:
      scalar.string_value.assign(text);
      return scalar;
    case TypeKind::kBoolean:
      if (text == "true" || text == "TRUE" || text == "True") scalar.bool_value = true;
      else if (text == "false" || text == "FALSE" || text == "False") scalar.bool_value = false;
      else return Malformed(text, type);
      return scalar;
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong: {
      int64_t value = 0;
      if (!ParseInt64(text, value)) return Malformed(text, type);
      int64_t min = std::numeric_limits<int64_t>::min();
      int64_t max = std::numeric_limits<int64_t>::max();
      if (type.kind() == TypeKind::kByte) min = -128, max = 127;
      if (type.kind() == TypeKind::kShort) min = -32768, max = 32767;
      if (type.kind() == TypeKind::kInteger) min = std::numeric_limits<int32_t>::min(), max = std::numeric_limits<int32_t>::max();
      if (value < min || value > max) return Malformed(text, type);
      scalar.int_value = value;
      return scalar;
    }
    case TypeKind::kFloat:
    case TypeKind::kDouble: {
      if (text == "NaN") scalar.double_value = std::numeric_limits<double>::quiet_NaN();
      else if (text == "Infinity" || text == "+Infinity") scalar.double_value = std::numeric_limits<double>::infinity();
      else if (text == "-Infinity") scalar.double_value = -std::numeric_limits<double>::infinity();
      else {
        double value = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || ptr != text.data() + text.size()) return Malformed(text, type);
        scalar.double_value = type.kind() == TypeKind::kFloat ? static_cast<double>(static_cast<float>(value)) : value;
      }
      return scalar;
    }
    case TypeKind::kDate: {
      size_t pos = 0;
      int64_t days = 0;
      if (!ParseDatePart(text, pos, days) || pos != text.size()) return Malformed(text, type);
      scalar.int_value = days;
      return scalar;
    }
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz: {
      int64_t micros = 0;
      if (!ParseTimestamp(text, /*allow_zone=*/type.kind() == TypeKind::kTimestamp, micros)) {
        return Malformed(text, type);
      }
      scalar.int_value = micros;
      return scalar;
    }
    case TypeKind::kDecimal: {
      Int128 unscaled = 0;
      if (!ParseDecimal(text, type.precision(), type.scale(), unscaled)) return Malformed(text, type);
      scalar.decimal_unscaled = unscaled;
      return scalar;
    }
    case TypeKind::kVoid:
      scalar.is_null = true;
      return scalar;
    default:
      return Error(ErrorCode::kFeatureNotSupported, "partition columns of type {} are not supported", type.ToString());
  }
}

std::string PartitionValueKey(const std::map<std::string, std::string>& configuration, const Schema& schema,
                              std::string_view column) {
  auto mode = configuration.find("delta.columnMapping.mode");
  if (mode == configuration.end() || (mode->second != "name" && mode->second != "id")) return std::string(column);
  const StructField* field = schema.FindField(column);
  return field != nullptr ? field->PhysicalName() : std::string(column);
}

}  // namespace tarn::delta
