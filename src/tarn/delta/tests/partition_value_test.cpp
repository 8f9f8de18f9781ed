// SPDX-License-Identifier: Apache-2.0
// Tests for partition value parsing of every type.
#include <gtest/gtest.h>

#include <cmath>

#include "tarn/delta/partition_value.hpp"

namespace tarn::delta {
namespace {

Scalar Parse(std::optional<std::string_view> raw, const DataTypePtr& type) {
  auto result = ParsePartitionValue(raw, *type);
  EXPECT_TRUE(result.has_value()) << (raw ? *raw : "<null>") << ": " << result.status().ToString();
  return result.has_value() ? *result : Scalar{};
}

DataTypePtr T(TypeKind kind) { return DataType::Primitive(kind); }

TEST(PartitionValueTest, NullAndEmptyAreNullForEveryType) {
  for (TypeKind kind : {TypeKind::kString, TypeKind::kLong, TypeKind::kDate, TypeKind::kTimestamp,
                        TypeKind::kBoolean, TypeKind::kBinary, TypeKind::kDouble}) {
    EXPECT_TRUE(Parse(std::nullopt, T(kind)).is_null);
    EXPECT_TRUE(Parse("", T(kind)).is_null);
  }
  EXPECT_TRUE(Parse("", DataType::Decimal(5, 2)).is_null);
}

TEST(PartitionValueTest, Integers) {
  EXPECT_EQ(Parse("-128", T(TypeKind::kByte)).int_value, -128);
  EXPECT_EQ(Parse("32767", T(TypeKind::kShort)).int_value, 32767);
  EXPECT_EQ(Parse("-2147483648", T(TypeKind::kInteger)).int_value, -2147483648LL);
  EXPECT_EQ(Parse("9223372036854775807", T(TypeKind::kLong)).int_value, INT64_MAX);
  for (auto [text, kind] : std::vector<std::pair<std::string, TypeKind>>{
           {"128", TypeKind::kByte}, {"40000", TypeKind::kShort}, {"2147483648", TypeKind::kInteger},
           {"1.5", TypeKind::kLong}, {"abc", TypeKind::kInteger}, {"9223372036854775808", TypeKind::kLong}}) {
    auto result = ParsePartitionValue(text, *T(kind));
    EXPECT_FALSE(result.has_value()) << text;
    if (!result.has_value()) { EXPECT_EQ(result.status().code(), ErrorCode::kInvalidTextRepresentation); }
  }
}

TEST(PartitionValueTest, FloatsBooleansStringsBinary) {
  EXPECT_DOUBLE_EQ(Parse("1.25", T(TypeKind::kDouble)).double_value, 1.25);
  EXPECT_TRUE(std::isnan(Parse("NaN", T(TypeKind::kDouble)).double_value));
  EXPECT_EQ(Parse("-Infinity", T(TypeKind::kFloat)).double_value, -INFINITY);
  EXPECT_TRUE(Parse("true", T(TypeKind::kBoolean)).bool_value);
  EXPECT_FALSE(Parse("false", T(TypeKind::kBoolean)).bool_value);
  EXPECT_FALSE(ParsePartitionValue("yes", *T(TypeKind::kBoolean)).has_value());
  EXPECT_EQ(Parse("a/b=c %2F", T(TypeKind::kString)).string_value, "a/b=c %2F");  // values are not URL-decoded
  EXPECT_EQ(Parse("\x01\x02", T(TypeKind::kBinary)).string_value, "\x01\x02");
  EXPECT_EQ(Parse("😀", T(TypeKind::kString)).string_value, "😀");
}

TEST(PartitionValueTest, Dates) {
  EXPECT_EQ(Parse("1970-01-01", T(TypeKind::kDate)).int_value, 0);
  EXPECT_EQ(Parse("2021-09-08", T(TypeKind::kDate)).int_value, 18878);
  EXPECT_EQ(Parse("1969-12-31", T(TypeKind::kDate)).int_value, -1);
  EXPECT_EQ(Parse("2000-02-29", T(TypeKind::kDate)).int_value, 11016);
  for (std::string bad : {"2021-02-29", "2021-13-01", "2021-1-1", "20210101", "2021-01-01x"}) {
    EXPECT_FALSE(ParsePartitionValue(bad, *T(TypeKind::kDate)).has_value()) << bad;
  }
}

TEST(PartitionValueTest, Timestamps) {
  auto ts = T(TypeKind::kTimestamp);
  EXPECT_EQ(Parse("1970-01-01 00:00:00", ts).int_value, 0);
  EXPECT_EQ(Parse("2021-09-08 11:11:11", ts).int_value, 1631099471000000LL);
  EXPECT_EQ(Parse("1970-01-01 00:00:00.123456", ts).int_value, 123456);
  EXPECT_EQ(Parse("1970-01-01 00:00:00.1", ts).int_value, 100000);
  EXPECT_EQ(Parse("1970-01-01T00:00:00.123456Z", ts).int_value, 123456);
  EXPECT_EQ(Parse("2024-01-01T10:00:00.000000Z", ts).int_value, 1704103200000000LL);
  EXPECT_EQ(Parse("1970-01-01T01:00:00+01:00", ts).int_value, 0);
  EXPECT_EQ(Parse("1970-01-01T00:00:00-0130", ts).int_value, 5400000000LL);
  EXPECT_EQ(Parse("1969-12-31 23:59:59", ts).int_value, -1000000);
  auto ntz = T(TypeKind::kTimestampNtz);
  EXPECT_EQ(Parse("2021-11-18 02:30:00.123456", ntz).int_value, 1637202600123456LL);
  EXPECT_FALSE(ParsePartitionValue("2021-11-18 02:30:00Z", *ntz).has_value());  // ntz has no zone
  for (std::string bad : {"2021-11-18 25:00:00", "2021-11-18 02:30:00.", "2021-11-18 02:30:00 junk", "noon"}) {
    EXPECT_FALSE(ParsePartitionValue(bad, *ts).has_value()) << bad;
  }
}

TEST(PartitionValueTest, Decimals) {
  auto d = DataType::Decimal(12, 5);
  EXPECT_EQ(static_cast<int64_t>(Parse("1.5", d).decimal_unscaled), 150000);
  EXPECT_EQ(static_cast<int64_t>(Parse("-2.12345", d).decimal_unscaled), -212345);
  EXPECT_EQ(static_cast<int64_t>(Parse("1234567", d).decimal_unscaled), 123456700000LL);
  EXPECT_EQ(static_cast<int64_t>(Parse("1.5E+2", d).decimal_unscaled), 15000000);
  EXPECT_EQ(Parse("0", d).scale, 5);
  EXPECT_FALSE(ParsePartitionValue("12345678", *d).has_value());  // 8 integer digits > precision 12 - scale 5
  EXPECT_FALSE(ParsePartitionValue("1.123456", *d).has_value());  // more scale than the type
  EXPECT_FALSE(ParsePartitionValue("1..2", *d).has_value());
  auto wide = DataType::Decimal(38, 0);
  Scalar big = Parse("99999999999999999999999999999999999999", wide);
  EXPECT_EQ(big.decimal_unscaled / 1000000000000000000LL / 1000000000000000000LL, 99);
}

// Found reviewing the parser for delta_log_fuzzer: a huge exponent looped ~9e18 times (a hang), and six-digit years
// overflowed int64 micros.
TEST(PartitionValueTest, HugeExponentsAndYearsAreRefusedQuickly) {
  auto d = DataType::Decimal(12, 5);
  for (std::string bad : {"1e9223372036854775807", "1e-9223372036854775807", "1e101", "5e-200"}) {
    auto parsed = ParsePartitionValue(bad, *d);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidTextRepresentation) << bad;
  }
  EXPECT_EQ(static_cast<int64_t>(Parse("0e9223372036854775807", d).decimal_unscaled), 0);
  EXPECT_EQ(static_cast<int64_t>(Parse("-0.0e-9223372036854775807", d).decimal_unscaled), 0);
  EXPECT_EQ(static_cast<int64_t>(Parse("100e-2", d).decimal_unscaled), 100000);
  auto ts = T(TypeKind::kTimestamp);
  for (std::string bad : {"999999-12-31 23:59:59", "-999999-01-01T00:00:00Z", "300000-01-01"}) {
    auto parsed = ParsePartitionValue(bad, *ts);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidTextRepresentation) << bad;
  }
  EXPECT_EQ(Parse("200000-01-01 00:00:00", ts).int_value / 1000000 / 86400, 72328972);
  EXPECT_EQ(Parse("2000-01-01", T(TypeKind::kDate)).int_value, 10957);
  EXPECT_EQ(Parse("999999-12-31", T(TypeKind::kDate)).int_value, 364522971);
}

TEST(PartitionValueTest, NestedTypesAreRefused) {
  auto array = DataType::Array(T(TypeKind::kInteger), true);
  EXPECT_EQ(ParsePartitionValue("[1]", *array).status().code(), ErrorCode::kFeatureNotSupported);
}

TEST(PartitionValueTest, DaysFromCivil) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1600, 3, 1), -135080);
  EXPECT_EQ(DaysFromCivil(2024, 12, 31), 20088);
}

}  // namespace
}  // namespace tarn::delta
