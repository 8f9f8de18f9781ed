// SPDX-License-Identifier: Apache-2.0
// The HTTP/1.1 server: acceptor and I/O threads on Asio, one strand-bound Session per connection, handlers on a
// separate worker pool.
#include "tarn/http/server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <cerrno>
#include <cstring>

#include "tarn/base/logging.hpp"
#include "tarn/http/detail/wire.hpp"

namespace tarn::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

// Bytes asked for by the read that waits for the first byte of a request.
constexpr size_t kFirstReadBytes = 4096;
// A Content-Length body is written in pieces of this size so the write timeout bounds inactivity, not total time.
constexpr size_t kWritePieceBytes = 1 << 20;
// After an error response the server stops sending and discards client bytes for at most this long before
// closing, so the client reads the response instead of getting a reset.
constexpr std::chrono::milliseconds kLingerTimeout{2000};
// After Stop() force-closes connections it waits at most this long for the close handlers to run.
constexpr std::chrono::milliseconds kCloseWait{2000};
// Size of a streamed request body piece handed to BodyReader::Read: each piece is filled completely (or ends the
// body), so a handler thread hop is paid per MiB rather than per socket read.
constexpr size_t kStreamedPieceBytes = 1 << 20;
// A Content-Length body a handler takes with ReadInto moves socket -> pipe -> file with splice(2) in pieces of up
// to this size (one handler thread hop each), through a pipe of kSplicePipeBytes (fewer when the system caps it).
constexpr uint64_t kSplicedPieceBytes = 8 << 20;
constexpr size_t kSplicePipeBytes = 1 << 20;
// Largest single sendfile(2) call, so one download cannot hold an I/O thread for long.
constexpr size_t kSendfileBytes = 4 << 20;
// Unsent bytes a file body may leave queued in the socket (see Session::SetFileLowat).
constexpr size_t kFileNotSentLowat = 128 << 10;
// A file body is read ahead (posix_fadvise WILLNEED) this far beyond the send position, in steps of kReadAheadStep.
constexpr uint64_t kReadAheadWindow = 32 << 20;
constexpr uint64_t kReadAheadStep = 8 << 20;
// How often a handler blocked in BodyReader::Read checks whether the server stopped running I/O.
constexpr std::chrono::milliseconds kStreamedReadPoll{200};
// Back-off after a failed accept (for example EMFILE) so the acceptor does not spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

class ServerImpl;

// One client connection. Every member function runs on the connection's strand (the socket's executor); the
// handler and body producer run on the worker pool and hand their results back through the strand.
//
// Request flow: WaitForRequest (idle) -> ReadHeader -> [100 Continue] -> ReadBody* -> Dispatch (pool) ->
// SendResponse -> WriteFixed | WriteStreamed* -> FinishResponse -> WaitForRequest or Linger/Close.
// Streaming routes: ReadHeader -> DispatchStreamed (pool), whose BodyReader pulls ReadStreamedPiece* (strand)
// -> FinishStreamedRequest -> SendResponse -> ... A Content-Length body is read with plain non-blocking recv(2)
// calls straight into the piece buffer (ReadRawPiece), waiting for readiness only when the socket is drained; a
// chunked one goes through Beast's parser. A response with a FileBody goes out with sendfile(2) (SendFileNext).
// Those raw socket phases are guarded by a coarse inactivity watchdog (StartWatch) rather than a timer per call.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerImpl& server, tcp::socket socket, uint64_t id);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  uint64_t id() const { return id_; }
  void Start();
  // Closes the connection when it is not in the middle of a request (Stop() phase one). Strand only.
  void CloseIfIdle();
  // Closes the connection whatever it is doing (Stop() phase two). Strand only.
  void Close();
  const beast::tcp_stream::executor_type& strand() const { return strand_; }
  // Reads the next piece of a streamed request body and calls `done` with it (on the strand). Strand only.
  // `buffer` is recycled storage for the piece (its capacity is reused). With `file_fd` >= 0 a Content-Length body
  // is spliced straight into that file instead and `spliced` counts those bytes; whatever `piece` still carries
  // (a chunked body, splice unsupported) is for the caller to write after them.
  using PieceCallback = std::function<void(Result<bool> more, std::string piece, uint64_t spliced)>;
  void ReadStreamedPiece(std::string buffer, int file_fd, PieceCallback done);

 private:
  void WaitForRequest();
  void OnFirstBytes(const beast::error_code& ec, size_t bytes);
  void ReadHeader();
  void OnHeader(const beast::error_code& ec);
  void ReadBody();
  void OnBody(const beast::error_code& ec);
  void OnReadError(const beast::error_code& ec);
  // Shared start of OnHeader/OnBody: returns true when the read completion was fully handled (session closed,
  // read error answered, or the complete request dispatched).
  bool FinishedAfterRead(const beast::error_code& ec);
  void Dispatch();
  // Starts the handler of a streaming route before the body is read; returns false when the route buffers.
  bool DispatchStreamed();
  void ReadPiece();
  void ReadRawPiece();
  void SpliceRawPiece();
  /// Waits until the socket is readable, then calls `next` (a closed session or a failed wait fails the piece).
  void ResumeWhenReadable(void (Session::*next)());
  Status DrainPipe(size_t bytes);
  void ClosePipe();
  void DeliverPiece(Result<bool> more);
  void FailPiece(Status status);
  bool BodyUnfinished() const;
  void FinishStreamedRequest(Response response);
  void SendFileNext();
  void SetFileLowat(bool on);
  // Inactivity watchdog for raw socket phases: Close() once `timeout` passes with no Progress() while watching.
  enum class Watch { kNone, kRead, kWrite };
  void StartWatch(Watch kind, std::chrono::milliseconds timeout);
  void StopWatch() { watch_ = Watch::kNone; }
  void Progress() { watch_since_ = std::chrono::steady_clock::now(); }
  void ArmWatchdog(std::chrono::steady_clock::time_point deadline);
  void SendResponse(Response response);
  void WriteFixed();
  void ProduceNext();
  void OnPiece(std::string piece, Result<bool> more);
  void FinishResponse();
  void Linger();
  void SetInFlight(bool in_flight);

  ServerImpl& server_;
  const uint64_t id_;
  beast::tcp_stream stream_;
  const beast::tcp_stream::executor_type strand_;
  std::string remote_address_;
  beast::flat_buffer buffer_;
  std::optional<detail::RequestParser> parser_;
  // A streamed request body: the header parser converted to one that writes into stream_piece_.
  std::optional<bhttp::request_parser<bhttp::buffer_body>> stream_parser_;
  std::string stream_piece_;
  size_t piece_filled_ = 0;
  PieceCallback piece_done_;
  bool body_read_pending_ = false;  // a ReadStreamedPiece has not delivered yet
  bool raw_body_ = false;           // the streamed body is a Content-Length body read with recv(2)
  uint64_t raw_remaining_ = 0;      // its bytes not yet read
  int splice_fd_ = -1;              // the file the pending piece goes to (ReadStreamedPiece's file_fd)
  uint64_t piece_spliced_ = 0;      // bytes of the pending piece already written to splice_fd_
  std::array<int, 2> pipe_{-1, -1};  // socket -> pipe -> file; empty between pieces
  bool splice_unsupported_ = false;  // splice(2) refused: copy through the piece buffer
  std::optional<Response> deferred_response_;  // the handler finished while a piece read was pending
  net::steady_timer watchdog_;
  Watch watch_ = Watch::kNone;
  std::chrono::milliseconds watch_timeout_{0};
  std::chrono::steady_clock::time_point watch_since_;
  std::optional<std::chrono::steady_clock::time_point> watchdog_deadline_;  // when the armed timer fires
  uint64_t watchdog_generation_ = 0;
  bool continue_pending_ = false;  // "100 Continue" is owed before the first streamed body read
  bool first_request_ = true;
  bool lingering_ = false;  // the last response is written; discarding input until the client closes
  bool in_flight_ = false;  // a request has started arriving and its response is not yet written
  bool closed_ = false;
  // Per request.
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_request_ = false;
  // Per response.
  std::string out_head_;
  std::string out_body_;
  size_t body_offset_ = 0;
  std::string chunk_line_;
  BodyProducer producer_;
  std::optional<FileBody> file_;  // a response body sent with sendfile(2)
  bool file_started_ = false;     // some of file_ is on the wire (no fallback to the producer any more)
  uint64_t file_readahead_ = 0;   // file offset up to which read-ahead of file_ was requested
  detail::BodyFraming framing_ = detail::BodyFraming::kNone;
  uint64_t stream_remaining_ = 0;  // kStreamedLength: bytes the producer still owes
  std::array<char, 4096> discard_{};
};

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& options, Handler handler)
      : options_(options),
        handler_(std::move(handler)),
        acceptor_(net::make_strand(ioc_)),
        accept_timer_(acceptor_.get_executor()) {
    int workers = options_.num_worker_threads;
    if (workers <= 0) workers = std::max(4, 2 * static_cast<int>(std::thread::hardware_concurrency()));
    pool_ = std::make_unique<net::thread_pool>(static_cast<size_t>(workers));
  }

  ~ServerImpl() override { Stop(std::chrono::milliseconds(0)); }

  Status Bind() {
    boost::system::error_code ec;
    auto address = net::ip::make_address(options_.bind_address, ec);
    if (ec) return Error(ErrorCode::kInvalidParameterValue, "invalid bind address: {}", options_.bind_address);
    tcp::endpoint endpoint(address, options_.port);
    std::string where = fmt::format("{}:{}", options_.bind_address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec == net::error::address_in_use)
      return Error(ErrorCode::kConnectionFailure, "address already in use: {}", where);
    if (ec) return Error(ErrorCode::kConnectionFailure, "cannot listen on {}: {}", where, ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return Error(ErrorCode::kConnectionFailure, "cannot read the bound port of {}: {}", where, ec.message());
    return Status::OK();
  }

  uint16_t port() const override { return port_; }

  void Start() override {
    std::lock_guard lock(mu_);
    if (started_ || stop_called_) return;
    started_ = true;
    // Keeps run() going while a request sits in a handler with no socket operation pending.
    work_.emplace(ioc_.get_executor());
    net::post(acceptor_.get_executor(), [this] { Accept(); });
    int num_threads = std::max(1, options_.num_threads);
    for (int i = 0; i < num_threads; ++i) threads_.emplace_back([this] { RunIoThread(); });
  }

  void Stop(std::chrono::milliseconds grace) override {
    bool started;
    {
      std::lock_guard lock(mu_);
      if (stop_called_) return;
      stop_called_ = true;
      stopping_ = true;
      started = started_;
    }
    if (!started) {
      boost::system::error_code ec;
      acceptor_.close(ec);
      pool_->join();
      return;
    }
    net::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      accept_timer_.cancel();
    });
    for (const auto& session : LiveSessions()) {
      net::post(session->strand(), [session] { session->CloseIfIdle(); });
    }
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, grace, [this] { return in_flight_ == 0; });
    }
    auto remaining = LiveSessions();
    auto closes_left = std::make_shared<std::atomic<size_t>>(remaining.size());
    for (const auto& session : remaining) {
      net::post(session->strand(), [this, session, closes_left] {
        session->Close();
        if (closes_left->fetch_sub(1) == 1) {
          std::lock_guard lock(mu_);
          cv_.notify_all();
        }
      });
    }
    remaining.clear();
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kCloseWait, [&] { return closes_left->load() == 0; });
    }
    work_.reset();
    io_stopped_ = true;
    ioc_.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    // Handlers still running finish here; queued ones are dropped (their connections are already closed).
    pool_->stop();
    pool_->join();
  }

  // Session-facing interface.
  const ServerOptions& options() const { return options_; }
  net::thread_pool& pool() { return *pool_; }
  Response Invoke(Request& request) { return InvokeHandler(handler_, request); }
  // True once the I/O threads are being stopped: work posted to a strand may never run after this.
  bool io_stopped() const { return io_stopped_; }
  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }
  void AdjustInFlight(int delta) {
    std::lock_guard lock(mu_);
    in_flight_ += delta;
    if (in_flight_ == 0) cv_.notify_all();
  }
  void Unregister(uint64_t id) {
    std::lock_guard lock(mu_);
    sessions_.erase(id);
  }

 private:
  void RunIoThread() {
    // Thread entry point barrier: a stray exception is logged and the loop resumes.
    while (true) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        TARN_LOG_ERROR("http I/O thread caught exception: {}", e.what());
      } catch (...) {
        TARN_LOG_ERROR("http I/O thread caught a non-standard exception");
      }
    }
  }

  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](const boost::system::error_code& ec, tcp::socket socket) {
      OnAccept(ec, std::move(socket));
    });
  }

  void OnAccept(const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      TARN_LOG_WARN("http accept failed: {}", ec.message());
      accept_timer_.expires_after(kAcceptRetryDelay);
      accept_timer_.async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec && acceptor_.is_open()) Accept();
      });
      return;
    }
    boost::system::error_code option_ec;
    socket.set_option(tcp::no_delay(true), option_ec);
    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        session = std::make_shared<Session>(*this, std::move(socket), next_session_id_++);
        sessions_[session->id()] = session;
      }
    }
    if (session) session->Start();
    Accept();
  }

  std::vector<std::shared_ptr<Session>> LiveSessions() {
    std::vector<std::shared_ptr<Session>> live;
    std::lock_guard lock(mu_);
    for (auto& [id, weak] : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
    return live;
  }

  // Declaration order is destruction order in reverse: the pool (whose queued tasks hold sessions) goes before
  // the io_context, and both go before the mutex and registry that session destructors touch.
  const ServerOptions options_;
  const Handler handler_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;  // guarded by mu_
  uint64_t next_session_id_ = 1;                                   // guarded by mu_
  int in_flight_ = 0;                                              // guarded by mu_
  bool started_ = false;                                           // guarded by mu_
  bool stop_called_ = false;                                       // guarded by mu_
  bool stopping_ = false;                                          // guarded by mu_
  uint16_t port_ = 0;
  std::atomic<bool> io_stopped_{false};
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_timer_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::unique_ptr<net::thread_pool> pool_;
  std::vector<std::thread> threads_;
};

// BodyReader of a streaming route: each Read asks the session's strand for one piece and waits for it on the
// handler's (worker) thread. After a piece is handed over, the next one is already requested (one piece of
// read-ahead), so the socket read overlaps the handler's work on the previous piece; memory stays at two pieces and
// the client is still slowed to the handler's pace. Piece buffers are recycled between the handler and the session.
class StreamedBodyReader final : public BodyReader {
 public:
  StreamedBodyReader(std::weak_ptr<Session> session, ServerImpl& server)
      : session_(std::move(session)), server_(server) {}

  Result<bool> Read(std::string& out) override {
    if (finished_) {
      out.clear();
      return false;
    }
    std::string spare = std::move(out);
    out.clear();
    if (!pending_) {
      pending_ = Request(std::move(spare), -1);
      spare = std::string();
    }
    Result<Outcome> outcome = Wait();
    if (!outcome.ok()) return outcome.error();
    out = std::move(outcome->piece);
    if (!finished_) pending_ = Request(std::move(spare), -1);  // read ahead into the buffer handed back
    return !finished_;
  }

  // No read-ahead here: the file must not be written once the handler has moved on (and may have closed it).
  Result<bool> ReadInto(int fd, uint64_t& moved) override {
    moved = 0;
    if (finished_) return false;
    if (!pending_) pending_ = Request(std::string(), fd);  // else a read-ahead piece of Read is in flight
    Result<Outcome> outcome = Wait();
    if (!outcome.ok()) return outcome.error();
    moved = outcome->spliced;
    std::string_view rest = outcome->piece;
    while (!rest.empty()) {
      ssize_t n = ::write(fd, rest.data(), rest.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        finished_ = true;
        return Error(ErrorCode::kIoError, "writing the request body failed: {}", std::strerror(errno));
      }
      rest.remove_prefix(static_cast<size_t>(n));
      moved += static_cast<uint64_t>(n);
    }
    return !finished_;
  }

 private:
  struct Outcome {
    Result<bool> more;
    std::string piece;
    uint64_t spliced = 0;
  };

  // Waits for pending_ and consumes it; sets finished_ on errors and at the end of the body.
  Result<Outcome> Wait() {
    while (pending_->wait_for(kStreamedReadPoll) != std::future_status::ready) {
      // Once the I/O threads stop, the posted read may never run; poll so a handler cannot block shutdown.
      if (server_.io_stopped()) {
        finished_ = true;
        pending_.reset();
        return Error(ErrorCode::kCancelled, "the server is shutting down");
      }
    }
    Outcome outcome = pending_->get();
    pending_.reset();
    if (!outcome.more.ok()) {
      finished_ = true;
      return outcome.more.error();
    }
    finished_ = !*outcome.more;
    return outcome;
  }

  std::future<Outcome> Request(std::string buffer, int file_fd) {
    auto promise = std::make_shared<std::promise<Outcome>>();
    std::future<Outcome> future = promise->get_future();
    std::shared_ptr<Session> session = session_.lock();
    if (!session) {
      promise->set_value(Outcome{Error(ErrorCode::kConnectionFailure, "the client connection is closed"), {}, 0});
      return future;
    }
    net::post(session->strand(), [session, promise, file_fd, buffer = std::move(buffer)]() mutable {
      session->ReadStreamedPiece(std::move(buffer), file_fd,
                                 [promise](Result<bool> more, std::string piece, uint64_t spliced) {
                                   promise->set_value(Outcome{std::move(more), std::move(piece), spliced});
                                 });
    });
    return future;
  }

  std::weak_ptr<Session> session_;
  ServerImpl& server_;
  std::optional<std::future<Outcome>> pending_;
  bool finished_ = false;
};

Session::Session(ServerImpl& server, tcp::socket socket, uint64_t id)
    : server_(server),
      id_(id),
      stream_(std::move(socket)),
      strand_(stream_.get_executor()),
      watchdog_(strand_) {
  boost::system::error_code ec;
  auto endpoint = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_address_ = endpoint.address().to_string();
  // recv(2) and sendfile(2) on the native handle must never block an I/O thread.
  stream_.socket().native_non_blocking(true, ec);
}

Session::~Session() {
  ClosePipe();
  if (in_flight_) server_.AdjustInFlight(-1);
  server_.Unregister(id_);
}

void Session::Start() {
  net::dispatch(strand_, [self = shared_from_this()] { self->WaitForRequest(); });
}

void Session::CloseIfIdle() {
  if (!in_flight_) Close();
}

void Session::Close() {
  if (closed_) return;
  closed_ = true;
  StopWatch();
  watchdog_.cancel();
  boost::system::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  SetInFlight(false);
}

void Session::SetInFlight(bool in_flight) {
  if (in_flight_ == in_flight) return;
  in_flight_ = in_flight;
  server_.AdjustInFlight(in_flight ? 1 : -1);
}

void Session::WaitForRequest() {
  if (closed_) return;
  if (server_.stopping()) {
    Close();
    return;
  }
  parser_.emplace();
  detail::ConfigureParser(*parser_, server_.options());
  // Beast checks Content-Length against the body limit while parsing the header, before the route is known; with
  // streaming routes the buffered limit is applied in OnHeader instead. (Beast 1.74 treats boost::none as "exceeded"
  // in that check, hence the maximum value rather than none.)
  if (server_.options().streamed_body_limit) parser_->body_limit(std::numeric_limits<uint64_t>::max());
  if (buffer_.size() > 0) {  // a pipelined request is already buffered
    SetInFlight(true);
    ReadHeader();
    return;
  }
  const ServerOptions& options = server_.options();
  stream_.expires_after(first_request_ ? options.read_timeout : options.idle_timeout);
  stream_.async_read_some(
      buffer_.prepare(kFirstReadBytes),
      [self = shared_from_this()](const beast::error_code& ec, size_t bytes) { self->OnFirstBytes(ec, bytes); });
}

void Session::OnFirstBytes(const beast::error_code& ec, size_t bytes) {
  if (closed_) return;
  if (ec) {  // EOF between requests, idle timeout, reset: nothing to answer
    Close();
    return;
  }
  buffer_.commit(bytes);
  SetInFlight(true);
  ReadHeader();
}

void Session::ReadHeader() {
  // One deadline for the whole header, so a client trickling header bytes (slowloris) is cut off.
  stream_.expires_after(server_.options().read_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](const beast::error_code& ec, size_t) { self->OnHeader(ec); });
}

void Session::OnHeader(const beast::error_code& ec) {
  if (FinishedAfterRead(ec)) return;
  if (DispatchStreamed()) return;
  if (server_.options().streamed_body_limit) {
    uint64_t max_body = server_.options().max_body_bytes;
    if (parser_->content_length().value_or(0) > max_body) {
      OnReadError(bhttp::error::body_limit);
      return;
    }
    parser_->body_limit(max_body);
  }
  if (detail::WantsContinue(parser_->get())) {
    stream_.expires_after(server_.options().write_timeout);
    net::async_write(stream_, net::buffer(detail::kContinueResponse.data(), detail::kContinueResponse.size()),
                     [self = shared_from_this()](const beast::error_code& write_ec, size_t) {
                       if (self->closed_) return;
                       if (write_ec) {
                         self->Close();
                         return;
                       }
                       self->ReadBody();
                     });
    return;
  }
  ReadBody();
}

// The body is read piece by piece with the read timeout re-armed per piece: an upload that keeps moving may take
// longer than read_timeout, one that stalls is cut off. This loop is where a streaming body sink would plug in.
void Session::ReadBody() {
  stream_.expires_after(server_.options().read_timeout);
  bhttp::async_read_some(stream_, buffer_, *parser_,
                         [self = shared_from_this()](const beast::error_code& ec, size_t) { self->OnBody(ec); });
}

void Session::OnBody(const beast::error_code& ec) {
  if (!FinishedAfterRead(ec)) ReadBody();
}

bool Session::FinishedAfterRead(const beast::error_code& ec) {
  if (closed_) return true;
  if (ec) {
    OnReadError(ec);
    return true;
  }
  if (parser_->is_done()) {
    Dispatch();
    return true;
  }
  return false;
}

void Session::OnReadError(const beast::error_code& ec) {
  std::optional<Response> response = detail::ParseErrorResponse(ec, server_.options());
  if (!response) {
    Close();
    return;
  }
  TARN_LOG_DEBUG("http bad request from {}: {}", remote_address_, ec.message());
  version_ = 11;
  keep_alive_ = false;
  head_request_ = false;
  SendResponse(std::move(*response));
}

void Session::Dispatch() {
  stream_.expires_never();
  const detail::BeastRequest& message = parser_->get();
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  head_request_ = message.method() == bhttp::verb::head;
  Result<Request> request = detail::ToRequest(parser_->release(), remote_address_);
  parser_.reset();
  if (!request.ok()) {
    SendResponse(Response::Error(request.error()));
    return;
  }
  net::post(server_.pool(), [self = shared_from_this(), request = std::move(*request)]() mutable {
    Response response = self->server_.Invoke(request);
    net::post(self->strand_,
              [self, response = std::move(response)]() mutable { self->SendResponse(std::move(response)); });
  });
}

bool Session::DispatchStreamed() {
  const auto& limit_for = server_.options().streamed_body_limit;
  if (!limit_for) return false;
  // The handler sees the header now; its body arrives through the reader.
  Result<Request> request = detail::ToRequest(detail::BeastRequest(parser_->get().base()), remote_address_);
  if (!request.ok()) return false;  // the buffered path answers the malformed request
  std::optional<uint64_t> limit = limit_for(request->method, request->path);
  if (!limit) return false;
  if (parser_->content_length().value_or(0) > *limit) {
    // Refused before the handler runs and before "100 Continue", as buffered bodies are.
    keep_alive_ = false;
    version_ = parser_->get().version();
    head_request_ = false;
    parser_.reset();
    SendResponse(Response::Error(Error(ErrorCode::kRequestTooLarge, "request body exceeds the limit of {} bytes",
                                       *limit)));
    return true;
  }
  const detail::BeastRequest& message = parser_->get();
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  head_request_ = false;
  continue_pending_ = detail::WantsContinue(message);
  // A Content-Length body bypasses the parser: exactly that many bytes follow the header.
  boost::optional<uint64_t> content_length = parser_->content_length();
  raw_body_ = !parser_->chunked() && content_length && *content_length > 0;
  raw_remaining_ = raw_body_ ? *content_length : 0;
  stream_parser_.emplace(std::move(*parser_));
  parser_.reset();
  stream_parser_->body_limit(*limit);
  stream_.expires_never();
  request->body_reader = std::make_shared<StreamedBodyReader>(weak_from_this(), server_);
  net::post(server_.pool(), [self = shared_from_this(), request = std::move(*request)]() mutable {
    Response response = self->server_.Invoke(request);
    request.body_reader.reset();
    net::post(self->strand_, [self, response = std::move(response)]() mutable {
      if (self->body_read_pending_) {
        // A read-ahead is still running on this socket; answer once it has delivered.
        self->deferred_response_ = std::move(response);
        return;
      }
      self->FinishStreamedRequest(std::move(response));
    });
  });
  return true;
}

bool Session::BodyUnfinished() const {
  if (raw_body_) return raw_remaining_ > 0;
  return stream_parser_ && !stream_parser_->is_done();
}

void Session::FinishStreamedRequest(Response response) {
  // A body the handler did not read to the end is still on the wire: it is discarded by the linger and the
  // connection closes, so it is never parsed as the next request.
  if (BodyUnfinished()) keep_alive_ = false;
  stream_parser_.reset();
  raw_body_ = false;
  raw_remaining_ = 0;
  continue_pending_ = false;
  SendResponse(std::move(response));
}

void Session::ReadStreamedPiece(std::string buffer, int file_fd, PieceCallback done) {
  if (closed_ || !stream_parser_) {
    done(Error(ErrorCode::kConnectionFailure, "the client connection is closed"), {}, 0);
    return;
  }
  if (!BodyUnfinished()) {
    done(false, {}, 0);
    return;
  }
  body_read_pending_ = true;
  splice_fd_ = file_fd;
  piece_spliced_ = 0;
  piece_done_ = std::move(done);
  stream_piece_ = std::move(buffer);
  stream_piece_.resize(kStreamedPieceBytes);
  piece_filled_ = 0;
  if (continue_pending_) {
    // Sent on the first read, so a handler that refuses the request never invites the body.
    continue_pending_ = false;
    stream_.expires_after(server_.options().write_timeout);
    net::async_write(stream_, net::buffer(detail::kContinueResponse.data(), detail::kContinueResponse.size()),
                     [self = shared_from_this()](const beast::error_code& ec, size_t) {
                       if (!self->closed_ && ec) self->Close();
                       self->stream_.expires_never();
                       self->ReadPiece();
                     });
    return;
  }
  ReadPiece();
}

void Session::ReadPiece() {
  if (closed_ || !stream_parser_) {
    FailPiece(Error(ErrorCode::kConnectionFailure, "the client connection is closed"));
    return;
  }
  if (raw_body_) {
    StartWatch(Watch::kRead, server_.options().read_timeout);
    if (splice_fd_ >= 0 && !splice_unsupported_) {
      SpliceRawPiece();
    } else {
      ReadRawPiece();
    }
    return;
  }
  auto& body = stream_parser_->get().body();
  body.data = stream_piece_.data();
  body.size = stream_piece_.size();
  stream_.expires_after(server_.options().read_timeout);
  bhttp::async_read(stream_, buffer_, *stream_parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->stream_.expires_never();
    if (self->closed_ || !self->stream_parser_) {
      self->FailPiece(Error(ErrorCode::kConnectionFailure, "the client connection is closed"));
      return;
    }
    if (ec == bhttp::error::need_buffer) ec = {};  // the piece buffer is full: not an error
    if (ec) {
      if (ec == bhttp::error::body_limit) {
        self->FailPiece(Error(ErrorCode::kRequestTooLarge, "request body exceeds the limit of this endpoint"));
      } else {
        self->FailPiece(Error(ErrorCode::kConnectionFailure, "reading the request body failed: {}", ec.message()));
      }
      return;
    }
    self->piece_filled_ = self->stream_piece_.size() - self->stream_parser_->get().body().size;
    self->DeliverPiece(!self->stream_parser_->is_done());
  });
}

// Fills the piece from bytes already buffered behind the header, then with recv(2) until the piece is full or the
// body ends; a drained socket waits for readiness (one reactor operation per drain, not per read).
void Session::ReadRawPiece() {
  if (closed_) {
    FailPiece(Error(ErrorCode::kConnectionFailure, "the client connection is closed"));
    return;
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(stream_piece_.size() - piece_filled_, raw_remaining_));
  if (want > 0 && buffer_.size() > 0) {
    size_t n = std::min(want, buffer_.size());
    std::memcpy(stream_piece_.data() + piece_filled_, buffer_.data().data(), n);
    buffer_.consume(n);
    piece_filled_ += n;
    raw_remaining_ -= n;
    want -= n;
  }
  const int fd = stream_.socket().native_handle();
  while (want > 0) {
    ssize_t n = ::recv(fd, stream_piece_.data() + piece_filled_, want, MSG_DONTWAIT);
    if (n > 0) {
      piece_filled_ += static_cast<size_t>(n);
      raw_remaining_ -= static_cast<uint64_t>(n);
      want -= static_cast<size_t>(n);
      Progress();
      continue;
    }
    if (n == 0) {
      FailPiece(Error(ErrorCode::kConnectionFailure, "the client closed the connection before the body ended"));
      return;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      ResumeWhenReadable(&Session::ReadRawPiece);
      return;
    }
    FailPiece(Error(ErrorCode::kConnectionFailure, "reading the request body failed: {}", std::strerror(err)));
    return;
  }
  DeliverPiece(raw_remaining_ > 0);
}

// Moves up to kSplicedPieceBytes of a Content-Length body into splice_fd_: bytes already buffered behind the header
// are written first, then socket -> pipe -> file with splice(2), so the body never passes through user space. Each
// socket splice is drained into the file before the next, so the pipe is empty between pieces. A drained socket
// waits for readiness as in ReadRawPiece; where splice(2) is refused the piece falls back to ReadRawPiece.
void Session::SpliceRawPiece() {
  if (closed_) {
    FailPiece(Error(ErrorCode::kConnectionFailure, "the client connection is closed"));
    return;
  }
  if (buffer_.size() > 0 && raw_remaining_ > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), raw_remaining_));
    std::string_view rest(static_cast<const char*>(buffer_.data().data()), n);
    while (!rest.empty()) {
      ssize_t w = ::write(splice_fd_, rest.data(), rest.size());
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        FailPiece(Error(ErrorCode::kIoError, "writing the request body failed: {}", std::strerror(errno)));
        return;
      }
      rest.remove_prefix(static_cast<size_t>(w));
    }
    buffer_.consume(n);
    raw_remaining_ -= n;
    piece_spliced_ += n;
  }
  if (pipe_[0] < 0) {
    if (::pipe2(pipe_.data(), O_NONBLOCK | O_CLOEXEC) != 0) {
      pipe_ = {-1, -1};
      splice_unsupported_ = true;
      ReadRawPiece();
      return;
    }
    (void)::fcntl(pipe_[1], F_SETPIPE_SZ, static_cast<int>(kSplicePipeBytes));  // a hint; the default also works
  }
  const int fd = stream_.socket().native_handle();
  while (raw_remaining_ > 0 && piece_spliced_ < kSplicedPieceBytes) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(raw_remaining_, kSplicePipeBytes));
    ssize_t n = ::splice(fd, nullptr, pipe_[1], nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      raw_remaining_ -= static_cast<uint64_t>(n);
      Progress();
      Status drained = DrainPipe(static_cast<size_t>(n));
      if (!drained.ok()) {
        FailPiece(std::move(drained));
        return;
      }
      piece_spliced_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) {
      FailPiece(Error(ErrorCode::kConnectionFailure, "the client closed the connection before the body ended"));
      return;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      ResumeWhenReadable(&Session::SpliceRawPiece);
      return;
    }
    if (err == EINVAL || err == ENOSYS) {
      // This socket cannot be spliced: the rest of the body is copied (the pipe is empty here).
      splice_unsupported_ = true;
      ReadRawPiece();
      return;
    }
    FailPiece(Error(ErrorCode::kConnectionFailure, "reading the request body failed: {}", std::strerror(err)));
    return;
  }
  DeliverPiece(raw_remaining_ > 0);
}

void Session::ResumeWhenReadable(void (Session::*next)()) {
  stream_.socket().async_wait(tcp::socket::wait_read,
                              [self = shared_from_this(), next](const boost::system::error_code& ec) {
                                if (self->closed_ || ec) {
                                  self->FailPiece(Error(ErrorCode::kConnectionFailure,
                                                        "reading the request body failed: {}",
                                                        ec ? ec.message() : "connection closed"));
                                  return;
                                }
                                ((*self).*next)();
                              });
}

// Moves `bytes` that are in the pipe into splice_fd_; a file that refuses splice(2) gets them through a buffer.
Status Session::DrainPipe(size_t bytes) {
  while (bytes > 0) {
    ssize_t n = ::splice(pipe_[0], nullptr, splice_fd_, nullptr, bytes, SPLICE_F_MOVE);
    if (n > 0) {
      bytes -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL) {
      ssize_t got = ::read(pipe_[0], discard_.data(), std::min(bytes, discard_.size()));
      if (got <= 0) return Error(ErrorCode::kIoError, "reading the body pipe failed");
      std::string_view rest(discard_.data(), static_cast<size_t>(got));
      while (!rest.empty()) {
        ssize_t w = ::write(splice_fd_, rest.data(), rest.size());
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return Error(ErrorCode::kIoError, "writing the request body failed: {}", std::strerror(errno));
        rest.remove_prefix(static_cast<size_t>(w));
      }
      bytes -= static_cast<size_t>(got);
      continue;
    }
    return Error(ErrorCode::kIoError, "writing the request body failed: {}",
                 n < 0 ? std::strerror(errno) : "no progress");
  }
  return Status::OK();
}

void Session::ClosePipe() {
  for (int& end : pipe_) {
    if (end >= 0) ::close(end);
    end = -1;
  }
}

void Session::FailPiece(Status status) {
  keep_alive_ = false;
  ClosePipe();  // may hold bytes of the failed body
  stream_parser_.reset();  // the body cannot be resumed
  raw_body_ = false;
  raw_remaining_ = 0;
  piece_filled_ = 0;
  DeliverPiece(std::move(status));
}

void Session::DeliverPiece(Result<bool> more) {
  StopWatch();
  body_read_pending_ = false;
  PieceCallback done = std::move(piece_done_);
  piece_done_ = nullptr;
  std::string piece = std::move(stream_piece_);
  stream_piece_ = std::string();
  piece.resize(more.ok() ? piece_filled_ : 0);
  uint64_t spliced = more.ok() ? piece_spliced_ : 0;
  splice_fd_ = -1;  // the handler owns the file again
  piece_spliced_ = 0;
  if (done) done(std::move(more), std::move(piece), spliced);
  if (deferred_response_) {
    Response response = std::move(*deferred_response_);
    deferred_response_.reset();
    FinishStreamedRequest(std::move(response));
  }
}

void Session::StartWatch(Watch kind, std::chrono::milliseconds timeout) {
  watch_ = kind;
  watch_timeout_ = timeout;
  Progress();
  auto deadline = watch_since_ + timeout;
  // An armed timer firing later than this deadline would miss it; one firing earlier re-arms itself.
  if (!watchdog_deadline_ || *watchdog_deadline_ > deadline) ArmWatchdog(deadline);
}

void Session::ArmWatchdog(std::chrono::steady_clock::time_point deadline) {
  uint64_t generation = ++watchdog_generation_;
  watchdog_deadline_ = deadline;
  watchdog_.expires_at(deadline);
  watchdog_.async_wait([self = shared_from_this(), generation](const boost::system::error_code&) {
    if (generation != self->watchdog_generation_) return;  // replaced by a nearer deadline
    self->watchdog_deadline_.reset();
    if (self->closed_ || self->watch_ == Watch::kNone) return;
    auto deadline = self->watch_since_ + self->watch_timeout_;
    if (std::chrono::steady_clock::now() < deadline) {
      self->ArmWatchdog(deadline);
      return;
    }
    TARN_LOG_DEBUG("http connection from {} inactive past its timeout; closing", self->remote_address_);
    self->Close();
  });
}

void Session::SendResponse(Response response) {
  if (closed_) return;
  detail::PreparedResponse prepared =
      detail::PrepareResponse(response, version_, keep_alive_ && !server_.stopping(), head_request_);
  keep_alive_ = prepared.keep_alive;
  out_head_ = std::move(prepared.head);
  body_offset_ = 0;
  switch (prepared.framing) {
    case detail::BodyFraming::kNone:
      out_body_.clear();
      WriteFixed();
      return;
    case detail::BodyFraming::kContentLength:
      out_body_ = std::move(response.body);
      WriteFixed();
      return;
    case detail::BodyFraming::kChunked:
    case detail::BodyFraming::kStreamedLength:
    case detail::BodyFraming::kUntilClose:
      framing_ = prepared.framing;
      stream_remaining_ = prepared.content_length;
      producer_ = std::move(response.producer);
      file_.reset();
      file_started_ = false;
      if (framing_ == detail::BodyFraming::kStreamedLength && response.file && response.file->fd >= 0 &&
          response.file->length == stream_remaining_) {
        file_ = std::move(response.file);
        file_readahead_ = file_->offset;
      }
      out_body_.clear();
      stream_.expires_after(server_.options().write_timeout);
      net::async_write(stream_, net::buffer(out_head_),
                       [self = shared_from_this()](const beast::error_code& ec, size_t) {
                         if (self->closed_) return;
                         if (ec) {
                           self->Close();
                           return;
                         }
                         if (self->file_) {
                           self->SetFileLowat(true);
                           self->stream_.expires_never();
                           self->StartWatch(Watch::kWrite, self->server_.options().write_timeout);
                           self->SendFileNext();
                         } else {
                           self->ProduceNext();
                         }
                       });
      return;
  }
}

// While a file body is sent, at most kFileNotSentLowat bytes wait unsent in the socket (TCP_NOTSENT_LOWAT): the
// server's sendfile(2) hands segments to the network itself as the peer's window opens, instead of queueing
// megabytes that the peer's own receive calls then transmit when they acknowledge (on loopback that moved most of
// the TCP work into the client's process: curl used 1.1-1.5 s of CPU per GB against 0.4-0.6 s with this).
void Session::SetFileLowat(bool on) {
  int value = on ? static_cast<int>(kFileNotSentLowat) : 0;  // 0: the system default again
  ::setsockopt(stream_.socket().native_handle(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &value, sizeof value);
}

// Sends file_ with sendfile(2) until the socket is full, then waits for it to drain. A file system without
// sendfile support falls back to the producer before the first byte; a file that shrank closes the connection.
void Session::SendFileNext() {
  if (closed_) return;
  const int sock = stream_.socket().native_handle();
  while (file_->length > 0) {
    // Keep kReadAheadWindow bytes ahead of the send position requested from the disk: a file that is not in the
    // page cache (one just written with O_DIRECT, say) is otherwise read in small synchronous steps.
    const uint64_t end = file_->offset + file_->length;
    while (file_readahead_ < end && file_readahead_ < file_->offset + kReadAheadWindow) {
      uint64_t step = std::min<uint64_t>(kReadAheadStep, end - file_readahead_);
      ::posix_fadvise(file_->fd, static_cast<off_t>(file_readahead_), static_cast<off_t>(step),
                      POSIX_FADV_WILLNEED);
      file_readahead_ += step;
    }
    off_t offset = static_cast<off_t>(file_->offset);
    size_t want = static_cast<size_t>(std::min<uint64_t>(file_->length, kSendfileBytes));
    ssize_t n = ::sendfile(sock, file_->fd, &offset, want);
    if (n > 0) {
      file_started_ = true;
      file_->offset += static_cast<uint64_t>(n);
      file_->length -= static_cast<uint64_t>(n);
      Progress();
      continue;
    }
    int err = n == 0 ? 0 : errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      stream_.socket().async_wait(tcp::socket::wait_write, [self = shared_from_this()](
                                                                const boost::system::error_code& ec) {
        if (self->closed_) return;
        if (ec) {
          self->Close();
          return;
        }
        self->SendFileNext();
      });
      return;
    }
    if (!file_started_ && (err == EINVAL || err == ENOSYS) && producer_) {
      StopWatch();
      file_.reset();
      SetFileLowat(false);
      ProduceNext();
      return;
    }
    if (err == 0) {
      TARN_LOG_ERROR("http file body for {} ended before its Content-Length; closing", remote_address_);
    } else {
      TARN_LOG_WARN("http sendfile to {} failed: {}", remote_address_, std::strerror(err));
    }
    Close();
    return;
  }
  StopWatch();
  file_.reset();
  SetFileLowat(false);
  FinishResponse();
}

void Session::WriteFixed() {
  size_t piece = std::min(kWritePieceBytes, out_body_.size() - body_offset_);
  std::array<net::const_buffer, 2> buffers = {net::buffer(out_head_),
                                              net::buffer(out_body_.data() + body_offset_, piece)};
  stream_.expires_after(server_.options().write_timeout);
  net::async_write(stream_, buffers, [self = shared_from_this(), piece](const beast::error_code& ec, size_t) {
    if (self->closed_) return;
    if (ec) {
      self->Close();
      return;
    }
    self->out_head_.clear();
    self->body_offset_ += piece;
    if (self->body_offset_ < self->out_body_.size()) {
      self->WriteFixed();
    } else {
      self->FinishResponse();
    }
  });
}

// The producer may block (it may be pulling rows from a query), so it runs on the worker pool; each piece is
// written from the strand before the next one is asked for, which also gives back-pressure.
void Session::ProduceNext() {
  stream_.expires_never();
  net::post(server_.pool(), [self = shared_from_this()] {
    std::string piece;
    Result<bool> more = detail::RunProducer(self->producer_, piece);
    net::post(self->strand_, [self, piece = std::move(piece), more = std::move(more)]() mutable {
      self->OnPiece(std::move(piece), std::move(more));
    });
  });
}

void Session::OnPiece(std::string piece, Result<bool> more) {
  if (closed_) return;
  if (!more.ok()) {
    // Closing without the last chunk tells the client the body is incomplete.
    TARN_LOG_WARN("http streamed response aborted for {}: {}", remote_address_, more.error().ToString());
    Close();
    return;
  }
  bool last = !*more;
  out_body_ = std::move(piece);
  if (framing_ == detail::BodyFraming::kStreamedLength) {
    // The declared Content-Length is already on the wire; a producer that disagrees leaves only closing.
    if (out_body_.size() > stream_remaining_ || (last && out_body_.size() != stream_remaining_)) {
      TARN_LOG_ERROR("http streamed body for {} does not match its Content-Length; closing", remote_address_);
      Close();
      return;
    }
    stream_remaining_ -= out_body_.size();
  }
  std::vector<net::const_buffer> buffers;
  if (framing_ == detail::BodyFraming::kChunked) {
    if (!out_body_.empty()) {
      chunk_line_ = detail::ChunkSizeLine(out_body_.size());
      buffers.push_back(net::buffer(chunk_line_));
      buffers.push_back(net::buffer(out_body_));
      buffers.push_back(net::buffer(detail::kChunkEnd.data(), detail::kChunkEnd.size()));
    }
    if (last) buffers.push_back(net::buffer(detail::kLastChunk.data(), detail::kLastChunk.size()));
  } else if (!out_body_.empty()) {
    buffers.push_back(net::buffer(out_body_));
  }
  if (buffers.empty()) {
    if (last) {
      FinishResponse();
    } else {
      ProduceNext();
    }
    return;
  }
  stream_.expires_after(server_.options().write_timeout);
  net::async_write(stream_, buffers, [self = shared_from_this(), last](const beast::error_code& ec, size_t) {
    if (self->closed_) return;
    if (ec) {
      self->Close();
      return;
    }
    if (last) {
      self->FinishResponse();
    } else {
      self->ProduceNext();
    }
  });
}

void Session::FinishResponse() {
  producer_ = nullptr;
  file_.reset();
  out_body_.clear();
  out_body_.shrink_to_fit();
  SetInFlight(false);
  first_request_ = false;
  if (keep_alive_ && !server_.stopping()) {
    WaitForRequest();
  } else {
    Linger();
  }
}

// Half-closes and discards what the client still sends (for example the rest of a rejected body) until it closes
// or kLingerTimeout passes, so the response is not destroyed by a reset.
void Session::Linger() {
  if (closed_) return;
  if (!lingering_) {
    lingering_ = true;
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::min<std::chrono::milliseconds>(kLingerTimeout, server_.options().read_timeout));
  }
  stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](const beast::error_code& ec, size_t) {
    if (self->closed_) return;
    if (ec) {
      self->Close();
      return;
    }
    self->Linger();
  });
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options, Handler handler) {
  auto server = std::make_unique<ServerImpl>(options, std::move(handler));
  TARN_RETURN_IF_ERROR(server->Bind());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace tarn::http
