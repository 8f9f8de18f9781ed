// SPDX-License-Identifier: Apache-2.0
// The REST-backed CLI commands (auth whoami, tokens create/list/revoke): one request each, then printed output.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "tarn/base/status.hpp"
#include "tarn/cli/rest_client.hpp"

namespace tarn::cli {

/// How REST command output is printed: aligned tables for people, or the raw response pretty-printed for scripts.
enum class OutputFormat { kTable, kJson };

/// GET /api/2.0/preview/scim/v2/Me; prints the userName (table) or the JSON. Errors: the client's, or
/// kProtocolViolation when the answer is not the expected JSON.
Status RunAuthWhoAmI(RestClient& client, OutputFormat format, std::ostream& out);

struct TokenCreateRequest {
  std::optional<int64_t> lifetime_seconds;  // unset: the server default
  std::optional<std::string> comment;
};

/// POST /api/2.0/token/create; prints the new token's id, expiry and secret (shown once).
Status RunTokensCreate(RestClient& client, const TokenCreateRequest& request, OutputFormat format,
                       std::ostream& out);
/// GET /api/2.0/token/list; prints one row per token (id, comment, created, expires).
Status RunTokensList(RestClient& client, OutputFormat format, std::ostream& out);
/// POST /api/2.0/token/delete {token_id}; prints a confirmation (table) or the (empty) JSON answer.
Status RunTokensRevoke(RestClient& client, const std::string& token_id, OutputFormat format, std::ostream& out);

}  // namespace tarn::cli
