// SPDX-License-Identifier: Apache-2.0
// Tests the background DeltaCheckpointer: coalescing, interval spacing, drain on destruction, failures and drops.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tarn/delta/action_serializer.hpp"
#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/log_segment.hpp"
#include "tarn/delta/protocol_validator.hpp"
#include "tarn/delta/transaction.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/delta_checkpoint_writer.hpp"
#include "tarn/engine/delta_checkpointer.hpp"
#include "tarn/engine/delta_writer.hpp"
#include "tarn/storage/local_object_store.hpp"
#include "test_util.hpp"

namespace tarn::engine {
namespace {

namespace fs = std::filesystem;

using test_util::StateLines;
using test_util::TempDir;

// The real Parquet checkpoint writer behind a gate: with the gate closed, a write announces that it started and waits
// until the test opens it (so a test can commit while a checkpoint is being written, without sleeping). `fail_next`
// makes the next writes fail before writing anything (a disk error as the checkpointer sees it).
class GatedWriter final : public delta::CheckpointWriter {
 public:
  explicit GatedWriter(Database& database) : inner_(database) {}

  Result<delta::CheckpointFileInfo> WriteCheckpoint(storage::ObjectStore& store, std::string_view key,
                                                    const delta::CheckpointContent& content) override {
    {
      std::unique_lock lock(mu_);
      ++started_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return open_; });
      if (fail_next_ > 0) {
        --fail_next_;
        return Error(ErrorCode::kIoError, "injected checkpoint write failure");
      }
    }
    return inner_.WriteCheckpoint(store, key, content);
  }
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void FailNext(int n) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
  }
  // Waits until `n` writes have started in total.
  void WaitStarted(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return started_ >= n; });
  }

 private:
  DuckCheckpointWriter inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int started_ = 0;
  int fail_next_ = 0;
};

delta::Schema TestSchema() {
  return delta::ParseSchema(
             R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]})")
      .value();
}

class DeltaCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = Database::Open({}).value();
    reader_ = std::make_unique<DuckCheckpointReader>(*database_);
    writer_ = std::make_unique<GatedWriter>(*database_);
    DeltaCheckpointerOptions options;
    options.on_checkpoint = [this](const std::string&, const delta::CheckpointResult& result) {
      std::lock_guard lock(mu_);
      written_versions_.push_back(result.version);
    };
    checkpointer_ = std::make_unique<DeltaCheckpointer>(*writer_, options);
  }
  void TearDown() override {
    writer_->Open();
    checkpointer_.reset();
  }

  // A table at `root` whose commits go to the checkpointer (no inline checkpoint writer).
  struct Table {
    std::unique_ptr<storage::ObjectStore> store;
    std::unique_ptr<delta::DeltaTable> table;
  };
  Table Open(const std::string& root, delta::PostCommitScheduler* scheduler) {
    Table out;
    out.store = storage::LocalObjectStore::Create(root, true).value();
    delta::TableOptions options;
    options.checkpoint_reader = reader_.get();
    options.post_commit_scheduler = scheduler;
    out.table = std::make_unique<delta::DeltaTable>(*out.store, "", options);
    return out;
  }
  void Create(delta::DeltaTable& table, int interval) {
    delta::CreateTableRequest request;
    request.schema = TestSchema();
    request.configuration = {{"delta.checkpointInterval", std::to_string(interval)}};
    auto created = table.Create(request);
    ASSERT_TRUE(created.has_value()) << created.status().ToString();
  }
  // Appends one file per commit; returns the last committed version.
  int64_t Append(delta::DeltaTable& table, int commits) {
    int64_t version = -1;
    for (int i = 0; i < commits; i++) {
      auto txn = table.StartTransaction();
      EXPECT_TRUE(txn.has_value()) << txn.status().ToString();
      if (!txn.has_value()) return version;
      delta::AddAction add;
      add.path = "part-" + std::to_string(next_file_++) + ".snappy.parquet";
      add.size = 100;
      add.modification_time = 1'700'000'000'000;
      add.stats = R"({"numRecords":1})";
      (*txn)->AddFile(std::move(add));
      auto committed = (*txn)->Commit();
      EXPECT_TRUE(committed.has_value()) << committed.status().ToString();
      if (!committed.has_value()) return version;
      version = committed->version;
    }
    return version;
  }
  // Versions of the checkpoint files in the log, ascending.
  static std::vector<int64_t> CheckpointFiles(const std::string& root) {
    std::vector<int64_t> out;
    for (const auto& entry : fs::directory_iterator(root + "/_delta_log")) {
      std::string name = entry.path().filename().string();
      if (name.ends_with(".checkpoint.parquet")) out.push_back(std::stoll(name.substr(0, 20)));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // The table read through its newest checkpoint equals the JSON-only replay, and the log passes the validator.
  void ExpectReadsBackIdentically(const std::string& root, int64_t checkpoint_version, int64_t version) {
    auto store = storage::LocalObjectStore::Create(root, false).value();
    delta::DeltaLogOptions with_reader;
    with_reader.checkpoint_reader = reader_.get();
    auto from_checkpoint = delta::DeltaLog(*store, "", with_reader).LoadLatest();
    ASSERT_TRUE(from_checkpoint.has_value()) << from_checkpoint.status().ToString();
    EXPECT_EQ((*from_checkpoint)->version(), version);
    EXPECT_EQ((*from_checkpoint)->checkpoint_version(), checkpoint_version);
    auto from_json = delta::DeltaLog(*store, "", delta::DeltaLogOptions{}).LoadLatest();
    ASSERT_TRUE(from_json.has_value()) << from_json.status().ToString();
    EXPECT_FALSE((*from_json)->checkpoint_version().has_value());
    EXPECT_EQ(StateLines(**from_checkpoint), StateLines(**from_json));
    EXPECT_EQ((*from_checkpoint)->num_active_files(), version);  // one file per commit after the create
    Status valid = delta::ValidateTableLog(*store, "");
    EXPECT_TRUE(valid.ok()) << valid.ToString();
  }
  std::vector<int64_t> WrittenVersions() {
    std::lock_guard lock(mu_);
    return written_versions_;
  }

  TempDir dir_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<DuckCheckpointReader> reader_;
  std::unique_ptr<GatedWriter> writer_;
  std::unique_ptr<DeltaCheckpointer> checkpointer_;
  int next_file_ = 0;
  std::mutex mu_;
  std::vector<int64_t> written_versions_;
};

TEST_F(DeltaCheckpointerTest, UnderLightLoadACheckpointLandsAtEveryInterval) {
  std::string root = dir_.path() + "/t";
  Table t = Open(root, checkpointer_.get());
  Create(*t.table, 10);
  for (int round = 0; round < 3; round++) {
    Append(*t.table, 10);
    checkpointer_->Drain();
  }
  EXPECT_EQ(CheckpointFiles(root), (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(WrittenVersions(), (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(checkpointer_->stats().checkpoints_written, 3);
  EXPECT_EQ(checkpointer_->stats().commits_seen, 31);
  ExpectReadsBackIdentically(root, 30, 30);
}

TEST_F(DeltaCheckpointerTest, CommitsDuringACheckpointCoalesceToTheNewestVersion) {
  std::string root = dir_.path() + "/t";
  Table t = Open(root, checkpointer_.get());
  Create(*t.table, 10);
  writer_->Close();
  Append(*t.table, 10);   // version 10: its checkpoint starts and waits at the gate
  writer_->WaitStarted(1);
  // 90 more commits while it is being written, each crossing or passing an interval: none of them waits for it.
  EXPECT_EQ(Append(*t.table, 90), 100);
  EXPECT_TRUE(CheckpointFiles(root).empty());
  writer_->Open();
  checkpointer_->Drain();
  // One checkpoint for the version that was due first, then one for the newest: not one per interval.
  EXPECT_EQ(WrittenVersions(), (std::vector<int64_t>{10, 100}));
  EXPECT_EQ(CheckpointFiles(root), (std::vector<int64_t>{10, 100}));
  EXPECT_EQ(checkpointer_->stats().checkpoints_written, 2);
  ExpectReadsBackIdentically(root, 100, 100);
}

TEST_F(DeltaCheckpointerTest, ACheckpointFailureNeverFailsACommitAndTheNextCommitRetries) {
  std::string root = dir_.path() + "/t";
  Table t = Open(root, checkpointer_.get());
  Create(*t.table, 10);
  writer_->FailNext(1);
  EXPECT_EQ(Append(*t.table, 10), 10);  // the commit of version 10 succeeds although its checkpoint fails
  checkpointer_->Drain();
  EXPECT_EQ(checkpointer_->stats().checkpoints_failed, 1);
  EXPECT_TRUE(CheckpointFiles(root).empty());
  EXPECT_EQ(Append(*t.table, 1), 11);  // still due (11 - 0 >= 10): retried at the newest version
  checkpointer_->Drain();
  EXPECT_EQ(CheckpointFiles(root), (std::vector<int64_t>{11}));
  EXPECT_EQ(t.table->num_post_commit_failures(), 0);  // the table never ran (or saw) a checkpoint itself
  ExpectReadsBackIdentically(root, 11, 11);
}

TEST_F(DeltaCheckpointerTest, DestructionFinishesQueuedCheckpoints) {
  std::string root_a = dir_.path() + "/a";
  std::string root_b = dir_.path() + "/b";
  Table a = Open(root_a, checkpointer_.get());
  Table b = Open(root_b, checkpointer_.get());
  Create(*a.table, 10);
  Create(*b.table, 5);
  writer_->Close();
  Append(*a.table, 10);  // a@10 is being written (held at the gate) ...
  writer_->WaitStarted(1);
  Append(*b.table, 5);  // ... and b@5 is queued behind it
  writer_->Open();
  checkpointer_.reset();  // no Drain: the destructor finishes both
  EXPECT_EQ(CheckpointFiles(root_a), (std::vector<int64_t>{10}));
  EXPECT_EQ(CheckpointFiles(root_b), (std::vector<int64_t>{5}));
}

TEST_F(DeltaCheckpointerTest, ATableDroppedAndCreatedAgainIsLeftAlone) {
  std::string root_a = dir_.path() + "/a";
  std::string root_b = dir_.path() + "/b";
  Table a = Open(root_a, checkpointer_.get());
  Table b = Open(root_b, checkpointer_.get());
  Create(*a.table, 10);
  Create(*b.table, 10);
  writer_->Close();
  Append(*b.table, 10);  // the worker is busy with b@10 ...
  writer_->WaitStarted(1);
  Append(*a.table, 10);  // ... while a@10 waits in the queue
  // a is dropped and created again at the same path by someone else (no scheduler): 12 commits, so its version 10
  // exists too, with other content.
  a = Table{};
  fs::remove_all(root_a);
  Table again = Open(root_a, nullptr);
  Create(*again.table, 10);
  Append(*again.table, 12);
  writer_->Open();
  checkpointer_->Drain();
  EXPECT_TRUE(CheckpointFiles(root_a).empty());  // the old table's version 10 was not checkpointed into the new log
  EXPECT_EQ(checkpointer_->stats().checkpoints_abandoned, 1);
  EXPECT_EQ(CheckpointFiles(root_b), (std::vector<int64_t>{10}));
  // Commits to the new table through the checkpointer start over from its own versions.
  Table reopened = Open(root_a, checkpointer_.get());
  EXPECT_EQ(Append(*reopened.table, 1), 13);
  checkpointer_->Drain();
  EXPECT_EQ(CheckpointFiles(root_a), (std::vector<int64_t>{13}));
  ExpectReadsBackIdentically(root_a, 13, 13);
}

// DeltaWriter (every SQL data write) checkpoints in the background, and destroying it (server stop, the end of a
// `tarn sql --local` run) leaves the due checkpoint written.
TEST(DeltaWriterCheckpointTest, WriterDestructionLeavesTheDueCheckpointWritten) {
  TempDir dir;
  auto database = Database::Open({}).value();
  std::string root = dir.path() + "/t";
  auto writer = std::make_unique<DeltaWriter>(*database);
  DeltaCreateTable create;
  create.source_query = "SELECT 1::BIGINT AS id";
  ASSERT_TRUE(writer->CreateTable(root, create).has_value());
  for (int i = 0; i < 10; i++) {
    DeltaWrite write;
    write.source_query = "SELECT " + std::to_string(i) + "::BIGINT AS id";
    auto written = writer->Write(root, write);
    ASSERT_TRUE(written.has_value()) << written.status().ToString();
  }
  writer.reset();
  EXPECT_TRUE(fs::exists(root + "/_delta_log/" + delta::VersionStem(10) + ".checkpoint.parquet"));
}

}  // namespace
}  // namespace tarn::engine
