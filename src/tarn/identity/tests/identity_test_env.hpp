// SPDX-License-Identifier: Apache-2.0
// Test fixture pieces shared by the identity tests: an in-memory metadata store and a controllable clock.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "tarn/identity/token_service.hpp"
#include "tarn/identity/user_store.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"

namespace tarn::identity {

/// A migrated in-memory store plus a clock that only moves when told to.
class IdentityTestEnv {
 public:
  static constexpr int64_t kStartMillis = 1'700'000'000'000;

  IdentityTestEnv() {
    auto opened = meta::SqliteMetaStore::Open(":memory:");
    EXPECT_TRUE(opened.has_value()) << opened.status().ToString();
    if (opened.has_value()) store_ = std::move(opened).value();
  }

  meta::MetaStore& store() { return *store_; }
  Clock clock() {
    return [this] { return now_.load(); };
  }
  int64_t now() const { return now_.load(); }
  void AdvanceMillis(int64_t millis) { now_ += millis; }

  TokenServiceOptions Options() {
    TokenServiceOptions options;
    options.clock = clock();
    return options;
  }

 private:
  std::unique_ptr<meta::SqliteMetaStore> store_;
  std::atomic<int64_t> now_{kStartMillis};
};

}  // namespace tarn::identity
