// SPDX-License-Identifier: Apache-2.0
// SecretCipher: authenticated encryption of secret values at rest (AES-256-GCM, key file in the data dir).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"

namespace tarn::secrets {

/// Encrypts and decrypts secret values with one 256-bit key. Sealed values are
/// `version (1 byte) | nonce (12 random bytes) | ciphertext | GCM tag (16 bytes)`; the associated data (scope and
/// key name) is authenticated, so a sealed value copied to another secret does not open. Immutable; safe for
/// concurrent use.
class SecretCipher {
 public:
  static constexpr size_t kKeyBytes = 32;

  /// Loads the key from `key_path` (base64 text), or creates it on first start with fresh random bytes and mode
  /// 0600 (written to a temp file, synced, then linked into place, so a crash never leaves a partial key).
  /// Errors: kIoError when the file cannot be read or created, kCorruptData when it does not hold a 32-byte key.
  /// A key file readable by group or others is accepted with a logged warning.
  static Result<std::unique_ptr<SecretCipher>> LoadOrCreate(const std::string& key_path);
  /// Uses `key` (must be kKeyBytes long; kInvalidParameterValue otherwise). For tests and key rotation tools.
  static Result<std::unique_ptr<SecretCipher>> FromKey(std::string key);

  ~SecretCipher();
  SecretCipher(const SecretCipher&) = delete;
  SecretCipher& operator=(const SecretCipher&) = delete;

  /// Encrypts `plaintext` with a fresh random nonce. Errors: kInternal when OpenSSL fails.
  Result<std::string> Seal(std::string_view plaintext, std::string_view associated_data) const;
  /// Decrypts and authenticates. Errors: kCorruptData for a truncated, tampered or foreign value.
  Result<std::string> Open(std::string_view sealed, std::string_view associated_data) const;

 private:
  explicit SecretCipher(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace tarn::secrets
