// SPDX-License-Identifier: Apache-2.0
// Tests for the authentication middleware: which paths need a token, accepted schemes, and 401 answers.
#include "tarn/api/auth.hpp"

#include <gtest/gtest.h>

#include "api_test_env.hpp"
#include "tarn/base/crypto.hpp"

namespace tarn::api {
namespace {

// Records what the wrapped handler saw.
class AuthTest : public ApiTestEnv {
 protected:
  AuthTest() {
    recording_ = WithAuth(*tokens_, [this](http::Request& request) {
      ++calls_;
      seen_user_ = request.user_name;
      seen_id_ = request.user_id;
      return http::Response::Json("{}");
    });
  }

  http::Response Send(std::string path, std::string authorization) {
    http::Request request;
    request.path = std::move(path);
    if (!authorization.empty()) request.headers.emplace_back("Authorization", std::move(authorization));
    return recording_(request);
  }

  void ExpectUnauthenticated(const http::Response& response, const std::string& what) {
    EXPECT_EQ(response.status, 401) << what;
    EXPECT_EQ(ErrorCodeOf(response), "UNAUTHENTICATED") << what;
    EXPECT_TRUE(response.Header("WWW-Authenticate").has_value()) << what;
  }

  http::Handler recording_;
  int calls_ = 0;
  std::string seen_user_;
  int64_t seen_id_ = 0;
};

TEST_F(AuthTest, ValidBearerTokenSetsTheUser) {
  for (std::string scheme : {"Bearer ", "bearer ", "BEARER  "}) {
    http::Response response = Send("/api/2.0/clusters/list", scheme + admin_token_);
    EXPECT_EQ(response.status, 200) << scheme;
  }
  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(seen_user_, "admin");
  EXPECT_EQ(seen_id_, admin_.id);
}

TEST_F(AuthTest, BasicAuthWithTokenAsPassword) {
  EXPECT_EQ(Send("/api/2.0/x", "Basic " + Base64Encode("token:" + admin_token_)).status, 200);
  EXPECT_EQ(seen_user_, "admin");
  EXPECT_EQ(Send("/api/2.0/x", "Basic " + Base64Encode("admin:" + admin_token_)).status, 200);
  EXPECT_EQ(calls_, 2);
  // Another user's name with admin's token, or a wrong password, is refused.
  ExpectUnauthenticated(Send("/api/2.0/x", "Basic " + Base64Encode("bob:" + admin_token_)), "other user");
  ExpectUnauthenticated(Send("/api/2.0/x", "Basic " + Base64Encode("token:wrong")), "wrong password");
  EXPECT_EQ(calls_, 2);
}

TEST_F(AuthTest, MissingAndMalformedCredentialsAre401) {
  std::vector<std::string> headers = {
      "",                                                        // missing
      "Bearer",                                                  // no token
      "Bearer ",                                                 // empty token
      admin_token_,                                              // no scheme
      "Token " + admin_token_,                                   // unknown scheme
      "Basic !!!not-base64!!!",                                  // bad base64
      "Basic " + Base64Encode("no-colon-here"),                  // no user:password
      "Bearer " + admin_token_ + "x",                            // near miss
      "Bearer " + identity::TokenService::GenerateTokenValue(),  // unknown
  };
  for (const auto& header : headers) ExpectUnauthenticated(Send("/api/2.0/token/list", header), header);
  EXPECT_EQ(calls_, 0);
}

TEST_F(AuthTest, RevokedAndExpiredTokensAre401) {
  auto short_lived = tokens_->Create(admin_.id, 60, "short");
  auto revoked = tokens_->Create(admin_.id, std::nullopt, "revoked");
  ASSERT_TRUE(short_lived.has_value() && revoked.has_value());
  EXPECT_EQ(Send("/api/2.0/x", "Bearer " + short_lived->token_value).status, 200);
  EXPECT_EQ(Send("/api/2.0/x", "Bearer " + revoked->token_value).status, 200);
  ASSERT_TRUE(tokens_->Revoke(admin_.id, revoked->info.token_id).ok());
  ExpectUnauthenticated(Send("/api/2.0/x", "Bearer " + revoked->token_value), "revoked");
  now_ += 60'000;
  ExpectUnauthenticated(Send("/api/2.0/x", "Bearer " + short_lived->token_value), "expired");
  EXPECT_EQ(Send("/api/2.0/x", "Bearer " + admin_token_).status, 200);  // never expires
  EXPECT_EQ(calls_, 3);
}

TEST_F(AuthTest, OnlyApiPathsNeedATokenAndIdentityIsNeverTrusted) {
  struct Case {
    std::string path;
    bool needs_auth;
  };
  std::vector<Case> cases = {
      {"/api/2.0/token/list", true},
      {"/api", true},
      {"/api/", true},
      {"/", false},
      {"/apix/2.0", false},
      {"/.well-known/databricks-config", false},
      {"/health", false},
      {"/static/api/x", false},
  };
  for (const auto& c : cases) {
    http::Request request;
    request.path = c.path;
    request.user_name = "mallory";  // set by nobody trustworthy
    request.user_id = 99;
    int before = calls_;
    http::Response response = recording_(request);
    if (c.needs_auth) {
      ExpectUnauthenticated(response, c.path);
      EXPECT_EQ(calls_, before) << c.path;
    } else {
      EXPECT_EQ(response.status, 200) << c.path;
      EXPECT_EQ(calls_, before + 1) << c.path;
      EXPECT_EQ(seen_user_, "") << c.path;
      EXPECT_EQ(seen_id_, 0) << c.path;
    }
  }
}

TEST_F(AuthTest, InactiveUserIs401) {
  ASSERT_TRUE(users_->SetActive(admin_.id, false).ok());
  tokens_->ClearCache();
  ExpectUnauthenticated(Send("/api/2.0/x", "Bearer " + admin_token_), "inactive");
}

}  // namespace
}  // namespace tarn::api
