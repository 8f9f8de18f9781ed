// SPDX-License-Identifier: Apache-2.0
// Creates the admin user and its first token on first start; adopts TARN_ADMIN_TOKEN when given.
#include "tarn/identity/bootstrap.hpp"

#include "tarn/base/logging.hpp"

namespace tarn::identity {

Result<BootstrapResult> Bootstrap(UserStore& users, TokenService& tokens, std::string_view admin_token_from_env) {
  BootstrapResult result;
  auto existing = users.GetByName(kAdminUserName);
  if (existing.has_value()) {
    result.admin = std::move(existing).value();
  } else if (existing.status().code() == ErrorCode::kResourceDoesNotExist) {
    auto created = users.Create(kAdminUserName, kAdminUserName);
    if (created.has_value()) {
      result.admin = std::move(created).value();
      result.admin_created = true;
    } else if (created.status().code() == ErrorCode::kAlreadyExists) {
      TARN_ASSIGN_OR_RETURN(result.admin, users.GetByName(kAdminUserName));  // another process won the race
    } else {
      return created.status();
    }
  } else {
    return existing.status();
  }
  if (!result.admin.active) {
    return Error(ErrorCode::kInvalidState, "the '{}' user is deactivated", kAdminUserName);
  }

  if (!admin_token_from_env.empty()) {
    Status valid = ValidateTokenValue(admin_token_from_env);
    if (!valid.ok()) return valid.WithContext("TARN_ADMIN_TOKEN");
    auto imported = tokens.Import(result.admin.id, admin_token_from_env, "TARN_ADMIN_TOKEN");
    if (!imported.has_value()) {
      if (imported.status().code() != ErrorCode::kAlreadyExists) return imported.status();
      // Stored before: fine if it still authenticates as admin.
      auto principal = tokens.Authenticate(admin_token_from_env);
      if (!principal.has_value()) {
        if (principal.status().code() != ErrorCode::kUnauthenticated) return principal.status();
        return Error(ErrorCode::kInvalidState, "TARN_ADMIN_TOKEN was revoked; set a new value");
      }
      if (principal->user_id != result.admin.id) {
        return Error(ErrorCode::kInvalidState, "TARN_ADMIN_TOKEN belongs to user '{}', not '{}'", principal->user_name,
                     kAdminUserName);
      }
    } else {
      TARN_LOG_INFO("stored TARN_ADMIN_TOKEN as a token of '{}'", kAdminUserName);
    }
    result.admin_token = std::string(admin_token_from_env);
    result.token_from_env = true;
    return result;
  }

  // A new token on first start, and also when admin has none left (a crash between creating the user and its
  // token, or every token revoked): whoever can restart the server can read the data directory anyway.
  bool needs_token = result.admin_created;
  if (!needs_token) {
    TARN_ASSIGN_OR_RETURN(auto existing_tokens, tokens.List(result.admin.id));
    needs_token = existing_tokens.empty();
  }
  if (needs_token) {
    // Imported rather than created: the first token must not expire, the operator has no other way in.
    std::string value = TokenService::GenerateTokenValue();
    TARN_RETURN_IF_ERROR(tokens.Import(result.admin.id, value, "admin bootstrap token").status());
    result.admin_token = std::move(value);
  }
  return result;
}

}  // namespace tarn::identity
