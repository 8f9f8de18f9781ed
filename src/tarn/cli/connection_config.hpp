// SPDX-License-Identifier: Apache-2.0
// ConnectionConfig: resolves the server host and token the way the Databricks CLI and SDKs do.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"

namespace tarn::cli {

/// Connection settings given on the command line; empty means "not given".
struct ConnectionFlags {
  std::string host;
  std::string token;
  std::string profile;
};

/// The settings a REST command connects with.
struct ConnectionConfig {
  std::string host;         // normalised: scheme://host[:port], no trailing '/'
  std::string token;        // personal access token, sent as "Authorization: Bearer"
  std::string profile;      // the profile that was read, or "" when no profile file was consulted
  std::string config_file;  // the path of the profile file that was (or would have been) read
};

/// Looks up an environment variable; std::nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// Returns an EnvLookup over the process environment (getenv).
EnvLookup ProcessEnv();

/// INI sections of a ~/.databrickscfg file: section name -> (lower-case key -> value).
using ProfileSections = std::map<std::string, std::map<std::string, std::string>>;

/// Parses a ~/.databrickscfg file: `[section]` headers, `key = value` lines (also `key: value`), blank lines, and
/// comment lines starting with '#' or ';'. Keys before any header belong to "DEFAULT". Returns
/// kInvalidParameterValue naming the line for anything else.
Result<ProfileSections> ParseProfileFile(std::string_view text);

/// Returns the profile file path: $DATABRICKS_CONFIG_FILE if set, else $HOME/.databrickscfg (a leading "~/" in
/// DATABRICKS_CONFIG_FILE is expanded with $HOME).
std::string ProfileFilePath(const EnvLookup& env);

/// Normalises a host as the SDKs do: trims whitespace, adds "https://" when no scheme is given, keeps "http://"
/// and any port as given, and strips trailing '/'. Returns "" for an empty host.
std::string NormalizeHost(std::string_view host);

/// Resolves host and token with precedence flags > environment (DATABRICKS_HOST, DATABRICKS_TOKEN) > profile.
/// The profile is `flags.profile`, else $DATABRICKS_CONFIG_PROFILE, else "DEFAULT"; the profile file is read only
/// when host or token is still missing or a profile was named. Named profiles do not inherit [DEFAULT] values.
/// Errors (kInvalidParameterValue): a named profile that does not exist, an unreadable or malformed file, or a
/// missing host or token (the message says how to configure it).
Result<ConnectionConfig> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env);

}  // namespace tarn::cli
