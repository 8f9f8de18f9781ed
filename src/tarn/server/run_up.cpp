// SPDX-License-Identifier: Apache-2.0
// `tarn up`: start the platform, print where it listens, wait for a signal, shut down cleanly.
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "tarn/base/logging.hpp"
#include "tarn/base/version.hpp"
#include "tarn/server/platform.hpp"

namespace tarn::server {

int RunUp(const PlatformConfig& config) {
  // Block the shutdown signals in every thread (threads inherit the mask), and take them with sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto started = Platform::Start(config);
  if (!started.ok()) {
    std::fprintf(stderr, "tarn up: %s\n", started.error().message().c_str());
    return 1;
  }
  std::unique_ptr<Platform> platform = std::move(started).value();
  const std::string& host = config.bind_address;
  std::printf("Tarn %s is up (data: %s)\n", kVersion, platform->data_root().c_str());
  std::printf("  HTTP API:      http://%s:%u\n", host.c_str(), platform->http_port());
  std::printf("  SQL endpoint:  postgresql://token@%s:%u/main (password: a personal access token)\n", host.c_str(),
              platform->sql_port());
  std::printf("  Admin token:   %s/admin-token\n", platform->data_root().c_str());
  if (!platform->new_admin_token().empty()) {
    std::printf("  New admin token (shown once): %s\n", platform->new_admin_token().c_str());
  }
  std::printf("Press Ctrl-C to stop.\n");
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  TARN_LOG_INFO("received {}, shutting down (send it again to exit at once)", sig == SIGINT ? "SIGINT" : "SIGTERM");

  // A second signal during shutdown exits at once.
  std::atomic<bool> done{false};
  std::thread second_signal([&] {
    timespec tick{0, 100 * 1000 * 1000};
    while (!done) {
      if (sigtimedwait(&signals, nullptr, &tick) > 0) {
        std::fprintf(stderr, "tarn up: second signal, exiting immediately\n");
        std::_Exit(130);
      }
    }
  });
  platform->Stop();
  platform.reset();
  done = true;
  second_signal.join();
  TARN_LOG_INFO("stopped");
  return 0;
}

}  // namespace tarn::server
