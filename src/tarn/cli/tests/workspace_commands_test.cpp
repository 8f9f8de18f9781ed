// SPDX-License-Identifier: Apache-2.0
// Tests for `tarn workspace ...` against a loopback fake of the Workspace API.
#include "tarn/cli/workspace_commands.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
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
namespace fs = std::filesystem;

constexpr char kNotebookSource[] = "# Databricks notebook source\nprint(1)\n\n# COMMAND ----------\n\nprint(2)";

// Splits "path?a=1&b=x%2Fy" into the path and decoded query parameters.
std::pair<std::string, std::map<std::string, std::string>> SplitTarget(const std::string& target) {
  std::map<std::string, std::string> query;
  size_t question = target.find('?');
  std::string path = target.substr(0, question);
  if (question == std::string::npos) return {path, query};
  std::stringstream pairs(target.substr(question + 1));
  std::string pair;
  auto decode = [](const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '%' && i + 2 < text.size()) {
        out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += text[i] == '+' ? ' ' : text[i];
      }
    }
    return out;
  };
  while (std::getline(pairs, pair, '&')) {
    size_t equals = pair.find('=');
    query[decode(pair.substr(0, equals))] = equals == std::string::npos ? "" : decode(pair.substr(equals + 1));
  }
  return {path, query};
}

// A small in-memory workspace: AUTO imports of notebook sources (.py with the header) and .ipynb become notebooks
// without their extension, everything else a file.
class FakeWorkspace {
 public:
  struct Object {
    std::string type;
    std::string language;
    std::string content;
  };

  CannedResponse Handle(const RecordedRequest& request) {
    auto [path, query] = SplitTarget(request.target);
    if (path == "/api/2.0/workspace/mkdirs") {
      std::string target = json::parse(request.body)["path"];
      for (size_t end = target.find('/', 1);; end = target.find('/', end + 1)) {
        objects_.emplace(target.substr(0, end), Object{"DIRECTORY", "", ""});
        if (end == std::string::npos) break;
      }
      return {};
    }
    if (path == "/api/2.0/workspace/import") {
      json body = json::parse(request.body);
      std::string target = body["path"];
      std::string content = *Base64Decode(body["content"].get<std::string>());
      Object object{"FILE", "", content};
      if (body["format"] == "AUTO" && target.ends_with(".py") && content.starts_with("# Databricks notebook source")) {
        target.resize(target.size() - 3);
        object = {"NOTEBOOK", "PYTHON", content};
      }
      objects_[target] = object;
      return {};
    }
    if (path == "/api/2.0/workspace/list") {
      std::string folder = query["path"];
      json list = json::array();
      for (const auto& [object_path, object] : objects_) {
        if (object_path.rfind('/') == folder.size() && object_path.starts_with(folder + "/")) {
          json entry = {{"path", object_path}, {"object_type", object.type}, {"object_id", 7}};
          if (!object.language.empty()) entry["language"] = object.language;
          list.push_back(entry);
        }
      }
      return {200, list.empty() ? "{}" : json{{"objects", list}}.dump()};
    }
    if (path == "/api/2.0/workspace/export") {
      auto it = objects_.find(query["path"]);
      if (it == objects_.end()) return {404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no"})"};
      return {200, it->second.content, "application/octet-stream"};
    }
    return {404, R"({"error_code":"ENDPOINT_NOT_FOUND","message":"no"})"};
  }

  std::map<std::string, Object> objects_;
};

class WorkspaceCommandsTest : public ::testing::Test {
 protected:
  WorkspaceCommandsTest()
      : server_([this](const RecordedRequest& request) { return fake_.Handle(request); }),
        client_(RestClientOptions{server_.url(), "dapitoken"}) {
    dir_ = fs::temp_directory_path() / ("tarn-ws-cli-" + RandomHex(6));
    fs::create_directories(dir_);
  }
  ~WorkspaceCommandsTest() override { fs::remove_all(dir_); }

  std::string WriteFile(const std::string& relative, const std::string& content) {
    fs::path path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  static std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  json LastBody() { return json::parse(server_.requests().back().body); }

  FakeWorkspace fake_;
  LoopbackHttpServer server_;
  RestClient client_;
  fs::path dir_;
};

TEST_F(WorkspaceCommandsTest, ImportInfersFormatAndLanguageFromTheFile) {
  struct Case {
    std::string file;
    WorkspaceImportOptions options;
    std::string format;
    std::string language;
  };
  std::vector<Case> cases = {
      {"q.sql", {}, "SOURCE", "SQL"},
      {"m.R", {}, "SOURCE", "R"},
      {"n.ipynb", {}, "JUPYTER", ""},
      {"data.csv", {}, "RAW", ""},
      {"script", {"", "scala", false}, "SOURCE", "SCALA"},
      {"nb.py", {"auto", "", true}, "AUTO", ""},
  };
  for (const auto& c : cases) {
    std::string local = WriteFile(c.file, "content of " + c.file);
    std::ostringstream out;
    Status status = RunWorkspaceImport(client_, local, "/Users/me/x", c.options, OutputFormat::kTable, out);
    ASSERT_TRUE(status.ok()) << status.ToString();
    json body = LastBody();
    EXPECT_EQ(body["format"], c.format) << c.file;
    EXPECT_EQ(body.value("language", ""), c.language) << c.file;
    EXPECT_EQ(body["overwrite"], c.options.overwrite) << c.file;
    EXPECT_EQ(*Base64Decode(body["content"].get<std::string>()), "content of " + c.file);
    EXPECT_NE(out.str().find("Imported"), std::string::npos);
  }
  std::ostringstream out;
  EXPECT_EQ(RunWorkspaceImport(client_, (dir_ / "missing").string(), "/x", {}, OutputFormat::kTable, out).code(),
            ErrorCode::kIoError);
}

TEST_F(WorkspaceCommandsTest, ListPrintsATableOrTheJson) {
  fake_.objects_["/Users"] = {"DIRECTORY", "", ""};
  fake_.objects_["/Users/nb"] = {"NOTEBOOK", "SQL", "x"};
  fake_.objects_["/Users/d"] = {"DIRECTORY", "", ""};
  std::ostringstream table;
  ASSERT_TRUE(RunWorkspaceList(client_, "/Users", false, OutputFormat::kTable, table).ok());
  EXPECT_EQ(table.str(),
            "TYPE       LANGUAGE  PATH\n"
            "---------  --------  ---------\n"
            "DIRECTORY            /Users/d\n"
            "NOTEBOOK   SQL       /Users/nb\n");
  std::ostringstream raw;
  ASSERT_TRUE(RunWorkspaceList(client_, "/Users", true, OutputFormat::kJson, raw).ok());
  EXPECT_EQ(json::parse(raw.str())["objects"].size(), 2u);
  EXPECT_EQ(SplitTarget(server_.requests().back().target).second["path"], "/Users");
  std::ostringstream empty;
  ASSERT_TRUE(RunWorkspaceList(client_, "/Users/d", false, OutputFormat::kTable, empty).ok());
  EXPECT_EQ(empty.str(), "TYPE  LANGUAGE  PATH\n----  --------  ----\n");
}

TEST_F(WorkspaceCommandsTest, ExportWritesBytesAndKeepsExistingFiles) {
  fake_.objects_["/nb"] = {"NOTEBOOK", "PYTHON", kNotebookSource};
  std::string target = (dir_ / "nb.py").string();
  ASSERT_TRUE(RunWorkspaceExport(client_, "/nb", target, "jupyter", false, std::cout).ok());
  EXPECT_EQ(ReadFile(target), kNotebookSource);
  auto query = SplitTarget(server_.requests().back().target).second;
  EXPECT_EQ(query["direct_download"], "true");
  EXPECT_EQ(query["format"], "JUPYTER");
  EXPECT_EQ(RunWorkspaceExport(client_, "/nb", target, "", false, std::cout).code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_TRUE(RunWorkspaceExport(client_, "/nb", target, "", true, std::cout).ok());
  std::ostringstream out;
  ASSERT_TRUE(RunWorkspaceExport(client_, "/nb", "-", "", false, out).ok());
  EXPECT_EQ(out.str(), kNotebookSource);
  EXPECT_EQ(RunWorkspaceExport(client_, "/missing", "-", "", false, out).code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(WorkspaceCommandsTest, ImportDirThenExportDirRoundTrips) {
  WriteFile("src/etl.py", kNotebookSource);
  WriteFile("src/lib/helpers.py", "def f():\n    return 1\n");
  WriteFile("src/lib/data.bin", std::string("\0\x01\x02", 3));
  WriteFile("src/.hidden", "skip me");
  std::ostringstream out;
  ASSERT_TRUE(
      RunWorkspaceImportDir(client_, (dir_ / "src").string(), "/Users/me/proj", false, OutputFormat::kTable, out).ok());
  EXPECT_EQ(fake_.objects_.at("/Users/me/proj/etl").type, "NOTEBOOK");
  EXPECT_EQ(fake_.objects_.at("/Users/me/proj/lib/helpers.py").type, "FILE");
  EXPECT_EQ(fake_.objects_.count("/Users/me/proj/.hidden"), 0u);

  std::ostringstream exported;
  std::ostringstream err;
  ASSERT_TRUE(RunWorkspaceExportDir(client_, "/Users/me/proj", (dir_ / "out").string(), false, OutputFormat::kJson,
                                    exported, err)
                  .ok());
  EXPECT_EQ(json::parse(exported.str())["exported"].size(), 3u);
  EXPECT_EQ(ReadFile(dir_ / "out/etl.py"), kNotebookSource);
  EXPECT_EQ(ReadFile(dir_ / "out/lib/helpers.py"), "def f():\n    return 1\n");
  EXPECT_EQ(ReadFile(dir_ / "out/lib/data.bin"), std::string("\0\x01\x02", 3));
  // A second export keeps the files and says so.
  std::ostringstream again;
  ASSERT_TRUE(
      RunWorkspaceExportDir(client_, "/Users/me/proj", (dir_ / "out").string(), false, OutputFormat::kTable, again, err)
          .ok());
  EXPECT_NE(err.str().find("exists (use --overwrite)"), std::string::npos);
}

TEST_F(WorkspaceCommandsTest, MainRunsWorkspaceCommands) {
  fake_.objects_["/Users"] = {"DIRECTORY", "", ""};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "tarn");
    std::vector<const char*> argv;
    for (const auto& arg : args) argv.push_back(arg.c_str());
    CliHooks hooks;
    hooks.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    std::ostringstream out;
    std::ostringstream err;
    int code = Main(static_cast<int>(args.size()), argv.data(), hooks, out, err);
    return std::make_pair(code, out.str() + err.str());
  };
  auto [code, output] = run({"workspace", "mkdirs", "/Users/me/new", "--host", server_.url(), "--token", "t"});
  EXPECT_EQ(code, kExitOk) << output;
  EXPECT_EQ(fake_.objects_.at("/Users/me/new").type, "DIRECTORY");
  std::tie(code, output) = run({"workspace", "ls", "/Users/me", "-o", "json", "--host", server_.url(), "--token", "t"});
  EXPECT_EQ(code, kExitOk) << output;
  EXPECT_NE(output.find("/Users/me/new"), std::string::npos);
  std::tie(code, output) = run({"workspace", "--host", server_.url(), "--token", "t"});
  EXPECT_EQ(code, kExitUsage) << output;
  std::tie(code, output) = run({"workspace", "import", "a", "/b", "--format", "DOCX", "--host", server_.url()});
  EXPECT_EQ(code, kExitUsage) << output;
  std::tie(code, output) = run({"workspace", "export", "/none", "--host", server_.url(), "--token", "t"});
  EXPECT_EQ(code, kExitFailure) << output;
  EXPECT_NE(output.find("RESOURCE_DOES_NOT_EXIST"), std::string::npos);
}

}  // namespace
}  // namespace tarn::cli
