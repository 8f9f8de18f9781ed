// SPDX-License-Identifier: Apache-2.0
// Status implementation and the error-code table.
#include "tarn/base/status.hpp"

#include <array>

namespace tarn {
namespace {

constexpr std::array kErrorCodeInfos = {
#define TARN_ERROR_CODE(name, sqlstate, http, databricks, mlflow) \
  ErrorCodeInfo{#name, sqlstate, http, databricks, mlflow},
#include "tarn/base/error_codes.def"
#undef TARN_ERROR_CODE
};

const std::string& EmptyString() {
  static const std::string kEmpty;
  return kEmpty;
}

}  // namespace

const ErrorCodeInfo& GetErrorCodeInfo(ErrorCode code) {
  auto index = static_cast<size_t>(code);
  if (index >= kErrorCodeInfos.size()) return kErrorCodeInfos[static_cast<size_t>(ErrorCode::kInternal)];
  return kErrorCodeInfos[index];
}

size_t NumErrorCodes() { return kErrorCodeInfos.size(); }

Status::Status(ErrorCode code, std::string message) {
  if (code != ErrorCode::kOk) state_ = std::make_unique<State>(State{code, std::move(message)});
}

Status::Status(const Status& other) : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  return *this;
}

const std::string& Status::message() const { return state_ ? state_->message : EmptyString(); }

Status Status::WithContextString(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  message += ": ";
  message += state_->message;
  return Status(state_->code, std::move(message));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(info().databricks);
  out += ": ";
  out += state_->message;
  return out;
}

}  // namespace tarn
