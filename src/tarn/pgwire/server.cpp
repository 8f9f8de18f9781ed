// SPDX-License-Identifier: Apache-2.0
// The SQL endpoint's listener: an Asio acceptor thread, one thread per connection, TLS context, cancel registry.
#include "tarn/pgwire/server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <list>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tarn/base/logging.hpp"
#include "tarn/pgwire/detail/connection.hpp"
#include "tarn/pgwire/protocol.hpp"

namespace tarn::pgwire {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& options, identity::TokenService& tokens, BackendFactory backends)
      : options_(options), tokens_(tokens), backends_(std::move(backends)), acceptor_(ioc_) {}

  ~ServerImpl() override {
    Stop();
    if (tls_) SSL_CTX_free(tls_);
  }

  Status Init() {
    if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
      return Error(ErrorCode::kInvalidParameterValue, "TLS needs both a certificate and a key file");
    }
    if (!options_.tls_cert_file.empty()) {
      tls_ = SSL_CTX_new(TLS_server_method());
      if (tls_ == nullptr) return Error(ErrorCode::kInternal, "cannot create a TLS context");
      SSL_CTX_set_min_proto_version(tls_, TLS1_2_VERSION);
      if (SSL_CTX_use_certificate_chain_file(tls_, options_.tls_cert_file.c_str()) != 1) {
        return Error(ErrorCode::kInvalidParameterValue, "cannot load TLS certificate {}: {}", options_.tls_cert_file,
                     ERR_error_string(ERR_get_error(), nullptr));
      }
      if (SSL_CTX_use_PrivateKey_file(tls_, options_.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
          SSL_CTX_check_private_key(tls_) != 1) {
        return Error(ErrorCode::kInvalidParameterValue, "cannot load TLS key {}: {}", options_.tls_key_file,
                     ERR_error_string(ERR_get_error(), nullptr));
      }
      // OpenSSL writes with write(2): a client that vanishes must not kill the process with SIGPIPE.
      std::signal(SIGPIPE, SIG_IGN);
    }
    boost::system::error_code ec;
    auto address = net::ip::make_address(options_.bind_address, ec);
    if (ec) return Error(ErrorCode::kInvalidParameterValue, "invalid bind address: {}", options_.bind_address);
    tcp::endpoint endpoint(address, options_.port);
    std::string where = fmt::format("{}:{}", options_.bind_address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec == net::error::address_in_use) {
      return Error(ErrorCode::kConnectionFailure, "SQL port {} is not available: address already in use", where);
    }
    if (ec) return Error(ErrorCode::kConnectionFailure, "cannot listen on {}: {}", where, ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
    return Status::OK();
  }

  uint16_t port() const override { return port_; }

  void Start() override {
    std::lock_guard lock(mu_);
    if (started_ || stopping_) return;
    started_ = true;
    Accept();
    io_thread_ = std::thread([this] {
      while (true) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          TARN_LOG_ERROR("pgwire accept thread caught exception: {}", e.what());
        }
      }
    });
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      stopping_flag_.store(true);
    }
    if (io_thread_.joinable()) {
      net::post(ioc_, [this] {
        boost::system::error_code ec;
        acceptor_.close(ec);
      });
      io_thread_.join();
    } else {
      boost::system::error_code ec;
      acceptor_.close(ec);
    }
    cancels_.InterruptAll();
    ioc_.stop();
    std::list<Conn> conns;
    {
      std::lock_guard lock(mu_);
      for (auto& c : conns_) ::shutdown(c.fd, SHUT_RDWR);
      conns.swap(conns_);
    }
    for (auto& c : conns) {
      if (c.thread.joinable()) c.thread.join();
      ::close(c.fd);
    }
  }

 private:
  struct Conn {
    int fd;
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) OnAccept(std::move(socket));
      Accept();
    });
  }

  void OnAccept(tcp::socket socket) {
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    int fd = socket.release(ec);
    if (ec) return;
    std::lock_guard lock(mu_);
    Reap();
    if (stopping_) {
      ::close(fd);
      return;
    }
    if (static_cast<int>(conns_.size()) >= options_.max_connections) {
      // PostgreSQL answers the start-up packet with FATAL 53300; sending it at once is equivalent for clients.
      std::string out;
      BackendWriter writer(out);
      ErrorFields f;
      f.severity = "FATAL";
      f.sqlstate = "53300";
      f.message = "sorry, too many clients already";
      writer.Error(f);
      ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(fd);
      return;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    conns_.push_back(Conn{fd, std::thread(), done});
    conns_.back().thread = std::thread([this, fd, done] {
      detail::ConnectionContext context{options_, tls_, tokens_, backends_, cancels_, stopping_flag_};
      detail::ServeConnection(fd, context);
      ::shutdown(fd, SHUT_RDWR);
      done->store(true);
    });
  }

  // Joins finished connection threads. Caller holds mu_.
  void Reap() {
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (it->done->load()) {
        it->thread.join();
        ::close(it->fd);
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }

  const ServerOptions options_;
  identity::TokenService& tokens_;
  const BackendFactory backends_;
  SSL_CTX* tls_ = nullptr;
  detail::CancelRegistry cancels_;
  std::atomic<bool> stopping_flag_{false};
  std::mutex mu_;
  std::list<Conn> conns_;  // guarded by mu_
  bool started_ = false;   // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  uint16_t port_ = 0;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread io_thread_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options, identity::TokenService& tokens,
                                               BackendFactory backends) {
  auto server = std::make_unique<ServerImpl>(options, tokens, std::move(backends));
  TARN_RETURN_IF_ERROR(server->Init());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace tarn::pgwire
