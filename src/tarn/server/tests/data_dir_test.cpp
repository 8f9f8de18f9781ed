// SPDX-License-Identifier: Apache-2.0
// Tests for the data directory: layout, exclusive lock, token file mode.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tarn/server/data_dir.hpp"

namespace tarn::server {
namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("tarn-datadir-test-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(DataDirTest, CreatesLayout) {
  auto path = TempPath("layout");
  auto dir = DataDir::Open(path + "/nested/");
  ASSERT_TRUE(dir.ok()) << dir.error().ToString();
  EXPECT_TRUE(std::filesystem::is_directory((*dir)->WarehouseRoot()));
  EXPECT_TRUE(std::filesystem::is_directory((*dir)->LogDir()));
  EXPECT_EQ((*dir)->root().back(), 'd');  // trailing slash removed
  std::filesystem::remove_all(path);
}

TEST(DataDirTest, SecondOpenIsRefusedUntilReleased) {
  auto path = TempPath("lock");
  {
    auto first = DataDir::Open(path);
    ASSERT_TRUE(first.ok());
    auto second = DataDir::Open(path);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), ErrorCode::kInvalidState);
    EXPECT_NE(second.error().message().find(std::to_string(getpid())), std::string::npos);
  }
  EXPECT_TRUE(DataDir::Open(path).ok());
  std::filesystem::remove_all(path);
}

TEST(DataDirTest, PathUnderAFileIsAnIoError) {
  auto path = TempPath("file");
  { std::ofstream(path) << "x"; }
  auto dir = DataDir::Open(path + "/data");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code(), ErrorCode::kIoError);
  std::filesystem::remove_all(path);
}

TEST(DataDirTest, AdminTokenIsPrivate) {
  auto path = TempPath("token");
  ::umask(0);
  auto dir = DataDir::Open(path);
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE((*dir)->WriteAdminToken("dapi123").ok());
  struct stat st {};
  ASSERT_EQ(::stat((*dir)->AdminTokenPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in((*dir)->AdminTokenPath());
  std::string token;
  in >> token;
  EXPECT_EQ(token, "dapi123");
  ::umask(022);
  std::filesystem::remove_all(path);
}

}  // namespace
}  // namespace tarn::server
