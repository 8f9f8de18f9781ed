// SPDX-License-Identifier: Apache-2.0
// Tests for TokenService: token format, lifetimes and expiry, revocation, listing, hashing and the lookup cache.
#include "tarn/identity/token_service.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <regex>
#include <thread>

#include "identity_test_env.hpp"
#include "tarn/base/crypto.hpp"

namespace tarn::identity {
namespace {

class TokenServiceTest : public ::testing::Test {
 protected:
  TokenServiceTest() : users_(env_.store(), env_.clock()), tokens_(env_.store(), env_.Options()) {
    auto alice = users_.Create("alice", "Alice");
    auto bob = users_.Create("bob", "Bob");
    EXPECT_TRUE(alice.has_value() && bob.has_value());
    alice_ = alice.value_or(User{});
    bob_ = bob.value_or(User{});
  }

  CreatedToken CreateOrDie(int64_t user_id, std::optional<int64_t> lifetime = std::nullopt,
                           std::string_view comment = "") {
    auto created = tokens_.Create(user_id, lifetime, comment);
    EXPECT_TRUE(created.has_value()) << created.status().ToString();
    return created.value_or(CreatedToken{});
  }

  IdentityTestEnv env_;
  UserStore users_;
  TokenService tokens_;
  User alice_;
  User bob_;
};

TEST_F(TokenServiceTest, CreateReturnsDatabricksStyleToken) {
  CreatedToken token = CreateOrDie(alice_.id, 3600, "ci");
  EXPECT_TRUE(std::regex_match(token.token_value, std::regex("dapi[0-9a-f]{32}"))) << token.token_value;
  EXPECT_TRUE(std::regex_match(token.info.token_id, std::regex("[0-9a-f]{64}"))) << token.info.token_id;
  EXPECT_EQ(token.info.user_id, alice_.id);
  EXPECT_EQ(token.info.comment, "ci");
  EXPECT_EQ(token.info.creation_time, env_.now());
  EXPECT_EQ(token.info.expiry_time, env_.now() + 3600 * 1000);
  CreatedToken other = CreateOrDie(alice_.id, 3600, "ci");
  EXPECT_NE(other.token_value, token.token_value);
  EXPECT_NE(other.info.token_id, token.info.token_id);
}

TEST_F(TokenServiceTest, AbsentOrZeroLifetimeUsesDefault) {
  int64_t expected = env_.now() + kDefaultTokenLifetimeSeconds * 1000;
  EXPECT_EQ(CreateOrDie(alice_.id, std::nullopt).info.expiry_time, expected);
  EXPECT_EQ(CreateOrDie(alice_.id, 0).info.expiry_time, expected);
  TokenServiceOptions never = env_.Options();
  never.default_lifetime_seconds = 0;
  TokenService eternal(env_.store(), never);
  auto created = eternal.Create(alice_.id, std::nullopt, "");
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->info.expiry_time, kNeverExpires);
}

TEST_F(TokenServiceTest, InvalidCreateArgumentsAreRejected) {
  EXPECT_EQ(tokens_.Create(alice_.id, -1, "").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(tokens_.Create(alice_.id, std::numeric_limits<int64_t>::max(), "").status().code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(tokens_.Create(alice_.id, 60, std::string(4097, 'c')).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(tokens_.Create(12345, 60, "").status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(TokenServiceTest, AuthenticateFindsTheOwner) {
  CreatedToken a = CreateOrDie(alice_.id);
  CreatedToken b = CreateOrDie(bob_.id);
  for (int round = 0; round < 2; ++round) {  // the second round is served from the cache
    auto pa = tokens_.Authenticate(a.token_value);
    ASSERT_TRUE(pa.has_value()) << pa.status().ToString();
    EXPECT_EQ(pa->user_id, alice_.id);
    EXPECT_EQ(pa->user_name, "alice");
    auto pb = tokens_.Authenticate(b.token_value);
    ASSERT_TRUE(pb.has_value());
    EXPECT_EQ(pb->user_name, "bob");
  }
}

TEST_F(TokenServiceTest, UnknownAndWrongTokensAreUnauthenticated) {
  CreatedToken a = CreateOrDie(alice_.id);
  ASSERT_TRUE(tokens_.Authenticate(a.token_value).has_value());  // cached now: near misses must still fail
  std::string flipped = a.token_value;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  for (const std::string& wrong :
       {std::string(), TokenService::GenerateTokenValue(), flipped, a.token_value.substr(0, a.token_value.size() - 1),
        a.token_value + "0", std::string("Bearer ") + a.token_value, std::string(5000, 'd')}) {
    auto p = tokens_.Authenticate(wrong);
    ASSERT_FALSE(p.has_value()) << wrong;
    EXPECT_EQ(p.status().code(), ErrorCode::kUnauthenticated) << wrong;
  }
}

TEST_F(TokenServiceTest, ExpiredTokensAreUnauthenticated) {
  CreatedToken a = CreateOrDie(alice_.id, 60);
  CreatedToken b = CreateOrDie(alice_.id, 60);
  ASSERT_TRUE(tokens_.Authenticate(a.token_value).has_value());  // `a` is cached, `b` is not
  env_.AdvanceMillis(59'999);
  EXPECT_TRUE(tokens_.Authenticate(a.token_value).has_value());
  env_.AdvanceMillis(1);
  EXPECT_EQ(tokens_.Authenticate(a.token_value).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(tokens_.Authenticate(b.token_value).status().code(), ErrorCode::kUnauthenticated);
  // Expired tokens still show in the list (as Databricks does), with their expiry time.
  auto listed = tokens_.List(alice_.id);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->size(), 2u);
}

TEST_F(TokenServiceTest, RevokeTakesEffectImmediately) {
  CreatedToken a = CreateOrDie(alice_.id);
  CreatedToken keep = CreateOrDie(alice_.id);
  ASSERT_TRUE(tokens_.Authenticate(a.token_value).has_value());  // cached
  // Only the owner can revoke; other ids are unknown.
  EXPECT_EQ(tokens_.Revoke(bob_.id, a.info.token_id).code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_TRUE(tokens_.Authenticate(a.token_value).has_value());
  EXPECT_EQ(tokens_.Revoke(alice_.id, "0123").code(), ErrorCode::kResourceDoesNotExist);

  ASSERT_TRUE(tokens_.Revoke(alice_.id, a.info.token_id).ok());
  EXPECT_EQ(tokens_.Authenticate(a.token_value).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(tokens_.Revoke(alice_.id, a.info.token_id).code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_TRUE(tokens_.Authenticate(keep.token_value).has_value());
  auto listed = tokens_.List(alice_.id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].token_id, keep.info.token_id);
}

TEST_F(TokenServiceTest, RevocationElsewhereIsSeenAfterTheCacheTtl) {
  CreatedToken a = CreateOrDie(alice_.id);
  ASSERT_TRUE(tokens_.Authenticate(a.token_value).has_value());  // cached in tokens_
  TokenService other_process(env_.store(), env_.Options());
  ASSERT_TRUE(other_process.Revoke(alice_.id, a.info.token_id).ok());
  EXPECT_EQ(other_process.Authenticate(a.token_value).status().code(), ErrorCode::kUnauthenticated);
  env_.AdvanceMillis(TokenServiceOptions().cache_ttl_millis);
  EXPECT_EQ(tokens_.Authenticate(a.token_value).status().code(), ErrorCode::kUnauthenticated);
}

TEST_F(TokenServiceTest, InactiveUsersCannotAuthenticate) {
  CreatedToken a = CreateOrDie(alice_.id);
  ASSERT_TRUE(tokens_.Authenticate(a.token_value).has_value());
  ASSERT_TRUE(users_.SetActive(alice_.id, false).ok());
  tokens_.ClearCache();
  EXPECT_EQ(tokens_.Authenticate(a.token_value).status().code(), ErrorCode::kUnauthenticated);
  ASSERT_TRUE(users_.SetActive(alice_.id, true).ok());
  EXPECT_TRUE(tokens_.Authenticate(a.token_value).has_value());
}

TEST_F(TokenServiceTest, ListShowsOwnTokensOldestFirst) {
  CreatedToken first = CreateOrDie(alice_.id, 100, "first");
  env_.AdvanceMillis(10);
  CreatedToken second = CreateOrDie(alice_.id, std::nullopt, "second");
  CreateOrDie(bob_.id, 100, "bob's");
  auto listed = tokens_.List(alice_.id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].token_id, first.info.token_id);
  EXPECT_EQ((*listed)[0].comment, "first");
  EXPECT_EQ((*listed)[0].creation_time, first.info.creation_time);
  EXPECT_EQ((*listed)[0].expiry_time, first.info.expiry_time);
  EXPECT_EQ((*listed)[1].token_id, second.info.token_id);
  EXPECT_EQ((*listed)[1].comment, "second");
  auto none = tokens_.List(9999);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST_F(TokenServiceTest, OnlyHashesAreStored) {
  CreatedToken a = CreateOrDie(alice_.id, 100, "x");
  auto imported = tokens_.Import(bob_.id, "my-chosen-secret", "env");
  ASSERT_TRUE(imported.has_value()) << imported.status().ToString();
  auto rows = env_.store().Query("SELECT * FROM tokens");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->rows.size(), 2u);
  for (const auto& row : rows->rows) {
    for (const auto& cell : row.values()) {
      EXPECT_EQ(cell.AsString().find(a.token_value.substr(4)), std::string::npos);
      EXPECT_EQ(cell.AsString().find("my-chosen-secret"), std::string::npos);
    }
  }
  auto hash = env_.store().QueryRow("SELECT token_hash FROM tokens WHERE token_id = ?", {a.info.token_id});
  ASSERT_TRUE(hash.has_value() && hash->has_value());
  EXPECT_EQ((*hash)->String(0), Sha256Hex(a.token_value));
}

TEST_F(TokenServiceTest, ImportedTokensNeverExpire) {
  auto imported = tokens_.Import(alice_.id, "Tarn_Admin-Token.123", "env");
  ASSERT_TRUE(imported.has_value()) << imported.status().ToString();
  EXPECT_EQ(imported->expiry_time, kNeverExpires);
  env_.AdvanceMillis(int64_t{100} * 365 * 24 * 3600 * 1000);
  auto p = tokens_.Authenticate("Tarn_Admin-Token.123");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->user_id, alice_.id);
  EXPECT_EQ(tokens_.Import(bob_.id, "Tarn_Admin-Token.123", "again").status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(tokens_.Import(12345, "another-one", "").status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST(TokenValueTest, ValidationAcceptsPrintableAsciiOnly) {
  EXPECT_TRUE(ValidateTokenValue("dapi0123456789abcdef0123456789abcdef").ok());
  EXPECT_TRUE(ValidateTokenValue("!~").ok());
  for (const std::string& bad : {std::string(), std::string("has space"), std::string("tab\t"), std::string("nl\n"),
                                 std::string("caf\xc3\xa9"), std::string(1025, 'a')}) {
    EXPECT_EQ(ValidateTokenValue(bad).code(), ErrorCode::kInvalidParameterValue) << bad;
  }
}

TEST_F(TokenServiceTest, ConcurrentAuthenticationAndRevocation) {
  std::vector<CreatedToken> created;
  for (int i = 0; i < 8; ++i) created.push_back(CreateOrDie(i % 2 ? alice_.id : bob_.id));
  std::atomic<int> wrong_answers{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const CreatedToken& token = created[static_cast<size_t>((t + i) % 4)];  // tokens 0-3 stay valid
        auto p = tokens_.Authenticate(token.token_value);
        if (!p.has_value() || p->user_id != token.info.user_id) ++wrong_answers;
      }
    });
  }
  for (size_t i = 4; i < created.size(); ++i) {
    ASSERT_TRUE(tokens_.Revoke(created[i].info.user_id, created[i].info.token_id).ok());
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong_answers.load(), 0);
  for (size_t i = 4; i < created.size(); ++i) {
    EXPECT_EQ(tokens_.Authenticate(created[i].token_value).status().code(), ErrorCode::kUnauthenticated);
  }
}

}  // namespace
}  // namespace tarn::identity
