// SPDX-License-Identifier: Apache-2.0
// Tests for Bootstrap: the admin user and its first token, generated or taken from TARN_ADMIN_TOKEN.
#include "tarn/identity/bootstrap.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "identity_test_env.hpp"

namespace tarn::identity {
namespace {

class BootstrapTest : public ::testing::Test {
 protected:
  BootstrapTest() : users_(env_.store(), env_.clock()), tokens_(env_.store(), env_.Options()) {}

  BootstrapResult BootstrapOrDie(std::string_view env_token = "") {
    auto result = Bootstrap(users_, tokens_, env_token);
    EXPECT_TRUE(result.has_value()) << result.status().ToString();
    return result.value_or(BootstrapResult{});
  }

  IdentityTestEnv env_;
  UserStore users_;
  TokenService tokens_;
};

TEST_F(BootstrapTest, FirstStartCreatesAdminWithANonExpiringToken) {
  BootstrapResult first = BootstrapOrDie();
  EXPECT_TRUE(first.admin_created);
  EXPECT_FALSE(first.token_from_env);
  EXPECT_EQ(first.admin.user_name, "admin");
  EXPECT_TRUE(std::regex_match(first.admin_token, std::regex("dapi[0-9a-f]{32}"))) << first.admin_token;
  env_.AdvanceMillis(int64_t{10} * 365 * 24 * 3600 * 1000);
  auto principal = tokens_.Authenticate(first.admin_token);
  ASSERT_TRUE(principal.has_value()) << principal.status().ToString();
  EXPECT_EQ(principal->user_name, "admin");
  EXPECT_EQ(principal->user_id, first.admin.id);
}

TEST_F(BootstrapTest, LaterStartsHandOutNothingNew) {
  BootstrapResult first = BootstrapOrDie();
  BootstrapResult second = BootstrapOrDie();
  EXPECT_FALSE(second.admin_created);
  EXPECT_EQ(second.admin.id, first.admin.id);
  EXPECT_TRUE(second.admin_token.empty());
  auto listed = tokens_.List(first.admin.id);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->size(), 1u);
  EXPECT_TRUE(tokens_.Authenticate(first.admin_token).has_value());
}

TEST_F(BootstrapTest, AdminWithoutTokensGetsANewOne) {
  BootstrapResult first = BootstrapOrDie();
  auto listed = tokens_.List(first.admin.id);
  ASSERT_TRUE(listed.has_value() && listed->size() == 1u);
  ASSERT_TRUE(tokens_.Revoke(first.admin.id, (*listed)[0].token_id).ok());
  BootstrapResult second = BootstrapOrDie();
  EXPECT_FALSE(second.admin_created);
  ASSERT_FALSE(second.admin_token.empty());
  EXPECT_NE(second.admin_token, first.admin_token);
  EXPECT_TRUE(tokens_.Authenticate(second.admin_token).has_value());
}

TEST_F(BootstrapTest, EnvTokenIsUsedAsIs) {
  const std::string env_token = "my-Admin_token.2024";
  BootstrapResult first = BootstrapOrDie(env_token);
  EXPECT_TRUE(first.admin_created);
  EXPECT_TRUE(first.token_from_env);
  EXPECT_EQ(first.admin_token, env_token);
  auto principal = tokens_.Authenticate(env_token);
  ASSERT_TRUE(principal.has_value());
  EXPECT_EQ(principal->user_id, first.admin.id);
  // Restarting with the same env token is fine and stores nothing new.
  BootstrapResult second = BootstrapOrDie(env_token);
  EXPECT_EQ(second.admin_token, env_token);
  auto listed = tokens_.List(first.admin.id);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(BootstrapTest, EnvTokenAddedOnALaterStart) {
  BootstrapResult first = BootstrapOrDie();
  BootstrapResult second = BootstrapOrDie("later-token");
  EXPECT_EQ(second.admin_token, "later-token");
  EXPECT_TRUE(tokens_.Authenticate("later-token").has_value());
  EXPECT_TRUE(tokens_.Authenticate(first.admin_token).has_value());
}

TEST_F(BootstrapTest, BadEnvTokensAreRefused) {
  for (const std::string& bad : {std::string("has space"), std::string("ctl\x01"), std::string("line\n")}) {
    auto result = Bootstrap(users_, tokens_, bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_EQ(result.status().code(), ErrorCode::kInvalidParameterValue) << bad;
  }
}

TEST_F(BootstrapTest, RevokedEnvTokenIsRefused) {
  BootstrapResult first = BootstrapOrDie("env-token");
  auto listed = tokens_.List(first.admin.id);
  ASSERT_TRUE(listed.has_value() && listed->size() == 1u);
  ASSERT_TRUE(tokens_.Revoke(first.admin.id, (*listed)[0].token_id).ok());
  auto again = Bootstrap(users_, tokens_, "env-token");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.status().code(), ErrorCode::kInvalidState);
}

TEST_F(BootstrapTest, EnvTokenOfAnotherUserIsRefused) {
  auto eve = users_.Create("eve", "Eve");
  ASSERT_TRUE(eve.has_value());
  ASSERT_TRUE(tokens_.Import(eve->id, "shared-token", "").has_value());
  auto result = Bootstrap(users_, tokens_, "shared-token");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), ErrorCode::kInvalidState);
}

}  // namespace
}  // namespace tarn::identity
