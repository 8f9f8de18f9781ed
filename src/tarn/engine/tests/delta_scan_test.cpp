// SPDX-License-Identifier: Apache-2.0
// Tests the engine's Delta read path: DV decoding, the DuckDB checkpoint reader (on the conformance tables whose
// state lives in Parquet checkpoints), delta_scan and friends, and the Spark SQL front-end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "tarn/delta/delta_log.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/deletion_vector.hpp"
#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/engine/spark_sql_rewriter.hpp"
#include "tarn/storage/in_memory_object_store.hpp"
#include "tarn/storage/local_object_store.hpp"

#ifndef TARN_SHARED_DIR
#define TARN_SHARED_DIR ""
#endif

namespace tarn::engine {
namespace {

std::string ConformanceDir() { return std::string(TARN_SHARED_DIR) + "/conformance/delta"; }

#define SKIP_WITHOUT_CONFORMANCE_DATA()                                                                   \
  if (!std::filesystem::is_directory(ConformanceDir())) {                                                 \
    GTEST_SKIP() << "conformance tables not found at " << ConformanceDir() << " (../shared absent)";     \
  }

void PutLe(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; i++) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

TEST(DeletionVectorTest, DecodesZ85SpecExample) {
  auto decoded = DecodeZ85("HelloWorld");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, std::string("\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B", 8));
  EXPECT_FALSE(DecodeZ85("Hello").ok() && DecodeZ85("Hell").ok());
  EXPECT_EQ(DecodeZ85("Hell").status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ(DecodeZ85("Hell~").status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ(DecodeZ85("Hell\"").status().code(), ErrorCode::kCorruptData);
}

TEST(DeletionVectorTest, ParsesArrayRunAndBitmapContainers) {
  std::string data;
  PutLe(data, 1681511377, 4);
  PutLe(data, 3, 8);  // three buckets
  // Bucket 0: no-run cookie, one array container {1, 5, 7}.
  PutLe(data, 0, 4);
  PutLe(data, 12346, 4);
  PutLe(data, 1, 4);
  PutLe(data, 0, 2);
  PutLe(data, 2, 2);
  PutLe(data, 0, 4);  // offset
  for (int v : {1, 5, 7}) PutLe(data, v, 2);
  // Bucket 1 (high bits 1): run cookie, one run container [10, 12].
  PutLe(data, 1, 4);
  PutLe(data, 12347, 4);  // (containers - 1) << 16 = 0
  data.push_back('\x01');  // run flags
  PutLe(data, 0, 2);
  PutLe(data, 2, 2);
  PutLe(data, 1, 2);  // one run
  PutLe(data, 10, 2);
  PutLe(data, 2, 2);
  // Bucket 2: a bitmap container (cardinality 4097 > 4096) with bits 0..4096 of key 3.
  PutLe(data, 2, 4);
  PutLe(data, 12346, 4);
  PutLe(data, 1, 4);
  PutLe(data, 3, 2);
  PutLe(data, 4096, 2);
  PutLe(data, 0, 4);
  for (int word = 0; word < 1024; word++) {
    uint64_t bits = word < 64 ? ~0ull : (word == 64 ? 1ull : 0ull);
    PutLe(data, bits, 8);
  }
  auto rows = ParseRoaringBitmapArray(data);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u + 3u + 4097u);
  EXPECT_EQ((*rows)[0], 1u);
  EXPECT_EQ((*rows)[2], 7u);
  EXPECT_EQ((*rows)[3], (1ull << 32) | 10u);
  EXPECT_EQ((*rows)[5], (1ull << 32) | 12u);
  EXPECT_EQ((*rows)[6], (2ull << 32) | (3u << 16));
  EXPECT_EQ(rows->back(), (2ull << 32) | (3u << 16) | 4096u);

  EXPECT_EQ(ParseRoaringBitmapArray(data.substr(0, data.size() - 3)).status().code(), ErrorCode::kCorruptData);
  std::string bad_magic = data;
  bad_magic[0] ^= 1;
  EXPECT_EQ(ParseRoaringBitmapArray(bad_magic).status().code(), ErrorCode::kCorruptData);
}

// Found reviewing the parser for delta_scan_fuzzer: runs are 4 bytes each but can describe 65,536 rows, so a small
// bitmap could make the reader allocate billions of rows; runs past a container's end were also accepted (spilling into
// the next key's rows).
TEST(DeletionVectorTest, RefusesRunsPastTheContainerAndRowsBeyondTheLimit) {
  auto run_bitmap = [](uint16_t num_runs, uint16_t start, uint16_t length_minus_one) {
    std::string data;
    PutLe(data, 1681511377, 4);
    PutLe(data, 1, 8);
    PutLe(data, 0, 4);
    PutLe(data, 12347, 4);
    data.push_back('\x01');
    PutLe(data, 0, 2);
    PutLe(data, 0, 2);
    PutLe(data, num_runs, 2);
    for (int r = 0; r < num_runs; r++) {
      PutLe(data, start, 2);
      PutLe(data, length_minus_one, 2);
    }
    return data;
  };
  EXPECT_EQ(ParseRoaringBitmapArray(run_bitmap(1, 0xFFF0, 0x20)).status().code(), ErrorCode::kCorruptData);
  auto full = ParseRoaringBitmapArray(run_bitmap(1, 0, 0xFFFF), 65536);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->size(), 65536u);
  auto repeated = ParseRoaringBitmapArray(run_bitmap(1000, 0, 0xFFFF), 65536);
  EXPECT_EQ(repeated.status().code(), ErrorCode::kCorruptData);
  EXPECT_NE(repeated.status().message().find("cardinality"), std::string::npos) << repeated.status().message();

  // Through a descriptor: the inline DV claims 2 rows, its runs hold 65,536.
  std::string bitmap = run_bitmap(1, 0, 0xFFFF);
  while (bitmap.size() % 4 != 0) bitmap.push_back('\0');
  static constexpr char kAlphabet[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  std::string z85;
  for (size_t i = 0; i < bitmap.size(); i += 4) {
    uint32_t value = 0;
    for (size_t j = 0; j < 4; j++) value = (value << 8) | static_cast<uint8_t>(bitmap[i + j]);
    char group[5];
    for (int j = 4; j >= 0; j--) {
      group[j] = kAlphabet[value % 85];
      value /= 85;
    }
    z85.append(group, 5);
  }
  storage::InMemoryObjectStore store;
  delta::DeletionVectorRef dv;
  dv.storage_type = 'i';
  dv.path_or_inline_dv = z85;
  dv.size_in_bytes = static_cast<int32_t>(run_bitmap(1, 0, 0xFFFF).size());
  dv.cardinality = 2;
  EXPECT_EQ(LoadDeletionVector(store, "", dv).status().code(), ErrorCode::kCorruptData);
  dv.cardinality = 65536;
  auto loaded = LoadDeletionVector(store, "", dv);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->size(), 65536u);
  dv.cardinality = -1;
  EXPECT_EQ(LoadDeletionVector(store, "", dv).status().code(), ErrorCode::kCorruptData);
}

// Found reviewing the parser for delta_scan_fuzzer: an absolute ('p') DV allocated offset/sizeInBytes from the log
// before looking at the file, so a negative or huge sizeInBytes threw std::length_error or allocated gigabytes.
TEST(DeletionVectorTest, AbsolutePathRangeIsCheckedAgainstTheFile) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("tarn-dv-" + std::to_string(::getpid()) + ".bin")).string();
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(64, '\0');
  }
  storage::InMemoryObjectStore store;
  delta::DeletionVectorRef dv;
  dv.storage_type = 'p';
  dv.path_or_inline_dv = path;
  dv.cardinality = 0;
  for (int32_t size : {-100, -8, 2000000000, 100}) {
    dv.size_in_bytes = size;
    dv.offset = 1;
    auto rows = LoadDeletionVector(store, "", dv);
    EXPECT_EQ(rows.status().code(), ErrorCode::kCorruptData) << size << ": " << rows.status().ToString();
  }
  dv.size_in_bytes = 4;
  dv.offset = -5;
  EXPECT_EQ(LoadDeletionVector(store, "", dv).status().code(), ErrorCode::kCorruptData);
  std::filesystem::remove(path);
}

TEST(DeletionVectorTest, RelativePathFromUuid) {
  // 16 zero bytes encode as twenty '0' characters.
  auto path = RelativeDeletionVectorPath("ab00000000000000000000");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, "ab/deletion_vector_00000000-0000-0000-0000-000000000000.bin");
  EXPECT_EQ(*RelativeDeletionVectorPath("00000000000000000000"),
            "deletion_vector_00000000-0000-0000-0000-000000000000.bin");
}

// ---- the Parquet checkpoint reader ----

struct CheckpointCase {
  const char* root;
  int64_t version;
  int64_t files;  // -1: negative case (must fail); -2: not checked
};

class CheckpointReaderTest : public ::testing::TestWithParam<CheckpointCase> {};

// The cases the delta module's own conformance test skips: their state lives only in Parquet checkpoints.
TEST_P(CheckpointReaderTest, LoadsTablesWhoseStateIsInParquetCheckpoints) {
  SKIP_WITHOUT_CONFORMANCE_DATA();
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  DuckCheckpointReader reader(**db);
  const CheckpointCase& c = GetParam();
  std::string root = ConformanceDir() + "/" + c.root;
  auto store = storage::LocalObjectStore::Create(root, false);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  delta::DeltaLog log(**store, "", {.checkpoint_reader = &reader, .table_name = c.root});
  auto snapshot = log.LoadLatest();
  if (c.files == -1) {
    ASSERT_FALSE(snapshot.ok()) << c.root << " must fail to load";
    EXPECT_EQ(snapshot.status().code(), ErrorCode::kCorruptData) << snapshot.status().ToString();
    EXPECT_NE(snapshot.status().message().find(c.root), std::string::npos) << snapshot.status().message();
    return;
  }
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_EQ((*snapshot)->version(), c.version);
  if (c.files >= 0) { EXPECT_EQ((*snapshot)->num_active_files(), c.files); }
  EXPECT_TRUE((*snapshot)->checkpoint_version().has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Conformance, CheckpointReaderTest,
    ::testing::Values(
        CheckpointCase{"golden/deltalog-state-reconstruction-from-checkpoint-missing-metadata/delta", 10, -1},
        CheckpointCase{"golden/deltalog-state-reconstruction-from-checkpoint-missing-protocol/delta", 10, -1},
        CheckpointCase{"golden/v2-checkpoint-json/delta", 2, -2},
        CheckpointCase{"kernel-data/v2-checkpoints-json-with-last-checkpoint", 0, 2},
        CheckpointCase{"kernel-data/v2-checkpoints-json-with-sidecars", 6, 101},
        CheckpointCase{"kernel-data/v2-json-sidecars-struct-stats-only", 5, 5},
        CheckpointCase{"kernel-data/v2-checkpoints-parquet-with-sidecars", 6, 101},
        CheckpointCase{"kernel-data/v1-multi-part-partitioned-struct-stats-only", 5, 5},
        CheckpointCase{"kernel-data/v1-single-part-struct-stats-only", 5, 5},
        CheckpointCase{"golden/125-iterator-bug/delta", 11, -2}),
    [](const ::testing::TestParamInfo<CheckpointCase>& info) {
      std::string name = info.param.root;
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

TEST(CheckpointReaderTest, RendersParsedStatsAndPartitionValues) {
  SKIP_WITHOUT_CONFORMANCE_DATA();
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  DuckCheckpointReader reader(**db);
  std::string root = ConformanceDir() + "/kernel-data/v1-multi-part-partitioned-struct-stats-only";
  auto store = storage::LocalObjectStore::Create(root, false);
  ASSERT_TRUE(store.ok());
  delta::DeltaLog log(**store, "", {.checkpoint_reader = &reader, .table_name = "v1-multi-part"});
  auto snapshot = log.LoadLatest();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  for (const delta::FileEntry& file : (*snapshot)->active_files()) {
    EXPECT_NE(file.stats.find("\"numRecords\":1"), std::string_view::npos) << file.stats;
    const delta::PartitionValueRef* part = file.FindPartitionValue("part");
    ASSERT_NE(part, nullptr) << file.path;
    EXPECT_FALSE(part->is_null);
  }
}

TEST(CheckpointReaderTest, MissingFileIsResourceDoesNotExist) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  DuckCheckpointReader reader(**db);
  storage::InMemoryObjectStore store;
  delta::ActionVisitor visitor;
  Status status = reader.ReadCheckpointActions(store, "_delta_log/00000000000000000001.checkpoint.parquet", {}, visitor);
  EXPECT_EQ(status.code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_TRUE(store.Write("_delta_log/00000000000000000002.checkpoint.parquet", "not parquet").ok());
  status = reader.ReadCheckpointActions(store, "_delta_log/00000000000000000002.checkpoint.parquet", {}, visitor);
  EXPECT_EQ(status.code(), ErrorCode::kCorruptData);
  EXPECT_NE(status.message().find("00000000000000000002.checkpoint.parquet"), std::string::npos) << status.message();
}

// ---- SQL: the front-end (inline scans) and the delta_scan table function agree, errors keep their codes ----

std::string FirstValue(Session& session, const std::string& sql) {
  auto stream = session.Execute(sql);
  EXPECT_TRUE(stream.ok()) << sql << ": " << stream.status().ToString();
  if (!stream.ok()) return "<error>";
  auto chunk = (*stream)->Next();
  EXPECT_TRUE(chunk.ok()) << sql << ": " << chunk.status().ToString();
  if (!chunk.ok() || !*chunk) return "<none>";
  return (*chunk)->FormatValue(0, 0, ValueStyle::kDuckDb);
}

TEST(DeltaSqlTest, InlineScanAndTableFunctionAgreeOnDeletionVectors) {
  SKIP_WITHOUT_CONFORMANCE_DATA();
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto session = (*db)->Connect();
  ASSERT_TRUE(session.ok());
  for (const char* table : {"kernel-data/table-with-dv-small", "kernel-data/with-short-dv",
                            "golden/dv-partitioned-with-checkpoint/delta"}) {
    std::string root = ConformanceDir() + "/" + table;
    std::string inline_sum = FirstValue(**session, "SELECT count(*) || '/' || sum(hash(t)) FROM delta.`" + root + "` t");
    std::string function_sum =
        FirstValue(**session, "SELECT count(*) || '/' || sum(hash(t)) FROM delta_scan('" + root + "') t");
    EXPECT_EQ(inline_sum, function_sum) << table;
  }
  EXPECT_EQ(FirstValue(**session, "SELECT count(*) FROM delta.`" + ConformanceDir() + "/kernel-data/table-with-dv-small`"),
            "8");
}

TEST(DeltaSqlTest, ErrorsKeepTheirCodes) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto session = (*db)->Connect();
  ASSERT_TRUE(session.ok());
  // Through the front-end (checked before DuckDB runs anything) and through the table function (via DuckDB).
  for (const char* sql : {"SELECT * FROM delta.`/nonexistent/tarn-delta-test`",
                          "SELECT * FROM delta_scan('/nonexistent/tarn-delta-test')",
                          "DESCRIBE HISTORY delta.`/nonexistent/tarn-delta-test`"}) {
    auto stream = (*session)->Execute(sql);
    ASSERT_FALSE(stream.ok()) << sql;
    EXPECT_EQ(stream.status().code(), ErrorCode::kTableNotFound) << stream.status().ToString();
    EXPECT_NE(stream.status().message().find("/nonexistent/tarn-delta-test"), std::string::npos);
  }
}

// ---- the Spark SQL front-end (no loader: pure text rewriting) ----

std::string Rewrite(std::string_view sql) {
  auto out = RewriteSparkSql(sql, SparkSqlContext{});
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : "<error>";
}

TEST(SparkSqlRewriterTest, LeavesPlainSqlAlone) {
  EXPECT_EQ(Rewrite("SELECT 1 -- `x`\n"), "SELECT 1 -- `x`\n");
  EXPECT_EQ(Rewrite("SELECT '`a`', \"`b`\""), "SELECT '`a`', \"`b`\"");
  EXPECT_EQ(Rewrite("DESCRIBE history"), "DESCRIBE history");
}

TEST(SparkSqlRewriterTest, RewritesBackticksAndDeltaReferences) {
  EXPECT_EQ(Rewrite("SELECT `a b`, `x``y` FROM t"), "SELECT \"a b\", \"x`y\" FROM t");
  EXPECT_EQ(Rewrite("SELECT * FROM delta.`/tmp/t`"), "SELECT * FROM delta_scan('/tmp/t')");
  EXPECT_EQ(Rewrite("SELECT * FROM delta.`/tmp/t` VERSION AS OF 3 t"), "SELECT * FROM delta_scan('/tmp/t', version => 3) t");
  EXPECT_EQ(Rewrite("SELECT * FROM delta.`/tmp/t@v2`"), "SELECT * FROM delta_scan('/tmp/t', version => 2)");
  EXPECT_EQ(Rewrite("SELECT * FROM DELTA.`/t` TIMESTAMP AS OF '2024-01-01'"),
            "SELECT * FROM delta_scan('/t', timestamp => '2024-01-01')");
  EXPECT_EQ(Rewrite("SELECT * FROM parquet.`/d/f.parquet`"), "SELECT * FROM read_parquet('/d/f.parquet')");
  EXPECT_EQ(Rewrite("DESCRIBE HISTORY delta.`/t`"), "SELECT * FROM delta_history('/t')");
  EXPECT_EQ(Rewrite("desc detail '/t';"), "SELECT * FROM delta_detail('/t');");
  EXPECT_EQ(Rewrite("SELECT * FROM table_changes('/t', 1, 2 + 1)"),
            "SELECT * FROM table_changes('/t', 1, end_version => 2 + 1)");
  EXPECT_EQ(Rewrite("SELECT * FROM table_changes('/t', f(1, 2))"), "SELECT * FROM table_changes('/t', f(1, 2))");
  EXPECT_EQ(RewriteSparkSql("SELECT * FROM delta.`/t` VERSION AS OF 'x'", SparkSqlContext{}).status().code(),
            ErrorCode::kSyntaxError);
}

TEST(SparkSqlRewriterTest, PassesSimpleConjunctsAsScanFilter) {
  std::string out = Rewrite("SELECT * FROM delta.`/t` AS x WHERE x.id > 5 AND 'a' = name AND y IS NULL ORDER BY 1");
  EXPECT_NE(out.find("filter => 'id\x1f>\x1f" "5\x1e" "name\x1f=\x1f" "a\x1e" "y\x1fis_null\x1f')"), std::string::npos)
      << out;
  // OR, joins and other tables' columns disable or skip extraction.
  EXPECT_EQ(Rewrite("SELECT * FROM delta.`/t` WHERE a = 1 OR b = 2").find("filter"), std::string::npos);
  EXPECT_EQ(Rewrite("SELECT * FROM delta.`/t` JOIN u ON true WHERE a = 1").find("filter"), std::string::npos);
  EXPECT_EQ(Rewrite("SELECT * FROM delta.`/t` x WHERE u.a = 1").find("filter"), std::string::npos);
}

}  // namespace
}  // namespace tarn::engine
