// SPDX-License-Identifier: Apache-2.0
// Hashing, random bytes and encodings used for tokens and authentication (OpenSSL underneath).
#pragma once

#include <string>
#include <string_view>

#include "tarn/base/result.hpp"

namespace tarn {

/// Returns `num_bytes` cryptographically secure random bytes.
std::string RandomBytes(size_t num_bytes);
/// Returns 2*num_bytes lowercase hex characters of secure randomness.
std::string RandomHex(size_t num_bytes);
std::string HexEncode(std::string_view bytes);
/// Returns the raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);
/// Returns the raw HMAC-SHA-256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
/// PBKDF2-HMAC-SHA-256 (SCRAM's Hi()), returning `length` raw bytes.
std::string Pbkdf2Sha256(std::string_view password, std::string_view salt, int iterations, size_t length);
/// Compares in time independent of where the inputs differ (same-length inputs).
bool ConstantTimeEquals(std::string_view a, std::string_view b);
std::string Base64Encode(std::string_view bytes);
/// Decodes standard base64 (padding optional, whitespace not allowed); an error names the bad input.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace tarn
