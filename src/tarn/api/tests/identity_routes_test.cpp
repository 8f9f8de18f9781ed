// SPDX-License-Identifier: Apache-2.0
// Tests for the Token API 2.0 and SCIM Me resources, driven through WithAuth and Router::Dispatch.
#include "tarn/api/identity_routes.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "api_test_env.hpp"

namespace tarn::api {
namespace {

using http::Method;
using nlohmann::json;

class IdentityRoutesTest : public ApiTestEnv {};

TEST_F(IdentityRoutesTest, CreateListDeleteRoundTrip) {
  http::Response created =
      Call(Method::kPost, "/api/2.0/token/create", R"({"lifetime_seconds": 3600, "comment": "ci"})");
  ASSERT_EQ(created.status, 200) << created.body;
  json body = Json(created);
  std::string token_value = body["token_value"].get<std::string>();
  EXPECT_TRUE(std::regex_match(token_value, std::regex("dapi[0-9a-f]{32}"))) << token_value;
  json info = body["token_info"];
  std::string token_id = info["token_id"].get<std::string>();
  EXPECT_FALSE(token_id.empty());
  EXPECT_EQ(info["creation_time"].get<int64_t>(), kStartMillis);
  EXPECT_EQ(info["expiry_time"].get<int64_t>(), kStartMillis + 3'600'000);
  EXPECT_EQ(info["comment"], "ci");

  // The new token works, and the list shows it (and the bootstrap token) without any secret.
  http::Response listed = Call(Method::kGet, "/api/2.0/token/list", "", "Bearer " + token_value);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.body.find(token_value), std::string::npos);
  EXPECT_EQ(listed.body.find(admin_token_), std::string::npos);
  EXPECT_EQ(listed.body.find("token_value"), std::string::npos);
  json infos = Json(listed)["token_infos"];
  ASSERT_EQ(infos.size(), 2u);
  bool found = false;
  for (const auto& i : infos) {
    if (i["token_id"] == token_id) {
      found = true;
      EXPECT_EQ(i["comment"], "ci");
      EXPECT_EQ(i["expiry_time"].get<int64_t>(), kStartMillis + 3'600'000);
    } else {
      EXPECT_EQ(i["expiry_time"].get<int64_t>(), -1);  // the bootstrap token never expires
    }
  }
  EXPECT_TRUE(found);

  http::Response deleted = Call(Method::kPost, "/api/2.0/token/delete", json{{"token_id", token_id}}.dump());
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(Json(deleted), json::object());
  EXPECT_EQ(Json(Call(Method::kGet, "/api/2.0/token/list"))["token_infos"].size(), 1u);
  http::Response with_deleted = Call(Method::kGet, "/api/2.0/token/list", "", "Bearer " + token_value);
  EXPECT_EQ(with_deleted.status, 401);
  EXPECT_EQ(ErrorCodeOf(with_deleted), "UNAUTHENTICATED");
}

TEST_F(IdentityRoutesTest, CreateAcceptsLooseInput) {
  // No body at all: default lifetime (two years), empty comment.
  http::Response bare = Call(Method::kPost, "/api/2.0/token/create", "");
  ASSERT_EQ(bare.status, 200) << bare.body;
  EXPECT_EQ(Json(bare)["token_info"]["expiry_time"].get<int64_t>(),
            kStartMillis + identity::kDefaultTokenLifetimeSeconds * 1000);
  EXPECT_EQ(Json(bare)["token_info"]["comment"], "");
  struct Case {
    std::string body;
    int64_t expected_expiry;
  };
  std::vector<Case> cases = {
      {R"({"lifetime_seconds": 0})", kStartMillis + identity::kDefaultTokenLifetimeSeconds * 1000},
      {R"({"lifetime_seconds": null, "comment": null})", kStartMillis + identity::kDefaultTokenLifetimeSeconds * 1000},
      {R"({"lifetime_seconds": "60"})", kStartMillis + 60'000},
      {R"({"lifetime_seconds": 60.0, "unknown_field": [1, {"x": 2}]})", kStartMillis + 60'000},
      {" \n{\"lifetime_seconds\": 7776000}\n", kStartMillis + 7'776'000'000},
  };
  for (const auto& c : cases) {
    http::Response response = Call(Method::kPost, "/api/2.0/token/create", c.body);
    ASSERT_EQ(response.status, 200) << c.body << " -> " << response.body;
    EXPECT_EQ(Json(response)["token_info"]["expiry_time"].get<int64_t>(), c.expected_expiry) << c.body;
  }
}

TEST_F(IdentityRoutesTest, MalformedBodiesAre400MalformedRequest) {
  for (std::string body : {"{", "not json", "[1, 2]", "\"a string\"", "42", "{\"comment\": \"x\"} trailing"}) {
    for (const char* path : {"/api/2.0/token/create", "/api/2.0/token/delete"}) {
      http::Response response = Call(Method::kPost, path, body);
      EXPECT_EQ(response.status, 400) << path << " " << body;
      EXPECT_EQ(ErrorCodeOf(response), "MALFORMED_REQUEST") << path << " " << body;
    }
  }
}

TEST_F(IdentityRoutesTest, WrongFieldTypesAre400InvalidParameterValue) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/2.0/token/create", R"({"lifetime_seconds": "abc"})"},
      {"/api/2.0/token/create", R"({"lifetime_seconds": true})"},
      {"/api/2.0/token/create", R"({"lifetime_seconds": 1.5})"},
      {"/api/2.0/token/create", R"({"lifetime_seconds": {}})"},
      {"/api/2.0/token/create", R"({"lifetime_seconds": 18446744073709551615})"},
      {"/api/2.0/token/create", R"({"lifetime_seconds": -5})"},
      {"/api/2.0/token/create", R"({"comment": 5})"},
      {"/api/2.0/token/delete", R"({"token_id": 7})"},
      {"/api/2.0/token/delete", R"({})"},
      {"/api/2.0/token/delete", R"({"token_id": ""})"},
  };
  for (const auto& [path, body] : cases) {
    http::Response response = Call(Method::kPost, path, body);
    EXPECT_EQ(response.status, 400) << path << " " << body;
    EXPECT_EQ(ErrorCodeOf(response), "INVALID_PARAMETER_VALUE") << path << " " << body << " -> " << response.body;
  }
}

TEST_F(IdentityRoutesTest, DeletingAnUnknownOrForeignTokenIs404) {
  http::Response unknown = Call(Method::kPost, "/api/2.0/token/delete", R"({"token_id": "feedface"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(ErrorCodeOf(unknown), "RESOURCE_DOES_NOT_EXIST");

  auto bob = users_->Create("bob", "Bob");
  ASSERT_TRUE(bob.has_value());
  auto bob_token = tokens_->Create(bob->id, std::nullopt, "");
  ASSERT_TRUE(bob_token.has_value());
  auto admin_tokens = tokens_->List(admin_.id);
  ASSERT_TRUE(admin_tokens.has_value() && !admin_tokens->empty());
  http::Response foreign =
      Call(Method::kPost, "/api/2.0/token/delete", json{{"token_id", (*admin_tokens)[0].token_id}}.dump(),
           "Bearer " + bob_token->token_value);
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(ErrorCodeOf(foreign), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(Call(Method::kGet, "/api/2.0/token/list").status, 200);  // admin's token survived
  // Each user lists only their own tokens.
  json bobs = Json(Call(Method::kGet, "/api/2.0/token/list", "", "Bearer " + bob_token->token_value));
  ASSERT_EQ(bobs["token_infos"].size(), 1u);
  EXPECT_EQ(bobs["token_infos"][0]["token_id"], bob_token->info.token_id);
}

TEST_F(IdentityRoutesTest, EveryRouteNeedsAValidToken) {
  struct Case {
    Method method;
    std::string path;
  };
  std::vector<Case> routes = {{Method::kPost, "/api/2.0/token/create"},
                              {Method::kGet, "/api/2.0/token/list"},
                              {Method::kPost, "/api/2.0/token/delete"},
                              {Method::kGet, "/api/2.0/preview/scim/v2/Me"}};
  auto expiring = tokens_->Create(admin_.id, 10, "");
  ASSERT_TRUE(expiring.has_value());
  now_ += 10'000;
  for (const auto& route : routes) {
    for (const std::string& auth :
         {std::string(), std::string("Bearer nope"), std::string("Bearer ") + expiring->token_value}) {
      http::Response response = Call(route.method, route.path, "{}", auth);
      EXPECT_EQ(response.status, 401) << route.path << " " << auth;
      EXPECT_EQ(ErrorCodeOf(response), "UNAUTHENTICATED") << route.path;
    }
    // Mounted without the middleware, the handlers still refuse to run anonymously.
    http::Request bare;
    bare.method = route.method;
    bare.path = route.path;
    http::Response response = router_.Dispatch(bare);
    EXPECT_EQ(response.status, 401) << route.path;
  }
}

TEST_F(IdentityRoutesTest, ScimMeDescribesTheCaller) {
  http::Response response = Call(Method::kGet, "/api/2.0/preview/scim/v2/Me");
  ASSERT_EQ(response.status, 200) << response.body;
  json me = Json(response);
  EXPECT_EQ(me["id"], std::to_string(admin_.id));
  EXPECT_EQ(me["userName"], "admin");
  EXPECT_EQ(me["displayName"], "admin");
  EXPECT_EQ(me["active"], true);
  ASSERT_TRUE(me["emails"].is_array());
  ASSERT_EQ(me["emails"].size(), 1u);
  EXPECT_EQ(me["emails"][0]["value"], "admin");
  EXPECT_EQ(me["emails"][0]["primary"], true);
  EXPECT_EQ(me["schemas"], json::array({"urn:ietf:params:scim:schemas:core:2.0:User"}));

  auto carol = users_->Create("carol@example.com", "Carol C");
  ASSERT_TRUE(carol.has_value());
  auto carol_token = tokens_->Create(carol->id, std::nullopt, "");
  ASSERT_TRUE(carol_token.has_value());
  json carol_me = Json(Call(Method::kGet, "/api/2.0/preview/scim/v2/Me", "", "Bearer " + carol_token->token_value));
  EXPECT_EQ(carol_me["userName"], "carol@example.com");
  EXPECT_EQ(carol_me["displayName"], "Carol C");
  EXPECT_EQ(carol_me["id"], std::to_string(carol->id));
}

TEST_F(IdentityRoutesTest, ScimMeHonoursAttributeSelection) {
  json only = Json(Call(Method::kGet, "/api/2.0/preview/scim/v2/Me?attributes=userName,%20displayName"));
  EXPECT_EQ(only["userName"], "admin");
  EXPECT_TRUE(only.contains("displayName"));
  EXPECT_TRUE(only.contains("id"));
  EXPECT_TRUE(only.contains("schemas"));
  EXPECT_FALSE(only.contains("emails"));
  EXPECT_FALSE(only.contains("active"));
  json without = Json(Call(Method::kGet, "/api/2.0/preview/scim/v2/Me?excludedAttributes=emails,groups,id"));
  EXPECT_FALSE(without.contains("emails"));
  EXPECT_FALSE(without.contains("groups"));
  EXPECT_TRUE(without.contains("id"));
  EXPECT_TRUE(without.contains("userName"));
}

}  // namespace
}  // namespace tarn::api
