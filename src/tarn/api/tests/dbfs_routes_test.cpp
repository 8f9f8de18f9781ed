// SPDX-License-Identifier: Apache-2.0
// Tests for the DBFS API 2.0 routes, driven through WithAuth + Router::Dispatch (no sockets).
#include "tarn/api/dbfs_routes.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "tarn/api/tests/api_test_env.hpp"
#include "tarn/storage/tests/dbfs_test_dir.hpp"
#include "tarn/base/crypto.hpp"

namespace tarn::api {
namespace {

using nlohmann::json;
using http::Method;
using storage::DbfsFileSystem;
using storage::TempDir;

class DbfsRoutesTest : public ApiTestEnv {
 protected:
  DbfsRoutesTest() : root_(dir_.path() + "/dbfs") {
    auto opened = DbfsFileSystem::Open(root_);
    EXPECT_TRUE(opened.has_value());
    dbfs_ = std::move(opened).value();
    DbfsRouteOptions options;
    options.max_delete_entries = 3;
    options.clock = [this] { return clock_ms_.load(); };
    RegisterDbfsRoutes(router_, *dbfs_, options);
  }

  http::Response Post(const std::string& op, const json& body) {
    return Call(Method::kPost, "/api/2.0/dbfs/" + op, body.dump());
  }
  http::Response Get(const std::string& op_and_query) { return Call(Method::kGet, "/api/2.0/dbfs/" + op_and_query); }

  void Put(const std::string& path, const std::string& data, bool overwrite = false) {
    auto response = Post("put", {{"path", path}, {"contents", Base64Encode(data)}, {"overwrite", overwrite}});
    ASSERT_EQ(response.status, 200) << response.body;
  }

  std::string ReadAll(const std::string& path) {
    auto response = Get("read?path=" + path + "&length=1048576");
    EXPECT_EQ(response.status, 200) << response.body;
    auto body = Json(response);
    return Base64Decode(body["data"].get<std::string>()).value_or("<bad base64>");
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<DbfsFileSystem> dbfs_;
  std::atomic<int64_t> clock_ms_{1'000'000};
};

TEST_F(DbfsRoutesTest, RequiresAuthentication) {
  auto response = Call(Method::kGet, "/api/2.0/dbfs/list?path=/", "", "");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(ErrorCodeOf(response), "UNAUTHENTICATED");
}

TEST_F(DbfsRoutesTest, PutReadStatusListRoundTrip) {
  Put("dbfs:/dir/hello.txt", "hello dbfs");
  EXPECT_EQ(ReadAll("/dir/hello.txt"), "hello dbfs");

  auto status = Get("get-status?path=dbfs:/dir/hello.txt");
  ASSERT_EQ(status.status, 200);
  auto info = Json(status);
  EXPECT_EQ(info["path"], "/dir/hello.txt");
  EXPECT_EQ(info["is_dir"], false);
  EXPECT_EQ(info["file_size"], 10);
  EXPECT_TRUE(info["modification_time"].is_number_integer());

  auto dir_status = Json(Get("get-status?path=/dir"));
  EXPECT_EQ(dir_status["is_dir"], true);
  EXPECT_EQ(dir_status["file_size"], 0);

  auto listed = Json(Get("list?path=/dir"));
  ASSERT_EQ(listed["files"].size(), 1u);
  EXPECT_EQ(listed["files"][0]["path"], "/dir/hello.txt");
  auto file_listed = Json(Get("list?path=/dir/hello.txt"));
  ASSERT_EQ(file_listed["files"].size(), 1u);

  auto partial = Json(Get("read?path=/dir/hello.txt&offset=6&length=2"));
  EXPECT_EQ(partial["bytes_read"], 2);
  EXPECT_EQ(Base64Decode(partial["data"].get<std::string>()).value(), "db");
  auto past_end = Json(Get("read?path=/dir/hello.txt&offset=100"));
  EXPECT_EQ(past_end["bytes_read"], 0);
  EXPECT_EQ(past_end["data"], "");
}

TEST_F(DbfsRoutesTest, MissingPathsAre404) {
  EXPECT_EQ(ErrorCodeOf(Get("get-status?path=/nope")), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(Get("get-status?path=/nope").status, 404);
  EXPECT_EQ(ErrorCodeOf(Get("list?path=/nope")), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(ErrorCodeOf(Get("read?path=/nope")), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(ErrorCodeOf(Post("move", {{"source_path", "/nope"}, {"destination_path", "/x"}})),
            "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(DbfsRoutesTest, ParameterErrors) {
  EXPECT_EQ(ErrorCodeOf(Get("get-status")), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Get("get-status?path=relative/x")), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Get("get-status?path=/a/../../etc")), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Post("mkdirs", {{"path", 5}})), "INVALID_PARAMETER_VALUE");
  auto bad_json = Call(Method::kPost, "/api/2.0/dbfs/mkdirs", "{not json");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(ErrorCodeOf(bad_json), "MALFORMED_REQUEST");
  Put("/f", "0123456789");
  EXPECT_EQ(ErrorCodeOf(Get("read?path=/f&offset=-1")), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Get("read?path=/f&length=-1")), "INVALID_PARAMETER_VALUE");
  auto too_long = Get("read?path=/f&length=1048577");
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(ErrorCodeOf(too_long), "MAX_READ_SIZE_EXCEEDED");
  EXPECT_EQ(ErrorCodeOf(Post("mkdirs", {{"path", "/d"}})), "<none>");
  EXPECT_EQ(ErrorCodeOf(Get("read?path=/d")), "INVALID_PARAMETER_VALUE");
}

TEST_F(DbfsRoutesTest, PutRules) {
  Put("/p", "one");
  auto again = Post("put", {{"path", "/p"}, {"contents", Base64Encode("two")}});
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(ErrorCodeOf(again), "RESOURCE_ALREADY_EXISTS");
  Put("/p", "two", /*overwrite=*/true);
  EXPECT_EQ(ReadAll("/p"), "two");
  // Overwrite as text, as legacy clients send it.
  ASSERT_EQ(Post("put", {{"path", "/p"}, {"contents", Base64Encode("three")}, {"overwrite", "True"}}).status, 200);
  EXPECT_EQ(ReadAll("/p"), "three");

  auto invalid = Post("put", {{"path", "/q"}, {"contents", "not*base64!"}});
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(ErrorCodeOf(invalid), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Get("get-status?path=/q")), "RESOURCE_DOES_NOT_EXIST");

  auto big = Post("put", {{"path", "/big"}, {"contents", Base64Encode(std::string((1 << 20) + 1, 'x'))}});
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(ErrorCodeOf(big), "MAX_BLOCK_SIZE_EXCEEDED");
  ASSERT_EQ(Post("put", {{"path", "/exact"}, {"contents", Base64Encode(std::string(1 << 20, 'y'))}}).status, 200);

  // No contents: an empty file. Parents are created.
  ASSERT_EQ(Post("put", {{"path", "/new/parent/empty"}}).status, 200);
  EXPECT_EQ(Json(Get("get-status?path=/new/parent/empty"))["file_size"], 0);
  // A file on the parent chain cannot become a directory.
  EXPECT_EQ(ErrorCodeOf(Post("put", {{"path", "/p/child"}, {"contents", ""}})), "RESOURCE_ALREADY_EXISTS");
}

TEST_F(DbfsRoutesTest, MultipartPut) {
  const std::string boundary = "XyZ123";
  std::string payload("bin\0ary\r\n--data", 15);
  std::string body = "--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/mp/file.bin\r\n"
                     "--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\nFalse\r\n"
                     "--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file.bin\"\r\n"
                     "Content-Type: multipart/form-data\r\n\r\n" + payload + "\r\n"
                     "--" + boundary + "--\r\n";
  http::Request request;
  request.method = Method::kPost;
  request.path = request.target = "/api/2.0/dbfs/put";
  request.body = body;
  request.headers = {{"Authorization", "Bearer " + admin_token_},
                     {"Content-Type", "multipart/form-data; boundary=" + boundary}};
  auto response = handler_(request);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(ReadAll("/mp/file.bin"), payload);
  // Same again without overwrite: already exists.
  auto again = handler_(request);
  EXPECT_EQ(ErrorCodeOf(again), "RESOURCE_ALREADY_EXISTS");
  // A body without the closing delimiter is malformed.
  request.body = body.substr(0, body.size() - 20);
  EXPECT_EQ(ErrorCodeOf(handler_(request)), "MALFORMED_REQUEST");
}

// Hands out a body in the given pieces, as the server's streaming reader would.
class PieceReader final : public http::BodyReader {
 public:
  explicit PieceReader(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  Result<bool> Read(std::string& out) override {
    out.clear();
    if (next_ == pieces_.size()) return false;
    out = pieces_[next_++];
    return next_ < pieces_.size();
  }

 private:
  std::vector<std::string> pieces_;
  size_t next_ = 0;
};

std::string FormField(const std::string& boundary, const std::string& name, const std::string& value,
                      const std::string& filename = "") {
  std::string disposition = "form-data; name=\"" + name + "\"";
  if (!filename.empty()) disposition += "; filename=\"" + filename + "\"";
  return "--" + boundary + "\r\nContent-Disposition: " + disposition + "\r\n\r\n" + value + "\r\n";
}

TEST_F(DbfsRoutesTest, PutRouteStreamsItsBody) {
  EXPECT_EQ(router_.StreamedBodyLimit(Method::kPost, "/api/2.0/dbfs/put"), std::optional<uint64_t>(uint64_t{2} << 30));
  EXPECT_EQ(router_.StreamedBodyLimit(Method::kPost, "/api/2.0/dbfs/mkdirs"), std::nullopt);
}

TEST_F(DbfsRoutesTest, MultipartPutStreamedInAnyPieceSizes) {
  const std::string boundary = "b0undary";
  // A file part larger than a piece, holding near-delimiters, sent before the path field.
  std::string payload;
  for (int i = 0; payload.size() < 3 * 1024 * 1024; ++i) {
    payload += "\r\n--b0undar" + std::to_string(i) + std::string(1, static_cast<char>(i & 0xFF));
  }
  std::string body = "preamble\r\n" + FormField(boundary, "file", payload, "f.bin") +
                     FormField(boundary, "path", "/streamed/f.bin") + FormField(boundary, "overwrite", "true") +
                     "--" + boundary + "--\r\nepilogue";
  for (size_t piece_size : {size_t{1} << 20, size_t{4093}, size_t{7}}) {
    std::vector<std::string> pieces;
    for (size_t offset = 0; offset < body.size(); offset += piece_size) pieces.push_back(body.substr(offset, piece_size));
    http::Request request;
    request.method = Method::kPost;
    request.path = request.target = "/api/2.0/dbfs/put";
    request.headers = {{"Authorization", "Bearer " + admin_token_},
                       {"Content-Type", "multipart/form-data; boundary=\"" + boundary + "\""}};
    request.body_reader = std::make_shared<PieceReader>(std::move(pieces));
    auto response = handler_(request);
    ASSERT_EQ(response.status, 200) << piece_size << ": " << response.body;
    EXPECT_EQ(std::filesystem::file_size(root_ + "/streamed/f.bin"), payload.size());
    EXPECT_TRUE(TempDir::ReadFile(root_ + "/streamed/f.bin") == payload) << piece_size;
  }
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/.tarn-tmp-uploads"));
}

TEST_F(DbfsRoutesTest, MultipartPutFieldsAndErrors) {
  const std::string boundary = "zz";
  auto put = [&](const std::string& body) {
    http::Request request;
    request.method = Method::kPost;
    request.path = request.target = "/api/2.0/dbfs/put";
    request.headers = {{"Authorization", "Bearer " + admin_token_},
                       {"Content-Type", "multipart/form-data; boundary=" + boundary}};
    request.body_reader = std::make_shared<PieceReader>(std::vector<std::string>{body});
    return handler_(request);
  };
  const std::string end = "--" + boundary + "--\r\n";
  // Base64 `contents` field (no filename) is decoded.
  ASSERT_EQ(put(FormField(boundary, "path", "/mpf/a.txt") + FormField(boundary, "contents", Base64Encode("hi!")) + end)
                .status,
            200);
  EXPECT_EQ(ReadAll("/mpf/a.txt"), "hi!");
  // No data part: an empty file; existing file without overwrite: refused, content kept.
  ASSERT_EQ(put(FormField(boundary, "path", "/mpf/empty") + end).status, 200);
  EXPECT_EQ(ReadAll("/mpf/empty"), "");
  EXPECT_EQ(ErrorCodeOf(put(FormField(boundary, "path", "/mpf/a.txt") + FormField(boundary, "file", "new", "x") + end)),
            "RESOURCE_ALREADY_EXISTS");
  EXPECT_EQ(ReadAll("/mpf/a.txt"), "hi!");
  // Missing path, truncated body, oversized base64 block: errors, and nothing left behind.
  EXPECT_EQ(ErrorCodeOf(put(FormField(boundary, "file", "x", "x") + end)), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(put(FormField(boundary, "path", "/mpf/t") + FormField(boundary, "file", "abc", "x"))),
            "MALFORMED_REQUEST");
  EXPECT_EQ(ErrorCodeOf(put(FormField(boundary, "path", "/mpf/big") +
                            FormField(boundary, "contents", Base64Encode(std::string(1048577, 'x'))) + end)),
            "MAX_BLOCK_SIZE_EXCEEDED");
  EXPECT_EQ(Get("get-status?path=/mpf/t").status, 404);
  EXPECT_EQ(Get("get-status?path=/mpf/big").status, 404);
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/.tarn-tmp-uploads"));
}

TEST_F(DbfsRoutesTest, JsonPutThroughTheStreamingRoute) {
  http::Request request;
  request.method = Method::kPost;
  request.path = request.target = "/api/2.0/dbfs/put";
  request.headers = {{"Authorization", "Bearer " + admin_token_}};
  std::string body = json{{"path", "/js/a"}, {"contents", Base64Encode("json body")}}.dump();
  request.body_reader = std::make_shared<PieceReader>(
      std::vector<std::string>{body.substr(0, 5), body.substr(5, 9), body.substr(14)});
  ASSERT_EQ(handler_(request).status, 200);
  EXPECT_EQ(ReadAll("/js/a"), "json body");
}

TEST_F(DbfsRoutesTest, ListAnswerIsValidJsonForAnyName) {
  Put("/names/plain.txt", "1");
  Put("/names/quote\"back\\slash", "22");
  Put("/names/caf\xC3\xA9 \xE2\x9C\x93", "333");
  ASSERT_EQ(Post("mkdirs", {{"path", "/names/sub"}}).status, 200);
  auto files = Json(Get("list?path=/names"))["files"];
  ASSERT_EQ(files.size(), 4u);
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f["path"].get<std::string>());
  EXPECT_EQ(paths, (std::vector<std::string>{"/names/caf\xC3\xA9 \xE2\x9C\x93", "/names/plain.txt",
                                             "/names/quote\"back\\slash", "/names/sub"}));
  EXPECT_EQ(files[0]["file_size"].get<int64_t>(), 3);
  EXPECT_FALSE(files[0]["is_dir"].get<bool>());
  EXPECT_TRUE(files[3]["is_dir"].get<bool>());
  EXPECT_EQ(files[3]["file_size"].get<int64_t>(), 0);
  EXPECT_GT(files[1]["modification_time"].get<int64_t>(), 1'000'000'000'000);
  // An empty directory lists as an empty array.
  EXPECT_EQ(Json(Get("list?path=/names/sub"))["files"].size(), 0u);
}

TEST_F(DbfsRoutesTest, LargeListStreamsTheSameAnswer) {
  // More entries than one piece of the answer (1,024), so it streams; one name needs escaping, a link is hidden.
  std::vector<std::string> expected;
  for (int i = 0; i < 2500; ++i) {
    std::string name = "f" + std::to_string(100000 + (i * 7919) % 2500);
    TempDir::WriteFile(root_ + "/big/" + name, std::string(static_cast<size_t>(i % 11), 'b'));
    expected.push_back("/big/" + name);
  }
  TempDir::WriteFile(root_ + "/big/q\"uote", "q");
  expected.push_back("/big/q\"uote");
  ASSERT_EQ(Post("mkdirs", {{"path", "/big/sub"}}).status, 200);
  expected.push_back("/big/sub");
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(::symlink("/", (root_ + "/big/zlink").c_str()), 0);

  auto response = Get("list?path=/big");
  ASSERT_EQ(response.status, 200);
  ASSERT_TRUE(response.producer);
  EXPECT_EQ(response.Header("Content-Type"), "application/json");
  std::string body;
  int pieces = 0;
  while (true) {
    std::string piece;
    auto more = response.producer(piece);
    ASSERT_TRUE(more.has_value()) << more.status().ToString();
    body += piece;
    ++pieces;
    if (!*more) break;
  }
  EXPECT_GE(pieces, 3);
  auto parsed = json::parse(body, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << body.substr(0, 200);
  auto files = parsed["files"];
  ASSERT_EQ(files.size(), expected.size());
  auto listed = dbfs_->List("/big");
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(files[i]["path"], expected[i]);
    EXPECT_EQ(files[i]["is_dir"], (*listed)[i].is_dir);
    EXPECT_EQ(files[i]["file_size"], (*listed)[i].size);
    EXPECT_EQ(files[i]["modification_time"], (*listed)[i].modification_time_millis);
  }
  // The same text as one whole answer would have: no spaces, fields in the documented order.
  std::string whole = "{\"files\":[";
  for (size_t i = 0; i < listed->size(); ++i) {
    const auto& info = (*listed)[i];
    if (i != 0) whole += ',';
    whole += "{\"path\":" + json(info.path).dump();
    whole += fmt::format(",\"is_dir\":{},\"file_size\":{},\"modification_time\":{}}}", info.is_dir ? "true" : "false",
                         info.size, info.modification_time_millis);
  }
  whole += "]}";
  EXPECT_EQ(body, whole);
  // A listing that fits one piece is a plain answer with a length.
  auto small = Get("list?path=/big/sub");
  EXPECT_FALSE(small.producer);
  EXPECT_EQ(small.body, "{\"files\":[]}");
}

TEST_F(DbfsRoutesTest, MkdirsRules) {
  ASSERT_EQ(Post("mkdirs", {{"path", "/a/b/c"}}).status, 200);
  ASSERT_EQ(Post("mkdirs", {{"path", "dbfs:/a/b"}}).status, 200);
  EXPECT_TRUE(Json(Get("get-status?path=/a/b/c"))["is_dir"].get<bool>());
  Put("/a/file", "x");
  auto blocked = Post("mkdirs", {{"path", "/a/file/sub"}});
  EXPECT_EQ(blocked.status, 400);
  EXPECT_EQ(ErrorCodeOf(blocked), "RESOURCE_ALREADY_EXISTS");
}

TEST_F(DbfsRoutesTest, CreateAddBlockClose) {
  auto created = Post("create", {{"path", "/up/file"}, {"overwrite", false}});
  ASSERT_EQ(created.status, 200) << created.body;
  int64_t handle = Json(created)["handle"].get<int64_t>();
  ASSERT_EQ(Post("add-block", {{"handle", handle}, {"data", Base64Encode("part1-")}}).status, 200);
  ASSERT_EQ(Post("add-block", {{"handle", handle}, {"data", Base64Encode("part2")}}).status, 200);
  // Not visible before close.
  EXPECT_EQ(ErrorCodeOf(Get("get-status?path=/up/file")), "RESOURCE_DOES_NOT_EXIST");
  ASSERT_EQ(Post("close", {{"handle", handle}}).status, 200);
  EXPECT_EQ(ReadAll("/up/file"), "part1-part2");
  // The handle is spent.
  EXPECT_EQ(ErrorCodeOf(Post("add-block", {{"handle", handle}, {"data", ""}})), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(ErrorCodeOf(Post("close", {{"handle", handle}})), "RESOURCE_DOES_NOT_EXIST");
  // Exists without overwrite.
  EXPECT_EQ(ErrorCodeOf(Post("create", {{"path", "/up/file"}})), "RESOURCE_ALREADY_EXISTS");
  EXPECT_EQ(ErrorCodeOf(Post("create", {{"path", "/up"}, {"overwrite", true}})), "RESOURCE_ALREADY_EXISTS");
  // Overwrite replaces at close.
  int64_t second = Json(Post("create", {{"path", "/up/file"}, {"overwrite", true}}))["handle"].get<int64_t>();
  ASSERT_EQ(Post("add-block", {{"handle", second}, {"data", Base64Encode("new")}}).status, 200);
  EXPECT_EQ(ReadAll("/up/file"), "part1-part2");
  ASSERT_EQ(Post("close", {{"handle", second}}).status, 200);
  EXPECT_EQ(ReadAll("/up/file"), "new");
}

TEST_F(DbfsRoutesTest, HandleErrors) {
  EXPECT_EQ(ErrorCodeOf(Post("add-block", {{"handle", 987654}, {"data", ""}})), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(ErrorCodeOf(Post("close", {{"handle", 987654}})), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(ErrorCodeOf(Post("close", json::object())), "INVALID_PARAMETER_VALUE");
  int64_t handle = Json(Post("create", {{"path", "/h"}}))["handle"].get<int64_t>();
  auto big = Post("add-block", {{"handle", handle}, {"data", Base64Encode(std::string((1 << 20) + 1, 'z'))}});
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(ErrorCodeOf(big), "MAX_BLOCK_SIZE_EXCEEDED");
  EXPECT_EQ(ErrorCodeOf(Post("add-block", {{"handle", handle}, {"data", "%%%"}})), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Post("add-block", {{"handle", handle}})), "INVALID_PARAMETER_VALUE");
  // The handle survives failed blocks; another user's token cannot use it.
  auto other = users_->Create("other@example.com", "Other");
  ASSERT_TRUE(other.has_value()) << other.status().ToString();
  auto other_token = tokens_->Create(other->id, std::nullopt, "");
  ASSERT_TRUE(other_token.has_value());
  auto foreign = Call(Method::kPost, "/api/2.0/dbfs/close", json{{"handle", handle}}.dump(),
                      "Bearer " + other_token->token_value);
  EXPECT_EQ(ErrorCodeOf(foreign), "RESOURCE_DOES_NOT_EXIST");
  ASSERT_EQ(Post("close", {{"handle", handle}}).status, 200);
  EXPECT_EQ(Json(Get("get-status?path=/h"))["file_size"], 0);
}

TEST_F(DbfsRoutesTest, IdleHandlesExpire) {
  int64_t idle = Json(Post("create", {{"path", "/idle"}}))["handle"].get<int64_t>();
  int64_t busy = Json(Post("create", {{"path", "/busy"}}))["handle"].get<int64_t>();
  clock_ms_ += 9 * 60 * 1000;
  ASSERT_EQ(Post("add-block", {{"handle", busy}, {"data", Base64Encode("x")}}).status, 200);
  clock_ms_ += 2 * 60 * 1000;  // idle: 11 minutes unused; busy: 2 minutes
  EXPECT_EQ(ErrorCodeOf(Post("add-block", {{"handle", idle}, {"data", ""}})), "RESOURCE_DOES_NOT_EXIST");
  ASSERT_EQ(Post("close", {{"handle", busy}}).status, 200);
  EXPECT_EQ(ErrorCodeOf(Get("get-status?path=/idle")), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/.tarn-tmp-uploads"));
}

TEST_F(DbfsRoutesTest, DeleteRules) {
  Put("/del/a", "1");
  Put("/del/sub/b", "2");
  auto refused = Post("delete", {{"path", "/del"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(ErrorCodeOf(refused), "IO_ERROR");
  EXPECT_EQ(Post("delete", {{"path", "/never-there"}}).status, 200);
  // 5 entries (a, b, sub, del... ) with a cap of 3 per call: PARTIAL_DELETE first, then done.
  auto partial = Post("delete", {{"path", "/del"}, {"recursive", true}});
  EXPECT_EQ(partial.status, 503);
  EXPECT_EQ(ErrorCodeOf(partial), "PARTIAL_DELETE");
  EXPECT_NE(Json(partial)["message"].get<std::string>().find("operation has deleted 3 files"), std::string::npos);
  ASSERT_EQ(Post("delete", {{"path", "/del"}, {"recursive", true}}).status, 200);
  EXPECT_EQ(ErrorCodeOf(Get("get-status?path=/del")), "RESOURCE_DOES_NOT_EXIST");
  Put("/single", "x");
  ASSERT_EQ(Post("delete", {{"path", "dbfs:/single"}}).status, 200);
  EXPECT_EQ(ErrorCodeOf(Get("get-status?path=/single")), "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(DbfsRoutesTest, MoveRules) {
  Put("/m/a", "A");
  Put("/m/b", "B");
  auto exists = Post("move", {{"source_path", "/m/a"}, {"destination_path", "/m/b"}});
  EXPECT_EQ(exists.status, 400);
  EXPECT_EQ(ErrorCodeOf(exists), "RESOURCE_ALREADY_EXISTS");
  ASSERT_EQ(Post("move", {{"source_path", "dbfs:/m"}, {"destination_path", "dbfs:/n/m2"}}).status, 200);
  EXPECT_EQ(ReadAll("/n/m2/a"), "A");
  EXPECT_EQ(ErrorCodeOf(Post("move", {{"source_path", "/n"}, {"destination_path", "/n/inner"}})),
            "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Post("move", {{"source_path", "/n"}})), "INVALID_PARAMETER_VALUE");
}

TEST_F(DbfsRoutesTest, TraversalNeverEscapesTheRoot) {
  std::string outside = dir_.path() + "/outside.txt";
  TempDir::WriteFile(outside, "outside");
  for (std::string path : {"/../outside.txt", "dbfs:/../outside.txt", "/x/../../outside.txt"}) {
    EXPECT_EQ(ErrorCodeOf(Get("read?path=" + path)), "INVALID_PARAMETER_VALUE") << path;
    EXPECT_EQ(ErrorCodeOf(Post("put", {{"path", path}, {"contents", ""}, {"overwrite", true}})),
              "INVALID_PARAMETER_VALUE")
        << path;
  }
  // Encoded dots are decoded once by the HTTP layer; a second encoding stays a literal name inside the root.
  ASSERT_EQ(Post("put", {{"path", "/%2e%2e/outside.txt"}, {"contents", Base64Encode("in")}}).status, 200);
  EXPECT_EQ(TempDir::ReadFile(outside), "outside");
  EXPECT_TRUE(std::filesystem::exists(root_ + "/%2e%2e/outside.txt"));
}

}  // namespace
}  // namespace tarn::api
