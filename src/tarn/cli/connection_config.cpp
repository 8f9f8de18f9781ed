// SPDX-License-Identifier: Apache-2.0
// Host/token resolution from flags, DATABRICKS_* environment variables and ~/.databrickscfg profiles.
#include "tarn/cli/connection_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tarn::cli {
namespace {

constexpr char kDefaultProfile[] = "DEFAULT";
constexpr char kConfigureHint[] =
    "pass --host and --token, set DATABRICKS_HOST and DATABRICKS_TOKEN, or add a profile to ~/.databrickscfg:\n"
    "  [DEFAULT]\n"
    "  host  = http://127.0.0.1:8080\n"
    "  token = <personal access token>";

std::string_view Trim(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size() && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  size_t end = text.size();
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Returns the variable's value when it is set and not empty (the SDKs treat empty as unset).
std::optional<std::string> NonEmpty(const EnvLookup& env, const std::string& name) {
  auto value = env(name);
  if (value && !Trim(*value).empty()) return std::string(Trim(*value));
  return std::nullopt;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<ProfileSections> ParseProfileFile(std::string_view text) {
  ProfileSections sections;
  std::string section = kDefaultProfile;
  size_t line_number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        return Error(ErrorCode::kInvalidParameterValue, "line {}: malformed section header '{}'", line_number, line);
      }
      section = std::string(Trim(line.substr(1, line.size() - 2)));
      sections[section];  // an empty section still exists
      continue;
    }
    size_t separator = line.find_first_of("=:");
    if (separator == std::string_view::npos || Trim(line.substr(0, separator)).empty()) {
      return Error(ErrorCode::kInvalidParameterValue, "line {}: expected 'key = value', got '{}'", line_number, line);
    }
    sections[section][Lower(Trim(line.substr(0, separator)))] = std::string(Trim(line.substr(separator + 1)));
  }
  return sections;
}

std::string ProfileFilePath(const EnvLookup& env) {
  std::string home = env("HOME").value_or("");
  if (auto path = NonEmpty(env, "DATABRICKS_CONFIG_FILE")) {
    if (path->rfind("~/", 0) == 0) return home + path->substr(1);
    return *path;
  }
  return home + "/.databrickscfg";
}

std::string NormalizeHost(std::string_view host) {
  std::string out(Trim(host));
  if (out.empty()) return out;
  if (out.find("://") == std::string::npos) out = "https://" + out;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

Result<ConnectionConfig> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env) {
  ConnectionConfig config;
  config.config_file = ProfileFilePath(env);
  std::string host = std::string(Trim(flags.host));
  std::string token = std::string(Trim(flags.token));
  if (host.empty()) host = NonEmpty(env, "DATABRICKS_HOST").value_or("");
  if (token.empty()) token = NonEmpty(env, "DATABRICKS_TOKEN").value_or("");

  std::string profile = std::string(Trim(flags.profile));
  if (profile.empty()) profile = NonEmpty(env, "DATABRICKS_CONFIG_PROFILE").value_or("");
  bool profile_named = !profile.empty();
  if (!profile_named) profile = kDefaultProfile;

  if (host.empty() || token.empty() || profile_named) {
    std::ifstream file(config.config_file, std::ios::binary);
    if (!file) {
      if (profile_named) {
        return Error(ErrorCode::kInvalidParameterValue, "profile '{}' requested but {} cannot be read", profile,
                     config.config_file);
      }
    } else {
      std::stringstream text;
      text << file.rdbuf();
      auto sections = ParseProfileFile(text.str());
      if (!sections.ok()) return sections.error().WithContext("{}", config.config_file);
      auto it = sections->find(profile);
      if (it == sections->end()) {
        if (profile_named) {
          return Error(ErrorCode::kInvalidParameterValue, "profile '{}' not found in {}", profile,
                       config.config_file);
        }
      } else {
        config.profile = profile;
        auto value_of = [&](const char* key) {
          auto kv = it->second.find(key);
          return kv == it->second.end() ? std::string() : kv->second;
        };
        if (host.empty()) host = value_of("host");
        if (token.empty()) token = value_of("token");
      }
    }
  }

  if (host.empty()) {
    return Error(ErrorCode::kInvalidParameterValue, "no server host configured; {}", kConfigureHint);
  }
  if (token.empty()) {
    return Error(ErrorCode::kInvalidParameterValue,
                 "no access token configured for {} (`tarn up` writes the first admin token to <data>/admin-token); "
                 "{}",
                 NormalizeHost(host), kConfigureHint);
  }
  config.host = NormalizeHost(host);
  config.token = token;
  return config;
}

}  // namespace tarn::cli
