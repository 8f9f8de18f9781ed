// SPDX-License-Identifier: Apache-2.0
// SCRAM-SHA-256 server messages (RFC 5802/7677) as PostgreSQL uses them: parsing and building, no I/O.
#pragma once

#include <string>
#include <string_view>

#include "tarn/base/result.hpp"

namespace tarn::pgwire {

struct ScramClientFirst {
  std::string gs2_header;  // "n,," or "y,," (with authzid when given)
  std::string bare;        // client-first-message-bare, part of the AuthMessage
  std::string nonce;
};
/// Parses a client-first-message. Channel binding ("p=") is refused: the server offers only SCRAM-SHA-256.
/// Errors: kProtocolViolation for malformed messages, kFeatureNotSupported for channel binding.
Result<ScramClientFirst> ParseScramClientFirst(std::string_view message);

/// "r=<client+server nonce>,s=<base64 salt>,i=<iterations>".
std::string BuildScramServerFirst(std::string_view combined_nonce, std::string_view salt, int iterations);

struct ScramClientFinal {
  std::string without_proof;  // "c=...,r=..." part of the AuthMessage
  std::string channel_binding;  // decoded c= value (must equal the gs2 header)
  std::string nonce;
  std::string proof;  // raw bytes
};
/// Parses a client-final-message. Errors: kProtocolViolation.
Result<ScramClientFinal> ParseScramClientFinal(std::string_view message);

/// "v=<base64 HMAC(ServerKey, AuthMessage)>".
std::string BuildScramServerFinal(std::string_view server_key, std::string_view auth_message);

}  // namespace tarn::pgwire
