// SPDX-License-Identifier: Apache-2.0
// Tests for log file names, _last_checkpoint parsing and checkpoint/commit selection.
#include <gtest/gtest.h>

#include "tarn/delta/log_segment.hpp"

namespace tarn::delta {
namespace {

std::vector<LogFile> Files(const std::vector<std::string>& names) {
  std::vector<LogFile> files;
  for (const auto& name : names) {
    auto file = ParseLogFileName(storage::ObjectInfo{"_delta_log/" + name, 1, 1});
    EXPECT_TRUE(file.has_value()) << name;
    if (file) files.push_back(*file);
  }
  return files;
}

TEST(LogSegmentTest, ParsesFileNames) {
  auto parse = [](std::string name) { return ParseLogFileName(storage::ObjectInfo{"t/_delta_log/" + name, 5, 6}); };
  auto commit = parse("00000000000000000012.json");
  ASSERT_TRUE(commit);
  EXPECT_EQ(commit->type, LogFileType::kCommit);
  EXPECT_EQ(commit->version, 12);
  EXPECT_EQ(commit->size, 5);
  EXPECT_EQ(commit->modification_time, 6);
  EXPECT_EQ(parse("00000000000000000010.checkpoint.parquet")->type, LogFileType::kClassicCheckpoint);
  auto part = parse("00000000000000000010.checkpoint.0000000002.0000000003.parquet");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->type, LogFileType::kMultiPartCheckpoint);
  EXPECT_EQ(part->part, 2);
  EXPECT_EQ(part->num_parts, 3);
  auto v2 = parse("00000000000000000002.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->type, LogFileType::kV2Checkpoint);
  EXPECT_TRUE(v2->is_json);
  EXPECT_FALSE(parse("00000000000000000002.checkpoint.abc.parquet")->is_json);
  EXPECT_EQ(parse("00000000000000000003.crc")->type, LogFileType::kChecksum);
  auto compaction = parse("00000000000000000004.00000000000000000009.compacted.json");
  ASSERT_TRUE(compaction);
  EXPECT_EQ(compaction->end_version, 9);
  for (std::string other : {"_last_checkpoint", "0000000000000000001.json", "00000000000000000001.jsonx",
                            "00000000000000000001.checkpoint.0000000004.0000000003.parquet", "abc.json",
                            ".00000000000000000001.json.crc"}) {
    EXPECT_FALSE(parse(other).has_value()) << other;
  }
  EXPECT_EQ(VersionStem(7), "00000000000000000007");
}

TEST(LogSegmentTest, ParsesLastCheckpoint) {
  auto hint = ParseLastCheckpoint(R"({"version":10,"size":13,"parts":3,"sizeInBytes":100})");
  ASSERT_TRUE(hint);
  EXPECT_EQ(hint->version, 10);
  EXPECT_EQ(hint->parts, 3);
  EXPECT_FALSE(ParseLastCheckpoint("{\"version\":1").has_value());
  EXPECT_FALSE(ParseLastCheckpoint("{\"size\":1}").has_value());
  EXPECT_FALSE(ParseLastCheckpoint("{\"version\":-1}").has_value());
  EXPECT_FALSE(ParseLastCheckpoint("garbage").has_value());
}

TEST(LogSegmentTest, NoCheckpointUsesAllCommits) {
  auto segment = BuildLogSegment(Files({"00000000000000000000.json", "00000000000000000001.json",
                                        "00000000000000000002.json"}),
                                 std::nullopt, {});
  ASSERT_TRUE(segment.has_value()) << segment.status().ToString();
  EXPECT_EQ(segment->version, 2);
  EXPECT_FALSE(segment->checkpoint_version);
  EXPECT_EQ(segment->commits.size(), 3u);
  auto at1 = BuildLogSegment(Files({"00000000000000000000.json", "00000000000000000001.json",
                                    "00000000000000000002.json"}),
                             1, {});
  EXPECT_EQ(at1->commits.size(), 2u);
}

TEST(LogSegmentTest, PicksNewestCheckpointAtOrBelowTarget) {
  auto files = Files({"00000000000000000000.json", "00000000000000000001.json", "00000000000000000002.json",
                      "00000000000000000002.checkpoint.parquet", "00000000000000000003.json",
                      "00000000000000000004.json", "00000000000000000004.checkpoint.0000000001.0000000002.parquet",
                      "00000000000000000004.checkpoint.0000000002.0000000002.parquet", "00000000000000000005.json"});
  auto latest = BuildLogSegment(files, std::nullopt, {});
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->checkpoint_version, 4);
  EXPECT_EQ(latest->checkpoint_files.size(), 2u);
  EXPECT_EQ(latest->checkpoint_files[0].part, 1);
  ASSERT_EQ(latest->commits.size(), 1u);
  EXPECT_EQ(latest->commits[0].version, 5);
  auto at3 = BuildLogSegment(files, 3, {});
  EXPECT_EQ(at3->checkpoint_version, 2);
  EXPECT_EQ(at3->commits.size(), 1u);
  auto at1 = BuildLogSegment(files, 1, {});
  EXPECT_FALSE(at1->checkpoint_version);
  SegmentOptions no_parquet;
  no_parquet.use_parquet_checkpoints = false;
  auto json_only = BuildLogSegment(files, std::nullopt, no_parquet);
  EXPECT_FALSE(json_only->checkpoint_version);
  EXPECT_EQ(json_only->commits.size(), 6u);
}

TEST(LogSegmentTest, IncompleteMultiPartCheckpointIsIgnored) {
  auto files = Files({"00000000000000000000.json", "00000000000000000001.json",
                      "00000000000000000001.checkpoint.0000000001.0000000002.parquet", "00000000000000000002.json"});
  auto segment = BuildLogSegment(files, std::nullopt, {});
  ASSERT_TRUE(segment.has_value());
  EXPECT_FALSE(segment->checkpoint_version);
  EXPECT_EQ(segment->commits.size(), 3u);
}

TEST(LogSegmentTest, CheckpointOnlyVersionIsReadable) {
  auto files = Files({"00000000000000000002.checkpoint.parquet"});
  auto segment = BuildLogSegment(files, std::nullopt, {});
  ASSERT_TRUE(segment.has_value()) << segment.status().ToString();
  EXPECT_EQ(segment->version, 2);
  EXPECT_TRUE(segment->commits.empty());
}

TEST(LogSegmentTest, GapIsAnErrorNamingTheVersion) {
  SegmentOptions options;
  options.table_label = "sales";
  auto gap = BuildLogSegment(Files({"00000000000000000000.json", "00000000000000000002.json"}), std::nullopt, options);
  ASSERT_FALSE(gap.has_value());
  EXPECT_EQ(gap.status().code(), ErrorCode::kCorruptData);
  EXPECT_NE(gap.status().message().find("commit 1 is missing"), std::string::npos) << gap.status().message();
  EXPECT_NE(gap.status().message().find("sales"), std::string::npos);
  auto truncated = BuildLogSegment(Files({"00000000000000000005.json", "00000000000000000006.json"}), std::nullopt, {});
  ASSERT_FALSE(truncated.has_value());
  EXPECT_NE(truncated.status().message().find("commit 0 is missing"), std::string::npos);
}

TEST(LogSegmentTest, VersionOutOfRangeAndEmptyLog) {
  auto files = Files({"00000000000000000000.json"});
  EXPECT_EQ(BuildLogSegment(files, 3, {}).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(BuildLogSegment(files, -1, {}).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(BuildLogSegment({}, std::nullopt, {}).status().code(), ErrorCode::kTableNotFound);
}

}  // namespace
}  // namespace tarn::delta
