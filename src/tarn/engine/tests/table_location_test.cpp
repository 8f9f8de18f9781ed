// SPDX-License-Identifier: Apache-2.0
// Tests table location resolution (absolute, file:, dbfs:/ under the database's dbfs root) for reads and writes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tarn/engine/database.hpp"
#include "tarn/engine/delta_table.hpp"
#include "tarn/engine/delta_writer.hpp"
#include "tarn/engine/session.hpp"

namespace tarn::engine {
namespace {

namespace fs = std::filesystem;

TEST(TableLocationTest, ResolvesAbsoluteFileAndDbfsLocations) {
  EXPECT_EQ(ResolveTableLocation("/data/t/", "").value(), "/data/t");
  EXPECT_EQ(ResolveTableLocation("/data/./x/../t", "").value(), "/data/t");
  EXPECT_EQ(ResolveTableLocation("file:///data/my%20t", "").value(), "/data/my t");
  EXPECT_EQ(ResolveTableLocation("file:/data/t", "").value(), "/data/t");
  EXPECT_EQ(ResolveTableLocation("dbfs:/user/t", "/srv/dbfs").value(), "/srv/dbfs/user/t");
  EXPECT_EQ(ResolveTableLocation("dbfs:/user/t/", "/srv/dbfs").value(), "/srv/dbfs/user/t");
}

TEST(TableLocationTest, RefusesRelativeEscapingAndRootlessDbfsLocations) {
  EXPECT_EQ(ResolveTableLocation("relative/t", "/srv/dbfs").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(ResolveTableLocation("s3://bucket/t", "/srv/dbfs").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(ResolveTableLocation("dbfs:/../etc", "/srv/dbfs").status().code(), ErrorCode::kPermissionDenied);
  auto rootless = ResolveTableLocation("dbfs:/t", "");
  ASSERT_FALSE(rootless.has_value());
  EXPECT_EQ(rootless.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(rootless.status().message().find("dbfs:/t"), std::string::npos) << rootless.status().ToString();
}

TEST(TableLocationTest, DbfsTablesAreWrittenAndReadUnderTheDbfsRoot) {
  std::string pattern = (fs::temp_directory_path() / "tarn-location-test-XXXXXX").string();
  std::string dir = mkdtemp(pattern.data());
  {
    DatabaseOptions options;
    options.dbfs_root = dir + "/dbfs";
    auto database = Database::Open(options).value();
    DeltaWriter writer(*database);
    DeltaCreateTable create;
    create.source_query = "SELECT range AS id FROM range(7)";
    auto created = writer.CreateTable("dbfs:/tables/t", create);
    ASSERT_TRUE(created.has_value()) << created.status().ToString();
    EXPECT_TRUE(fs::exists(dir + "/dbfs/tables/t/_delta_log/00000000000000000000.json"));

    auto session = database->Connect().value();
    auto stream = session->Execute("SELECT count(*), sum(id) FROM delta.`dbfs:/tables/t`");
    ASSERT_TRUE(stream.has_value()) << stream.status().ToString();
    auto chunk = (*stream)->Next().value();
    ASSERT_NE(chunk, nullptr);
    EXPECT_EQ(chunk->FormatValue(0, 0, ValueStyle::kDuckDb), "7");
    EXPECT_EQ(chunk->FormatValue(1, 0, ValueStyle::kDuckDb), "21");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tarn::engine
