// SPDX-License-Identifier: Apache-2.0
// Tests DuckCheckpointReader on Parquet checkpoints written here by DuckDB: every action kind, typed stats and
// partition values, unusual column types, the file-actions-off request and corrupt rows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tarn/delta/actions.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace tarn::engine {
namespace {

class Collector final : public delta::ActionVisitor {
 public:
  std::vector<delta::Action> actions;
  Status OnProtocol(const delta::ProtocolAction& a) override { return Keep(a); }
  Status OnMetadata(const delta::MetadataAction& a) override { return Keep(a); }
  Status OnAdd(const delta::AddAction& a) override { return Keep(a); }
  Status OnRemove(const delta::RemoveAction& a) override { return Keep(a); }
  Status OnTxn(const delta::TxnAction& a) override { return Keep(a); }
  Status OnDomainMetadata(const delta::DomainMetadataAction& a) override { return Keep(a); }
  Status OnCheckpointMetadata(const delta::CheckpointMetadataAction& a) override { return Keep(a); }
  Status OnSidecar(const delta::SidecarAction& a) override { return Keep(a); }

 private:
  template <typename T>
  Status Keep(const T& action) {
    actions.emplace_back(action);
    return Status::OK();
  }
};

constexpr const char* kKey = "_delta_log/00000000000000000003.checkpoint.parquet";

// Column types of a checkpoint as other writers produce them: typed stats_parsed / partitionValues_parsed next to
// (or instead of) their text forms, INTEGER sizes, an unknown column.
constexpr const char* kCreateTable = R"(CREATE TABLE cp (
  protocol STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[]),
  metaData STRUCT(id VARCHAR, "name" VARCHAR, description VARCHAR,
                  format STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), schemaString VARCHAR,
                  partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT),
  txn STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT),
  domainMetadata STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN),
  checkpointMetadata STRUCT(version BIGINT, tags MAP(VARCHAR, VARCHAR)),
  sidecar STRUCT(path VARCHAR, sizeInBytes BIGINT, modificationTime BIGINT, tags MAP(VARCHAR, VARCHAR)),
  "add" STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size INTEGER, modificationTime BIGINT,
               dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR),
               deletionVector STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, "offset" INTEGER,
                                     sizeInBytes INTEGER, cardinality BIGINT, maxRowIndex BIGINT),
               baseRowId BIGINT, defaultRowCommitVersion BIGINT, clusteringProvider VARCHAR,
               partitionValues_parsed STRUCT(p INTEGER),
               stats_parsed STRUCT(numRecords BIGINT, minValues STRUCT(x INTEGER))),
  "remove" STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN,
                  partitionValues MAP(VARCHAR, VARCHAR), size BIGINT),
  extra INTEGER))";

class CheckpointReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("tarn-ckread-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "_delta_log");
    auto db = Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto session = db_->Connect();
    ASSERT_TRUE(session.ok());
    session_ = std::move(*session);
    Run(kCreateTable);
    auto store = storage::LocalObjectStore::Create(root_.string(), false);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void Run(const std::string& sql) {
    auto stream = session_->Execute(sql);
    ASSERT_TRUE(stream.ok()) << sql << ": " << stream.status().ToString();
    while (true) {
      auto chunk = (*stream)->Next();
      ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
      if (!*chunk) break;
    }
  }
  void Insert(const std::string& column, const std::string& value) {
    Run("INSERT INTO cp (" + column + ") VALUES (" + value + ")");
  }
  void WriteCheckpoint() { Run("COPY cp TO '" + (root_ / kKey).string() + "' (FORMAT parquet)"); }

  Result<std::vector<delta::Action>> Read(bool include_file_actions) {
    DuckCheckpointReader reader(*db_);
    Collector collector;
    delta::CheckpointReadRequest request;
    request.include_file_actions = include_file_actions;
    TARN_RETURN_IF_ERROR(reader.ReadCheckpointActions(*store_, kKey, request, collector));
    return collector.actions;
  }

  std::filesystem::path root_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<storage::LocalObjectStore> store_;
};

TEST_F(CheckpointReadTest, DecodesEveryActionKind) {
  Insert("protocol", "{'minReaderVersion': 3, 'minWriterVersion': 7, 'readerFeatures': ['deletionVectors'], "
                     "'writerFeatures': ['deletionVectors', 'domainMetadata']}");
  Insert("metaData", "{'id': 'm1', 'name': NULL, 'description': 'd', 'format': {'provider': 'parquet', "
                     "'options': MAP {}}, 'schemaString': NULL, 'partitionColumns': ['p'], "
                     "'configuration': MAP {'k': 'v'}, 'createdTime': 5}");
  Insert("txn", "{'appId': 'app', 'version': 7, 'lastUpdated': NULL}");
  Insert("domainMetadata", "{'domain': 'dm', 'configuration': '{}', 'removed': true}");
  Insert("checkpointMetadata", "{'version': 3, 'tags': MAP {'t': '1'}}");
  Insert("sidecar", "{'path': 's.parquet', 'sizeInBytes': 10, 'modificationTime': 11, 'tags': NULL}");
  // stats and partitionValues null: rendered from their typed forms.
  Insert("add", "{'path': 'p=42/a.parquet', 'partitionValues': NULL, 'size': 100, 'modificationTime': 1, "
                "'dataChange': false, 'stats': NULL, 'tags': MAP {'tag': NULL}, "
                "'deletionVector': {'storageType': 'u', 'pathOrInlineDv': 'ab', 'offset': 1, 'sizeInBytes': 36, "
                "'cardinality': 2, 'maxRowIndex': NULL}, 'baseRowId': 4, 'defaultRowCommitVersion': NULL, "
                "'clusteringProvider': 'liquid', 'partitionValues_parsed': {'p': 42}, "
                "'stats_parsed': {'numRecords': 3, 'minValues': {'x': 1}}}");
  // stats and partitionValues present: they win over the typed forms.
  Insert("add", "{'path': 'b.parquet', 'partitionValues': MAP {'p': NULL}, 'size': 7, 'modificationTime': 2, "
                "'dataChange': NULL, 'stats': '{\"numRecords\":9}', 'tags': NULL, 'deletionVector': NULL, "
                "'baseRowId': NULL, 'defaultRowCommitVersion': NULL, 'clusteringProvider': NULL, "
                "'partitionValues_parsed': {'p': 1}, 'stats_parsed': {'numRecords': 1, 'minValues': NULL}}");
  Insert("remove", "{'path': 'c.parquet', 'deletionTimestamp': 9, 'dataChange': true, 'extendedFileMetadata': true, "
                   "'partitionValues': MAP {'p': '5'}, 'size': NULL}");
  Insert("extra", "1");  // a row with only an unknown column: no action
  WriteCheckpoint();

  auto actions = Read(true);
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  ASSERT_EQ(actions->size(), 9u);

  delta::ProtocolAction protocol;
  protocol.min_reader_version = 3;
  protocol.min_writer_version = 7;
  protocol.reader_features = std::vector<std::string>{"deletionVectors"};
  protocol.writer_features = std::vector<std::string>{"deletionVectors", "domainMetadata"};
  EXPECT_EQ(std::get<delta::ProtocolAction>((*actions)[0]), protocol);

  delta::MetadataAction metadata;
  metadata.id = "m1";
  metadata.description = "d";
  metadata.schema_string = "";  // null schemaString reads as no columns
  metadata.partition_columns = {"p"};
  metadata.configuration = {{"k", "v"}};
  metadata.created_time = 5;
  EXPECT_EQ(std::get<delta::MetadataAction>((*actions)[1]), metadata);

  EXPECT_EQ(std::get<delta::TxnAction>((*actions)[2]), (delta::TxnAction{"app", 7, std::nullopt}));
  EXPECT_EQ(std::get<delta::DomainMetadataAction>((*actions)[3]), (delta::DomainMetadataAction{"dm", "{}", true}));
  EXPECT_EQ(std::get<delta::CheckpointMetadataAction>((*actions)[4]),
            (delta::CheckpointMetadataAction{3, {{"t", "1"}}}));
  EXPECT_EQ(std::get<delta::SidecarAction>((*actions)[5]), (delta::SidecarAction{"s.parquet", 10, 11, {}}));

  const auto& add = std::get<delta::AddAction>((*actions)[6]);
  EXPECT_EQ(add.path, "p=42/a.parquet");
  EXPECT_EQ(add.partition_values, (std::vector<delta::MapEntry>{{"p", "42"}}));
  EXPECT_EQ(add.size, 100);
  EXPECT_EQ(add.modification_time, 1);
  EXPECT_FALSE(add.data_change);
  EXPECT_EQ(add.stats, std::optional<std::string>(R"({"numRecords":3,"minValues":{"x":1}})"));
  EXPECT_EQ(add.tags, (std::vector<delta::MapEntry>{{"tag", std::nullopt}}));
  ASSERT_TRUE(add.deletion_vector.has_value());
  EXPECT_EQ(*add.deletion_vector, (delta::DeletionVectorDescriptor{"u", "ab", 1, 36, 2, std::nullopt}));
  EXPECT_EQ(add.base_row_id, std::optional<int64_t>(4));
  EXPECT_EQ(add.default_row_commit_version, std::nullopt);
  EXPECT_EQ(add.clustering_provider, std::optional<std::string>("liquid"));

  const auto& second = std::get<delta::AddAction>((*actions)[7]);
  EXPECT_EQ(second.path, "b.parquet");
  EXPECT_EQ(second.partition_values, (std::vector<delta::MapEntry>{{"p", std::nullopt}}));
  EXPECT_TRUE(second.data_change);  // null keeps the default
  EXPECT_EQ(second.stats, std::optional<std::string>(R"({"numRecords":9})"));
  EXPECT_TRUE(second.tags.empty());
  EXPECT_FALSE(second.deletion_vector.has_value());
  EXPECT_FALSE(second.clustering_provider.has_value());

  const auto& remove = std::get<delta::RemoveAction>((*actions)[8]);
  EXPECT_EQ(remove.path, "c.parquet");
  EXPECT_EQ(remove.deletion_timestamp, std::optional<int64_t>(9));
  EXPECT_TRUE(remove.extended_file_metadata);
  EXPECT_EQ(remove.partition_values, (std::vector<delta::MapEntry>{{"p", "5"}}));
  EXPECT_FALSE(remove.size.has_value());
}

TEST_F(CheckpointReadTest, SkipsFileActionsWhenNotRequested) {
  Insert("protocol", "{'minReaderVersion': 1, 'minWriterVersion': 2, 'readerFeatures': NULL, 'writerFeatures': NULL}");
  Insert("add", "{'path': 'a.parquet', 'partitionValues': MAP {}, 'size': 1, 'modificationTime': 1, "
                "'dataChange': true, 'stats': NULL, 'tags': NULL, 'deletionVector': NULL, 'baseRowId': NULL, "
                "'defaultRowCommitVersion': NULL, 'clusteringProvider': NULL, 'partitionValues_parsed': NULL, "
                "'stats_parsed': NULL}");
  WriteCheckpoint();
  auto without = Read(false);
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  ASSERT_EQ(without->size(), 1u);
  const auto& protocol = std::get<delta::ProtocolAction>((*without)[0]);
  EXPECT_FALSE(protocol.reader_features.has_value());
  EXPECT_FALSE(protocol.writer_features.has_value());
  auto with = Read(true);
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  ASSERT_EQ(with->size(), 2u);
  const auto& add = std::get<delta::AddAction>((*with)[1]);
  EXPECT_FALSE(add.stats.has_value());  // neither stats nor stats_parsed
  EXPECT_TRUE(add.partition_values.empty());
}

TEST_F(CheckpointReadTest, NullRequiredFieldIsCorruptDataNamingFileAndRow) {
  Insert("txn", "{'appId': 'app', 'version': 1, 'lastUpdated': NULL}");
  Insert("txn", "{'appId': 'app', 'version': NULL, 'lastUpdated': NULL}");
  WriteCheckpoint();
  auto actions = Read(true);
  ASSERT_FALSE(actions.ok());
  EXPECT_EQ(actions.status().code(), ErrorCode::kCorruptData);
  const std::string message(actions.status().message());
  EXPECT_NE(message.find("00000000000000000003.checkpoint.parquet"), std::string::npos) << message;
  EXPECT_NE(message.find("row 2"), std::string::npos) << message;
  EXPECT_NE(message.find("txn.version"), std::string::npos) << message;
}

TEST_F(CheckpointReadTest, AddWithoutPathIsCorruptData) {
  Insert("add", "{'path': NULL, 'partitionValues': NULL, 'size': 1, 'modificationTime': 1, 'dataChange': true, "
                "'stats': '{}', 'tags': NULL, 'deletionVector': NULL, 'baseRowId': NULL, "
                "'defaultRowCommitVersion': NULL, 'clusteringProvider': NULL, 'partitionValues_parsed': NULL, "
                "'stats_parsed': NULL}");
  WriteCheckpoint();
  auto actions = Read(true);
  ASSERT_FALSE(actions.ok());
  EXPECT_EQ(actions.status().code(), ErrorCode::kCorruptData);
  EXPECT_NE(actions.status().message().find("add.path"), std::string::npos) << actions.status().message();
  // Metadata-only reads do not look at file actions.
  auto metadata_only = Read(false);
  ASSERT_TRUE(metadata_only.ok()) << metadata_only.status().ToString();
  EXPECT_TRUE(metadata_only->empty());
}

}  // namespace
}  // namespace tarn::engine
