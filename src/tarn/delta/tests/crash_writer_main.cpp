// SPDX-License-Identifier: Apache-2.0
// Test helper process for delta_crash_test: appends data files to a local Delta table in a loop until killed.
// Usage: delta_crash_writer TABLE_DIR WRITER_ID [COMMITS (0 = until killed)] [CHECKPOINT_INTERVAL]
// Each iteration writes one data file (synced) through LocalObjectStore, commits an add for it and then prints
// "committed <version> <path> <size>" on stdout (flushed), so the parent knows every acknowledged commit. Exit code 0
// after COMMITS commits, 2 on any error (printed on stderr).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tarn/base/logging.hpp"
#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/tests/crash_test_files.hpp"
#include "tarn/delta/tests/json_checkpoint_files.hpp"
#include "tarn/delta/transaction.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace {

int Fail(const std::string& what, const tarn::Status& status) {
  std::fprintf(stderr, "delta_crash_writer: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tarn;
  if (argc < 3) {
    std::fprintf(stderr, "usage: delta_crash_writer TABLE_DIR WRITER_ID [COMMITS] [CHECKPOINT_INTERVAL]\n");
    return 2;
  }
  Log::SetLevel(LogLevel::kError);
  const std::string root = argv[1];
  const std::string writer_id = argv[2];
  const long commits = argc > 3 ? std::atol(argv[3]) : 0;
  const std::string interval = argc > 4 ? argv[4] : "5";
  auto store = storage::LocalObjectStore::Create(root, /*create_root=*/true);
  if (!store.has_value()) return Fail("open " + root, store.status());
  delta::testing::JsonCheckpointWriter checkpoint_writer;
  delta::testing::JsonCheckpointReader checkpoint_reader;
  delta::TableOptions options;
  options.checkpoint_writer = &checkpoint_writer;
  options.checkpoint_reader = &checkpoint_reader;
  delta::DeltaTable table(**store, "", options);

  delta::CreateTableRequest create;
  create.schema = delta::ParseSchema(
                      R"({"type":"struct","fields":[{"name":"line","type":"string","nullable":true,"metadata":{}}]})")
                      .value();
  create.configuration["delta.checkpointInterval"] = interval;
  auto created = table.Create(create);
  if (!created.has_value() && created.status().code() != ErrorCode::kResourceAlreadyExists) {
    return Fail("create", created.status());
  }
  for (long i = 0; commits == 0 || i < commits; ++i) {
    std::string path = delta::testing::CrashTestFileName(writer_id, ::getpid(), i);
    std::string data = delta::testing::CrashTestFileContent(path);
    Status written = (*store)->Write(path, data);  // synced before the commit that references it
    if (!written.ok()) return Fail("write " + path, written);
    auto txn = table.StartTransaction();
    if (!txn.has_value()) return Fail("start transaction", txn.status());
    delta::AddAction add;
    add.path = path;
    add.size = static_cast<int64_t>(data.size());
    add.modification_time = 1'700'000'000'000;
    add.stats = R"({"numRecords":1})";
    (*txn)->AddFile(std::move(add));
    auto result = (*txn)->Commit();
    if (!result.has_value()) return Fail("commit " + path, result.status());
    std::printf("committed %lld %s %zu\n", static_cast<long long>(result->version), path.c_str(), data.size());
    std::fflush(stdout);
  }
  return 0;
}
