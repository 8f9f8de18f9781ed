// SPDX-License-Identifier: Apache-2.0
// Server tests over real loopback sockets with a small blocking POSIX client.
#include "tarn/http/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tarn::http {
namespace {

// Guards against a hung test only; no assertion depends on it.
constexpr int kSocketGuardSeconds = 20;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int num_chunks = 0;

  std::string Get(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A blocking HTTP/1.1 client over one TCP connection.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{kSocketGuardSeconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response; nullopt when the connection closes (or the guard expires) first.
  std::optional<Reply> Read(bool head_request = false) {
    std::optional<std::string> head = ReadUntil("\r\n\r\n");
    if (!head) return std::nullopt;
    *head += "\r\n";  // every header line, the last one included, now ends in CRLF
    Reply reply;
    size_t line_end = head->find("\r\n");
    std::string status_line = head->substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
    reply.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end + 2;
    while (pos < head->size()) {
      size_t end = head->find("\r\n", pos);
      if (end == std::string::npos || end == pos) break;
      std::string line = head->substr(pos, end - pos);
      size_t colon = line.find(':');
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers[Lower(line.substr(0, colon))] = value;
      pos = end + 2;
    }
    if (head_request || reply.status == 100 || reply.status == 204 || reply.status == 304) return reply;
    if (Lower(reply.Get("transfer-encoding")) == "chunked") {
      while (true) {
        std::optional<std::string> size_line = ReadUntil("\r\n");
        if (!size_line) return std::nullopt;
        size_t size = std::stoul(*size_line, nullptr, 16);
        if (size == 0) {
          if (!ReadUntil("\r\n")) return std::nullopt;  // no trailers
          break;
        }
        std::optional<std::string> data = ReadExactly(size + 2);
        if (!data) return std::nullopt;
        reply.body += data->substr(0, size);
        ++reply.num_chunks;
      }
    } else if (reply.headers.count("content-length")) {
      std::optional<std::string> data = ReadExactly(std::stoul(reply.Get("content-length")));
      if (!data) return std::nullopt;
      reply.body = std::move(*data);
    } else {
      reply.body = ReadToEnd();
    }
    return reply;
  }

  // Returns true when the server closes the connection (EOF or reset) before the guard expires.
  bool WaitForClose() {
    char byte;
    while (true) {
      ssize_t n = ::recv(fd_, &byte, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      buffer_.push_back(byte);
    }
  }

 private:
  bool Fill() {
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  std::optional<std::string> ReadUntil(std::string_view delimiter) {
    while (true) {
      size_t found = buffer_.find(delimiter);
      if (found != std::string::npos) {
        std::string out = buffer_.substr(0, found);
        buffer_.erase(0, found + delimiter.size());
        return out;
      }
      if (!Fill()) return std::nullopt;
    }
  }
  std::optional<std::string> ReadExactly(size_t n) {
    while (buffer_.size() < n) {
      if (!Fill()) return std::nullopt;
    }
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }
  std::string ReadToEnd() {
    while (Fill()) {
    }
    return std::exchange(buffer_, "");
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::string Get(std::string_view path, std::string_view extra_headers = "") {
  return std::string("GET ") + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n";
}

std::string Post(std::string_view path, std::string_view body, std::string_view extra_headers = "") {
  return std::string("POST ") + std::string(path) +
         " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

// Deterministic bytes covering every value, for byte-exact comparisons.
std::string PatternBytes(size_t n) {
  std::string out(n, '\0');
  std::mt19937 rng(12345);
  for (auto& c : out) c = static_cast<char>(rng() & 0xFF);
  return out;
}

// A latch a slow handler waits on; the test releases it.
class Gate {
 public:
  void Enter() {
    std::unique_lock lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void WaitEntered(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool open_ = false;
};

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(Method::kGet, "/hello", [](Request&) { return Response::Text("hello"); });
    router_.Add(Method::kPost, "/echo", [](Request& request) { return Response::Text(request.body); });
    router_.Add(Method::kGet, "/query", [](Request& request) {
      return Response::Text(request.path + "|" + std::string(request.QueryParam("q").value_or("-")));
    });
    router_.Add(Method::kGet, "/throw", [](Request&) -> Response { throw std::runtime_error("boom"); });
    router_.Add(Method::kGet, "/slow", [this](Request&) {
      gate_.Enter();
      return Response::Text("slow done");
    });
    router_.Add(Method::kGet, "/stream", [this](Request&) {
      Response response;
      response.headers.emplace_back("Content-Type", "application/octet-stream");
      auto offset = std::make_shared<size_t>(0);
      response.producer = [this, offset](std::string& out) -> Result<bool> {
        size_t n = std::min<size_t>(65521, stream_data_.size() - *offset);  // odd size: pieces misalign
        out.append(stream_data_, *offset, n);
        *offset += n;
        return *offset < stream_data_.size();
      };
      return response;
    });
    router_.Add(Method::kGet, "/sized", [this](Request&) {
      Response response;
      response.SetHeader("Content-Length", std::to_string(stream_data_.size()));
      auto offset = std::make_shared<size_t>(0);
      response.producer = [this, offset](std::string& out) -> Result<bool> {
        size_t n = std::min<size_t>(100000, stream_data_.size() - *offset);
        out.append(stream_data_, *offset, n);
        *offset += n;
        return *offset < stream_data_.size();
      };
      return response;
    });
    router_.Add(Method::kGet, "/sized-wrong", [](Request&) {
      Response response;
      response.SetHeader("Content-Length", "100");
      response.producer = [](std::string& out) -> Result<bool> {
        out += "7 bytes";
        return false;
      };
      return response;
    });
    router_.Add(Method::kGet, "/stream-fail", [](Request&) {
      Response response;
      auto calls = std::make_shared<int>(0);
      response.producer = [calls](std::string& out) -> Result<bool> {
        if (++*calls > 2) return Error(ErrorCode::kIoError, "disk went away");
        out += "partial";
        return true;
      };
      return response;
    });
  }

  void TearDown() override {
    gate_.Open();
    if (server_) server_->Stop();
  }

  void StartServer(ServerOptions options = {}) {
    options.port = 0;
    auto server = Server::Create(options, [this](Request& request) { return router_.Dispatch(request); });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    server_->Start();
  }

  Router router_;
  Gate gate_;
  std::string stream_data_ = PatternBytes(3 * 1024 * 1024 + 17);
  std::unique_ptr<Server> server_;
};

TEST_F(ServerFixture, TwoRequestsOnOneKeepAliveConnection) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.Send(Get("/hello")));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value()) << i;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "hello");
    EXPECT_EQ(reply->Get("content-length"), "5");
    EXPECT_EQ(reply->Get("server").rfind("tarn/", 0), 0u);
    EXPECT_FALSE(reply->Get("date").empty());
    EXPECT_NE(Lower(reply->Get("connection")), "close");
  }
}

TEST_F(ServerFixture, PipelinedRequestsAnsweredInOrder) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/query?q=1") + Post("/echo", "two") + Get("/hello")));
  auto first = client.Read();
  auto second = client.Read();
  auto third = client.Read();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->body, "/query|1");
  EXPECT_EQ(second->body, "two");
  EXPECT_EQ(third->body, "hello");
}

TEST_F(ServerFixture, ConnectionCloseIsHonoured) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/hello", "Connection: close\r\n")));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(Lower(reply->Get("connection")), "close");
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerFixture, Http10ClosesUnlessKeepAlive) {
  StartServer();
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("GET /hello HTTP/1.0\r\n\r\n"));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->body, "hello");
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(Lower(reply->Get("connection")), "keep-alive");
    ASSERT_TRUE(client.Send("GET /hello HTTP/1.0\r\n\r\n"));
    ASSERT_TRUE(client.Read().has_value());
  }
}

TEST_F(ServerFixture, QueryAndPercentDecodedPath) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/%71uery?q=a%20b+c")));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, "/query|a b c");
  ASSERT_TRUE(client.Send(Get("/query?q=%zz")));
  reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 400);
  EXPECT_NE(reply->body.find("MALFORMED_REQUEST"), std::string::npos);
}

TEST_F(ServerFixture, UnknownRouteAndThrowingHandlerGiveJsonErrors) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/nope") + Get("/throw") + Get("/hello")));
  auto missing = client.Read();
  auto thrown = client.Read();
  auto after = client.Read();
  ASSERT_TRUE(missing && thrown && after);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("ENDPOINT_NOT_FOUND"), std::string::npos);
  EXPECT_EQ(thrown->status, 500);
  EXPECT_NE(thrown->body.find("INTERNAL_ERROR"), std::string::npos);
  EXPECT_EQ(after->status, 200);  // the connection survives a throwing handler
}

TEST_F(ServerFixture, HeadGetsLengthButNoBody) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto reply = client.Read(/*head_request=*/true);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->Get("content-length"), "5");
  // Had the server sent a body, it would be read as the start of this response.
  ASSERT_TRUE(client.Send(Get("/hello")));
  reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "hello");
}

TEST_F(ServerFixture, OversizeHeaderGets431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  StartServer(options);
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/hello", "X-Big: " + std::string(4096, 'a') + "\r\n")));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 431);
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerFixture, OversizeBodyGets413Json) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send(Post("/echo", std::string(1024, 'x'))));  // exactly at the limit is fine
    auto ok = client.Read();
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(ok->body.size(), 1024u);
  }
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send(Post("/echo", std::string(200000, 'x'))));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 413);
    EXPECT_EQ(reply->Get("content-type"), "application/json");
    EXPECT_EQ(reply->body.rfind("{\"error_code\": ", 0), 0u);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    // A chunked body has no Content-Length up front; the limit applies as chunks arrive.
    Client client(server_->port());
    std::string request = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) request += "200\r\n" + std::string(512, 'y') + "\r\n";
    request += "0\r\n\r\n";
    ASSERT_TRUE(client.Send(request));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 413);
  }
}

TEST_F(ServerFixture, ReadTimeoutClosesHalfRequests) {
  ServerOptions options;
  options.read_timeout = std::chrono::milliseconds(200);
  StartServer(options);
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\nHost: t\r\n"));  // header never finishes
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));  // body stalls
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    Client client(server_->port());  // connects and never sends anything
    EXPECT_TRUE(client.WaitForClose());
  }
}

TEST_F(ServerFixture, IdleTimeoutClosesKeepAliveConnection) {
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  StartServer(options);
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/hello")));
  ASSERT_TRUE(client.Read().has_value());
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerFixture, ChunkedRequestBody) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "hello world");
}

TEST_F(ServerFixture, ProducerResponseIsChunkedAndByteExact) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/stream")));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(Lower(reply->Get("transfer-encoding")), "chunked");
  EXPECT_TRUE(reply->Get("content-length").empty());
  EXPECT_GT(reply->num_chunks, 1);
  ASSERT_EQ(reply->body.size(), stream_data_.size());
  EXPECT_TRUE(reply->body == stream_data_);
  // HEAD of a streamed GET: the same framing header, no body.
  ASSERT_TRUE(client.Send("HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = client.Read(/*head_request=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(Lower(head->Get("transfer-encoding")), "chunked");
  EXPECT_TRUE(head->Get("content-length").empty());
  // The connection is still usable after a streamed response.
  ASSERT_TRUE(client.Send(Get("/hello")));
  auto next = client.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "hello");
}

TEST_F(ServerFixture, ProducerWithDeclaredLengthStreamsWithoutChunking) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/sized")));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->Get("transfer-encoding").empty());
  EXPECT_EQ(reply->Get("content-length"), std::to_string(stream_data_.size()));
  EXPECT_TRUE(reply->body == stream_data_);
  // HEAD through the router's GET fallback: same length, no body, connection still in sync.
  ASSERT_TRUE(client.Send("HEAD /sized HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = client.Read(/*head_request=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_TRUE(head->Get("transfer-encoding").empty());
  EXPECT_EQ(head->Get("content-length"), std::to_string(stream_data_.size()));
  ASSERT_TRUE(client.Send(Get("/hello")));
  auto next = client.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "hello");
}

TEST_F(ServerFixture, ProducerShorterThanDeclaredLengthClosesTheConnection) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/sized-wrong")));
  EXPECT_FALSE(client.Read().has_value());  // 100 bytes promised, 7 produced: the client sees a cut body
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerFixture, ProducerOverHttp10EndsWithClose) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send("GET /stream HTTP/1.0\r\n\r\n"));
  auto reply = client.Read();  // no length and no chunking: the body runs to EOF
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->Get("transfer-encoding").empty());
  EXPECT_TRUE(reply->body == stream_data_);
}

TEST_F(ServerFixture, ProducerErrorAbortsTheConnection) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/stream-fail")));
  auto reply = client.Read();  // the last chunk never comes
  EXPECT_FALSE(reply.has_value());
}

TEST_F(ServerFixture, Expect100Continue) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    auto interim = client.Read();
    ASSERT_TRUE(interim.has_value());
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(client.Send("hello"));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "hello");
  }
  {
    // Too large: refused before the client sends the body, with no 100 first.
    Client client(server_->port());
    ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 413);
  }
}

TEST_F(ServerFixture, MalformedRequestsGet400AndClose) {
  StartServer();
  for (std::string raw : {std::string("GARBAGE\r\n\r\n"), std::string("GET /hello HTTP/9.9\r\n\r\n"),
                          std::string("GET /hello HTTP/1.1\r\nBad Header\r\n\r\n"),
                          std::string("POST /echo HTTP/1.1\r\nContent-Length: xyz\r\n\r\n"),
                          std::string("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    Client client(server_->port());
    ASSERT_TRUE(client.Send(raw));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value()) << raw;
    EXPECT_EQ(reply->status, 400) << raw;
    EXPECT_NE(reply->body.find("\"error_code\""), std::string::npos) << raw;
    EXPECT_TRUE(client.WaitForClose()) << raw;
  }
}

TEST_F(ServerFixture, ConcurrentClientsAllAnswered) {
  ServerOptions options;
  options.num_threads = 2;
  StartServer(options);
  constexpr int kThreads = 8;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client client(server_->port());
      for (int i = 0; i < kRequests; ++i) {
        std::string body = fmt::format("t{}-{}", t, i);
        if (!client.Send(Post("/echo", body))) return;
        auto reply = client.Read();
        if (reply && reply->status == 200 && reply->body == body) ok.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
}

TEST_F(ServerFixture, SlowHandlerDoesNotBlockOtherConnections) {
  ServerOptions options;
  options.num_threads = 1;
  StartServer(options);
  Client slow(server_->port());
  ASSERT_TRUE(slow.Send(Get("/slow")));
  gate_.WaitEntered(1);
  Client fast(server_->port());
  ASSERT_TRUE(fast.Send(Get("/hello")));
  auto fast_reply = fast.Read();  // answered while /slow is still blocked in its handler
  ASSERT_TRUE(fast_reply.has_value());
  EXPECT_EQ(fast_reply->body, "hello");
  gate_.Open();
  auto slow_reply = slow.Read();
  ASSERT_TRUE(slow_reply.has_value());
  EXPECT_EQ(slow_reply->body, "slow done");
}

TEST_F(ServerFixture, StopCompletesInFlightRequest) {
  StartServer();
  uint16_t port = server_->port();
  Client idle(port);
  ASSERT_TRUE(idle.Send(Get("/hello")));
  ASSERT_TRUE(idle.Read().has_value());
  Client busy(port);
  ASSERT_TRUE(busy.Send(Get("/slow")));
  gate_.WaitEntered(1);

  auto stopper = std::async(std::launch::async, [this] { server_->Stop(std::chrono::seconds(60)); });
  // Declared after `stopper` so it runs first on an early return: the handler finishes, then Stop() can return.
  std::shared_ptr<void> open_gate(nullptr, [this](void*) { gate_.Open(); });
  EXPECT_TRUE(idle.WaitForClose());  // idle keep-alive connections are closed at once
  // Wait until the listener is gone, i.e. Stop() is under way, before letting the handler finish.
  for (int attempt = 0; attempt < 2000; ++attempt) {
    Client probe(port);
    if (!probe.connected()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  gate_.Open();
  auto reply = busy.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "slow done");
  EXPECT_EQ(Lower(reply->Get("connection")), "close");
  stopper.get();
  server_->Stop();  // a second Stop is a no-op
}

TEST_F(ServerFixture, TakenPortFailsOnCreate) {
  StartServer();
  ServerOptions options;
  options.port = server_->port();
  auto second = Server::Create(options, [](Request&) { return Response::Text("x"); });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kConnectionFailure);
  EXPECT_EQ(second.error().message(), "address already in use: 127.0.0.1:" + std::to_string(server_->port()));
}

TEST(ServerTest, InvalidBindAddressFails) {
  ServerOptions options;
  options.bind_address = "not-an-address";
  options.port = 0;
  auto server = Server::Create(options, [](Request&) { return Response::Text("x"); });
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code(), ErrorCode::kInvalidParameterValue);
}

TEST(ServerTest, DestroyWithoutStopAndStopWithoutStart) {
  ServerOptions options;
  options.port = 0;
  {
    auto server = Server::Create(options, [](Request&) { return Response::Text("x"); });
    ASSERT_TRUE(server.ok());
    (*server)->Start();
    Client client((*server)->port());
    ASSERT_TRUE(client.Send(Get("/")));
    ASSERT_TRUE(client.Read().has_value());
  }  // destroyed while the client connection is open
  {
    auto server = Server::Create(options, [](Request&) { return Response::Text("x"); });
    ASSERT_TRUE(server.ok());
    (*server)->Stop();
    (*server)->Stop();
  }
}

// A streaming route that hashes what it reads (FNV-1a) so a large body needs no copy in the test.
class StreamingFixture : public ServerFixture {
 protected:
  static uint64_t Fnv(uint64_t hash, std::string_view data) {
    for (unsigned char c : data) hash = (hash ^ c) * 1099511628211ULL;
    return hash;
  }

  void StartStreaming(ServerOptions options = {}) {
    router_.AddStreaming(Method::kPut, "/upload", [this](Request& request) {
      if (!request.body_reader) return Response::Text("buffered:" + std::to_string(request.body.size()));
      uint64_t hash = 14695981039346656037ULL;
      size_t total = 0;
      std::string piece;
      while (true) {
        Result<bool> more = request.body_reader->Read(piece);
        if (!more.ok()) return Response::Error(more.error());
        hash = Fnv(hash, piece);
        total += piece.size();
        if (!*more) break;
      }
      return Response::Text(std::to_string(total) + ":" + std::to_string(hash));
    }, /*max_body_bytes=*/64 * 1024 * 1024);
    router_.AddStreaming(Method::kPut, "/refuse", [](Request&) {
      return Response::Error(Error(ErrorCode::kPermissionDenied, "no uploads here"));
    }, 1024 * 1024);
    router_.AddStreaming(Method::kPut, "/small", [](Request& request) {
      std::string piece;
      while (true) {
        Result<bool> more = request.body_reader->Read(piece);
        if (!more.ok()) return Response::Error(more.error());
        if (!*more) return Response::Text("done");
      }
    }, 1000);
    options.max_body_bytes = 1024;  // buffered routes stay small; streaming routes have their own limit
    options.streamed_body_limit = [this](Method method, std::string_view path) {
      return router_.StreamedBodyLimit(method, path);
    };
    StartServer(options);
  }

  static std::string Put(std::string_view path, std::string_view body, std::string_view extra_headers = "") {
    return std::string("PUT ") + std::string(path) + " HTTP/1.1\r\nHost: t\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" + std::string(body);
  }
};

TEST_F(StreamingFixture, LargeBodyStreamsPastTheBufferedLimit) {
  StartStreaming();
  std::string body = PatternBytes(20 * 1024 * 1024 + 3);
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Put("/upload", body)));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, std::to_string(body.size()) + ":" + std::to_string(Fnv(14695981039346656037ULL, body)));
  // The connection stays usable, and buffered routes keep their own limit.
  ASSERT_TRUE(client.Send(Post("/echo", "after")));
  auto echo = client.Read();
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->body, "after");
  ASSERT_TRUE(client.Send(Post("/echo", std::string(2000, 'x'))));
  auto too_big = client.Read();
  ASSERT_TRUE(too_big.has_value());
  EXPECT_EQ(too_big->status, 413);
}

// ReadInto writes the body into a file (spliced for a Content-Length body, copied for a chunked one); the route
// answers with the size and hash of what landed in the file.
TEST_F(StreamingFixture, ReadIntoFillsAFileByteExact) {
  router_.AddStreaming(Method::kPut, "/into", [](Request& request) {
    char name[] = "/tmp/tarn-read-into-XXXXXX";
    int fd = ::mkstemp(name);
    if (fd < 0) return Response::Text("mkstemp failed");
    ::unlink(name);
    uint64_t reported = 0;
    while (true) {
      uint64_t moved = 0;
      Result<bool> more = request.body_reader->ReadInto(fd, moved);
      if (!more.ok()) {
        ::close(fd);
        return Response::Error(more.error());
      }
      reported += moved;
      if (!*more) break;
    }
    std::string content(static_cast<size_t>(::lseek(fd, 0, SEEK_END)), '\0');
    ssize_t got = ::pread(fd, content.data(), content.size(), 0);
    ::close(fd);
    if (got != static_cast<ssize_t>(content.size())) return Response::Text("short read");
    return Response::Text(std::to_string(reported) + ":" + std::to_string(content.size()) + ":" +
                          std::to_string(Fnv(14695981039346656037ULL, content)));
  }, 64 * 1024 * 1024);
  StartStreaming();
  std::string body = PatternBytes(20 * 1024 * 1024 + 5);
  std::string expected = std::to_string(body.size()) + ":" + std::to_string(body.size()) + ":" +
                         std::to_string(Fnv(14695981039346656037ULL, body));
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Put("/into", body) + Post("/echo", "next")));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, expected);
  auto echo = client.Read();  // the body ended exactly at its length
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->body, "next");
  std::string chunked = "PUT /into HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  ASSERT_TRUE(client.Send(chunked));
  auto small = client.Read();
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(small->body, "5:5:" + std::to_string(Fnv(14695981039346656037ULL, "hello")));
}

TEST_F(StreamingFixture, ChunkedStreamedBody) {
  StartStreaming();
  std::string body = PatternBytes(300000);
  std::string request = "PUT /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t offset = 0; offset < body.size(); offset += 70000) {
    std::string part = body.substr(offset, 70000);
    char size_line[32];
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", part.size());
    request += size_line + part + "\r\n";
  }
  request += "0\r\n\r\n";
  Client client(server_->port());
  ASSERT_TRUE(client.Send(request));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, std::to_string(body.size()) + ":" + std::to_string(Fnv(14695981039346656037ULL, body)));
}

TEST_F(StreamingFixture, RouteLimitIs413ForTheHandler) {
  StartStreaming();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Put("/small", std::string(5000, 'x'))));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 413);
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(StreamingFixture, ContinueIsSentOnlyWhenTheHandlerReads) {
  StartStreaming();
  {
    // The handler refuses without reading: the answer comes instead of "100 Continue", then the connection closes.
    Client client(server_->port());
    ASSERT_TRUE(client.Send("PUT /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 403);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    auto interim = client.Read();
    ASSERT_TRUE(interim.has_value());
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(client.Send("hello"));
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->body, "5:" + std::to_string(Fnv(14695981039346656037ULL, "hello")));
  }
}

TEST_F(StreamingFixture, ClientVanishingMidBodyEndsTheRead) {
  std::promise<std::string> outcome;
  router_.AddStreaming(Method::kPut, "/vanish", [&outcome](Request& request) {
    std::string piece;
    while (true) {
      Result<bool> more = request.body_reader->Read(piece);
      if (!more.ok()) {
        outcome.set_value(std::string(GetErrorCodeInfo(more.error().code()).databricks));
        return Response::Error(more.error());
      }
      if (!*more) {
        outcome.set_value("complete");
        return Response::Text("complete");
      }
    }
  }, 1 << 20);
  StartStreaming();
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("PUT /vanish HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\npartial"));
  }  // closed with the body unfinished
  EXPECT_EQ(outcome.get_future().get(), "TEMPORARILY_UNAVAILABLE");  // kConnectionFailure
}

TEST_F(StreamingFixture, WithoutTheHookBodiesAreBuffered) {
  router_.AddStreaming(Method::kPut, "/upload", [](Request& request) {
    return Response::Text(request.body_reader ? "streamed" : "buffered:" + request.body);
  }, 1 << 20);
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Put("/upload", "abc")));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, "buffered:abc");
}

TEST_F(StreamingFixture, PipelinedRequestAfterALargeStreamedBodyIsAnswered) {
  // The next request arrives in the same write as the body: the body read must stop exactly at its length.
  StartStreaming();
  std::string body = PatternBytes(3 * 1024 * 1024 + 17);
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Put("/upload", body) + Post("/echo", "next")));
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, std::to_string(body.size()) + ":" + std::to_string(Fnv(14695981039346656037ULL, body)));
  auto echo = client.Read();
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->body, "next");
}

TEST_F(StreamingFixture, StalledStreamedBodyTimesOut) {
  std::promise<std::string> outcome;
  router_.AddStreaming(Method::kPut, "/stall", [&outcome](Request& request) {
    std::string piece;
    while (true) {
      Result<bool> more = request.body_reader->Read(piece);
      if (!more.ok()) {
        outcome.set_value(std::string(GetErrorCodeInfo(more.error().code()).databricks));
        return Response::Error(more.error());
      }
      if (!*more) {
        outcome.set_value("complete");
        return Response::Text("complete");
      }
    }
  }, 1 << 20);
  ServerOptions options;
  options.read_timeout = std::chrono::milliseconds(200);
  StartStreaming(options);
  Client client(server_->port());
  ASSERT_TRUE(client.Send("PUT /stall HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\npartial"));
  // The client stays connected but sends nothing more: the server gives up and closes.
  EXPECT_EQ(outcome.get_future().get(), "TEMPORARILY_UNAVAILABLE");  // kConnectionFailure
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(StreamingFixture, HandlerStoppingEarlyAnswersAndCloses) {
  // The handler returns after one piece while the read-ahead of the next is still pending.
  router_.AddStreaming(Method::kPut, "/first", [](Request& request) {
    std::string piece;
    Result<bool> more = request.body_reader->Read(piece);
    if (!more.ok()) return Response::Error(more.error());
    return Response::Text("first:" + std::to_string(piece.size()));
  }, 64 << 20);
  StartStreaming();
  std::string head = "PUT /first HTTP/1.1\r\nHost: t\r\nContent-Length: 8388608\r\n\r\n";
  Client client(server_->port());
  ASSERT_TRUE(client.Send(head + PatternBytes(2 * 1024 * 1024 + 5)));  // the rest of the 8 MiB never comes
  auto reply = client.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "first:1048576");
  EXPECT_TRUE(client.WaitForClose());  // the unread body cannot be parsed as a next request
}

// A response body sent from a file with sendfile(2): whole, as a byte range, and under HEAD.
class FileBodyFixture : public ServerFixture {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tarn-http-file-XXXXXX";
    int fd = ::mkstemp(pattern);
    ASSERT_GE(fd, 0);
    path_ = pattern;
    data_ = PatternBytes(5 * 1024 * 1024 + 123);
    ASSERT_EQ(::write(fd, data_.data(), data_.size()), static_cast<ssize_t>(data_.size()));
    ::close(fd);
    router_.Add(Method::kGet, "/file", [this](Request& request) {
      uint64_t offset = 0;
      uint64_t length = data_.size();
      if (auto from = request.QueryParam("offset")) offset = std::stoull(std::string(*from));
      if (auto count = request.QueryParam("length")) length = std::stoull(std::string(*count));
      auto fd = std::shared_ptr<int>(new int(::open(path_.c_str(), O_RDONLY)), [](int* p) {
        ::close(*p);
        delete p;
      });
      Response response;
      response.SetHeader("Content-Length", std::to_string(length));
      // The fallback producer sends a different byte, so a test can tell which path ran.
      response.producer = [length](std::string& out) -> Result<bool> {
        out.assign(length, '?');
        return false;
      };
      response.file = FileBody{fd, *fd, offset, length};
      return response;
    });
    StartServer();
  }
  void TearDown() override {
    ServerFixture::TearDown();
    ::unlink(path_.c_str());
  }

  std::string path_;
  std::string data_;
};

TEST_F(FileBodyFixture, WholeFileAndRangesAreByteExactOnOneConnection) {
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/file")));
  auto whole = client.Read();
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body.size(), data_.size());
  EXPECT_TRUE(whole->body == data_);
  ASSERT_TRUE(client.Send(Get("/file?offset=4194300&length=1000")));
  auto range = client.Read();
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->body, data_.substr(4194300, 1000));
  ASSERT_TRUE(client.Send(Get("/file?offset=1&length=1")));
  auto one = client.Read();
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->body, data_.substr(1, 1));
}

TEST_F(FileBodyFixture, HeadKeepsTheLengthAndSendsNoBody) {
  Client client(server_->port());
  ASSERT_TRUE(client.Send("HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = client.Read(/*head_request=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Get("content-length"), std::to_string(data_.size()));
  EXPECT_TRUE(head->body.empty());
  ASSERT_TRUE(client.Send(Get("/file?offset=0&length=10")));  // the connection is still in step
  auto next = client.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, data_.substr(0, 10));
}

TEST_F(FileBodyFixture, FileShorterThanDeclaredClosesTheConnection) {
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/file?offset=" + std::to_string(data_.size() - 10) + "&length=20")));
  auto reply = client.Read();
  EXPECT_FALSE(reply.has_value());  // 10 bytes came, then the close: the body is incomplete
}

}  // namespace
}  // namespace tarn::http
