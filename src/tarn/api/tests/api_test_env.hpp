// SPDX-License-Identifier: Apache-2.0
// Test fixture for the api module: identity services on an in-memory store, the routes, the auth middleware.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "tarn/api/auth.hpp"
#include "tarn/api/identity_routes.hpp"
#include "tarn/identity/bootstrap.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"

namespace tarn::api {

/// Everything a request needs, wired as the server wires it; requests go through WithAuth and Router::Dispatch.
class ApiTestEnv : public ::testing::Test {
 protected:
  static constexpr int64_t kStartMillis = 1'700'000'000'000;

  ApiTestEnv() {
    auto opened = meta::SqliteMetaStore::Open(":memory:");
    EXPECT_TRUE(opened.has_value()) << opened.status().ToString();
    store_ = std::move(opened).value();
    identity::Clock clock = [this] { return now_.load(); };
    users_ = std::make_unique<identity::UserStore>(*store_, clock);
    identity::TokenServiceOptions options;
    options.clock = clock;
    tokens_ = std::make_unique<identity::TokenService>(*store_, options);
    auto boot = identity::Bootstrap(*users_, *tokens_, "");
    EXPECT_TRUE(boot.has_value()) << boot.status().ToString();
    admin_ = boot->admin;
    admin_token_ = boot->admin_token;
    RegisterIdentityRoutes(router_, *tokens_, *users_);
    handler_ = WithAuth(*tokens_, [this](http::Request& request) { return router_.Dispatch(request); });
  }

  http::Response Call(http::Method method, std::string path, std::string body = "",
                      std::string authorization = "USE_ADMIN") {
    http::Request request;
    request.method = method;
    size_t question = path.find('?');
    request.target = path;
    if (question != std::string::npos) {
      auto query = http::ParseQueryString(std::string_view(path).substr(question + 1));
      EXPECT_TRUE(query.has_value());
      if (query.has_value()) request.query = *query;
      path.resize(question);
    }
    request.path = path;
    request.body = std::move(body);
    if (authorization == "USE_ADMIN") authorization = "Bearer " + admin_token_;
    if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
    return handler_(request);
  }

  static nlohmann::json Json(const http::Response& response) {
    auto parsed = nlohmann::json::parse(response.body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << response.body;
    return parsed;
  }

  static std::string ErrorCodeOf(const http::Response& response) {
    auto body = Json(response);
    if (!body.is_object() || !body.contains("error_code")) return "<none>";
    EXPECT_TRUE(body.contains("message")) << response.body;
    return body["error_code"].get<std::string>();
  }

  std::unique_ptr<meta::SqliteMetaStore> store_;
  std::atomic<int64_t> now_{kStartMillis};
  std::unique_ptr<identity::UserStore> users_;
  std::unique_ptr<identity::TokenService> tokens_;
  identity::User admin_;
  std::string admin_token_;
  http::Router router_;
  http::Handler handler_;
};

}  // namespace tarn::api
