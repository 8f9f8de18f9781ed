// SPDX-License-Identifier: Apache-2.0
// Tests for the Secrets API 2.0 resources, driven through WithAuth and Router::Dispatch.
#include "tarn/api/secrets_routes.hpp"

#include <gtest/gtest.h>

#include "api_test_env.hpp"
#include "tarn/base/crypto.hpp"

namespace tarn::api {
namespace {

using http::Method;
using nlohmann::json;

class SecretsRoutesTest : public ApiTestEnv {
 protected:
  SecretsRoutesTest()
      : cipher_(std::move(secrets::SecretCipher::FromKey(std::string(32, 'k'))).value()),
        secrets_(
            *store_, *cipher_,
            [this](std::string_view name) -> Result<bool> {
              auto user = users_->GetByName(name);
              if (user.has_value()) return true;
              if (user.status().code() == ErrorCode::kResourceDoesNotExist) return false;
              return user.status();
            },
            [this] { return now_.load(); }) {
    RegisterSecretsRoutes(router_, secrets_);
    auto bob = users_->Create("bob", "Bob");
    EXPECT_TRUE(bob.has_value());
    auto token = tokens_->Create(bob->id, std::nullopt, "");
    EXPECT_TRUE(token.has_value());
    bob_ = "Bearer " + token->token_value;
  }

  http::Response Post(const std::string& path, const json& body, const std::string& auth = "USE_ADMIN") {
    return Call(Method::kPost, path, body.dump(), auth);
  }

  std::unique_ptr<secrets::SecretCipher> cipher_;
  secrets::SecretStore secrets_;
  std::string bob_;
};

TEST_F(SecretsRoutesTest, ScopeSecretAndAclRoundTrip) {
  ASSERT_EQ(Post("/api/2.0/secrets/scopes/create", {{"scope", "etl"}}).status, 200);
  http::Response again = Post("/api/2.0/secrets/scopes/create", {{"scope", "etl"}});
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(ErrorCodeOf(again), "RESOURCE_ALREADY_EXISTS");
  json scopes = Json(Call(Method::kGet, "/api/2.0/secrets/scopes/list"));
  EXPECT_EQ(scopes, json::parse(R"({"scopes": [{"name": "etl", "backend_type": "DATABRICKS"}]})"));

  ASSERT_EQ(Post("/api/2.0/secrets/put", {{"scope", "etl"}, {"key", "pw"}, {"string_value", "s3cr3t-value"}}).status,
            200);
  ASSERT_EQ(Post("/api/2.0/secrets/put", {{"scope", "etl"}, {"key", "bin"}, {"bytes_value", Base64Encode("\x01\x02")}})
                .status,
            200);
  http::Response listed = Call(Method::kGet, "/api/2.0/secrets/list?scope=etl");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find("s3cr3t"), std::string::npos);
  json secrets = Json(listed)["secrets"];
  ASSERT_EQ(secrets.size(), 2u);
  EXPECT_EQ(secrets[0], json({{"key", "bin"}, {"last_updated_timestamp", kStartMillis}}));
  json got = Json(Call(Method::kGet, "/api/2.0/secrets/get?scope=etl&key=pw"));
  EXPECT_EQ(got["key"], "pw");
  EXPECT_EQ(*Base64Decode(got["value"].get<std::string>()), "s3cr3t-value");
  EXPECT_EQ(
      *Base64Decode(Json(Call(Method::kGet, "/api/2.0/secrets/get?scope=etl&key=bin"))["value"].get<std::string>()),
      "\x01\x02");

  // bob: nothing until granted.
  http::Response denied = Call(Method::kGet, "/api/2.0/secrets/get?scope=etl&key=pw", "", bob_);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(ErrorCodeOf(denied), "PERMISSION_DENIED");
  ASSERT_EQ(Post("/api/2.0/secrets/acls/put", {{"scope", "etl"}, {"principal", "bob"}, {"permission", "READ"}}).status,
            200);
  EXPECT_EQ(Call(Method::kGet, "/api/2.0/secrets/get?scope=etl&key=pw", "", bob_).status, 200);
  EXPECT_EQ(Post("/api/2.0/secrets/put", {{"scope", "etl"}, {"key", "x"}, {"string_value", "v"}}, bob_).status, 403);
  EXPECT_EQ(Call(Method::kGet, "/api/2.0/secrets/acls/list?scope=etl", "", bob_).status, 403);
  json acl = Json(Call(Method::kGet, "/api/2.0/secrets/acls/get?scope=etl&principal=bob"));
  EXPECT_EQ(acl, json({{"principal", "bob"}, {"permission", "READ"}}));
  json items = Json(Call(Method::kGet, "/api/2.0/secrets/acls/list?scope=etl"))["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0], json({{"principal", "admin"}, {"permission", "MANAGE"}}));
  ASSERT_EQ(Post("/api/2.0/secrets/acls/delete", {{"scope", "etl"}, {"principal", "bob"}}).status, 200);
  EXPECT_EQ(Call(Method::kGet, "/api/2.0/secrets/get?scope=etl&key=pw", "", bob_).status, 403);

  ASSERT_EQ(Post("/api/2.0/secrets/delete", {{"scope", "etl"}, {"key", "pw"}}).status, 200);
  EXPECT_EQ(ErrorCodeOf(Call(Method::kGet, "/api/2.0/secrets/get?scope=etl&key=pw")), "RESOURCE_DOES_NOT_EXIST");
  ASSERT_EQ(Post("/api/2.0/secrets/scopes/delete", {{"scope", "etl"}}).status, 200);
  EXPECT_EQ(Json(Call(Method::kGet, "/api/2.0/secrets/scopes/list")), json::object());
  EXPECT_EQ(Call(Method::kGet, "/api/2.0/secrets/list?scope=etl").status, 404);
}

TEST_F(SecretsRoutesTest, BadRequests) {
  ASSERT_EQ(Post("/api/2.0/secrets/scopes/create", {{"scope", "s"}}).status, 200);
  struct Case {
    std::string path;
    json body;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"/api/2.0/secrets/scopes/create", {{"scope", "bad scope"}}, 400, "INVALID_PARAMETER_VALUE"},
      {"/api/2.0/secrets/scopes/create", json::object(), 400, "INVALID_PARAMETER_VALUE"},
      {"/api/2.0/secrets/scopes/create",
       {{"scope", "kv"}, {"scope_backend_type", "AZURE_KEYVAULT"}},
       400,
       "INVALID_PARAMETER_VALUE"},
      {"/api/2.0/secrets/put", {{"scope", "s"}, {"key", "k"}}, 400, "INVALID_PARAMETER_VALUE"},
      {"/api/2.0/secrets/put",
       {{"scope", "s"}, {"key", "k"}, {"string_value", "a"}, {"bytes_value", "YQ=="}},
       400,
       "INVALID_PARAMETER_VALUE"},
      {"/api/2.0/secrets/put", {{"scope", "s"}, {"key", "k"}, {"bytes_value", "%%%"}}, 400, "INVALID_PARAMETER_VALUE"},
      {"/api/2.0/secrets/put",
       {{"scope", "s"}, {"key", "k"}, {"string_value", std::string(128 * 1024 + 1, 'v')}},
       400,
       "INVALID_PARAMETER_VALUE"},
      {"/api/2.0/secrets/put",
       {{"scope", "nope"}, {"key", "k"}, {"string_value", "v"}},
       404,
       "RESOURCE_DOES_NOT_EXIST"},
      {"/api/2.0/secrets/put", {{"scope", "s"}, {"key", 5}, {"string_value", "v"}}, 400, "INVALID_PARAMETER_VALUE"},
      {"/api/2.0/secrets/acls/put",
       {{"scope", "s"}, {"principal", "bob"}, {"permission", "OWN"}},
       400,
       "INVALID_PARAMETER_VALUE"},
      {"/api/2.0/secrets/acls/put",
       {{"scope", "s"}, {"principal", "ghost"}, {"permission", "READ"}},
       404,
       "RESOURCE_DOES_NOT_EXIST"},
      {"/api/2.0/secrets/delete", {{"scope", "s"}, {"key", "missing"}}, 404, "RESOURCE_DOES_NOT_EXIST"},
  };
  for (const auto& c : cases) {
    http::Response response = Post(c.path, c.body);
    EXPECT_EQ(response.status, c.status) << c.path << " " << c.body.dump().substr(0, 100) << " -> " << response.body;
    EXPECT_EQ(ErrorCodeOf(response), c.code) << c.path << " " << c.body.dump().substr(0, 100);
  }
  EXPECT_EQ(ErrorCodeOf(Call(Method::kPost, "/api/2.0/secrets/put", "{")), "MALFORMED_REQUEST");
  EXPECT_EQ(ErrorCodeOf(Call(Method::kGet, "/api/2.0/secrets/list")), "INVALID_PARAMETER_VALUE");
  for (const char* path : {"/api/2.0/secrets/scopes/list", "/api/2.0/secrets/list?scope=s"}) {
    EXPECT_EQ(Call(Method::kGet, path, "", "").status, 401) << path;
  }
}

}  // namespace
}  // namespace tarn::api
