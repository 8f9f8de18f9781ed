// SPDX-License-Identifier: Apache-2.0
// Tests for `tarn secrets ...`: request bodies and rendered output against a loopback responder.
#include "tarn/cli/secrets_commands.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "tarn/base/crypto.hpp"
#include "tarn/cli/command_line.hpp"
#include "tarn/cli/tests/loopback_http_server.hpp"

namespace tarn::cli {
namespace {

using nlohmann::json;
using testing::CannedResponse;
using testing::LoopbackHttpServer;
using testing::RecordedRequest;

CannedResponse Answer(const RecordedRequest& request) {
  const std::string& target = request.target;
  if (target.starts_with("/api/2.0/secrets/scopes/list")) {
    return {200,
            R"({"scopes":[{"name":"etl","backend_type":"DATABRICKS"},{"name":"ml","backend_type":"DATABRICKS"}]})"};
  }
  if (target.starts_with("/api/2.0/secrets/list")) {
    return {200, R"({"secrets":[{"key":"pw","last_updated_timestamp":1714564800000}]})"};
  }
  if (target.starts_with("/api/2.0/secrets/get")) return {200, R"({"key":"pw","value":"aHVudGVyMg=="})"};
  if (target.starts_with("/api/2.0/secrets/acls/list")) {
    return {200, R"({"items":[{"principal":"admin","permission":"MANAGE"},{"principal":"bob","permission":"READ"}]})"};
  }
  if (target.starts_with("/api/2.0/secrets/scopes/delete")) {
    return {404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Scope nope does not exist!"})"};
  }
  return {200, "{}"};
}

class SecretsCommandsTest : public ::testing::Test {
 protected:
  SecretsCommandsTest() : server_(Answer), client_(RestClientOptions{server_.url(), "dapitoken"}) {}

  std::pair<int, std::string> Run(std::vector<std::string> args) {
    args.insert(args.begin(), "tarn");
    args.insert(args.end(), {"--host", server_.url(), "--token", "t"});
    std::vector<const char*> argv;
    for (const auto& arg : args) argv.push_back(arg.c_str());
    CliHooks hooks;
    hooks.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    std::ostringstream out;
    std::ostringstream err;
    int code = Main(static_cast<int>(args.size()), argv.data(), hooks, out, err);
    return {code, out.str() + err.str()};
  }

  LoopbackHttpServer server_;
  RestClient client_;
};

TEST_F(SecretsCommandsTest, PutSendsStringOrBytesAndNeverPrintsTheValue) {
  std::ostringstream out;
  ASSERT_TRUE(RunSecretsPut(client_, "etl", "pw", {"hunter2", false}, OutputFormat::kTable, out).ok());
  json body = json::parse(server_.requests().back().body);
  EXPECT_EQ(body, json({{"scope", "etl"}, {"key", "pw"}, {"string_value", "hunter2"}}));
  ASSERT_TRUE(RunSecretsPut(client_, "etl", "bin", {std::string("\0\xff", 2), true}, OutputFormat::kTable, out).ok());
  body = json::parse(server_.requests().back().body);
  EXPECT_EQ(*Base64Decode(body["bytes_value"].get<std::string>()), std::string("\0\xff", 2));
  EXPECT_FALSE(body.contains("string_value"));
  EXPECT_EQ(out.str().find("hunter2"), std::string::npos);
  EXPECT_NE(out.str().find("Stored secret etl/pw"), std::string::npos);
}

TEST_F(SecretsCommandsTest, TablesForScopesSecretsAndAcls) {
  std::ostringstream scopes;
  ASSERT_TRUE(RunSecretsListScopes(client_, OutputFormat::kTable, scopes).ok());
  EXPECT_EQ(scopes.str(), "SCOPE  BACKEND\n-----  ----------\netl    DATABRICKS\nml     DATABRICKS\n");
  std::ostringstream secrets;
  ASSERT_TRUE(RunSecretsList(client_, "etl", OutputFormat::kTable, secrets).ok());
  EXPECT_EQ(secrets.str(), "KEY  LAST UPDATED\n---  --------------------\npw   2024-05-01T12:00:00Z\n");
  EXPECT_EQ(server_.requests().back().target, "/api/2.0/secrets/list?scope=etl");
  std::ostringstream acls;
  ASSERT_TRUE(RunSecretsListAcls(client_, "etl", OutputFormat::kTable, acls).ok());
  EXPECT_EQ(acls.str(), "PRINCIPAL  PERMISSION\n---------  ----------\nadmin      MANAGE\nbob        READ\n");
  std::ostringstream value;
  ASSERT_TRUE(RunSecretsGet(client_, "etl", "pw", OutputFormat::kTable, value).ok());
  EXPECT_EQ(value.str(), "hunter2");
  std::ostringstream raw;
  ASSERT_TRUE(RunSecretsListScopes(client_, OutputFormat::kJson, raw).ok());
  EXPECT_EQ(json::parse(raw.str())["scopes"].size(), 2u);
}

TEST_F(SecretsCommandsTest, MainParsesTheSecretsCommands) {
  auto [code, output] = Run({"secrets", "create-scope", "etl", "--initial-manage-principal", "users"});
  EXPECT_EQ(code, kExitOk) << output;
  EXPECT_EQ(json::parse(server_.requests().back().body),
            json({{"scope", "etl"}, {"initial_manage_principal", "users"}}));
  std::tie(code, output) = Run({"secrets", "put-acl", "etl", "bob", "read"});
  EXPECT_EQ(code, kExitOk) << output;
  EXPECT_EQ(json::parse(server_.requests().back().body)["permission"], "READ");
  std::tie(code, output) = Run({"secrets", "put", "etl", "pw", "--string-value", "s3"});
  EXPECT_EQ(code, kExitOk) << output;
  EXPECT_EQ(json::parse(server_.requests().back().body)["string_value"], "s3");
  std::tie(code, output) = Run({"secrets", "put", "etl", "pw", "--string-value", "a", "--bytes-value", "YQ=="});
  EXPECT_EQ(code, kExitUsage) << output;
  std::tie(code, output) = Run({"secrets", "put-acl", "etl", "bob", "OWN"});
  EXPECT_EQ(code, kExitUsage) << output;
  std::tie(code, output) = Run({"secrets", "delete-scope", "nope"});
  EXPECT_EQ(code, kExitFailure);
  EXPECT_NE(output.find("RESOURCE_DOES_NOT_EXIST: Scope nope does not exist!"), std::string::npos) << output;
  std::tie(code, output) = Run({"secrets", "list-scopes", "-o", "json"});
  EXPECT_EQ(code, kExitOk);
  EXPECT_NE(output.find("\"scopes\""), std::string::npos);
}

}  // namespace
}  // namespace tarn::cli
