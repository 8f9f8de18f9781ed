// SPDX-License-Identifier: Apache-2.0
// Tests for JSON action parsing: every action type, nulls, unknown fields, corrupt lines.
#include <gtest/gtest.h>

#include "tarn/delta/actions.hpp"

namespace tarn::delta {
namespace {

TEST(ActionsTest, ParsesEveryActionType) {
  std::string log = R"({"commitInfo":{"timestamp":1700000000000,"inCommitTimestamp":1700000000001,"operation":"WRITE","operationParameters":{"mode":"Append","nested":{"a":[1,2]}},"readVersion":3,"isBlindAppend":true,"txnId":"t-1"}}
{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors","appendOnly"]}}
{"metaData":{"id":"abc","name":"t","format":{"provider":"parquet","options":{"k":"v"}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":["p"],"configuration":{"delta.appendOnly":"true"},"createdTime":123}}
{"add":{"path":"p=1/a%20b.parquet","partitionValues":{"p":"1","q":null},"size":10,"modificationTime":20,"dataChange":true,"stats":"{\"numRecords\":5}","tags":{"INSERTION_TIME":"1"},"deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":4,"sizeInBytes":40,"cardinality":6},"baseRowId":7,"defaultRowCommitVersion":8,"unknownField":{"x":1}}}
{"remove":{"path":"old.parquet","deletionTimestamp":99,"dataChange":false,"extendedFileMetadata":true,"partitionValues":{},"size":11}}
{"txn":{"appId":"app","version":42,"lastUpdated":5}}
{"cdc":{"path":"_change_data/c.parquet","partitionValues":{"p":"1"},"size":3,"dataChange":false}}
{"domainMetadata":{"domain":"delta.rowTracking","configuration":"{\"rowIdHighWaterMark\":3}","removed":false}}
{"checkpointMetadata":{"version":9,"tags":{"a":"b"}}}
{"sidecar":{"path":"s1.parquet","sizeInBytes":100,"modificationTime":200}}
{"someFutureAction":{"x":1}}
)";
  auto parsed = ParseJsonActions(log);
  ASSERT_TRUE(parsed.has_value()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 10u);

  const auto& info = std::get<CommitInfoAction>((*parsed)[0]);
  EXPECT_EQ(info.timestamp, 1700000000000);
  EXPECT_EQ(info.in_commit_timestamp, 1700000000001);
  EXPECT_EQ(info.operation, "WRITE");
  EXPECT_EQ(info.read_version, 3);
  EXPECT_EQ(info.is_blind_append, true);
  EXPECT_EQ(info.txn_id, "t-1");
  EXPECT_NE(info.raw_json.find("operationParameters"), std::string::npos);

  const auto& protocol = std::get<ProtocolAction>((*parsed)[1]);
  EXPECT_EQ(protocol.min_reader_version, 3);
  EXPECT_EQ(protocol.min_writer_version, 7);
  EXPECT_EQ(protocol.reader_features, std::vector<std::string>{"deletionVectors"});
  EXPECT_EQ(protocol.writer_features->size(), 2u);

  const auto& metadata = std::get<MetadataAction>((*parsed)[2]);
  EXPECT_EQ(metadata.id, "abc");
  EXPECT_EQ(metadata.name, "t");
  EXPECT_EQ(metadata.format_options.at("k"), "v");
  EXPECT_EQ(metadata.partition_columns, std::vector<std::string>{"p"});
  EXPECT_EQ(metadata.configuration.at("delta.appendOnly"), "true");
  EXPECT_EQ(metadata.created_time, 123);

  const auto& add = std::get<AddAction>((*parsed)[3]);
  EXPECT_EQ(add.path, "p=1/a%20b.parquet");  // decoding happens in replay, the action keeps the URI
  ASSERT_EQ(add.partition_values.size(), 2u);
  EXPECT_EQ(add.partition_values[0], (MapEntry{"p", "1"}));
  EXPECT_EQ(add.partition_values[1], (MapEntry{"q", std::nullopt}));
  EXPECT_EQ(add.size, 10);
  EXPECT_EQ(add.stats, R"({"numRecords":5})");
  ASSERT_TRUE(add.deletion_vector.has_value());
  EXPECT_EQ(add.deletion_vector->UniqueId(), "uab^-aqEH.-t@S}K{vb[*k^@4");
  EXPECT_EQ(add.deletion_vector->cardinality, 6);
  EXPECT_EQ(add.base_row_id, 7);
  EXPECT_EQ(add.default_row_commit_version, 8);
  EXPECT_EQ(add.tags.size(), 1u);

  const auto& remove = std::get<RemoveAction>((*parsed)[4]);
  EXPECT_EQ(remove.deletion_timestamp, 99);
  EXPECT_FALSE(remove.data_change);
  EXPECT_TRUE(remove.extended_file_metadata);
  EXPECT_EQ(remove.size, 11);

  EXPECT_EQ(std::get<TxnAction>((*parsed)[5]), (TxnAction{"app", 42, 5}));
  EXPECT_EQ(std::get<CdcAction>((*parsed)[6]).path, "_change_data/c.parquet");
  EXPECT_EQ(std::get<DomainMetadataAction>((*parsed)[7]).domain, "delta.rowTracking");
  EXPECT_EQ(std::get<CheckpointMetadataAction>((*parsed)[8]).version, 9);
  EXPECT_EQ(std::get<SidecarAction>((*parsed)[9]).size_in_bytes, 100);
}

TEST(ActionsTest, ReusedBuffersDoNotLeakBetweenLines) {
  std::string log =
      R"({"add":{"path":"a","partitionValues":{"x":"1","y":"2"},"size":1,"modificationTime":1,"dataChange":true,"stats":"s","deletionVector":{"storageType":"i","pathOrInlineDv":"abc","sizeInBytes":1,"cardinality":1}}})"
      "\n"
      R"({"add":{"path":"b","partitionValues":{"x":"3"},"size":2,"modificationTime":2,"dataChange":false}})"
      "\n";
  auto parsed = ParseJsonActions(log).value();
  ASSERT_EQ(parsed.size(), 2u);
  const auto& second = std::get<AddAction>(parsed[1]);
  EXPECT_EQ(second.path, "b");
  EXPECT_EQ(second.partition_values.size(), 1u);
  EXPECT_FALSE(second.stats.has_value());
  EXPECT_FALSE(second.deletion_vector.has_value());
  EXPECT_FALSE(second.data_change);
}

TEST(ActionsTest, SkipsBlankLinesAndNullActions) {
  auto parsed = ParseJsonActions("\n  \n{\"add\":null,\"txn\":{\"appId\":\"a\",\"version\":1}}\r\n\n");
  ASSERT_TRUE(parsed.has_value()) << parsed.status().ToString();
  EXPECT_EQ(parsed->size(), 1u);
}

TEST(ActionsTest, CorruptLineNamesSourceAndLine) {
  std::string log = "{\"txn\":{\"appId\":\"a\",\"version\":1}}\n{\"add\":{\"path\":\"x\",\n";
  auto parsed = ParseJsonActions(log, "table t version 3 file _delta_log/00000000000000000003.json");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kCorruptData);
  EXPECT_NE(parsed.status().message().find("version 3"), std::string::npos) << parsed.status().message();
  EXPECT_NE(parsed.status().message().find("line 2"), std::string::npos) << parsed.status().message();
}

TEST(ActionsTest, RejectsNonObjectLinesAndMissingPaths) {
  EXPECT_EQ(ParseJsonActions("[1,2]\n").status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ(ParseJsonActions("{\"add\":{\"size\":1}}\n").status().code(), ErrorCode::kCorruptData);
}

TEST(ActionsTest, LongContentParsesInPlaceAndAtTheEnd) {
  // Many lines so that most are parsed in place and the last ones through the padded copy.
  std::string log;
  for (int i = 0; i < 1000; ++i) {
    log += R"({"add":{"path":"f)" + std::to_string(i) + R"(","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}})";
    log += '\n';
  }
  log.pop_back();  // no trailing newline
  auto parsed = ParseJsonActions(log).value();
  ASSERT_EQ(parsed.size(), 1000u);
  EXPECT_EQ(std::get<AddAction>(parsed.back()).path, "f999");
}

TEST(ActionsTest, FindMapEntry) {
  std::vector<MapEntry> entries = {{"a", "1"}, {"b", std::nullopt}};
  EXPECT_EQ(FindMapEntry(entries, "a"), std::optional<std::optional<std::string>>(std::string("1")));
  EXPECT_EQ(FindMapEntry(entries, "b"), std::optional<std::optional<std::string>>(std::in_place, std::nullopt));
  EXPECT_FALSE(FindMapEntry(entries, "c").has_value());
}

}  // namespace
}  // namespace tarn::delta
