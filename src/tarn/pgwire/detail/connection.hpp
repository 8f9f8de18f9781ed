// SPDX-License-Identifier: Apache-2.0
// Module-private: one wire connection (start-up, authentication, simple/extended query, COPY) and the cancel registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

#include <openssl/ssl.h>

#include "tarn/pgwire/server.hpp"

namespace tarn::pgwire::detail {

/// Maps BackendKeyData (pid, secret) to a way of interrupting that connection's running statement.
class CancelRegistry {
 public:
  struct Key {
    int32_t pid;
    int32_t secret;
  };
  /// Registers a connection; `interrupt` is called (under the registry lock) by a matching CancelRequest.
  Key Register(std::function<void()> interrupt);
  void Unregister(int32_t pid);
  /// Interrupts the connection when pid and secret match; unknown keys are ignored (as PostgreSQL does).
  void Cancel(int32_t pid, int32_t secret);
  /// Interrupts every registered connection (server shutdown).
  void InterruptAll();

 private:
  struct Entry {
    int32_t secret;
    std::function<void()> interrupt;
  };
  std::mutex mu_;
  std::unordered_map<int32_t, Entry> entries_;
  int32_t next_pid_ = 1000;
};

struct ConnectionContext {
  const ServerOptions& options;
  SSL_CTX* tls = nullptr;  // null: SSLRequest answered 'N'
  identity::TokenService& tokens;
  const BackendFactory& backends;
  CancelRegistry& cancels;
  const std::atomic<bool>& stopping;
};

/// Serves one accepted socket until the client leaves, a fatal error, or shutdown(fd) from Server::Stop().
/// Does not close `fd` (the caller owns it). Never throws.
void ServeConnection(int fd, ConnectionContext& context);

}  // namespace tarn::pgwire::detail
