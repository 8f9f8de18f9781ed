// SPDX-License-Identifier: Apache-2.0
// Module-private: one wire connection (start-up, authentication, simple/extended query, COPY) and the cancel registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <map>
#include <optional>
#include <vector>

#include <openssl/ssl.h>

#include "tarn/base/result.hpp"
#include "tarn/pgwire/query_backend.hpp"
#include "tarn/pgwire/server.hpp"

namespace tarn::pgwire::detail {

/// Maps BackendKeyData (pid, secret) to a way of interrupting that connection's running statement, and keeps what
/// pg_stat_activity and pg_cancel_backend / pg_terminate_backend need of each connection. Pids are unique in the
/// process (every registry draws from one counter), so a pid names one connection of one server.
class CancelRegistry {
 public:
  struct Key {
    int32_t pid;
    int32_t secret;
  };
  /// What a connection registers: `interrupt` stops its running statement; `terminate` makes it send FATAL 57P01
  /// and close. Both are called under the registry lock, from any thread.
  struct Hooks {
    std::function<void()> interrupt;
    std::function<void()> terminate;
  };
  CancelRegistry();
  ~CancelRegistry();
  CancelRegistry(const CancelRegistry&) = delete;
  CancelRegistry& operator=(const CancelRegistry&) = delete;

  /// Registers a connection; `interrupt` is called (under the registry lock) by a matching CancelRequest.
  Key Register(Hooks hooks, ActivityRow activity);
  void Unregister(int32_t pid);
  /// Interrupts the connection when pid and secret match; unknown keys are ignored (as PostgreSQL does).
  void Cancel(int32_t pid, int32_t secret);
  /// Interrupts every registered connection (server shutdown).
  void InterruptAll();
  /// Updates a connection's pg_stat_activity row (`update` runs under the lock).
  void UpdateActivity(int32_t pid, const std::function<void(ActivityRow&)>& update);
  /// Every connection's pg_stat_activity row, by pid.
  std::vector<ActivityRow> Activity();
  /// See detail/signals.hpp; nullopt when `caller_pid` is not a connection of this registry.
  std::optional<Result<bool>> Signal(int32_t caller_pid, int32_t caller_secret, bool terminate, int32_t target_pid);

 private:
  struct Entry {
    int32_t secret;
    Hooks hooks;
    ActivityRow activity;
  };
  std::mutex mu_;
  std::map<int32_t, Entry> entries_;
};

struct ConnectionContext {
  const ServerOptions& options;
  SSL_CTX* tls = nullptr;  // null: SSLRequest answered 'N'
  identity::TokenService& tokens;
  const BackendFactory& backends;
  CancelRegistry& cancels;
  const std::atomic<bool>& stopping;
};

/// Times a connection prepared a statement afresh because it had run kRunsPerPrepare (64) times (process-wide;
/// tests read it: a statement Parsed once and executed N times is renewed ceil(N / 64) - 1 times).
uint64_t PreparedRenewals();

/// Serves one accepted socket until the client leaves, a fatal error, or shutdown(fd) from Server::Stop().
/// Does not close `fd` (the caller owns it). Never throws.
void ServeConnection(int fd, ConnectionContext& context);

}  // namespace tarn::pgwire::detail
