// SPDX-License-Identifier: Apache-2.0
// Tests for the wire codec: start-up packets, frontend message decoding, framing, backend encoding, SCRAM parsing.
#include "tarn/pgwire/protocol.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tarn/base/crypto.hpp"
#include "tarn/pgwire/scram.hpp"

namespace tarn::pgwire {
namespace {

std::string Int32Bytes(int32_t v) {
  std::string s;
  AppendInt32(s, v);
  return s;
}
std::string Int16Bytes(int16_t v) {
  std::string s;
  AppendInt16(s, v);
  return s;
}

TEST(StartupPacketTest, DecodesStartupParameters) {
  std::string body = Int32Bytes(kProtocolVersion3) + std::string("user\0token\0database\0main\0\0", 26);
  auto packet = DecodeStartupPacket(body);
  ASSERT_TRUE(packet.ok()) << packet.status().ToString();
  EXPECT_EQ(packet->kind, StartupPacket::Kind::kStartup);
  ASSERT_EQ(packet->params.size(), 2u);
  EXPECT_EQ(packet->params[0], std::make_pair(std::string("user"), std::string("token")));
  EXPECT_EQ(packet->params[1], std::make_pair(std::string("database"), std::string("main")));
}

TEST(StartupPacketTest, RecognisesSslGssAndCancel) {
  EXPECT_EQ(DecodeStartupPacket(Int32Bytes(kSslRequestCode))->kind, StartupPacket::Kind::kSslRequest);
  EXPECT_EQ(DecodeStartupPacket(Int32Bytes(kGssEncRequestCode))->kind, StartupPacket::Kind::kGssEncRequest);
  auto cancel = DecodeStartupPacket(Int32Bytes(kCancelRequestCode) + Int32Bytes(42) + Int32Bytes(-7));
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(cancel->kind, StartupPacket::Kind::kCancelRequest);
  EXPECT_EQ(cancel->cancel_pid, 42);
  EXPECT_EQ(cancel->cancel_secret, -7);
}

TEST(StartupPacketTest, RejectsMalformedPackets) {
  EXPECT_EQ(DecodeStartupPacket("").status().code(), ErrorCode::kProtocolViolation);
  EXPECT_EQ(DecodeStartupPacket(Int32Bytes(kProtocolVersion3) + "user").status().code(),
            ErrorCode::kProtocolViolation);
  EXPECT_EQ(DecodeStartupPacket(Int32Bytes(kCancelRequestCode) + Int32Bytes(1)).status().code(),
            ErrorCode::kProtocolViolation);
  EXPECT_EQ(DecodeStartupPacket(Int32Bytes(2 << 16) + std::string("\0", 1)).status().code(),
            ErrorCode::kFeatureNotSupported);
}

TEST(FrontendMessageTest, DecodesParseBindDescribeExecute) {
  std::string parse = std::string("s1\0SELECT $1\0", 13) + Int16Bytes(1) + Int32Bytes(23);
  auto m = DecodeFrontendMessage('P', parse);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto& p = std::get<ParseMessage>(*m);
  EXPECT_EQ(p.name, "s1");
  EXPECT_EQ(p.query, "SELECT $1");
  EXPECT_EQ(p.param_types, std::vector<int32_t>{23});

  std::string bind = std::string("p\0s1\0", 5) + Int16Bytes(1) + Int16Bytes(1) + Int16Bytes(2) + Int32Bytes(4) +
                     Int32Bytes(7) + Int32Bytes(-1) + Int16Bytes(1) + Int16Bytes(1);
  auto b = DecodeFrontendMessage('B', bind);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto& bm = std::get<BindMessage>(*b);
  EXPECT_EQ(bm.portal, "p");
  EXPECT_EQ(bm.statement, "s1");
  ASSERT_EQ(bm.params.size(), 2u);
  EXPECT_EQ(*bm.params[0], Int32Bytes(7));
  EXPECT_FALSE(bm.params[1].has_value());
  EXPECT_EQ(bm.result_formats, std::vector<int16_t>{1});

  auto d = DecodeFrontendMessage('D', std::string("Pp\0", 3));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<DescribeMessage>(*d).kind, 'P');
  auto e = DecodeFrontendMessage('E', std::string("p\0", 2) + Int32Bytes(10));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(std::get<ExecuteMessage>(*e).max_rows, 10);
}

TEST(FrontendMessageTest, RejectsTruncatedAndInconsistentBodies) {
  EXPECT_FALSE(DecodeFrontendMessage('Q', "SELECT 1").ok());                  // no NUL
  EXPECT_FALSE(DecodeFrontendMessage('Q', std::string("x\0y", 3)).ok());     // trailing bytes
  EXPECT_FALSE(DecodeFrontendMessage('P', std::string("a\0b\0", 4) + Int16Bytes(2) + Int32Bytes(1)).ok());
  EXPECT_FALSE(DecodeFrontendMessage('B', std::string("\0\0", 2) + Int16Bytes(1) + Int16Bytes(7)).ok());  // bad fmt
  EXPECT_FALSE(DecodeFrontendMessage('B', std::string("\0\0", 2) + Int16Bytes(0) + Int16Bytes(1) +
                                              Int32Bytes(100) + "abc").ok());  // value longer than body
  EXPECT_FALSE(DecodeFrontendMessage('D', std::string("X\0", 2)).ok());
  EXPECT_FALSE(DecodeFrontendMessage('S', "x").ok());
  auto unknown = DecodeFrontendMessage('z', "");
  EXPECT_EQ(unknown.status().code(), ErrorCode::kProtocolViolation);
}

TEST(FrameReaderTest, SplitsStreamAcrossArbitraryBoundaries) {
  std::string stream;
  BackendWriter w(stream);  // the framing is symmetric: reuse the writer to build frontend-shaped frames
  size_t s = w.BeginMessage('Q');
  stream += std::string("SELECT 1\0", 9);
  w.EndMessage(s);
  w.EndMessage(w.BeginMessage('S'));
  FrameReader reader;
  std::vector<char> types;
  for (char c : stream) {
    reader.Append(std::string_view(&c, 1));
    while (true) {
      auto frame = reader.Next();
      ASSERT_TRUE(frame.ok());
      if (!*frame) break;
      types.push_back((*frame)->type);
    }
  }
  EXPECT_EQ(types, (std::vector<char>{'Q', 'S'}));
}

TEST(FrameReaderTest, RejectsBadLengths) {
  FrameReader reader;
  reader.Append(std::string("Q\0\0\0\2", 5));
  EXPECT_EQ(reader.Next().status().code(), ErrorCode::kProtocolViolation);
  FrameReader huge;
  huge.Append(std::string("Q\x7f\xff\xff\xff", 5));
  EXPECT_EQ(huge.Next().status().code(), ErrorCode::kProtocolViolation);
}

TEST(BackendWriterTest, EncodesMessagesWithLengths) {
  std::string out;
  BackendWriter w(out);
  w.ReadyForQuery('I');
  EXPECT_EQ(out, std::string("Z\0\0\0\5I", 6));
  out.clear();
  w.CommandComplete("SELECT 1");
  EXPECT_EQ(out, std::string("C\0\0\0\15SELECT 1\0", 14));
  out.clear();
  w.BeginDataRow(2);
  w.AppendValue("ab");
  w.AppendNull();
  w.EndDataRow();
  EXPECT_EQ(out, std::string("D\0\0\0\20\0\2\0\0\0\2ab\xff\xff\xff\xff", 17));
  out.clear();
  ErrorFields f;
  f.sqlstate = "42601";
  f.message = "bad";
  f.position = 5;
  w.Error(f);
  EXPECT_EQ(out.substr(5), std::string("SERROR\0VERROR\0C42601\0Mbad\0P5\0\0", 30));
  EXPECT_EQ(ReadInt32(out.data() + 1), static_cast<int32_t>(out.size() - 1));
}

TEST(BackendWriterTest, DataRowsMatchRowByRowEncoding) {
  // Three rows of (text, int, nullable) built a column at a time, against the piecewise DataRow encoder.
  std::vector<BackendWriter::ColumnValues> columns(3);
  columns[0] = {"abcdef", {1, 0, 5}};
  columns[1] = {"1-2300", {1, 2, 3}};
  columns[2] = {"xy", {-1, 2, -1}};
  std::string bulk = "prefix";
  BackendWriter(bulk).DataRows(columns, 3);

  std::string rows = "prefix";
  BackendWriter w(rows);
  const std::vector<std::vector<std::optional<std::string>>> expected = {
      {"a", "1", std::nullopt}, {"", "-2", "xy"}, {"bcdef", "300", std::nullopt}};
  for (const auto& row : expected) {
    w.BeginDataRow(3);
    for (const auto& v : row) {
      if (v) {
        w.AppendValue(*v);
      } else {
        w.AppendNull();
      }
    }
    w.EndDataRow();
  }
  EXPECT_EQ(bulk, rows);
  std::string none;
  BackendWriter(none).DataRows(columns, 0);
  EXPECT_EQ(none, "");
}

TEST(ScramTest, ParsesClientMessagesAndRejectsChannelBinding) {
  auto first = ParseScramClientFirst("n,,n=,r=abc123");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->gs2_header, "n,,");
  EXPECT_EQ(first->bare, "n=,r=abc123");
  EXPECT_EQ(first->nonce, "abc123");
  EXPECT_EQ(ParseScramClientFirst("p=tls-server-end-point,,n=,r=x").status().code(),
            ErrorCode::kFeatureNotSupported);
  EXPECT_FALSE(ParseScramClientFirst("n,,n=").ok());
  EXPECT_FALSE(ParseScramClientFirst("garbage").ok());

  auto final_msg = ParseScramClientFinal("c=biws,r=abc123XYZ,p=" + Base64Encode(std::string(32, 'x')));
  ASSERT_TRUE(final_msg.ok());
  EXPECT_EQ(final_msg->channel_binding, "n,,");
  EXPECT_EQ(final_msg->nonce, "abc123XYZ");
  EXPECT_EQ(final_msg->without_proof, "c=biws,r=abc123XYZ");
  EXPECT_EQ(final_msg->proof, std::string(32, 'x'));
  EXPECT_FALSE(ParseScramClientFinal("c=biws,r=abc").ok());
  EXPECT_FALSE(ParseScramClientFinal("c=biws,r=abc,p=***").ok());
}

}  // namespace
}  // namespace tarn::pgwire
