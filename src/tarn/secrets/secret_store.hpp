// SPDX-License-Identifier: Apache-2.0
// SecretStore: secret scopes, encrypted secrets and per-scope ACLs behind the Secrets API.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/meta/meta_store.hpp"
#include "tarn/secrets/secret_cipher.hpp"

namespace tarn::secrets {

/// Scope permissions, each including the ones below it: READ (read values, list keys) < WRITE (put and delete
/// secrets) < MANAGE (ACLs and deleting the scope).
enum class Permission { kRead = 1, kWrite = 2, kManage = 3 };
std::string_view PermissionName(Permission permission);
/// Parses "READ", "WRITE", "MANAGE". kInvalidParameterValue otherwise.
Result<Permission> ParsePermission(std::string_view name);

/// The group every user belongs to (Databricks' `users`).
inline constexpr std::string_view kAllUsersPrincipal = "users";
inline constexpr size_t kMaxSecretBytes = 128 * 1024;
inline constexpr int64_t kMaxSecretsPerScope = 1000;
inline constexpr size_t kMaxNameBytes = 128;

/// Who is asking. Admins hold MANAGE on every scope.
struct Caller {
  std::string user_name;
  bool is_admin = false;
};

struct ScopeInfo {
  std::string name;
  std::string backend_type;  // "DATABRICKS"
};

struct SecretMetadata {
  std::string key;
  int64_t last_updated_timestamp = 0;  // epoch milliseconds
};

struct AclItem {
  std::string principal;
  Permission permission = Permission::kRead;
};

/// Returns whether a principal (a user name; never called for `users`) exists.
using PrincipalExists = std::function<Result<bool>(std::string_view principal)>;

/// Scopes, secrets and ACLs in the metadata store (tables secret_scopes, secrets, secret_acls). Values are sealed
/// with the SecretCipher (associated data: scope and key) and never leave the store except through GetSecret;
/// nothing here logs a value. Every operation checks the caller's effective permission (the best of its own ACL
/// and the `users` ACL; MANAGE for admins) and fails with kPermissionDenied when it is too low. The creator of a
/// scope gets MANAGE. Safe for concurrent use; caller keeps `meta` and `cipher` alive.
///
/// Errors shared by all operations: kInvalidParameterValue for a scope or key name that is not 1-128 characters of
/// [A-Za-z0-9_.-]; kResourceDoesNotExist for an unknown scope ("Scope x does not exist!"), key or ACL.
class SecretStore {
 public:
  using Clock = std::function<int64_t()>;
  /// `principal_exists` null accepts any principal; `clock` null means the wall clock.
  SecretStore(meta::MetaStore& meta, const SecretCipher& cipher, PrincipalExists principal_exists = nullptr,
              Clock clock = nullptr);

  /// Creates a scope (backend DATABRICKS only) and grants the caller MANAGE; `initial_manage_principal` may be
  /// `users` (grants MANAGE to everyone). Errors: kResourceAlreadyExists; kInvalidParameterValue for another
  /// backend or initial principal.
  Status CreateScope(const Caller& caller, std::string_view scope, std::string_view backend_type,
                     std::optional<std::string> initial_manage_principal);
  /// Lists every scope ordered by name (as Databricks does, whatever the caller's ACLs).
  Result<std::vector<ScopeInfo>> ListScopes(const Caller& caller);
  /// Deletes a scope with its secrets and ACLs. Needs MANAGE.
  Status DeleteScope(const Caller& caller, std::string_view scope);

  /// Creates or replaces a secret. Needs WRITE. Errors: kInvalidParameterValue for a value over kMaxSecretBytes or
  /// a scope already holding kMaxSecretsPerScope keys.
  Status PutSecret(const Caller& caller, std::string_view scope, std::string_view key, std::string_view value);
  /// Lists key names and update times (never values). Needs READ.
  Result<std::vector<SecretMetadata>> ListSecrets(const Caller& caller, std::string_view scope);
  /// Returns a secret's value. Needs READ. kCorruptData when the value does not decrypt (another key file).
  Result<std::string> GetSecret(const Caller& caller, std::string_view scope, std::string_view key);
  /// Needs WRITE.
  Status DeleteSecret(const Caller& caller, std::string_view scope, std::string_view key);

  /// Grants or replaces a principal's permission. Needs MANAGE. kResourceDoesNotExist for an unknown principal.
  Status PutAcl(const Caller& caller, std::string_view scope, std::string_view principal, Permission permission);
  /// Needs MANAGE.
  Result<AclItem> GetAcl(const Caller& caller, std::string_view scope, std::string_view principal);
  /// Needs MANAGE. Ordered by principal.
  Result<std::vector<AclItem>> ListAcls(const Caller& caller, std::string_view scope);
  /// Needs MANAGE.
  Status DeleteAcl(const Caller& caller, std::string_view scope, std::string_view principal);

 private:
  // Returns the scope id after checking that the caller holds at least `needed`.
  Result<int64_t> Authorize(meta::Executor& executor, const Caller& caller, std::string_view scope, Permission needed);

  meta::MetaStore& meta_;
  const SecretCipher& cipher_;
  PrincipalExists principal_exists_;
  Clock clock_;
};

}  // namespace tarn::secrets
