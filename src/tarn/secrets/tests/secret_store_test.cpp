// SPDX-License-Identifier: Apache-2.0
// Tests for SecretStore: scopes, secrets, ACL enforcement, name rules, and values sealed at rest.
#include "tarn/secrets/secret_store.hpp"

#include <gtest/gtest.h>

#include "tarn/meta/sqlite_meta_store.hpp"

namespace tarn::secrets {
namespace {

class SecretStoreTest : public ::testing::Test {
 protected:
  SecretStoreTest() {
    auto opened = meta::SqliteMetaStore::Open(":memory:");
    EXPECT_TRUE(opened.has_value()) << opened.status().ToString();
    meta_ = std::move(opened).value();
    cipher_ = std::move(SecretCipher::FromKey(std::string(32, 'k'))).value();
    store_ = std::make_unique<SecretStore>(
        *meta_, *cipher_,
        [](std::string_view principal) -> Result<bool> { return principal == "ana" || principal == "bob"; },
        [this] { return now_; });
  }

  std::unique_ptr<meta::SqliteMetaStore> meta_;
  std::unique_ptr<SecretCipher> cipher_;
  std::unique_ptr<SecretStore> store_;
  int64_t now_ = 1'700'000'000'000;
  Caller ana_{"ana", false};
  Caller bob_{"bob", false};
  Caller admin_{"admin", true};
};

TEST_F(SecretStoreTest, ScopeAndSecretRoundTrip) {
  ASSERT_TRUE(store_->CreateScope(ana_, "team-1", "", std::nullopt).ok());
  EXPECT_EQ(store_->CreateScope(bob_, "team-1", "", std::nullopt).code(), ErrorCode::kResourceAlreadyExists);
  ASSERT_TRUE(store_->PutSecret(ana_, "team-1", "db.password", "hunter2").ok());
  now_ += 5;
  ASSERT_TRUE(store_->PutSecret(ana_, "team-1", "api_key", std::string("\0\xff", 2)).ok());
  EXPECT_EQ(*store_->GetSecret(ana_, "team-1", "db.password"), "hunter2");
  EXPECT_EQ(*store_->GetSecret(ana_, "team-1", "api_key"), std::string("\0\xff", 2));
  auto listed = store_->ListSecrets(ana_, "team-1");
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "api_key");
  EXPECT_EQ((*listed)[0].last_updated_timestamp, now_);
  EXPECT_EQ((*listed)[1].key, "db.password");
  EXPECT_EQ((*listed)[1].last_updated_timestamp, now_ - 5);
  // Overwrite.
  ASSERT_TRUE(store_->PutSecret(ana_, "team-1", "db.password", "new").ok());
  EXPECT_EQ(*store_->GetSecret(ana_, "team-1", "db.password"), "new");
  EXPECT_EQ(store_->ListSecrets(ana_, "team-1")->size(), 2u);
  auto scopes = store_->ListScopes(bob_);
  ASSERT_EQ(scopes->size(), 1u);
  EXPECT_EQ((*scopes)[0].name, "team-1");
  EXPECT_EQ((*scopes)[0].backend_type, "DATABRICKS");
  // Delete.
  ASSERT_TRUE(store_->DeleteSecret(ana_, "team-1", "api_key").ok());
  EXPECT_EQ(store_->DeleteSecret(ana_, "team-1", "api_key").code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(store_->GetSecret(ana_, "team-1", "api_key").status().code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_TRUE(store_->DeleteScope(ana_, "team-1").ok());
  EXPECT_EQ(store_->GetSecret(ana_, "team-1", "db.password").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(store_->DeleteScope(ana_, "team-1").code(), ErrorCode::kResourceDoesNotExist);
  // Re-creating the scope starts empty.
  ASSERT_TRUE(store_->CreateScope(ana_, "team-1", "DATABRICKS", std::nullopt).ok());
  EXPECT_TRUE(store_->ListSecrets(ana_, "team-1")->empty());
}

TEST_F(SecretStoreTest, ValuesAreSealedAtRest) {
  ASSERT_TRUE(store_->CreateScope(ana_, "s", "", std::nullopt).ok());
  ASSERT_TRUE(store_->PutSecret(ana_, "s", "k", "plaintext-marker-4711").ok());
  auto rows = meta_->Query("SELECT sealed_value FROM secrets");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0].String(0).find("plaintext-marker-4711"), std::string::npos);
  // A sealed value moved to another key does not open.
  ASSERT_TRUE(store_->PutSecret(ana_, "s", "other", "x").ok());
  ASSERT_TRUE(meta_
                  ->Execute("UPDATE secrets SET sealed_value = (SELECT sealed_value FROM secrets WHERE secret_key = "
                            "'k') WHERE secret_key = 'other'")
                  .has_value());
  EXPECT_EQ(store_->GetSecret(ana_, "s", "other").status().code(), ErrorCode::kCorruptData);
}

TEST_F(SecretStoreTest, AclsAreEnforced) {
  ASSERT_TRUE(store_->CreateScope(ana_, "s", "", std::nullopt).ok());
  ASSERT_TRUE(store_->PutSecret(ana_, "s", "k", "v").ok());
  // bob has nothing yet.
  EXPECT_EQ(store_->GetSecret(bob_, "s", "k").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->ListSecrets(bob_, "s").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->PutSecret(bob_, "s", "k", "x").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->ListAcls(bob_, "s").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->DeleteScope(bob_, "s").code(), ErrorCode::kPermissionDenied);

  ASSERT_TRUE(store_->PutAcl(ana_, "s", "bob", Permission::kRead).ok());
  EXPECT_EQ(*store_->GetSecret(bob_, "s", "k"), "v");
  EXPECT_EQ(store_->ListSecrets(bob_, "s")->size(), 1u);
  EXPECT_EQ(store_->PutSecret(bob_, "s", "k", "x").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->DeleteSecret(bob_, "s", "k").code(), ErrorCode::kPermissionDenied);

  ASSERT_TRUE(store_->PutAcl(ana_, "s", "bob", Permission::kWrite).ok());
  EXPECT_TRUE(store_->PutSecret(bob_, "s", "k2", "x").ok());
  EXPECT_EQ(store_->PutAcl(bob_, "s", "bob", Permission::kManage).code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->GetAcl(bob_, "s", "bob").status().code(), ErrorCode::kPermissionDenied);

  auto acls = store_->ListAcls(ana_, "s");
  ASSERT_TRUE(acls.has_value());
  ASSERT_EQ(acls->size(), 2u);
  EXPECT_EQ((*acls)[0].principal, "ana");
  EXPECT_EQ((*acls)[0].permission, Permission::kManage);  // the creator
  EXPECT_EQ((*acls)[1].principal, "bob");
  EXPECT_EQ((*acls)[1].permission, Permission::kWrite);
  EXPECT_EQ(store_->GetAcl(ana_, "s", "bob")->permission, Permission::kWrite);

  ASSERT_TRUE(store_->DeleteAcl(ana_, "s", "bob").ok());
  EXPECT_EQ(store_->GetSecret(bob_, "s", "k").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->DeleteAcl(ana_, "s", "bob").code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(store_->GetAcl(ana_, "s", "bob").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(store_->PutAcl(ana_, "s", "nobody", Permission::kRead).code(), ErrorCode::kResourceDoesNotExist);

  // The `users` group covers everyone; admins manage every scope.
  ASSERT_TRUE(store_->PutAcl(ana_, "s", "users", Permission::kRead).ok());
  EXPECT_EQ(*store_->GetSecret(bob_, "s", "k"), "v");
  EXPECT_TRUE(store_->ListAcls(admin_, "s").has_value());
  EXPECT_TRUE(store_->DeleteScope(admin_, "s").ok());
}

TEST_F(SecretStoreTest, InitialManagePrincipalUsers) {
  ASSERT_TRUE(store_->CreateScope(ana_, "shared", "", std::string("users")).ok());
  EXPECT_TRUE(store_->PutSecret(bob_, "shared", "k", "v").ok());
  EXPECT_TRUE(store_->ListAcls(bob_, "shared").has_value());
  EXPECT_EQ(store_->CreateScope(ana_, "x", "", std::string("bob")).code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(store_->CreateScope(ana_, "y", "AZURE_KEYVAULT", std::nullopt).code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(SecretStoreTest, NamesAndLimits) {
  for (const std::string& bad :
       std::vector<std::string>{"", "has space", "slash/x", "semi;colon", std::string(129, 'a'), "\xc3\xa9"}) {
    EXPECT_EQ(store_->CreateScope(ana_, bad, "", std::nullopt).code(), ErrorCode::kInvalidParameterValue) << bad;
  }
  ASSERT_TRUE(store_->CreateScope(ana_, std::string(128, 'a'), "", std::nullopt).ok());
  ASSERT_TRUE(store_->CreateScope(ana_, "s", "", std::nullopt).ok());
  EXPECT_EQ(store_->PutSecret(ana_, "s", "bad key", "v").code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(store_->PutSecret(ana_, "s", "k", std::string(kMaxSecretBytes + 1, 'v')).code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_TRUE(store_->PutSecret(ana_, "s", "k", std::string(kMaxSecretBytes, 'v')).ok());
  EXPECT_EQ(store_->PutSecret(ana_, "missing", "k", "v").code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(ParsePermission("read").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(*ParsePermission("MANAGE"), Permission::kManage);
}

TEST_F(SecretStoreTest, AtMostAThousandSecretsPerScope) {
  ASSERT_TRUE(store_->CreateScope(ana_, "s", "", std::nullopt).ok());
  for (int i = 0; i < kMaxSecretsPerScope; ++i) {
    ASSERT_TRUE(store_->PutSecret(ana_, "s", fmt::format("k{}", i), "v").ok()) << i;
  }
  EXPECT_EQ(store_->PutSecret(ana_, "s", "one-more", "v").code(), ErrorCode::kInvalidParameterValue);
  EXPECT_TRUE(store_->PutSecret(ana_, "s", "k0", "replaced").ok());  // overwriting is still fine
}

}  // namespace
}  // namespace tarn::secrets
