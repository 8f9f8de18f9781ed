// SPDX-License-Identifier: Apache-2.0
// QueryBackend: the one place where a wire connection runs SQL (an engine::Session today, the sql module later).
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/result_stream.hpp"
#include "tarn/engine/session.hpp"

namespace tarn::pgwire {

/// Runs statements for one wire connection. The engine allows one open result stream per session; every call
/// here first runs the before-call hook so the connection can buffer a stream it still needs (a suspended portal
/// or an open cursor) before the engine closes it. Used by the connection's thread, except Interrupt().
class QueryBackend {
 public:
  explicit QueryBackend(std::unique_ptr<engine::Session> session) : session_(std::move(session)) {}

  /// Called before each engine call that would close the open result stream.
  void SetBeforeCall(std::function<void()> hook) { before_call_ = std::move(hook); }

  /// Runs one statement and streams its result.
  Result<std::unique_ptr<engine::ResultStream>> Execute(std::string_view sql) {
    if (before_call_) before_call_();
    return session_->Execute(sql);
  }
  /// Prepares one statement ($1... parameters).
  Result<std::unique_ptr<engine::PreparedStatement>> Prepare(std::string_view sql) {
    if (before_call_) before_call_();
    return session_->Prepare(sql);
  }
  /// Runs a prepared statement with its bound parameters.
  Result<std::unique_ptr<engine::ResultStream>> Execute(engine::PreparedStatement& statement) {
    if (before_call_) before_call_();
    return statement.Execute();
  }
  /// Stops the running statement (it fails with kCancelled). Any thread.
  void Interrupt() { session_->Interrupt(); }

 private:
  std::unique_ptr<engine::Session> session_;
  std::function<void()> before_call_;
};

/// Makes one QueryBackend per connection.
using BackendFactory = std::function<Result<std::unique_ptr<QueryBackend>>()>;

/// A factory on engine sessions of `database` (which must outlive every backend).
inline BackendFactory EngineBackendFactory(engine::Database& database) {
  return [&database]() -> Result<std::unique_ptr<QueryBackend>> {
    TARN_ASSIGN_OR_RETURN(auto session, database.Connect());
    return std::make_unique<QueryBackend>(std::move(session));
  };
}

}  // namespace tarn::pgwire
