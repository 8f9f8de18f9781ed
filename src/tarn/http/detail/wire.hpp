// SPDX-License-Identifier: Apache-2.0
// Module-private glue between Beast messages and Request/Response, shared by the server sessions and the fuzz path.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "tarn/http/message.hpp"
#include "tarn/http/server.hpp"

namespace tarn::http::detail {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// Applies the header and body limits of `options` to a fresh parser.
void ConfigureParser(RequestParser& parser, const ServerOptions& options);

/// Returns true when the parsed header asks for "100 Continue" before the client sends its body.
bool WantsContinue(const BeastRequest& header);

/// The interim response written before the body of an `Expect: 100-continue` request is read.
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

/// Converts a complete Beast request into a Request (decoded path, query pairs, headers, body). Fails with
/// kMalformedRequest on a bad percent-escape or a NUL byte in the path.
Result<Request> ToRequest(BeastRequest&& message, std::string remote_address);

/// Maps a read/parse error to the error response sent before closing: 431 for header_limit, 413 for body_limit,
/// 400 for other protocol errors. Returns nullopt for transport errors (EOF, reset, timeout): just close.
std::optional<Response> ParseErrorResponse(const boost::beast::error_code& ec, const ServerOptions& options);

/// How the body of a prepared response goes out.
/// kStreamedLength: a producer whose handler declared Content-Length; the pieces go out raw and must add up to it.
enum class BodyFraming { kNone, kContentLength, kChunked, kStreamedLength, kUntilClose };

struct PreparedResponse {
  std::string head;  // status line and header fields, ending in the blank line
  BodyFraming framing = BodyFraming::kContentLength;
  bool keep_alive = false;
  uint64_t content_length = 0;  // for kStreamedLength
};

/// Serialises the status line and headers of `response` for a request of HTTP `version` (10 or 11): drops unsafe
/// handler headers, adds Date, Server, Connection and the framing header. `head_request` suppresses the body but
/// keeps the framing headers a GET would get.
PreparedResponse PrepareResponse(const Response& response, unsigned version, bool keep_alive, bool head_request);

/// Returns the chunk-size line ("1f4\r\n") that precedes a chunk of `size` bytes.
std::string ChunkSizeLine(size_t size);
inline constexpr std::string_view kChunkEnd = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

/// Runs a producer as an exception barrier: a throw becomes a kInternal error.
Result<bool> RunProducer(const BodyProducer& producer, std::string& out);

}  // namespace tarn::http::detail
