// SPDX-License-Identifier: Apache-2.0
// Tests for RestClient and the auth/tokens commands against a loopback HTTP responder.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tarn/base/crypto.hpp"
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

// A new empty file in a fresh temporary directory, removed with it.
class TempFile {
 public:
  TempFile() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tarn-rest-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    path_ = dir_ + "/file.bin";
  }
  ~TempFile() { std::filesystem::remove_all(dir_); }
  int OpenForWrite() const { return ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); }
  int OpenForRead() const { return ::open(path_.c_str(), O_RDONLY | O_CLOEXEC); }
  void Write(const std::string& data) const { std::ofstream(path_, std::ios::binary) << data; }
  std::string Read() const {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

TEST(RestClientTest, GetToFileMovesALargeBodyByteExact) {
  // Not a multiple of the page size or the pipe size, so partial splices and the bytes that arrive with the
  // answer's head are all exercised.
  const std::string data = RandomBytes((3 << 20) + 12345);
  LoopbackHttpServer server([&](const RecordedRequest&) {
    return CannedResponse{200, data, "application/octet-stream"};
  });
  RestClient client = ClientFor(server);
  TempFile file;
  int fd = file.OpenForWrite();
  ASSERT_GE(fd, 0);
  int64_t last_done = -1, last_total = -1;
  auto bytes = client.GetToFile("/api/2.0/fs/files/Volumes/a%20b", {{"x", "1"}}, fd, file.path(),
                                [&](int64_t done, int64_t total) {
                                  EXPECT_GE(done, last_done);
                                  last_done = done;
                                  last_total = total;
                                });
  ::close(fd);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, static_cast<int64_t>(data.size()));
  EXPECT_EQ(last_done, static_cast<int64_t>(data.size()));
  EXPECT_EQ(last_total, static_cast<int64_t>(data.size()));
  EXPECT_TRUE(file.Read() == data);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/api/2.0/fs/files/Volumes/a%20b?x=1");
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer dapi-secret-123");
  EXPECT_EQ(requests[0].Header("User-Agent").rfind("tarn-cli/", 0), 0u);
}

TEST(RestClientTest, GetToFileErrorAnswersShortBodiesAndRefusedConnections) {
  LoopbackHttpServer server([](const RecordedRequest& request) {
    if (request.target.ends_with("/missing")) {
      return CannedResponse{404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no such file"})"};
    }
    CannedResponse truncated{200, std::string(100000, 'x'), "application/octet-stream"};
    truncated.declared_length = 250000;  // the server goes away after 100,000 of 250,000 bytes
    return truncated;
  });
  RestClient client = ClientFor(server);
  TempFile file;
  int fd = file.OpenForWrite();
  ASSERT_GE(fd, 0);
  auto missing = client.GetToFile("/api/2.0/fs/files/missing", {}, fd, file.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(missing.status().message(), "RESOURCE_DOES_NOT_EXIST: no such file");
  auto truncated = client.GetToFile("/api/2.0/fs/files/short", {}, fd, file.path());
  ::close(fd);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), ErrorCode::kConnectionFailure);
  EXPECT_NE(truncated.status().message().find("closed after 100000 of 250000 bytes"), std::string::npos)
      << truncated.status().message();

  auto [held_fd, port] = testing::RefusingPort();
  RestClientOptions options;
  options.host = "http://127.0.0.1:" + std::to_string(port);
  RestClient refused(options);
  fd = file.OpenForWrite();
  auto answer = refused.GetToFile("/api/2.0/fs/files/x", {}, fd, file.path());
  ::close(fd);
  ::close(held_fd);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kConnectionFailure);
  EXPECT_NE(answer.status().message().find("connection refused"), std::string::npos) << answer.status().message();
}

TEST(RestClientTest, GetToFileWithoutContentLengthGoesThroughLibcurl) {
  const std::string data = RandomBytes(300000);
  LoopbackHttpServer server([&](const RecordedRequest&) {
    CannedResponse response{200, data, "application/octet-stream"};
    response.chunked = true;
    return response;
  });
  RestClient client = ClientFor(server);
  TempFile file;
  int fd = file.OpenForWrite();
  ASSERT_GE(fd, 0);
  auto bytes = client.GetToFile("/api/2.0/fs/files/c", {}, fd, file.path());
  ::close(fd);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, static_cast<int64_t>(data.size()));
  EXPECT_TRUE(file.Read() == data);
  EXPECT_EQ(server.requests().size(), 2u);  // the plain attempt saw no Content-Length and left it to libcurl
}

TEST(RestClientTest, PutFileSendsTheFileAndDecodesErrors) {
  const std::string data = RandomBytes((1 << 20) + 777);
  LoopbackHttpServer server([](const RecordedRequest& request) {
    if (request.target.find("overwrite=false") != std::string::npos) {
      return CannedResponse{409, R"({"error_code":"RESOURCE_ALREADY_EXISTS","message":"exists"})"};
    }
    return CannedResponse{204, "", "text/plain"};
  });
  RestClient client = ClientFor(server);
  TempFile file;
  file.Write(data + "tail not sent");
  int fd = file.OpenForRead();
  ASSERT_GE(fd, 0);
  int64_t last_done = -1;
  auto answer = client.PutFile("/api/2.0/fs/files/v.bin", {{"overwrite", "true"}}, fd,
                               static_cast<int64_t>(data.size()), file.path(),
                               [&](int64_t done, int64_t) { last_done = done; });
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(last_done, static_cast<int64_t>(data.size()));
  auto conflict = client.PutFile("/api/2.0/fs/files/v.bin", {{"overwrite", "false"}}, fd, 1000, file.path());
  ::close(fd);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().message(), "RESOURCE_ALREADY_EXISTS: exists");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/api/2.0/fs/files/v.bin?overwrite=true");
  EXPECT_EQ(requests[0].Header("Content-Length"), std::to_string(data.size()));
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer dapi-secret-123");
  EXPECT_TRUE(requests[0].body == data);
  EXPECT_EQ(requests[1].body.size(), 1000u);
}

TEST(RestClientTest, PutFileReadsAnAnswerThatArrivesBeforeTheWholeBody) {
  // A server that answers 409 right after the request head and reads nothing more until the client gives up: the
  // client must stop sending, report the server's error and not die of SIGPIPE.
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  ::listen(listener, 1);
  std::thread server([listener] {
    int fd = ::accept(listener, nullptr, nullptr);
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && ::read(fd, &c, 1) == 1) head += c;
    std::string body = R"({"error_code":"RESOURCE_ALREADY_EXISTS","message":"taken"})";
    std::string answer = "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    (void)::write(fd, answer.data(), answer.size());
    char sink[65536];
    while (::read(fd, sink, sizeof sink) > 0) {  // like the real server's linger: drain until the client leaves
    }
    ::close(fd);
  });
  RestClientOptions options;
  options.host = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  RestClient client(options);
  TempFile file;
  file.Write(std::string(64 << 20, 'z'));
  int fd = file.OpenForRead();
  ASSERT_GE(fd, 0);
  auto answer = client.PutFile("/api/2.0/fs/files/x", {}, fd, 64 << 20, file.path());
  ::close(fd);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().message(), "RESOURCE_ALREADY_EXISTS: taken");
  server.join();
  ::close(listener);
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
