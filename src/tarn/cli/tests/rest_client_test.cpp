// SPDX-License-Identifier: Apache-2.0
// Tests for RestClient and the auth/tokens commands against a loopback HTTP responder.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "tarn/cli/rest_client.hpp"
#include "tarn/cli/rest_commands.hpp"
#include "tarn/cli/tests/loopback_http_server.hpp"

namespace tarn::cli {
namespace {

using nlohmann::json;
using testing::CannedResponse;
using testing::LoopbackHttpServer;
using testing::RecordedRequest;

RestClient ClientFor(const LoopbackHttpServer& server, std::ostream* debug_log = nullptr) {
  RestClientOptions options;
  options.host = server.url() + "/";
  options.token = "dapi-secret-123";
  options.debug_log = debug_log;
  return RestClient(std::move(options));
}

TEST(RestClientTest, GetSendsBearerTokenAndEncodedQuery) {
  LoopbackHttpServer server([](const RecordedRequest&) { return CannedResponse{200, R"({"ok":true})"}; });
  RestClient client = ClientFor(server);
  auto body = client.Get("/api/2.0/dbfs/list", {{"path", "/a b&c"}, {"x", "1"}});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, R"({"ok":true})");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/api/2.0/dbfs/list?path=%2Fa%20b%26c&x=1");
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer dapi-secret-123");
  EXPECT_EQ(requests[0].Header("User-Agent").rfind("tarn-cli/", 0), 0u);
}

TEST(RestClientTest, PostSendsJsonBody) {
  LoopbackHttpServer server([](const RecordedRequest&) { return CannedResponse{200, "{}"}; });
  RestClient client = ClientFor(server);
  auto body = client.Post("/api/2.0/token/delete", R"({"token_id":"t1"})");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/api/2.0/token/delete");
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].body, R"({"token_id":"t1"})");
}

TEST(RestClientTest, ErrorBodiesBecomeCodedStatuses) {
  struct Case {
    int http_status;
    std::string body;
    ErrorCode want_code;
    std::string want_message;
  };
  std::vector<Case> cases = {
      {404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Token t9 does not exist."})",
       ErrorCode::kResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST: Token t9 does not exist."},
      {401, R"({"error_code":"UNAUTHENTICATED","message":"Invalid access token."})", ErrorCode::kUnauthenticated,
       "UNAUTHENTICATED: Invalid access token."},
      {409, R"({"error_code":"RESOURCE_ALREADY_EXISTS","message":"exists"})", ErrorCode::kAlreadyExists,
       "RESOURCE_ALREADY_EXISTS: exists"},
      {403, R"({"detail":"not allowed","status":"403"})", ErrorCode::kPermissionDenied,
       "PERMISSION_DENIED: not allowed"},
      {502, "<html>\nBad gateway\n</html>", ErrorCode::kInternal, "HTTP 502: <html> Bad gateway </html>"},
      {500, "", ErrorCode::kInternal, "HTTP 500"},
  };
  for (const Case& c : cases) {
    LoopbackHttpServer server([&](const RecordedRequest&) { return CannedResponse{c.http_status, c.body}; });
    RestClient client = ClientFor(server);
    auto body = client.Get("/x");
    ASSERT_FALSE(body.ok()) << c.body;
    EXPECT_EQ(body.status().code(), c.want_code) << c.body;
    EXPECT_EQ(body.status().message(), c.want_message);
  }
}

TEST(RestClientTest, ConnectionRefusedIsOneClearLine) {
  auto [fd, port] = testing::RefusingPort();
  RestClientOptions options;
  options.host = "http://127.0.0.1:" + std::to_string(port);
  options.token = "t";
  RestClient client(options);
  auto body = client.Get("/api/2.0/token/list");
  close(fd);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), ErrorCode::kConnectionFailure);
  EXPECT_EQ(body.status().message().rfind("cannot connect to http://127.0.0.1:" + std::to_string(port), 0), 0u)
      << body.status().message();
  EXPECT_NE(body.status().message().find("connection refused"), std::string::npos) << body.status().message();
  EXPECT_EQ(body.status().message().find('\n'), std::string::npos);
}

TEST(RestClientTest, DebugLogNeverShowsTheToken) {
  LoopbackHttpServer server([](const RecordedRequest&) {
    return CannedResponse{200, R"({"token_value":"dapi-new-secret","token_info":{"token_id":"t1"}})"};
  });
  std::ostringstream log;
  RestClient client = ClientFor(server, &log);
  ASSERT_TRUE(client.Post("/api/2.0/token/create", R"({"comment":"c"})").ok());
  EXPECT_NE(log.str().find("> POST " + server.url() + "/api/2.0/token/create"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("< HTTP 200"), std::string::npos) << log.str();
  EXPECT_EQ(log.str().find("dapi-secret-123"), std::string::npos);
  EXPECT_EQ(log.str().find("dapi-new-secret"), std::string::npos);
}

TEST(RestCommandsTest, WhoAmIPrintsUserNameOrJson) {
  LoopbackHttpServer server([](const RecordedRequest& request) {
    if (request.target != "/api/2.0/preview/scim/v2/Me") return CannedResponse{404, "{}"};
    return CannedResponse{200, R"({"id":"1","userName":"admin@tarn.local","active":true})"};
  });
  RestClient client = ClientFor(server);
  std::ostringstream table;
  ASSERT_TRUE(RunAuthWhoAmI(client, OutputFormat::kTable, table).ok());
  EXPECT_EQ(table.str(), "admin@tarn.local\n");
  std::ostringstream raw;
  ASSERT_TRUE(RunAuthWhoAmI(client, OutputFormat::kJson, raw).ok());
  EXPECT_EQ(json::parse(raw.str())["userName"], "admin@tarn.local");
  EXPECT_NE(raw.str().find("\n  \"userName\""), std::string::npos) << "pretty-printed: " << raw.str();
}

TEST(RestCommandsTest, TokensCreateSendsRequestAndPrintsSecretOnce) {
  LoopbackHttpServer server([](const RecordedRequest&) {
    return CannedResponse{200, R"({"token_value":"dapi-abc","token_info":{"token_id":"t1","creation_time":1714564800000,
                                  "expiry_time":-1,"comment":"ci"}})"};
  });
  RestClient client = ClientFor(server);
  std::ostringstream out;
  TokenCreateRequest request{3600, std::string("ci")};
  ASSERT_TRUE(RunTokensCreate(client, request, OutputFormat::kTable, out).ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/api/2.0/token/create");
  EXPECT_EQ(json::parse(requests[0].body), json({{"lifetime_seconds", 3600}, {"comment", "ci"}}));
  EXPECT_EQ(out.str(),
            "TOKEN ID  COMMENT  CREATED               EXPIRES\n"
            "--------  -------  --------------------  -------\n"
            "t1        ci       2024-05-01T12:00:00Z  never\n"
            "\n"
            "Token (shown only once, store it now):\n"
            "dapi-abc\n");

  std::ostringstream empty_request_out;
  ASSERT_TRUE(RunTokensCreate(client, {}, OutputFormat::kJson, empty_request_out).ok());
  EXPECT_EQ(json::parse(server.requests().back().body), json::object());
  EXPECT_EQ(json::parse(empty_request_out.str())["token_value"], "dapi-abc");
}

TEST(RestCommandsTest, TokensListShowsIsoTimes) {
  LoopbackHttpServer server([](const RecordedRequest&) {
    return CannedResponse{200, R"({"token_infos":[
        {"token_id":"a1","creation_time":1714564800000,"expiry_time":1717243200000,"comment":"nightly"},
        {"token_id":"b22","creation_time":"1714564800000","expiry_time":-1}]})"};
  });
  RestClient client = ClientFor(server);
  std::ostringstream out;
  ASSERT_TRUE(RunTokensList(client, OutputFormat::kTable, out).ok());
  EXPECT_EQ(out.str(),
            "TOKEN ID  COMMENT  CREATED               EXPIRES\n"
            "--------  -------  --------------------  --------------------\n"
            "a1        nightly  2024-05-01T12:00:00Z  2024-06-01T12:00:00Z\n"
            "b22                2024-05-01T12:00:00Z  never\n");
  EXPECT_EQ(server.requests().at(0).method, "GET");
  EXPECT_EQ(server.requests().at(0).target, "/api/2.0/token/list");
}

TEST(RestCommandsTest, TokensRevokeAndMalformedAnswers) {
  LoopbackHttpServer server([](const RecordedRequest& request) {
    if (request.target == "/api/2.0/token/delete") return CannedResponse{200, "{}"};
    return CannedResponse{200, "[1,2]"};
  });
  RestClient client = ClientFor(server);
  std::ostringstream out;
  ASSERT_TRUE(RunTokensRevoke(client, "a1", OutputFormat::kTable, out).ok());
  EXPECT_EQ(out.str(), "Revoked token a1\n");
  EXPECT_EQ(json::parse(server.requests().at(0).body), json({{"token_id", "a1"}}));

  std::ostringstream ignored;
  Status status = RunTokensList(client, OutputFormat::kTable, ignored);
  EXPECT_EQ(status.code(), ErrorCode::kProtocolViolation);
}

}  // namespace
}  // namespace tarn::cli
