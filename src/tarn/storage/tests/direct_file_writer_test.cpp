// SPDX-License-Identifier: Apache-2.0
// Tests for DirectFileWriter: byte-exact files through O_DIRECT buffers, unaligned tails and the plain-write path.
#include "tarn/storage/direct_file_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tarn/storage/tests/dbfs_test_dir.hpp"

namespace tarn::storage {
namespace {

// Writes `pieces` through a DirectFileWriter (O_DIRECT when `try_direct` and the file system allows it) and returns
// the file's bytes.
std::string WriteThrough(const std::string& path, const std::vector<std::string>& pieces, bool try_direct,
                         bool* used_direct = nullptr) {
  bool direct = false;
  int fd = try_direct ? OpenMaybeDirect(AT_FDCWD, path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644, direct)
                      : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0);
  {
    DirectFileWriter writer(fd, direct, path);
    int64_t total = 0;
    for (const std::string& piece : pieces) {
      EXPECT_TRUE(writer.Append(piece).ok());
      total += static_cast<int64_t>(piece.size());
    }
    EXPECT_EQ(writer.size(), total);
    EXPECT_TRUE(writer.Finish().ok());
    EXPECT_FALSE(writer.direct());
  }
  EXPECT_EQ(::close(fd), 0);
  if (used_direct != nullptr) *used_direct = direct;
  return TempDir::ReadFile(path);
}

std::vector<std::string> UnevenPieces(size_t total) {
  std::vector<std::string> pieces;
  size_t size = 0;
  for (int i = 0; size < total; ++i) {
    std::string piece(std::min<size_t>(777777 + 4093 * i, total - size), '\0');
    for (size_t j = 0; j < piece.size(); ++j) piece[j] = static_cast<char>((size + j) * 131 + i);
    size += piece.size();
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

std::string Join(const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& p : pieces) out += p;
  return out;
}

TEST(DirectFileWriterTest, LargeUnevenAppendsAreByteExactWithAnUnalignedTail) {
  TempDir dir;
  // Several full 4 MiB buffers plus a tail that is not a multiple of the alignment.
  std::vector<std::string> pieces = UnevenPieces(3 * DirectFileWriter::kBufferBytes + 12345);
  bool used_direct = false;
  EXPECT_TRUE(WriteThrough(dir.path() + "/big", pieces, true, &used_direct) == Join(pieces));
  // /tmp on ext4 or xfs takes O_DIRECT; tmpfs does not, and then the plain path above was exercised instead.
  RecordProperty("o_direct", used_direct ? "yes" : "no");
}

TEST(DirectFileWriterTest, SmallAndEmptyFiles) {
  TempDir dir;
  EXPECT_EQ(WriteThrough(dir.path() + "/empty", {}, true), "");
  EXPECT_EQ(WriteThrough(dir.path() + "/small", {"hello", " ", "world"}, true), "hello world");
  std::string exact(DirectFileWriter::kBufferBytes, 'x');  // exactly one buffer, no tail
  EXPECT_TRUE(WriteThrough(dir.path() + "/exact", {exact}, true) == exact);
}

TEST(DirectFileWriterTest, PlainDescriptorWritesTheSameBytes) {
  TempDir dir;
  std::vector<std::string> pieces = UnevenPieces(DirectFileWriter::kBufferBytes + 999);
  EXPECT_TRUE(WriteThrough(dir.path() + "/plain", pieces, false) == Join(pieces));
}

TEST(DirectFileWriterTest, AppendAfterFinishContinuesTheFile) {
  TempDir dir;
  std::string path = dir.path() + "/resume";
  bool direct = false;
  int fd = OpenMaybeDirect(AT_FDCWD, path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644, direct);
  ASSERT_GE(fd, 0);
  std::string first(8192 + 5, 'a');
  {
    DirectFileWriter writer(fd, direct, path);
    ASSERT_TRUE(writer.Append(first).ok());
    ASSERT_TRUE(writer.Finish().ok());
    ASSERT_TRUE(writer.Append("tail").ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  ::close(fd);
  EXPECT_EQ(TempDir::ReadFile(path), first + "tail");
}

TEST(DirectFileWriterTest, WriteErrorsAreReported) {
  TempDir dir;
  std::string path = dir.path() + "/readonly";
  TempDir::WriteFile(path, "x");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  DirectFileWriter writer(fd, false, path);
  Status status = writer.Append("data");
  EXPECT_EQ(status.code(), ErrorCode::kIoError);
  EXPECT_NE(status.message().find(path), std::string::npos);
  ::close(fd);
}

}  // namespace
}  // namespace tarn::storage
