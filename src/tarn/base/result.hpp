// SPDX-License-Identifier: Apache-2.0
// Result<T>: a value or an error Status, shaped like C++23 std::expected.
#pragma once

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "tarn/base/status.hpp"

namespace tarn {

/// Holds a T or an error Status (never an OK Status).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(data_).ok()) data_.template emplace<1>(ErrorCode::kInternal, "OK status used as a Result error");
  }
  template <typename U, typename = std::enable_if_t<std::is_convertible_v<U&&, T> && !std::is_same_v<std::decay_t<U>, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status>>>
  Result(U&& value) : data_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return data_.index() == 0; }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  T& value() & { Check(); return std::get<0>(data_); }
  const T& value() const& { Check(); return std::get<0>(data_); }
  T&& value() && { Check(); return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; OK when a value is held.
  Status status() const { return has_value() ? Status::OK() : std::get<1>(data_); }
  const Status& error() const { return std::get<1>(data_); }

  T value_or(T other) const& { return has_value() ? std::get<0>(data_) : std::move(other); }

 private:
  void Check() const {
    if (!has_value()) std::abort();  // programmer error: value() on an error Result
  }
  std::variant<T, Status> data_;
};

}  // namespace tarn

#define TARN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.has_value()) return tmp.error();        \
  lhs = std::move(tmp).value()

/// Evaluates `expr` (a Result); on error returns its Status, else assigns the value to `lhs`.
#define TARN_ASSIGN_OR_RETURN(lhs, expr) TARN_ASSIGN_OR_RETURN_IMPL(TARN_CONCAT(_tarn_result_, __LINE__), lhs, expr)
