// SPDX-License-Identifier: Apache-2.0
// SCRAM-SHA-256 message parsing and building for the server side of PostgreSQL SASL authentication.
#include "tarn/pgwire/scram.hpp"

#include <vector>

#include <fmt/format.h>

#include "tarn/base/crypto.hpp"

namespace tarn::pgwire {
namespace {

Status Malformed(std::string_view what) {
  return Error(ErrorCode::kProtocolViolation, "malformed SCRAM message: {}", what);
}

std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    parts.push_back(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return parts;
}

bool ValidNonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (unsigned char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

}  // namespace

Result<ScramClientFirst> ParseScramClientFirst(std::string_view message) {
  // gs2-header = cbind-flag "," [authzid] ","
  size_t first_comma = message.find(',');
  if (first_comma == std::string_view::npos) return Malformed("no GS2 header");
  std::string_view flag = message.substr(0, first_comma);
  if (!flag.empty() && flag[0] == 'p') {
    return Error(ErrorCode::kFeatureNotSupported, "channel binding is not supported; use SCRAM-SHA-256");
  }
  if (flag != "n" && flag != "y") return Malformed("bad channel binding flag");
  size_t second_comma = message.find(',', first_comma + 1);
  if (second_comma == std::string_view::npos) return Malformed("GS2 header not terminated");
  ScramClientFirst result;
  result.gs2_header = std::string(message.substr(0, second_comma + 1));
  result.bare = std::string(message.substr(second_comma + 1));
  for (std::string_view attr : SplitCommas(result.bare)) {
    if (attr.size() >= 2 && attr[0] == 'm' && attr[1] == '=') return Malformed("mandatory extensions unsupported");
    if (attr.size() >= 2 && attr[0] == 'r' && attr[1] == '=') result.nonce = std::string(attr.substr(2));
  }
  if (!ValidNonce(result.nonce)) return Malformed("missing or invalid client nonce");
  // The user name (n=) is ignored: PostgreSQL uses the StartupMessage user.
  return result;
}

std::string BuildScramServerFirst(std::string_view combined_nonce, std::string_view salt, int iterations) {
  return fmt::format("r={},s={},i={}", combined_nonce, Base64Encode(salt), iterations);
}

Result<ScramClientFinal> ParseScramClientFinal(std::string_view message) {
  size_t proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return Malformed("no proof");
  ScramClientFinal result;
  result.without_proof = std::string(message.substr(0, proof_at));
  auto proof = Base64Decode(message.substr(proof_at + 3));
  if (!proof.ok()) return Malformed("proof is not base64");
  result.proof = std::move(*proof);
  bool have_c = false;
  for (std::string_view attr : SplitCommas(result.without_proof)) {
    if (attr.size() < 2 || attr[1] != '=') return Malformed("bad attribute");
    if (attr[0] == 'c') {
      auto cb = Base64Decode(attr.substr(2));
      if (!cb.ok()) return Malformed("channel binding is not base64");
      result.channel_binding = std::move(*cb);
      have_c = true;
    } else if (attr[0] == 'r') {
      result.nonce = std::string(attr.substr(2));
    }
  }
  if (!have_c || result.nonce.empty()) return Malformed("missing channel binding or nonce");
  return result;
}

std::string BuildScramServerFinal(std::string_view server_key, std::string_view auth_message) {
  return "v=" + Base64Encode(HmacSha256(server_key, auth_message));
}

}  // namespace tarn::pgwire
