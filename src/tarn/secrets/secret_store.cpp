// SPDX-License-Identifier: Apache-2.0
// SecretStore: name rules, permission checks and the sealed-value SQL of the Secrets API.
#include "tarn/secrets/secret_store.hpp"

#include <algorithm>

#include "tarn/base/clock.hpp"

namespace tarn::secrets {
namespace {

constexpr std::string_view kBackendDatabricks = "DATABRICKS";

Status CheckName(std::string_view name, std::string_view what) {
  bool valid = !name.empty() && name.size() <= kMaxNameBytes && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
  if (valid) return Status::OK();
  return Error(ErrorCode::kInvalidParameterValue,
               "{} name '{}' must consist of alphanumeric characters, dashes, underscores, and periods, and may not "
               "exceed 128 characters.",
               what, name);
}

Status CheckPrincipal(std::string_view principal) {
  if (principal.empty() || principal.size() > 255) {
    return Error(ErrorCode::kInvalidParameterValue, "Invalid principal: '{}'", principal);
  }
  return Status::OK();
}

// The associated data binding a sealed value to its scope and key.
std::string AssociatedData(std::string_view scope, std::string_view key) {
  std::string data = "tarn-secret-v1:";
  data.append(scope);
  data.push_back('\0');
  data.append(key);
  return data;
}

Status ScopeNotFound(std::string_view scope) {
  return Error(ErrorCode::kResourceDoesNotExist, "Scope {} does not exist!", scope);
}

}  // namespace

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kRead:
      return "READ";
    case Permission::kWrite:
      return "WRITE";
    case Permission::kManage:
      return "MANAGE";
  }
  return "READ";
}

Result<Permission> ParsePermission(std::string_view name) {
  for (Permission permission : {Permission::kRead, Permission::kWrite, Permission::kManage}) {
    if (PermissionName(permission) == name) return permission;
  }
  return Error(ErrorCode::kInvalidParameterValue, "Invalid permission: '{}' (expected READ, WRITE or MANAGE)", name);
}

SecretStore::SecretStore(meta::MetaStore& meta, const SecretCipher& cipher, PrincipalExists principal_exists,
                         Clock clock)
    : meta_(meta),
      cipher_(cipher),
      principal_exists_(std::move(principal_exists)),
      clock_(clock ? std::move(clock) : Clock([] { return NowMillis(); })) {}

Result<int64_t> SecretStore::Authorize(meta::Executor& executor, const Caller& caller, std::string_view scope,
                                       Permission needed) {
  TARN_RETURN_IF_ERROR(CheckName(scope, "Scope"));
  TARN_ASSIGN_OR_RETURN(std::optional<meta::Row> row,
                        executor.QueryRow("SELECT scope_id FROM secret_scopes WHERE name = ?", {std::string(scope)}));
  if (!row) return ScopeNotFound(scope);
  int64_t scope_id = row->Int(0);
  if (caller.is_admin) return scope_id;
  TARN_ASSIGN_OR_RETURN(meta::QueryResult acls,
                        executor.Query("SELECT permission FROM secret_acls WHERE scope_id = ? AND principal IN (?, ?)",
                                       {scope_id, caller.user_name, kAllUsersPrincipal}));
  int best = 0;
  for (const auto& acl : acls.rows) {
    auto permission = ParsePermission(acl.String(0));
    if (permission.has_value()) best = std::max(best, static_cast<int>(*permission));
  }
  if (best < static_cast<int>(needed)) {
    return Error(ErrorCode::kPermissionDenied, "User {} does not have {} permission on scope {}", caller.user_name,
                 PermissionName(needed), scope);
  }
  return scope_id;
}

Status SecretStore::CreateScope(const Caller& caller, std::string_view scope, std::string_view backend_type,
                                std::optional<std::string> initial_manage_principal) {
  TARN_RETURN_IF_ERROR(CheckName(scope, "Scope"));
  if (!backend_type.empty() && backend_type != kBackendDatabricks) {
    return Error(ErrorCode::kInvalidParameterValue, "Scope backend type {} is not supported; use DATABRICKS.",
                 backend_type);
  }
  if (initial_manage_principal && !initial_manage_principal->empty() &&
      *initial_manage_principal != kAllUsersPrincipal) {
    return Error(ErrorCode::kInvalidParameterValue, "initial_manage_principal must be 'users' or omitted, got '{}'",
                 *initial_manage_principal);
  }
  bool grant_users = initial_manage_principal && *initial_manage_principal == kAllUsersPrincipal;
  int64_t now = clock_();
  return meta_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(std::optional<meta::Row> existing,
                          tx.QueryRow("SELECT scope_id FROM secret_scopes WHERE name = ?", {std::string(scope)}));
    if (existing) return Error(ErrorCode::kResourceAlreadyExists, "Scope {} already exists!", scope);
    TARN_ASSIGN_OR_RETURN(std::optional<meta::Row> inserted,
                          tx.QueryRow("INSERT INTO secret_scopes (name, backend_type, created_by, created_at) "
                                      "VALUES (?, ?, ?, ?) RETURNING scope_id",
                                      {std::string(scope), kBackendDatabricks, caller.user_name, now}));
    if (!inserted) return Error(ErrorCode::kInternal, "INSERT ... RETURNING gave no row");
    int64_t scope_id = inserted->Int(0);
    TARN_RETURN_IF_ERROR(tx.Execute("INSERT INTO secret_acls (scope_id, principal, permission) VALUES (?, ?, ?)",
                                    {scope_id, caller.user_name, PermissionName(Permission::kManage)})
                             .status());
    if (grant_users && caller.user_name != kAllUsersPrincipal) {
      TARN_RETURN_IF_ERROR(tx.Execute("INSERT INTO secret_acls (scope_id, principal, permission) VALUES (?, ?, ?)",
                                      {scope_id, kAllUsersPrincipal, PermissionName(Permission::kManage)})
                               .status());
    }
    return Status::OK();
  });
}

Result<std::vector<ScopeInfo>> SecretStore::ListScopes(const Caller& caller) {
  TARN_ASSIGN_OR_RETURN(meta::QueryResult rows,
                        meta_.Query("SELECT name, backend_type FROM secret_scopes ORDER BY name"));
  std::vector<ScopeInfo> scopes;
  for (const auto& row : rows.rows) scopes.push_back({row.String(0), row.String(1)});
  return scopes;
}

Status SecretStore::DeleteScope(const Caller& caller, std::string_view scope) {
  return meta_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(int64_t scope_id, Authorize(tx, caller, scope, Permission::kManage));
    TARN_RETURN_IF_ERROR(tx.Execute("DELETE FROM secrets WHERE scope_id = ?", {scope_id}).status());
    TARN_RETURN_IF_ERROR(tx.Execute("DELETE FROM secret_acls WHERE scope_id = ?", {scope_id}).status());
    return tx.Execute("DELETE FROM secret_scopes WHERE scope_id = ?", {scope_id}).status();
  });
}

Status SecretStore::PutSecret(const Caller& caller, std::string_view scope, std::string_view key,
                              std::string_view value) {
  TARN_RETURN_IF_ERROR(CheckName(scope, "Scope"));
  TARN_RETURN_IF_ERROR(CheckName(key, "Secret key"));
  if (value.size() > kMaxSecretBytes) {
    return Error(ErrorCode::kInvalidParameterValue, "The secret value ({} bytes) exceeds the limit of {} bytes.",
                 value.size(), kMaxSecretBytes);
  }
  TARN_ASSIGN_OR_RETURN(std::string sealed, cipher_.Seal(value, AssociatedData(scope, key)));
  int64_t now = clock_();
  return meta_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(int64_t scope_id, Authorize(tx, caller, scope, Permission::kWrite));
    TARN_ASSIGN_OR_RETURN(
        std::optional<meta::Row> existing,
        tx.QueryRow("SELECT 1 FROM secrets WHERE scope_id = ? AND secret_key = ?", {scope_id, std::string(key)}));
    if (existing) {
      return tx
          .Execute(
              "UPDATE secrets SET sealed_value = ?, last_updated_timestamp = ? WHERE scope_id = ? AND "
              "secret_key = ?",
              {meta::Value::Blob(sealed), now, scope_id, std::string(key)})
          .status();
    }
    TARN_ASSIGN_OR_RETURN(std::optional<meta::Row> count,
                          tx.QueryRow("SELECT COUNT(*) FROM secrets WHERE scope_id = ?", {scope_id}));
    if (count && count->Int(0) >= kMaxSecretsPerScope) {
      return Error(ErrorCode::kInvalidParameterValue, "Scope {} already holds the maximum of {} secrets.", scope,
                   kMaxSecretsPerScope);
    }
    return tx
        .Execute(
            "INSERT INTO secrets (scope_id, secret_key, sealed_value, last_updated_timestamp) VALUES "
            "(?, ?, ?, ?)",
            {scope_id, std::string(key), meta::Value::Blob(sealed), now})
        .status();
  });
}

Result<std::vector<SecretMetadata>> SecretStore::ListSecrets(const Caller& caller, std::string_view scope) {
  TARN_ASSIGN_OR_RETURN(int64_t scope_id, Authorize(meta_, caller, scope, Permission::kRead));
  TARN_ASSIGN_OR_RETURN(meta::QueryResult rows,
                        meta_.Query("SELECT secret_key, last_updated_timestamp FROM secrets WHERE scope_id = ? "
                                    "ORDER BY secret_key",
                                    {scope_id}));
  std::vector<SecretMetadata> secrets;
  for (const auto& row : rows.rows) secrets.push_back({row.String(0), row.Int(1)});
  return secrets;
}

Result<std::string> SecretStore::GetSecret(const Caller& caller, std::string_view scope, std::string_view key) {
  TARN_RETURN_IF_ERROR(CheckName(key, "Secret key"));
  TARN_ASSIGN_OR_RETURN(int64_t scope_id, Authorize(meta_, caller, scope, Permission::kRead));
  TARN_ASSIGN_OR_RETURN(std::optional<meta::Row> row,
                        meta_.QueryRow("SELECT sealed_value FROM secrets WHERE scope_id = ? AND secret_key = ?",
                                       {scope_id, std::string(key)}));
  if (!row) {
    return Error(ErrorCode::kResourceDoesNotExist, "Secret does not exist with scope: {} and key: {}", scope, key);
  }
  return cipher_.Open(row->String(0), AssociatedData(scope, key));
}

Status SecretStore::DeleteSecret(const Caller& caller, std::string_view scope, std::string_view key) {
  TARN_RETURN_IF_ERROR(CheckName(key, "Secret key"));
  return meta_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(int64_t scope_id, Authorize(tx, caller, scope, Permission::kWrite));
    TARN_ASSIGN_OR_RETURN(int64_t deleted, tx.Execute("DELETE FROM secrets WHERE scope_id = ? AND secret_key = ?",
                                                      {scope_id, std::string(key)}));
    if (deleted == 0) {
      return Error(ErrorCode::kResourceDoesNotExist, "Secret does not exist with scope: {} and key: {}", scope, key);
    }
    return Status::OK();
  });
}

Status SecretStore::PutAcl(const Caller& caller, std::string_view scope, std::string_view principal,
                           Permission permission) {
  TARN_RETURN_IF_ERROR(CheckPrincipal(principal));
  if (principal != kAllUsersPrincipal && principal_exists_) {
    TARN_ASSIGN_OR_RETURN(bool exists, principal_exists_(principal));
    if (!exists) return Error(ErrorCode::kResourceDoesNotExist, "Principal {} does not exist.", principal);
  }
  return meta_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(int64_t scope_id, Authorize(tx, caller, scope, Permission::kManage));
    TARN_RETURN_IF_ERROR(
        tx.Execute("DELETE FROM secret_acls WHERE scope_id = ? AND principal = ?", {scope_id, std::string(principal)})
            .status());
    return tx
        .Execute("INSERT INTO secret_acls (scope_id, principal, permission) VALUES (?, ?, ?)",
                 {scope_id, std::string(principal), PermissionName(permission)})
        .status();
  });
}

Result<AclItem> SecretStore::GetAcl(const Caller& caller, std::string_view scope, std::string_view principal) {
  TARN_RETURN_IF_ERROR(CheckPrincipal(principal));
  TARN_ASSIGN_OR_RETURN(int64_t scope_id, Authorize(meta_, caller, scope, Permission::kManage));
  TARN_ASSIGN_OR_RETURN(std::optional<meta::Row> row,
                        meta_.QueryRow("SELECT permission FROM secret_acls WHERE scope_id = ? AND principal = ?",
                                       {scope_id, std::string(principal)}));
  if (!row) {
    return Error(ErrorCode::kResourceDoesNotExist, "Principal {} has no ACL on scope {}.", principal, scope);
  }
  TARN_ASSIGN_OR_RETURN(Permission permission, ParsePermission(row->String(0)));
  return AclItem{std::string(principal), permission};
}

Result<std::vector<AclItem>> SecretStore::ListAcls(const Caller& caller, std::string_view scope) {
  TARN_ASSIGN_OR_RETURN(int64_t scope_id, Authorize(meta_, caller, scope, Permission::kManage));
  TARN_ASSIGN_OR_RETURN(meta::QueryResult rows,
                        meta_.Query("SELECT principal, permission FROM secret_acls WHERE scope_id = ? ORDER BY "
                                    "principal",
                                    {scope_id}));
  std::vector<AclItem> items;
  for (const auto& row : rows.rows) {
    TARN_ASSIGN_OR_RETURN(Permission permission, ParsePermission(row.String(1)));
    items.push_back({row.String(0), permission});
  }
  return items;
}

Status SecretStore::DeleteAcl(const Caller& caller, std::string_view scope, std::string_view principal) {
  TARN_RETURN_IF_ERROR(CheckPrincipal(principal));
  return meta_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(int64_t scope_id, Authorize(tx, caller, scope, Permission::kManage));
    TARN_ASSIGN_OR_RETURN(int64_t deleted, tx.Execute("DELETE FROM secret_acls WHERE scope_id = ? AND principal = ?",
                                                      {scope_id, std::string(principal)}));
    if (deleted == 0) {
      return Error(ErrorCode::kResourceDoesNotExist, "Principal {} has no ACL on scope {}.", principal, scope);
    }
    return Status::OK();
  });
}

}  // namespace tarn::secrets
