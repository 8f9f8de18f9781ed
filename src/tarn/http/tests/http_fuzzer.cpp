// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes through the server's parse -> route -> serialise path (no sockets).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tarn/http/detail/raw_request.hpp"
#include "tarn/http/router.hpp"

namespace {

const tarn::http::Router& FuzzRouter() {
  static const auto* router = [] {
    auto* r = new tarn::http::Router();  // lives for the whole fuzzing process
    using tarn::http::Method;
    using tarn::http::Request;
    using tarn::http::Response;
    r->Add(Method::kGet, "/api/2.0/clusters/list", [](Request&) { return Response::Json("{}"); });
    r->Add(Method::kPost, "/api/2.0/sql/statements", [](Request& request) { return Response::Text(request.body); });
    r->Add(Method::kGet, "/api/2.0/jobs/{id}/runs/{run}",
           [](Request& request) { return Response::Text(request.path_params["id"] + request.path_params["run"]); });
    r->Add(Method::kGet, "/api/2.0/fs/files{path...}",
           [](Request& request) { return Response::Text(request.path_params["path"]); });
    r->Add(Method::kGet, "/q", [](Request& request) {
      std::string out;
      for (const auto& [key, value] : request.query) out += key + "=" + value + ";";
      return Response::Text(out);
    });
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tarn::http::ServerOptions options;
  options.max_header_bytes = 4096;
  options.max_body_bytes = 64 * 1024;
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  tarn::http::detail::ProcessRawRequest(
      raw, [](tarn::http::Request& request) { return FuzzRouter().Dispatch(request); }, options);
  tarn::http::JsonEscape(raw);
  auto decoded = tarn::http::ParseQueryString(raw);
  (void)decoded;
  return 0;
}
