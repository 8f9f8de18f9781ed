// SPDX-License-Identifier: Apache-2.0
// Tests for the SCRAM-SHA-256 verifiers of personal access tokens (meta migration 5).
#include <gtest/gtest.h>

#include "identity_test_env.hpp"
#include "tarn/base/crypto.hpp"
#include "tarn/identity/token_service.hpp"

namespace tarn::identity {
namespace {

// Builds a client proof for `password` the way a SCRAM client does.
std::string ClientProof(std::string_view password, const ScramVerifier& params, std::string_view auth_message) {
  std::string salted = Pbkdf2Sha256(password, params.salt, params.iterations, 32);
  std::string client_key = HmacSha256(salted, "Client Key");
  std::string signature = HmacSha256(Sha256(client_key), auth_message);
  std::string proof(32, '\0');
  for (size_t i = 0; i < 32; i++) proof[i] = static_cast<char>(client_key[i] ^ signature[i]);
  return proof;
}

class ScramVerifierTest : public ::testing::Test {
 protected:
  ScramVerifierTest() : users_(env_.store(), env_.clock()), tokens_(env_.store(), env_.Options()) {
    auto alice = users_.Create("alice", "Alice");
    EXPECT_TRUE(alice.has_value());
    alice_ = alice.value_or(User{});
  }
  IdentityTestEnv env_;
  UserStore users_;
  TokenService tokens_;
  User alice_;
};

TEST_F(ScramVerifierTest, ParametersAreStableAndShared) {
  auto a = tokens_.ScramParameters();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->salt.size(), 16u);
  EXPECT_EQ(a->iterations, kScramIterations);
  TokenService other(env_.store(), env_.Options());
  auto b = other.ScramParameters();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->salt, b->salt);
}

TEST_F(ScramVerifierTest, ProofFromTheTokenMatchesItsOwner) {
  auto created = tokens_.Create(alice_.id, std::nullopt, "pg");
  ASSERT_TRUE(created.ok());
  auto params = tokens_.ScramParameters();
  ASSERT_TRUE(params.ok());
  std::string auth = "n=,r=abc,r=abcdef,s=xx,i=4096,c=biws,r=abcdef";
  auto match = tokens_.AuthenticateScram(auth, ClientProof(created->token_value, *params, auth));
  ASSERT_TRUE(match.ok()) << match.status().ToString();
  EXPECT_EQ(match->principal.user_name, "alice");
  ScramVerifier expected = ComputeScramVerifier(created->token_value, params->salt, params->iterations);
  EXPECT_EQ(match->server_key, expected.server_key);
  // A wrong password, a proof for another message and a revoked token are refused.
  EXPECT_EQ(tokens_.AuthenticateScram(auth, ClientProof("dapiwrong", *params, auth)).status().code(),
            ErrorCode::kUnauthenticated);
  EXPECT_FALSE(tokens_.AuthenticateScram(auth + "x", ClientProof(created->token_value, *params, auth)).ok());
  ASSERT_TRUE(tokens_.Revoke(alice_.id, created->info.token_id).ok());
  EXPECT_FALSE(tokens_.AuthenticateScram(auth, ClientProof(created->token_value, *params, auth)).ok());
}

TEST_F(ScramVerifierTest, ExpiredTokensAreRefused) {
  auto created = tokens_.Create(alice_.id, 10, "short");
  ASSERT_TRUE(created.ok());
  auto params = tokens_.ScramParameters();
  std::string auth = "m";
  EXPECT_TRUE(tokens_.AuthenticateScram(auth, ClientProof(created->token_value, *params, auth)).ok());
  env_.AdvanceMillis(11'000);
  EXPECT_FALSE(tokens_.AuthenticateScram(auth, ClientProof(created->token_value, *params, auth)).ok());
}

TEST_F(ScramVerifierTest, TokensWithoutVerifierGetOneWhenUsedByValue) {
  auto created = tokens_.Create(alice_.id, std::nullopt, "old");
  ASSERT_TRUE(created.ok());
  // Simulate a token created before migration 5.
  ASSERT_TRUE(env_.store().Execute("DELETE FROM identity_scram_verifiers").ok());
  auto params = tokens_.ScramParameters();
  std::string auth = "m";
  EXPECT_FALSE(tokens_.AuthenticateScram(auth, ClientProof(created->token_value, *params, auth)).ok());
  ASSERT_TRUE(tokens_.Authenticate(created->token_value).ok());
  EXPECT_TRUE(tokens_.AuthenticateScram(auth, ClientProof(created->token_value, *params, auth)).ok());
}

}  // namespace
}  // namespace tarn::identity
