// SPDX-License-Identifier: Apache-2.0
// Secrets API 2.0 handlers: JSON and query parameters in, SecretStore calls, Databricks-shaped JSON out.
#include "tarn/api/secrets_routes.hpp"

#include "tarn/api/detail/json_body.hpp"
#include "tarn/base/crypto.hpp"
#include "tarn/identity/bootstrap.hpp"

namespace tarn::api {
namespace {

using nlohmann::json;

secrets::Caller CallerOf(const http::Request& request) {
  return secrets::Caller{request.user_name, request.user_name == identity::kAdminUserName};
}

Result<std::string> Required(const std::optional<std::string>& value, std::string_view name) {
  if (!value || value->empty()) return Error(ErrorCode::kInvalidParameterValue, "Missing required field: {}", name);
  return *value;
}

Result<std::string> BodyField(const json& body, std::string_view name) {
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> value, detail::OptionalString(body, name));
  return Required(value, name);
}

Result<std::string> QueryField(const http::Request& request, std::string_view name) {
  std::optional<std::string_view> value = request.QueryParam(name);
  return Required(value ? std::optional<std::string>(std::string(*value)) : std::nullopt, name);
}

Result<json> CreateScope(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::string scope, BodyField(body, "scope"));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> principal, detail::OptionalString(body, "initial_manage_principal"));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> backend, detail::OptionalString(body, "scope_backend_type"));
  TARN_RETURN_IF_ERROR(store.CreateScope(CallerOf(request), scope, backend.value_or(""), principal));
  return json::object();
}

Result<json> ListScopes(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(std::vector<secrets::ScopeInfo> scopes, store.ListScopes(CallerOf(request)));
  json answer = json::object();
  if (!scopes.empty()) {
    json list = json::array();
    for (const auto& scope : scopes) list.push_back({{"name", scope.name}, {"backend_type", scope.backend_type}});
    answer["scopes"] = std::move(list);
  }
  return answer;
}

Result<json> DeleteScope(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::string scope, BodyField(body, "scope"));
  TARN_RETURN_IF_ERROR(store.DeleteScope(CallerOf(request), scope));
  return json::object();
}

Result<json> PutSecret(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::string scope, BodyField(body, "scope"));
  TARN_ASSIGN_OR_RETURN(std::string key, BodyField(body, "key"));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> string_value, detail::OptionalString(body, "string_value"));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> bytes_value, detail::OptionalString(body, "bytes_value"));
  if (string_value.has_value() == bytes_value.has_value()) {
    return Error(ErrorCode::kInvalidParameterValue, "Exactly one of string_value and bytes_value must be given.");
  }
  std::string value;
  if (string_value) {
    value = std::move(*string_value);
  } else {
    if (bytes_value->size() > secrets::kMaxSecretBytes / 3 * 4 + 8) {
      return Error(ErrorCode::kInvalidParameterValue, "The secret value exceeds the limit of {} bytes.",
                   secrets::kMaxSecretBytes);
    }
    auto decoded = Base64Decode(*bytes_value);
    if (!decoded.has_value()) {
      return Error(ErrorCode::kInvalidParameterValue, "The 'bytes_value' field is not valid base64.");
    }
    value = std::move(decoded).value();
  }
  TARN_RETURN_IF_ERROR(store.PutSecret(CallerOf(request), scope, key, value));
  return json::object();
}

Result<json> ListSecrets(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(std::string scope, QueryField(request, "scope"));
  TARN_ASSIGN_OR_RETURN(std::vector<secrets::SecretMetadata> listed, store.ListSecrets(CallerOf(request), scope));
  json answer = json::object();
  if (!listed.empty()) {
    json list = json::array();
    for (const auto& secret : listed) {
      list.push_back({{"key", secret.key}, {"last_updated_timestamp", secret.last_updated_timestamp}});
    }
    answer["secrets"] = std::move(list);
  }
  return answer;
}

Result<json> GetSecret(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(std::string scope, QueryField(request, "scope"));
  TARN_ASSIGN_OR_RETURN(std::string key, QueryField(request, "key"));
  TARN_ASSIGN_OR_RETURN(std::string value, store.GetSecret(CallerOf(request), scope, key));
  return json{{"key", key}, {"value", Base64Encode(value)}};
}

Result<json> DeleteSecret(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::string scope, BodyField(body, "scope"));
  TARN_ASSIGN_OR_RETURN(std::string key, BodyField(body, "key"));
  TARN_RETURN_IF_ERROR(store.DeleteSecret(CallerOf(request), scope, key));
  return json::object();
}

json AclJson(const secrets::AclItem& item) {
  return {{"principal", item.principal}, {"permission", secrets::PermissionName(item.permission)}};
}

Result<json> PutAcl(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::string scope, BodyField(body, "scope"));
  TARN_ASSIGN_OR_RETURN(std::string principal, BodyField(body, "principal"));
  TARN_ASSIGN_OR_RETURN(std::string permission_name, BodyField(body, "permission"));
  TARN_ASSIGN_OR_RETURN(secrets::Permission permission, secrets::ParsePermission(permission_name));
  TARN_RETURN_IF_ERROR(store.PutAcl(CallerOf(request), scope, principal, permission));
  return json::object();
}

Result<json> GetAcl(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(std::string scope, QueryField(request, "scope"));
  TARN_ASSIGN_OR_RETURN(std::string principal, QueryField(request, "principal"));
  TARN_ASSIGN_OR_RETURN(secrets::AclItem item, store.GetAcl(CallerOf(request), scope, principal));
  return AclJson(item);
}

Result<json> ListAcls(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(std::string scope, QueryField(request, "scope"));
  TARN_ASSIGN_OR_RETURN(std::vector<secrets::AclItem> items, store.ListAcls(CallerOf(request), scope));
  json answer = json::object();
  if (!items.empty()) {
    json list = json::array();
    for (const auto& item : items) list.push_back(AclJson(item));
    answer["items"] = std::move(list);
  }
  return answer;
}

Result<json> DeleteAcl(secrets::SecretStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::string scope, BodyField(body, "scope"));
  TARN_ASSIGN_OR_RETURN(std::string principal, BodyField(body, "principal"));
  TARN_RETURN_IF_ERROR(store.DeleteAcl(CallerOf(request), scope, principal));
  return json::object();
}

}  // namespace

void RegisterSecretsRoutes(http::Router& router, secrets::SecretStore& store) {
  struct Route {
    http::Method method;
    std::string_view path;
    Result<json> (*handler)(secrets::SecretStore&, http::Request&);
  };
  const Route routes[] = {
      {http::Method::kPost, "/api/2.0/secrets/scopes/create", CreateScope},
      {http::Method::kGet, "/api/2.0/secrets/scopes/list", ListScopes},
      {http::Method::kPost, "/api/2.0/secrets/scopes/delete", DeleteScope},
      {http::Method::kPost, "/api/2.0/secrets/put", PutSecret},
      {http::Method::kGet, "/api/2.0/secrets/list", ListSecrets},
      {http::Method::kGet, "/api/2.0/secrets/get", GetSecret},
      {http::Method::kPost, "/api/2.0/secrets/delete", DeleteSecret},
      {http::Method::kPost, "/api/2.0/secrets/acls/put", PutAcl},
      {http::Method::kGet, "/api/2.0/secrets/acls/get", GetAcl},
      {http::Method::kGet, "/api/2.0/secrets/acls/list", ListAcls},
      {http::Method::kPost, "/api/2.0/secrets/acls/delete", DeleteAcl},
  };
  for (const Route& route : routes) {
    auto handler = route.handler;
    router.Add(route.method, route.path,
               detail::AuthenticatedJson([&store, handler](http::Request& r) { return handler(store, r); }));
  }
}

}  // namespace tarn::api
