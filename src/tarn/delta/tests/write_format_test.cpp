// SPDX-License-Identifier: Apache-2.0
// Tests for the write-side formats: schema and action serialisation, statistics, partition layout, properties,
// protocol selection.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tarn/delta/action_serializer.hpp"
#include "tarn/delta/delta_table.hpp"
#include "tarn/delta/file_statistics.hpp"
#include "tarn/delta/partition_layout.hpp"
#include "tarn/delta/schema_serializer.hpp"
#include "tarn/delta/table_properties.hpp"
#include "tarn/delta/uuid.hpp"
#include "tarn/delta/writer_features.hpp"

namespace tarn::delta {
namespace {

constexpr const char* kNestedSchema =
    R"j({"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},)j"
    R"j({"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{"comment":"money"}},)j"
    R"j({"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}},)j"
    R"j({"name":"attrs","type":{"type":"map","keyType":"string","valueType":{"type":"struct","fields":[{"name":"x","type":"integer","nullable":true,"metadata":{}}]},"valueContainsNull":false},"nullable":true,"metadata":{}},)j"
    R"j({"name":"s","type":{"type":"struct","fields":[{"name":"a","type":"timestamp_ntz","nullable":true,"metadata":{"delta.columnMapping.id":5,"delta.columnMapping.physicalName":"col-a"}},{"name":"b","type":"date","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]})j";

TEST(SchemaSerializerTest, RoundTripsWithParser) {
  Schema schema = ParseSchema(kNestedSchema).value();
  std::string text = SerializeSchema(schema);
  Schema again = ParseSchema(text).value();
  EXPECT_TRUE(schema.type()->Equals(*again.type())) << text;
  EXPECT_EQ(SerializeSchema(again), text);
  EXPECT_EQ(nlohmann::json::parse(text), nlohmann::json::parse(kNestedSchema));
  EXPECT_EQ(again.fields()[4].type->fields()[0].physical_name, "col-a");
}

// Column mapping assigned before version 0 exists (CTAS writes its files with the physical names first).
TEST(ColumnMappingTest, ApplyAssignsMissingIdsAndKeepsExistingOnes) {
  Schema schema = ParseSchema(kNestedSchema).value();
  std::map<std::string, std::string> config = {{"delta.columnMapping.mode", "id"}};
  Schema mapped = ApplyColumnMapping(schema, config).value();
  // s.a keeps id 5 and its physical name; the 7 other fields (nested ones included) get 6..12 and col-<uuid> names.
  EXPECT_EQ(config["delta.columnMapping.maxColumnId"], "12");
  std::set<int64_t> ids;
  std::set<std::string> names;
  std::function<void(const DataType&)> collect = [&](const DataType& type) {
    if (type.kind() == TypeKind::kStruct) {
      for (const StructField& field : type.fields()) {
        ASSERT_TRUE(field.column_mapping_id.has_value()) << field.name;
        ASSERT_TRUE(field.physical_name.has_value()) << field.name;
        ids.insert(*field.column_mapping_id);
        names.insert(*field.physical_name);
        if (field.name == "a") {
          EXPECT_EQ(*field.column_mapping_id, 5);
          EXPECT_EQ(*field.physical_name, "col-a");
        } else {
          EXPECT_TRUE(field.physical_name->starts_with("col-")) << *field.physical_name;
        }
        collect(*field.type);
      }
    } else if (type.kind() == TypeKind::kArray) {
      collect(*type.element_type());
    } else if (type.kind() == TypeKind::kMap) {
      collect(*type.key_type());
      collect(*type.value_type());
    }
  };
  collect(*mapped.type());
  EXPECT_EQ(ids, (std::set<int64_t>{5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(names.size(), 8u);
  // Applying it again (as DeltaTable::Create does) changes nothing.
  std::map<std::string, std::string> again = config;
  Schema remapped = ApplyColumnMapping(mapped, again).value();
  EXPECT_EQ(SerializeSchema(remapped), SerializeSchema(mapped));
  EXPECT_EQ(again, config);
  // No mapping: unchanged; an unknown mode is refused.
  std::map<std::string, std::string> none;
  EXPECT_EQ(SerializeSchema(ApplyColumnMapping(schema, none).value()), SerializeSchema(schema));
  EXPECT_TRUE(none.empty());
  std::map<std::string, std::string> bad = {{"delta.columnMapping.mode", "names"}};
  EXPECT_EQ(ApplyColumnMapping(schema, bad).status().code(), ErrorCode::kInvalidParameterValue);
}

TEST(ActionSerializerTest, DirectWriterMatchesTheDomForAddsAndRemoves) {
  std::vector<AddAction> adds(5);
  adds[0].path = "part-0.parquet";
  adds[1].path = "p=a%20b/x \"quoted\" \\ back\tslash\x01.parquet";
  adds[1].partition_values = {{"p", "a b"}, {"q", std::nullopt}, {"r", "\xc3\xa9t\xc3\xa9"}};
  adds[1].size = -3;
  adds[1].modification_time = 1700000000123;
  adds[1].data_change = false;
  adds[1].stats = R"({"numRecords":3,"minValues":{"s":"\u00e9"}})";
  adds[1].tags = {{"INSERTION_TIME", "1"}};
  adds[1].base_row_id = 7;
  adds[1].default_row_commit_version = 2;
  adds[1].clustering_provider = "liquid";
  adds[2].path = "bad\xff\xfeutf8.parquet";  // invalid UTF-8 is replaced the same way
  adds[2].deletion_vector = DeletionVectorDescriptor{"u", "ab^-aqEH.-t@S}K{vb[*k^", 1, 36, 4, 10};
  adds[3].path = "dup.parquet";
  adds[3].partition_values = {{"p", "1"}, {"p", "2"}};  // duplicate keys: the DOM keeps the first position
  adds[4].path = "";
  adds[4].partition_values = {{"", ""}};
  for (const AddAction& add : adds) {
    EXPECT_EQ(SerializeAction(add), SerializeActionWithDom(add));
    EXPECT_EQ(SerializeAction(Action(add)), SerializeActionWithDom(add));
  }
  std::vector<RemoveAction> removes(4);
  removes[0].path = "a.parquet";
  removes[1].path = "p=1/b\n.parquet";
  removes[1].deletion_timestamp = 5;
  removes[1].extended_file_metadata = true;
  removes[1].partition_values = {{"p", "1"}};
  removes[1].size = 10;
  removes[1].stats = "{}";
  removes[1].deletion_vector = DeletionVectorDescriptor{"i", "wi5b=000010000siXQKl0rr91000f", std::nullopt, 40, 6, std::nullopt};
  removes[2].path = "c.parquet";
  removes[2].size = 11;
  removes[2].partition_values = {{"p", std::nullopt}};
  removes[2].tags = {{"k", "v"}};
  removes[2].base_row_id = 1;
  removes[2].default_row_commit_version = 1;
  removes[3].path = "d.parquet";
  removes[3].extended_file_metadata = true;
  for (const RemoveAction& remove : removes) {
    EXPECT_EQ(SerializeAction(remove), SerializeActionWithDom(remove));
    EXPECT_EQ(SerializeAction(Action(remove)), SerializeActionWithDom(remove));
  }
}

TEST(ActionSerializerTest, EveryActionRoundTrips) {
  AddAction add;
  add.path = "p=a%20b/part-0.parquet";
  add.partition_values = {{"p", "a b"}, {"q", std::nullopt}};
  add.size = 42;
  add.modification_time = 7;
  add.stats = R"({"numRecords":3})";
  add.tags = {{"k", "v"}};
  add.deletion_vector = DeletionVectorDescriptor{"u", "ab^-aqEH.-t@S}K{vb[*k^", 1, 36, 2, std::nullopt};
  add.base_row_id = 10;
  add.default_row_commit_version = 3;
  RemoveAction remove;
  remove.path = "x.parquet";
  remove.deletion_timestamp = 99;
  remove.data_change = false;
  remove.extended_file_metadata = true;
  remove.partition_values = {{"p", "1"}};
  remove.size = 5;
  MetadataAction metadata;
  metadata.id = "id-1";
  metadata.name = "t";
  metadata.schema_string = kNestedSchema;
  metadata.partition_columns = {"id"};
  metadata.configuration = {{"delta.appendOnly", "true"}};
  metadata.created_time = 1;
  ProtocolAction protocol{3, 7, std::vector<std::string>{"deletionVectors"},
                          std::vector<std::string>{"appendOnly", "deletionVectors"}};
  std::vector<Action> actions = {protocol, metadata, add, remove, TxnAction{"app", 4, 11},
                                 DomainMetadataAction{"delta.x", "{}", false}, CdcAction{"_change_data/c.parquet", {}, 3, false, {}}};
  std::string text = SerializeActions(actions);
  auto parsed = ParseJsonActions(text).value();
  ASSERT_EQ(parsed.size(), actions.size());
  for (size_t i = 0; i < actions.size(); ++i) EXPECT_TRUE(parsed[i] == actions[i]) << "action " << i << "\n" << text;
}

TEST(ActionSerializerTest, NullPartitionValuesStayNull) {
  AddAction add;
  add.path = "a";
  add.partition_values = {{"p", std::nullopt}};
  EXPECT_NE(SerializeAction(add).find(R"("partitionValues":{"p":null})"), std::string::npos);
}

TEST(FileStatisticsTest, TruncatesStringsAsSpark) {
  struct Case {
    std::string input;
    std::string min;
    std::optional<std::string> max;
  };
  const std::string kMaxChar = "\xF4\x8F\xBF\xBF";
  const std::string kEmoji = "\xF0\x9F\x98\x80";  // two UTF-16 units
  std::vector<Case> cases = {
      {"abcd", "abcd", "abcd"},
      {"abcdef", "abcdef", "abcdef"},
      {"abcdefgh", "abcdef", "abcdef\x7F"},
      {"abcdef\xC3\xA9z", "abcdef", "abcdef" + kMaxChar},
      {"abcdef" + kMaxChar + "z", "abcdef", "abcdef" + kMaxChar + "\x7F"},
      {"abcdef" + kMaxChar + kMaxChar + kMaxChar + kMaxChar + "a", "abcdef", std::nullopt},
      {"abcde" + kEmoji + "x", "abcde" + kEmoji, "abcde" + kEmoji + "\x7F"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TruncateMinString(c.input, 6), c.min) << c.input;
    EXPECT_EQ(TruncateMaxString(c.input, 6), c.max) << c.input;
  }
}

TEST(FileStatisticsTest, BuildsStatsForIndexedColumns) {
  Schema schema = ParseSchema(kNestedSchema).value();
  std::vector<ColumnStatistics> columns = {
      {{"id"}, int64_t{1}, int64_t{9}, 0},
      {{"amount"}, std::string("-1.50"), std::string("12.00"), 2},
      {{"tags"}, {}, {}, 1},
      {{"s", "a"}, int64_t{1'500'999}, int64_t{86'400'000'000}, 0},
      {{"s", "b"}, int64_t{0}, int64_t{19000}, 3},
  };
  StatsOptions options;
  std::string stats = BuildStatsJson(schema, 10, columns, options).value();
  auto json = nlohmann::json::parse(stats);
  EXPECT_EQ(json["numRecords"], 10);
  EXPECT_EQ(json["minValues"]["id"], 1);
  EXPECT_EQ(json["maxValues"]["amount"].dump(), "12.0");  // decimal written as a JSON number
  EXPECT_NE(stats.find("\"amount\":-1.50"), std::string::npos) << stats;
  EXPECT_EQ(json["minValues"]["s"]["a"], "1970-01-01T00:00:01.500");
  EXPECT_EQ(json["maxValues"]["s"]["b"], "2022-01-08");
  EXPECT_EQ(json["nullCount"]["tags"], 1);
  EXPECT_FALSE(json["minValues"].contains("tags"));

  options.num_indexed_columns = 2;
  json = nlohmann::json::parse(BuildStatsJson(schema, 10, columns, options).value());
  EXPECT_TRUE(json["nullCount"].contains("amount"));
  EXPECT_FALSE(json["nullCount"].contains("tags"));
  EXPECT_FALSE(json["nullCount"].contains("s"));

  options.num_indexed_columns = 32;
  options.use_physical_names = true;
  options.partition_columns = {"id"};
  json = nlohmann::json::parse(BuildStatsJson(schema, 10, columns, options).value());
  EXPECT_TRUE(json["minValues"]["s"].contains("col-a"));
  EXPECT_FALSE(json["minValues"].contains("id"));

  auto unknown = BuildStatsJson(schema, 1, {{{"nope"}, {}, {}, 0}}, options);
  EXPECT_EQ(unknown.status().code(), ErrorCode::kColumnNotFound);
  auto mismatch = BuildStatsJson(schema, 1, {{{"id"}, std::string("x"), {}, 0}}, StatsOptions{});
  EXPECT_EQ(mismatch.status().code(), ErrorCode::kTypeMismatch);
}

TEST(FileStatisticsTest, LongStringsGetBoundedStats) {
  Schema schema = ParseSchema(R"({"type":"struct","fields":[{"name":"s","type":"string","nullable":true,"metadata":{}}]})").value();
  std::string long_value(40, 'a');
  auto json = nlohmann::json::parse(
      BuildStatsJson(schema, 1, {{{"s"}, long_value, long_value, 0}}, StatsOptions{}).value());
  EXPECT_EQ(json["minValues"]["s"], std::string(32, 'a'));
  EXPECT_EQ(json["maxValues"]["s"], std::string(32, 'a') + "\x7F");
  EXPECT_GE(json["maxValues"]["s"].get<std::string>(), long_value);
}

TEST(FileStatisticsTest, OptionsFromConfiguration) {
  auto options = StatsOptionsFromConfiguration({{"delta.dataSkippingNumIndexedCols", "5"},
                                                {"delta.dataSkippingStatsColumns", "a, `b.c`"},
                                                {"delta.columnMapping.mode", "name"}})
                     .value();
  EXPECT_EQ(options.num_indexed_columns, 5);
  EXPECT_EQ(options.stats_columns, (std::vector<std::string>{"a", "b.c"}));
  EXPECT_TRUE(options.use_physical_names);
  EXPECT_FALSE(StatsOptionsFromConfiguration({{"delta.dataSkippingNumIndexedCols", "x"}}).has_value());
}

TEST(PartitionLayoutTest, EscapesAsSpark) {
  EXPECT_EQ(EscapePartitionPathComponent("a/b:c=d%e f#g?h*i"), "a%2Fb%3Ac%3Dd%25e f%23g%3Fh%2Ai");
  EXPECT_EQ(EscapePartitionPathComponent("{x}[y]^\x01\x7F'\"\\"), "%7Bx}%5By%5D%5E%01%7F%27%22%5C");
  EXPECT_EQ(EscapePartitionPathComponent("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(UnescapePartitionPathComponent("a%2Fb%3Ac%zz"), "a/b:c%zz");
  auto dir = PartitionDirectory({"p", "q", "r"}, {{"q", "x/y"}, {"p", std::nullopt}, {"r", ""}}).value();
  EXPECT_EQ(dir, "p=__HIVE_DEFAULT_PARTITION__/q=x%2Fy/r=__HIVE_DEFAULT_PARTITION__/");
  EXPECT_EQ(PartitionDirectory({"p"}, {}).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(EncodeAddPath(dir + "f 1.parquet"), "p=__HIVE_DEFAULT_PARTITION__/q=x%252Fy/r=__HIVE_DEFAULT_PARTITION__/f%201.parquet");
  std::string name = NewDataFileName(3);
  EXPECT_TRUE(name.starts_with("part-00003-")) << name;
  EXPECT_TRUE(name.ends_with("-c000.snappy.parquet")) << name;
  EXPECT_EQ(name.size(), std::string("part-00003-").size() + 36 + std::string("-c000.snappy.parquet").size());
  EXPECT_NE(NewUuid(), NewUuid());
  EXPECT_EQ(NewUuid()[14], '4');
}

TEST(TablePropertiesTest, ParsesIntervalsAndDefaults) {
  EXPECT_EQ(ParseIntervalMillis("interval 30 days").value(), 30 * kMillisPerDay);
  EXPECT_EQ(ParseIntervalMillis("1 week").value(), 7 * kMillisPerDay);
  EXPECT_EQ(ParseIntervalMillis("INTERVAL 2 hours 30 minutes").value(), 9'000'000);
  EXPECT_FALSE(ParseIntervalMillis("soon").has_value());
  EXPECT_FALSE(ParseIntervalMillis("interval 3 fortnights").has_value());
  auto defaults = TableProperties::From({}).value();
  EXPECT_EQ(defaults.checkpoint_interval, 10);
  EXPECT_EQ(defaults.log_retention_millis, 30 * kMillisPerDay);
  EXPECT_EQ(defaults.isolation_level, IsolationLevel::kWriteSerializable);
  auto set = TableProperties::From({{"delta.isolationLevel", "Serializable"}, {"delta.checkpointInterval", "3"}}).value();
  EXPECT_EQ(set.isolation_level, IsolationLevel::kSerializable);
  EXPECT_EQ(set.checkpoint_interval, 3);
  EXPECT_FALSE(TableProperties::From({{"delta.checkpointInterval", "0"}}).has_value());
  EXPECT_FALSE(TableProperties::From({{"delta.isolationLevel", "Snapshot"}}).has_value());
}

TEST(WriterFeaturesTest, ChoosesTheSmallestProtocol) {
  Schema plain = ParseSchema(R"({"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]})").value();
  Schema ntz = ParseSchema(R"({"type":"struct","fields":[{"name":"a","type":"timestamp_ntz","nullable":true,"metadata":{}}]})").value();
  EXPECT_EQ(ProtocolForFeatures(RequiredFeatures({}, plain)), (ProtocolAction{1, 2, std::nullopt, std::nullopt}));
  EXPECT_EQ(ProtocolForFeatures(RequiredFeatures({{"delta.appendOnly", "true"}}, plain)),
            (ProtocolAction{1, 2, std::nullopt, std::nullopt}));
  ProtocolAction ict = ProtocolForFeatures(RequiredFeatures({{"delta.enableInCommitTimestamps", "true"}}, plain));
  EXPECT_EQ(ict, (ProtocolAction{1, 7, std::nullopt,
                                 std::vector<std::string>{"appendOnly", "inCommitTimestamp", "invariants"}}));
  ProtocolAction rw = ProtocolForFeatures(RequiredFeatures({}, ntz));
  EXPECT_EQ(rw.min_reader_version, 3);
  EXPECT_EQ(rw.reader_features, std::vector<std::string>{"timestampNtz"});
  EXPECT_TRUE(CheckProtocolShape(rw).ok());
  EXPECT_TRUE(CheckProtocolShape(ict).ok());
  EXPECT_FALSE(CheckProtocolShape(ProtocolAction{3, 7, std::vector<std::string>{"x"}, std::vector<std::string>{}}).ok());
  auto upgraded = UpgradeProtocol(ProtocolAction{2, 5, std::nullopt, std::nullopt}, {"domainMetadata"}).value();
  EXPECT_EQ(upgraded.min_reader_version, 3);
  EXPECT_TRUE(HasWriterFeature(upgraded, "columnMapping"));
  EXPECT_TRUE(HasWriterFeature(upgraded, "changeDataFeed"));
  EXPECT_TRUE(HasWriterFeature(upgraded, "domainMetadata"));
  EXPECT_FALSE(UpgradeProtocol(upgraded, {"domainMetadata"}).has_value());
  EXPECT_EQ(ValidateWriterProtocol(ProtocolAction{1, 7, std::nullopt, std::vector<std::string>{"rowTracking"}},
                                   DefaultSupportedWriterFeatures())
                .code(),
            ErrorCode::kFeatureNotSupported);
  EXPECT_FALSE(ValidateWriterProtocol(ProtocolAction{1, 8, std::nullopt, std::nullopt}, DefaultSupportedWriterFeatures()).ok());
}

}  // namespace
}  // namespace tarn::delta
