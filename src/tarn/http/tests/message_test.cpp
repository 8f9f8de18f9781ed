// SPDX-License-Identifier: Apache-2.0
// Tests for percent-decoding, query strings, JSON escaping and the Request/Response helpers.
#include "tarn/http/message.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tarn::http {
namespace {

TEST(MessageTest, PercentDecodeValid) {
  struct Case {
    std::string input;
    bool plus_as_space;
    std::string expected;
  };
  const Case cases[] = {
      {"", false, ""},
      {"abc", false, "abc"},
      {"a%20b", false, "a b"},
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"%2Fx%2fy", false, "/x/y"},
      {"%00", false, std::string(1, '\0')},
      {"%C3%A9", false, "\xC3\xA9"},
      {"100%25", false, "100%"},
  };
  for (const auto& c : cases) {
    auto decoded = PercentDecode(c.input, c.plus_as_space);
    ASSERT_TRUE(decoded.ok()) << c.input;
    EXPECT_EQ(*decoded, c.expected) << c.input;
  }
}

TEST(MessageTest, PercentDecodeRejectsBadEscapes) {
  for (const char* input : {"%", "%2", "a%", "a%g0", "%0g", "%%", "%-1", "abc%2"}) {
    auto decoded = PercentDecode(input);
    ASSERT_FALSE(decoded.ok()) << input;
    EXPECT_EQ(decoded.error().code(), ErrorCode::kMalformedRequest) << input;
  }
}

TEST(MessageTest, ParseQueryString) {
  auto pairs = ParseQueryString("a=1&b=x%20y&&c&d=&e=a+b&a=2&=v&k==");
  ASSERT_TRUE(pairs.ok());
  std::vector<std::pair<std::string, std::string>> expected = {{"a", "1"},   {"b", "x y"}, {"c", ""}, {"d", ""},
                                                               {"e", "a b"}, {"a", "2"},   {"", "v"}, {"k", "="}};
  EXPECT_EQ(*pairs, expected);
  auto empty = ParseQueryString("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(MessageTest, ParseQueryStringRejectsBadEscapes) {
  EXPECT_FALSE(ParseQueryString("a=%zz").ok());
  EXPECT_FALSE(ParseQueryString("a%=1").ok());
  EXPECT_FALSE(ParseQueryString("ok=1&bad=%4").ok());
}

TEST(MessageTest, JsonEscapeControlCharacters) {
  EXPECT_EQ(JsonEscape("plain"), "plain");
  EXPECT_EQ(JsonEscape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(JsonEscape("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
  EXPECT_EQ(JsonEscape(std::string("\x00\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\\u007f");
  EXPECT_EQ(JsonEscape("/"), "/");
}

TEST(MessageTest, JsonEscapeUtf8) {
  // Valid multi-byte sequences pass through unchanged.
  EXPECT_EQ(JsonEscape("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  const std::string kReplacement = "\xEF\xBF\xBD";
  struct Case {
    std::string input;
    std::string expected;
  };
  const Case cases[] = {
      {"\xFF", kReplacement},  // never valid
      {"a\x80"
       "b",
       "a" + kReplacement + "b"},                                                       // lone continuation byte
      {"\xC3", kReplacement},                                                           // truncated 2-byte sequence
      {"\xC0\xAF", kReplacement + kReplacement},                                        // overlong '/'
      {"\xE0\x80\xAF", kReplacement + kReplacement + kReplacement},                     // overlong 3-byte
      {"\xED\xA0\x80", kReplacement + kReplacement + kReplacement},                     // UTF-16 surrogate
      {"\xF4\x90\x80\x80", kReplacement + kReplacement + kReplacement + kReplacement},  // above U+10FFFF
      {"\xE2\x82", kReplacement + kReplacement},                                        // truncated 3-byte
  };
  for (const auto& c : cases) EXPECT_EQ(JsonEscape(c.input), c.expected);
}

TEST(MessageTest, ErrorResponseUsesTheErrorCodeTable) {
  Response response = Response::Error(Error(ErrorCode::kEndpointNotFound, "no \"such\" endpoint\n"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.Header("content-type"), "application/json");
  EXPECT_EQ(response.body, R"({"error_code": "ENDPOINT_NOT_FOUND", "message": "no \"such\" endpoint\n"})");
  EXPECT_EQ(Response::Error(Error(ErrorCode::kInternal, "x")).status, 500);
  EXPECT_EQ(
      Response::Error(Error(ErrorCode::kTableNotFound, "x")).body.find("TABLE_OR_VIEW_NOT_FOUND") != std::string::npos,
      true);
}

TEST(MessageTest, HeadersAreCaseInsensitive) {
  Request request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Multi", "1"}, {"x-multi", "2"}};
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("X-MULTI"), "1");
  EXPECT_FALSE(request.Header("missing").has_value());
  request.query = {{"a", "1"}, {"a", "2"}};
  EXPECT_EQ(request.QueryParam("a"), "1");
  EXPECT_FALSE(request.QueryParam("A").has_value());

  Response response = Response::Text("hi");
  response.SetHeader("content-type", "text/html");
  EXPECT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.Header("Content-Type"), "text/html");
}

TEST(MessageTest, MethodNamesRoundTrip) {
  for (Method m :
       {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch, Method::kDelete, Method::kOptions}) {
    EXPECT_EQ(ParseMethod(MethodName(m)), m);
  }
  EXPECT_EQ(ParseMethod("get"), Method::kOther);
  EXPECT_EQ(ParseMethod("PROPFIND"), Method::kOther);
}

}  // namespace
}  // namespace tarn::http
