// SPDX-License-Identifier: Apache-2.0
// Tests for the Files API routes (fs/files, fs/directories), driven through WithAuth + Router::Dispatch.
#include "tarn/api/files_routes.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "tarn/api/tests/api_test_env.hpp"
#include "tarn/storage/tests/dbfs_test_dir.hpp"
#include "tarn/base/crypto.hpp"
#include "tarn/http/server.hpp"

namespace tarn::api {
namespace {

using http::Method;
using storage::DbfsFileSystem;
using storage::TempDir;

// Percent-encodes a page token for a query string.
std::string PercentEncodeToken(const std::string& token) {
  std::string out;
  for (unsigned char c : token) {
    if (std::isalnum(c)) {
      out += static_cast<char>(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof(escaped), "%%%02X", c);
      out += escaped;
    }
  }
  return out;
}

class FilesRoutesTest : public ApiTestEnv {
 protected:
  FilesRoutesTest() : root_(dir_.path() + "/dbfs") {
    auto opened = DbfsFileSystem::Open(root_);
    EXPECT_TRUE(opened.has_value());
    dbfs_ = std::move(opened).value();
    RegisterFilesRoutes(router_, *dbfs_);
  }

  http::Response Send(Method method, const std::string& target, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request request;
    request.method = method;
    request.target = target;
    std::string path = target;
    size_t question = path.find('?');
    if (question != std::string::npos) {
      request.query = http::ParseQueryString(std::string_view(path).substr(question + 1)).value();
      path.resize(question);
    }
    request.path = path;
    request.body = std::move(body);
    request.headers = std::move(headers);
    request.headers.emplace_back("Authorization", "Bearer " + admin_token_);
    return handler_(request);
  }

  // Drains a (possibly streamed) body.
  static std::string BodyOf(http::Response& response) {
    if (!response.producer) return response.body;
    std::string out;
    while (true) {
      std::string piece;
      auto more = response.producer(piece);
      EXPECT_TRUE(more.has_value());
      if (!more.has_value()) break;
      out += piece;
      if (!*more) break;
    }
    return out;
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<DbfsFileSystem> dbfs_;
};

TEST_F(FilesRoutesTest, RequiresAuthentication) {
  auto response = Call(Method::kGet, "/api/2.0/fs/files/Volumes/a", "", "");
  EXPECT_EQ(response.status, 401);
}

TEST_F(FilesRoutesTest, UploadDownloadRoundTrip) {
  std::string data = RandomBytes(3 * 1024 * 1024 + 17);  // more than one download piece
  auto put = Send(Method::kPut, "/api/2.0/fs/files/Volumes/main/default/vol/data.bin", data);
  ASSERT_EQ(put.status, 204) << put.body;
  auto get = Send(Method::kGet, "/api/2.0/fs/files/Volumes/main/default/vol/data.bin");
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.Header("Content-Type").value_or(""), "application/octet-stream");
  EXPECT_TRUE(get.Header("Last-Modified").has_value());
  EXPECT_EQ(BodyOf(get), data);
  // The same tree as DBFS.
  auto info = dbfs_->GetStatus("dbfs:/Volumes/main/default/vol/data.bin");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, static_cast<int64_t>(data.size()));
}

TEST_F(FilesRoutesTest, HeadGivesMetadataOnly) {
  ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/files/f.txt", "12345").status, 204);
  auto head = Send(Method::kHead, "/api/2.0/fs/files/f.txt");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length").value_or(""), "5");
  EXPECT_TRUE(head.body.empty());
  EXPECT_FALSE(head.producer);
  EXPECT_EQ(Send(Method::kHead, "/api/2.0/fs/files/missing").status, 404);
}

TEST_F(FilesRoutesTest, RangeReads) {
  ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/files/r.txt", "0123456789").status, 204);
  struct Case {
    const char* range;
    int status;
    const char* body;
    const char* content_range;
  };
  for (const Case& c : {Case{"bytes=2-5", 206, "2345", "bytes 2-5/10"}, Case{"bytes=7-", 206, "789", "bytes 7-9/10"},
                        Case{"bytes=-3", 206, "789", "bytes 7-9/10"}, Case{"bytes=8-100", 206, "89", "bytes 8-9/10"},
                        Case{"bytes=0-0", 206, "0", "bytes 0-0/10"},
                        Case{"bytes=1-2,4-5", 200, "0123456789", ""},  // several ranges: whole file
                        Case{"items=1-2", 200, "0123456789", ""}, Case{"bytes=5-2", 200, "0123456789", ""}}) {
    auto response = Send(Method::kGet, "/api/2.0/fs/files/r.txt", "", {{"Range", c.range}});
    EXPECT_EQ(response.status, c.status) << c.range;
    EXPECT_EQ(BodyOf(response), c.body) << c.range;
    EXPECT_EQ(response.Header("Content-Range").value_or(""), c.content_range) << c.range;
  }
  for (const char* range : {"bytes=10-", "bytes=-0", "bytes=100-200"}) {
    auto response = Send(Method::kGet, "/api/2.0/fs/files/r.txt", "", {{"Range", range}});
    EXPECT_EQ(response.status, 416) << range;
    EXPECT_EQ(response.Header("Content-Range").value_or(""), "bytes */10") << range;
  }
}

TEST_F(FilesRoutesTest, DownloadsCarryTheFileForSendfile) {
  std::string data = "0123456789";
  ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/files/f.txt", data).status, 204);
  struct Case {
    const char* range;
    uint64_t offset;
    uint64_t length;
  };
  for (const Case& c : {Case{"", 0, 10}, Case{"bytes=2-5", 2, 4}, Case{"bytes=-3", 7, 3}, Case{"bytes=9-", 9, 1}}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (*c.range) headers.emplace_back("Range", c.range);
    auto response = Send(Method::kGet, "/api/2.0/fs/files/f.txt", "", headers);
    ASSERT_TRUE(response.file.has_value()) << c.range;
    EXPECT_EQ(response.file->offset, c.offset) << c.range;
    EXPECT_EQ(response.file->length, c.length) << c.range;
    EXPECT_EQ(response.Header("Content-Length").value_or(""), std::to_string(c.length)) << c.range;
    // The descriptor holds exactly the bytes the producer fallback would send.
    std::string via_fd(c.length, '\0');
    EXPECT_EQ(::pread(response.file->fd, via_fd.data(), c.length, static_cast<off_t>(c.offset)),
              static_cast<ssize_t>(c.length));
    EXPECT_EQ(via_fd, data.substr(c.offset, c.length)) << c.range;
    EXPECT_EQ(BodyOf(response), via_fd) << c.range;
  }
  EXPECT_FALSE(Send(Method::kHead, "/api/2.0/fs/files/f.txt").file.has_value());
}

TEST_F(FilesRoutesTest, DirectoryPagesCoverEveryEntryOnce) {
  std::filesystem::create_directories(root_ + "/many/zdir");
  std::vector<std::string> expected;
  for (int i = 0; i < 2345; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "f%05d", i);
    TempDir::WriteFile(root_ + "/many/" + name, "x");
    expected.push_back(name);
  }
  expected.push_back("zdir");
  ASSERT_EQ(::symlink("/etc", (root_ + "/many/g-link").c_str()), 0);  // never listed
  std::vector<std::string> names;
  std::vector<size_t> page_sizes;
  std::string token;
  while (true) {
    std::string target = "/api/2.0/fs/directories/many";
    if (!token.empty()) target += "?page_token=" + PercentEncodeToken(token);
    auto page = Json(Send(Method::kGet, target));
    page_sizes.push_back(page["contents"].size());
    for (const auto& entry : page["contents"]) names.push_back(entry["name"].get<std::string>());
    if (!page.contains("next_page_token")) break;
    token = page["next_page_token"].get<std::string>();
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{1000, 1000, 346}));
  EXPECT_EQ(names, expected);
}

TEST_F(FilesRoutesTest, OverwriteFlag) {
  ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/files/o", "one").status, 204);
  ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/files/o", "two").status, 204);  // default: overwrite
  auto refused = Send(Method::kPut, "/api/2.0/fs/files/o?overwrite=false", "three");
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(ErrorCodeOf(refused), "RESOURCE_ALREADY_EXISTS");
  auto get = Send(Method::kGet, "/api/2.0/fs/files/o");
  EXPECT_EQ(BodyOf(get), "two");
  EXPECT_EQ(Send(Method::kPut, "/api/2.0/fs/files/o?overwrite=maybe", "x").status, 400);
  ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/files/p?overwrite=false", "new").status, 204);
}

TEST_F(FilesRoutesTest, MissingParentsAreCreatedButFilesBlockThem) {
  ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/files/a/b/c/d.txt", "x").status, 204);
  EXPECT_TRUE(dbfs_->GetStatus("/a/b/c").value().is_dir);
  auto blocked = Send(Method::kPut, "/api/2.0/fs/files/a/b/c/d.txt/e", "x");
  EXPECT_EQ(blocked.status, 409);
  auto on_dir = Send(Method::kPut, "/api/2.0/fs/files/a/b", "x");
  EXPECT_EQ(on_dir.status, 409);
}

TEST_F(FilesRoutesTest, DeleteFile) {
  ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/files/d/x", "x").status, 204);
  EXPECT_EQ(Send(Method::kDelete, "/api/2.0/fs/files/d/x").status, 204);
  auto again = Send(Method::kDelete, "/api/2.0/fs/files/d/x");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(ErrorCodeOf(again), "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(Send(Method::kDelete, "/api/2.0/fs/files/d").status, 400);  // a directory
  EXPECT_EQ(Send(Method::kGet, "/api/2.0/fs/files/d").status, 404);     // not a file
}

TEST_F(FilesRoutesTest, DirectoriesCreateListPageDelete) {
  ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/directories/Volumes/c/s/v/dir/sub").status, 204);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Send(Method::kPut, "/api/2.0/fs/files/Volumes/c/s/v/dir/f" + std::to_string(i), "abc").status, 204);
  }
  EXPECT_EQ(Send(Method::kHead, "/api/2.0/fs/directories/Volumes/c/s/v/dir").status, 200);
  EXPECT_EQ(Send(Method::kHead, "/api/2.0/fs/directories/Volumes/c/s/v/none").status, 404);
  EXPECT_EQ(Send(Method::kHead, "/api/2.0/fs/directories/Volumes/c/s/v/dir/f1").status, 404);

  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    std::string target = "/api/2.0/fs/directories/Volumes/c/s/v/dir?page_size=2";
    if (!token.empty()) target += "&page_token=" + token;
    auto response = Send(Method::kGet, target);
    ASSERT_EQ(response.status, 200) << response.body;
    auto body = Json(response);
    ASSERT_LE(body["contents"].size(), 2u);
    for (const auto& entry : body["contents"]) {
      names.push_back(entry["name"].get<std::string>());
      if (entry["name"] == "sub") {
        EXPECT_TRUE(entry["is_directory"].get<bool>());
        EXPECT_EQ(entry["path"], "/Volumes/c/s/v/dir/sub/");
        EXPECT_FALSE(entry.contains("file_size"));
      } else {
        EXPECT_FALSE(entry["is_directory"].get<bool>());
        EXPECT_EQ(entry["file_size"], 3);
        EXPECT_TRUE(entry["last_modified"].is_number_integer());
      }
    }
    token = body.contains("next_page_token") ? body["next_page_token"].get<std::string>() : "";
    // Tokens are base64 and may hold '+' or '/'; encode them for the query string.
    std::string escaped;
    for (char c : token) {
      if (c == '+') escaped += "%2B";
      else if (c == '/') escaped += "%2F";
      else if (c == '=') escaped += "%3D";
      else escaped += c;
    }
    token = escaped;
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"f0", "f1", "f2", "f3", "f4", "sub"}));

  auto not_empty = Send(Method::kDelete, "/api/2.0/fs/directories/Volumes/c/s/v/dir");
  EXPECT_EQ(not_empty.status, 400);
  EXPECT_EQ(ErrorCodeOf(not_empty), "DIRECTORY_NOT_EMPTY");
  EXPECT_EQ(Send(Method::kDelete, "/api/2.0/fs/directories/Volumes/c/s/v/dir/sub").status, 204);
  EXPECT_EQ(Send(Method::kDelete, "/api/2.0/fs/directories/Volumes/c/s/v/dir/sub").status, 404);
  EXPECT_EQ(Send(Method::kGet, "/api/2.0/fs/directories/Volumes/c/s/v/missing").status, 404);
  EXPECT_EQ(Send(Method::kGet, "/api/2.0/fs/directories/Volumes/c/s/v/dir?page_size=-1").status, 400);
  EXPECT_EQ(Send(Method::kPut, "/api/2.0/fs/directories/Volumes/c/s/v/dir/f0/x").status, 409);
}

TEST_F(FilesRoutesTest, TraversalAndSymlinksStayInside) {
  std::string outside = dir_.path() + "/outside";
  std::filesystem::create_directories(outside);
  TempDir::WriteFile(outside + "/secret", "secret");
  // The HTTP layer has already decoded %2e%2e into "..".
  for (std::string target : {"/api/2.0/fs/files/../outside/secret", "/api/2.0/fs/files/a/../../outside/secret"}) {
    EXPECT_EQ(Send(Method::kGet, target).status, 400) << target;
    EXPECT_EQ(Send(Method::kPut, target, "pwned").status, 400) << target;
  }
  EXPECT_EQ(TempDir::ReadFile(outside + "/secret"), "secret");
  ASSERT_EQ(::symlink(outside.c_str(), (root_ + "/escape").c_str()), 0);
  EXPECT_EQ(Send(Method::kGet, "/api/2.0/fs/files/escape/secret").status, 403);
  EXPECT_EQ(Send(Method::kPut, "/api/2.0/fs/files/escape/new", "x").status, 403);
  EXPECT_EQ(Send(Method::kGet, "/api/2.0/fs/directories/escape").status, 403);
  EXPECT_FALSE(std::filesystem::exists(outside + "/new"));
}

// Hands out a body in fixed pieces, optionally failing after some of them, as the server's reader would.
class PieceReader final : public http::BodyReader {
 public:
  PieceReader(std::vector<std::string> pieces, bool fail_at_end) : pieces_(std::move(pieces)), fail_(fail_at_end) {}
  Result<bool> Read(std::string& out) override {
    out.clear();
    if (next_ == pieces_.size()) {
      if (fail_) return Error(ErrorCode::kConnectionFailure, "client went away");
      return false;
    }
    out = pieces_[next_++];
    return fail_ || next_ < pieces_.size();
  }

 private:
  std::vector<std::string> pieces_;
  bool fail_;
  size_t next_ = 0;
};

TEST_F(FilesRoutesTest, UploadReadsAStreamedBody) {
  http::Request request;
  request.method = Method::kPut;
  request.path = request.target = "/api/2.0/fs/files/streamed/file.bin";
  request.headers.emplace_back("Authorization", "Bearer " + admin_token_);
  request.body_reader = std::make_shared<PieceReader>(std::vector<std::string>{"abc", "", "defg"}, false);
  auto response = handler_(request);
  ASSERT_EQ(response.status, 204) << response.body;
  auto get = Send(Method::kGet, "/api/2.0/fs/files/streamed/file.bin");
  EXPECT_EQ(BodyOf(get), "abcdefg");

  // A body that breaks off publishes nothing and leaves no staging file.
  request.path = request.target = "/api/2.0/fs/files/streamed/broken.bin";
  request.body_reader = std::make_shared<PieceReader>(std::vector<std::string>{"partial"}, true);
  auto broken = handler_(request);
  EXPECT_EQ(broken.status, 503);
  EXPECT_EQ(Send(Method::kHead, "/api/2.0/fs/files/streamed/broken.bin").status, 404);
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/.tarn-tmp-uploads"));
}

// Uploads through a real server, whose streamed reader splices a Content-Length body socket -> pipe -> staging file.
class FilesServerTest : public FilesRoutesTest {
 protected:
  void SetUp() override {
    http::ServerOptions options;
    options.port = 0;
    options.read_timeout = std::chrono::milliseconds(2000);
    options.streamed_body_limit = [this](Method method, std::string_view path) {
      return router_.StreamedBodyLimit(method, path);
    };
    auto server = http::Server::Create(options, [this](http::Request& request) { return handler_(request); });
    ASSERT_TRUE(server.has_value());
    server_ = std::move(server).value();
    server_->Start();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // Sends `head` + `body` on a fresh connection, then (with `close_early`) shuts the sending side down; returns the
  // status code of the answer, or 0 when the connection ends without one.
  int Upload(const std::string& path, const std::string& body, uint64_t content_length, bool close_early = false) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    std::string message = "PUT /api/2.0/fs/files" + path + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                          admin_token_ + "\r\nContent-Length: " + std::to_string(content_length) + "\r\n\r\n" + body;
    std::string_view rest = message;
    while (!rest.empty()) {
      ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      rest.remove_prefix(static_cast<size_t>(n));
    }
    if (close_early) ::shutdown(fd, SHUT_WR);
    std::string reply;
    char buffer[4096];
    while (reply.find("\r\n") == std::string::npos) {
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      reply.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    if (reply.size() < 12 || !reply.starts_with("HTTP/1.1 ")) return 0;
    return std::stoi(reply.substr(9, 3));
  }

  std::string ReadFile(const std::string& relative) {
    std::ifstream in(root_ + relative, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  std::unique_ptr<http::Server> server_;
};

TEST_F(FilesServerTest, SplicedUploadIsByteExact) {
  std::string data = RandomBytes(24 * 1024 * 1024 + 4097);  // several splice pieces and an unaligned tail
  ASSERT_EQ(Upload("/spliced/big.bin", data, data.size()), 204);
  EXPECT_TRUE(ReadFile("/spliced/big.bin") == data);
  // Overwriting with a small body gives exactly the new bytes.
  ASSERT_EQ(Upload("/spliced/big.bin", "tiny", 4), 204);
  EXPECT_EQ(ReadFile("/spliced/big.bin"), "tiny");
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/.tarn-tmp-uploads"));
}

TEST_F(FilesServerTest, ShortSplicedBodyPublishesNothing) {
  std::string data = RandomBytes(3 * 1024 * 1024);
  // The client stops 1000 bytes short of its Content-Length and closes its side.
  EXPECT_NE(Upload("/spliced/short.bin", data, data.size() + 1000, /*close_early=*/true), 204);
  EXPECT_FALSE(std::filesystem::exists(root_ + "/spliced/short.bin"));
  // An existing file is left as it was by a failed overwrite.
  ASSERT_EQ(Upload("/spliced/kept.bin", "original", 8), 204);
  EXPECT_NE(Upload("/spliced/kept.bin", data, data.size() + 1000, /*close_early=*/true), 204);
  EXPECT_EQ(ReadFile("/spliced/kept.bin"), "original");
  // The reader's error reaches the handler before the test looks: no staging file remains.
  for (int i = 0; i < 100 && !std::filesystem::is_empty(root_ + "/.tarn-tmp-uploads"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/.tarn-tmp-uploads"));
}

TEST_F(FilesRoutesTest, UploadRouteIsStreaming) {
  EXPECT_EQ(router_.StreamedBodyLimit(Method::kPut, "/api/2.0/fs/files/Volumes/a/b"),
            std::optional<uint64_t>(uint64_t{5} << 30));
  EXPECT_EQ(router_.StreamedBodyLimit(Method::kPut, "/api/2.0/fs/directories/a"), std::nullopt);
}

TEST_F(FilesRoutesTest, EmptyPathIsRefused) {
  EXPECT_EQ(Send(Method::kGet, "/api/2.0/fs/files").status, 400);
  EXPECT_EQ(Send(Method::kPut, "/api/2.0/fs/files/", "x").status, 400);
}

}  // namespace
}  // namespace tarn::api
