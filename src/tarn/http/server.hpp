// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 server on Boost.Asio/Beast: keep-alive, size limits, timeouts, chunked responses.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/http/router.hpp"

namespace tarn::http {

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port
  int num_threads = 2;
  size_t max_header_bytes = 64 * 1024;
  size_t max_body_bytes = 64 * 1024 * 1024;
  /// Deadline for a request's whole header (slowloris-safe), and the longest pause allowed while its body arrives.
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};  // between keep-alive requests
  /// Handler threads (a boost::asio::thread_pool separate from the I/O threads, so slow handlers never stall I/O);
  /// 0 means max(4, 2 * hardware threads).
  int num_worker_threads = 0;
  /// Longest a single write (a piece of a body or one chunk) may wait for the client to read.
  std::chrono::milliseconds write_timeout{30000};
  /// Asked once the header of a request with a body is in (with the method and decoded path): a value makes the
  /// server hand the body to the handler through Request::body_reader, up to that many bytes, instead of buffering
  /// it under max_body_bytes. Normally Router::StreamedBodyLimit. Unset: every body is buffered.
  std::function<std::optional<uint64_t>(Method method, std::string_view path)> streamed_body_limit;
};

/// Owns the listening socket and the I/O threads. Create() binds (so a taken port fails there, with
/// kConnectionFailure naming the address); Start() begins accepting; Stop() stops accepting, lets in-flight
/// requests finish for up to `grace`, then closes every connection and joins the threads.
class Server {
 public:
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options, Handler handler);
  virtual ~Server() = default;
  /// The bound port (useful when the options asked for 0).
  virtual uint16_t port() const = 0;
  virtual void Start() = 0;
  virtual void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000)) = 0;
};

}  // namespace tarn::http
