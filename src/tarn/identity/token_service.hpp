// SPDX-License-Identifier: Apache-2.0
// TokenService: personal access tokens (Databricks-style `dapi...` PATs): create, list, revoke, authenticate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/identity/user_store.hpp"
#include "tarn/meta/meta_store.hpp"

namespace tarn::identity {

/// `expiry_time` of a token that never expires (Databricks uses the same value).
inline constexpr int64_t kNeverExpires = -1;
/// Lifetime of a token created without `lifetime_seconds` (or with 0): two years, as Databricks does today.
inline constexpr int64_t kDefaultTokenLifetimeSeconds = 2LL * 365 * 24 * 3600;

/// What may be shown about a token: everything except its value.
struct TokenInfo {
  std::string token_id;  // public id, 64 lowercase hex characters
  int64_t user_id = 0;
  std::string comment;
  int64_t creation_time = 0;            // epoch milliseconds
  int64_t expiry_time = kNeverExpires;  // epoch milliseconds, or kNeverExpires
};

/// A new token: the secret value (shown once, never stored) and its info.
struct CreatedToken {
  std::string token_value;
  TokenInfo info;
};

/// The authenticated caller.
struct Principal {
  int64_t user_id = 0;
  std::string user_name;
};

/// A SCRAM-SHA-256 verifier (RFC 5802/7677): what the server keeps instead of the password. Keys are raw bytes.
struct ScramVerifier {
  std::string salt;
  int iterations = 0;
  std::string stored_key;  // H(ClientKey)
  std::string server_key;  // HMAC(SaltedPassword, "Server Key")
};

/// Computes the verifier of `password` (PBKDF2-HMAC-SHA-256 with `salt` and `iterations`).
ScramVerifier ComputeScramVerifier(std::string_view password, std::string_view salt, int iterations);

/// A token whose verifier matched a SCRAM client proof.
struct ScramMatch {
  Principal principal;
  std::string server_key;  // to sign the server-final message
};

/// Iterations of the installation's SCRAM verifiers (PostgreSQL's default).
inline constexpr int kScramIterations = 4096;

struct TokenServiceOptions {
  /// Lifetime used when Create() gets no lifetime (or 0); <= 0 here means such tokens never expire.
  int64_t default_lifetime_seconds = kDefaultTokenLifetimeSeconds;
  /// Current time in epoch milliseconds; null means the wall clock.
  Clock clock;
  /// How long a successful lookup is reused before the database is asked again. Revoke() through this service
  /// takes effect at once; revocations or deactivations made elsewhere (another process, UserStore::SetActive)
  /// take effect within this time or after ClearCache().
  int64_t cache_ttl_millis = 30'000;
  /// The cache is emptied when it reaches this many entries.
  size_t max_cache_entries = 10'000;
};

/// Personal access tokens in the `tokens` table (meta migration 1). Only the SHA-256 of a token is stored.
/// Safe for concurrent use; caller keeps `store` alive.
class TokenService {
 public:
  explicit TokenService(meta::MetaStore& store, TokenServiceOptions options = {});
  ~TokenService();
  TokenService(const TokenService&) = delete;
  TokenService& operator=(const TokenService&) = delete;

  /// Returns "dapi" followed by 32 lowercase hex characters of secure randomness.
  static std::string GenerateTokenValue();

  /// Creates a token for `user_id`. `lifetime_seconds`: absent or 0 → the default lifetime; > 0 → expires that many
  /// seconds from now; < 0 → kInvalidParameterValue. Errors: kResourceDoesNotExist for an unknown user,
  /// kInvalidParameterValue for a comment over 4096 bytes.
  Result<CreatedToken> Create(int64_t user_id, std::optional<int64_t> lifetime_seconds, std::string_view comment);
  /// Stores a caller-chosen token value (TARN_ADMIN_TOKEN) that never expires. Errors: kInvalidParameterValue for
  /// an empty or non-printable value (printable ASCII 0x21-0x7E, at most 1024 bytes), kAlreadyExists when the
  /// value is already stored (active or revoked), kResourceDoesNotExist for an unknown user.
  Result<TokenInfo> Import(int64_t user_id, std::string_view token_value, std::string_view comment);
  /// Returns the user's tokens that are not revoked (expired ones included), oldest first.
  Result<std::vector<TokenInfo>> List(int64_t user_id);
  /// Revokes one of the user's tokens. Errors: kResourceDoesNotExist when `token_id` is not an active token of
  /// this user.
  Status Revoke(int64_t user_id, std::string_view token_id);
  /// Returns who owns `token`. kUnauthenticated for unknown, revoked and expired tokens and inactive users. The
  /// token is hashed and looked up by hash, so the work does not depend on how close a wrong token is to a real
  /// one. Database failures are returned as they are (not as kUnauthenticated).
  Result<Principal> Authenticate(std::string_view token);
  /// Forgets every cached lookup.
  void ClearCache();

  /// The installation's SCRAM salt and iterations (created on first use, meta migration 5): every verifier shares
  /// them, because a SCRAM server must send the salt before it learns which token the client holds.
  Result<ScramVerifier> ScramParameters();
  /// Finds the active token whose verifier accepts `client_proof` for `auth_message` (RFC 5802: H(proof XOR
  /// HMAC(StoredKey, AuthMessage)) == StoredKey). Checks every active token of an active user; tokens created
  /// before migration 5 have no verifier until they authenticate once by value (Authenticate() adds it).
  /// Errors: kUnauthenticated when none matches.
  Result<ScramMatch> AuthenticateScram(std::string_view auth_message, std::string_view client_proof);

 private:
  struct Cache;
  Result<TokenInfo> Insert(int64_t user_id, std::string_view token_value, int64_t expiry_time,
                           std::string_view comment);
  // Stores the SCRAM verifier of `token_value` for `token_id` unless one exists.
  Status StoreScramVerifier(meta::Executor& executor, std::string_view token_id, std::string_view token_value);
  meta::MetaStore& store_;
  TokenServiceOptions options_;
  std::unique_ptr<Cache> cache_;
};

/// Checks a caller-chosen token value: non-empty, at most 1024 bytes, printable ASCII without spaces.
Status ValidateTokenValue(std::string_view token_value);

}  // namespace tarn::identity
