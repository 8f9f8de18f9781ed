// SPDX-License-Identifier: Apache-2.0
// Authentication middleware: parses Bearer/Basic credentials and asks the TokenService who they belong to.
#include "tarn/api/auth.hpp"

#include <cctype>

#include "tarn/base/crypto.hpp"

namespace tarn::api {
namespace {

constexpr std::string_view kBasicTokenUser = "token";

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool NeedsAuthentication(std::string_view path) { return path == "/api" || path.starts_with("/api/"); }

}  // namespace

Result<identity::Principal> AuthenticateAuthorization(identity::TokenService& tokens, std::string_view authorization) {
  authorization = Trim(authorization);
  if (authorization.empty()) {
    return Error(ErrorCode::kUnauthenticated, "Missing credentials: send 'Authorization: Bearer <token>'.");
  }
  if (StartsWithIgnoreCase(authorization, "Bearer ")) {
    std::string_view token = Trim(authorization.substr(7));
    if (token.empty()) return Error(ErrorCode::kUnauthenticated, "Empty bearer token.");
    return tokens.Authenticate(token);
  }
  if (StartsWithIgnoreCase(authorization, "Basic ")) {
    auto decoded = Base64Decode(Trim(authorization.substr(6)));
    if (!decoded.has_value()) return Error(ErrorCode::kUnauthenticated, "Malformed basic credentials.");
    std::string_view credentials = *decoded;
    size_t colon = credentials.find(':');
    if (colon == std::string_view::npos) return Error(ErrorCode::kUnauthenticated, "Malformed basic credentials.");
    std::string_view user = credentials.substr(0, colon);
    TARN_ASSIGN_OR_RETURN(identity::Principal principal, tokens.Authenticate(credentials.substr(colon + 1)));
    if (user != kBasicTokenUser && user != principal.user_name) {
      return Error(ErrorCode::kUnauthenticated, "Invalid access token.");
    }
    return principal;
  }
  return Error(ErrorCode::kUnauthenticated, "Unsupported authorization scheme: use 'Bearer <token>'.");
}

http::Handler WithAuth(identity::TokenService& tokens, http::Handler inner) {
  return [&tokens, inner = std::move(inner)](http::Request& request) -> http::Response {
    // Never trust identity fields set before the middleware ran.
    request.user_name.clear();
    request.user_id = 0;
    if (!NeedsAuthentication(request.path)) return inner(request);
    auto principal = AuthenticateAuthorization(tokens, request.Header("Authorization").value_or(""));
    if (!principal.has_value()) {
      http::Response response = http::Response::Error(principal.error());
      if (response.status == 401) response.SetHeader("WWW-Authenticate", "Bearer realm=\"tarn\"");
      return response;
    }
    request.user_name = std::move(principal->user_name);
    request.user_id = principal->user_id;
    return inner(request);
  };
}

}  // namespace tarn::api
