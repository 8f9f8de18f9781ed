// SPDX-License-Identifier: Apache-2.0
// Plain-socket HTTP/1.1 transfers: connect with a timeout, request head, answer head, splice(2) body into a file,
// sendfile(2) body from a file.
#include "tarn/cli/detail/plain_http.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace tarn::cli::detail {
namespace {

constexpr size_t kMaxHeadBytes = 64 << 10;
constexpr size_t kMaxKeptBody = 1 << 20;
// Pipe capacity asked for with F_SETPIPE_SZ (the default /proc/sys/fs/pipe-max-size): one splice pair moves up to
// this much, about 1,000 pairs per GiB.
constexpr int kPipeBytes = 1 << 20;
// Largest single sendfile(2) call.
constexpr size_t kSendfileBytes = 4 << 20;
// Buffer for the plain-copy fallbacks (a file that refuses splice, the body of an answer).
constexpr size_t kCopyBytes = 1 << 20;

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status TimedOut(const PlainTransferOptions& options) {
  return Error(ErrorCode::kConnectionFailure, "request to {} timed out after {} s", options.display_host,
               options.stall_timeout_seconds);
}

// Waits until `fd` reports one of `events`; returns the reported events. Times out after `seconds`.
Result<short> WaitFor(int fd, short events, long seconds, const PlainTransferOptions& options) {
  pollfd p{fd, events, 0};
  while (true) {
    int n = ::poll(&p, 1, static_cast<int>(std::min<long>(seconds, 86400) * 1000));
    if (n > 0) return p.revents;
    if (n == 0) return TimedOut(options);
    if (errno != EINTR) {
      return Error(ErrorCode::kConnectionFailure, "request to {} failed: poll: {}", options.display_host,
                   std::strerror(errno));
    }
  }
}

Status ConnectionError(const PlainTransferOptions& options, std::string_view what) {
  return Error(ErrorCode::kConnectionFailure, "request to {} failed: {}", options.display_host, what);
}

// Connects a non-blocking TCP socket to the first address of `url` that accepts within the connect timeout.
Result<int> Connect(const PlainHttpUrl& url, const PlainTransferOptions& options) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found);
  if (rc != 0) {
    return Error(ErrorCode::kConnectionFailure, "cannot resolve the host of {}: {}", options.display_host,
                 ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, ::freeaddrinfo);
  int last_error = ECONNREFUSED;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = errno;
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int n;
    do {
      n = ::poll(&p, 1, static_cast<int>(options.connect_timeout_seconds * 1000));
    } while (n < 0 && errno == EINTR);
    int error = 0;
    socklen_t len = sizeof error;
    if (n <= 0) {
      error = n == 0 ? ETIMEDOUT : errno;
    } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
      error = errno;
    }
    if (error == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    last_error = error;
    ::close(fd);
  }
  std::string reason = last_error == ECONNREFUSED ? "connection refused" : std::strerror(last_error);
  return Error(ErrorCode::kConnectionFailure, "cannot connect to {}: {} (is the server running? start it with "
               "`tarn up`)", options.display_host, reason);
}

Status SendAll(int sock, std::string_view data, const PlainTransferOptions& options) {
  while (!data.empty()) {
    ssize_t n = ::send(sock, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      TARN_RETURN_IF_ERROR(WaitFor(sock, POLLOUT, options.stall_timeout_seconds, options).status());
      continue;
    }
    return ConnectionError(options, std::strerror(errno));
  }
  return Status::OK();
}

// Receives what is available into `out` (waiting for it first); returns the byte count, 0 at end of stream.
Result<size_t> RecvSome(int sock, std::string& out, size_t max, const PlainTransferOptions& options) {
  size_t old_size = out.size();
  out.resize(old_size + max);
  while (true) {
    ssize_t n = ::recv(sock, out.data() + old_size, max, 0);
    if (n >= 0) {
      out.resize(old_size + static_cast<size_t>(n));
      return static_cast<size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      auto waited = WaitFor(sock, POLLIN, options.stall_timeout_seconds, options);
      if (!waited.has_value()) {
        out.resize(old_size);
        return waited.error();
      }
      continue;
    }
    int error = errno;
    out.resize(old_size);
    return ConnectionError(options, std::strerror(error));
  }
}

struct AnswerHead {
  long status = 0;
  int64_t content_length = -1;  // -1: none
  bool chunked = false;
};

// Reads answer heads until a final (non-1xx) one; bytes after it stay in `buffer`.
Result<AnswerHead> ReadAnswerHead(int sock, std::string& buffer, const PlainTransferOptions& options) {
  while (true) {
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() > kMaxHeadBytes) {
        return Error(ErrorCode::kProtocolViolation, "the answer of {} has a head over 64 KiB", options.display_host);
      }
      TARN_ASSIGN_OR_RETURN(size_t n, RecvSome(sock, buffer, 16 << 10, options));
      if (n == 0) {
        return ConnectionError(options, "the server closed the connection before answering");
      }
    }
    std::string_view head(buffer.data(), end);
    AnswerHead answer;
    size_t line_end = std::min(head.find("\r\n"), head.size());
    std::string_view status_line = head.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || !std::isdigit(status_line[9]) ||
        !std::isdigit(status_line[10]) || !std::isdigit(status_line[11])) {
      return Error(ErrorCode::kProtocolViolation, "malformed answer from {}: '{}'", options.display_host,
                   status_line.substr(0, 80));
    }
    answer.status = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
    size_t pos = line_end;
    while (pos < head.size()) {
      pos += 2;  // "\r\n"
      size_t next = std::min(head.find("\r\n", pos), head.size());
      std::string_view line = head.substr(pos, next - pos);
      pos = next;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name = Lower(line.substr(0, colon));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (name == "content-length") {
        int64_t length = 0;
        if (value.empty() || value.size() > 18) {
          return Error(ErrorCode::kProtocolViolation, "bad Content-Length from {}", options.display_host);
        }
        for (char c : value) {
          if (!std::isdigit(static_cast<unsigned char>(c))) {
            return Error(ErrorCode::kProtocolViolation, "bad Content-Length from {}", options.display_host);
          }
          length = length * 10 + (c - '0');
        }
        answer.content_length = length;
      } else if (name == "transfer-encoding") {
        answer.chunked = Lower(value).find("chunked") != std::string::npos;
      }
    }
    buffer.erase(0, end + 4);
    if (answer.status >= 100 && answer.status < 200) continue;  // 100 Continue and friends
    if (answer.chunked) answer.content_length = -1;
    return answer;
  }
}

// Decodes a complete chunked body (extensions and trailers ignored); a malformed one is returned as it is.
std::string DecodeChunked(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t line_end = body.find("\r\n", pos);
    if (line_end == std::string::npos) return body;
    char* end = nullptr;
    unsigned long long size = std::strtoull(body.c_str() + pos, &end, 16);
    if (end == body.c_str() + pos) return body;
    if (size == 0) return out;
    pos = line_end + 2;
    if (size > body.size() - pos) return body;
    out.append(body, pos, size);
    pos += size + 2;
  }
  return out;
}

// Reads the rest of an answer's body (the caller's `buffer` holds its start): up to its Content-Length, or to the
// end of the connection (the request asked for "Connection: close"); at most kMaxKeptBody bytes are kept.
Result<std::string> ReadSmallBody(int sock, std::string buffer, const AnswerHead& head,
                                  const PlainTransferOptions& options) {
  while (buffer.size() < kMaxKeptBody &&
         (head.content_length < 0 || static_cast<int64_t>(buffer.size()) < head.content_length)) {
    auto n = RecvSome(sock, buffer, 64 << 10, options);
    if (!n.has_value() || *n == 0) break;  // keep what arrived; the status line is what matters
  }
  if (head.content_length >= 0 && static_cast<int64_t>(buffer.size()) > head.content_length) {
    buffer.resize(static_cast<size_t>(head.content_length));
  }
  if (head.chunked) buffer = DecodeChunked(buffer);
  if (buffer.size() > kMaxKeptBody) buffer.resize(kMaxKeptBody);
  return buffer;
}

Status WriteAll(int fd, const char* data, size_t size, std::string_view what) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(ErrorCode::kIoError, "writing {} failed: {}", what, std::strerror(errno));
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::OK();
}

std::string RequestHead(std::string_view method, const PlainHttpUrl& url, const PlainTransferOptions& options,
                        int64_t content_length) {
  std::string head;
  head.reserve(512);
  head.append(method).append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ").append(url.host_header);
  head.append("\r\nUser-Agent: ").append(options.user_agent);
  head.append("\r\nAuthorization: Bearer ").append(options.token);
  head.append("\r\nAccept-Encoding: identity\r\nConnection: close\r\n");
  if (content_length >= 0) {
    head.append("Content-Type: application/octet-stream\r\nContent-Length: ")
        .append(std::to_string(content_length))
        .append("\r\n");
  }
  head.append("\r\n");
  return head;
}

// Ignores SIGPIPE while alive (sendfile(2) has no MSG_NOSIGNAL: a server that closes early must not kill the
// process) and restores the previous disposition, as libcurl does around its transfers.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    restore_ = ::sigaction(SIGPIPE, &ignore, &old_) == 0;
  }
  ~IgnoreSigpipe() {
    if (restore_) ::sigaction(SIGPIPE, &old_, nullptr);
  }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction old_ {};
  bool restore_ = false;
};

Status ShortBody(const PlainTransferOptions& options, int64_t done, int64_t total) {
  return Error(ErrorCode::kConnectionFailure,
               "the connection to {} closed after {} of {} bytes of the answer", options.display_host, done, total);
}

}  // namespace

std::optional<PlainHttpUrl> ParsePlainHttpUrl(const std::string& url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> handle(curl_url(), curl_url_cleanup);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto part = [&](CURLUPart which, unsigned flags) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(handle.get(), which, &value, flags) != CURLUE_OK || value == nullptr) return std::nullopt;
    std::string out(value);
    curl_free(value);
    return out;
  };
  auto scheme = part(CURLUPART_SCHEME, 0);
  if (!scheme || Lower(*scheme) != "http") return std::nullopt;
  auto host = part(CURLUPART_HOST, 0);
  auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  auto path = part(CURLUPART_PATH, 0);
  if (!host || host->empty() || !port || !path) return std::nullopt;
  if (part(CURLUPART_USER, 0)) return std::nullopt;  // credentials in the URL: leave them to libcurl
  PlainHttpUrl out;
  out.host_header = *host;
  if (*port != "80") out.host_header += ":" + *port;
  out.host = host->size() > 2 && host->front() == '[' ? host->substr(1, host->size() - 2) : *host;
  out.port = *port;
  out.target = *path;
  if (auto query = part(CURLUPART_QUERY, 0)) out.target += "?" + *query;
  return out;
}

bool ProxyConfigured() {
  for (const char* name : {"http_proxy", "all_proxy", "ALL_PROXY"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && value[0] != '\0') return true;
  }
  return false;
}

Result<PlainAnswer> PlainGetToFile(const PlainHttpUrl& url, const PlainTransferOptions& options, int fd,
                                   std::string_view what, const TransferProgress& progress) {
  TARN_ASSIGN_OR_RETURN(int raw_sock, Connect(url, options));
  Fd sock(raw_sock);
  TARN_RETURN_IF_ERROR(SendAll(sock.get(), RequestHead("GET", url, options, -1), options));
  std::string buffer;
  TARN_ASSIGN_OR_RETURN(AnswerHead head, ReadAnswerHead(sock.get(), buffer, options));
  PlainAnswer answer;
  answer.http_status = head.status;
  if (head.status < 200 || head.status >= 300) {
    TARN_ASSIGN_OR_RETURN(answer.body, ReadSmallBody(sock.get(), std::move(buffer), head, options));
    return answer;
  }
  if (head.content_length < 0) {
    answer.use_fallback = true;
    return answer;
  }
  const int64_t total = head.content_length;
  int64_t done = std::min<int64_t>(total, static_cast<int64_t>(buffer.size()));
  TARN_RETURN_IF_ERROR(WriteAll(fd, buffer.data(), static_cast<size_t>(done), what));
  if (progress) progress(done, total);

  int pipe_fds[2] = {-1, -1};
  bool use_splice = ::pipe2(pipe_fds, O_CLOEXEC) == 0;
  Fd pipe_read(pipe_fds[0]);
  Fd pipe_write(pipe_fds[1]);
  size_t pipe_bytes = 64 << 10;
  if (use_splice) {
    int size = ::fcntl(pipe_write.get(), F_SETPIPE_SZ, kPipeBytes);
    if (size > 0) pipe_bytes = static_cast<size_t>(size);
  }
  std::vector<char> copy;  // the plain-copy fallback's buffer
  while (done < total) {
    size_t want = static_cast<size_t>(std::min<int64_t>(total - done, static_cast<int64_t>(use_splice ? pipe_bytes
                                                                                                    : kCopyBytes)));
    ssize_t n;
    if (use_splice) {
      n = ::splice(sock.get(), nullptr, pipe_write.get(), nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    } else {
      copy.resize(kCopyBytes);
      n = ::recv(sock.get(), copy.data(), want, 0);
    }
    if (n == 0) return ShortBody(options, done, total);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        TARN_RETURN_IF_ERROR(WaitFor(sock.get(), POLLIN, options.stall_timeout_seconds, options).status());
        continue;
      }
      if (use_splice && errno == EINVAL) {  // a socket splice refuses: receive with plain copies
        use_splice = false;
        continue;
      }
      return ConnectionError(options, std::strerror(errno));
    }
    if (!use_splice) {
      TARN_RETURN_IF_ERROR(WriteAll(fd, copy.data(), static_cast<size_t>(n), what));
    } else {
      size_t in_pipe = static_cast<size_t>(n);
      while (in_pipe > 0) {
        ssize_t m = ::splice(pipe_read.get(), nullptr, fd, nullptr, in_pipe, SPLICE_F_MOVE);
        if (m > 0) {
          in_pipe -= static_cast<size_t>(m);
          continue;
        }
        if (m < 0 && errno == EINTR) continue;
        if (m < 0 && errno == EINVAL) {
          // The file refuses splice: empty the pipe with plain copies and receive the rest the same way.
          use_splice = false;
          copy.resize(kCopyBytes);
          while (in_pipe > 0) {
            ssize_t r = ::read(pipe_read.get(), copy.data(), std::min(in_pipe, kCopyBytes));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return Error(ErrorCode::kIoError, "writing {} failed: pipe read", what);
            TARN_RETURN_IF_ERROR(WriteAll(fd, copy.data(), static_cast<size_t>(r), what));
            in_pipe -= static_cast<size_t>(r);
          }
          break;
        }
        return Error(ErrorCode::kIoError, "writing {} failed: {}", what,
                     m == 0 ? "no progress" : std::strerror(errno));
      }
    }
    done += n;
    if (progress) progress(done, total);
  }
  answer.bytes = done;
  return answer;
}

Result<PlainAnswer> PlainPutFromFile(const PlainHttpUrl& url, const PlainTransferOptions& options, int fd,
                                     int64_t size, std::string_view what, const TransferProgress& progress) {
  TARN_ASSIGN_OR_RETURN(int raw_sock, Connect(url, options));
  Fd sock(raw_sock);
  TARN_RETURN_IF_ERROR(SendAll(sock.get(), RequestHead("PUT", url, options, size), options));
  IgnoreSigpipe no_sigpipe;
  off_t offset = 0;
  bool answered_early = false;
  Status send_failure;
  while (offset < size) {
    size_t want = static_cast<size_t>(std::min<int64_t>(size - offset, static_cast<int64_t>(kSendfileBytes)));
    ssize_t n = ::sendfile(sock.get(), fd, &offset, want);
    if (n > 0) {
      if (progress) progress(offset, size);
      continue;
    }
    if (n == 0) return Error(ErrorCode::kIoError, "reading {} failed: the file is shorter than {} bytes", what, size);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      TARN_ASSIGN_OR_RETURN(short events,
                            WaitFor(sock.get(), POLLOUT | POLLIN, options.stall_timeout_seconds, options));
      if ((events & (POLLIN | POLLHUP | POLLERR)) != 0) {  // the server answered (or hung up) before the end
        answered_early = true;
        break;
      }
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) {  // the answer may still be readable
      send_failure = ConnectionError(options, std::strerror(errno));
      answered_early = true;
      break;
    }
    if ((errno == EINVAL || errno == ENOSYS) && offset == 0) {  // a file system without sendfile support
      PlainAnswer answer;
      answer.use_fallback = true;
      return answer;
    }
    return Error(ErrorCode::kIoError, "reading {} failed: {}", what, std::strerror(errno));
  }
  std::string buffer;
  auto head = ReadAnswerHead(sock.get(), buffer, options);
  if (!head.has_value()) return send_failure.ok() ? head.error() : send_failure;
  PlainAnswer answer;
  answer.http_status = head->status;
  answer.bytes = offset;
  TARN_ASSIGN_OR_RETURN(answer.body, ReadSmallBody(sock.get(), std::move(buffer), *head, options));
  if (answered_early && answer.http_status >= 200 && answer.http_status < 300) {
    return ConnectionError(options, "the server answered before the whole body was sent");
  }
  return answer;
}

}  // namespace tarn::cli::detail
