// SPDX-License-Identifier: Apache-2.0
// First-start setup of identity: the `admin` user and its first personal access token.
#pragma once

#include <string>
#include <string_view>

#include "tarn/base/result.hpp"
#include "tarn/identity/token_service.hpp"
#include "tarn/identity/user_store.hpp"

namespace tarn::identity {

inline constexpr std::string_view kAdminUserName = "admin";

struct BootstrapResult {
  User admin;
  /// The admin token to hand to the operator (write it to `<data>/admin-token`): set when it was taken from the
  /// environment or newly generated (no env token, and admin is new or has no unrevoked token left); empty
  /// otherwise (it was handed out on an earlier start).
  std::string admin_token;
  bool admin_created = false;   // the `admin` user did not exist before this call
  bool token_from_env = false;  // admin_token is `admin_token_from_env`
};

/// Ensures the `admin` user exists and returns its token as described in BootstrapResult. A non-empty
/// `admin_token_from_env` (TARN_ADMIN_TOKEN) is used as is: stored on first sight (never expires), accepted when
/// already stored for admin. Generated tokens never expire either. Errors: kInvalidParameterValue for a
/// non-printable env token (see ValidateTokenValue; no trimming), kInvalidState when the env token was revoked or
/// belongs to another user or admin is deactivated, and store errors.
Result<BootstrapResult> Bootstrap(UserStore& users, TokenService& tokens, std::string_view admin_token_from_env);

}  // namespace tarn::identity
