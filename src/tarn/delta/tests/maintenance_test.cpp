// SPDX-License-Identifier: Apache-2.0
// Tests for VACUUM planning and deletion, RESTORE and OPTIMIZE planning + commit.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tarn/delta/table_maintenance.hpp"
#include "tarn/delta/tests/write_test_table.hpp"
#include "tarn/storage/in_memory_object_store.hpp"

namespace tarn::delta {
namespace {

using namespace tarn::delta::testing;  // NOLINT

class MaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.TestingSetClock(clock_.Function());
    TableOptions options;
    options.clock = clock_.Function();
    table_ = std::make_unique<DeltaTable>(store_, "t", options);
    CreateTableRequest request;
    request.schema = TestSchema();
    request.partition_columns = {"p"};
    ASSERT_TRUE(table_->Create(request).has_value());
  }
  // Writes a data file and commits its add.
  void AddDataFile(const std::string& path, const std::string& partition, int64_t size = 100) {
    ASSERT_TRUE(store_.Write("t/" + path, std::string(static_cast<size_t>(size), 'x')).ok());
    auto txn = table_->StartTransaction().value();
    txn->AddFile(TestAdd(path, {{"p", partition}}, size));
    ASSERT_TRUE(txn->Commit().has_value());
  }
  void RemoveDataFile(const std::string& path) {
    auto txn = table_->StartTransaction().value();
    for (const FileEntry& file : txn->snapshot()->active_files()) {
      if (file.path == path) txn->RemoveFile(file);
    }
    ASSERT_EQ(txn->removes().size(), 1u);
    ASSERT_TRUE(txn->Commit().has_value());
  }

  storage::InMemoryObjectStore store_;
  TestClock clock_;
  std::unique_ptr<DeltaTable> table_;
};

TEST_F(MaintenanceTest, VacuumDeletesOnlyExpiredUnreferencedFiles) {
  AddDataFile("p=a/live.parquet", "a");
  AddDataFile("p=a/old.parquet", "a");
  ASSERT_TRUE(store_.Write("t/p=a/orphan.parquet", "x").ok());
  ASSERT_TRUE(store_.Write("t/_hidden/keep.parquet", "x").ok());
  ASSERT_TRUE(store_.Write("t/.staging/keep.parquet", "x").ok());
  ASSERT_TRUE(store_.Write("t/p=a/_SUCCESS", "x").ok());
  ASSERT_TRUE(store_.Write("t/_change_data/cdc-1.parquet", "x").ok());
  RemoveDataFile("p=a/old.parquet");
  // Fresh files and fresh tombstones survive.
  auto dry = Vacuum(*table_, {.dry_run = true}).value();
  EXPECT_TRUE(dry.files.empty());
  clock_.Advance(8 * kMillisPerDay);
  ASSERT_TRUE(store_.Write("t/p=a/in-flight.parquet", "x").ok());  // newer than the retention
  dry = Vacuum(*table_, {.dry_run = true}).value();
  EXPECT_EQ(dry.files, (std::vector<std::string>{"t/_change_data/cdc-1.parquet", "t/p=a/old.parquet",
                                                 "t/p=a/orphan.parquet"}));
  EXPECT_TRUE(store_.Stat("t/p=a/old.parquet").has_value());  // dry run deletes nothing
  auto short_retention = Vacuum(*table_, {.retention_millis = 3600000});
  EXPECT_EQ(short_retention.status().code(), ErrorCode::kInvalidParameterValue);
  auto done = Vacuum(*table_, {}).value();
  EXPECT_EQ(done.files.size(), 3u);
  EXPECT_FALSE(store_.Stat("t/p=a/old.parquet").has_value());
  EXPECT_TRUE(store_.Stat("t/p=a/live.parquet").has_value());
  EXPECT_TRUE(store_.Stat("t/_hidden/keep.parquet").has_value());
  EXPECT_TRUE(store_.Stat("t/p=a/_SUCCESS").has_value());
  EXPECT_TRUE(store_.Stat("t/_delta_log/" + VersionStem(0) + ".json").has_value());
  EXPECT_TRUE(store_.Stat("t/p=a/in-flight.parquet").has_value());
  // An explicit override allows a short retention.
  clock_.Advance(1);
  auto forced = Vacuum(*table_, {.retention_millis = 0, .allow_short_retention = true, .dry_run = true}).value();
  EXPECT_EQ(forced.files, std::vector<std::string>{"t/p=a/in-flight.parquet"});
}

TEST_F(MaintenanceTest, DeletionVectorFilesStayWithTheirData) {
  DeletionVectorRef dv{'u', "ab^-aqEH.-t@S}K{vb[*k^", 1, 10, 1, ""};
  auto path = DeletionVectorFilePath(dv, "");
  ASSERT_TRUE(path);
  EXPECT_TRUE(path->starts_with("ab/deletion_vector_")) << *path;
  EXPECT_EQ(path->size(), std::string("ab/deletion_vector_.bin").size() + 36);
  EXPECT_FALSE(DecodeZ85("abc"));
}

TEST_F(MaintenanceTest, RestoreToVersionAndTimestamp) {
  clock_.Advance(1000);
  AddDataFile("p=a/1.parquet", "a");  // v1
  int64_t after_v1 = clock_.now->load();
  clock_.Advance(1000);
  AddDataFile("p=b/2.parquet", "b");  // v2
  RemoveDataFile("p=a/1.parquet");    // v3
  auto restored = RestoreTable(*table_, {.version = 1}).value();
  EXPECT_EQ(restored.version, 4);
  auto snapshot = table_->Latest().value();
  ASSERT_EQ(snapshot->num_active_files(), 1);
  EXPECT_EQ(snapshot->active_files()[0].path, "p=a/1.parquet");
  auto info = nlohmann::json::parse(
      std::get<CommitInfoAction>(ParseJsonActions(store_.Read("t/_delta_log/" + VersionStem(4) + ".json").value()).value()[0]).raw_json);
  EXPECT_EQ(info["operation"], "RESTORE");
  EXPECT_EQ(info["operationParameters"]["version"], "1");
  EXPECT_EQ(info["operationMetrics"]["numRestoredFiles"], "1");
  EXPECT_EQ(info["operationMetrics"]["numRemovedFiles"], "1");
  EXPECT_EQ(info["operationMetrics"]["numOfFilesAfterRestore"], "1");
  // By timestamp: the state right after v1 again (a no-op now, still a valid commit).
  auto by_time = RestoreTable(*table_, {.timestamp_millis = after_v1});
  ASSERT_TRUE(by_time.has_value()) << by_time.status().ToString();
  EXPECT_EQ(table_->Latest().value()->num_active_files(), 1);
  EXPECT_EQ(RestoreTable(*table_, {.version = 99}).status().code(), ErrorCode::kInvalidParameterValue);
  // A vacuumed file cannot be restored.
  ASSERT_TRUE(store_.Delete("t/p=b/2.parquet").ok());
  auto missing = RestoreTable(*table_, {.version = 2});
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_NE(missing.status().message().find("p=b/2.parquet"), std::string::npos);
  EXPECT_TRUE(ValidateTableLog(store_, "t/").ok());
}

TEST_F(MaintenanceTest, OptimizeBinPacksPerPartitionAndCommitsWithoutDataChange) {
  for (int i = 0; i < 5; ++i) AddDataFile("p=a/s" + std::to_string(i) + ".parquet", "a", 30);
  AddDataFile("p=a/big.parquet", "a", 500);
  AddDataFile("p=b/alone.parquet", "b", 10);
  auto plan = PlanOptimize(table_->Latest().value(), {.target_file_size = 100}).value();
  // p=a: 5 files of 30 → bins {30,30,30} and {30,30}; big file untouched; p=b single file skipped.
  ASSERT_EQ(plan.bins.size(), 2u);
  EXPECT_EQ(plan.bins[0].files.size(), 3u);
  EXPECT_EQ(plan.bins[1].files.size(), 2u);
  EXPECT_EQ(plan.num_files, 5);
  EXPECT_EQ(plan.bins[0].partition_values, (std::vector<MapEntry>{{"p", "a"}}));
  // A concurrent append does not conflict with the compaction.
  AddDataFile("p=a/concurrent.parquet", "a", 30);
  std::vector<std::vector<AddAction>> rewritten = {{TestAdd("p=a/c1.parquet", {{"p", "a"}}, 90)},
                                                   {TestAdd("p=a/c2.parquet", {{"p", "a"}}, 60)}};
  auto result = CommitOptimize(*table_, plan, rewritten);
  ASSERT_TRUE(result.has_value()) << result.status().ToString();
  auto snapshot = table_->Latest().value();
  EXPECT_EQ(snapshot->num_active_files(), 5);  // big, alone, concurrent, c1, c2
  auto actions = ParseJsonActions(store_.Read("t/_delta_log/" + VersionStem(result->version) + ".json").value()).value();
  for (const Action& action : actions) {
    if (const auto* add = std::get_if<AddAction>(&action)) {
      EXPECT_FALSE(add->data_change);
    }
    if (const auto* remove = std::get_if<RemoveAction>(&action)) {
      EXPECT_FALSE(remove->data_change);
    }
  }
  EXPECT_EQ(std::get<CommitInfoAction>(actions[0]).operation, "OPTIMIZE");
  EXPECT_EQ(std::get<CommitInfoAction>(actions[0]).is_blind_append, false);
  // Replaying the same plan now conflicts: its files are gone.
  auto again = CommitOptimize(*table_, plan, rewritten);
  EXPECT_EQ(again.status().code(), ErrorCode::kCommitConflict);
  EXPECT_TRUE(ValidateTableLog(store_, "t/").ok());
}

}  // namespace
}  // namespace tarn::delta
