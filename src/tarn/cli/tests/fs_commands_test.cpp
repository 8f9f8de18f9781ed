// SPDX-License-Identifier: Apache-2.0
// Tests for the `tarn fs` commands against an in-memory fake of the DBFS and Files APIs on a loopback socket.
#include "tarn/cli/fs_commands.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
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

// Splits "path?a=1&b=2" and decodes the query values.
std::pair<std::string, std::map<std::string, std::string>> SplitTarget(const std::string& target) {
  std::map<std::string, std::string> query;
  size_t question = target.find('?');
  std::string path = target.substr(0, question);
  if (question == std::string::npos) return {path, query};
  std::string rest = target.substr(question + 1);
  auto decode = [](const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '%' && i + 2 < text.size()) {
        out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += text[i];
      }
    }
    return out;
  };
  size_t start = 0;
  while (start <= rest.size()) {
    size_t amp = rest.find('&', start);
    if (amp == std::string::npos) amp = rest.size();
    std::string pair = rest.substr(start, amp - start);
    size_t eq = pair.find('=');
    if (eq != std::string::npos) query[decode(pair.substr(0, eq))] = decode(pair.substr(eq + 1));
    start = amp + 1;
  }
  return {decode(path), query};
}

// A small DBFS: files and directories in maps, enough of the API for the CLI.
class FakeDbfs {
 public:
  FakeDbfs() { dirs_["/"] = true; }

  CannedResponse Handle(const RecordedRequest& request) {
    std::lock_guard lock(mu_);
    auto [path, query] = SplitTarget(request.target);
    json body = request.body.empty() || request.method != "POST" ? json::object() : json::parse(request.body);
    if (path.starts_with("/api/2.0/fs/files/")) {
      std::string file = path.substr(std::string("/api/2.0/fs/files").size());
      if (request.method == "PUT") {
        if (query["overwrite"] == "false" && files_.count(file)) return Fail(409, "RESOURCE_ALREADY_EXISTS");
        files_[file] = request.body;
        MakeParents(file);
        return {204, "", "text/plain"};
      }
      if (!files_.count(file)) return Fail(404, "RESOURCE_DOES_NOT_EXIST");
      CannedResponse response{200, files_[file], "application/octet-stream"};
      if (truncate_downloads_) response.declared_length = static_cast<long long>(files_[file].size()) + 4096;
      return response;
    }
    std::string op = path.substr(path.rfind('/') + 1);
    std::string p = body.contains("path") ? body["path"].get<std::string>() : query["path"];
    if (op == "get-status") {
      if (dirs_.count(p)) return Ok({{"path", p}, {"is_dir", true}, {"file_size", 0}, {"modification_time", 1}});
      if (files_.count(p)) return Ok(Info(p));
      return Fail(404, "RESOURCE_DOES_NOT_EXIST");
    }
    if (op == "list") {
      json files = json::array();
      std::string prefix = p == "/" ? "/" : p + "/";
      for (const auto& [name, unused] : dirs_) {
        if (Child(prefix, name)) files.push_back({{"path", name}, {"is_dir", true}, {"file_size", 0}});
      }
      for (const auto& [name, unused] : files_) {
        if (Child(prefix, name)) files.push_back(Info(name));
      }
      return Ok({{"files", files}});
    }
    if (op == "read") {
      const std::string& data = files_[p];
      size_t offset = std::stoul(query["offset"]);
      size_t length = std::stoul(query["length"]);
      ++reads_;
      std::string piece = offset < data.size() ? data.substr(offset, length) : "";
      return Ok({{"bytes_read", piece.size()}, {"data", Base64Encode(piece)}});
    }
    if (op == "mkdirs") {
      dirs_[p] = true;
      MakeParents(p);
      return Ok(json::object());
    }
    if (op == "create") {
      if (files_.count(p) && !body.value("overwrite", false)) return Fail(400, "RESOURCE_ALREADY_EXISTS");
      int64_t handle = next_handle_++;
      open_[handle] = {p, ""};
      return Ok({{"handle", handle}});
    }
    if (op == "add-block") {
      ++blocks_;
      open_[body["handle"].get<int64_t>()].second += Base64Decode(body["data"].get<std::string>()).value();
      return Ok(json::object());
    }
    if (op == "close") {
      auto [target, data] = open_[body["handle"].get<int64_t>()];
      files_[target] = data;
      MakeParents(target);
      return Ok(json::object());
    }
    if (op == "delete") {
      if (partial_deletes_left_ > 0) {
        --partial_deletes_left_;
        return Fail(503, "PARTIAL_DELETE");
      }
      std::erase_if(files_, [&](const auto& item) { return item.first == p || item.first.starts_with(p + "/"); });
      std::erase_if(dirs_, [&](const auto& item) { return item.first == p || item.first.starts_with(p + "/"); });
      return Ok(json::object());
    }
    if (op == "move") {
      std::string from = body["source_path"], to = body["destination_path"];
      files_[to] = files_[from];
      files_.erase(from);
      return Ok(json::object());
    }
    return Fail(404, "ENDPOINT_NOT_FOUND");
  }

  std::mutex mu_;
  std::map<std::string, std::string> files_;
  std::map<std::string, bool> dirs_;
  std::map<int64_t, std::pair<std::string, std::string>> open_;
  int64_t next_handle_ = 1;
  int partial_deletes_left_ = 0;
  bool truncate_downloads_ = false;  // Files API GETs announce 4 KiB more than they send, then hang up
  int reads_ = 0;
  int blocks_ = 0;

 private:
  static bool Child(const std::string& prefix, const std::string& name) {
    return name.starts_with(prefix) && name != prefix && name.find('/', prefix.size()) == std::string::npos &&
           name.size() > prefix.size();
  }
  void MakeParents(const std::string& path) {
    for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0; slash = path.rfind('/', slash - 1)) {
      dirs_[path.substr(0, slash)] = true;
    }
  }
  json Info(const std::string& path) {
    return {{"path", path}, {"is_dir", false}, {"file_size", files_[path].size()}, {"modification_time", 1000}};
  }
  static CannedResponse Ok(const json& value) { return {200, value.dump(), "application/json"}; }
  static CannedResponse Fail(int status, const std::string& code) {
    return {status, json{{"error_code", code}, {"message", code + " message"}}.dump(), "application/json"};
  }
};

class FsCommandsTest : public ::testing::Test {
 protected:
  FsCommandsTest()
      : server_([this](const RecordedRequest& request) { return dbfs_.Handle(request); }),
        client_(RestClientOptions{server_.url(), "tok"}) {
    std::string pattern = (fs::temp_directory_path() / "tarn-fs-cli-XXXXXX").string();
    local_ = ::mkdtemp(pattern.data());
  }
  ~FsCommandsTest() override { fs::remove_all(local_); }

  void WriteLocal(const std::string& relative, const std::string& data) {
    fs::create_directories((fs::path(local_) / relative).parent_path());
    std::ofstream(fs::path(local_) / relative, std::ios::binary) << data;
  }
  std::string ReadLocal(const std::string& relative) {
    std::ifstream in(fs::path(local_) / relative, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  FakeDbfs dbfs_;
  LoopbackHttpServer server_;
  RestClient client_;
  std::string local_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(FsCommandsTest, UploadUsesBlocksAndDownloadUsesSlices) {
  std::string data = RandomBytes(2 * 1024 * 1024 + 5);
  WriteLocal("big.bin", data);
  FsOptions options;
  ASSERT_EQ(RunFsCp(client_, local_ + "/big.bin", "dbfs:/up/big.bin", options, out_, err_).ToString(), "OK");
  EXPECT_EQ(dbfs_.files_["/up/big.bin"], data);
  EXPECT_EQ(dbfs_.blocks_, 3);
  ASSERT_EQ(RunFsCp(client_, "dbfs:/up/big.bin", local_ + "/back.bin", options, out_, err_).ToString(), "OK");
  EXPECT_EQ(ReadLocal("back.bin"), data);
  EXPECT_EQ(dbfs_.reads_, 3);
  EXPECT_NE(out_.str().find("dbfs:/up/big.bin -> "), std::string::npos);
  // No leftover temporary files next to the download.
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(local_)) ++count;
  EXPECT_EQ(count, 2);
}

TEST_F(FsCommandsTest, VolumesPathsStreamThroughTheFilesApi) {
  WriteLocal("v.txt", "volume data");
  FsOptions options;
  ASSERT_EQ(RunFsCp(client_, local_ + "/v.txt", "dbfs:/Volumes/c/s/v/v.txt", options, out_, err_).ToString(), "OK");
  EXPECT_EQ(dbfs_.files_["/Volumes/c/s/v/v.txt"], "volume data");
  EXPECT_EQ(dbfs_.blocks_, 0);
  auto requests = server_.requests();
  bool saw_put = false;
  for (const auto& request : requests) {
    if (request.method == "PUT") {
      saw_put = true;
      EXPECT_EQ(request.target, "/api/2.0/fs/files/Volumes/c/s/v/v.txt?overwrite=false");
      EXPECT_EQ(request.Header("Content-Type"), "application/octet-stream");
    }
  }
  EXPECT_TRUE(saw_put);
  ASSERT_EQ(RunFsCp(client_, "dbfs:/Volumes/c/s/v/v.txt", local_ + "/out.txt", options, out_, err_).ToString(), "OK");
  EXPECT_EQ(ReadLocal("out.txt"), "volume data");
  EXPECT_EQ(dbfs_.reads_, 0);
}

TEST_F(FsCommandsTest, LargeVolumeTransfersAreByteExactAndAnInterruptedDownloadLeavesNothing) {
  const std::string data = RandomBytes((5 << 20) + 4093);
  WriteLocal("big.bin", data);
  FsOptions options;
  ASSERT_EQ(RunFsCp(client_, local_ + "/big.bin", "dbfs:/Volumes/c/s/v/big.bin", options, out_, err_).ToString(),
            "OK");
  EXPECT_TRUE(dbfs_.files_["/Volumes/c/s/v/big.bin"] == data);
  ASSERT_EQ(RunFsCp(client_, "dbfs:/Volumes/c/s/v/big.bin", local_ + "/back.bin", options, out_, err_).ToString(),
            "OK");
  EXPECT_TRUE(ReadLocal("back.bin") == data);

  // The server hangs up 4 KiB before the announced end: a clear error, no target and no temporary file.
  dbfs_.truncate_downloads_ = true;
  Status status = RunFsCp(client_, "dbfs:/Volumes/c/s/v/big.bin", local_ + "/cut.bin", options, out_, err_);
  EXPECT_EQ(status.code(), ErrorCode::kConnectionFailure);
  EXPECT_NE(status.message().find("closed after " + std::to_string(data.size()) + " of " +
                                  std::to_string(data.size() + 4096) + " bytes"),
            std::string::npos)
      << status.message();
  // Also with --overwrite over an existing file: the old file stays as it was.
  options.overwrite = true;
  status = RunFsCp(client_, "dbfs:/Volumes/c/s/v/big.bin", local_ + "/big.bin", options, out_, err_);
  EXPECT_EQ(status.code(), ErrorCode::kConnectionFailure);
  EXPECT_TRUE(ReadLocal("big.bin") == data);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(local_)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"back.bin", "big.bin"}));
}

TEST_F(FsCommandsTest, OverwriteAndDirectoryTargets) {
  WriteLocal("a.txt", "one");
  FsOptions options;
  ASSERT_EQ(RunFsMkdirs(client_, "dbfs:/dir", out_).ToString(), "OK");
  ASSERT_EQ(RunFsCp(client_, local_ + "/a.txt", "dbfs:/dir", options, out_, err_).ToString(), "OK");
  EXPECT_EQ(dbfs_.files_["/dir/a.txt"], "one");
  Status again = RunFsCp(client_, local_ + "/a.txt", "dbfs:/dir/a.txt", options, out_, err_);
  EXPECT_EQ(again.code(), ErrorCode::kResourceAlreadyExists);
  WriteLocal("a.txt", "two");
  options.overwrite = true;
  ASSERT_EQ(RunFsCp(client_, local_ + "/a.txt", "dbfs:/dir/a.txt", options, out_, err_).ToString(), "OK");
  EXPECT_EQ(dbfs_.files_["/dir/a.txt"], "two");
  // Download into an existing local file needs --overwrite too.
  options.overwrite = false;
  EXPECT_EQ(RunFsCp(client_, "dbfs:/dir/a.txt", local_ + "/a.txt", options, out_, err_).code(),
            ErrorCode::kResourceAlreadyExists);
  ASSERT_TRUE(RunFsCp(client_, "dbfs:/dir/a.txt", local_, options, out_, err_).code() ==
              ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(RunFsCp(client_, local_ + "/a.txt", local_ + "/b.txt", options, out_, err_).code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(FsCommandsTest, RecursiveCopyBothWays) {
  WriteLocal("tree/x.txt", "x");
  WriteLocal("tree/sub/y.txt", "y");
  FsOptions options;
  EXPECT_EQ(RunFsCp(client_, local_ + "/tree", "dbfs:/t", options, out_, err_).code(),
            ErrorCode::kInvalidParameterValue);
  options.recursive = true;
  ASSERT_EQ(RunFsCp(client_, local_ + "/tree", "dbfs:/t", options, out_, err_).ToString(), "OK");
  EXPECT_EQ(dbfs_.files_["/t/x.txt"], "x");
  EXPECT_EQ(dbfs_.files_["/t/sub/y.txt"], "y");
  ASSERT_TRUE(RunFsCp(client_, "dbfs:/t", local_ + "/copy", options, out_, err_).ToString() == "OK") << RunFsCp(client_, "", "", {}, out_, err_).ToString();
  EXPECT_EQ(ReadLocal("copy/x.txt"), "x");
  EXPECT_EQ(ReadLocal("copy/sub/y.txt"), "y");
  // Into an existing directory: the source keeps its name.
  ASSERT_EQ(RunFsCp(client_, "dbfs:/t", local_ + "/copy", options, out_, err_).ToString(), "OK");
  EXPECT_EQ(ReadLocal("copy/t/sub/y.txt"), "y");
  // dbfs -> dbfs
  ASSERT_EQ(RunFsCp(client_, "dbfs:/t", "dbfs:/t2", options, out_, err_).ToString(), "OK");
  EXPECT_EQ(dbfs_.files_["/t2/sub/y.txt"], "y");
}

TEST_F(FsCommandsTest, LsFormats) {
  dbfs_.files_["/d/file.txt"] = "12345";
  dbfs_.dirs_["/d"] = true;
  dbfs_.dirs_["/d/sub"] = true;
  FsOptions options;
  ASSERT_EQ(RunFsLs(client_, "dbfs:/d", options, out_).ToString(), "OK");
  EXPECT_EQ(out_.str(), "sub/\nfile.txt\n");
  out_.str("");
  options.long_format = true;
  ASSERT_EQ(RunFsLs(client_, "/d", options, out_).ToString(), "OK");
  EXPECT_NE(out_.str().find("file     5  1970-01-01T00:00:01Z  dbfs:/d/file.txt"), std::string::npos) << out_.str();
  out_.str("");
  options.format = OutputFormat::kJson;
  ASSERT_EQ(RunFsLs(client_, "dbfs:/d", options, out_).ToString(), "OK");
  auto parsed = json::parse(out_.str());
  EXPECT_EQ(parsed["files"].size(), 2u);
  EXPECT_EQ(RunFsLs(client_, "relative", options, out_).code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(FsCommandsTest, CatRmMvMkdirs) {
  dbfs_.files_["/c.txt"] = "cat me";
  ASSERT_EQ(RunFsCat(client_, "dbfs:/c.txt", out_).ToString(), "OK");
  EXPECT_EQ(out_.str(), "cat me");
  EXPECT_EQ(RunFsCat(client_, "dbfs:/missing", out_).code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_EQ(RunFsMv(client_, "dbfs:/c.txt", "dbfs:/d.txt", out_).ToString(), "OK");
  EXPECT_EQ(dbfs_.files_.count("/c.txt"), 0u);
  EXPECT_EQ(dbfs_.files_["/d.txt"], "cat me");
  // rm repeats the call while the server answers PARTIAL_DELETE.
  dbfs_.partial_deletes_left_ = 2;
  FsOptions options;
  options.recursive = true;
  ASSERT_EQ(RunFsRm(client_, "dbfs:/d.txt", options, out_).ToString(), "OK");
  EXPECT_EQ(dbfs_.files_.count("/d.txt"), 0u);
  EXPECT_EQ(dbfs_.partial_deletes_left_, 0);
  EXPECT_EQ(RunFsRm(client_, "dbfs:/d.txt", options, out_).code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_EQ(RunFsMkdirs(client_, "dbfs:/m/n", out_).ToString(), "OK");
  EXPECT_TRUE(dbfs_.dirs_.count("/m/n"));
}

TEST_F(FsCommandsTest, CommandLineWiresTheFsGroup) {
  dbfs_.files_["/hello.txt"] = "hi";
  CliHooks hooks;
  hooks.env = [this](const std::string& name) -> std::optional<std::string> {
    if (name == "DATABRICKS_HOST") return server_.url();
    if (name == "DATABRICKS_TOKEN") return std::string("tok");
    if (name == "HOME") return local_;
    return std::nullopt;
  };
  const char* argv[] = {"tarn", "fs", "cat", "dbfs:/hello.txt"};
  EXPECT_EQ(Main(4, argv, hooks, out_, err_), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "hi");
  const char* missing[] = {"tarn", "fs", "cat"};
  EXPECT_EQ(Main(3, missing, hooks, out_, err_), kExitUsage);
  const char* failing[] = {"tarn", "fs", "cat", "dbfs:/nope"};
  EXPECT_EQ(Main(4, failing, hooks, out_, err_), kExitFailure);
}

}  // namespace
}  // namespace tarn::cli
