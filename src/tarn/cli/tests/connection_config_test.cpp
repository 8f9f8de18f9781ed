// SPDX-License-Identifier: Apache-2.0
// Tests for host normalisation, ~/.databrickscfg parsing and flag > env > profile precedence.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "tarn/cli/connection_config.hpp"

namespace tarn::cli {
namespace {

namespace fs = std::filesystem;

// A temporary HOME holding an optional ~/.databrickscfg; removed on destruction.
class TempHome {
 public:
  TempHome() {
    std::string pattern = (fs::temp_directory_path() / "tarn-cli-home-XXXXXX").string();
    char* dir = mkdtemp(pattern.data());
    EXPECT_NE(dir, nullptr);
    path_ = pattern;
  }
  ~TempHome() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::string path_;
};

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

constexpr char kProfiles[] =
    "; comment\n"
    "[DEFAULT]\n"
    "host = profile-default.example.com\n"
    "token = dapi-default\n"
    "\n"
    "[prod]\n"
    "host=http://prod.example.com:8080/\n"
    "# another comment\n"
    "token = dapi-prod\n"
    "[hostonly]\n"
    "host = http://hostonly:1\n";

TEST(NormalizeHostTest, AddsHttpsOnlyWhenNoScheme) {
  struct Case {
    const char* in;
    const char* want;
  };
  for (const Case& c : {Case{"example.com", "https://example.com"}, Case{"example.com:8443", "https://example.com:8443"},
                        Case{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
                        Case{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
                        Case{"https://x.cloud.databricks.com//", "https://x.cloud.databricks.com"},
                        Case{"  localhost:9000 ", "https://localhost:9000"}, Case{"", ""}}) {
    EXPECT_EQ(NormalizeHost(c.in), c.want) << c.in;
  }
}

TEST(ProfileFileTest, ParsesSectionsKeysAndComments) {
  auto sections = ParseProfileFile(kProfiles);
  ASSERT_TRUE(sections.ok()) << sections.status().ToString();
  EXPECT_EQ(sections->size(), 3u);
  EXPECT_EQ(sections->at("DEFAULT").at("host"), "profile-default.example.com");
  EXPECT_EQ(sections->at("prod").at("host"), "http://prod.example.com:8080/");
  EXPECT_EQ(sections->at("prod").at("token"), "dapi-prod");
  EXPECT_EQ(sections->at("hostonly").count("token"), 0u);

  auto keys_upper = ParseProfileFile("[A]\nHOST: h\n");
  ASSERT_TRUE(keys_upper.ok());
  EXPECT_EQ(keys_upper->at("A").at("host"), "h");
}

TEST(ProfileFileTest, RejectsMalformedLines) {
  auto bad_line = ParseProfileFile("[DEFAULT]\nhost example.com\n");
  ASSERT_FALSE(bad_line.ok());
  EXPECT_EQ(bad_line.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(bad_line.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseProfileFile("[unterminated\n").ok());
}

TEST(ProfileFileTest, PathFollowsHomeAndOverride) {
  EXPECT_EQ(ProfileFilePath(MapEnv({{"HOME", "/h"}})), "/h/.databrickscfg");
  EXPECT_EQ(ProfileFilePath(MapEnv({{"HOME", "/h"}, {"DATABRICKS_CONFIG_FILE", "/etc/cfg"}})), "/etc/cfg");
  EXPECT_EQ(ProfileFilePath(MapEnv({{"HOME", "/h"}, {"DATABRICKS_CONFIG_FILE", "~/x.cfg"}})), "/h/x.cfg");
}

TEST(ResolveConnectionTest, DefaultProfileFromHome) {
  TempHome home;
  home.Write(".databrickscfg", kProfiles);
  auto config = ResolveConnection({}, MapEnv({{"HOME", home.path()}}));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->host, "https://profile-default.example.com");
  EXPECT_EQ(config->token, "dapi-default");
  EXPECT_EQ(config->profile, "DEFAULT");
}

TEST(ResolveConnectionTest, FlagsBeatEnvBeatProfile) {
  TempHome home;
  home.Write(".databrickscfg", kProfiles);
  auto env = MapEnv({{"HOME", home.path()},
                     {"DATABRICKS_HOST", "http://env-host:1"},
                     {"DATABRICKS_TOKEN", "dapi-env"}});
  auto from_env = ResolveConnection({}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ(from_env->host, "http://env-host:1");
  EXPECT_EQ(from_env->token, "dapi-env");

  auto from_flags = ResolveConnection({"http://flag-host:2", "dapi-flag", ""}, env);
  ASSERT_TRUE(from_flags.ok());
  EXPECT_EQ(from_flags->host, "http://flag-host:2");
  EXPECT_EQ(from_flags->token, "dapi-flag");

  // Mixed: the host from the flag, the token from the profile.
  auto mixed = ResolveConnection({"flag-host", "", ""}, MapEnv({{"HOME", home.path()}}));
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->host, "https://flag-host");
  EXPECT_EQ(mixed->token, "dapi-default");

  // An empty environment variable counts as unset.
  auto empty_env = ResolveConnection({}, MapEnv({{"HOME", home.path()}, {"DATABRICKS_HOST", ""}}));
  ASSERT_TRUE(empty_env.ok());
  EXPECT_EQ(empty_env->host, "https://profile-default.example.com");
}

TEST(ResolveConnectionTest, NamedProfileFromFlagOrEnv) {
  TempHome home;
  std::string file = home.Write("custom.cfg", kProfiles);
  auto env = MapEnv({{"HOME", home.path()}, {"DATABRICKS_CONFIG_FILE", file}, {"DATABRICKS_CONFIG_PROFILE", "prod"}});
  auto from_env = ResolveConnection({}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ(from_env->host, "http://prod.example.com:8080");
  EXPECT_EQ(from_env->token, "dapi-prod");
  EXPECT_EQ(from_env->profile, "prod");
  EXPECT_EQ(from_env->config_file, file);

  // The --profile flag beats DATABRICKS_CONFIG_PROFILE; named profiles do not inherit [DEFAULT] values.
  auto host_only = ResolveConnection({"", "", "hostonly"}, env);
  ASSERT_FALSE(host_only.ok());
  EXPECT_NE(host_only.status().message().find("no access token"), std::string::npos);

  auto with_token = ResolveConnection({"", "dapi-flag", "hostonly"}, env);
  ASSERT_TRUE(with_token.ok());
  EXPECT_EQ(with_token->host, "http://hostonly:1");
  EXPECT_EQ(with_token->token, "dapi-flag");
}

TEST(ResolveConnectionTest, MissingSettingsExplainHowToConfigure) {
  TempHome home;  // no ~/.databrickscfg
  auto none = ResolveConnection({}, MapEnv({{"HOME", home.path()}}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(none.status().message().find("no server host"), std::string::npos);
  EXPECT_NE(none.status().message().find("DATABRICKS_HOST"), std::string::npos);

  auto unknown = ResolveConnection({"", "", "nope"}, MapEnv({{"HOME", home.path()}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("nope"), std::string::npos);

  home.Write(".databrickscfg", kProfiles);
  auto missing_section = ResolveConnection({"", "", "staging"}, MapEnv({{"HOME", home.path()}}));
  ASSERT_FALSE(missing_section.ok());
  EXPECT_NE(missing_section.status().message().find("profile 'staging' not found"), std::string::npos);

  home.Write(".databrickscfg", "[DEFAULT]\nbroken line\n");
  auto malformed = ResolveConnection({}, MapEnv({{"HOME", home.path()}}));
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace tarn::cli
