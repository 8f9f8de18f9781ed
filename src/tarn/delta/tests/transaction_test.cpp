// SPDX-License-Identifier: Apache-2.0
// Tests for table creation, optimistic transactions, conflict detection, idempotent writes and schema enforcement.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tarn/base/version.hpp"
#include "tarn/delta/tests/write_test_table.hpp"
#include "tarn/storage/in_memory_object_store.hpp"

namespace tarn::delta {
namespace {

using namespace tarn::delta::testing;  // NOLINT

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override { table_ = MakeTable(); }
  std::unique_ptr<DeltaTable> MakeTable() {
    TableOptions options;
    options.clock = clock_.Function();
    options.checkpoint_writer = &writer_;
    options.checkpoint_reader = &reader_;
    return std::make_unique<DeltaTable>(*store_, "tables/t", options);
  }
  void Create(std::vector<std::string> partition_columns = {}, std::map<std::string, std::string> config = {}) {
    CreateTableRequest request;
    request.schema = TestSchema();
    request.partition_columns = std::move(partition_columns);
    request.configuration = std::move(config);
    auto created = table_->Create(request);
    ASSERT_TRUE(created.has_value()) << created.status().ToString();
    ASSERT_EQ(created->version, 0);
  }
  std::unique_ptr<OptimisticTransaction> Start(DeltaTable& table) {
    auto txn = table.StartTransaction();
    EXPECT_TRUE(txn.has_value()) << txn.status().ToString();
    return std::move(txn).value();
  }
  std::string CommitText(int64_t version) {
    return store_->Read("tables/t/_delta_log/" + VersionStem(version) + ".json").value();
  }
  void ExpectValidLog() {
    Status st = ValidateTableLog(*store_, "tables/t/");
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  std::unique_ptr<storage::InMemoryObjectStore> store_ = std::make_unique<storage::InMemoryObjectStore>();
  TestClock clock_;
  JsonCheckpointWriter writer_;
  JsonCheckpointReader reader_;
  std::unique_ptr<DeltaTable> table_;
};

TEST_F(TransactionTest, CreateWritesProtocolMetadataAndCommitInfo) {
  Create({"p"}, {{"delta.appendOnly", "false"}});
  auto lines = ParseJsonActions(CommitText(0)).value();
  ASSERT_EQ(lines.size(), 3u);
  const auto& info = std::get<CommitInfoAction>(lines[0]);
  EXPECT_EQ(info.operation, "CREATE TABLE");
  auto json = nlohmann::json::parse(info.raw_json);
  EXPECT_EQ(json["engineInfo"], std::string("Tarn/") + kVersion);
  EXPECT_EQ(json["isolationLevel"], "WriteSerializable");
  EXPECT_EQ(json["operationParameters"]["partitionBy"], R"(["p"])");
  EXPECT_FALSE(json.contains("readVersion"));
  EXPECT_EQ(std::get<ProtocolAction>(lines[1]), (ProtocolAction{1, 2, std::nullopt, std::nullopt}));
  const auto& metadata = std::get<MetadataAction>(lines[2]);
  EXPECT_EQ(metadata.id.size(), 36u);
  EXPECT_EQ(metadata.partition_columns, std::vector<std::string>{"p"});
  EXPECT_EQ(metadata.created_time, clock_.now->load());
  EXPECT_TRUE(ParseSchema(metadata.schema_string).value().type()->Equals(*TestSchema().type()));
  auto snapshot = table_->Latest().value();
  EXPECT_EQ(snapshot->version(), 0);
  CreateTableRequest again;
  again.schema = TestSchema();
  EXPECT_EQ(table_->Create(again).status().code(), ErrorCode::kResourceAlreadyExists);
  ExpectValidLog();
}

TEST_F(TransactionTest, CreateRejectsBadPartitionColumnsAndUnknownFeatures) {
  CreateTableRequest request;
  request.schema = TestSchema();
  request.partition_columns = {"missing"};
  EXPECT_EQ(table_->Create(request).status().code(), ErrorCode::kInvalidParameterValue);
  request.partition_columns = {};
  request.configuration = {{"delta.feature.rowTracking", "supported"}};
  EXPECT_EQ(table_->Create(request).status().code(), ErrorCode::kFeatureNotSupported);
  EXPECT_FALSE(store_->Stat("tables/t/_delta_log/" + VersionStem(0) + ".json").has_value());
}

TEST_F(TransactionTest, FeaturesSelectTableFeaturesProtocol) {
  Create({}, {{"delta.enableInCommitTimestamps", "true"}, {"delta.feature.domainMetadata", "supported"},
              {"delta.columnMapping.mode", "name"}});
  auto snapshot = table_->Latest().value();
  EXPECT_EQ(snapshot->protocol().min_reader_version, 3);
  EXPECT_EQ(snapshot->protocol().min_writer_version, 7);
  EXPECT_TRUE(HasWriterFeature(snapshot->protocol(), "inCommitTimestamp"));
  EXPECT_TRUE(HasWriterFeature(snapshot->protocol(), "domainMetadata"));
  EXPECT_EQ(snapshot->protocol().reader_features, std::vector<std::string>{"columnMapping"});
  EXPECT_FALSE(snapshot->Configuration("delta.feature.domainMetadata"));
  EXPECT_EQ(snapshot->Configuration("delta.inCommitTimestampEnablementVersion"), "0");
  EXPECT_EQ(snapshot->Configuration("delta.columnMapping.maxColumnId"), "2");
  EXPECT_TRUE(snapshot->schema().fields()[0].physical_name.has_value());
  EXPECT_EQ(snapshot->in_commit_timestamp(), clock_.now->load());

  // In-commit timestamps strictly increase even when the clock stands still, and commitInfo comes first.
  auto first = Append(*table_, "a.parquet").value();
  auto second = Append(*table_, "b.parquet").value();
  ASSERT_TRUE(first.in_commit_timestamp && second.in_commit_timestamp);
  EXPECT_GT(*second.in_commit_timestamp, *first.in_commit_timestamp);
  EXPECT_TRUE(CommitText(2).starts_with("{\"commitInfo\":{\"inCommitTimestamp\":"));
  auto txn = Start(*table_);
  ASSERT_TRUE(txn->SetDomainMetadata("tarn.test", R"({"k":1})").ok());
  ASSERT_TRUE(txn->Commit().has_value());
  EXPECT_EQ(table_->Latest().value()->domain_metadata().at("tarn.test").configuration, R"({"k":1})");
  ExpectValidLog();
}

TEST_F(TransactionTest, AppendCommitsNextVersionWithCommitInfo) {
  Create();
  auto result = Append(*table_, "part-0.parquet").value();
  EXPECT_EQ(result.version, 1);
  EXPECT_EQ(result.attempts, 1);
  ASSERT_TRUE(result.snapshot);
  EXPECT_EQ(result.snapshot->num_active_files(), 1);
  auto info = nlohmann::json::parse(std::get<CommitInfoAction>(ParseJsonActions(CommitText(1)).value()[0]).raw_json);
  EXPECT_EQ(info["operation"], "WRITE");
  EXPECT_EQ(info["readVersion"], 0);
  EXPECT_EQ(info["isBlindAppend"], true);
  EXPECT_EQ(info["txnId"], result.txn_id);
  EXPECT_EQ(info["operationMetrics"]["numFiles"], "1");
  EXPECT_EQ(info["operationMetrics"]["numOutputRows"], "1");
  EXPECT_EQ(info["operationMetrics"]["numOutputBytes"], "100");
  // A second table object sees the commit.
  EXPECT_EQ(MakeTable()->Latest().value()->num_active_files(), 1);
  ExpectValidLog();
}

TEST_F(TransactionTest, RejectsMalformedActions) {
  Create({"p"});
  auto txn = Start(*table_);
  txn->AddFile(TestAdd("x.parquet"));  // no partition value
  EXPECT_EQ(txn->Commit().status().code(), ErrorCode::kInvalidParameterValue);
  txn = Start(*table_);
  txn->AddFile(TestAdd("x.parquet", {{"p", "a"}}));
  txn->AddFile(TestAdd("x.parquet", {{"p", "a"}}));
  EXPECT_EQ(txn->Commit().status().code(), ErrorCode::kInvalidParameterValue);
  txn = Start(*table_);
  EXPECT_TRUE(txn->Commit().has_value());  // an empty commit is allowed
  EXPECT_EQ(txn->Commit().status().code(), ErrorCode::kInvalidTransactionState);
}

TEST_F(TransactionTest, BlindAppendsRetryAutomatically) {
  Create();
  auto other = MakeTable();
  auto slow = Start(*table_);
  slow->AddFile(TestAdd("slow.parquet"));
  ASSERT_TRUE(Append(*other, "fast-1.parquet").has_value());
  ASSERT_TRUE(Append(*other, "fast-2.parquet").has_value());
  auto result = slow->Commit();
  ASSERT_TRUE(result.has_value()) << result.status().ToString();
  EXPECT_EQ(result->version, 3);
  EXPECT_EQ(result->attempts, 2);
  EXPECT_EQ(result->snapshot->num_active_files(), 3);
  ExpectValidLog();
}

// Applies `writer` concurrently with `reader` (which read the table state before) and returns the reader's commit.
struct ConflictCase {
  std::string name;
  std::map<std::string, std::string> config;
  std::function<void(OptimisticTransaction&, const Snapshot&)> loser;
  std::function<void(OptimisticTransaction&, const Snapshot&)> winner;
  std::optional<std::string> expected;  // exception name, nullopt = commits
};

TEST_F(TransactionTest, ConflictMatrix) {
  auto remove_a = [](OptimisticTransaction& txn, const Snapshot& s) {
    for (const FileEntry& file : s.active_files()) {
      if (file.path == "p=a/a.parquet") txn.RemoveFile(file);
    }
  };
  auto append_a = [](OptimisticTransaction& txn, const Snapshot&) { txn.AddFile(TestAdd("p=a/new.parquet", {{"p", "a"}})); };
  auto append_b = [](OptimisticTransaction& txn, const Snapshot&) { txn.AddFile(TestAdd("p=b/new.parquet", {{"p", "b"}})); };
  auto read_a_delete_a = [&](OptimisticTransaction& txn, const Snapshot& s) {
    txn.ReadWhere(PartitionEquals({{"p", "a"}}));
    remove_a(txn, s);
  };
  auto change_metadata = [](OptimisticTransaction& txn, const Snapshot& s) {
    MetadataAction m = s.metadata();
    m.configuration["x"] = "y";
    ASSERT_TRUE(txn.UpdateMetadata(m).ok());
  };
  auto not_blind_append_a = [](OptimisticTransaction& txn, const Snapshot&) {
    txn.ReadWhere(PartitionEquals({{"p", "z"}}));
    txn.AddFile(TestAdd("p=a/merged.parquet", {{"p", "a"}}));
  };
  auto compact_a = [](OptimisticTransaction& txn, const Snapshot& s) {
    for (const FileEntry& file : s.active_files()) {
      if (file.path == "p=a/a.parquet") txn.RemoveFile(file, false);
    }
    AddAction add = TestAdd("p=a/compacted.parquet", {{"p", "a"}});
    add.data_change = false;
    txn.AddFile(add);
  };
  auto same_app = [](OptimisticTransaction& txn, const Snapshot&) {
    txn.SetAppTransaction("stream-1", 7);
    txn.AddFile(TestAdd("p=b/s.parquet", {{"p", "b"}}));
  };
  auto upgrade = [](OptimisticTransaction& txn, const Snapshot&) {
    ASSERT_TRUE(txn.UpdateProtocol(ProtocolAction{1, 3, std::nullopt, std::nullopt}).ok());
  };
  std::vector<ConflictCase> cases = {
      {"append vs append", {}, append_a, append_b, std::nullopt},
      {"delete in a vs append to b (partition-aware)", {}, read_a_delete_a, append_b, std::nullopt},
      {"delete in a vs blind append to a (WriteSerializable)", {}, read_a_delete_a, append_a, std::nullopt},
      {"delete in a vs blind append to a (Serializable)", {{"delta.isolationLevel", "Serializable"}},
       read_a_delete_a, append_a, "ConcurrentAppendException"},
      {"delete in a vs non-blind write to a", {}, read_a_delete_a, not_blind_append_a, "ConcurrentAppendException"},
      {"delete vs delete", {}, read_a_delete_a, read_a_delete_a, "ConcurrentDeleteDeleteException"},
      {"read file vs compaction", {},
       [](OptimisticTransaction& txn, const Snapshot&) {
         txn.ReadFile("p=a/a.parquet");
         txn.AddFile(TestAdd("p=b/x.parquet", {{"p", "b"}}));
       },
       compact_a, "ConcurrentDeleteReadException"},
      {"compaction vs append", {}, compact_a, append_a, std::nullopt},
      {"whole-table read vs delete", {},
       [](OptimisticTransaction& txn, const Snapshot&) {
         txn.ReadWholeTable();
         txn.AddFile(TestAdd("p=b/y.parquet", {{"p", "b"}}));
       },
       remove_a, "ConcurrentDeleteReadException"},
      {"append vs metadata change", {}, append_a, change_metadata, "MetadataChangedException"},
      {"metadata vs metadata", {}, change_metadata, change_metadata, "MetadataChangedException"},
      {"protocol vs protocol", {}, upgrade, upgrade, "ProtocolChangedException"},
      {"same app id", {}, same_app, same_app, "ConcurrentTransactionException"},
  };
  for (const ConflictCase& c : cases) {
    SCOPED_TRACE(c.name);
    table_.reset();
    store_ = std::make_unique<storage::InMemoryObjectStore>();
    table_ = MakeTable();
    Create({"p"}, c.config);
    ASSERT_TRUE(Append(*table_, "p=a/a.parquet", {{"p", "a"}}).has_value());
    auto winner_table = MakeTable();
    auto loser = Start(*table_);
    auto winner = Start(*winner_table);
    c.loser(*loser, *loser->snapshot());
    c.winner(*winner, *winner->snapshot());
    auto won = winner->Commit();
    ASSERT_TRUE(won.has_value()) << won.status().ToString();
    auto result = loser->Commit();
    if (!c.expected) {
      EXPECT_TRUE(result.has_value()) << result.status().ToString();
    } else {
      ASSERT_FALSE(result.has_value());
      EXPECT_EQ(result.status().code(), ErrorCode::kCommitConflict);
      EXPECT_NE(result.status().message().find(*c.expected), std::string::npos) << result.status().message();
      EXPECT_NE(result.status().message().find("version 2"), std::string::npos) << result.status().message();
    }
    ExpectValidLog();
  }
}

TEST_F(TransactionTest, IdempotentWritesAreSkipped) {
  Create();
  auto txn = Start(*table_);
  EXPECT_FALSE(txn->ReadAppTransactionVersion("job-1"));
  txn->SetAppTransaction("job-1", 5);
  txn->AddFile(TestAdd("batch5.parquet"));
  ASSERT_TRUE(txn->Commit().has_value());
  for (int64_t version : {5, 4}) {
    auto again = Start(*table_);
    again->SetAppTransaction("job-1", version);
    again->AddFile(TestAdd("dup.parquet"));
    auto result = again->Commit().value();
    EXPECT_TRUE(result.skipped);
    EXPECT_EQ(result.version, 1);
  }
  auto next = Start(*table_);
  next->SetAppTransaction("job-1", 6);
  next->AddFile(TestAdd("batch6.parquet"));
  EXPECT_FALSE(next->Commit().value().skipped);
  auto snapshot = table_->Latest().value();
  EXPECT_EQ(snapshot->num_active_files(), 2);
  EXPECT_EQ(snapshot->AppTransactionVersion("job-1"), 6);
  ExpectValidLog();
}

TEST_F(TransactionTest, SchemaEnforcementAndMerge) {
  Create();
  Schema wrong_type = ParseSchema(R"({"type":"struct","fields":[{"name":"id","type":"string","nullable":true,"metadata":{}}]})").value();
  Schema extra = ParseSchema(
                     R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
                     R"({"name":"extra","type":{"type":"struct","fields":[{"name":"x","type":"integer","nullable":false,"metadata":{}}]},"nullable":false,"metadata":{}}]})")
                     .value();
  auto txn = Start(*table_);
  Status st = txn->EnforceSchema(wrong_type, /*merge_schema=*/true);
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(st.message().find("`id`"), std::string::npos) << st.message();
  st = txn->EnforceSchema(extra, false);
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(st.message().find("`extra`"), std::string::npos) << st.message();
  st = txn->EnforceSchema(extra, true);
  ASSERT_TRUE(st.ok()) << st.ToString();
  txn->AddFile(TestAdd("evolved.parquet"));
  ASSERT_TRUE(txn->Commit().has_value());
  auto snapshot = table_->Latest().value();
  ASSERT_EQ(snapshot->schema().fields().size(), 3u);
  EXPECT_EQ(snapshot->schema().fields()[2].name, "extra");
  EXPECT_TRUE(snapshot->schema().fields()[2].nullable);
  // Nested evolution adds a field inside the struct.
  Schema nested = ParseSchema(
                      R"({"type":"struct","fields":[{"name":"extra","type":{"type":"struct","fields":[{"name":"x","type":"integer","nullable":false,"metadata":{}},{"name":"y","type":"double","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]})")
                      .value();
  auto evolve = Start(*table_);
  Schema without_x = ParseSchema(
      R"({"type":"struct","fields":[{"name":"extra","type":{"type":"struct","fields":[{"name":"y","type":"double","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]})")
                         .value();
  st = evolve->EnforceSchema(without_x, true);
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(st.message().find("`extra.x` is NOT NULL"), std::string::npos) << st.message();
  ASSERT_TRUE(evolve->EnforceSchema(nested, true).ok());
  ASSERT_TRUE(evolve->Commit().has_value());
  EXPECT_EQ(table_->Latest().value()->schema().fields()[2].type->fields().size(), 2u);
  // A matching schema changes nothing.
  auto same = Start(*table_);
  ASSERT_TRUE(same->EnforceSchema(TestSchema(), false).ok());
  EXPECT_TRUE(same->IsBlindAppend());
  ExpectValidLog();
}

TEST_F(TransactionTest, AppendOnlyTablesRefuseDeletes) {
  Create({}, {{"delta.appendOnly", "true"}});
  ASSERT_TRUE(Append(*table_, "a.parquet").has_value());
  auto txn = Start(*table_);
  txn->RemoveFile(txn->snapshot()->active_files()[0]);
  EXPECT_EQ(txn->Commit().status().code(), ErrorCode::kInvalidState);
  auto compaction = Start(*table_);
  compaction->RemoveFile(compaction->snapshot()->active_files()[0], /*data_change=*/false);
  EXPECT_TRUE(compaction->Commit().has_value());
}

TEST_F(TransactionTest, DomainMetadataNeedsTheFeature) {
  Create();
  auto txn = Start(*table_);
  ASSERT_TRUE(txn->SetDomainMetadata("d", "{}").ok());
  EXPECT_EQ(txn->Commit().status().code(), ErrorCode::kFeatureNotSupported);
}

TEST_F(TransactionTest, RefusesTablesWithUnknownWriterFeatures) {
  Create();
  auto txn = Start(*table_);
  ASSERT_TRUE(txn->UpdateProtocol(ProtocolAction{1, 7, std::nullopt, std::vector<std::string>{"identityColumns"}}).ok());
  EXPECT_EQ(txn->Commit().status().code(), ErrorCode::kFeatureNotSupported);
}

TEST(ProtocolValidatorTest, FlagsViolations) {
  ProtocolValidator validator;
  std::string v0 =
      R"({"commitInfo":{"timestamp":1,"operation":"CREATE TABLE"}})" "\n"
      R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})" "\n"
      R"({"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"d\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":["d"],"configuration":{},"createdTime":1}})" "\n";
  ASSERT_TRUE(validator.ValidateCommit(0, v0).ok());
  std::string bad =
      R"({"commitInfo":{"timestamp":1,"operation":"WRITE"}})" "\n"
      R"({"add":{"path":"d=2020-01-01/a b.parquet","partitionValues":{"d":"2020-13-01"},"size":1,"modificationTime":1,"dataChange":true,"stats":"{\"numRecords\":-1,\"nullCount\":{\"nope\":1}}"}})" "\n"
      R"({"add":{"path":"/abs.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}})" "\n"
      R"({"remove":{"path":"x","dataChange":"yes"}})" "\n"
      R"({"domainMetadata":{"domain":"d","configuration":"{}","removed":false}})" "\n";
  Status st = validator.ValidateCommit(1, bad);
  ASSERT_EQ(st.code(), ErrorCode::kProtocolViolation);
  for (const char* expected : {"must be percent-encoded", "2020-13-01", "numRecords", "unknown column nope",
                               "must not start with '/'", "keys do not match", "remove.dataChange",
                               "domainMetadata table feature"}) {
    EXPECT_NE(st.message().find(expected), std::string::npos) << expected << "\n" << st.message();
  }
  std::string good =
      R"({"commitInfo":{"timestamp":1,"operation":"WRITE"}})" "\n"
      R"({"add":{"path":"d=2020-01-01/a%20b.parquet","partitionValues":{"d":"2020-01-01"},"size":1,"modificationTime":1,"dataChange":true,"stats":"{\"numRecords\":1,\"nullCount\":{\"id\":0}}"}})" "\n";
  EXPECT_TRUE(validator.ValidateCommit(2, good).ok());
}

}  // namespace
}  // namespace tarn::delta
