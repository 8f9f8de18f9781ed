// SPDX-License-Identifier: Apache-2.0
// Test helpers for the write side: a controllable clock, schema and add-action builders.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/protocol_validator.hpp"
#include "tarn/delta/tests/json_checkpoint_files.hpp"
#include "tarn/delta/transaction.hpp"

namespace tarn::delta::testing {

/// A settable clock shared by tables in a test (epoch millis).
struct TestClock {
  std::shared_ptr<std::atomic<int64_t>> now = std::make_shared<std::atomic<int64_t>>(1'700'000'000'000);
  std::function<int64_t()> Function() const {
    auto shared = now;
    return [shared]() { return shared->load(); };
  }
  void Advance(int64_t millis) { *now += millis; }
};

inline Schema TestSchema() {
  return ParseSchema(
             R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
             R"({"name":"p","type":"string","nullable":true,"metadata":{}}]})")
      .value();
}

inline AddAction TestAdd(std::string path, std::vector<MapEntry> partition = {}, int64_t size = 100) {
  AddAction add;
  add.path = std::move(path);
  add.partition_values = std::move(partition);
  add.size = size;
  add.modification_time = 1;
  add.stats = R"({"numRecords":1,"minValues":{"id":1},"maxValues":{"id":1},"nullCount":{"id":0}})";
  return add;
}

/// DeltaLog options that read the JSON stand-in checkpoints.
inline DeltaLogOptions ReaderOptions(CheckpointReader& reader) {
  DeltaLogOptions options;
  options.checkpoint_reader = &reader;
  return options;
}

/// Commits one blind append of `path`; returns the commit result.
inline Result<CommitResult> Append(DeltaTable& table, std::string path, std::vector<MapEntry> partition = {}) {
  TARN_ASSIGN_OR_RETURN(auto txn, table.StartTransaction());
  txn->AddFile(TestAdd(std::move(path), std::move(partition)));
  return txn->Commit();
}

}  // namespace tarn::delta::testing
