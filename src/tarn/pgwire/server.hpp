// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL wire protocol v3 endpoint: listener, TLS, authentication by personal access token, cancel.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tarn/base/result.hpp"
#include "tarn/identity/token_service.hpp"
#include "tarn/pgwire/query_backend.hpp"

namespace tarn::pgwire {

/// How clients prove they hold a personal access token (the password; the user name is free).
enum class AuthMethod {
  kScramSha256,  // SCRAM-SHA-256 on every connection
  kPassword,     // cleartext password on TLS connections; plaintext connections still use SCRAM-SHA-256
};

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 5433;  // 0 picks a free port
  /// PEM files; both set = TLS offered (SSLRequest answered 'S'), both empty = 'N'.
  std::string tls_cert_file;
  std::string tls_key_file;
  AuthMethod auth = AuthMethod::kScramSha256;
  int max_connections = 256;
  /// A client must finish start-up and authentication within this time.
  std::chrono::milliseconds startup_timeout{60000};
};

/// Owns the listening socket, one thread per connection and the cancel registry. Create() binds (a taken port fails
/// there with kConnectionFailure naming the address); Start() accepts; Stop() closes the listener, interrupts
/// running statements, closes every connection and joins the threads. `tokens` must outlive the Server.
class Server {
 public:
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options, identity::TokenService& tokens,
                                                BackendFactory backends);
  virtual ~Server() = default;
  virtual uint16_t port() const = 0;
  virtual void Start() = 0;
  virtual void Stop() = 0;
};

}  // namespace tarn::pgwire
