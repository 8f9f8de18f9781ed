// SPDX-License-Identifier: Apache-2.0
// TokenService on the metadata store's `tokens` table, with a small cache of successful lookups.
#include "tarn/identity/token_service.hpp"

#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "tarn/base/clock.hpp"
#include "tarn/base/crypto.hpp"

namespace tarn::identity {
namespace {

constexpr std::string_view kTokenPrefix = "dapi";
constexpr size_t kTokenRandomBytes = 16;  // 32 hex characters
constexpr size_t kTokenIdRandomBytes = 32;
constexpr size_t kMaxTokenBytes = 1024;
constexpr size_t kMaxCommentBytes = 4096;
constexpr int64_t kMillisPerSecond = 1000;

Status Unauthenticated() { return Error(ErrorCode::kUnauthenticated, "Invalid access token."); }

TokenInfo InfoFromRow(const meta::Row& row) {
  return TokenInfo{row.String(0), row.Int(1), row.String(2), row.Int(3), row.Int(4)};
}

}  // namespace

ScramVerifier ComputeScramVerifier(std::string_view password, std::string_view salt, int iterations) {
  std::string salted = Pbkdf2Sha256(password, salt, iterations, 32);
  std::string client_key = HmacSha256(salted, "Client Key");
  return ScramVerifier{std::string(salt), iterations, Sha256(client_key), HmacSha256(salted, "Server Key")};
}

struct TokenService::Cache {
  struct Entry {
    Principal principal;
    int64_t expiry_time;
    int64_t cached_at;
  };
  std::mutex mu;
  std::unordered_map<std::string, Entry> by_hash;  // guarded by mu
  // Bumped by every revocation, so a lookup that raced with one does not cache what it read before it.
  uint64_t generation = 0;  // guarded by mu
  std::optional<ScramVerifier> scram_params;  // guarded by mu; salt + iterations only
};

Status ValidateTokenValue(std::string_view token_value) {
  if (token_value.empty()) return Error(ErrorCode::kInvalidParameterValue, "token must not be empty");
  if (token_value.size() > kMaxTokenBytes) {
    return Error(ErrorCode::kInvalidParameterValue, "token is longer than {} bytes", kMaxTokenBytes);
  }
  for (unsigned char c : token_value) {
    if (c < 0x21 || c > 0x7e) {
      return Error(ErrorCode::kInvalidParameterValue,
                   "token must consist of printable ASCII characters without spaces");
    }
  }
  return Status::OK();
}

TokenService::TokenService(meta::MetaStore& store, TokenServiceOptions options)
    : store_(store), options_(std::move(options)), cache_(std::make_unique<Cache>()) {
  if (!options_.clock) options_.clock = NowMillis;
}

TokenService::~TokenService() = default;

std::string TokenService::GenerateTokenValue() { return std::string(kTokenPrefix) + RandomHex(kTokenRandomBytes); }

Result<CreatedToken> TokenService::Create(int64_t user_id, std::optional<int64_t> lifetime_seconds,
                                          std::string_view comment) {
  int64_t lifetime = lifetime_seconds.value_or(0);
  if (lifetime < 0) {
    return Error(ErrorCode::kInvalidParameterValue, "lifetime_seconds must not be negative (got {})", lifetime);
  }
  if (lifetime == 0) lifetime = options_.default_lifetime_seconds;
  int64_t now = options_.clock();
  int64_t expiry_time = kNeverExpires;
  if (lifetime > 0) {
    if (lifetime > (std::numeric_limits<int64_t>::max() - now) / kMillisPerSecond) {
      return Error(ErrorCode::kInvalidParameterValue, "lifetime_seconds is too large (got {})", lifetime);
    }
    expiry_time = now + lifetime * kMillisPerSecond;
  }
  CreatedToken created;
  created.token_value = GenerateTokenValue();
  TARN_ASSIGN_OR_RETURN(created.info, Insert(user_id, created.token_value, expiry_time, comment));
  return created;
}

Result<TokenInfo> TokenService::Import(int64_t user_id, std::string_view token_value, std::string_view comment) {
  TARN_RETURN_IF_ERROR(ValidateTokenValue(token_value));
  return Insert(user_id, token_value, kNeverExpires, comment);
}

Result<TokenInfo> TokenService::Insert(int64_t user_id, std::string_view token_value, int64_t expiry_time,
                                       std::string_view comment) {
  if (comment.size() > kMaxCommentBytes) {
    return Error(ErrorCode::kInvalidParameterValue, "comment is longer than {} bytes", kMaxCommentBytes);
  }
  TokenInfo info{RandomHex(kTokenIdRandomBytes), user_id, std::string(comment), options_.clock(), expiry_time};
  std::string hash = Sha256Hex(token_value);
  TARN_ASSIGN_OR_RETURN(ScramVerifier params, ScramParameters());
  ScramVerifier verifier = ComputeScramVerifier(token_value, params.salt, params.iterations);
  Status st = store_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(auto user, tx.QueryRow("SELECT 1 FROM users WHERE id = ?", {user_id}));
    if (!user) return Error(ErrorCode::kResourceDoesNotExist, "user {} does not exist", user_id);
    TARN_RETURN_IF_ERROR(tx
        .Execute(
            "INSERT INTO tokens (token_id, token_hash, user_id, comment, creation_time, expiry_time) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            {info.token_id, hash, user_id, info.comment, info.creation_time, info.expiry_time})
        .status());
    return tx
        .Execute(
            "INSERT INTO identity_scram_verifiers (token_id, salt, iterations, stored_key, server_key) "
            "VALUES (?, ?, ?, ?, ?)",
            {info.token_id, Base64Encode(verifier.salt), static_cast<int64_t>(verifier.iterations),
             Base64Encode(verifier.stored_key), Base64Encode(verifier.server_key)})
        .status();
  });
  if (st.code() == ErrorCode::kUniqueViolation) return Error(ErrorCode::kAlreadyExists, "token is already stored");
  TARN_RETURN_IF_ERROR(st);
  return info;
}

Result<std::vector<TokenInfo>> TokenService::List(int64_t user_id) {
  TARN_ASSIGN_OR_RETURN(auto result,
                        store_.Query("SELECT token_id, user_id, comment, creation_time, expiry_time FROM tokens "
                                     "WHERE user_id = ? AND revoked_time IS NULL ORDER BY creation_time, token_id",
                                     {user_id}));
  std::vector<TokenInfo> infos;
  infos.reserve(result.rows.size());
  for (const auto& row : result.rows) infos.push_back(InfoFromRow(row));
  return infos;
}

Status TokenService::Revoke(int64_t user_id, std::string_view token_id) {
  std::string hash;
  TARN_RETURN_IF_ERROR(store_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    TARN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("SELECT token_hash FROM tokens "
                                                "WHERE token_id = ? AND user_id = ? AND revoked_time IS NULL",
                                                {token_id, user_id}));
    if (!row) return Error(ErrorCode::kResourceDoesNotExist, "token {} does not exist", token_id);
    hash = row->String(0);
    return tx.Execute("UPDATE tokens SET revoked_time = ? WHERE token_id = ?", {options_.clock(), token_id}).status();
  }));
  std::lock_guard lock(cache_->mu);
  cache_->by_hash.erase(hash);
  ++cache_->generation;
  return Status::OK();
}

Result<Principal> TokenService::Authenticate(std::string_view token) {
  // The length is not secret; everything after this line costs the same for every wrong token.
  if (token.empty() || token.size() > kMaxTokenBytes) return Unauthenticated();
  std::string hash = Sha256Hex(token);
  int64_t now = options_.clock();
  uint64_t generation = 0;
  {
    std::lock_guard lock(cache_->mu);
    auto it = cache_->by_hash.find(hash);
    if (it != cache_->by_hash.end() && now - it->second.cached_at < options_.cache_ttl_millis &&
        now >= it->second.cached_at) {
      if (it->second.expiry_time != kNeverExpires && now >= it->second.expiry_time) {
        return Error(ErrorCode::kUnauthenticated, "Access token has expired.");
      }
      return it->second.principal;
    }
    generation = cache_->generation;
  }
  TARN_ASSIGN_OR_RETURN(auto row, store_.QueryRow("SELECT t.user_id, u.user_name, u.active, t.expiry_time, t.token_id, "
                                                  "(SELECT 1 FROM identity_scram_verifiers v "
                                                  "WHERE v.token_id = t.token_id) "
                                                  "FROM tokens t JOIN users u ON u.id = t.user_id "
                                                  "WHERE t.token_hash = ? AND t.revoked_time IS NULL",
                                                  {hash}));
  if (!row || row->Int(2) == 0) return Unauthenticated();
  Principal principal{row->Int(0), row->String(1)};
  int64_t expiry_time = row->Int(3);
  if (expiry_time != kNeverExpires && now >= expiry_time) {
    return Error(ErrorCode::kUnauthenticated, "Access token has expired.");
  }
  if (row->IsNull(5)) {
    // A token from before meta migration 5: now that its value is known, give it a SCRAM verifier. A failure only
    // means SCRAM keeps refusing this token; the lookup itself succeeded.
    StoreScramVerifier(store_, row->String(4), token).IgnoreError();
  }
  std::lock_guard lock(cache_->mu);
  if (generation == cache_->generation) {
    if (cache_->by_hash.size() >= options_.max_cache_entries) cache_->by_hash.clear();
    cache_->by_hash[hash] = Cache::Entry{principal, expiry_time, now};
  }
  return principal;
}

Result<ScramVerifier> TokenService::ScramParameters() {
  {
    std::lock_guard lock(cache_->mu);
    if (cache_->scram_params) return *cache_->scram_params;
  }
  constexpr std::string_view kSelect = "SELECT salt, iterations FROM identity_scram_params WHERE id = 1";
  TARN_ASSIGN_OR_RETURN(auto row, store_.QueryRow(kSelect));
  if (!row) {
    TARN_RETURN_IF_ERROR(store_
                             .Execute("INSERT INTO identity_scram_params (id, salt, iterations) VALUES (1, ?, ?) "
                                      "ON CONFLICT (id) DO NOTHING",
                                      {Base64Encode(RandomBytes(16)), static_cast<int64_t>(kScramIterations)})
                             .status());
    TARN_ASSIGN_OR_RETURN(row, store_.QueryRow(kSelect));
    if (!row) return Error(ErrorCode::kInternal, "SCRAM parameters vanished after insert");
  }
  TARN_ASSIGN_OR_RETURN(std::string salt, Base64Decode(row->String(0)));
  ScramVerifier params{std::move(salt), static_cast<int>(row->Int(1)), "", ""};
  std::lock_guard lock(cache_->mu);
  cache_->scram_params = params;
  return params;
}

Status TokenService::StoreScramVerifier(meta::Executor& executor, std::string_view token_id,
                                        std::string_view token_value) {
  TARN_ASSIGN_OR_RETURN(ScramVerifier params, ScramParameters());
  ScramVerifier v = ComputeScramVerifier(token_value, params.salt, params.iterations);
  return executor
      .Execute("INSERT INTO identity_scram_verifiers (token_id, salt, iterations, stored_key, server_key) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_id) DO NOTHING",
               {std::string(token_id), Base64Encode(v.salt), static_cast<int64_t>(v.iterations),
                Base64Encode(v.stored_key), Base64Encode(v.server_key)})
      .status();
}

Result<ScramMatch> TokenService::AuthenticateScram(std::string_view auth_message, std::string_view client_proof) {
  if (client_proof.size() != 32) return Unauthenticated();
  TARN_ASSIGN_OR_RETURN(ScramVerifier params, ScramParameters());
  TARN_ASSIGN_OR_RETURN(auto result,
                        store_.Query("SELECT v.stored_key, v.server_key, t.user_id, u.user_name, t.expiry_time "
                                     "FROM identity_scram_verifiers v JOIN tokens t ON t.token_id = v.token_id "
                                     "JOIN users u ON u.id = t.user_id "
                                     "WHERE t.revoked_time IS NULL AND u.active = 1 AND v.salt = ? AND v.iterations = ?",
                                     {Base64Encode(params.salt), static_cast<int64_t>(params.iterations)}));
  int64_t now = options_.clock();
  std::optional<ScramMatch> match;
  for (const auto& row : result.rows) {
    auto stored_key = Base64Decode(row.String(0));
    if (!stored_key.ok() || stored_key->size() != 32) continue;
    std::string signature = HmacSha256(*stored_key, auth_message);
    std::string client_key(32, '\0');
    for (size_t i = 0; i < 32; i++) client_key[i] = static_cast<char>(client_proof[i] ^ signature[i]);
    if (!ConstantTimeEquals(Sha256(client_key), *stored_key)) continue;
    int64_t expiry_time = row.Int(4);
    if (expiry_time != kNeverExpires && now >= expiry_time) continue;
    auto server_key = Base64Decode(row.String(1));
    if (!server_key.ok()) continue;
    match = ScramMatch{Principal{row.Int(2), row.String(3)}, std::move(*server_key)};
  }
  if (!match) return Unauthenticated();
  return *match;
}

void TokenService::ClearCache() {
  std::lock_guard lock(cache_->mu);
  cache_->by_hash.clear();
  ++cache_->generation;
}

}  // namespace tarn::identity
