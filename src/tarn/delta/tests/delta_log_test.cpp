// SPDX-License-Identifier: Apache-2.0
// Tests for DeltaLog: replay, reconciliation, validation, time travel and incremental refresh (JSON commits).
#include <gtest/gtest.h>

#include <filesystem>

#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/tests/delta_test_table.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace tarn::delta {
namespace {

using namespace tarn::delta::testing;  // NOLINT

std::vector<std::string> Paths(std::span<const FileEntry> files) {
  std::vector<std::string> out;
  for (const auto& file : files) out.emplace_back(file.path);
  return out;
}

TEST(DeltaLogTest, ReplaysAddsAndRemoves) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine("\"p\""),
                         R"({"add":{"path":"p=a/f1.parquet","partitionValues":{"p":"a"},"size":10,"modificationTime":1,"dataChange":true,"stats":"{\"numRecords\":3}"}})",
                         R"({"add":{"path":"p=__HIVE_DEFAULT_PARTITION__/f2.parquet","partitionValues":{"p":null},"size":20,"modificationTime":1,"dataChange":true}})"});
  WriteCommit(store, 1, {RemoveLine("p=a/f1.parquet"), AddLine("f3.parquet", 30)});
  DeltaLog log(store, "");
  auto snapshot = log.LoadLatest();
  ASSERT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
  const Snapshot& s = **snapshot;
  EXPECT_EQ(s.version(), 1);
  EXPECT_EQ(Paths(s.active_files()), (std::vector<std::string>{"p=__HIVE_DEFAULT_PARTITION__/f2.parquet", "f3.parquet"}));
  EXPECT_EQ(Paths(s.tombstones()), std::vector<std::string>{"p=a/f1.parquet"});
  EXPECT_EQ(s.tombstones()[0].deletion_timestamp, 5);
  EXPECT_EQ(s.tombstones()[0].size, 10);  // remove without size keeps the add's size
  EXPECT_EQ(s.TotalActiveBytes(), 50);
  EXPECT_EQ(s.partition_columns(), std::vector<std::string>{"p"});
  EXPECT_EQ(s.schema().ToString(), "struct<id:bigint,p:string>");
  const PartitionValueRef* p = s.active_files()[0].FindPartitionValue("p");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->is_null);
  EXPECT_EQ(s.active_files()[1].version, 1);
  EXPECT_EQ(s.metadata().id, "test-id");

  auto v0 = log.LoadAtVersion(0).value();
  EXPECT_EQ(v0->num_active_files(), 2);
  EXPECT_EQ(v0->active_files()[0].stats, R"({"numRecords":3})");
  EXPECT_EQ(v0->active_files()[0].FindPartitionValue("p")->value, "a");
  EXPECT_EQ(log.LoadAtVersion(2).status().code(), ErrorCode::kInvalidParameterValue);
}

TEST(DeltaLogTest, DecodesAndCanonicalizesPaths) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine("file:/some/with%20space/p@%23h"),
                         AddLine("file:///some/other"), AddLine("special%20p@%23h")});
  WriteCommit(store, 1, {RemoveLine("/some/with%20space/p@%23h"), RemoveLine("/some/other")});
  DeltaLog log(store, "");
  auto snapshot = log.LoadLatest().value();
  EXPECT_EQ(Paths(snapshot->active_files()), std::vector<std::string>{"special p@#h"});
  EXPECT_EQ(Paths(snapshot->tombstones()), (std::vector<std::string>{"/some/with space/p@#h", "/some/other"}));
}

TEST(DeltaLogTest, AbsolutePathsUnderTheTableRootMatchRelativeOnes) {
  std::string dir = (std::filesystem::temp_directory_path() / ("tarn-delta-" + std::to_string(::getpid()))).string();
  auto store = storage::LocalObjectStore::Create(dir).value();
  std::string commit0 = ProtocolLine() + "\n" + MetadataLine() + "\n" + AddLine("file://" + dir + "/t/a.parquet") + "\n";
  ASSERT_TRUE(store->Write("t/_delta_log/" + VersionStem(0) + ".json", commit0).ok());
  ASSERT_TRUE(store->Write("t/_delta_log/" + VersionStem(1) + ".json", RemoveLine("a.parquet") + "\n").ok());
  DeltaLog log(*store, "t");
  auto snapshot = log.LoadLatest();
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
  EXPECT_EQ((*snapshot)->num_active_files(), 0);
}

// Fuzzing regression (storage_path_fuzzer, same root cause): a NUL in a log path ("\u0000", raw or %-encoded) reached
// file opens and the scan SQL.
TEST(DeltaLogTest, PathsWithNulAreCorruptData) {
  for (std::string path : {"a\\u0000b.parquet", "a%00b.parquet", "a\\u0000%20b.parquet"}) {
    storage::InMemoryObjectStore store;
    WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine(path)});
    auto snapshot = DeltaLog(store, "").LoadLatest();
    ASSERT_FALSE(snapshot.has_value()) << path;
    EXPECT_EQ(snapshot.status().code(), path.find('%') != std::string::npos && path.find("\\u") == std::string::npos
                                            ? ErrorCode::kInvalidParameterValue
                                            : ErrorCode::kCorruptData)
        << snapshot.status().ToString();
  }
}

TEST(DeltaLogTest, DeletionVectorsAreProbedByPathAndDvId) {
  storage::InMemoryObjectStore store;
  std::string dv = R"(,"deletionVector":{"storageType":"u","pathOrInlineDv":"vBn[lx{q8@P<9BNH/isA","offset":1,"sizeInBytes":36,"cardinality":2})";
  WriteCommit(store, 0, {ProtocolLine(3, 7, "\"deletionVectors\""), MetadataLine(), AddLine("f.parquet")});
  WriteCommit(store, 1, {RemoveLine("f.parquet"), AddLine("f.parquet", 10, dv)});
  DeltaLog log(store, "");
  auto snapshot = log.LoadLatest().value();
  ASSERT_EQ(snapshot->num_active_files(), 1);
  const FileEntry& file = snapshot->active_files()[0];
  ASSERT_NE(file.deletion_vector, nullptr);
  EXPECT_EQ(file.deletion_vector->storage_type, 'u');
  EXPECT_EQ(file.deletion_vector->cardinality, 2);
  EXPECT_EQ(file.deletion_vector->offset, 1);
  EXPECT_EQ(file.deletion_vector->unique_id, "uvBn[lx{q8@P<9BNH/isA@1");
  ASSERT_EQ(snapshot->tombstones().size(), 1u);
  EXPECT_EQ(snapshot->tombstones()[0].deletion_vector, nullptr);
}

TEST(DeltaLogTest, ReAddAfterRemoveWins) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine("foo"), AddLine("bar")});
  WriteCommit(store, 1, {RemoveLine("foo")});
  WriteCommit(store, 2, {R"({"add":{"path":"foo","partitionValues":{},"size":1,"modificationTime":1700000000000,"dataChange":true}})"});
  DeltaLog log(store, "");
  auto snapshot = log.LoadLatest().value();
  ASSERT_EQ(snapshot->num_active_files(), 2);
  EXPECT_EQ(snapshot->tombstones().size(), 0u);
  for (const auto& file : snapshot->active_files()) {
    if (file.path == "foo") { EXPECT_EQ(file.modification_time, 1700000000000); }
  }
}

TEST(DeltaLogTest, LatestProtocolMetadataTxnAndDomainsWin) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), R"({"txn":{"appId":"a","version":1}})",
                         R"({"domainMetadata":{"domain":"d1","configuration":"{}","removed":false}})",
                         R"({"domainMetadata":{"domain":"d2","configuration":"{\"x\":1}","removed":false}})"});
  WriteCommit(store, 1, {ProtocolLine(1, 4), MetadataLine("", R"("delta.enableChangeDataFeed":"true")"),
                         R"({"txn":{"appId":"a","version":7}})", R"({"txn":{"appId":"b","version":2}})",
                         R"({"domainMetadata":{"domain":"d1","configuration":"","removed":true}})"});
  DeltaLog log(store, "");
  auto snapshot = log.LoadLatest().value();
  EXPECT_EQ(snapshot->protocol().min_writer_version, 4);
  EXPECT_EQ(snapshot->Configuration("delta.enableChangeDataFeed"), "true");
  EXPECT_EQ(snapshot->AppTransactionVersion("a"), 7);
  EXPECT_EQ(snapshot->AppTransactionVersion("b"), 2);
  EXPECT_FALSE(snapshot->AppTransactionVersion("c"));
  EXPECT_EQ(snapshot->domain_metadata().size(), 1u);
  EXPECT_EQ(snapshot->domain_metadata().begin()->first, "d2");
}

TEST(DeltaLogTest, RefusesTablesWithoutProtocolOrMetadata) {
  storage::InMemoryObjectStore no_protocol;
  WriteCommit(no_protocol, 0, {MetadataLine(), AddLine("a")});
  auto a = DeltaLog(no_protocol, "", {.table_name = "t1"}).LoadLatest();
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.status().code(), ErrorCode::kCorruptData);
  EXPECT_NE(a.status().message().find("protocol"), std::string::npos);
  EXPECT_NE(a.status().message().find("t1"), std::string::npos);

  storage::InMemoryObjectStore no_metadata;
  WriteCommit(no_metadata, 0, {ProtocolLine(), AddLine("a")});
  auto b = DeltaLog(no_metadata, "").LoadLatest();
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.status().code(), ErrorCode::kCorruptData);
  EXPECT_NE(b.status().message().find("metaData"), std::string::npos);
}

TEST(DeltaLogTest, RefusesUnknownReaderFeaturesNamingThem) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(3, 7, "\"deletionVectors\",\"blahabl\""), MetadataLine()});
  auto result = DeltaLog(store, "", {.table_name = "features"}).LoadLatest();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), ErrorCode::kFeatureNotSupported);
  EXPECT_NE(result.status().message().find("blahabl"), std::string::npos) << result.status().message();
  EXPECT_NE(result.status().message().find("features"), std::string::npos);

  storage::InMemoryObjectStore future;
  WriteCommit(future, 0, {ProtocolLine(99, 7), MetadataLine()});
  auto too_new = DeltaLog(future, "").LoadLatest();
  ASSERT_FALSE(too_new.has_value());
  EXPECT_NE(too_new.status().message().find("99"), std::string::npos);

  // A caller that does not support deletion vectors refuses them too.
  storage::InMemoryObjectStore dv;
  WriteCommit(dv, 0, {ProtocolLine(3, 7, "\"deletionVectors\""), MetadataLine()});
  EXPECT_TRUE(DeltaLog(dv, "").LoadLatest().has_value());
  auto narrow = DeltaLog(dv, "", {.supported_reader_features = {"columnMapping"}, .table_name = ""}).LoadLatest();
  EXPECT_EQ(narrow.status().code(), ErrorCode::kFeatureNotSupported);
}

TEST(DeltaLogTest, GapsCorruptLinesAndMissingLogsAreErrors) {
  storage::InMemoryObjectStore gap;
  WriteCommit(gap, 0, {ProtocolLine(), MetadataLine()});
  WriteCommit(gap, 2, {AddLine("a")});
  auto gap_result = DeltaLog(gap, "").LoadLatest();
  ASSERT_FALSE(gap_result.has_value());
  EXPECT_NE(gap_result.status().message().find("commit 1 is missing"), std::string::npos);

  storage::InMemoryObjectStore corrupt;
  WriteCommit(corrupt, 0, {ProtocolLine(), MetadataLine()});
  WriteCommit(corrupt, 1, {AddLine("a"), "{\"add\":{\"path\":"});
  auto corrupt_result = DeltaLog(corrupt, "", {.table_name = "c"}).LoadLatest();
  ASSERT_FALSE(corrupt_result.has_value());
  EXPECT_EQ(corrupt_result.status().code(), ErrorCode::kCorruptData);
  std::string message = corrupt_result.status().message();
  EXPECT_NE(message.find("table c version 1"), std::string::npos) << message;
  EXPECT_NE(message.find(VersionStem(1) + ".json"), std::string::npos) << message;
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;

  storage::InMemoryObjectStore empty;
  EXPECT_EQ(DeltaLog(empty, "").LoadLatest().status().code(), ErrorCode::kTableNotFound);

  storage::InMemoryObjectStore bad_partition;
  WriteCommit(bad_partition, 0, {ProtocolLine(), MetadataLine("\"nope\"")});
  EXPECT_EQ(DeltaLog(bad_partition, "").LoadLatest().status().code(), ErrorCode::kCorruptData);
}

TEST(DeltaLogTest, TableUnderAPrefix) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine("a")}, 0, "warehouse/t/");
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine()}, 0, "warehouse/t2/");
  auto snapshot = DeltaLog(store, "warehouse/t").LoadLatest().value();
  EXPECT_EQ(snapshot->table_root(), "warehouse/t/");
  EXPECT_EQ(snapshot->num_active_files(), 1);
}

TEST(DeltaLogTest, TimeTravelByTimestampUsesAdjustedMtimes) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine("a")}, 1000);
  WriteCommit(store, 1, {AddLine("b")}, 2000);
  WriteCommit(store, 2, {AddLine("c")}, 1500);  // clock went backwards: treated as 2001
  WriteCommit(store, 3, {AddLine("d")}, 5000);
  DeltaLog log(store, "");
  EXPECT_EQ(log.LoadAtTimestamp(1000).value()->version(), 0);
  EXPECT_EQ(log.LoadAtTimestamp(1999).value()->version(), 0);
  EXPECT_EQ(log.LoadAtTimestamp(2000).value()->version(), 1);
  EXPECT_EQ(log.LoadAtTimestamp(2001).value()->version(), 2);
  EXPECT_EQ(log.LoadAtTimestamp(4999).value()->version(), 2);
  EXPECT_EQ(log.LoadAtTimestamp(5000).value()->version(), 3);
  EXPECT_EQ(log.LoadAtTimestamp(999).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(log.LoadAtTimestamp(5001).status().code(), ErrorCode::kInvalidParameterValue);
  auto timestamps = log.CommitTimestamps().value();
  EXPECT_EQ(timestamps[2].second, 2001);
  EXPECT_EQ(log.LoadLatest().value()->timestamp(), 5000);
}

TEST(DeltaLogTest, TimeTravelByInCommitTimestamp) {
  storage::InMemoryObjectStore store;
  std::string config = R"("delta.enableInCommitTimestamps":"true","delta.inCommitTimestampEnablementVersion":"1")";
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine("a")}, 100);
  WriteCommit(store, 1, {R"({"commitInfo":{"inCommitTimestamp":10000}})", MetadataLine("", config), AddLine("b")}, 999999);
  WriteCommit(store, 2, {R"({"commitInfo":{"inCommitTimestamp":20000}})", AddLine("c")}, 5);
  DeltaLog log(store, "");
  EXPECT_EQ(log.LoadAtTimestamp(100).value()->version(), 0);
  EXPECT_EQ(log.LoadAtTimestamp(15000).value()->version(), 1);
  EXPECT_EQ(log.LoadAtTimestamp(20000).value()->version(), 2);
  auto latest = log.LoadLatest().value();
  EXPECT_EQ(latest->timestamp(), 20000);
  EXPECT_EQ(latest->in_commit_timestamp(), 20000);
}

TEST(DeltaLogTest, RefreshAppliesOnlyNewCommits) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine("a"), AddLine("b")});
  WriteCommit(store, 1, {RemoveLine("a")});
  DeltaLog log(store, "");
  SnapshotPtr v1 = log.LoadLatest().value();
  SnapshotPtr same = log.Refresh(v1).value();
  EXPECT_EQ(same.get(), v1.get());

  WriteCommit(store, 2, {AddLine("c"), AddLine("a"), R"({"txn":{"appId":"x","version":3}})"});
  WriteCommit(store, 3, {RemoveLine("b")});
  SnapshotPtr refreshed = log.Refresh(v1).value();
  SnapshotPtr full = log.LoadLatest().value();
  EXPECT_EQ(refreshed->version(), 3);
  EXPECT_EQ(Paths(refreshed->active_files()), Paths(full->active_files()));
  EXPECT_EQ(Paths(refreshed->tombstones()), Paths(full->tombstones()));
  EXPECT_EQ(refreshed->AppTransactionVersion("x"), 3);
  // The old snapshot is untouched.
  EXPECT_EQ(v1->version(), 1);
  EXPECT_EQ(Paths(v1->active_files()), std::vector<std::string>{"b"});
  EXPECT_EQ(Paths(v1->tombstones()), std::vector<std::string>{"a"});
}

// Everything a reader sees of one file, for comparing snapshots entry by entry.
std::vector<std::string> Describe(std::span<const FileEntry> files) {
  std::vector<std::string> out;
  for (const FileEntry& file : files) {
    out.push_back(std::string(file.path) + "|" + std::to_string(file.size) + "|" + std::to_string(file.version) + "|" +
                  (file.deletion_vector ? std::string(file.deletion_vector->unique_id) : "") + "|" +
                  std::string(file.stats) + "|" + (file.data_change ? "1" : "0"));
  }
  return out;
}

void ExpectSameFiles(const Snapshot& actual, const Snapshot& expected) {
  EXPECT_EQ(actual.version(), expected.version());
  EXPECT_EQ(actual.num_active_files(), expected.num_active_files());
  EXPECT_EQ(actual.num_active_files(), static_cast<int64_t>(actual.active_files().size()));
  EXPECT_EQ(actual.TotalActiveBytes(), expected.TotalActiveBytes());
  EXPECT_EQ(Describe(actual.active_files()), Describe(expected.active_files()));
  EXPECT_EQ(Describe(actual.tombstones()), Describe(expected.tombstones()));
}

// Many small commits refreshed one at a time: the layered snapshots (shared file table + overlay, compacted once the
// overlay grows past its threshold) must match a full replay exactly, in order, and older snapshots must not change.
TEST(DeltaLogTest, RefreshChainsMatchFullLoadsAcrossCompactions) {
  storage::InMemoryObjectStore store;
  std::vector<std::string> first = {ProtocolLine(), MetadataLine()};
  std::vector<std::string> live;
  std::vector<std::string> removed;
  for (int i = 0; i < 200; ++i) {
    live.push_back("base-" + std::to_string(i));
    first.push_back(AddLine(live.back(), i + 1, R"(,"stats":"{\"numRecords\":1}")"));
  }
  WriteCommit(store, 0, first);
  DeltaLog log(store, "");
  SnapshotPtr snapshot = log.LoadLatest().value();
  ASSERT_NE(snapshot->file_table(), nullptr);
  uint64_t random = 42;
  auto next = [&random](size_t bound) {
    random = random * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>((random >> 33) % bound);
  };
  SnapshotPtr middle;
  bool saw_overlay = false;
  bool saw_compaction = false;
  for (int64_t version = 1; version <= 80; ++version) {
    std::vector<std::string> lines;
    for (int i = 0; i < 20; ++i) {
      live.push_back("v" + std::to_string(version) + "-" + std::to_string(i));
      lines.push_back(AddLine(live.back(), version * 100 + i));
    }
    for (int i = 0; i < 5 && !live.empty(); ++i) {
      size_t pick = next(live.size());
      lines.push_back(RemoveLine(live[pick]));
      removed.push_back(live[pick]);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    for (int i = 0; i < 2 && !removed.empty(); ++i) {
      size_t pick = next(removed.size());
      lines.push_back(AddLine(removed[pick], 7));  // re-add keeps the key's first position
      live.push_back(removed[pick]);
      removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    if (version % 7 == 0) {
      lines.push_back(AddLine(live.front(), 99, R"(,"deletionVector":{"storageType":"i","pathOrInlineDv":"wi5b=000010000siXQKl0rr91000f55c8Xg0@(","offset":1,"sizeInBytes":40,"cardinality":6})"));
    }
    WriteCommit(store, version, lines);
    const FileTable* before = snapshot->file_table().get();
    snapshot = log.Refresh(snapshot).value();
    ASSERT_EQ(snapshot->version(), version);
    if (snapshot->file_overlay() != nullptr) saw_overlay = true;
    if (snapshot->file_table().get() != before) saw_compaction = true;
    if (version == 30) middle = snapshot;
    if (version % 10 == 0) ExpectSameFiles(*snapshot, *log.LoadLatest().value());
  }
  EXPECT_TRUE(saw_overlay);
  EXPECT_TRUE(saw_compaction);
  ExpectSameFiles(*middle, *log.LoadAtVersion(30).value());
  // A second branch from an older snapshot does not disturb the newer one.
  SnapshotPtr branch = log.Refresh(middle).value();
  ExpectSameFiles(*branch, *snapshot);
  SnapshotPtr applied = log.ApplyCommits(middle, {LogFile{.key = "_delta_log/" + VersionStem(31) + ".json",
                                                          .type = LogFileType::kCommit, .version = 31}})
                            .value();
  ExpectSameFiles(*applied, *log.LoadAtVersion(31).value());
  ExpectSameFiles(*middle, *log.LoadAtVersion(30).value());
}

// Full loads that parse ahead on a second thread (forced here with parse_ahead_min_bytes = 0) reconcile exactly like
// the single-threaded replay: adds, removes, re-adds, deletion vectors, txns, domains, metadata changes, and a commit
// large enough to be read in pieces. Errors are the same.
TEST(DeltaLogTest, ParseAheadLoadsMatchTheSingleThreadedReplay) {
  storage::InMemoryObjectStore store;
  std::vector<std::string> live;
  std::vector<std::string> removed;
  std::vector<std::string> first = {ProtocolLine(), MetadataLine()};
  for (int i = 0; i < 300; ++i) {
    live.push_back("base%20" + std::to_string(i));
    first.push_back(AddLine(live.back(), i + 1, R"(,"stats":"{\"numRecords\":1}")"));
  }
  WriteCommit(store, 0, first);
  uint64_t random = 7;
  auto next = [&random](size_t bound) {
    random = random * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>((random >> 33) % bound);
  };
  for (int64_t version = 1; version <= 40; ++version) {
    std::vector<std::string> lines = {R"({"commitInfo":{"timestamp":)" + std::to_string(1000 + version) + "}}"};
    for (int i = 0; i < 15; ++i) {
      live.push_back("v" + std::to_string(version) + "-" + std::to_string(i));
      lines.push_back(AddLine(live.back(), version * 100 + i));
    }
    for (int i = 0; i < 6 && !live.empty(); ++i) {
      size_t pick = next(live.size());
      lines.push_back(i % 2 == 0 ? RemoveLine(live[pick]) : RemoveLine(live[pick], R"(,"size":3)"));
      removed.push_back(live[pick]);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    if (!removed.empty()) {
      size_t pick = next(removed.size());
      lines.push_back(AddLine(removed[pick], 7));
      live.push_back(removed[pick]);
      removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    if (version % 5 == 0) {
      lines.push_back(AddLine(live.front(), 99, R"(,"deletionVector":{"storageType":"i","pathOrInlineDv":"wi5b=000010000siXQKl0rr91000f55c8Xg0@(","offset":1,"sizeInBytes":40,"cardinality":6})"));
      lines.push_back(R"({"txn":{"appId":"app","version":)" + std::to_string(version) + "}}");
      lines.push_back(R"({"domainMetadata":{"domain":"d)" + std::to_string(version % 3) +
                      R"(","configuration":"{}","removed":false}})");
    }
    if (version == 20) lines.push_back(MetadataLine("", R"("k":"v")"));
    if (version == 30) {  // one commit of more than 8 MiB: read in pieces by the parse-ahead thread
      std::string stats = R"(,"stats":")" + std::string(400, 'x') + "\"";
      for (size_t bytes = 0, i = 0; bytes < (size_t{9} << 20); ++i) {
        live.push_back("big-" + std::to_string(i));
        lines.push_back(AddLine(live.back(), 1, stats));
        bytes += lines.back().size() + 1;
      }
    }
    WriteCommit(store, version, lines);
  }
  DeltaLogOptions sequential;
  sequential.parse_ahead_min_bytes = SIZE_MAX;
  DeltaLogOptions parallel;
  parallel.parse_ahead_min_bytes = 0;
  for (int64_t version : {int64_t{0}, int64_t{17}, int64_t{30}, int64_t{40}}) {
    SnapshotPtr expected = DeltaLog(store, "", sequential).LoadAtVersion(version).value();
    SnapshotPtr actual = DeltaLog(store, "", parallel).LoadAtVersion(version).value();
    ExpectSameFiles(*actual, *expected);
    EXPECT_EQ(actual->metadata().configuration, expected->metadata().configuration);
    EXPECT_EQ(actual->AppTransactionVersion("app"), expected->AppTransactionVersion("app"));
    EXPECT_EQ(actual->domain_metadata().size(), expected->domain_metadata().size());
    EXPECT_EQ(actual->timestamp(), expected->timestamp());
  }
  // A corrupt line in the middle of the log: the same error (table, version, file, line) either way.
  WriteCommit(store, 12, {AddLine("x"), "{broken"});
  auto expected = DeltaLog(store, "", sequential).LoadLatest();
  auto actual = DeltaLog(store, "", parallel).LoadLatest();
  ASSERT_FALSE(expected.has_value());
  ASSERT_FALSE(actual.has_value());
  EXPECT_EQ(actual.status().ToString(), expected.status().ToString());
  EXPECT_NE(actual.status().message().find("version 12"), std::string::npos) << actual.status().ToString();
}

// Commits of 8 MiB and more are read in 4 MiB pieces split at line ends: nothing is lost or doubled at the
// boundaries, and errors still name the line of the whole file.
TEST(DeltaLogTest, LargeCommitsAreReadInPiecesWithFileLineNumbers) {
  storage::InMemoryObjectStore store;
  std::vector<std::string> lines = {ProtocolLine(), MetadataLine()};
  std::string stats = R"(,"stats":")" + std::string(300, 'x') + "\"";
  int num_files = 0;
  size_t bytes = 0;
  while (bytes < (size_t{9} << 20)) {
    lines.push_back(AddLine("f" + std::to_string(num_files++), 1, stats));
    bytes += lines.back().size() + 1;
  }
  WriteCommit(store, 0, lines);
  DeltaLog log(store, "");
  SnapshotPtr snapshot = log.LoadLatest().value();
  ASSERT_EQ(snapshot->num_active_files(), num_files);
  EXPECT_EQ(snapshot->active_files().front().path, "f0");
  EXPECT_EQ(snapshot->active_files().back().path, "f" + std::to_string(num_files - 1));
  for (const FileEntry& file : snapshot->active_files()) ASSERT_EQ(file.stats.size(), 300u);

  lines[lines.size() - 3] = "{not json";
  WriteCommit(store, 0, lines);
  auto broken = log.LoadLatest();
  ASSERT_FALSE(broken.has_value());
  EXPECT_NE(broken.status().message().find("line " + std::to_string(lines.size() - 2)), std::string::npos)
      << broken.status().ToString();
}

TEST(DeltaLogTest, CorruptLastCheckpointFallsBackToListing) {
  storage::InMemoryObjectStore store;
  WriteCommit(store, 0, {ProtocolLine(), MetadataLine(), AddLine("a")});
  ASSERT_TRUE(store.Write("_delta_log/_last_checkpoint", "{garbage").ok());
  EXPECT_EQ(DeltaLog(store, "").LoadLatest().value()->num_active_files(), 1);
  ASSERT_TRUE(store.Write("_delta_log/_last_checkpoint", R"({"version":7,"size":1})").ok());  // stale hint
  EXPECT_EQ(DeltaLog(store, "").LoadLatest().value()->version(), 0);
}

}  // namespace
}  // namespace tarn::delta
