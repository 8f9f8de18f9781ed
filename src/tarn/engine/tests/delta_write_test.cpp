// SPDX-License-Identifier: Apache-2.0
// Tests DeltaWriter: tables written from DuckDB queries read back identically through the engine's Delta read path,
// and every commit passes delta's protocol validator.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/log_segment.hpp"
#include "tarn/delta/partition_layout.hpp"
#include "tarn/delta/protocol_validator.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/delta_writer.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/engine/sql_quoting.hpp"
#include "tarn/storage/local_object_store.hpp"

#ifndef TARN_SHARED_DIR
#define TARN_SHARED_DIR ""
#endif

namespace tarn::engine {
namespace {

namespace fs = std::filesystem;

class DeltaWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tarn-write-test-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    root_ = dir_ + "/table";
    database_ = Database::Open({}).value();
    writer_ = std::make_unique<DeltaWriter>(*database_);
  }
  void TearDown() override {
    writer_.reset();
    database_.reset();
    fs::remove_all(dir_);
  }

  // Rows of `sql` as sorted "a|b|c" lines (NULL for nulls).
  std::vector<std::string> Rows(const std::string& sql) {
    auto session = database_->Connect().value();
    auto stream = session->Execute(sql);
    EXPECT_TRUE(stream.has_value()) << sql << ": " << stream.status().ToString();
    std::vector<std::string> out;
    if (!stream.has_value()) return out;
    while (true) {
      auto chunk = (*stream)->Next();
      EXPECT_TRUE(chunk.has_value()) << chunk.status().ToString();
      if (!chunk.has_value() || !*chunk) break;
      for (size_t row = 0; row < (*chunk)->num_rows(); row++) {
        std::string line;
        for (size_t col = 0; col < (*chunk)->num_columns(); col++) {
          line += (col ? "|" : "") + ((*chunk)->IsNull(col, row)
                                          ? std::string("NULL")
                                          : (*chunk)->FormatValue(col, row, ValueStyle::kDuckDb));
        }
        out.push_back(line);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string Table() const { return "delta.`" + root_ + "`"; }

  // Validates every commit and returns the latest snapshot (read with the Parquet checkpoint reader).
  delta::SnapshotPtr Validate() {
    auto store = storage::LocalObjectStore::Create(root_, false).value();
    Status valid = delta::ValidateTableLog(*store, "");
    EXPECT_TRUE(valid.ok()) << valid.ToString();
    DuckCheckpointReader reader(*database_);
    delta::DeltaLogOptions options;
    options.checkpoint_reader = &reader;
    auto snapshot = delta::DeltaLog(*store, "", options).LoadLatest();
    EXPECT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
    return snapshot.has_value() ? *snapshot : nullptr;
  }
  nlohmann::json CommitInfo(int64_t version) {
    std::ifstream in(root_ + "/_delta_log/" + delta::VersionStem(version) + ".json");
    std::string line;
    while (std::getline(in, line)) {
      auto json = nlohmann::json::parse(line);
      if (json.contains("commitInfo")) return json["commitInfo"];
    }
    return {};
  }
  void CreateSimple(std::vector<std::string> partition_columns = {}) {
    DeltaCreateTable create;
    create.columns = {{"id", "BIGINT"}, {"s", "STRING"}, {"d", "DOUBLE"}};
    create.partition_columns = std::move(partition_columns);
    auto created = writer_->CreateTable(root_, create);
    ASSERT_TRUE(created.has_value()) << created.status().ToString();
    EXPECT_EQ(created->version, 0);
  }
  DeltaWriteResult Append(const std::string& query, DeltaWriteOptions options = {}) {
    DeltaWrite write;
    write.source_query = query;
    auto result = writer_->Write(root_, write, options);
    EXPECT_TRUE(result.has_value()) << result.status().ToString();
    return result.has_value() ? *result : DeltaWriteResult{};
  }

  std::string dir_;
  std::string root_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<DeltaWriter> writer_;
};

constexpr const char* kRows = "SELECT range AS id, 'x' || range AS s, range * 1.5 AS d FROM range(100)";

TEST_F(DeltaWriteTest, AppendReadsBackIdenticallyWithSparkLikeFilesAndMetrics) {
  CreateSimple();
  DeltaWriteResult result = Append(kRows);
  EXPECT_EQ(result.version, 1);
  EXPECT_EQ(result.num_output_rows, 100);
  EXPECT_EQ(Rows("SELECT id, s, d FROM " + Table()), Rows(kRows));
  auto snapshot = Validate();
  ASSERT_EQ(snapshot->num_active_files(), result.num_added_files);
  for (const delta::FileEntry& file : snapshot->active_files()) {
    std::string name(file.path);
    EXPECT_TRUE(name.starts_with("part-00000-") && name.ends_with(".c000.snappy.parquet")) << name;
    EXPECT_EQ(name.size(), std::string("part-00000-").size() + 36 + std::string(".c000.snappy.parquet").size());
    EXPECT_EQ(fs::file_size(root_ + "/" + name), static_cast<uintmax_t>(file.size));
  }
  auto info = CommitInfo(1);
  EXPECT_EQ(info["operation"], "WRITE");
  EXPECT_EQ(info["operationParameters"]["mode"], "Append");
  EXPECT_EQ(info["operationMetrics"]["numOutputRows"], "100");
  EXPECT_EQ(info["operationMetrics"]["numFiles"], std::to_string(result.num_added_files));
  EXPECT_EQ(info["operationMetrics"]["numOutputBytes"], std::to_string(result.num_output_bytes));
  EXPECT_TRUE(info["isBlindAppend"].get<bool>());
  // No staging directory is left behind.
  for (const auto& entry : fs::directory_iterator(root_)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".tarn-staging")) << entry.path();
  }
}

TEST_F(DeltaWriteTest, StatsCoverMinMaxNullCountWithSparkStringTruncation) {
  CreateSimple();
  std::string long_a(40, 'a');
  std::string long_z(40, 'z');
  Append("SELECT * FROM (VALUES (5, '" + long_a + "', 1.5), (-3, '" + long_z + "', NULL), (7, NULL, 'NaN'::DOUBLE)) "
         "t(id, s, d)");
  auto snapshot = Validate();
  ASSERT_EQ(snapshot->num_active_files(), 1);
  auto stats = nlohmann::json::parse(snapshot->active_files()[0].stats);
  EXPECT_EQ(stats["numRecords"], 3);
  EXPECT_EQ(stats["minValues"]["id"], -3);
  EXPECT_EQ(stats["maxValues"]["id"], 7);
  EXPECT_EQ(stats["minValues"]["s"], std::string(32, 'a'));
  EXPECT_EQ(stats["maxValues"]["s"], std::string(32, 'z') + "\x7f");
  EXPECT_EQ(stats["nullCount"]["id"], 0);
  EXPECT_EQ(stats["nullCount"]["s"], 1);
  EXPECT_EQ(stats["nullCount"]["d"], 1);
  EXPECT_FALSE(stats["minValues"].contains("d"));  // a NaN makes the bounds unknown
  // Stats skip files: a filter outside [min, max] reads nothing and returns no rows.
  EXPECT_TRUE(Rows("SELECT * FROM " + Table() + " WHERE id > 100").empty());
}

// sql_fuzzer finding (ASan heap-use-after-free): TIMESTAMP stats were parsed through a reference to a temporary
// DataType that had already been freed. Under the sanitizer build this test fails without the fix.
TEST_F(DeltaWriteTest, TimestampStatsAreParsedWithALiveType) {
  DeltaCreateTable create;
  create.source_query =
      "SELECT * FROM (VALUES (TIMESTAMPTZ '2024-01-02 03:04:05+00', TIMESTAMP '2024-01-01 00:00:00'), "
      "(TIMESTAMPTZ '2024-03-04 05:06:07+00', TIMESTAMP '2024-02-01 00:00:00')) t(ts, ntz)";
  auto created = writer_->CreateTable(root_, create);
  ASSERT_TRUE(created.has_value()) << created.status().ToString();
  auto snapshot = Validate();
  ASSERT_EQ(snapshot->num_active_files(), 1);
  auto stats = nlohmann::json::parse(snapshot->active_files()[0].stats);
  EXPECT_TRUE(stats["minValues"].contains("ts")) << stats.dump();
  EXPECT_TRUE(stats["maxValues"].contains("ntz")) << stats.dump();
  EXPECT_TRUE(Rows("SELECT * FROM " + Table() + " WHERE ts > TIMESTAMPTZ '2030-01-01 00:00:00+00'").empty());
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Table() + " WHERE ts < TIMESTAMPTZ '2030-01-01 00:00:00+00'").size(), 1u);
}

TEST_F(DeltaWriteTest, PartitionDirectoriesAreEscapedAsSparkDoes) {
  DeltaCreateTable create;
  create.partition_columns = {"p", "n"};
  create.source_query =
      "SELECT * FROM (VALUES (1, 'a:b/c=d %\"é#?', 10), (2, NULL, NULL), (3, '', 11), (4, 'plain', 12), "
      "(5, 'plain', 12)) t(id, p, n)";
  auto created = writer_->CreateTable(root_, create);
  ASSERT_TRUE(created.has_value()) << created.status().ToString();
  EXPECT_EQ(CommitInfo(0)["operation"], "CREATE TABLE AS SELECT");
  auto snapshot = Validate();
  EXPECT_EQ(snapshot->num_active_files(), 4);
  EXPECT_TRUE(fs::is_directory(root_ + "/p=" + delta::EscapePartitionPathComponent("a:b/c=d %\"é#?") + "/n=10"));
  EXPECT_TRUE(fs::is_directory(root_ + "/p=__HIVE_DEFAULT_PARTITION__/n=__HIVE_DEFAULT_PARTITION__"));
  EXPECT_TRUE(fs::is_directory(root_ + "/p=plain/n=12"));
  for (const delta::FileEntry& file : snapshot->active_files()) {
    EXPECT_TRUE(fs::exists(root_ + "/" + std::string(file.path))) << file.path;
    const delta::PartitionValueRef* p = file.FindPartitionValue("p");
    ASSERT_NE(p, nullptr);
  }
  // Empty strings are written as null partition values, as Spark does.
  EXPECT_EQ(Rows("SELECT id, p, n FROM " + Table()),
            Rows("SELECT * FROM (VALUES (1, 'a:b/c=d %\"é#?', 10), (2, NULL, NULL), (3, NULL, 11), (4, 'plain', 12), "
                 "(5, 'plain', 12)) t(id, p, n)"));
  // Partition files hold only the data columns.
  for (const delta::FileEntry& file : snapshot->active_files()) {
    auto columns = Rows("SELECT name FROM parquet_schema(" + QuoteSqlString(root_ + "/" + std::string(file.path)) +
                        ") WHERE name <> 'duckdb_schema'");
    EXPECT_EQ(columns, std::vector<std::string>{"id"});
  }
}

TEST_F(DeltaWriteTest, SchemaEnforcementNamesTheColumnAndMergeSchemaAddsIt) {
  CreateSimple();
  Append(kRows);
  DeltaWrite bad;
  bad.source_query = "SELECT 1 AS id, 2 AS s";
  auto mismatch = writer_->Write(root_, bad);
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_EQ(mismatch.status().code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(mismatch.status().message().find("`s`"), std::string::npos) << mismatch.status().message();

  DeltaWrite extra;
  extra.source_query = "SELECT 1000 AS id, 'new' AS s, 2.5 AS d, 42 AS extra";
  auto refused = writer_->Write(root_, extra);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.status().code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(refused.status().message().find("`extra`"), std::string::npos) << refused.status().message();
  EXPECT_EQ(Validate()->version(), 1);  // nothing committed

  DeltaWriteOptions merge;
  merge.merge_schema = true;
  auto merged = writer_->Write(root_, extra, merge);
  ASSERT_TRUE(merged.has_value()) << merged.status().ToString();
  EXPECT_EQ(Rows("SELECT count(*), count(extra), sum(extra) FROM " + Table()),
            std::vector<std::string>{"101|1|42"});
  // Integer data widens into the BIGINT column; missing columns are null.
  Append("SELECT 7::TINYINT AS id");
  EXPECT_EQ(Rows("SELECT s, d, extra FROM " + Table() + " WHERE id = 7 AND s IS NULL"),
            std::vector<std::string>{"NULL|NULL|NULL"});
  Validate();
}

TEST_F(DeltaWriteTest, OverwriteAndReplaceWhere) {
  CreateSimple();
  Append("SELECT range AS id, 'old' AS s, 0.0 AS d FROM range(0, 50)");
  Append("SELECT range AS id, 'old' AS s, 0.0 AS d FROM range(50, 100)");
  DeltaWrite replace;
  replace.mode = DeltaWrite::Mode::kOverwrite;
  replace.source_query = "SELECT range AS id, 'new' AS s, 1.0 AS d FROM range(40, 60)";
  replace.replace_where = "id >= 40 AND id < 60";
  auto replaced = writer_->Write(root_, replace);
  ASSERT_TRUE(replaced.has_value()) << replaced.status().ToString();
  EXPECT_EQ(replaced->num_removed_files, 2);
  EXPECT_EQ(replaced->num_deleted_rows, 20);
  EXPECT_EQ(replaced->num_copied_rows, 80);
  EXPECT_EQ(Rows("SELECT s, count(*), min(id), max(id) FROM " + Table() + " GROUP BY s"),
            (std::vector<std::string>{"new|20|40|59", "old|80|0|99"}));
  EXPECT_EQ(CommitInfo(3)["operationParameters"]["predicate"], "[\"id >= 40 AND id < 60\"]");

  // New rows outside the predicate: refused, nothing committed, no file left behind.
  auto count_files = [&] {
    int files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(root_)) {
      files += entry.is_regular_file() && entry.path().string().find("_delta_log") == std::string::npos;
    }
    return files;
  };
  int files_before = count_files();
  replace.source_query = "SELECT range AS id, 'bad' AS s, 0.0 AS d FROM range(40, 501)";
  auto violated = writer_->Write(root_, replace);
  EXPECT_EQ(count_files(), files_before);
  ASSERT_FALSE(violated.has_value());
  EXPECT_EQ(violated.status().code(), ErrorCode::kConstraintViolation) << violated.status().ToString();
  EXPECT_EQ(Validate()->version(), 3);

  DeltaWrite overwrite;
  overwrite.mode = DeltaWrite::Mode::kOverwrite;
  overwrite.source_query = "SELECT 1 AS id, 'only' AS s, 2.0 AS d";
  ASSERT_TRUE(writer_->Write(root_, overwrite).has_value());
  EXPECT_EQ(Rows("SELECT id, s, d FROM " + Table()), std::vector<std::string>{"1|only|2.0"});
  EXPECT_EQ(CommitInfo(4)["operationParameters"]["mode"], "Overwrite");
  // Time travel still sees the old rows.
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Table() + " VERSION AS OF 3"), std::vector<std::string>{"100"});
  Validate();
}

TEST_F(DeltaWriteTest, IdempotentWritesApplyOnce) {
  CreateSimple();
  DeltaWriteOptions options;
  options.app_id = "stream-1";
  options.app_version = 1;
  DeltaWriteResult first = Append(kRows, options);
  EXPECT_FALSE(first.skipped);
  DeltaWriteResult again = Append(kRows, options);
  EXPECT_TRUE(again.skipped);
  options.app_version = 2;
  EXPECT_FALSE(Append(kRows, options).skipped);
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Table()), std::vector<std::string>{"200"});
  EXPECT_EQ(Validate()->app_transactions().at("stream-1").version, 2);
}

TEST_F(DeltaWriteTest, ColumnMappingTablesStorePhysicalNames) {
  DeltaCreateTable create;
  create.properties = {{"delta.columnMapping.mode", "name"}};
  create.partition_columns = {"p"};
  create.source_query = "SELECT range AS id, 'v' || range AS \"my col\", range % 2 AS p FROM range(10)";
  auto created = writer_->CreateTable(root_, create);
  ASSERT_TRUE(created.has_value()) << created.status().ToString();
  auto snapshot = Validate();
  ASSERT_GT(snapshot->num_active_files(), 0);
  for (const delta::FileEntry& file : snapshot->active_files()) {
    auto columns = Rows("SELECT name FROM parquet_schema(" + QuoteSqlString(root_ + "/" + std::string(file.path)) +
                        ") WHERE name <> 'duckdb_schema'");
    ASSERT_EQ(columns.size(), 2u);
    for (const std::string& column : columns) EXPECT_TRUE(column.starts_with("col-")) << column;
    auto stats = nlohmann::json::parse(file.stats);
    for (const auto& [key, value] : stats["minValues"].items()) EXPECT_TRUE(key.starts_with("col-")) << key;
    // partitionValues are keyed by the physical name too (PROTOCOL.md "Column Mapping").
    ASSERT_EQ(file.partition_values.size(), 1u);
    EXPECT_TRUE(std::string(file.partition_values[0].name).starts_with("col-")) << file.partition_values[0].name;
  }
  EXPECT_EQ(Rows("SELECT id, \"my col\", p FROM " + Table()),
            Rows("SELECT range, 'v' || range, range % 2 FROM range(10)"));
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Table() + " WHERE p = 1"), std::vector<std::string>{"5"});
  // Rewrites keep the keys: a DELETE by partition and an OPTIMIZE WHERE on the partition column.
  auto deleted = writer_->Delete(root_, "p = 0 AND id < 4");
  ASSERT_TRUE(deleted.has_value()) << deleted.status().ToString();
  DeltaOptimize optimize;
  optimize.partition_predicate = "p = 1";
  auto optimized = writer_->Optimize(root_, optimize);
  ASSERT_TRUE(optimized.has_value()) << optimized.status().ToString();
  Validate();
  EXPECT_EQ(Rows("SELECT id FROM " + Table()), Rows("SELECT range FROM range(10) WHERE NOT (range % 2 = 0 AND range < 4)"));
}

// CTAS on a column-mapping table is one commit, as in Spark: version 0 holds protocol, metaData (ids and physical
// names) and the adds, whose stats and partitionValues use the physical names.
TEST_F(DeltaWriteTest, ColumnMappingCreateTableAsSelectIsOneCommit) {
  for (const std::string mode : {"name", "id"}) {
    SCOPED_TRACE(mode);
    root_ = dir_ + "/ctas-" + mode;
    DeltaCreateTable create;
    create.properties = {{"delta.columnMapping.mode", mode}};
    create.partition_columns = {"p"};
    create.source_query =
        "SELECT range AS id, 'v' || range AS \"my col\", {'a': range} AS st, range % 3 AS p FROM range(30)";
    auto created = writer_->CreateTable(root_, create);
    ASSERT_TRUE(created.has_value()) << created.status().ToString();
    EXPECT_EQ(created->version, 0);
    EXPECT_EQ(created->num_output_rows, 30);
    EXPECT_EQ(created->num_added_files, 3);
    EXPECT_FALSE(fs::exists(root_ + "/_delta_log/" + delta::VersionStem(1) + ".json"));
    auto snapshot = Validate();
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(snapshot->version(), 0);
    // Version 0 itself: protocol, metaData and three adds keyed by physical names.
    std::ifstream in(root_ + "/_delta_log/" + delta::VersionStem(0) + ".json");
    std::string line;
    int protocols = 0, metadatas = 0, adds = 0;
    std::map<std::string, std::string> physical;  // logical -> physical name
    std::vector<std::string> field_ids;           // "physical|id" of every field
    while (std::getline(in, line)) {
      auto json = nlohmann::json::parse(line);
      if (json.contains("protocol")) {
        protocols++;
        EXPECT_GE(json["protocol"]["minReaderVersion"].get<int>(), 2);
        EXPECT_GE(json["protocol"]["minWriterVersion"].get<int>(), 5);
      }
      if (json.contains("metaData")) {
        metadatas++;
        EXPECT_EQ(json["metaData"]["configuration"]["delta.columnMapping.mode"], mode);
        EXPECT_EQ(json["metaData"]["configuration"]["delta.columnMapping.maxColumnId"], "5");  // 4 columns + st.a
        auto schema = nlohmann::json::parse(json["metaData"]["schemaString"].get<std::string>());
        std::set<int64_t> ids;
        for (const auto& field : schema["fields"]) {
          physical[field["name"]] = field["metadata"]["delta.columnMapping.physicalName"];
          ids.insert(field["metadata"]["delta.columnMapping.id"].get<int64_t>());
          field_ids.push_back(field["metadata"]["delta.columnMapping.physicalName"].get<std::string>() + "|" +
                              std::to_string(field["metadata"]["delta.columnMapping.id"].get<int64_t>()));
          if (field["type"].is_object()) {  // st.a
            for (const auto& nested : field["type"]["fields"]) {
              field_ids.push_back(nested["metadata"]["delta.columnMapping.physicalName"].get<std::string>() + "|" +
                                  std::to_string(nested["metadata"]["delta.columnMapping.id"].get<int64_t>()));
            }
          }
        }
        EXPECT_EQ(ids.size(), 4u);
      }
      if (json.contains("add")) {
        adds++;
        const auto& add = json["add"];
        ASSERT_EQ(add["partitionValues"].size(), 1u);
        EXPECT_TRUE(add["partitionValues"].contains(physical["p"])) << add.dump();
        EXPECT_TRUE(add["path"].get<std::string>().starts_with(physical["p"] + "=")) << add.dump();
        auto stats = nlohmann::json::parse(add["stats"].get<std::string>());
        EXPECT_EQ(stats["minValues"].size(), 3u) << stats.dump();
        EXPECT_TRUE(stats["minValues"].contains(physical["id"])) << stats.dump();
        EXPECT_TRUE(stats["minValues"].contains(physical["my col"])) << stats.dump();
        EXPECT_TRUE(stats["nullCount"].contains(physical["st"])) << stats.dump();
      }
    }
    EXPECT_EQ(protocols, 1);
    EXPECT_EQ(metadatas, 1);
    EXPECT_EQ(adds, 3);
    EXPECT_EQ(CommitInfo(0)["operation"], "CREATE TABLE AS SELECT");
    for (const delta::FileEntry& file : snapshot->active_files()) {
      auto columns = Rows("SELECT name FROM parquet_schema(" + QuoteSqlString(root_ + "/" + std::string(file.path)) +
                          ") WHERE name <> 'duckdb_schema'");
      for (const std::string& column : columns) EXPECT_TRUE(column.starts_with("col-")) << column;
      // id mode: Parquet field ids carry the column-mapping ids (the partition column is not in the files).
      auto ids = Rows("SELECT name, field_id FROM parquet_schema(" +
                      QuoteSqlString(root_ + "/" + std::string(file.path)) + ") WHERE field_id IS NOT NULL");
      if (mode == "id") {
        ASSERT_EQ(ids.size(), 4u);
        for (const std::string& id : ids) {
          EXPECT_NE(std::find(field_ids.begin(), field_ids.end(), id), field_ids.end()) << id;
        }
      } else {
        EXPECT_TRUE(ids.empty());
      }
    }
    EXPECT_EQ(Rows("SELECT id, \"my col\", st.a, p FROM " + Table()),
              Rows("SELECT range, 'v' || range, range, range % 3 FROM range(30)"));
    EXPECT_EQ(Rows("SELECT count(*) FROM " + Table() + " WHERE p = 1 AND id > 20"), std::vector<std::string>{"3"});
    // Appends after the CTAS use the same physical names.
    Append("SELECT 100 AS id, 'w' AS \"my col\", 1 AS p");
    EXPECT_EQ(Rows("SELECT \"my col\" FROM " + Table() + " WHERE id = 100"), std::vector<std::string>{"w"});
    EXPECT_EQ(Validate()->version(), 1);
  }
}

TEST_F(DeltaWriteTest, TargetFileSizeSplitsFilesAndCheckpointsAreParquet) {
  CreateSimple();
  DeltaWriteOptions options;
  options.target_file_size = 64 * 1024;
  DeltaWriteResult big = Append("SELECT range AS id, md5(range::VARCHAR) AS s, random() AS d FROM range(300000)",
                                options);
  EXPECT_GE(big.num_added_files, 3);  // files are cut at row-group boundaries (122,880 rows)
  for (int i = 0; i < 10; i++) Append("SELECT " + std::to_string(i) + " AS id");
  writer_->checkpointer().Drain();  // checkpoints are written in the background
  EXPECT_TRUE(fs::exists(root_ + "/_delta_log/" + delta::VersionStem(10) + ".checkpoint.parquet"));
  auto snapshot = Validate();
  EXPECT_EQ(snapshot->checkpoint_version(), 10);
  EXPECT_EQ(Rows("SELECT count(*), count(DISTINCT id) FROM " + Table()),
            std::vector<std::string>{"300010|300000"});
}

// DuckDB cannot cut files by size under PARTITION_BY; partition files over the target are split by a second pass, so
// a partitioned write bigger than the target yields several files per partition, each at most the target plus one
// row group (pieces of N consecutive rows, N from the mean row width). OPTIMIZE writes through the same path.
TEST_F(DeltaWriteTest, PartitionedWritesHonourTheTargetFileSize) {
  CreateSimple({"s"});
  DeltaWriteOptions options;
  options.target_file_size = 256 * 1024;
  DeltaWriteResult big = Append("SELECT range AS id, CASE WHEN range % 2 = 0 THEN 'a' ELSE 'b' END AS s, "
                                "random() AS d FROM range(800000)", options);
  auto snapshot = Validate();
  std::map<std::string, int> files_per_partition;
  for (const delta::FileEntry& file : snapshot->active_files()) {
    ASSERT_EQ(file.partition_values.size(), 1u);
    files_per_partition[std::string(file.partition_values[0].value)]++;
    std::string path = root_ + "/" + std::string(file.path);
    // Pieces are cut by the partition file's mean row width: at most the target plus one row group (here they are
    // single row groups of about the target size, far below DuckDB's 122,880-row groups of ~1.5 MB).
    auto row_groups = Rows("SELECT count(DISTINCT row_group_id) FROM parquet_metadata(" + QuoteSqlString(path) + ")");
    EXPECT_EQ(row_groups, std::vector<std::string>{"1"}) << path;
    EXPECT_LE(file.size, options.target_file_size * 5 / 4) << path;
    auto stats = nlohmann::json::parse(file.stats);
    EXPECT_GT(stats["numRecords"].get<int64_t>(), 0);
  }
  ASSERT_EQ(files_per_partition.size(), 2u);
  EXPECT_GE(files_per_partition["a"], 15);  // 400,000 rows, ~4.8 MB per partition
  EXPECT_GE(files_per_partition["b"], 15);
  EXPECT_EQ(big.num_added_files, snapshot->num_active_files());
  EXPECT_EQ(Rows("SELECT s, count(*), count(DISTINCT id), min(id), max(id) FROM " + Table() + " GROUP BY s"),
            (std::vector<std::string>{"a|400000|400000|0|799998", "b|400000|400000|1|799999"}));
  // Stats of the split files still skip: one id lives in exactly one file.
  EXPECT_EQ(Rows("SELECT s, d IS NOT NULL FROM " + Table() + " WHERE id = 654321"), std::vector<std::string>{"b|true"});
}

TEST_F(DeltaWriteTest, ConcurrentWritersNeverLoseACommit) {
  CreateSimple();
  std::vector<std::thread> threads;
  std::vector<Status> errors(2, Status::OK());
  for (int t = 0; t < 2; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; i++) {
        DeltaWrite write;
        write.source_query = "SELECT " + std::to_string(t * 100 + i) + " AS id, 't" + std::to_string(t) + "' AS s";
        auto result = writer_->Write(root_, write);
        if (!result.has_value()) errors[t] = result.status();
      }
    });
  }
  // A second writer object (another "process") appends too.
  DeltaWriter other(*database_);
  for (int i = 0; i < 4; i++) {
    DeltaWrite write;
    write.source_query = "SELECT " + std::to_string(1000 + i) + " AS id, 'other' AS s";
    auto result = other.Write(root_, write);
    EXPECT_TRUE(result.has_value()) << result.status().ToString();
  }
  for (auto& thread : threads) thread.join();
  for (const Status& st : errors) EXPECT_TRUE(st.ok()) << st.ToString();
  auto snapshot = Validate();
  EXPECT_EQ(snapshot->version(), 20);
  EXPECT_EQ(Rows("SELECT s, count(*) FROM " + Table() + " GROUP BY s"),
            (std::vector<std::string>{"other|4", "t0|8", "t1|8"}));
}

TEST_F(DeltaWriteTest, DeleteRewritesOnlyAffectedFiles) {
  CreateSimple({"s"});
  Append("SELECT range AS id, CASE WHEN range < 50 THEN 'a' ELSE 'b' END AS s, range * 1.0 AS d FROM range(100)");
  Append("SELECT range AS id, 'c' AS s, 0.0 AS d FROM range(100, 110)");
  auto before = Validate();
  ASSERT_EQ(before->num_active_files(), 3);
  // Partition a loses 10 rows (rewritten), b is untouched, c is removed whole.
  auto deleted = writer_->Delete(root_, "(s = 'a' AND id < 10) OR s = 'c'");
  ASSERT_TRUE(deleted.has_value()) << deleted.status().ToString();
  EXPECT_EQ(deleted->num_deleted_rows, 20);
  EXPECT_EQ(deleted->num_copied_rows, 40);
  EXPECT_EQ(deleted->num_removed_files, 2);
  EXPECT_EQ(deleted->num_added_files, 1);
  EXPECT_EQ(Rows("SELECT id, s, d FROM " + Table()),
            Rows("SELECT range, CASE WHEN range < 50 THEN 'a' ELSE 'b' END, range * 1.0 FROM range(10, 100)"));
  auto info = CommitInfo(3);
  EXPECT_EQ(info["operation"], "DELETE");
  EXPECT_EQ(info["operationMetrics"]["numDeletedRows"], "20");
  EXPECT_EQ(info["operationMetrics"]["numCopiedRows"], "40");
  EXPECT_EQ(info["operationMetrics"]["numRemovedFiles"], "2");
  auto after = Validate();
  bool b_kept = false;
  for (const delta::FileEntry& file : before->active_files()) {
    if (file.FindPartitionValue("s")->value == "b") {
      for (const delta::FileEntry& now : after->active_files()) b_kept |= now.path == file.path;
    }
  }
  EXPECT_TRUE(b_kept);
  // A predicate matching nothing commits an empty DELETE; no predicate removes everything.
  auto none = writer_->Delete(root_, "id < 0");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->num_removed_files, 0);
  auto all = writer_->Delete(root_, "");
  ASSERT_TRUE(all.has_value()) << all.status().ToString();
  EXPECT_EQ(all->num_deleted_rows, 90);
  EXPECT_TRUE(Rows("SELECT * FROM " + Table()).empty());
  Validate();
}

TEST_F(DeltaWriteTest, UpdateRewritesMatchingRows) {
  CreateSimple();
  Append("SELECT range AS id, 'x' AS s, 1.0 AS d FROM range(0, 50)");
  Append("SELECT range AS id, 'x' AS s, 1.0 AS d FROM range(50, 100)");
  auto updated = writer_->Update(root_, {{"s", "'y' || id"}, {"d", "d * 2"}}, "id % 10 = 0 AND id < 50");
  ASSERT_TRUE(updated.has_value()) << updated.status().ToString();
  EXPECT_EQ(updated->num_updated_rows, 5);
  EXPECT_EQ(updated->num_copied_rows, 45);
  EXPECT_EQ(updated->num_removed_files, 1);
  EXPECT_EQ(Rows("SELECT id, s, d FROM " + Table()),
            Rows("SELECT range, CASE WHEN range % 10 = 0 AND range < 50 THEN 'y' || range ELSE 'x' END, "
                 "CASE WHEN range % 10 = 0 AND range < 50 THEN 2.0 ELSE 1.0 END FROM range(100)"));
  EXPECT_EQ(CommitInfo(3)["operationMetrics"]["numUpdatedRows"], "5");
  auto unknown = writer_->Update(root_, {{"nope", "1"}}, "");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kColumnNotFound);
  Validate();
}

TEST_F(DeltaWriteTest, MergeAppliesEveryClauseKind) {
  CreateSimple();
  Append("SELECT range AS id, 'old' AS s, range * 1.0 AS d FROM range(10)");
  DeltaMerge merge;
  merge.source_query = "SELECT * FROM (VALUES (1, 'upd'), (2, 'del'), (3, 'keep'), (20, 'ins'), (21, 'skip')) v(id, s)";
  merge.on = "target.id = source.id";
  merge.when_matched.push_back({DeltaMergeClause::Action::kDelete, "source.s = 'del'", {}, false});
  merge.when_matched.push_back({DeltaMergeClause::Action::kUpdate, "source.s = 'upd'",
                                {{"s", "source.s"}, {"d", "target.d + 100"}}, false});
  merge.when_not_matched.push_back({DeltaMergeClause::Action::kInsert, "source.s <> 'skip'",
                                    {{"id", "source.id"}, {"s", "source.s"}}, false});
  merge.when_not_matched_by_source.push_back({DeltaMergeClause::Action::kUpdate, "target.id >= 8",
                                              {{"s", "'orphan'"}}, false});
  auto merged = writer_->Merge(root_, merge);
  ASSERT_TRUE(merged.has_value()) << merged.status().ToString();
  EXPECT_EQ(merged->num_inserted_rows, 1);
  EXPECT_EQ(merged->num_updated_rows, 3);  // id 1, and 8, 9 not matched by source
  EXPECT_EQ(merged->num_deleted_rows, 1);
  EXPECT_EQ(Rows("SELECT id, s, d FROM " + Table()),
            Rows("SELECT * FROM (VALUES (0, 'old', 0.0), (1, 'upd', 101.0), (3, 'old', 3.0), (4, 'old', 4.0), "
                 "(5, 'old', 5.0), (6, 'old', 6.0), (7, 'old', 7.0), (8, 'orphan', 8.0), (9, 'orphan', 9.0), "
                 "(20, 'ins', NULL)) t(id, s, d)"));
  auto info = CommitInfo(2);
  EXPECT_EQ(info["operation"], "MERGE");
  EXPECT_EQ(info["operationMetrics"]["numTargetRowsInserted"], "1");
  EXPECT_EQ(info["operationMetrics"]["numTargetRowsMatchedUpdated"], "1");
  EXPECT_EQ(info["operationMetrics"]["numTargetRowsNotMatchedBySourceUpdated"], "2");
  EXPECT_EQ(info["operationMetrics"]["numTargetRowsDeleted"], "1");
  EXPECT_EQ(info["operationMetrics"]["numSourceRows"], "5");
  Validate();

  // Two source rows updating one target row: refused, nothing committed.
  DeltaMerge dup;
  dup.source_query = "SELECT * FROM (VALUES (0, 'a'), (0, 'b')) v(id, s)";
  dup.on = "target.id = source.id";
  dup.when_matched.push_back({DeltaMergeClause::Action::kUpdate, "", {{"s", "source.s"}}, false});
  auto refused = writer_->Merge(root_, dup);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.status().message().find("MULTIPLE_SOURCE_ROW"), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(Validate()->version(), 2);
}

TEST_F(DeltaWriteTest, MergeInsertOnlyAndStarClauses) {
  CreateSimple({"s"});
  Append("SELECT range AS id, 'a' AS s, 0.0 AS d FROM range(5)");
  DeltaMerge merge;
  merge.source_query = "SELECT range AS id, 'b' AS s, 1.0 AS d FROM range(3, 8)";
  merge.on = "target.id = source.id";
  merge.when_matched.push_back({DeltaMergeClause::Action::kUpdate, "", {}, true});
  merge.when_not_matched.push_back({DeltaMergeClause::Action::kInsert, "", {}, true});
  auto merged = writer_->Merge(root_, merge);
  ASSERT_TRUE(merged.has_value()) << merged.status().ToString();
  EXPECT_EQ(Rows("SELECT id, s, d FROM " + Table()),
            Rows("SELECT range, CASE WHEN range < 3 THEN 'a' ELSE 'b' END, CASE WHEN range < 3 THEN 0.0 ELSE 1.0 END "
                 "FROM range(8)"));
  Validate();
}

TEST_F(DeltaWriteTest, MergeWithOnlyADeleteClauseRemovesTheMatchedRows) {
  CreateSimple({"s"});
  Append("SELECT range AS id, 'a' AS s, 0.0 AS d FROM range(6)");
  DeltaMerge merge;
  merge.source_query = "SELECT range * 2 AS id FROM range(2)";
  merge.on = "target.id = source.id";
  merge.when_matched.push_back({DeltaMergeClause::Action::kDelete, "", {}, false});
  auto merged = writer_->Merge(root_, merge);
  ASSERT_TRUE(merged.has_value()) << merged.status().ToString();
  EXPECT_EQ(Rows("SELECT id, s FROM " + Table()), Rows("SELECT range, 'a' FROM range(6) WHERE range NOT IN (0, 2)"));
  Validate();
}

TEST_F(DeltaWriteTest, OptimizeBinPacksSmallFilesPerPartition) {
  CreateSimple({"s"});
  for (int i = 0; i < 4; i++) {
    Append("SELECT range + " + std::to_string(i * 10) + " AS id, CASE WHEN range < 5 THEN 'a' ELSE 'b' END AS s, "
           "range * 1.0 AS d FROM range(10)");
  }
  auto before = Rows("SELECT id, s, d FROM " + Table());
  ASSERT_EQ(Validate()->num_active_files(), 8);
  // Only partition a.
  DeltaOptimize only_a;
  only_a.partition_predicate = "s = 'a'";
  auto optimized = writer_->Optimize(root_, only_a);
  ASSERT_TRUE(optimized.has_value()) << optimized.status().ToString();
  EXPECT_EQ(optimized->num_removed_files, 4);
  EXPECT_EQ(optimized->num_added_files, 1);
  auto snapshot = Validate();
  EXPECT_EQ(snapshot->num_active_files(), 5);
  EXPECT_EQ(Rows("SELECT id, s, d FROM " + Table()), before);
  auto info = CommitInfo(5);
  EXPECT_EQ(info["operation"], "OPTIMIZE");
  EXPECT_EQ(info["operationMetrics"]["numFilesRemoved"], "4");
  EXPECT_FALSE(info["isBlindAppend"].get<bool>());
  // Rewritten files carry dataChange=false, so the change feed and streaming readers skip them.
  std::ifstream in(root_ + "/_delta_log/" + delta::VersionStem(5) + ".json");
  std::string line;
  while (std::getline(in, line)) {
    auto json = nlohmann::json::parse(line);
    if (json.contains("add")) {
      EXPECT_FALSE(json["add"]["dataChange"].get<bool>());
    }
    if (json.contains("remove")) {
      EXPECT_FALSE(json["remove"]["dataChange"].get<bool>());
    }
  }
  // Then everything; a second run has nothing to do.
  ASSERT_TRUE(writer_->Optimize(root_, DeltaOptimize{}).has_value());
  EXPECT_EQ(Validate()->num_active_files(), 2);
  auto again = writer_->Optimize(root_, DeltaOptimize{});
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->skipped);
  EXPECT_EQ(Rows("SELECT id, s, d FROM " + Table()), before);
}

TEST_F(DeltaWriteTest, OptimizeZOrderClustersRows) {
  CreateSimple();
  for (int i = 0; i < 4; i++) {
    Append("SELECT (range * 7919 + " + std::to_string(i) + ") % 1000 AS id, 'x' AS s, ((range * 104729) % 1000) * 1.0 "
           "AS d FROM range(" + std::to_string(i * 250) + ", " + std::to_string(i * 250 + 250) + ")");
  }
  auto before = Rows("SELECT id, s, d FROM " + Table());
  DeltaOptimize zorder;
  zorder.zorder_by = {"id", "d"};
  auto optimized = writer_->Optimize(root_, zorder);
  ASSERT_TRUE(optimized.has_value()) << optimized.status().ToString();
  EXPECT_EQ(CommitInfo(5)["operationParameters"]["zOrderBy"], "[\"id\",\"d\"]");
  auto snapshot = Validate();
  ASSERT_EQ(snapshot->num_active_files(), 1);
  EXPECT_EQ(Rows("SELECT id, s, d FROM " + Table()), before);
  std::string file = QuoteSqlString(root_ + "/" + std::string(snapshot->active_files()[0].path));
  // Rows follow the Z-order key: the first quarter of the file has far smaller ids and d values than the last one
  // (the written order, before optimizing, interleaved them).
  EXPECT_EQ(Rows("SELECT avg(id) FILTER (WHERE file_row_number < 250) * 2 < avg(id) FILTER (WHERE file_row_number >= "
                 "750) AND avg(d) FILTER (WHERE file_row_number < 250) * 2 < avg(d) FILTER (WHERE file_row_number >= "
                 "750) FROM read_parquet(" + file + ", file_row_number = true)"),
            std::vector<std::string>{"true"});
  auto bad = writer_->Optimize(root_, DeltaOptimize{"", {"nope"}, 0});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.status().code(), ErrorCode::kColumnNotFound);
}

TEST_F(DeltaWriteTest, DroppedAndRecreatedTableStartsAtVersionZero) {
  CreateSimple();
  Append(kRows);
  Append(kRows);
  fs::remove_all(root_);  // DROP TABLE of an external table at this path
  DeltaWrite write;
  write.source_query = kRows;
  auto missing = writer_->Write(root_, write);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.status().code(), ErrorCode::kTableNotFound);
  CreateSimple();
  DeltaWriteResult appended = Append("SELECT 1 AS id");
  EXPECT_EQ(appended.version, 1);
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Table()), std::vector<std::string>{"1"});
  Validate();
}

// The front-end keeps the inlined scan SQL of a snapshot (DeltaRuntime::inline_scans): repeated references and later
// statements reuse it, new commits and a table recreated at the same path (versions start again) are read afresh.
TEST_F(DeltaWriteTest, InlinedScansFollowCommitsAndRecreation) {
  CreateSimple();
  Append(kRows);
  const std::string t = Table();
  const std::string three = "SELECT count(*) FROM " + t + " a JOIN " + t + " b USING (id) WHERE id IN (SELECT id FROM " +
                            t + " VERSION AS OF 1)";
  EXPECT_EQ(Rows(three), std::vector<std::string>{"100"});
  EXPECT_EQ(Rows("SELECT count(*) FROM " + t + " WHERE id < 10"), std::vector<std::string>{"10"});
  Append("SELECT 1000 AS id, 'y' AS s, 0.5 AS d");
  EXPECT_EQ(Rows("SELECT (SELECT count(*) FROM " + t + "), (SELECT count(*) FROM " + t + " VERSION AS OF 1)"),
            std::vector<std::string>{"101|100"});
  EXPECT_EQ(Rows(three), std::vector<std::string>{"100"});
  EXPECT_EQ(Rows("SELECT count(*) FROM " + t + " WHERE id < 10"), std::vector<std::string>{"10"});
  EXPECT_EQ(Rows("SELECT count(*) FROM " + t + " WHERE id > 500"), std::vector<std::string>{"1"});
  fs::remove_all(root_);  // DROP TABLE of an external table, then CREATE at the same path: versions 0 and 1 again
  CreateSimple();
  Append("SELECT 7 AS id, 'z' AS s, 1.0 AS d");
  EXPECT_EQ(Rows(three), std::vector<std::string>{"1"});
  EXPECT_EQ(Rows("SELECT id, s FROM " + t), std::vector<std::string>{"7|z"});
  EXPECT_EQ(Rows("SELECT count(*) FROM " + t + " WHERE id < 10"), std::vector<std::string>{"1"});
  EXPECT_EQ(Rows("SELECT count(*) FROM " + t + " VERSION AS OF 1"), std::vector<std::string>{"1"});
}

TEST_F(DeltaWriteTest, DmlOnASparkTableWithDeletionVectorsKeepsDeletedRowsDeleted) {
  std::string source = std::string(TARN_SHARED_DIR) + "/conformance/delta/golden/dv-partitioned-with-checkpoint/delta";
  if (!fs::is_directory(source)) GTEST_SKIP() << "conformance tables not found at " << source;
  fs::copy(source, root_, fs::copy_options::recursive);
  auto columns = Rows("SELECT string_agg(column_name, ',') FROM (DESCRIBE SELECT * FROM " + Table() + ")");
  auto before = Rows("SELECT * FROM " + Table());
  ASSERT_FALSE(before.empty());
  auto count = Rows("SELECT count(*) FROM " + Table());
  // Delete about half of the live rows, chosen by hash so every file is touched.
  auto deleted = writer_->Delete(root_, "hash(" + columns[0] + ") % 2 = 0");
  ASSERT_TRUE(deleted.has_value()) << deleted.status().ToString();
  EXPECT_EQ(Rows("SELECT * FROM " + Table()),
            Rows("SELECT * FROM " + Table() + " VERSION AS OF " + std::to_string(deleted->version - 1) +
                 " WHERE NOT hash(" + columns[0] + ") % 2 = 0"));
  auto after = Rows("SELECT count(*) FROM " + Table());
  EXPECT_EQ(deleted->num_deleted_rows, std::stoll(count[0]) - std::stoll(after[0]));
  EXPECT_GT(deleted->num_deleted_rows, 0);
  Validate();
}

TEST_F(DeltaWriteTest, CreateErrors) {
  CreateSimple();
  DeltaCreateTable again;
  again.columns = {{"id", "BIGINT"}};
  auto exists = writer_->CreateTable(root_, again);
  ASSERT_FALSE(exists.has_value());
  EXPECT_EQ(exists.status().code(), ErrorCode::kResourceAlreadyExists);
  again.if_not_exists = true;
  auto skipped = writer_->CreateTable(root_, again);
  ASSERT_TRUE(skipped.has_value());
  EXPECT_TRUE(skipped->skipped);
  DeltaWrite write;
  write.source_query = "SELECT 1 AS id";
  auto missing = writer_->Write(dir_ + "/nope", write);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.status().code(), ErrorCode::kTableNotFound);
  write.source_query = "SELECT FROM WHERE";
  auto syntax = writer_->Write(root_, write);
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.status().code(), ErrorCode::kSyntaxError);
  DeltaCreateTable bad_partition;
  bad_partition.columns = {{"id", "BIGINT"}};
  bad_partition.partition_columns = {"nope"};
  auto refused = writer_->CreateTable(dir_ + "/other", bad_partition);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(Validate()->version(), 0);
}

}  // namespace
}  // namespace tarn::engine
