// SPDX-License-Identifier: Apache-2.0
// Runs the fuzz target's entry point (ProcessRawRequest) over malformed and edge-case inputs in every build.
#include "tarn/http/detail/raw_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tarn::http::detail {
namespace {

class RawRequestTest : public ::testing::Test {
 protected:
  RawRequestTest() {
    router_.Add(Method::kGet, "/hello", [](Request&) { return Response::Text("hello"); });
    router_.Add(Method::kPost, "/echo", [](Request& request) { return Response::Text(request.body); });
    router_.Add(Method::kGet, "/files{path...}",
                [](Request& request) { return Response::Text(request.path_params["path"]); });
    router_.Add(Method::kGet, "/stream", [](Request&) {
      Response response;
      response.producer = [](std::string& out) -> Result<bool> {
        out += "endless";
        return true;
      };
      return response;
    });
    options_.max_header_bytes = 512;
    options_.max_body_bytes = 64;
  }

  std::string Process(std::string_view raw) {
    return ProcessRawRequest(
        raw, [this](Request& request) { return router_.Dispatch(request); }, options_);
  }

  Router router_;
  ServerOptions options_;
};

TEST_F(RawRequestTest, AnswersWellFormedPipelinedRequests) {
  std::string out = Process(
      "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "GET /files/a%2Fb/c HTTP/1.1\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(out.find("\r\n\r\nhello"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\nabc"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n/a/b/c"), std::string::npos);
}

TEST_F(RawRequestTest, MalformedInputsGetErrorAnswers) {
  struct Case {
    std::string raw;
    std::string status_line;  // empty: no answer (incomplete input)
  };
  const Case cases[] = {
      {"", ""},
      {"GET /hello HTTP/1.1\r\nHost: a\r\n", ""},  // incomplete: a connection would wait
      {"\r\n\r\n", "HTTP/1.1 400"},
      {"GET\r\n\r\n", "HTTP/1.1 400"},
      {"G\x01T / HTTP/1.1\r\n\r\n", "HTTP/1.1 400"},
      {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 400"},
      {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "HTTP/1.1 400"},
      {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", "HTTP/1.1 4"},
      {"GET /x%zz HTTP/1.1\r\n\r\n", "HTTP/1.1 400"},
      {"GET /a%00b HTTP/1.1\r\n\r\n", "HTTP/1.1 400"},
      {"GET / HTTP/1.1\r\nX: " + std::string(1000, 'v') + "\r\n\r\n", "HTTP/1.1 431"},
      {"POST /echo HTTP/1.1\r\nContent-Length: 65\r\n\r\n", "HTTP/1.1 413"},
      {"GET /nope HTTP/1.1\r\n\r\n", "HTTP/1.1 404"},
      {"DELETE /hello HTTP/1.1\r\n\r\n", "HTTP/1.1 405"},
      {"BREW /hello HTTP/1.1\r\n\r\n", "HTTP/1.1 405"},
      {std::string("GET /hello HTTP/1.1\r\nX: a\0b\r\n\r\n", 32), "HTTP/1.1 400"},
  };
  for (const auto& c : cases) {
    std::string out = Process(c.raw);
    if (c.status_line.empty()) {
      EXPECT_TRUE(out.empty()) << c.raw;
    } else {
      EXPECT_EQ(out.rfind(c.status_line, 0), 0u) << c.raw << "\n---\n" << out;
    }
  }
}

TEST_F(RawRequestTest, ErrorAnswerStopsProcessing) {
  std::string out = Process("GARBAGE\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(out.find("hello"), std::string::npos);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
}

TEST_F(RawRequestTest, EndlessProducerIsBounded) {
  std::string out = Process("GET /stream HTTP/1.1\r\n\r\n");
  EXPECT_NE(out.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(out.find("7\r\nendless\r\n"), std::string::npos);
  EXPECT_EQ(out.find("0\r\n\r\n"), std::string::npos);  // never finished, so no last chunk
}

}  // namespace
}  // namespace tarn::http::detail
