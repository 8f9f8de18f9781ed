// SPDX-License-Identifier: Apache-2.0
// LoopbackHttpServer: a tiny HTTP/1.1 responder on 127.0.0.1 (plain POSIX sockets) for CLI client tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tarn::cli::testing {

struct RecordedRequest {
  std::string method;
  std::string target;  // path plus query string
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// Returns the value of header `name` (case-insensitive), or "" when absent.
  std::string Header(std::string name) const {
    auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
      return s;
    };
    name = lower(name);
    for (const auto& [key, value] : headers) {
      if (lower(key) == name) return value;
    }
    return "";
  }
};

struct CannedResponse {
  int status = 200;
  std::string body = "{}";
  std::string content_type = "application/json";
  /// When >= 0, the Content-Length announced instead of the body's size (a larger value makes a truncated answer).
  long long declared_length = -1;
  /// Sends the body as one chunk with Transfer-Encoding: chunked instead of a Content-Length.
  bool chunked = false;
};

/// Serves one connection at a time on 127.0.0.1 and a kernel-chosen port; every request gets the handler's
/// answer and "Connection: close". Requests are recorded in arrival order.
class LoopbackHttpServer {
 public:
  using Handler = std::function<CannedResponse(const RecordedRequest&)>;

  explicit LoopbackHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listen_fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }

  ~LoopbackHttpServer() {
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    close(listen_fd_);
  }

  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (true) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      HandleConnection(fd);
      close(fd);
    }
  }

  static bool ReadMore(int fd, std::string& buffer) {
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }

  void HandleConnection(int fd) {
    std::string buffer;
    size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(fd, buffer)) return;
    }
    RecordedRequest request;
    std::string head = buffer.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    size_t space1 = request_line.find(' ');
    size_t space2 = request_line.find(' ', space1 + 1);
    request.method = request_line.substr(0, space1);
    request.target = request_line.substr(space1 + 1, space2 - space1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        size_t value_start = line.find_first_not_of(' ', colon + 1);
        request.headers.emplace_back(line.substr(0, colon),
                                     value_start == std::string::npos ? "" : line.substr(value_start));
      }
      pos = end + 2;
    }
    size_t content_length = 0;
    if (std::string cl = request.Header("Content-Length"); !cl.empty()) content_length = std::stoul(cl);
    size_t body_start = header_end + 4;
    while (buffer.size() < body_start + content_length) {
      if (!ReadMore(fd, buffer)) return;
    }
    request.body = buffer.substr(body_start, content_length);

    CannedResponse response = handler_(request);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
    }
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " Canned\r\n";
    out += "Content-Type: " + response.content_type + "\r\n";
    if (response.chunked) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx", response.body.size());
      out += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
      if (!response.body.empty()) out += std::string(size) + "\r\n" + response.body + "\r\n";
      out += "0\r\n\r\n";
    } else {
      long long length = response.declared_length >= 0 ? response.declared_length
                                                        : static_cast<long long>(response.body.size());
      out += "Content-Length: " + std::to_string(length) + "\r\n";
      out += "Connection: close\r\n\r\n";
      out += response.body;
    }
    size_t written = 0;
    while (written < out.size()) {
      ssize_t n = write(fd, out.data() + written, out.size() - written);
      if (n <= 0) return;
      written += static_cast<size_t>(n);
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;
};

/// Returns a loopback port that refuses connections: a bound socket that never listens (held by the returned fd,
/// so no other process can take the port while the test runs). Close the fd when done.
inline std::pair<int, int> RefusingPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return {fd, ntohs(addr.sin_port)};
}

}  // namespace tarn::cli::testing
