// SPDX-License-Identifier: Apache-2.0
// Tests for checkpoint writing (interval, content, _last_checkpoint, failures) and expired log cleanup.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tarn/delta/log_cleanup.hpp"
#include "tarn/delta/tests/write_test_table.hpp"
#include "tarn/storage/in_memory_object_store.hpp"

namespace tarn::delta {
namespace {

using namespace tarn::delta::testing;  // NOLINT

class CheckpointWriteTest : public ::testing::Test {
 protected:
  std::unique_ptr<DeltaTable> MakeTable(CheckpointWriter* writer) {
    TableOptions options;
    options.clock = clock_.Function();
    options.checkpoint_writer = writer;
    options.checkpoint_reader = &reader_;
    return std::make_unique<DeltaTable>(store_, "", options);
  }
  void Create(DeltaTable& table, std::map<std::string, std::string> config = {}) {
    CreateTableRequest request;
    request.schema = TestSchema();
    request.configuration = std::move(config);
    ASSERT_TRUE(table.Create(request).has_value());
  }
  std::string Key(int64_t version, std::string suffix) { return "_delta_log/" + VersionStem(version) + suffix; }

  storage::InMemoryObjectStore store_;
  TestClock clock_;
  JsonCheckpointWriter writer_;
  JsonCheckpointReader reader_;
};

TEST_F(CheckpointWriteTest, CheckpointsEveryIntervalWithLastCheckpointHint) {
  auto table = MakeTable(&writer_);
  Create(*table, {{"delta.checkpointInterval", "5"}});
  for (int i = 1; i <= 12; ++i) ASSERT_TRUE(Append(*table, "f" + std::to_string(i) + ".parquet").has_value());
  // A remove leaves a tombstone that the next checkpoint keeps.
  auto txn = table->StartTransaction().value();
  txn->RemoveFile(txn->snapshot()->active_files()[0]);
  ASSERT_TRUE(txn->Commit().has_value());
  for (int i = 14; i <= 15; ++i) ASSERT_TRUE(Append(*table, "f" + std::to_string(i) + ".parquet").has_value());
  EXPECT_EQ(writer_.num_written(), 3);  // versions 5, 10, 15
  EXPECT_TRUE(store_.Stat(Key(5, ".checkpoint.parquet")).has_value());
  EXPECT_TRUE(store_.Stat(Key(10, ".checkpoint.parquet")).has_value());
  auto hint = nlohmann::json::parse(store_.Read("_delta_log/_last_checkpoint").value());
  EXPECT_EQ(hint["version"], 15);
  EXPECT_EQ(hint["numOfAddFiles"], 13);
  EXPECT_EQ(hint["size"], 2 + 13 + 1);  // protocol, metaData, adds, one tombstone
  EXPECT_GT(hint["sizeInBytes"].get<int64_t>(), 0);
  // The checkpoint rows come in the documented order and replay to the same state.
  auto rows = ParseJsonActions(store_.Read(Key(15, ".checkpoint.parquet")).value()).value();
  EXPECT_TRUE(std::holds_alternative<ProtocolAction>(rows[0]));
  EXPECT_TRUE(std::holds_alternative<MetadataAction>(rows[1]));
  EXPECT_TRUE(std::holds_alternative<RemoveAction>(rows.back()));
  EXPECT_FALSE(std::get<AddAction>(rows[2]).data_change);
  auto loaded = DeltaLog(store_, "", ReaderOptions(reader_)).LoadLatest().value();
  EXPECT_EQ(loaded->checkpoint_version(), 15);
  EXPECT_EQ(loaded->num_active_files(), 13);
  EXPECT_EQ(loaded->tombstones().size(), 1u);
  EXPECT_TRUE(ValidateTableLog(store_, "").ok());
}

TEST_F(CheckpointWriteTest, FailingCheckpointNeverFailsTheCommit) {
  writer_.set_fail(true);
  auto table = MakeTable(&writer_);
  Create(*table, {{"delta.checkpointInterval", "2"}});
  for (int i = 1; i <= 4; ++i) {
    auto result = Append(*table, "f" + std::to_string(i) + ".parquet");
    ASSERT_TRUE(result.has_value()) << result.status().ToString();
  }
  EXPECT_EQ(table->num_post_commit_failures(), 2);
  EXPECT_FALSE(store_.Stat("_delta_log/_last_checkpoint").has_value());
  EXPECT_EQ(table->Latest().value()->version(), 4);
}

TEST_F(CheckpointWriteTest, PostCommitWorkCanRunElsewhere) {
  std::vector<std::function<void()>> queued;
  TableOptions options;
  options.clock = clock_.Function();
  options.checkpoint_writer = &writer_;
  options.post_commit_executor = [&](std::function<void()> task) { queued.push_back(std::move(task)); };
  DeltaTable table(store_, "", options);
  Create(table, {{"delta.checkpointInterval", "1"}});
  ASSERT_TRUE(Append(table, "a.parquet").has_value());
  EXPECT_EQ(writer_.num_written(), 0);
  ASSERT_EQ(queued.size(), 1u);
  queued[0]();
  EXPECT_EQ(writer_.num_written(), 1);
}

TEST_F(CheckpointWriteTest, ExpiredLogsAreCleanedUpBeforeTheLatestCheckpoint) {
  store_.TestingSetClock(clock_.Function());
  auto table = MakeTable(&writer_);
  Create(*table, {{"delta.checkpointInterval", "3"}, {"delta.logRetentionDuration", "interval 1 day"}});
  for (int i = 1; i <= 7; ++i) ASSERT_TRUE(Append(*table, "f" + std::to_string(i) + ".parquet").has_value());
  // Nothing is old enough yet.
  EXPECT_TRUE(store_.Stat(Key(0, ".json")).has_value());
  clock_.Advance(2 * kMillisPerDay);
  for (int i = 8; i <= 9; ++i) ASSERT_TRUE(Append(*table, "f" + std::to_string(i) + ".parquet").has_value());
  // The checkpoint at 9 triggered cleanup: versions 0..7 are expired, so everything before checkpoint 6 goes
  // (checkpoint 9's predecessors 8 is not expired).
  for (int v = 0; v < 6; ++v) EXPECT_FALSE(store_.Stat(Key(v, ".json")).has_value()) << v;
  EXPECT_FALSE(store_.Stat(Key(3, ".checkpoint.parquet")).has_value());
  EXPECT_TRUE(store_.Stat(Key(6, ".json")).has_value());
  EXPECT_TRUE(store_.Stat(Key(6, ".checkpoint.parquet")).has_value());
  auto loaded = DeltaLog(store_, "", ReaderOptions(reader_)).LoadLatest().value();
  EXPECT_EQ(loaded->version(), 9);
  EXPECT_EQ(loaded->num_active_files(), 9);
  EXPECT_TRUE(DeltaLog(store_, "", ReaderOptions(reader_)).LoadAtVersion(6).has_value());
  // Running it again later (everything expired) cuts at the newest checkpoint and keeps the log readable.
  clock_.Advance(2 * kMillisPerDay);
  auto cleaned = CleanupExpiredLogs(store_, "", kMillisPerDay, clock_.now->load()).value();
  EXPECT_EQ(cleaned.oldest_kept_version, 9);
  EXPECT_TRUE(store_.Stat(Key(9, ".json")).has_value());
  EXPECT_EQ(DeltaLog(store_, "", ReaderOptions(reader_)).LoadLatest().value()->num_active_files(), 9);
}

TEST_F(CheckpointWriteTest, CleanupWithoutCheckpointDeletesNothing) {
  auto table = MakeTable(nullptr);
  Create(*table);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(Append(*table, "f" + std::to_string(i) + ".parquet").has_value());
  auto cleaned = CleanupExpiredLogs(store_, "", 0, clock_.now->load() + 100 * kMillisPerDay).value();
  EXPECT_TRUE(cleaned.deleted_keys.empty());
  EXPECT_EQ(cleaned.oldest_kept_version, -1);
}

}  // namespace
}  // namespace tarn::delta
