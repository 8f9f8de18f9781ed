// SPDX-License-Identifier: Apache-2.0
// Tests for object-key normalisation, percent coding and dbfs:/file: resolution (incl. traversal attempts).
#include <gtest/gtest.h>

#include <string>

#include "tarn/storage/storage_path.hpp"

namespace tarn::storage {
namespace {

TEST(StoragePathTest, NormalizesKeys) {
  struct Case {
    std::string input;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{{"a/b", "a/b"},
                                         {"/a//b/", "a/b"},
                                         {"a/./b", "a/b"},
                                         {"a/x/../b", "a/b"},
                                         {"%2e%2e/x", "%2e%2e/x"},
                                         {"_delta_log/00000000000000000000.json", "_delta_log/00000000000000000000.json"}}) {
    auto key = NormalizeObjectKey(c.input);
    ASSERT_TRUE(key.has_value()) << c.input << ": " << key.status().ToString();
    EXPECT_EQ(*key, c.expected) << c.input;
  }
}

TEST(StoragePathTest, RefusesKeysThatEscapeOrAreInvalid) {
  for (std::string bad : {std::string(".."), std::string("../x"), std::string("a/../../x"), std::string("a/b/../../.."),
                          std::string(""), std::string("/"), std::string("a/.."), std::string("a\0b", 3)}) {
    auto key = NormalizeObjectKey(bad);
    ASSERT_FALSE(key.has_value()) << "accepted: " << bad;
    EXPECT_EQ(key.status().code(), ErrorCode::kInvalidParameterValue);
  }
}

TEST(StoragePathTest, PrefixKeepsTrailingSlashAndAllowsRoot) {
  EXPECT_EQ(NormalizeObjectPrefix("_delta_log/").value(), "_delta_log/");
  EXPECT_EQ(NormalizeObjectPrefix("").value(), "");
  EXPECT_EQ(NormalizeObjectPrefix("a/../").value(), "");
  EXPECT_EQ(NormalizeObjectPrefix("a/0000").value(), "a/0000");
  EXPECT_FALSE(NormalizeObjectPrefix("../").has_value());
}

TEST(StoragePathTest, PercentDecodes) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc%25").value(), "a b/c%");
  EXPECT_EQ(PercentDecode("special%20p@%23h").value(), "special p@#h");
  EXPECT_EQ(PercentDecode("%252e").value(), "%2e");  // decoded once only
  EXPECT_FALSE(PercentDecode("bad%2").has_value());
  EXPECT_FALSE(PercentDecode("bad%zz").has_value());
  EXPECT_FALSE(PercentDecode("nul%00byte").has_value());
}

// Fuzzing regression (storage_path_fuzzer): a raw NUL passed through PercentDecode although a decoded one was refused,
// so a Delta log path with a NUL reached file opens and generated SQL.
TEST(StoragePathTest, PercentDecodeRefusesRawNul) {
  auto decoded = PercentDecode(std::string_view("a\0b/c%20", 8));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(PercentDecode("a%20b").value(), "a b");
}

TEST(StoragePathTest, PercentEncodeRoundTrips) {
  std::string raw = "dir/a b#c%d?é";
  std::string encoded = PercentEncodePath(raw);
  EXPECT_EQ(encoded.find(' '), std::string::npos);
  EXPECT_EQ(encoded.find('#'), std::string::npos);
  EXPECT_NE(encoded.find('/'), std::string::npos);
  EXPECT_EQ(PercentDecode(encoded).value(), raw);
}

TEST(StoragePathTest, NormalizesAbsolutePaths) {
  EXPECT_EQ(NormalizeAbsolutePath("/a/./b//c/..").value(), "/a/b");
  EXPECT_EQ(NormalizeAbsolutePath("/../..").value(), "/");
  EXPECT_FALSE(NormalizeAbsolutePath("relative/x").has_value());
  EXPECT_FALSE(NormalizeAbsolutePath(std::string("/a\0b", 4)).has_value());
}

TEST(StoragePathTest, ResolvesDbfsUnderRoot) {
  PathResolver resolver("/data/dbfs/");
  EXPECT_EQ(resolver.ToLocalPath("dbfs:/user/hive/warehouse/t").value(), "/data/dbfs/user/hive/warehouse/t");
  EXPECT_EQ(resolver.ToLocalPath("dbfs:user/x").value(), "/data/dbfs/user/x");
  EXPECT_EQ(resolver.ToLocalPath("dbfs:///user/x").value(), "/data/dbfs/user/x");
  EXPECT_EQ(resolver.ToLocalPath("dbfs:/").value(), "/data/dbfs");
  EXPECT_EQ(resolver.ToLocalPath("dbfs:/a/../b").value(), "/data/dbfs/b");
}

TEST(StoragePathTest, DbfsTraversalNeverEscapesRoot) {
  PathResolver resolver("/data/dbfs");
  for (std::string bad : {"dbfs:/..", "dbfs:/../etc/passwd", "dbfs:/a/../../etc", "dbfs:../x", "dbfs:/a/b/../../../"}) {
    auto path = resolver.ToLocalPath(bad);
    ASSERT_FALSE(path.has_value()) << "accepted " << bad << " -> " << *path;
    EXPECT_EQ(path.status().code(), ErrorCode::kPermissionDenied);
  }
  // Encoded traversal stays a literal name inside the root.
  for (std::string encoded : {"dbfs:/%2e%2e/%2e%2e/etc/passwd", "dbfs:/a/%2E%2E%2F%2E%2E/x", "dbfs:/..%2f..%2fetc"}) {
    auto path = resolver.ToLocalPath(encoded);
    ASSERT_TRUE(path.has_value()) << encoded;
    EXPECT_TRUE(path->starts_with("/data/dbfs/")) << *path;
  }
  EXPECT_FALSE(resolver.ToLocalPath(std::string("dbfs:/a\0/../../x", 16)).has_value());
}

TEST(StoragePathTest, ResolvesFileUrisAndAbsolutePaths) {
  PathResolver resolver("/data/dbfs");
  EXPECT_EQ(resolver.ToLocalPath("file:/some/path").value(), "/some/path");
  EXPECT_EQ(resolver.ToLocalPath("file:///some/path").value(), "/some/path");
  EXPECT_EQ(resolver.ToLocalPath("file://localhost/some/path").value(), "/some/path");
  EXPECT_EQ(resolver.ToLocalPath("file:/some/with%20space/p@%23h").value(), "/some/with space/p@#h");
  EXPECT_EQ(resolver.ToLocalPath("/tmp/./x/../y").value(), "/tmp/y");
  EXPECT_FALSE(resolver.ToLocalPath("file:/a%00b").has_value());
  EXPECT_EQ(resolver.ToLocalPath("file://otherhost/x").status().code(), ErrorCode::kNotImplemented);
  EXPECT_EQ(resolver.ToLocalPath("s3://bucket/x").status().code(), ErrorCode::kNotImplemented);
  EXPECT_EQ(resolver.ToLocalPath("relative/path").status().code(), ErrorCode::kInvalidParameterValue);
}

}  // namespace
}  // namespace tarn::storage
