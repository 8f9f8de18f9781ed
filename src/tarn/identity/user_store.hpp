// SPDX-License-Identifier: Apache-2.0
// UserStore: the users known to Tarn (name, display name, active flag), kept in the metadata store.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/meta/meta_store.hpp"

namespace tarn::identity {

/// Returns the current time in epoch milliseconds; tests substitute a controllable one.
using Clock = std::function<int64_t()>;

struct User {
  int64_t id = 0;
  std::string user_name;
  std::string display_name;
  bool active = true;
  int64_t created_at = 0;  // epoch milliseconds
};

/// Users in the `users` table (meta migration 1). Safe for concurrent use; caller keeps `store` alive.
class UserStore {
 public:
  /// `clock` null means the wall clock.
  explicit UserStore(meta::MetaStore& store, Clock clock = nullptr);

  /// Creates an active user. Errors: kInvalidParameterValue for an empty, over-long (> 255 bytes) or
  /// control-character name; kAlreadyExists when the name is taken.
  Result<User> Create(std::string_view user_name, std::string_view display_name);
  /// Errors: kResourceDoesNotExist.
  Result<User> Get(int64_t id);
  /// Errors: kResourceDoesNotExist.
  Result<User> GetByName(std::string_view user_name);
  /// Returns all users ordered by id.
  Result<std::vector<User>> List();
  /// Activates or deactivates a user; tokens of an inactive user stop authenticating (see TokenService for the
  /// cache delay). Errors: kResourceDoesNotExist.
  Status SetActive(int64_t id, bool active);

 private:
  meta::MetaStore& store_;
  Clock clock_;
};

}  // namespace tarn::identity
