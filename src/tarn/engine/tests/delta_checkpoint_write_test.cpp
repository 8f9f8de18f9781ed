// SPDX-License-Identifier: Apache-2.0
// Tests the DuckDB Parquet checkpoint writer: Spark's schema, replay equivalence, atomicity and concurrent use.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
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
#include "tarn/engine/session.hpp"
#include "tarn/engine/sql_quoting.hpp"
#include "tarn/storage/in_memory_object_store.hpp"
#include "tarn/storage/local_object_store.hpp"
#include "test_util.hpp"

namespace tarn::engine {
namespace {

namespace fs = std::filesystem;

using test_util::StateLines;
using test_util::TempDir;

delta::Schema TestSchema() {
  return delta::ParseSchema(
             R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
             R"({"name":"s","type":"string","nullable":true,"metadata":{}},)"
             R"({"name":"p","type":"string","nullable":true,"metadata":{}}]})")
      .value();
}

delta::AddAction MakeAdd(int i) {
  delta::AddAction add;
  std::string part;
  std::optional<std::string> value;
  switch (i % 4) {
    case 0: value = "plain"; part = "p=plain/"; break;
    case 1: value = "a:b/c=d %\"é"; part = "p=a%253Ab%252Fc%253Dd%2520%2525%2522%C3%A9/"; break;
    case 2: value = std::nullopt; part = "p=__HIVE_DEFAULT_PARTITION__/"; break;
    default: value = ""; part = "p=__HIVE_DEFAULT_PARTITION__/"; break;
  }
  add.path = part + "part-" + std::to_string(i) + ".snappy.parquet";
  add.partition_values = {{"p", value}};
  add.size = 1000 + i;
  add.modification_time = 1'700'000'000'000 + i;
  add.stats = R"({"numRecords":)" + std::to_string(i + 1) + R"(,"minValues":{"id":)" + std::to_string(i) +
              R"(,"s":"q\"uo\\te é"},"maxValues":{"id":)" + std::to_string(i + 10) +
              R"(,"s":"zz"},"nullCount":{"id":0,"s":)" + std::to_string(i % 3) + "}}";
  if (i % 5 == 3) {
    delta::DeletionVectorDescriptor dv;
    dv.storage_type = "u";
    dv.path_or_inline_dv = "ab^-aqEH.-t@S}K{vb[*k^";
    dv.offset = 4 * i;
    dv.size_in_bytes = 40;
    dv.cardinality = 2;
    add.deletion_vector = dv;
  }
  return add;
}

class CheckpointWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = Database::Open({}).value();
    reader_ = std::make_unique<DuckCheckpointReader>(*database_);
    writer_ = std::make_unique<DuckCheckpointWriter>(*database_);
    store_ = storage::LocalObjectStore::Create(dir_.path(), true).value();
  }
  std::unique_ptr<delta::DeltaTable> MakeTable(delta::CheckpointWriter* writer) {
    delta::TableOptions options;
    options.checkpoint_reader = reader_.get();
    options.checkpoint_writer = writer;
    return std::make_unique<delta::DeltaTable>(*store_, "", options);
  }
  void Create(delta::DeltaTable& table, std::map<std::string, std::string> config) {
    config.emplace("delta.feature.deletionVectors", "supported");
    config.emplace("delta.feature.domainMetadata", "supported");
    delta::CreateTableRequest request;
    request.schema = TestSchema();
    request.partition_columns = {"p"};
    request.configuration = std::move(config);
    auto created = table.Create(request);
    ASSERT_TRUE(created.has_value()) << created.status().ToString();
  }
  std::vector<std::string> Query(const std::string& sql) {
    auto session = database_->Connect().value();
    auto stream = session->Execute(sql);
    EXPECT_TRUE(stream.has_value()) << stream.status().ToString();
    std::vector<std::string> out;
    if (!stream.has_value()) return out;
    while (true) {
      auto chunk = (*stream)->Next().value();
      if (!chunk) break;
      for (size_t row = 0; row < chunk->num_rows(); row++) {
        std::string line;
        for (size_t col = 0; col < chunk->num_columns(); col++) {
          line += (col ? "|" : "") + (chunk->IsNull(col, row) ? std::string("NULL") : chunk->FormatValue(col, row, ValueStyle::kDuckDb));
        }
        out.push_back(line);
      }
    }
    return out;
  }
  std::string CheckpointPath(int64_t version) {
    return dir_.path() + "/_delta_log/" + delta::VersionStem(version) + ".checkpoint.parquet";
  }

  TempDir dir_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<DuckCheckpointReader> reader_;
  std::unique_ptr<DuckCheckpointWriter> writer_;
  std::unique_ptr<storage::ObjectStore> store_;
};

// Builds a table with every kind of checkpoint row: escaped and null partition values, stats with quotes and
// non-ASCII text, deletion vectors, tombstones, app transactions and metadata domains.
void WriteHistory(delta::DeltaTable& table, int commits) {
  int next = 0;
  for (int c = 0; c < commits; c++) {
    auto txn = table.StartTransaction().value();
    for (int k = 0; k < 3; k++) txn->AddFile(MakeAdd(next++));
    if (c % 4 == 2) {
      txn->RemoveFile(txn->snapshot()->active_files()[0]);
    }
    if (c % 3 == 0) txn->SetAppTransaction("app-" + std::to_string(c % 2), c);
    if (c == 5) {
      ASSERT_TRUE(txn->SetDomainMetadata("tarn.test", R"({"k":"v\"1"})").ok());
    }
    auto committed = txn->Commit();
    ASSERT_TRUE(committed.has_value()) << committed.status().ToString();
  }
}

TEST_F(CheckpointWriteTest, CheckpointReplaysToTheSameStateAsTheJsonLog) {
  auto table = MakeTable(writer_.get());
  Create(*table, {{"delta.checkpointInterval", "10"}});
  WriteHistory(*table, 23);
  // Versions 10 and 20 were checkpointed after their commits; checkpoint the latest one explicitly too.
  EXPECT_TRUE(fs::exists(CheckpointPath(10)));
  EXPECT_TRUE(fs::exists(CheckpointPath(20)));
  auto latest = table->Latest().value();
  ASSERT_EQ(latest->version(), 23);
  auto written = table->Checkpoint(*latest);
  ASSERT_TRUE(written.has_value()) << written.status().ToString();
  EXPECT_EQ(written->num_add_files, latest->num_active_files());
  EXPECT_EQ(table->num_post_commit_failures(), 0);

  for (int64_t version : {int64_t{10}, int64_t{20}, int64_t{23}}) {
    delta::DeltaLogOptions with_reader;
    with_reader.checkpoint_reader = reader_.get();
    auto from_checkpoint = delta::DeltaLog(*store_, "", with_reader).LoadAtVersion(version);
    ASSERT_TRUE(from_checkpoint.has_value()) << from_checkpoint.status().ToString();
    EXPECT_EQ((*from_checkpoint)->checkpoint_version(), version);
    auto from_json = delta::DeltaLog(*store_, "", delta::DeltaLogOptions{}).LoadAtVersion(version);
    ASSERT_TRUE(from_json.has_value()) << from_json.status().ToString();
    EXPECT_FALSE((*from_json)->checkpoint_version().has_value());
    EXPECT_EQ(StateLines(**from_checkpoint), StateLines(**from_json)) << "version " << version;
    EXPECT_GT((*from_json)->tombstones().size(), 0u);
    EXPECT_EQ((*from_checkpoint)->app_transactions().size(), 2u);
    EXPECT_EQ((*from_checkpoint)->domain_metadata().size(), 1u);
  }
  EXPECT_TRUE(delta::ValidateTableLog(*store_, "").ok());
  // No temporary file is left next to the checkpoints.
  for (const auto& entry : fs::directory_iterator(dir_.path() + "/_delta_log")) {
    EXPECT_FALSE(entry.path().filename().string().ends_with(".tmp")) << entry.path();
  }
}

TEST_F(CheckpointWriteTest, FileHasSparksCheckpointSchema) {
  auto table = MakeTable(writer_.get());
  Create(*table, {});
  WriteHistory(*table, 3);
  auto latest = table->Latest().value();
  ASSERT_TRUE(table->Checkpoint(*latest).has_value());
  std::string source = "read_parquet(" + QuoteSqlString(CheckpointPath(latest->version())) + ")";
  auto columns = Query("SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM " + source + ")");
  std::vector<std::string> expected;
  for (const CheckpointColumn& column : CheckpointColumns(false)) {
    expected.push_back(std::string(column.name) + " " + std::string(column.type));
  }
  ASSERT_EQ(columns.size(), expected.size());
  EXPECT_EQ(columns[0], "txn STRUCT(appId VARCHAR, \"version\" BIGINT, lastUpdated BIGINT)");
  EXPECT_TRUE(columns[1].starts_with("add STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT"))
      << columns[1];
  EXPECT_TRUE(columns[1].ends_with("stats VARCHAR)")) << columns[1];
  EXPECT_EQ(columns[4], "protocol STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures "
                        "VARCHAR[], writerFeatures VARCHAR[])");
  // Rows: protocol first, then metaData, each row sets exactly one action column; partition values are a map with
  // the null kept as a null value.
  auto rows = Query("SELECT (protocol IS NOT NULL)::INT, (metaData IS NOT NULL)::INT, (txn IS NOT NULL)::INT, "
                    "(add IS NOT NULL)::INT, (remove IS NOT NULL)::INT FROM " + source);
  ASSERT_GE(rows.size(), 4u);
  EXPECT_EQ(rows[0], "1|0|0|0|0");
  EXPECT_EQ(rows[1], "0|1|0|0|0");
  auto nulls = Query("SELECT count(*) FROM " + source + " WHERE add.partitionValues['p'] IS NULL AND add IS NOT NULL "
                     "AND map_contains(add.partitionValues, 'p')");
  ASSERT_EQ(nulls.size(), 1u);
  EXPECT_NE(nulls[0], "0");
  auto stats = Query("SELECT json_extract_string(add.stats, '$.minValues.s') FROM " + source +
                     " WHERE add IS NOT NULL LIMIT 1");
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0], "q\"uo\\te é");
}

TEST_F(CheckpointWriteTest, WritesThroughStoresWithoutLocalPaths) {
  storage::InMemoryObjectStore memory;
  delta::TableOptions options;
  options.checkpoint_reader = reader_.get();
  options.checkpoint_writer = writer_.get();
  delta::DeltaTable table(memory, "t/", options);
  Create(table, {{"delta.checkpointInterval", "2"}});
  WriteHistory(table, 4);
  EXPECT_EQ(table.num_post_commit_failures(), 0);
  EXPECT_TRUE(memory.Stat("t/_delta_log/" + delta::VersionStem(4) + ".checkpoint.parquet").has_value());
  delta::DeltaLogOptions with_reader;
  with_reader.checkpoint_reader = reader_.get();
  auto from_checkpoint = delta::DeltaLog(memory, "t/", with_reader).LoadLatest().value();
  EXPECT_EQ(from_checkpoint->checkpoint_version(), 4);
  auto from_json = delta::DeltaLog(memory, "t/", delta::DeltaLogOptions{}).LoadLatest().value();
  EXPECT_EQ(StateLines(*from_checkpoint), StateLines(*from_json));
}

TEST_F(CheckpointWriteTest, ConcurrentCheckpointsOfOneVersionLeaveOneValidFile) {
  auto table = MakeTable(nullptr);
  Create(*table, {});
  WriteHistory(*table, 6);
  auto latest = table->Latest().value();
  delta::CheckpointContent content = delta::BuildCheckpointContent(*latest, {});
  std::string key = "_delta_log/" + delta::VersionStem(latest->version()) + ".checkpoint.parquet";
  std::vector<std::thread> threads;
  std::vector<Status> results(4, Status::OK());
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3 && results[t].ok(); i++) {
        auto info = writer_->WriteCheckpoint(*store_, key, content);
        if (!info.has_value()) results[t] = info.status();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  delta::DeltaLogOptions with_reader;
  with_reader.checkpoint_reader = reader_.get();
  auto from_checkpoint = delta::DeltaLog(*store_, "", with_reader).LoadAtVersion(latest->version());
  ASSERT_TRUE(from_checkpoint.has_value()) << from_checkpoint.status().ToString();
  EXPECT_EQ((*from_checkpoint)->checkpoint_version(), latest->version());
  EXPECT_EQ(StateLines(**from_checkpoint), StateLines(*latest));
}

}  // namespace
}  // namespace tarn::engine
