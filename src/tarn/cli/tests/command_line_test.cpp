// SPDX-License-Identifier: Apache-2.0
// Tests for tarn::cli::Main: usage errors, help/version, `up` option mapping and REST commands end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "tarn/base/version.hpp"
#include "tarn/cli/command_line.hpp"
#include "tarn/cli/tests/loopback_http_server.hpp"

namespace tarn::cli {
namespace {

using testing::CannedResponse;
using testing::LoopbackHttpServer;
using testing::RecordedRequest;

struct RunResult {
  int exit_code;
  std::string out;
  std::string err;
};

// Runs Main with an empty HOME-less environment unless `env` says otherwise.
RunResult RunTarn(std::vector<std::string> args, CliHooks hooks = {}, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "tarn");
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);
  if (!hooks.env) {
    env.emplace("HOME", "/nonexistent-tarn-test-home");
    hooks.env = [env](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
  }
  std::ostringstream out;
  std::ostringstream err;
  int code = Main(static_cast<int>(args.size()), argv.data(), hooks, out, err);
  return {code, out.str(), err.str()};
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(CommandLineTest, UsageErrorsExitTwoWithUsageLine) {
  struct Case {
    std::vector<std::string> args;
    std::string usage;  // expected start of stderr
    std::string error;  // expected fragment of the error line
  };
  std::vector<Case> cases = {
      {{}, "Usage: tarn", "a command is required"},
      {{"frobnicate"}, "Usage: tarn", "unknown command 'frobnicate' (commands: up, sql, auth, tokens"},
      {{"tokens", "frob"}, "Usage: tarn tokens", "unknown command 'frob' (commands: create, list, revoke)"},
      {{"--bogus"}, "Usage: tarn", "--bogus"},
      {{"tokens"}, "Usage: tarn tokens", "a command is required"},
      {{"tokens", "revoke"}, "Usage: tarn tokens revoke [OPTIONS] TOKEN_ID", "TOKEN_ID"},
      {{"tokens", "list", "--nope"}, "Usage: tarn tokens list", "unknown option '--nope'"},
      {{"tokens", "list", "extra"}, "Usage: tarn tokens list", "unexpected argument 'extra'"},
      {{"tokens", "create", "--lifetime-seconds", "abc"}, "Usage: tarn tokens create", "must be a whole number greater than 0"},
      {{"auth"}, "Usage: tarn auth", "a command is required"},
      {{"-o", "yaml", "auth", "whoami"}, "Usage: tarn", "yaml"},
      {{"up", "--http-port", "70000"}, "Usage: tarn up", "http-port"},
      {{"sql", "-c", "SELECT 1"}, "Usage: tarn sql", "--local is required"},
      {{"sql", "--local"}, "Usage: tarn sql", "-c"},
      {{"sql", "--local", "-c", "SELECT 1", "-f", "x.sql"}, "Usage: tarn sql", "excludes"},
      {{"sql", "--local", "-c", "SELECT 1", "--format", "xml"}, "Usage: tarn sql", "xml"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const auto& arg : c.args) joined += arg + " ";
    RunResult result = RunTarn(c.args);
    EXPECT_EQ(result.exit_code, kExitUsage) << joined << "\n" << result.err;
    EXPECT_EQ(result.err.rfind(c.usage, 0), 0u) << joined << "\n" << result.err;
    EXPECT_TRUE(Contains(result.err, "Error: ")) << joined;
    EXPECT_TRUE(Contains(result.err, c.error)) << joined << "\n" << result.err;
    EXPECT_TRUE(result.out.empty()) << joined;
  }
}

TEST(CommandLineTest, VersionAndHelp) {
  RunResult version = RunTarn({"--version"});
  EXPECT_EQ(version.exit_code, kExitOk);
  EXPECT_EQ(version.out, std::string("tarn ") + kVersion + "\n");

  RunResult help = RunTarn({"--help"});
  EXPECT_EQ(help.exit_code, kExitOk);
  for (const char* fragment : {"up", "sql", "auth", "tokens", "--host", "--token", "--profile", "--output",
                               "DATABRICKS_HOST", ".databrickscfg"}) {
    EXPECT_TRUE(Contains(help.out, fragment)) << fragment << "\n" << help.out;
  }

  RunResult tokens_help = RunTarn({"tokens", "--help"});
  EXPECT_EQ(tokens_help.exit_code, kExitOk);
  EXPECT_TRUE(Contains(tokens_help.out, "create")) << tokens_help.out;
  EXPECT_TRUE(Contains(tokens_help.out, "revoke")) << tokens_help.out;

  RunResult up_help = RunTarn({"up", "--help"});
  EXPECT_EQ(up_help.exit_code, kExitOk);
  EXPECT_TRUE(Contains(up_help.out, "--http-port")) << up_help.out;
  EXPECT_TRUE(Contains(up_help.out, "--memory-limit")) << up_help.out;
}

TEST(CommandLineTest, UpHandsParsedOptionsToTheServerHook) {
  UpOptions seen;
  int calls = 0;
  CliHooks hooks;
  hooks.run_server = [&](const UpOptions& options) {
    seen = options;
    ++calls;
    return 7;
  };
  RunResult defaults = RunTarn({"up"}, hooks);
  EXPECT_EQ(defaults.exit_code, 7);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen.data_dir, "./.tarn-data");
  EXPECT_EQ(seen.bind, "127.0.0.1");
  EXPECT_EQ(seen.http_port, 8080);
  EXPECT_EQ(seen.sql_port, 5433);
  EXPECT_EQ(seen.threads, 0);
  EXPECT_EQ(seen.memory_limit, "");
  EXPECT_EQ(seen.log_level, LogLevel::kInfo);

  RunResult custom = RunTarn({"up", "--data", "/tmp/d", "--bind", "0.0.0.0", "--http-port", "0", "--sql-port", "6543",
                          "--threads", "4", "--memory-limit", "2GB", "--log-level", "warn"},
                         hooks);
  EXPECT_EQ(custom.exit_code, 7);
  EXPECT_EQ(seen.data_dir, "/tmp/d");
  EXPECT_EQ(seen.bind, "0.0.0.0");
  EXPECT_EQ(seen.http_port, 0);
  EXPECT_EQ(seen.sql_port, 6543);
  EXPECT_EQ(seen.threads, 4);
  EXPECT_EQ(seen.memory_limit, "2GB");
  EXPECT_EQ(seen.log_level, LogLevel::kWarn);

  EXPECT_EQ(RunTarn({"up", "--debug"}, hooks).exit_code, 7);
  EXPECT_EQ(seen.log_level, LogLevel::kDebug);

  RunResult no_server = RunTarn({"up"});
  EXPECT_EQ(no_server.exit_code, kExitFailure);
}

TEST(CommandLineTest, RestCommandUsesFlagsAndGlobalFlagsAfterTheCommand) {
  LoopbackHttpServer server([](const RecordedRequest& request) {
    if (request.Header("Authorization") != "Bearer dapi-t") {
      return CannedResponse{401, R"({"error_code":"UNAUTHENTICATED","message":"Invalid access token."})"};
    }
    return CannedResponse{200, R"({"userName":"admin","id":"1"})"};
  });
  RunResult table = RunTarn({"--host", server.url(), "--token", "dapi-t", "auth", "whoami"});
  EXPECT_EQ(table.exit_code, kExitOk) << table.err;
  EXPECT_EQ(table.out, "admin\n");

  RunResult as_json = RunTarn({"auth", "whoami", "-o", "json", "--host", server.url(), "--token", "dapi-t"});
  EXPECT_EQ(as_json.exit_code, kExitOk) << as_json.err;
  EXPECT_EQ(nlohmann::json::parse(as_json.out)["userName"], "admin");

  RunResult bad_token = RunTarn({"auth", "whoami", "--host", server.url(), "--token", "wrong"});
  EXPECT_EQ(bad_token.exit_code, kExitFailure);
  EXPECT_EQ(bad_token.err, "Error: UNAUTHENTICATED: Invalid access token.\n");
  EXPECT_TRUE(bad_token.out.empty());
}

TEST(CommandLineTest, RestCommandReadsEnvironment) {
  LoopbackHttpServer server([](const RecordedRequest&) { return CannedResponse{200, R"({"token_infos":[]})"}; });
  RunResult listed =
      RunTarn({"tokens", "list"}, {}, {{"DATABRICKS_HOST", server.url()}, {"DATABRICKS_TOKEN", "dapi-env"}});
  EXPECT_EQ(listed.exit_code, kExitOk) << listed.err;
  EXPECT_EQ(listed.out, "TOKEN ID  COMMENT  CREATED  EXPIRES\n--------  -------  -------  -------\n");
  EXPECT_EQ(server.requests().at(0).Header("Authorization"), "Bearer dapi-env");
}

TEST(CommandLineTest, DebugLogsRequestsButNotTheToken) {
  LoopbackHttpServer server([](const RecordedRequest&) { return CannedResponse{200, "{}"}; });
  RunResult revoked = RunTarn({"--debug", "tokens", "revoke", "t-1", "--host", server.url(), "--token", "dapi-hidden"});
  EXPECT_EQ(revoked.exit_code, kExitOk) << revoked.err;
  EXPECT_EQ(revoked.out, "Revoked token t-1\n");
  EXPECT_TRUE(Contains(revoked.err, "> POST " + server.url() + "/api/2.0/token/delete")) << revoked.err;
  EXPECT_FALSE(Contains(revoked.err, "dapi-hidden")) << revoked.err;
}

TEST(CommandLineTest, MissingConfigAndConnectionRefusedExitOne) {
  RunResult unconfigured = RunTarn({"tokens", "list"});
  EXPECT_EQ(unconfigured.exit_code, kExitFailure);
  EXPECT_EQ(unconfigured.err.rfind("Error: no server host configured", 0), 0u) << unconfigured.err;
  EXPECT_TRUE(Contains(unconfigured.err, "DATABRICKS_HOST"));

  auto [fd, port] = testing::RefusingPort();
  RunResult refused = RunTarn({"tokens", "list", "--host", "http://127.0.0.1:" + std::to_string(port), "--token", "t"});
  close(fd);
  EXPECT_EQ(refused.exit_code, kExitFailure);
  EXPECT_EQ(refused.err.rfind("Error: cannot connect to http://127.0.0.1:", 0), 0u) << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
}

}  // namespace
}  // namespace tarn::cli
