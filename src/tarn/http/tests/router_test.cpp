// SPDX-License-Identifier: Apache-2.0
// Tests for Router matching, precedence, 404/405, HEAD fallback and the exception barrier.
#include "tarn/http/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace tarn::http {
namespace {

Handler Echo(std::string name) {
  return [name](Request& request) {
    std::string body = name;
    for (const auto& [key, value] : request.path_params) body += "|" + key + "=" + value;
    return Response::Text(body);
  };
}

Response Send(const Router& router, Method method, std::string path) {
  Request request;
  request.method = method;
  request.path = std::move(path);
  request.target = request.path;
  return router.Dispatch(request);
}

TEST(RouterTest, MatchesLiteralsAndCaptures) {
  Router router;
  router.Add(Method::kGet, "/", Echo("root"));
  router.Add(Method::kGet, "/api/2.0/clusters/list", Echo("list"));
  router.Add(Method::kGet, "/api/2.0/jobs/{job_id}/runs/{run_id}", Echo("run"));
  router.Add(Method::kGet, "/api/2.0/fs/files{path...}", Echo("files"));
  router.Add(Method::kGet, "/static/{rest...}", Echo("static"));

  struct Case {
    std::string path;
    int status;
    std::string body;
  };
  const Case cases[] = {
      {"/", 200, "root"},
      {"/api/2.0/clusters/list", 200, "list"},
      {"/api/2.0/clusters/list/", 404, ""},
      {"/api/2.0/clusters", 404, ""},
      {"/api/2.0/jobs/7/runs/9", 200, "run|job_id=7|run_id=9"},
      {"/api/2.0/jobs//runs/9", 404, ""},  // a capture never matches an empty segment
      {"/api/2.0/jobs/7/runs/9/x", 404, ""},
      {"/api/2.0/fs/files/a/b", 200, "files|path=/a/b"},
      {"/api/2.0/fs/files", 200, "files|path="},
      {"/api/2.0/fs/files/", 200, "files|path=/"},
      {"/api/2.0/fs/filesx", 404, ""},
      {"/static/css/site.css", 200, "static|rest=/css/site.css"},
      {"/static", 200, "static|rest="},
      {"", 404, ""},
      {"relative", 404, ""},
  };
  for (const auto& c : cases) {
    Response response = Send(router, Method::kGet, c.path);
    EXPECT_EQ(response.status, c.status) << c.path;
    if (c.status == 200) {
      EXPECT_EQ(response.body, c.body) << c.path;
    }
  }
}

TEST(RouterTest, UnknownPathIsEndpointNotFound) {
  Router router;
  router.Add(Method::kGet, "/a", Echo("a"));
  Response response = Send(router, Method::kGet, "/b");
  EXPECT_EQ(response.status, 404);
  EXPECT_NE(response.body.find("\"ENDPOINT_NOT_FOUND\""), std::string::npos);
  EXPECT_EQ(response.Header("Content-Type"), "application/json");
}

TEST(RouterTest, LiteralBeatsCaptureRegardlessOfOrder) {
  for (bool literal_first : {true, false}) {
    Router router;
    if (literal_first) router.Add(Method::kGet, "/jobs/list", Echo("literal"));
    router.Add(Method::kGet, "/jobs/{id}", Echo("capture"));
    router.Add(Method::kGet, "/jobs/{rest...}", Echo("rest"));
    if (!literal_first) router.Add(Method::kGet, "/jobs/list", Echo("literal"));
    EXPECT_EQ(Send(router, Method::kGet, "/jobs/list").body, "literal");
    EXPECT_EQ(Send(router, Method::kGet, "/jobs/5").body, "capture|id=5");
    EXPECT_EQ(Send(router, Method::kGet, "/jobs/5/x").body, "rest|rest=/5/x");
  }
}

TEST(RouterTest, KnownPathOtherMethodIs405WithAllow) {
  Router router;
  router.Add(Method::kGet, "/items/{id}", Echo("get"));
  router.Add(Method::kDelete, "/items/{id}", Echo("delete"));
  router.Add(Method::kPost, "/other", Echo("post"));
  Response response = Send(router, Method::kPost, "/items/3");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Header("Allow"), "GET, DELETE, HEAD");
  EXPECT_NE(response.body.find("\"error_code\""), std::string::npos);
  EXPECT_EQ(Send(router, Method::kDelete, "/items/3").body, "delete|id=3");
}

TEST(RouterTest, MethodMatchBeatsMoreSpecificPathOfOtherMethod) {
  Router router;
  router.Add(Method::kPost, "/a/b", Echo("post-literal"));
  router.Add(Method::kGet, "/a/{x}", Echo("get-capture"));
  EXPECT_EQ(Send(router, Method::kGet, "/a/b").body, "get-capture|x=b");
  EXPECT_EQ(Send(router, Method::kPost, "/a/b").body, "post-literal");
}

TEST(RouterTest, HeadFallsBackToGetWithoutBody) {
  Router router;
  router.Add(Method::kGet, "/doc", Echo("hello"));
  Response response = Send(router, Method::kHead, "/doc");
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(response.Header("Content-Length"), "5");

  router.Add(Method::kHead, "/doc", [](Request&) { return Response::Text("", 204); });
  EXPECT_EQ(Send(router, Method::kHead, "/doc").status, 204);
}

TEST(RouterTest, HeadDropsProducer) {
  Router router;
  router.Add(Method::kGet, "/stream", [](Request&) {
    Response response;
    response.producer = [](std::string& out) -> Result<bool> {
      out += "x";
      return false;
    };
    return response;
  });
  Response response = Send(router, Method::kHead, "/stream");
  EXPECT_FALSE(response.producer);
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(response.Header("Transfer-Encoding"), "chunked");
  EXPECT_FALSE(response.Header("Content-Length").has_value());
}

TEST(RouterTest, ThrowingHandlerBecomes500) {
  Router router;
  router.Add(Method::kGet, "/throw", [](Request&) -> Response { throw std::runtime_error("boom"); });
  router.Add(Method::kGet, "/throw-int", [](Request&) -> Response { throw 42; });
  for (const char* path : {"/throw", "/throw-int"}) {
    Response response = Send(router, Method::kGet, path);
    EXPECT_EQ(response.status, 500) << path;
    EXPECT_NE(response.body.find("\"INTERNAL_ERROR\""), std::string::npos) << path;
  }
}

TEST(RouterTest, PathParamsReplacePreviousValues) {
  Router router;
  router.Add(Method::kGet, "/u/{name}", Echo("user"));
  Request request;
  request.method = Method::kGet;
  request.path = "/u/ann";
  request.path_params["stale"] = "x";
  Response response = router.Dispatch(request);
  EXPECT_EQ(response.body, "user|name=ann");
  EXPECT_EQ(request.path_params.size(), 1u);
}

TEST(RouterTest, StreamedBodyLimitFollowsTheChosenRoute) {
  Router router;
  router.AddStreaming(Method::kPut, "/files{path...}", Echo("upload"), 1000);
  router.Add(Method::kPut, "/files/special", Echo("special"));
  router.Add(Method::kPost, "/files{path...}", Echo("post"));
  EXPECT_EQ(router.StreamedBodyLimit(Method::kPut, "/files/a/b"), std::optional<uint64_t>(1000));
  EXPECT_EQ(router.StreamedBodyLimit(Method::kPut, "/files/special"), std::nullopt);  // the literal route wins
  EXPECT_EQ(router.StreamedBodyLimit(Method::kPost, "/files/a"), std::nullopt);
  EXPECT_EQ(router.StreamedBodyLimit(Method::kPut, "/other"), std::nullopt);
  // Dispatch is unchanged for streaming routes.
  EXPECT_EQ(Send(router, Method::kPut, "/files/a").body, "upload|path=/a");
}

}  // namespace
}  // namespace tarn::http
