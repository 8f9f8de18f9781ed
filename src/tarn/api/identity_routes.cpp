// SPDX-License-Identifier: Apache-2.0
// Token API 2.0 and SCIM Me handlers: JSON in, identity services, Databricks-shaped JSON out.
#include "tarn/api/identity_routes.hpp"

#include <set>

#include "tarn/api/detail/json_body.hpp"

namespace tarn::api {
namespace {

using nlohmann::json;

constexpr std::string_view kScimUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";

json TokenInfoJson(const identity::TokenInfo& info) {
  return json{{"token_id", info.token_id},
              {"creation_time", info.creation_time},
              {"expiry_time", info.expiry_time},
              {"comment", info.comment}};
}

Result<json> CreateToken(identity::TokenService& tokens, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::optional<int64_t> lifetime, detail::OptionalInt64(body, "lifetime_seconds"));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> comment, detail::OptionalString(body, "comment"));
  TARN_ASSIGN_OR_RETURN(identity::CreatedToken created, tokens.Create(request.user_id, lifetime, comment.value_or("")));
  return json{{"token_value", created.token_value}, {"token_info", TokenInfoJson(created.info)}};
}

Result<json> ListTokens(identity::TokenService& tokens, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(std::vector<identity::TokenInfo> infos, tokens.List(request.user_id));
  json list = json::array();
  for (const auto& info : infos) list.push_back(TokenInfoJson(info));
  return json{{"token_infos", std::move(list)}};
}

Result<json> DeleteToken(identity::TokenService& tokens, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> token_id, detail::OptionalString(body, "token_id"));
  if (!token_id || token_id->empty()) {
    return Error(ErrorCode::kInvalidParameterValue, "Missing required field: token_id");
  }
  TARN_RETURN_IF_ERROR(tokens.Revoke(request.user_id, *token_id));
  return json::object();
}

// Splits a SCIM attribute list ("userName,emails") into names.
std::set<std::string, std::less<>> AttributeList(std::string_view text) {
  std::set<std::string, std::less<>> names;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view name = text.substr(start, comma - start);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty()) names.emplace(name);
    start = comma + 1;
  }
  return names;
}

Result<json> ScimMe(identity::UserStore& users, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(identity::User user, users.Get(request.user_id));
  std::string display_name = user.display_name.empty() ? user.user_name : user.display_name;
  json email{{"value", user.user_name}, {"type", "work"}, {"primary", true}};
  json me{
      {"id", std::to_string(user.id)},
      {"userName", user.user_name},
      {"displayName", display_name},
      {"active", user.active},
      {"name", {{"givenName", display_name}}},
      {"emails", json::array({std::move(email)})},
      {"groups", json::array()},
      {"entitlements", json::array()},
      {"schemas", json::array({kScimUserSchema})},
  };
  // SCIM attribute selection (RFC 7644 §3.4.2.5); id and schemas are always returned.
  if (auto attributes = request.QueryParam("attributes"); attributes && !attributes->empty()) {
    auto keep = AttributeList(*attributes);
    for (auto it = me.begin(); it != me.end();) {
      if (it.key() != "id" && it.key() != "schemas" && !keep.contains(it.key())) {
        it = me.erase(it);
      } else {
        ++it;
      }
    }
  } else if (auto excluded = request.QueryParam("excludedAttributes"); excluded && !excluded->empty()) {
    for (const auto& name : AttributeList(*excluded)) {
      if (name != "id" && name != "schemas") me.erase(name);
    }
  }
  return me;
}

}  // namespace

void RegisterIdentityRoutes(http::Router& router, identity::TokenService& tokens, identity::UserStore& users) {
  router.Add(http::Method::kPost, "/api/2.0/token/create",
             detail::AuthenticatedJson([&tokens](http::Request& r) { return CreateToken(tokens, r); }));
  router.Add(http::Method::kGet, "/api/2.0/token/list",
             detail::AuthenticatedJson([&tokens](http::Request& r) { return ListTokens(tokens, r); }));
  router.Add(http::Method::kPost, "/api/2.0/token/delete",
             detail::AuthenticatedJson([&tokens](http::Request& r) { return DeleteToken(tokens, r); }));
  router.Add(http::Method::kGet, "/api/2.0/preview/scim/v2/Me",
             detail::AuthenticatedJson([&users](http::Request& r) { return ScimMe(users, r); }));
}

}  // namespace tarn::api
