// SPDX-License-Identifier: Apache-2.0
// Router: pattern parsing, most-specific-match selection, 404/405 answers, HEAD fallback and the exception barrier.
#include "tarn/http/router.hpp"

#include <algorithm>
#include <exception>
#include <string>

#include "tarn/base/logging.hpp"

namespace tarn::http {
namespace {

enum class SegmentKind { kLiteral = 0, kCapture = 1, kRest = 2 };

struct Segment {
  SegmentKind kind = SegmentKind::kLiteral;
  std::string text;  // literal text or capture name
};

// Splits "/a/b/" into {"a", "b", ""}; the leading slash is dropped. "/" gives {""}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(path.substr(start));
      break;
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

}  // namespace

struct Router::Route {
  Method method = Method::kGet;
  std::string pattern;
  std::vector<Segment> segments;
  Handler handler;
  std::optional<uint64_t> streamed_body_limit;  // set for AddStreaming routes

  // Matches `path`; on success fills `params` and returns true.
  bool Match(std::string_view path, std::map<std::string, std::string>& params) const {
    if (path.empty() || path.front() != '/') return false;
    std::map<std::string, std::string> captured;
    size_t pos = 1;  // just past the slash that starts the current segment
    for (size_t i = 0; i < segments.size(); ++i) {
      const Segment& segment = segments[i];
      if (segment.kind == SegmentKind::kRest) {
        // The rest keeps its leading slash: "/files{path...}" on "/files/a/b" gives "/a/b"; pos - 1 is that slash.
        captured[segment.text] = std::string(path.substr(pos - 1));
        params = std::move(captured);
        return true;
      }
      if (pos > path.size()) return false;
      size_t slash = path.find('/', pos);
      size_t end = slash == std::string_view::npos ? path.size() : slash;
      std::string_view part = path.substr(pos, end - pos);
      if (segment.kind == SegmentKind::kLiteral) {
        if (part != segment.text) return false;
      } else {
        if (part.empty()) return false;
        captured[segment.text] = std::string(part);
      }
      pos = end + 1;
    }
    if (pos <= path.size()) return false;  // path has more segments than the pattern
    params = std::move(captured);
    return true;
  }

  // True when this route is more specific than `other` (segment by segment: literal beats capture beats rest).
  bool MoreSpecificThan(const Route& other) const {
    size_t n = std::min(segments.size(), other.segments.size());
    for (size_t i = 0; i < n; ++i) {
      int a = static_cast<int>(segments[i].kind);
      int b = static_cast<int>(other.segments[i].kind);
      if (a != b) return a < b;
    }
    return segments.size() > other.segments.size();
  }
};

Router::Router() = default;
Router::~Router() = default;

void Router::Add(Method method, std::string_view pattern, Handler handler) {
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::string(pattern);
  route->handler = std::move(handler);
  // A pattern segment is either all literal, "{name}", or (last only) "{name...}". A rest capture glued to a literal
  // prefix, as in "/files{path...}", becomes a literal segment "files" followed by the rest capture.
  std::vector<std::string_view> parts = SplitPath(pattern);
  for (std::string_view part : parts) {
    size_t brace = part.find('{');
    if (brace != std::string_view::npos && part.size() > brace + 4 && part.substr(part.size() - 4) == "...}") {
      if (brace > 0) route->segments.push_back({SegmentKind::kLiteral, std::string(part.substr(0, brace))});
      route->segments.push_back({SegmentKind::kRest, std::string(part.substr(brace + 1, part.size() - brace - 5))});
      break;  // a rest capture is always last
    }
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      route->segments.push_back({SegmentKind::kCapture, std::string(part.substr(1, part.size() - 2))});
    } else {
      route->segments.push_back({SegmentKind::kLiteral, std::string(part)});
    }
  }
  routes_.push_back(std::move(route));
}

void Router::AddStreaming(Method method, std::string_view pattern, Handler handler, uint64_t max_body_bytes) {
  Add(method, pattern, std::move(handler));
  routes_.back()->streamed_body_limit = max_body_bytes;
}

std::optional<uint64_t> Router::StreamedBodyLimit(Method method, std::string_view path) const {
  const Route* best = nullptr;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (route->method != method || !route->Match(path, params)) continue;
    if (best == nullptr || route->MoreSpecificThan(*best)) best = route.get();
  }
  return best == nullptr ? std::nullopt : best->streamed_body_limit;
}

Response Router::Dispatch(Request& request) const {
  const Route* best = nullptr;
  const Route* best_get = nullptr;  // HEAD falls back to GET
  std::map<std::string, std::string> best_params;
  std::map<std::string, std::string> best_get_params;
  std::vector<Method> allowed;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!route->Match(request.path, params)) continue;
    bool seen = false;
    for (Method m : allowed) seen = seen || m == route->method;
    if (!seen) allowed.push_back(route->method);
    if (route->method == request.method) {
      if (best == nullptr || route->MoreSpecificThan(*best)) {
        best = route.get();
        best_params = std::move(params);
      }
    } else if (request.method == Method::kHead && route->method == Method::kGet) {
      if (best_get == nullptr || route->MoreSpecificThan(*best_get)) {
        best_get = route.get();
        best_get_params = std::move(params);
      }
    }
  }

  bool head_fallback = false;
  if (best == nullptr && best_get != nullptr) {
    best = best_get;
    best_params = std::move(best_get_params);
    head_fallback = true;
  }
  if (best == nullptr) {
    if (allowed.empty()) {
      return Response::Error(
          Error(ErrorCode::kEndpointNotFound, "no API found for '{} {}'", MethodName(request.method), request.path));
    }
    std::string allow;
    bool has_get = false;
    bool has_head = false;
    for (Method m : allowed) {
      has_get = has_get || m == Method::kGet;
      has_head = has_head || m == Method::kHead;
    }
    if (has_get && !has_head) allowed.push_back(Method::kHead);
    for (Method m : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += MethodName(m);
    }
    Response response = Response::Error(
        Error(ErrorCode::kMethodNotAllowed, "method {} not allowed for {}", MethodName(request.method), request.path));
    response.SetHeader("Allow", allow);
    return response;
  }

  request.path_params = std::move(best_params);
  Response response = InvokeHandler(best->handler, request);
  if (head_fallback) {
    if (!response.producer) {
      response.SetHeader("Content-Length", std::to_string(response.body.size()));
    } else if (!response.Header("Content-Length")) {
      response.SetHeader("Transfer-Encoding", "chunked");  // what the GET would use; the server sends no body
    }
    response.body.clear();
    response.producer = nullptr;
    response.file.reset();
  }
  return response;
}

Response InvokeHandler(const Handler& handler, Request& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    TARN_LOG_ERROR("http handler threw for {} {}: {}", MethodName(request.method), request.path, e.what());
  } catch (...) {
    TARN_LOG_ERROR("http handler threw a non-standard exception for {} {}", MethodName(request.method), request.path);
  }
  return Response::Error(
      Error(ErrorCode::kInternal, "internal error while handling {} {}", MethodName(request.method), request.path));
}

}  // namespace tarn::http
