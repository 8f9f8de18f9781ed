// SPDX-License-Identifier: Apache-2.0
// Status: the error value every fallible Tarn function returns, with one closed set of error codes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace tarn {

/// Every error Tarn reports. Rows live in error_codes.def with their protocol mappings.
enum class ErrorCode : uint16_t {
#define TARN_ERROR_CODE(name, sqlstate, http, databricks, mlflow) name,
#include "tarn/base/error_codes.def"
#undef TARN_ERROR_CODE
};

/// How one ErrorCode reaches each protocol.
struct ErrorCodeInfo {
  std::string_view name;        // "kTableNotFound"
  std::string_view sqlstate;    // "42P01"
  int http_status;              // 404
  std::string_view databricks;  // "RESOURCE_DOES_NOT_EXIST"
  std::string_view mlflow;      // "RESOURCE_DOES_NOT_EXIST"
};

/// Returns the protocol mappings of `code`.
const ErrorCodeInfo& GetErrorCodeInfo(ErrorCode code);
/// Returns the number of error codes (for table-driven tests).
size_t NumErrorCodes();

/// An error code plus a message, or OK. Costs one null pointer on success. Immutable once built.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  ErrorCode code() const { return state_ ? state_->code : ErrorCode::kOk; }
  /// The message, with any context prefixes ("ctx: message"). Empty when OK.
  const std::string& message() const;
  const ErrorCodeInfo& info() const { return GetErrorCodeInfo(code()); }
  std::string_view sqlstate() const { return info().sqlstate; }
  int http_status() const { return info().http_status; }

  /// Returns a copy whose message starts with the formatted context ("context: message").
  template <typename... Args>
  Status WithContext(fmt::format_string<Args...> format, Args&&... args) const {
    if (ok()) return *this;
    return WithContextString(fmt::format(format, std::forward<Args>(args)...));
  }
  Status WithContextString(std::string_view context) const;

  /// "CODE: message" for logs.
  std::string ToString() const;

  /// Ignores an error deliberately (document why at the call site).
  void IgnoreError() const {}

 private:
  struct State {
    ErrorCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

/// Builds an error Status with a formatted message: `Error(ErrorCode::kTableNotFound, "table not found: {}", name)`.
template <typename... Args>
Status Error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Status(code, fmt::format(format, std::forward<Args>(args)...));
}
inline Status Error(ErrorCode code, std::string message) { return Status(code, std::move(message)); }

}  // namespace tarn

#define TARN_CONCAT_INNER(a, b) a##b
#define TARN_CONCAT(a, b) TARN_CONCAT_INNER(a, b)

/// Returns from the enclosing function when `expr` (a Status) is an error.
#define TARN_RETURN_IF_ERROR(expr)                     \
  do {                                                 \
    ::tarn::Status _tarn_status = (expr);              \
    if (!_tarn_status.ok()) return _tarn_status;       \
  } while (0)
