// SPDX-License-Identifier: Apache-2.0
// Socket-free request processing over a byte buffer: the fuzz target and its regression tests drive it.
#pragma once

#include <string>
#include <string_view>

#include "tarn/http/router.hpp"
#include "tarn/http/server.hpp"

namespace tarn::http::detail {

/// Runs `raw` through the parser limits, request conversion, handler barrier and response serialisation a
/// connection uses, without sockets. Pipelined requests are handled in order until the input ends, a request is
/// incomplete (a connection would wait for more bytes), or a response closes the connection. Returns the bytes the
/// server would write; streamed bodies are produced up to a fixed number of pieces. Never throws.
std::string ProcessRawRequest(std::string_view raw, const Handler& handler, const ServerOptions& options);

}  // namespace tarn::http::detail
