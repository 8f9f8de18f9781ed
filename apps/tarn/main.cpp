// SPDX-License-Identifier: Apache-2.0
// Entry point of the `tarn` binary: hands the command line to the CLI, which calls back into the server for `up`.
#include <cstdio>
#include <cstdlib>

#include "tarn/cli/command_line.hpp"
#include "tarn/server/platform.hpp"

namespace {

int RunServer(const tarn::cli::UpOptions& options) {
  for (int port : {options.http_port, options.sql_port}) {
    if (port < 0 || port > 65535) {
      std::fprintf(stderr, "tarn up: port out of range: %d\n", port);
      return 1;
    }
  }
  tarn::Log::SetLevel(options.log_level);
  tarn::server::PlatformConfig config;
  config.data_dir = options.data_dir;
  config.bind_address = options.bind;
  config.http_port = static_cast<uint16_t>(options.http_port);
  config.sql_port = static_cast<uint16_t>(options.sql_port);
  config.threads = options.threads;
  config.memory_limit = options.memory_limit;
  config.tls_cert_file = options.tls_cert;
  config.tls_key_file = options.tls_key;
  config.sql_cleartext_over_tls = options.sql_auth == "password";
  if (const char* token = std::getenv("TARN_ADMIN_TOKEN")) config.admin_token = token;
  return tarn::server::RunUp(config);
}

}  // namespace

int main(int argc, char** argv) {
  tarn::cli::CliHooks hooks;
  hooks.run_server = RunServer;
  return tarn::cli::Main(argc, argv, hooks);
}
