// SPDX-License-Identifier: Apache-2.0
// `tarn secrets ...`: scopes, secrets and ACLs over the Secrets API.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "tarn/base/status.hpp"
#include "tarn/cli/rest_client.hpp"
#include "tarn/cli/rest_command.hpp"
#include "tarn/cli/rest_commands.hpp"

namespace tarn::cli {

/// Adds the `secrets` command group to `app`. When the user picks one of its commands, parsing stores it in
/// `selected` (which must outlive `app`). `secrets put` without a value flag reads the value from standard input.
void AddSecretsCommands(CLI::App& app, RestCommand& selected);

Status RunSecretsCreateScope(RestClient& client, const std::string& scope,
                             const std::optional<std::string>& initial_manage_principal, OutputFormat format,
                             std::ostream& out);
/// Prints SCOPE, BACKEND per scope.
Status RunSecretsListScopes(RestClient& client, OutputFormat format, std::ostream& out);
Status RunSecretsDeleteScope(RestClient& client, const std::string& scope, OutputFormat format, std::ostream& out);

/// The value of `secrets put`: text sent as string_value, or bytes sent as bytes_value (base64).
struct SecretValue {
  std::string data;
  bool is_bytes = false;
};
/// POST secrets/put. The value is never printed.
Status RunSecretsPut(RestClient& client, const std::string& scope, const std::string& key, const SecretValue& value,
                     OutputFormat format, std::ostream& out);
/// Prints KEY, LAST UPDATED per secret (values are never listed).
Status RunSecretsList(RestClient& client, const std::string& scope, OutputFormat format, std::ostream& out);
Status RunSecretsDelete(RestClient& client, const std::string& scope, const std::string& key, OutputFormat format,
                        std::ostream& out);
/// GET secrets/get; prints the decoded value as is (table) or the JSON answer (base64 value).
Status RunSecretsGet(RestClient& client, const std::string& scope, const std::string& key, OutputFormat format,
                     std::ostream& out);
Status RunSecretsPutAcl(RestClient& client, const std::string& scope, const std::string& principal,
                        const std::string& permission, OutputFormat format, std::ostream& out);
/// Prints PRINCIPAL, PERMISSION per ACL.
Status RunSecretsListAcls(RestClient& client, const std::string& scope, OutputFormat format, std::ostream& out);
Status RunSecretsDeleteAcl(RestClient& client, const std::string& scope, const std::string& principal,
                           OutputFormat format, std::ostream& out);

}  // namespace tarn::cli
