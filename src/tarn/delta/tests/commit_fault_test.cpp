// SPDX-License-Identifier: Apache-2.0
// Crash safety of commits (a fault at every store call) and two OS processes appending to one table.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "tarn/delta/tests/write_test_table.hpp"
#include "tarn/storage/fault_injecting_object_store.hpp"
#include "tarn/storage/in_memory_object_store.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace tarn::delta {
namespace {

using namespace tarn::delta::testing;  // NOLINT

TableOptions Options(JsonCheckpointWriter& writer, JsonCheckpointReader& reader) {
  TableOptions options;
  options.checkpoint_writer = &writer;
  options.checkpoint_reader = &reader;
  return options;
}

TEST(CommitFaultTest, CrashAtAnyCallLeavesTheTableReadable) {
  for (auto kind : {storage::FaultKind::kFail, storage::FaultKind::kCrashBeforeEffect,
                    storage::FaultKind::kCrashAfterEffect}) {
    int64_t call = 1;
    for (;; ++call) {
      SCOPED_TRACE(::testing::Message() << "fault kind " << static_cast<int>(kind) << " at call " << call);
      storage::InMemoryObjectStore base;
      JsonCheckpointWriter writer;
      JsonCheckpointReader reader;
      {
        DeltaTable setup(base, "", Options(writer, reader));
        CreateTableRequest request;
        request.schema = TestSchema();
        request.configuration = {{"delta.checkpointInterval", "2"}};
        ASSERT_TRUE(setup.Create(request).has_value());
        ASSERT_TRUE(Append(setup, "old.parquet").has_value());
      }
      storage::FaultInjectingObjectStore faulty(base);
      DeltaTable table(faulty, "", Options(writer, reader));
      int64_t calls_before = faulty.num_calls();
      faulty.Arm(1 + (call - 1), kind);
      auto result = Append(table, "new.parquet");  // load, commit v2, checkpoint v2, _last_checkpoint, cleanup
      bool fired = faulty.num_calls() - calls_before >= call;
      faulty.Disarm();
      if (faulty.crashed()) faulty.Restart();
      auto snapshot = DeltaLog(base, "", ReaderOptions(reader)).LoadLatest();
      ASSERT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
      int64_t version = (*snapshot)->version();
      EXPECT_TRUE(version == 1 || version == 2) << version;
      EXPECT_EQ((*snapshot)->num_active_files(), version);
      if (result.has_value()) {
        EXPECT_EQ(version, 2);
      }
      // Readers that ignore the checkpoint see the same state.
      EXPECT_EQ(DeltaLog(base, "").LoadLatest().value()->num_active_files(), version);
      Status valid = ValidateTableLog(base, "");
      EXPECT_TRUE(valid.ok()) << valid.ToString();
      // After restart the writer can always continue.
      DeltaTable again(base, "", Options(writer, reader));
      ASSERT_TRUE(Append(again, "after.parquet").has_value());
      if (!fired) break;
    }
    EXPECT_GT(call, 5);  // the loop really walked through the commit's calls
  }
}

TEST(CommitFaultTest, TwoProcessesAppendingNeverLoseACommit) {
  constexpr int kAppendsPerProcess = 200;
  std::string dir = (std::filesystem::temp_directory_path() / ("tarn-delta-mp-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  {
    auto store = storage::LocalObjectStore::Create(dir, true).value();
    DeltaTable table(*store, "t");
    CreateTableRequest request;
    request.schema = TestSchema();
    ASSERT_TRUE(table.Create(request).has_value());
  }
  std::vector<pid_t> children;
  for (int process = 0; process < 2; ++process) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto store = storage::LocalObjectStore::Create(dir, false);
      if (!store.has_value()) ::_exit(2);
      JsonCheckpointWriter writer;
      JsonCheckpointReader reader;
      DeltaTable table(**store, "t", Options(writer, reader));
      for (int i = 0; i < kAppendsPerProcess; ++i) {
        auto result = Append(table, "proc" + std::to_string(process) + "-" + std::to_string(i) + ".parquet");
        if (!result.has_value()) {
          std::fprintf(stderr, "append failed: %s\n", result.status().ToString().c_str());
          ::_exit(1);
        }
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  auto store = storage::LocalObjectStore::Create(dir, false).value();
  JsonCheckpointReader reader;
  auto snapshot = DeltaLog(*store, "t", ReaderOptions(reader)).LoadLatest().value();
  EXPECT_EQ(snapshot->version(), 2 * kAppendsPerProcess);
  std::set<std::string> paths;
  for (const FileEntry& file : snapshot->active_files()) paths.emplace(file.path);
  EXPECT_EQ(paths.size(), static_cast<size_t>(2 * kAppendsPerProcess));
  for (int process = 0; process < 2; ++process) {
    for (int i = 0; i < kAppendsPerProcess; ++i) {
      EXPECT_TRUE(paths.contains("proc" + std::to_string(process) + "-" + std::to_string(i) + ".parquet"));
    }
  }
  EXPECT_EQ(DeltaLog(*store, "t").LoadLatest().value()->num_active_files(), 2 * kAppendsPerProcess);
  EXPECT_TRUE(ValidateTableLog(*store, "t/").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tarn::delta
