// SPDX-License-Identifier: Apache-2.0
// Router: maps a method and a path pattern to a handler.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/http/message.hpp"

namespace tarn::http {

using Handler = std::function<Response(Request& request)>;

/// Runs `handler` as an exception barrier: an exception is logged and becomes a 500 INTERNAL_ERROR response.
Response InvokeHandler(const Handler& handler, Request& request);

/// Routes requests by method and path pattern. Patterns are literal segments, "{name}" (one segment) and a final
/// "{name...}" (the rest of the path, possibly empty, with its leading slash). Literal routes win over captures.
/// Add() is not thread-safe; Dispatch() is safe for concurrent use once routes are added.
class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  void Add(Method method, std::string_view pattern, Handler handler);
  /// Like Add, but the server does not buffer the request body: the handler runs as soon as the header is in and
  /// reads the body through Request::body_reader, at most `max_body_bytes` of it (ServerOptions::max_body_bytes
  /// does not apply). Needs ServerOptions::streamed_body_limit pointing at StreamedBodyLimit.
  void AddStreaming(Method method, std::string_view pattern, Handler handler, uint64_t max_body_bytes);
  /// Returns the body limit when the route Dispatch would pick for `method` and `path` is a streaming one.
  std::optional<uint64_t> StreamedBodyLimit(Method method, std::string_view path) const;
  /// Runs the matching handler. Unknown path: 404 ENDPOINT_NOT_FOUND; known path, other method: 405. A handler
  /// that throws becomes a 500 INTERNAL_ERROR (the dispatcher is an exception barrier).
  Response Dispatch(Request& request) const;

 private:
  struct Route;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace tarn::http
