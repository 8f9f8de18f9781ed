// SPDX-License-Identifier: Apache-2.0
// UserStore on the metadata store's `users` table.
#include "tarn/identity/user_store.hpp"

#include "tarn/base/clock.hpp"

namespace tarn::identity {
namespace {

constexpr size_t kMaxUserNameBytes = 255;
constexpr std::string_view kUserColumns = "id, user_name, display_name, active, created_at";

User UserFromRow(const meta::Row& row) {
  return User{row.Int(0), row.String(1), row.String(2), row.Int(3) != 0, row.Int(4)};
}

Status ValidateUserName(std::string_view user_name) {
  if (user_name.empty()) return Error(ErrorCode::kInvalidParameterValue, "user name must not be empty");
  if (user_name.size() > kMaxUserNameBytes) {
    return Error(ErrorCode::kInvalidParameterValue, "user name is longer than {} bytes", kMaxUserNameBytes);
  }
  for (unsigned char c : user_name) {
    if (c < 0x20 || c == 0x7f) {
      return Error(ErrorCode::kInvalidParameterValue, "user name must not contain control characters");
    }
  }
  return Status::OK();
}

}  // namespace

UserStore::UserStore(meta::MetaStore& store, Clock clock)
    : store_(store), clock_(clock ? std::move(clock) : Clock(NowMillis)) {}

Result<User> UserStore::Create(std::string_view user_name, std::string_view display_name) {
  TARN_RETURN_IF_ERROR(ValidateUserName(user_name));
  int64_t now = clock_();
  auto row = store_.QueryRow(
      "INSERT INTO users (user_name, display_name, active, created_at) VALUES (?, ?, 1, ?) RETURNING id",
      {user_name, display_name, now});
  if (!row.has_value()) {
    if (row.status().code() == ErrorCode::kUniqueViolation) {
      return Error(ErrorCode::kAlreadyExists, "user '{}' already exists", user_name);
    }
    return row.status().WithContext("creating user '{}'", user_name);
  }
  if (!row->has_value()) return Error(ErrorCode::kInternal, "creating user '{}' returned no id", user_name);
  return User{(*row)->Int(0), std::string(user_name), std::string(display_name), true, now};
}

Result<User> UserStore::Get(int64_t id) {
  TARN_ASSIGN_OR_RETURN(auto row,
                        store_.QueryRow(fmt::format("SELECT {} FROM users WHERE id = ?", kUserColumns), {id}));
  if (!row) return Error(ErrorCode::kResourceDoesNotExist, "user {} does not exist", id);
  return UserFromRow(*row);
}

Result<User> UserStore::GetByName(std::string_view user_name) {
  TARN_ASSIGN_OR_RETURN(
      auto row, store_.QueryRow(fmt::format("SELECT {} FROM users WHERE user_name = ?", kUserColumns), {user_name}));
  if (!row) return Error(ErrorCode::kResourceDoesNotExist, "user '{}' does not exist", user_name);
  return UserFromRow(*row);
}

Result<std::vector<User>> UserStore::List() {
  TARN_ASSIGN_OR_RETURN(auto result, store_.Query(fmt::format("SELECT {} FROM users ORDER BY id", kUserColumns)));
  std::vector<User> users;
  users.reserve(result.rows.size());
  for (const auto& row : result.rows) users.push_back(UserFromRow(row));
  return users;
}

Status UserStore::SetActive(int64_t id, bool active) {
  TARN_ASSIGN_OR_RETURN(int64_t changed, store_.Execute("UPDATE users SET active = ? WHERE id = ?", {active, id}));
  if (changed == 0) return Error(ErrorCode::kResourceDoesNotExist, "user {} does not exist", id);
  return Status::OK();
}

}  // namespace tarn::identity
