// SPDX-License-Identifier: Apache-2.0
// ProcessRawRequest: the connection's parse -> convert -> dispatch -> serialise path over an in-memory buffer.
#include "tarn/http/detail/raw_request.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "tarn/http/detail/wire.hpp"

namespace tarn::http::detail {
namespace {

// Bounds the streamed output so a fuzz input cannot make an endless producer run forever.
constexpr int kMaxStreamedPieces = 64;

// Appends `response` as the server would write it; returns whether the connection stays open.
bool AppendResponse(std::string& out, Response& response, unsigned version, bool keep_alive, bool head_request) {
  PreparedResponse prepared = PrepareResponse(response, version, keep_alive, head_request);
  out += prepared.head;
  switch (prepared.framing) {
    case BodyFraming::kNone:
      break;
    case BodyFraming::kContentLength:
      out += response.body;
      break;
    case BodyFraming::kChunked:
    case BodyFraming::kStreamedLength:
    case BodyFraming::kUntilClose: {
      bool chunked = prepared.framing == BodyFraming::kChunked;
      uint64_t remaining = prepared.content_length;
      for (int i = 0; i < kMaxStreamedPieces; ++i) {
        std::string piece;
        Result<bool> more = RunProducer(response.producer, piece);
        if (!more.ok()) return false;  // the connection would be closed mid-body
        if (prepared.framing == BodyFraming::kStreamedLength) {
          if (piece.size() > remaining || (!*more && piece.size() != remaining)) return false;
          remaining -= piece.size();
        }
        if (chunked && !piece.empty()) {
          out += ChunkSizeLine(piece.size());
          out += piece;
          out += kChunkEnd;
        } else if (!chunked) {
          out += piece;
        }
        if (!*more) {
          if (chunked) out += kLastChunk;
          return prepared.keep_alive;
        }
      }
      return false;
    }
  }
  return prepared.keep_alive;
}

}  // namespace

std::string ProcessRawRequest(std::string_view raw, const Handler& handler, const ServerOptions& options) {
  std::string out;
  size_t offset = 0;
  while (offset < raw.size()) {
    RequestParser parser;
    ConfigureParser(parser, options);
    parser.eager(true);
    boost::beast::error_code ec;
    bool continue_sent = false;
    while (!parser.is_done()) {
      size_t used = parser.put(boost::asio::buffer(raw.data() + offset, raw.size() - offset), ec);
      offset += used;
      if (ec == boost::beast::http::error::need_more) return out;  // incomplete: a connection would keep reading
      if (ec) break;
      if (parser.is_header_done() && !parser.is_done() && !continue_sent && WantsContinue(parser.get())) {
        out += kContinueResponse;
        continue_sent = true;
      }
      if (used == 0 && !parser.is_done()) return out;
    }
    if (ec) {
      std::optional<Response> error = ParseErrorResponse(ec, options);
      if (error) AppendResponse(out, *error, 11, /*keep_alive=*/false, /*head_request=*/false);
      return out;
    }
    unsigned version = parser.get().version();
    bool keep_alive = parser.get().keep_alive();
    bool head_request = parser.get().method() == boost::beast::http::verb::head;
    Result<Request> request = ToRequest(parser.release(), "fuzz");
    Response response = request.ok() ? InvokeHandler(handler, *request) : Response::Error(request.error());
    if (!AppendResponse(out, response, version, keep_alive, head_request)) return out;
  }
  return out;
}

}  // namespace tarn::http::detail
