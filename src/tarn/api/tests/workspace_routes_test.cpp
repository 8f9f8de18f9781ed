// SPDX-License-Identifier: Apache-2.0
// Tests for the Workspace API 2.0 resources, driven through WithAuth and Router::Dispatch.
#include "tarn/api/workspace_routes.hpp"

#include <gtest/gtest.h>

#include "api_test_env.hpp"
#include "tarn/api/detail/multipart_form.hpp"
#include "tarn/base/crypto.hpp"
#include "tarn/storage/in_memory_object_store.hpp"

namespace tarn::api {
namespace {

using http::Method;
using nlohmann::json;

constexpr char kSqlSource[] =
    "-- Databricks notebook source\nSELECT 1\n\n-- COMMAND ----------\n\n-- MAGIC %md\n-- MAGIC # Notes";

class WorkspaceRoutesTest : public ApiTestEnv {
 protected:
  WorkspaceRoutesTest() : workspace_(*store_, content_, [this] { return now_.load(); }) {
    RegisterWorkspaceRoutes(router_, workspace_);
  }

  http::Response Import(const json& body) { return Call(Method::kPost, "/api/2.0/workspace/import", body.dump()); }

  storage::InMemoryObjectStore content_;
  workspace::WorkspaceStore workspace_;
};

TEST_F(WorkspaceRoutesTest, ImportExportRoundTripInEachFormat) {
  http::Response imported = Import({{"path", "/Users/admin/report"},
                                    {"content", Base64Encode(kSqlSource)},
                                    {"format", "SOURCE"},
                                    {"language", "SQL"}});
  ASSERT_EQ(imported.status, 200) << imported.body;
  EXPECT_EQ(Json(imported), json::object());

  http::Response status = Call(Method::kGet, "/api/2.0/workspace/get-status?path=/Users/admin/report");
  ASSERT_EQ(status.status, 200) << status.body;
  json info = Json(status);
  EXPECT_EQ(info["path"], "/Users/admin/report");
  EXPECT_EQ(info["object_type"], "NOTEBOOK");
  EXPECT_EQ(info["language"], "SQL");
  EXPECT_TRUE(info["object_id"].is_number_integer());
  EXPECT_EQ(info["created_at"], kStartMillis);
  EXPECT_EQ(info["modified_at"], kStartMillis);
  EXPECT_GT(info["size"].get<int64_t>(), 0);

  json source = Json(Call(Method::kGet, "/api/2.0/workspace/export?path=/Users/admin/report&format=SOURCE"));
  EXPECT_EQ(*Base64Decode(source["content"].get<std::string>()), kSqlSource);
  EXPECT_EQ(source["file_type"], "sql");
  // SOURCE is the default format.
  json by_default = Json(Call(Method::kGet, "/api/2.0/workspace/export?path=/Users/admin/report"));
  EXPECT_EQ(by_default["content"], source["content"]);

  json jupyter = Json(Call(Method::kGet, "/api/2.0/workspace/export?path=/Users/admin/report&format=JUPYTER"));
  EXPECT_EQ(jupyter["file_type"], "ipynb");
  std::string ipynb = *Base64Decode(jupyter["content"].get<std::string>());
  EXPECT_EQ(json::parse(ipynb)["metadata"]["kernelspec"]["language"], "sql");
  ASSERT_EQ(Import({{"path", "/Users/admin/copy"}, {"content", Base64Encode(ipynb)}, {"format", "JUPYTER"}}).status,
            200);
  json copy = Json(Call(Method::kGet, "/api/2.0/workspace/export?path=/Users/admin/copy"));
  EXPECT_EQ(*Base64Decode(copy["content"].get<std::string>()), kSqlSource);

  // direct_download answers the raw bytes.
  http::Response raw =
      Call(Method::kGet, "/api/2.0/workspace/export?path=/Users/admin/report&format=SOURCE&direct_download=true");
  ASSERT_EQ(raw.status, 200);
  EXPECT_EQ(raw.body, kSqlSource);
  EXPECT_EQ(raw.Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(raw.Header("Content-Disposition"), "attachment; filename=\"report.sql\"");
}

TEST_F(WorkspaceRoutesTest, MultipartImportAsTheSdkUploadSendsIt) {
  std::string boundary = "b0undary";
  std::string body = "--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/Users/admin/up.py\r\n--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\nAUTO\r\n--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\ntrue\r\n--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"content\"; filename=\"up.py\"\r\nContent-Type: "
                     "application/octet-stream\r\n\r\n# Databricks notebook source\nprint(1)\r\n--" +
                     boundary + "--\r\n";
  http::Request request;
  request.method = Method::kPost;
  request.path = request.target = "/api/2.0/workspace/import";
  request.body = body;
  request.headers = {{"Authorization", "Bearer " + admin_token_},
                     {"Content-Type", "multipart/form-data; boundary=" + boundary}};
  http::Response response = handler_(request);
  ASSERT_EQ(response.status, 200) << response.body;
  json info = Json(Call(Method::kGet, "/api/2.0/workspace/get-status?path=/Users/admin/up"));
  EXPECT_EQ(info["object_type"], "NOTEBOOK");
  EXPECT_EQ(info["language"], "PYTHON");
  request.body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/x";  // truncated
  response = handler_(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(ErrorCodeOf(response), "MALFORMED_REQUEST");
}

// api_body_fuzzer finding: the whole-body parser took "--boundary" in the middle of a line as the first delimiter,
// so it saw parts the streaming parser (dbfs/put) did not. A delimiter opens the body or follows CRLF.
TEST_F(WorkspaceRoutesTest, MultipartDelimiterMustStartALine) {
  auto parts_of = [](std::string body) {
    http::Request request;
    request.headers = {{"Content-Type", "multipart/form-data; boundary=b"}};
    request.body = std::move(body);
    return detail::ParseMultipartForm(request);
  };
  auto mid_line = parts_of("junk--b\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/x\r\n--b--");
  ASSERT_TRUE(mid_line.has_value()) << mid_line.status().ToString();
  EXPECT_TRUE(mid_line->empty());  // the only real delimiter is the closing one
  auto preamble = parts_of("preamble\r\n--b\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/x\r\n--b--");
  ASSERT_TRUE(preamble.has_value()) << preamble.status().ToString();
  ASSERT_EQ(preamble->size(), 1u);
  EXPECT_EQ((*preamble)[0].name, "path");
  EXPECT_EQ((*preamble)[0].content, "/x");
  auto at_start = parts_of("--b\r\n\r\nv\r\n--b--");
  ASSERT_TRUE(at_start.has_value()) << at_start.status().ToString();
  ASSERT_EQ(at_start->size(), 1u);
  EXPECT_EQ((*at_start)[0].content, "v");
  EXPECT_EQ(parts_of("x--b--").status().code(), ErrorCode::kMalformedRequest);
}

// api_body_fuzzer finding: JSON bodies nested thousands deep overflowed the stack in nlohmann's recursive copy and
// dump (e.g. an ipynb import); every REST JSON body is now limited to kMaxJsonDepth levels.
TEST_F(WorkspaceRoutesTest, DeeplyNestedJsonBodiesAreMalformed) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  http::Response response = Call(Method::kPost, "/api/2.0/workspace/mkdirs", R"({"path": "/a", "x": )" + deep + "}");
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(ErrorCodeOf(response), "MALFORMED_REQUEST");
  std::string notebook = R"({"nbformat":4,"nbformat_minor":5,"metadata":{"x":)" + deep + R"(},"cells":[]})";
  response = Import({{"path", "/Users/admin/deep"}, {"format", "JUPYTER"}, {"content", Base64Encode(notebook)}});
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(ErrorCodeOf(response), "INVALID_PARAMETER_VALUE");
}

TEST_F(WorkspaceRoutesTest, ListMkdirsDeleteAndHomeFolders) {
  // The caller's home folder exists on first use.
  json root = Json(Call(Method::kGet, "/api/2.0/workspace/list?path=/Users"));
  ASSERT_EQ(root["objects"].size(), 1u);
  EXPECT_EQ(root["objects"][0]["path"], "/Users/admin");
  EXPECT_EQ(root["objects"][0]["object_type"], "DIRECTORY");
  EXPECT_FALSE(root["objects"][0].contains("size"));

  ASSERT_EQ(Call(Method::kPost, "/api/2.0/workspace/mkdirs", R"({"path": "/Users/admin/a/b"})").status, 200);
  ASSERT_EQ(Import({{"path", "/Users/admin/a/f.txt"}, {"content", Base64Encode("hi")}, {"format", "RAW"}}).status, 200);
  json listed = Json(Call(Method::kGet, "/api/2.0/workspace/list?path=/Users/admin/a"));
  ASSERT_EQ(listed["objects"].size(), 2u);
  EXPECT_EQ(listed["objects"][1]["object_type"], "FILE");
  EXPECT_EQ(listed["objects"][1]["size"], 2);
  EXPECT_FALSE(listed["objects"][1].contains("language"));
  json empty = Json(Call(Method::kGet, "/api/2.0/workspace/list?path=/Users/admin/a/b"));
  EXPECT_EQ(empty, json::object());  // no "objects" key when empty

  http::Response not_empty = Call(Method::kPost, "/api/2.0/workspace/delete", R"({"path": "/Users/admin/a"})");
  EXPECT_EQ(not_empty.status, 400);
  EXPECT_EQ(ErrorCodeOf(not_empty), "DIRECTORY_NOT_EMPTY");
  ASSERT_EQ(
      Call(Method::kPost, "/api/2.0/workspace/delete", R"({"path": "/Users/admin/a", "recursive": "True"})").status,
      200);
  http::Response gone = Call(Method::kGet, "/api/2.0/workspace/get-status?path=/Users/admin/a/f.txt");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(ErrorCodeOf(gone), "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(WorkspaceRoutesTest, Errors) {
  ASSERT_EQ(Import({{"path", "/Users/admin/nb"}, {"content", Base64Encode("x = 1")}, {"language", "PYTHON"}}).status,
            200);
  struct Case {
    json body;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {{{"path", "/Users/admin/nb"}, {"content", Base64Encode("x")}, {"language", "PYTHON"}},
       400,
       "RESOURCE_ALREADY_EXISTS"},
      {{{"path", "/Users/admin/x"}, {"content", Base64Encode("x")}, {"format", "WORD"}},
       400,
       "INVALID_PARAMETER_VALUE"},
      {{{"path", "/Users/admin/x"}, {"content", "***"}, {"language", "PYTHON"}}, 400, "INVALID_PARAMETER_VALUE"},
      {{{"path", "/Users/admin/x"}, {"content", Base64Encode("x")}, {"language", "COBOL"}},
       400,
       "INVALID_PARAMETER_VALUE"},
      {{{"path", "/Users/admin/x"}, {"content", Base64Encode("{")}, {"format", "JUPYTER"}},
       400,
       "INVALID_PARAMETER_VALUE"},
      {{{"path", "/Users/admin/x"}, {"language", "PYTHON"}}, 400, "INVALID_PARAMETER_VALUE"},
      {{{"content", Base64Encode("x")}}, 400, "INVALID_PARAMETER_VALUE"},
      {{{"path", "relative"}, {"content", Base64Encode("x")}, {"language", "PYTHON"}}, 400, "INVALID_PARAMETER_VALUE"},
      {{{"path", "/nope/x"}, {"content", Base64Encode("x")}, {"language", "PYTHON"}}, 404, "RESOURCE_DOES_NOT_EXIST"},
      {{{"path", "/Users/admin/x"}, {"content", Base64Encode("x")}, {"overwrite", "maybe"}},
       400,
       "INVALID_PARAMETER_VALUE"},
      {{{"path", "/Users/admin/big"},
        {"content", Base64Encode(std::string(workspace::kMaxObjectBytes + 1, 'x'))},
        {"format", "RAW"}},
       400,
       "MAX_NOTEBOOK_SIZE_EXCEEDED"},
  };
  for (const auto& c : cases) {
    http::Response response = Import(c.body);
    EXPECT_EQ(response.status, c.status) << c.body.dump().substr(0, 200) << " -> " << response.body;
    EXPECT_EQ(ErrorCodeOf(response), c.code) << c.body.dump().substr(0, 200);
  }
  EXPECT_EQ(Call(Method::kPost, "/api/2.0/workspace/import", "{").status, 400);
  EXPECT_EQ(Call(Method::kGet, "/api/2.0/workspace/export?path=/Users/admin/none").status, 404);
  EXPECT_EQ(ErrorCodeOf(Call(Method::kGet, "/api/2.0/workspace/export?path=/Users/admin/nb&format=DBC")),
            "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Call(Method::kGet, "/api/2.0/workspace/export?path=/Users/admin")), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Call(Method::kGet, "/api/2.0/workspace/get-status")), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Call(Method::kPost, "/api/2.0/workspace/mkdirs", R"({"path": "/Users/admin/nb/sub"})")),
            "RESOURCE_ALREADY_EXISTS");
  EXPECT_EQ(Call(Method::kPost, "/api/2.0/workspace/delete", R"({"path": "/Users/admin/zzz"})").status, 404);
  // Nothing of the failed imports became visible.
  json listed = Json(Call(Method::kGet, "/api/2.0/workspace/list?path=/Users/admin"));
  ASSERT_EQ(listed["objects"].size(), 1u);
}

TEST_F(WorkspaceRoutesTest, EveryRouteNeedsAToken) {
  for (auto [method, path] :
       std::vector<std::pair<Method, std::string>>{{Method::kGet, "/api/2.0/workspace/list?path=/"},
                                                   {Method::kGet, "/api/2.0/workspace/get-status?path=/"},
                                                   {Method::kGet, "/api/2.0/workspace/export?path=/x"},
                                                   {Method::kPost, "/api/2.0/workspace/mkdirs"},
                                                   {Method::kPost, "/api/2.0/workspace/import"},
                                                   {Method::kPost, "/api/2.0/workspace/delete"}}) {
    http::Response response = Call(method, path, "{}", "");
    EXPECT_EQ(response.status, 401) << path;
    http::Request bare;
    bare.method = method;
    bare.path = path.substr(0, path.find('?'));
    EXPECT_EQ(router_.Dispatch(bare).status, 401) << path;
  }
}

}  // namespace
}  // namespace tarn::api
