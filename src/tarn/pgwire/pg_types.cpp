// SPDX-License-Identifier: Apache-2.0
// PostgreSQL type mapping and value codecs: text via the engine's PostgreSQL style, binary per PostgreSQL's send().
#include "tarn/pgwire/pg_types.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "tarn/pgwire/protocol.hpp"

namespace tarn::pgwire {
namespace {

using engine::TypeId;

constexpr int64_t kPgEpochDays = 10957;                     // 2000-01-01 - 1970-01-01
constexpr int64_t kPgEpochMicros = 946684800000000LL;       // same, in microseconds
constexpr int64_t kMicrosPerDay = 86400000000LL;

int32_t ArrayOidOf(int32_t element) {
  switch (element) {
    case oid::kBool: return 1000;
    case oid::kBytea: return 1001;
    case oid::kInt8: return 1016;
    case oid::kInt2: return 1005;
    case oid::kInt4: return 1007;
    case oid::kText: return 1009;
    case oid::kJson: return 199;
    case oid::kFloat4: return 1021;
    case oid::kFloat8: return 1022;
    case oid::kVarchar: return 1015;
    case oid::kDate: return 1182;
    case oid::kTime: return 1183;
    case oid::kTimestamp: return 1115;
    case oid::kTimestampTz: return 1185;
    case oid::kInterval: return 1187;
    case oid::kTimeTz: return 1270;
    case oid::kNumeric: return 1231;
    case oid::kUuid: return 2951;
    default: return 1009;
  }
}

Status BadBinary(std::string_view what) {
  return Error(ErrorCode::kInvalidBinaryRepresentation, "incorrect binary data format: {}", what);
}

// days since 1970-01-01 -> civil date (proleptic Gregorian).
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
  if (m <= 2) y += 1;
}

void AppendTimeOfDay(std::string& out, int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  out += fmt::format("{:02d}:{:02d}:{:02d}", secs / 3600, (secs / 60) % 60, secs % 60);
  if (frac != 0) {
    std::string f = fmt::format("{:06d}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += '.';
    out += f;
  }
}

}  // namespace

std::string FormatDateDays(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  if (y <= 0) return fmt::format("{:04d}-{:02d}-{:02d} BC", 1 - y, m, d);
  return fmt::format("{:04d}-{:02d}-{:02d}", y, m, d);
}

std::string FormatTimestampMicros(int64_t micros) {
  if (micros == std::numeric_limits<int64_t>::max()) return "infinity";
  if (micros == std::numeric_limits<int64_t>::min() || micros == -std::numeric_limits<int64_t>::max()) {
    return "-infinity";
  }
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    days -= 1;
  }
  std::string out = FormatDateDays(days);
  bool bc = out.size() > 3 && out.compare(out.size() - 3, 3, " BC") == 0;
  if (bc) out.resize(out.size() - 3);
  out += ' ';
  AppendTimeOfDay(out, rest);
  if (bc) out += " BC";
  return out;
}

PgTypeInfo PgTypeOf(const engine::LogicalType& type) {
  switch (type.id) {
    case TypeId::kBoolean: return {oid::kBool, 1, -1};
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt: return {oid::kInt2, 2, -1};
    case TypeId::kInteger:
    case TypeId::kUSmallInt: return {oid::kInt4, 4, -1};
    case TypeId::kBigInt:
    case TypeId::kUInteger: return {oid::kInt8, 8, -1};
    case TypeId::kFloat: return {oid::kFloat4, 4, -1};
    case TypeId::kDouble: return {oid::kFloat8, 8, -1};
    case TypeId::kDecimal:
      return {oid::kNumeric, -1, ((static_cast<int32_t>(type.decimal_width) << 16) | type.decimal_scale) + 4};
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt:
    case TypeId::kUBigInt:
    case TypeId::kBigNum: return {oid::kNumeric, -1, -1};
    case TypeId::kVarchar:
      if (type.alias == "JSON") return {oid::kJson, -1, -1};
      return {oid::kText, -1, -1};
    case TypeId::kBlob: return {oid::kBytea, -1, -1};
    case TypeId::kDate: return {oid::kDate, 4, -1};
    case TypeId::kTime:
    case TypeId::kTimeNs: return {oid::kTime, 8, -1};
    case TypeId::kTimeTz: return {oid::kTimeTz, 12, -1};
    case TypeId::kTimestamp:
    case TypeId::kTimestampS:
    case TypeId::kTimestampMs:
    case TypeId::kTimestampNs: return {oid::kTimestamp, 8, -1};
    case TypeId::kTimestampTz: return {oid::kTimestampTz, 8, -1};
    case TypeId::kInterval: return {oid::kInterval, 16, -1};
    case TypeId::kUuid: return {oid::kUuid, 16, -1};
    case TypeId::kList:
    case TypeId::kArray:
      if (!type.children.empty()) {
        const engine::LogicalType* element = &type.children[0].type;
        while ((element->id == TypeId::kList || element->id == TypeId::kArray) && !element->children.empty()) {
          element = &element->children[0].type;
        }
        return {ArrayOidOf(PgTypeOf(*element).oid), -1, -1};
      }
      return {1009, -1, -1};
    default: return {oid::kText, -1, -1};
  }
}

bool BinarySupported(const engine::LogicalType& type) {
  switch (type.id) {
    case TypeId::kBoolean:
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt:
    case TypeId::kInteger:
    case TypeId::kUSmallInt:
    case TypeId::kBigInt:
    case TypeId::kUInteger:
    case TypeId::kFloat:
    case TypeId::kDouble:
    case TypeId::kDecimal:
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt:
    case TypeId::kUBigInt:
    case TypeId::kBlob:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
    case TypeId::kUuid:
      return true;
    case TypeId::kVarchar:
      return true;  // text and json
    default:
      return false;
  }
}

void AppendText(const engine::Chunk& chunk, size_t col, size_t row, std::string& out) {
  const engine::LogicalType& type = chunk.column_type(col);
  switch (type.id) {
    case TypeId::kBoolean:
      out += chunk.GetBool(col, row) ? 't' : 'f';
      return;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt:
    case TypeId::kUTinyInt:
    case TypeId::kUSmallInt:
    case TypeId::kUInteger: {
      std::array<char, 24> buf;
      auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), chunk.GetInt64(col, row));
      out.append(buf.data(), end);
      return;
    }
    case TypeId::kVarchar:
      out += chunk.GetString(col, row);
      return;
    default:
      chunk.AppendValue(col, row, engine::ValueStyle::kPostgres, out);
      return;
  }
}

void AppendBinary(const engine::Chunk& chunk, size_t col, size_t row, std::string& out) {
  const engine::LogicalType& type = chunk.column_type(col);
  switch (type.id) {
    case TypeId::kBoolean:
      out += chunk.GetBool(col, row) ? '\1' : '\0';
      return;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt:
      AppendInt16(out, static_cast<int16_t>(chunk.GetInt64(col, row)));
      return;
    case TypeId::kInteger:
    case TypeId::kUSmallInt:
      AppendInt32(out, static_cast<int32_t>(chunk.GetInt64(col, row)));
      return;
    case TypeId::kBigInt:
    case TypeId::kUInteger:
      AppendInt64(out, chunk.GetInt64(col, row));
      return;
    case TypeId::kFloat: {
      float f = static_cast<float>(chunk.GetDouble(col, row));
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      AppendInt32(out, static_cast<int32_t>(bits));
      return;
    }
    case TypeId::kDouble: {
      double d = chunk.GetDouble(col, row);
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      AppendInt64(out, static_cast<int64_t>(bits));
      return;
    }
    case TypeId::kVarchar:
    case TypeId::kBlob:
      out += chunk.GetString(col, row);
      return;
    case TypeId::kDate: {
      int64_t days = chunk.GetDateDays(col, row);
      int32_t value = days == std::numeric_limits<int32_t>::max()    ? std::numeric_limits<int32_t>::max()
                      : days == -std::numeric_limits<int32_t>::max() ? std::numeric_limits<int32_t>::min()
                                                                     : static_cast<int32_t>(days - kPgEpochDays);
      AppendInt32(out, value);
      return;
    }
    case TypeId::kTime:
      AppendInt64(out, chunk.GetMicros(col, row));
      return;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      int64_t micros = chunk.GetMicros(col, row);
      if (micros == std::numeric_limits<int64_t>::max()) {
        AppendInt64(out, micros);
      } else if (micros <= -std::numeric_limits<int64_t>::max()) {
        AppendInt64(out, std::numeric_limits<int64_t>::min());
      } else {
        AppendInt64(out, micros - kPgEpochMicros);
      }
      return;
    }
    case TypeId::kUuid: {
      std::string text = chunk.FormatValue(col, row, engine::ValueStyle::kPostgres);
      std::string hex;
      for (char c : text) {
        if (c != '-') hex += c;
      }
      for (size_t i = 0; i + 1 < hex.size() && i < 32; i += 2) {
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
      }
      return;
    }
    default: {  // numeric family
      auto bin = NumericTextToBinary(chunk.FormatValue(col, row, engine::ValueStyle::kPostgres));
      if (bin.ok()) {
        out += *bin;
      } else {
        AppendInt16(out, 0);
        AppendInt16(out, 0);
        AppendInt16(out, static_cast<int16_t>(0xC000));  // NaN: the value could not be represented
        AppendInt16(out, 0);
      }
      return;
    }
  }
}

Result<std::string> NumericTextToBinary(std::string_view text) {
  std::string out;
  auto header = [&](int16_t ndigits, int16_t weight, uint16_t sign, int16_t dscale) {
    AppendInt16(out, ndigits);
    AppendInt16(out, weight);
    AppendInt16(out, static_cast<int16_t>(sign));
    AppendInt16(out, dscale);
  };
  if (text == "NaN") {
    header(0, 0, 0xC000, 0);
    return out;
  }
  if (text == "Infinity") {
    header(0, 0, 0xD000, 0);
    return out;
  }
  if (text == "-Infinity") {
    header(0, 0, 0xF000, 0);
    return out;
  }
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  size_t dot = text.find('.');
  std::string_view int_part = text.substr(0, dot);
  std::string_view frac_part = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) {
    return Error(ErrorCode::kInvalidTextRepresentation, "invalid input syntax for type numeric: \"{}\"", text);
  }
  for (char c : int_part) {
    if (c < '0' || c > '9') {
      return Error(ErrorCode::kInvalidTextRepresentation, "invalid input syntax for type numeric: \"{}\"", text);
    }
  }
  for (char c : frac_part) {
    if (c < '0' || c > '9') {
      return Error(ErrorCode::kInvalidTextRepresentation, "invalid input syntax for type numeric: \"{}\"", text);
    }
  }
  if (frac_part.size() > 16383) return Error(ErrorCode::kNumericOverflow, "numeric scale too large");
  std::string ip(int_part);
  ip.insert(0, (4 - ip.size() % 4) % 4, '0');
  std::string fp(frac_part);
  fp.append((4 - fp.size() % 4) % 4, '0');
  std::vector<int16_t> digits;
  for (size_t i = 0; i < ip.size(); i += 4) digits.push_back(static_cast<int16_t>(std::stoi(ip.substr(i, 4))));
  for (size_t i = 0; i < fp.size(); i += 4) digits.push_back(static_cast<int16_t>(std::stoi(fp.substr(i, 4))));
  int weight = static_cast<int>(ip.size() / 4) - 1;
  size_t first = 0;
  while (first < digits.size() && digits[first] == 0) {
    first++;
    weight--;
  }
  size_t last = digits.size();
  while (last > first && digits[last - 1] == 0) last--;
  if (first == last) {
    header(0, 0, 0, static_cast<int16_t>(frac_part.size()));
    return out;
  }
  if (weight > 32767 || weight < -32768) return Error(ErrorCode::kNumericOverflow, "numeric value out of range");
  header(static_cast<int16_t>(last - first), static_cast<int16_t>(weight), negative ? 0x4000 : 0,
         static_cast<int16_t>(frac_part.size()));
  for (size_t i = first; i < last; i++) AppendInt16(out, digits[i]);
  return out;
}

Result<std::string> NumericBinaryToText(std::string_view bytes) {
  if (bytes.size() < 8) return BadBinary("numeric header");
  int16_t ndigits = ReadInt16(bytes.data());
  int16_t weight = ReadInt16(bytes.data() + 2);
  auto sign = static_cast<uint16_t>(ReadInt16(bytes.data() + 4));
  int16_t dscale = ReadInt16(bytes.data() + 6);
  if (ndigits < 0 || dscale < 0 || bytes.size() != 8 + 2 * static_cast<size_t>(ndigits)) {
    return BadBinary("numeric length");
  }
  if (sign == 0xC000) return std::string("NaN");
  if (sign == 0xD000) return std::string("Infinity");
  if (sign == 0xF000) return std::string("-Infinity");
  if (sign != 0 && sign != 0x4000) return BadBinary("numeric sign");
  std::vector<int> digits(static_cast<size_t>(ndigits));
  for (int i = 0; i < ndigits; i++) {
    digits[static_cast<size_t>(i)] = ReadInt16(bytes.data() + 8 + 2 * i);
    if (digits[static_cast<size_t>(i)] < 0 || digits[static_cast<size_t>(i)] > 9999) return BadBinary("numeric digit");
  }
  auto digit_at = [&](int i) { return i >= 0 && i < ndigits ? digits[static_cast<size_t>(i)] : 0; };
  std::string out;
  if (sign == 0x4000) out += '-';
  if (weight < 0) {
    out += '0';
  } else {
    if (weight > 10000) return BadBinary("numeric weight");
    out += std::to_string(digit_at(0));
    for (int i = 1; i <= weight; i++) out += fmt::format("{:04d}", digit_at(i));
  }
  if (dscale > 0) {
    std::string frac;
    for (int i = weight + 1; static_cast<int>(frac.size()) < dscale; i++) frac += fmt::format("{:04d}", digit_at(i));
    frac.resize(static_cast<size_t>(dscale));
    out += '.';
    out += frac;
  }
  return out;
}

Result<engine::ParamValue> DecodeParam(int32_t type_oid, bool binary, std::string_view b) {
  if (!binary) return engine::ParamValue(std::string(b));
  switch (type_oid) {
    case oid::kBool:
      if (b.size() != 1) return BadBinary("bool");
      return engine::ParamValue(b[0] != 0);
    case oid::kInt2:
      if (b.size() != 2) return BadBinary("int2");
      return engine::ParamValue(static_cast<int64_t>(ReadInt16(b.data())));
    case oid::kInt4:
      if (b.size() != 4) return BadBinary("int4");
      return engine::ParamValue(static_cast<int64_t>(ReadInt32(b.data())));
    case oid::kOid:
      if (b.size() != 4) return BadBinary("oid");
      return engine::ParamValue(static_cast<int64_t>(static_cast<uint32_t>(ReadInt32(b.data()))));
    case oid::kInt8:
      if (b.size() != 8) return BadBinary("int8");
      return engine::ParamValue(static_cast<int64_t>(ReadInt64(b.data())));
    case oid::kFloat4: {
      if (b.size() != 4) return BadBinary("float4");
      auto bits = static_cast<uint32_t>(ReadInt32(b.data()));
      float f;
      std::memcpy(&f, &bits, 4);
      return engine::ParamValue(static_cast<double>(f));
    }
    case oid::kFloat8: {
      if (b.size() != 8) return BadBinary("float8");
      auto bits = static_cast<uint64_t>(ReadInt64(b.data()));
      double d;
      std::memcpy(&d, &bits, 8);
      return engine::ParamValue(d);
    }
    case 0:
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kName:
    case oid::kJson:
    case oid::kUnknown:
      return engine::ParamValue(std::string(b));
    case oid::kJsonb:
      if (b.empty() || b[0] != 1) return BadBinary("jsonb version");
      return engine::ParamValue(std::string(b.substr(1)));
    case oid::kBytea: {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string text = "\\x";
      for (unsigned char c : b) {
        text += '\\';
        text += 'x';
        text += kHex[c >> 4];
        text += kHex[c & 15];
      }
      return engine::ParamValue(text.substr(2));
    }
    case oid::kDate: {
      if (b.size() != 4) return BadBinary("date");
      int32_t v = ReadInt32(b.data());
      if (v == std::numeric_limits<int32_t>::max()) return engine::ParamValue(std::string("infinity"));
      if (v == std::numeric_limits<int32_t>::min()) return engine::ParamValue(std::string("-infinity"));
      return engine::ParamValue(FormatDateDays(static_cast<int64_t>(v) + kPgEpochDays));
    }
    case oid::kTime: {
      if (b.size() != 8) return BadBinary("time");
      int64_t v = ReadInt64(b.data());
      if (v < 0 || v > kMicrosPerDay) return BadBinary("time range");
      std::string out;
      AppendTimeOfDay(out, v);
      return engine::ParamValue(out);
    }
    case oid::kTimestamp:
    case oid::kTimestampTz: {
      if (b.size() != 8) return BadBinary("timestamp");
      int64_t v = ReadInt64(b.data());
      if (v == std::numeric_limits<int64_t>::max()) return engine::ParamValue(std::string("infinity"));
      if (v == std::numeric_limits<int64_t>::min()) return engine::ParamValue(std::string("-infinity"));
      if (v > std::numeric_limits<int64_t>::max() - kPgEpochMicros) return BadBinary("timestamp range");
      std::string text = FormatTimestampMicros(v + kPgEpochMicros);
      if (type_oid == oid::kTimestampTz) text += "+00";
      return engine::ParamValue(text);
    }
    case oid::kInterval: {
      if (b.size() != 16) return BadBinary("interval");
      int64_t micros = ReadInt64(b.data());
      int32_t days = ReadInt32(b.data() + 8);
      int32_t months = ReadInt32(b.data() + 12);
      return engine::ParamValue(fmt::format("{} months {} days {} microseconds", months, days, micros));
    }
    case oid::kNumeric: {
      TARN_ASSIGN_OR_RETURN(std::string text, NumericBinaryToText(b));
      return engine::ParamValue(text);
    }
    case oid::kUuid: {
      if (b.size() != 16) return BadBinary("uuid");
      std::string hex;
      static constexpr char kHex[] = "0123456789abcdef";
      for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
        auto c = static_cast<unsigned char>(b[i]);
        hex += kHex[c >> 4];
        hex += kHex[c & 15];
      }
      return engine::ParamValue(hex);
    }
    default:
      return Error(ErrorCode::kFeatureNotSupported, "binary input of type OID {} is not supported", type_oid);
  }
}

}  // namespace tarn::pgwire
