// SPDX-License-Identifier: Apache-2.0
// Platform: wires data dir, metadata store, identity, engine and the HTTP API together.
#include "tarn/server/platform.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "tarn/api/auth.hpp"
#include "tarn/storage/dbfs_file_system.hpp"
#include "tarn/api/dbfs_routes.hpp"
#include "tarn/api/files_routes.hpp"
#include "tarn/api/identity_routes.hpp"
#include "tarn/api/secrets_routes.hpp"
#include "tarn/api/sql_statements_routes.hpp"
#include "tarn/api/statement_manager.hpp"
#include "tarn/api/workspace_routes.hpp"
#include "tarn/base/clock.hpp"
#include "tarn/base/logging.hpp"
#include "tarn/base/version.hpp"
#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/http/router.hpp"
#include "tarn/http/server.hpp"
#include "tarn/identity/bootstrap.hpp"
#include "tarn/identity/token_service.hpp"
#include "tarn/identity/user_store.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/pgwire/server.hpp"
#include "tarn/secrets/secret_cipher.hpp"
#include "tarn/secrets/secret_store.hpp"
#include "tarn/server/data_dir.hpp"
#include "tarn/sql/warehouse.hpp"
#include "tarn/storage/local_object_store.hpp"
#include "tarn/workspace/workspace_store.hpp"

namespace tarn::server {
namespace {

/// Fails with a message naming the address when `port` cannot be bound on `address` right now.
Status CheckPortFree(const std::string& address, uint16_t port, std::string_view what) {
  if (port == 0) return Status::OK();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(ErrorCode::kConnectionFailure, "cannot create a socket: {}", std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return Error(ErrorCode::kInvalidParameterValue, "bad bind address: {}", address);
  }
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return Error(ErrorCode::kConnectionFailure, "{} port {}:{} is not available: {}", what, address, port,
                 std::strerror(err));
  }
  return Status::OK();
}

std::string HealthJson(int64_t start_ms) {
  return fmt::format(R"({{"status":"ok","version":"{}","uptime_seconds":{:.3f}}})", kVersion,
                     static_cast<double>(NowMillis() - start_ms) / 1000.0);
}

class PlatformImpl final : public Platform {
 public:
  Status Init(const PlatformConfig& config) {
    start_ms_ = NowMillis();
    TARN_ASSIGN_OR_RETURN(data_dir_, DataDir::Open(config.data_dir));
    if (!Log::SetFile(data_dir_->LogDir() + "/tarn.log")) {
      return Error(ErrorCode::kIoError, "cannot open log file in {}", data_dir_->LogDir());
    }
    TARN_RETURN_IF_ERROR(CheckPortFree(config.bind_address, config.sql_port, "SQL"));
    if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
      return Error(ErrorCode::kInvalidParameterValue, "--tls-cert and --tls-key must be given together");
    }
    if (config.sql_cleartext_over_tls && config.tls_cert_file.empty()) {
      return Error(ErrorCode::kInvalidParameterValue, "--sql-auth password needs TLS (--tls-cert and --tls-key)");
    }

    int64_t t0 = MonotonicNanos();
    TARN_ASSIGN_OR_RETURN(meta_, meta::SqliteMetaStore::Open(data_dir_->MetaDbPath()));
    users_ = std::make_unique<identity::UserStore>(*meta_);
    tokens_ = std::make_unique<identity::TokenService>(*meta_);
    TARN_ASSIGN_OR_RETURN(auto boot, identity::Bootstrap(*users_, *tokens_, config.admin_token));
    if (!boot.admin_token.empty()) {
      TARN_RETURN_IF_ERROR(data_dir_->WriteAdminToken(boot.admin_token));
      if (!boot.token_from_env) new_admin_token_ = boot.admin_token;
    }
    // Workspace tree (content under <data>/workspace, metadata in meta.db) and secrets (key file <data>/secrets.key).
    TARN_ASSIGN_OR_RETURN(workspace_content_, storage::LocalObjectStore::Create(data_dir_->root() + "/workspace"));
    workspace_ = std::make_unique<workspace::WorkspaceStore>(*meta_, *workspace_content_);
    TARN_RETURN_IF_ERROR(workspace_->Bootstrap());
    TARN_RETURN_IF_ERROR(workspace_->EnsureHome(boot.admin.user_name));
    TARN_ASSIGN_OR_RETURN(secret_cipher_, secrets::SecretCipher::LoadOrCreate(data_dir_->root() + "/secrets.key"));
    auto principal_exists = [this](std::string_view name) -> Result<bool> {
      auto user = users_->GetByName(name);
      if (user.has_value()) return true;
      if (user.status().code() == ErrorCode::kResourceDoesNotExist) return false;
      return user.status();
    };
    secrets_ = std::make_unique<secrets::SecretStore>(*meta_, *secret_cipher_, principal_exists);

    int64_t t1 = MonotonicNanos();
    engine::DatabaseOptions engine_options;
    engine_options.threads = config.threads;
    engine_options.memory_limit = config.memory_limit;
    engine_options.dbfs_root = data_dir_->DbfsRoot();
    TARN_ASSIGN_OR_RETURN(engine_, engine::Database::Open(engine_options));
    TARN_ASSIGN_OR_RETURN(dbfs_, storage::DbfsFileSystem::Open(data_dir_->DbfsRoot()));
    // The SQL catalog (main.default on first start) and the warehouse SQL sessions come from.
    TARN_ASSIGN_OR_RETURN(catalog_, catalog::Catalog::Open(*meta_, {data_dir_->DbfsRoot(), nullptr}));
    TARN_ASSIGN_OR_RETURN(warehouse_, sql::Warehouse::Open(*engine_, *catalog_));
    // Statement Execution API: its own worker pool of warehouse sessions.
    statements_ = std::make_unique<api::StatementManager>(*warehouse_);

    int64_t t2 = MonotonicNanos();
    RegisterRoutes();
    http::ServerOptions http_options;
    http_options.bind_address = config.bind_address;
    http_options.port = config.http_port;
    // Streaming routes (Files API uploads) take their bodies through Request::body_reader.
    http_options.streamed_body_limit = [this](http::Method method, std::string_view path) {
      return router_.StreamedBodyLimit(method, path);
    };
    http::Handler handler = api::WithAuth(*tokens_, [this](http::Request& request) {
      return router_.Dispatch(request);
    });
    TARN_ASSIGN_OR_RETURN(http_, http::Server::Create(http_options, std::move(handler)));
    // PostgreSQL wire endpoint (started before HTTP, so /health answering means both listen): one engine session
    // per connection, PATs as passwords.
    pgwire::ServerOptions sql_options;
    sql_options.bind_address = config.bind_address;
    sql_options.port = config.sql_port;
    sql_options.tls_cert_file = config.tls_cert_file;
    sql_options.tls_key_file = config.tls_key_file;
    sql_options.auth = config.sql_cleartext_over_tls ? pgwire::AuthMethod::kPassword : pgwire::AuthMethod::kScramSha256;
    TARN_ASSIGN_OR_RETURN(sql_,
                          pgwire::Server::Create(sql_options, *tokens_, pgwire::WarehouseBackendFactory(*warehouse_)));
    sql_->Start();
    http_->Start();
    int64_t t3 = MonotonicNanos();
    TARN_LOG_INFO("tarn {} serving HTTP on {}:{} (data {})", kVersion, config.bind_address, http_->port(),
                  data_dir_->root());
    TARN_LOG_DEBUG("start-up: metadata+identity {} ms, engine {} ms, http {} ms", (t1 - t0) / 1000000,
                   (t2 - t1) / 1000000, (t3 - t2) / 1000000);
    return Status::OK();
  }

  ~PlatformImpl() override { Stop(); }

  uint16_t http_port() const override { return http_ ? http_->port() : 0; }
  uint16_t sql_port() const override { return sql_ ? sql_->port() : 0; }
  const std::string& data_root() const override { return data_dir_->root(); }
  const std::string& new_admin_token() const override { return new_admin_token_; }
  sql::Warehouse& warehouse() override { return *warehouse_; }

  void Stop() override {
    std::lock_guard lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    if (http_) http_->Stop();
    http_.reset();
    if (sql_) sql_->Stop();
    sql_.reset();
    statements_.reset();
    warehouse_.reset();
    catalog_.reset();
    engine_.reset();
    secrets_.reset();
    workspace_.reset();
    tokens_.reset();
    users_.reset();
    meta_.reset();
  }

 private:
  void RegisterRoutes() {
    router_.Add(http::Method::kGet, "/health", [this](http::Request&) {
      return http::Response::Json(HealthJson(start_ms_));
    });
    // The Python SDK probes this without auth while building its config; a fast 404 lets it continue.
    router_.Add(http::Method::kGet, "/.well-known/databricks-config", [](http::Request&) {
      return http::Response::Error(Error(ErrorCode::kResourceDoesNotExist, "no workspace configuration here"));
    });
    api::RegisterIdentityRoutes(router_, *tokens_, *users_);
    api::RegisterDbfsRoutes(router_, *dbfs_);
    api::RegisterFilesRoutes(router_, *dbfs_);
    api::RegisterWorkspaceRoutes(router_, *workspace_);
    api::RegisterSecretsRoutes(router_, *secrets_);
    api::RegisterSqlStatementRoutes(router_, *statements_, {[this] { return sql_port(); }});
  }

  int64_t start_ms_ = 0;
  std::unique_ptr<DataDir> data_dir_;
  std::unique_ptr<meta::SqliteMetaStore> meta_;
  std::unique_ptr<identity::UserStore> users_;
  std::unique_ptr<identity::TokenService> tokens_;
  std::unique_ptr<engine::Database> engine_;
  std::unique_ptr<catalog::Catalog> catalog_;    // after meta_ and engine_: uses both
  std::unique_ptr<sql::Warehouse> warehouse_;    // after catalog_
  std::unique_ptr<api::StatementManager> statements_;  // after warehouse_
  std::unique_ptr<storage::DbfsFileSystem> dbfs_;  // before router_: its routes point at it
  std::unique_ptr<storage::LocalObjectStore> workspace_content_;
  std::unique_ptr<workspace::WorkspaceStore> workspace_;
  std::unique_ptr<secrets::SecretCipher> secret_cipher_;
  std::unique_ptr<secrets::SecretStore> secrets_;
  http::Router router_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<pgwire::Server> sql_;
  std::string new_admin_token_;
  std::mutex stop_mu_;
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<Platform>> Platform::Start(const PlatformConfig& config) {
  auto platform = std::make_unique<PlatformImpl>();
  TARN_RETURN_IF_ERROR(platform->Init(config));
  return std::unique_ptr<Platform>(std::move(platform));
}

}  // namespace tarn::server
