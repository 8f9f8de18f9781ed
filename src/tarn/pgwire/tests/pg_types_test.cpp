// SPDX-License-Identifier: Apache-2.0
// Tests for type OIDs and value codecs, using real engine results as input.
#include "tarn/pgwire/pg_types.hpp"

#include <gtest/gtest.h>

#include "tarn/base/crypto.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/pgwire/protocol.hpp"

namespace tarn::pgwire {
namespace {

class PgTypesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto session = db_->Connect();
    ASSERT_TRUE(session.ok());
    session_ = std::move(*session);
  }
  // Runs `expr` and returns the first chunk (one row).
  std::unique_ptr<engine::Chunk> One(const std::string& expr) {
    auto stream = session_->Execute("SELECT " + expr);
    EXPECT_TRUE(stream.ok()) << stream.status().ToString();
    if (!stream.ok()) return nullptr;
    auto chunk = (*stream)->Next();
    EXPECT_TRUE(chunk.ok() && *chunk);
    return chunk.ok() ? std::move(*chunk) : nullptr;
  }
  std::string Text(const std::string& expr) {
    auto chunk = One(expr);
    std::string out;
    AppendText(*chunk, 0, 0, out);
    return out;
  }
  std::string BinaryHex(const std::string& expr) {
    auto chunk = One(expr);
    EXPECT_TRUE(BinarySupported(chunk->column_type(0)));
    std::string out;
    AppendBinary(*chunk, 0, 0, out);
    return HexEncode(out);
  }
  PgTypeInfo TypeOf(const std::string& expr) { return PgTypeOf(One(expr)->column_type(0)); }

  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Session> session_;
};

TEST_F(PgTypesTest, OidsForEngineTypes) {
  EXPECT_EQ(TypeOf("true").oid, oid::kBool);
  EXPECT_EQ(TypeOf("1::SMALLINT").oid, oid::kInt2);
  EXPECT_EQ(TypeOf("1::INTEGER").oid, oid::kInt4);
  EXPECT_EQ(TypeOf("1::BIGINT").oid, oid::kInt8);
  EXPECT_EQ(TypeOf("1.5::DOUBLE").oid, oid::kFloat8);
  EXPECT_EQ(TypeOf("1.5::REAL").oid, oid::kFloat4);
  PgTypeInfo numeric = TypeOf("1.5::DECIMAL(12,4)");
  EXPECT_EQ(numeric.oid, oid::kNumeric);
  EXPECT_EQ(numeric.typmod, ((12 << 16) | 4) + 4);
  EXPECT_EQ(TypeOf("'x'").oid, oid::kText);
  EXPECT_EQ(TypeOf("'\\xAA'::BLOB").oid, oid::kBytea);
  EXPECT_EQ(TypeOf("DATE '2024-01-02'").oid, oid::kDate);
  EXPECT_EQ(TypeOf("TIMESTAMP '2024-01-02 03:04:05'").oid, oid::kTimestamp);
  EXPECT_EQ(TypeOf("TIMESTAMPTZ '2024-01-02 03:04:05+00'").oid, oid::kTimestampTz);
  EXPECT_EQ(TypeOf("INTERVAL 1 DAY").oid, oid::kInterval);
  EXPECT_EQ(TypeOf("uuid()").oid, oid::kUuid);
  EXPECT_EQ(TypeOf("'{}'::JSON").oid, oid::kJson);
  EXPECT_EQ(TypeOf("[1, 2]").oid, 1007);
  EXPECT_EQ(TypeOf("['a']").oid, 1009);
}

TEST_F(PgTypesTest, TextFormatsMatchPostgres) {
  EXPECT_EQ(Text("true"), "t");
  EXPECT_EQ(Text("-42::BIGINT"), "-42");
  EXPECT_EQ(Text("0.1::DOUBLE"), "0.1");
  EXPECT_EQ(Text("'-0.50'::DECIMAL(10,2)"), "-0.50");
  EXPECT_EQ(Text("'\\xDE\\xAD'::BLOB"), "\\xdead");
  EXPECT_EQ(Text("DATE '2024-01-02'"), "2024-01-02");
  EXPECT_EQ(Text("TIMESTAMP '2024-01-02 03:04:05.123456'"), "2024-01-02 03:04:05.123456");
  EXPECT_EQ(Text("TIMESTAMPTZ '2024-01-02 03:04:05+00'"), "2024-01-02 03:04:05+00");
  EXPECT_EQ(Text("[1, NULL, 3]"), "{1,NULL,3}");
  EXPECT_EQ(Text("'hé'"), "hé");
}

TEST_F(PgTypesTest, BinaryFormatsMatchPostgresSend) {
  EXPECT_EQ(BinaryHex("42::INTEGER"), "0000002a");
  EXPECT_EQ(BinaryHex("1.5::DOUBLE"), "3ff8000000000000");
  EXPECT_EQ(BinaryHex("true"), "01");
  EXPECT_EQ(BinaryHex("DATE '2024-01-02'"), "0000223f");
  EXPECT_EQ(BinaryHex("TIMESTAMP '2024-01-02 03:04:05.123456'"), "0002b0ec8517d580");
  EXPECT_EQ(BinaryHex("'12345.6789'::DECIMAL(10,4)"), "0003000100000004000109291a85");
  EXPECT_EQ(BinaryHex("'-0.50'::DECIMAL(10,2)"), "0001ffff400000021388");
  EXPECT_EQ(BinaryHex("'hé'"), "68c3a9");
  EXPECT_EQ(BinaryHex("'00112233-4455-6677-8899-aabbccddeeff'::UUID"), "00112233445566778899aabbccddeeff");
  EXPECT_FALSE(BinarySupported(One("INTERVAL 1 DAY")->column_type(0)));
}

TEST(NumericCodecTest, RoundTripsTextAndBinary) {
  for (std::string v : {"0", "1", "-1", "12345.6789", "-0.50", "0.0001", "10000", "99999999999999999999.123",
                        "NaN", "0.000"}) {
    auto bin = NumericTextToBinary(v);
    ASSERT_TRUE(bin.ok()) << v;
    auto text = NumericBinaryToText(*bin);
    ASSERT_TRUE(text.ok()) << v;
    EXPECT_EQ(*text, v);
  }
  EXPECT_EQ(HexEncode(*NumericTextToBinary("0")), "0000000000000000");
  EXPECT_FALSE(NumericTextToBinary("1e5").ok());
  EXPECT_FALSE(NumericBinaryToText("abc").ok());
}

TEST(DecodeParamTest, DecodesBinaryParameters) {
  std::string b;
  AppendInt32(b, -5);
  EXPECT_EQ(std::get<int64_t>(*DecodeParam(oid::kInt4, true, b)), -5);
  b.clear();
  AppendInt64(b, 0x3ff8000000000000LL);
  EXPECT_EQ(std::get<double>(*DecodeParam(oid::kFloat8, true, b)), 1.5);
  EXPECT_EQ(std::get<bool>(*DecodeParam(oid::kBool, true, std::string("\1", 1))), true);
  auto numeric = DecodeParam(oid::kNumeric, true, *NumericTextToBinary("2.50"));
  EXPECT_EQ(std::get<std::string>(*numeric), "2.50");
  b.clear();
  AppendInt32(b, 0x223f);
  EXPECT_EQ(std::get<std::string>(*DecodeParam(oid::kDate, true, b)), "2024-01-02");
  b.clear();
  AppendInt64(b, 0x0002b0ec8517d580LL);
  EXPECT_EQ(std::get<std::string>(*DecodeParam(oid::kTimestamp, true, b)), "2024-01-02 03:04:05.123456");
  EXPECT_EQ(std::get<std::string>(*DecodeParam(oid::kText, false, "abc")), "abc");
  EXPECT_EQ(DecodeParam(oid::kInt4, true, "abc").status().code(), ErrorCode::kInvalidBinaryRepresentation);
  EXPECT_EQ(DecodeParam(600, true, "abc").status().code(), ErrorCode::kFeatureNotSupported);
}

}  // namespace
}  // namespace tarn::pgwire
