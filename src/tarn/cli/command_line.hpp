// SPDX-License-Identifier: Apache-2.0
// Entry point of the `tarn` command line: parses argv and runs a command (up, sql, auth, tokens).
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "tarn/base/logging.hpp"
#include "tarn/cli/connection_config.hpp"

namespace tarn::cli {

/// Settings of `tarn up`, filled from its flags and handed to CliHooks::run_server.
struct UpOptions {
  std::string data_dir = "./.tarn-data";  // --data
  std::string bind = "127.0.0.1";         // --bind: address both listeners bind to
  int http_port = 8080;                   // --http-port (0: pick a free port)
  int sql_port = 5433;                    // --sql-port: PostgreSQL wire endpoint (0: pick a free port)
  int threads = 0;                        // --threads: engine worker threads (0: engine default)
  std::string memory_limit;               // --memory-limit, DuckDB syntax such as "4GB" ("" = engine default)
  LogLevel log_level = LogLevel::kInfo;   // --log-level debug|info|warn|error (--debug implies debug)
  std::string tls_cert;                   // --tls-cert: PEM certificate chain for the SQL endpoint's TLS
  std::string tls_key;                    // --tls-key: PEM private key
  std::string sql_auth = "scram-sha-256"; // --sql-auth scram-sha-256|password (password: cleartext over TLS only)
};

/// What the binary wires into the CLI from modules above it.
struct CliHooks {
  /// Runs the server for `tarn up` until it stops and returns the process exit code. When unset, `tarn up`
  /// fails with exit code 1.
  std::function<int(const UpOptions&)> run_server;
  /// Environment lookup for connection settings (DATABRICKS_*, HOME); unset means the process environment.
  EnvLookup env;
};

/// Exit codes of Main.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed (HTTP/SQL/connection/config errors)
inline constexpr int kExitUsage = 2;    // bad command line: unknown command or flag, missing argument

/// Parses `argv` (argv[0] is the program name) and runs the command, printing to std::cout / std::cerr.
/// Returns the process exit code (kExitOk, kExitFailure, kExitUsage, or what run_server returns).
int Main(int argc, char** argv, const CliHooks& hooks);

/// Same, printing results to `out` and messages/errors to `err` (used by tests).
int Main(int argc, const char* const* argv, const CliHooks& hooks, std::ostream& out, std::ostream& err);

}  // namespace tarn::cli
