// SPDX-License-Identifier: Apache-2.0
// Tests for UserStore: create, look up, list, deactivate, name validation.
#include "tarn/identity/user_store.hpp"

#include <gtest/gtest.h>

#include "identity_test_env.hpp"

namespace tarn::identity {
namespace {

TEST(UserStoreTest, CreateThenLookUp) {
  IdentityTestEnv env;
  UserStore users(env.store(), env.clock());
  auto alice = users.Create("alice@example.com", "Alice");
  ASSERT_TRUE(alice.has_value()) << alice.status().ToString();
  EXPECT_GT(alice->id, 0);
  EXPECT_TRUE(alice->active);
  EXPECT_EQ(alice->created_at, env.now());
  auto bob = users.Create("bob", "");
  ASSERT_TRUE(bob.has_value());
  EXPECT_NE(bob->id, alice->id);

  auto by_id = users.Get(alice->id);
  ASSERT_TRUE(by_id.has_value());
  EXPECT_EQ(by_id->user_name, "alice@example.com");
  EXPECT_EQ(by_id->display_name, "Alice");
  EXPECT_EQ(by_id->created_at, env.now());
  auto by_name = users.GetByName("bob");
  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(by_name->id, bob->id);

  auto all = users.List();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, alice->id);
  EXPECT_EQ((*all)[1].user_name, "bob");
}

TEST(UserStoreTest, DuplicateNameIsRejected) {
  IdentityTestEnv env;
  UserStore users(env.store(), env.clock());
  ASSERT_TRUE(users.Create("carol", "C").has_value());
  auto again = users.Create("carol", "Other");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
}

TEST(UserStoreTest, InvalidNamesAreRejected) {
  IdentityTestEnv env;
  UserStore users(env.store(), env.clock());
  for (const std::string& name : {std::string(), std::string(256, 'a'), std::string("a\nb"), std::string("x\x7f")}) {
    auto created = users.Create(name, "");
    ASSERT_FALSE(created.has_value()) << name;
    EXPECT_EQ(created.status().code(), ErrorCode::kInvalidParameterValue) << name;
  }
  EXPECT_TRUE(users.Create(std::string(255, 'a'), "").has_value());
}

TEST(UserStoreTest, UnknownUsersAreNotFound) {
  IdentityTestEnv env;
  UserStore users(env.store(), env.clock());
  EXPECT_EQ(users.Get(999).status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(users.GetByName("nobody").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(users.SetActive(999, false).code(), ErrorCode::kResourceDoesNotExist);
}

TEST(UserStoreTest, SetActiveToggles) {
  IdentityTestEnv env;
  UserStore users(env.store(), env.clock());
  auto dave = users.Create("dave", "Dave");
  ASSERT_TRUE(dave.has_value());
  ASSERT_TRUE(users.SetActive(dave->id, false).ok());
  EXPECT_FALSE(users.Get(dave->id)->active);
  ASSERT_TRUE(users.SetActive(dave->id, true).ok());
  EXPECT_TRUE(users.Get(dave->id)->active);
}

}  // namespace
}  // namespace tarn::identity
