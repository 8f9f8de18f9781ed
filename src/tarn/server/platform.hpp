// SPDX-License-Identifier: Apache-2.0
// The composition root: opens the data directory, metadata store and engine, and serves HTTP until stopped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tarn/base/result.hpp"

namespace tarn::sql {
class Warehouse;
}

namespace tarn::server {

struct PlatformConfig {
  std::string data_dir = "./.tarn-data";
  std::string bind_address = "127.0.0.1";
  uint16_t http_port = 8080;  // 0 picks a free port
  uint16_t sql_port = 5433;   // reserved for the SQL endpoint; checked free at start
  int threads = 0;            // engine threads; 0 = number of cores
  std::string memory_limit;   // engine memory limit, e.g. "4GB"; empty = engine default
  std::string admin_token;    // from TARN_ADMIN_TOKEN; empty = generate on first start
  std::string tls_cert_file;  // SQL endpoint TLS (PEM); both set = TLS offered
  std::string tls_key_file;
  bool sql_cleartext_over_tls = false;  // SQL auth: cleartext password on TLS connections instead of SCRAM
};

/// A running Tarn platform (HTTP server and background services). Start() returns once /health answers.
/// Stop() is idempotent: stops accepting, finishes or cancels in-flight work and closes the metadata store.
class Platform {
 public:
  static Result<std::unique_ptr<Platform>> Start(const PlatformConfig& config);
  virtual ~Platform() = default;
  virtual uint16_t http_port() const = 0;
  /// The bound SQL (PostgreSQL wire) port.
  virtual uint16_t sql_port() const = 0;
  virtual const std::string& data_root() const = 0;
  /// The admin token when this start created it (first start), else empty.
  virtual const std::string& new_admin_token() const = 0;
  /// The SQL warehouse (catalog + engine): `warehouse().NewSession()` opens a Databricks SQL session.
  virtual sql::Warehouse& warehouse() = 0;
  virtual void Stop() = 0;
};

/// Runs `tarn up`: starts the platform, prints where it listens, waits for SIGINT/SIGTERM and shuts down cleanly
/// (a second signal exits at once). Returns the process exit code (1 when it cannot start).
int RunUp(const PlatformConfig& config);

}  // namespace tarn::server
