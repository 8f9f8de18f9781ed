// SPDX-License-Identifier: Apache-2.0
// Tests for checkpoint discovery and reading (classic, multi-part, V2 JSON/Parquet with sidecars, _last_checkpoint)
// through a fake CheckpointReader.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/tests/delta_test_table.hpp"

namespace tarn::delta {
namespace {

using namespace tarn::delta::testing;  // NOLINT

// Serves checkpoint "Parquet" files from JSON lines registered per key; records which keys were read.
class FakeCheckpointReader final : public CheckpointReader {
 public:
  void Set(std::string key, std::vector<std::string> lines) {
    std::string content;
    for (const auto& line : lines) content += line + "\n";
    files_[std::move(key)] = std::move(content);
  }
  Status ReadCheckpointActions(storage::ObjectStore& store, std::string_view key, const CheckpointReadRequest&,
                               ActionVisitor& visitor) override {
    std::lock_guard lock(mu_);
    reads_.emplace_back(key);
    if (!store.Stat(key).has_value()) {
      return Error(ErrorCode::kResourceDoesNotExist, "checkpoint file missing: {}", key);
    }
    auto it = files_.find(std::string(key));
    if (it == files_.end()) return Error(ErrorCode::kCorruptData, "not a Parquet file (truncated): {}", key);
    return ReadJsonActions(it->second, key, visitor);
  }
  std::vector<std::string> reads() {
    std::lock_guard lock(mu_);
    return reads_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> files_;
  std::vector<std::string> reads_;
};

std::string Key(int64_t version, std::string suffix) { return "_delta_log/" + VersionStem(version) + suffix; }

// A table whose commits 0..2 were cleaned up after a checkpoint at version 2; commit 3 remains.
class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteCommit(store_, 2, {AddLine("unused-commit-2")});  // the commit at the checkpoint version is not replayed
    WriteCommit(store_, 3, {AddLine("c3"), RemoveLine("cp-a")});
  }
  void WriteClassicCheckpoint(int64_t version, std::vector<std::string> lines) {
    ASSERT_TRUE(store_.Write(Key(version, ".checkpoint.parquet"), "PAR1...").ok());
    reader_.Set(Key(version, ".checkpoint.parquet"), std::move(lines));
  }
  DeltaLog Log() { return DeltaLog(store_, "", {.checkpoint_reader = &reader_, .table_name = "cp"}); }

  storage::InMemoryObjectStore store_;
  FakeCheckpointReader reader_;
};

TEST_F(CheckpointTest, ClassicCheckpointWithLastCheckpointHint) {
  WriteClassicCheckpoint(2, {ProtocolLine(), MetadataLine(), AddLine("cp-a"), AddLine("cp-b"),
                             R"({"txn":{"appId":"app","version":4}})"});
  ASSERT_TRUE(store_.Write("_delta_log/_last_checkpoint", R"({"version":2,"size":5})").ok());
  auto snapshot = Log().LoadLatest();
  ASSERT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
  EXPECT_EQ((*snapshot)->version(), 3);
  EXPECT_EQ((*snapshot)->checkpoint_version(), 2);
  ASSERT_EQ((*snapshot)->num_active_files(), 2);
  EXPECT_EQ((*snapshot)->active_files()[0].path, "cp-b");
  EXPECT_EQ((*snapshot)->active_files()[1].path, "c3");
  EXPECT_EQ((*snapshot)->AppTransactionVersion("app"), 4);
  EXPECT_EQ(reader_.reads(), std::vector<std::string>{Key(2, ".checkpoint.parquet")});
  EXPECT_EQ(Log().LoadAtVersion(2).value()->num_active_files(), 2);
  // Version 1 needs commits that were cleaned up.
  auto old = Log().LoadAtVersion(1);
  ASSERT_FALSE(old.has_value());
  EXPECT_NE(old.status().message().find("commit 0 is missing"), std::string::npos);
}

TEST_F(CheckpointTest, CorruptOrStaleHintFallsBackToListing) {
  WriteClassicCheckpoint(2, {ProtocolLine(), MetadataLine(), AddLine("cp-a"), AddLine("cp-b")});
  for (std::string hint : {"not json", R"({"version":9})", R"({"version":1})"}) {
    ASSERT_TRUE(store_.Write("_delta_log/_last_checkpoint", hint).ok());
    auto snapshot = Log().LoadLatest();
    ASSERT_TRUE(snapshot.has_value()) << hint << ": " << snapshot.status().ToString();
    EXPECT_EQ((*snapshot)->num_active_files(), 2) << hint;
  }
}

TEST_F(CheckpointTest, MultiPartCheckpointReadsEveryPart) {
  std::string part1 = Key(2, ".checkpoint.0000000001.0000000002.parquet");
  std::string part2 = Key(2, ".checkpoint.0000000002.0000000002.parquet");
  ASSERT_TRUE(store_.Write(part1, "PAR1").ok());
  ASSERT_TRUE(store_.Write(part2, "PAR1").ok());
  reader_.Set(part1, {ProtocolLine(), MetadataLine(), AddLine("cp-a")});
  reader_.Set(part2, {AddLine("cp-b")});
  auto snapshot = Log().LoadLatest();
  ASSERT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
  EXPECT_EQ((*snapshot)->num_active_files(), 2);
  EXPECT_EQ(reader_.reads(), (std::vector<std::string>{part1, part2}));
}

TEST_F(CheckpointTest, V2JsonCheckpointWithSidecars) {
  std::string checkpoint = Key(2, ".checkpoint.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json");
  std::string content = R"({"checkpointMetadata":{"version":2}})" "\n" + ProtocolLine(3, 7, "\"v2Checkpoint\"") +
                        "\n" + MetadataLine() + "\n" +
                        R"({"sidecar":{"path":"s1.parquet","sizeInBytes":1,"modificationTime":1}})" "\n" +
                        R"({"sidecar":{"path":"file:///elsewhere/_delta_log/_sidecars/s%202.parquet","sizeInBytes":1,"modificationTime":1}})" "\n";
  ASSERT_TRUE(store_.Write(checkpoint, content).ok());
  ASSERT_TRUE(store_.Write("_delta_log/_sidecars/s1.parquet", "PAR1").ok());
  ASSERT_TRUE(store_.Write("_delta_log/_sidecars/s 2.parquet", "PAR1").ok());
  reader_.Set("_delta_log/_sidecars/s1.parquet", {AddLine("cp-a")});
  reader_.Set("_delta_log/_sidecars/s 2.parquet", {AddLine("cp-b"), AddLine("cp-c")});
  auto snapshot = Log().LoadLatest();
  ASSERT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
  EXPECT_EQ((*snapshot)->num_active_files(), 3);  // cp-b, cp-c, c3 (cp-a removed at v3)
  EXPECT_EQ(reader_.reads(),
            (std::vector<std::string>{"_delta_log/_sidecars/s1.parquet", "_delta_log/_sidecars/s 2.parquet"}));
}

TEST_F(CheckpointTest, V2ParquetCheckpointWithSidecars) {
  std::string checkpoint = Key(2, ".checkpoint.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.parquet");
  ASSERT_TRUE(store_.Write(checkpoint, "PAR1").ok());
  ASSERT_TRUE(store_.Write("_delta_log/_sidecars/s1.parquet", "PAR1").ok());
  reader_.Set(checkpoint, {R"({"checkpointMetadata":{"version":2}})", ProtocolLine(3, 7, "\"v2Checkpoint\""),
                           MetadataLine(), R"({"sidecar":{"path":"s1.parquet","sizeInBytes":1,"modificationTime":1}})"});
  reader_.Set("_delta_log/_sidecars/s1.parquet", {AddLine("cp-a"), AddLine("cp-b")});
  auto snapshot = Log().LoadLatest();
  ASSERT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
  EXPECT_EQ((*snapshot)->num_active_files(), 2);
}

TEST_F(CheckpointTest, UnreadableCheckpointNamesTheFile) {
  ASSERT_TRUE(store_.Write(Key(2, ".checkpoint.parquet"), "PA").ok());  // no fake content: "truncated"
  auto snapshot = Log().LoadLatest();
  ASSERT_FALSE(snapshot.has_value());
  EXPECT_EQ(snapshot.status().code(), ErrorCode::kCorruptData);
  std::string message = snapshot.status().message();
  EXPECT_NE(message.find("table cp checkpoint version 2"), std::string::npos) << message;
  EXPECT_NE(message.find(Key(2, ".checkpoint.parquet")), std::string::npos) << message;
}

TEST_F(CheckpointTest, MissingSidecarIsAnError) {
  std::string checkpoint = Key(2, ".checkpoint.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json");
  std::string content = ProtocolLine() + "\n" + MetadataLine() + "\n" +
                        R"({"sidecar":{"path":"gone.parquet","sizeInBytes":1,"modificationTime":1}})" "\n";
  ASSERT_TRUE(store_.Write(checkpoint, content).ok());
  auto snapshot = Log().LoadLatest();
  ASSERT_FALSE(snapshot.has_value());
  EXPECT_EQ(snapshot.status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_NE(snapshot.status().message().find("gone.parquet"), std::string::npos);
}

TEST_F(CheckpointTest, CheckpointWithoutProtocolIsRefused) {
  WriteClassicCheckpoint(2, {MetadataLine(), AddLine("cp-a")});
  auto snapshot = Log().LoadLatest();
  ASSERT_FALSE(snapshot.has_value());
  EXPECT_EQ(snapshot.status().code(), ErrorCode::kCorruptData);
  EXPECT_NE(snapshot.status().message().find("protocol"), std::string::npos);
}

TEST(CheckpointFallbackTest, WithoutReaderJsonCommitsAreReplayed) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine("a")});
  WriteCommit(store, 1, {AddLine("b")});
  ASSERT_TRUE(store.Write(Key(1, ".checkpoint.parquet"), "PAR1").ok());
  ASSERT_TRUE(store.Write("_delta_log/_last_checkpoint", R"({"version":1})").ok());
  WriteCommit(store, 2, {AddLine("c")});
  auto snapshot = DeltaLog(store, "").LoadLatest();
  ASSERT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
  EXPECT_EQ((*snapshot)->num_active_files(), 3);
  EXPECT_FALSE((*snapshot)->checkpoint_version());

  ASSERT_TRUE(store.Delete(Key(0, ".json")).ok());
  auto missing = DeltaLog(store, "").LoadLatest();
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.status().message().find("checkpoint reader"), std::string::npos) << missing.status().message();
}

TEST(CheckpointFallbackTest, RefreshAfterCheckpointStillIncremental) {
  storage::InMemoryObjectStore store;
  FakeCheckpointReader reader;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine("a")});
  DeltaLog log(store, "", {.checkpoint_reader = &reader, .table_name = ""});
  SnapshotPtr v0 = log.LoadLatest().value();
  WriteCommit(store, 1, {AddLine("b")});
  ASSERT_TRUE(store.Write(Key(1, ".checkpoint.parquet"), "PAR1").ok());
  reader.Set(Key(1, ".checkpoint.parquet"), {ProtocolLine(), MetadataLine(), AddLine("a"), AddLine("b")});
  WriteCommit(store, 2, {AddLine("c")});
  SnapshotPtr v2 = log.Refresh(v0).value();
  EXPECT_EQ(v2->version(), 2);
  EXPECT_EQ(v2->num_active_files(), 3);
  EXPECT_TRUE(reader.reads().empty());  // only the new commits were read
}

}  // namespace
}  // namespace tarn::delta
