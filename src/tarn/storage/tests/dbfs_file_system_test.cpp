// SPDX-License-Identifier: Apache-2.0
// Tests for DbfsFileSystem: path normalisation, confinement (traversal, symlinks), staged uploads, deletes, moves.
#include "tarn/storage/dbfs_file_system.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "tarn/storage/tests/dbfs_test_dir.hpp"

namespace tarn::storage {
namespace {

namespace fs = std::filesystem;

class DbfsFileSystemTest : public ::testing::Test {
 protected:
  DbfsFileSystemTest() : root_(dir_.path() + "/dbfs"), outside_(dir_.path() + "/outside") {
    auto opened = DbfsFileSystem::Open(root_);
    EXPECT_TRUE(opened.has_value()) << opened.status().ToString();
    dbfs_ = std::move(opened).value();
    fs::create_directories(outside_);
    TempDir::WriteFile(outside_ + "/secret.txt", "secret");
  }

  Status Write(const std::string& path, const std::string& data, bool overwrite = false) {
    auto upload = dbfs_->StartUpload();
    if (!upload.has_value()) return upload.error();
    TARN_RETURN_IF_ERROR((*upload)->Append(data));
    return (*upload)->Commit(path, overwrite);
  }

  std::string Read(const std::string& path) {
    auto reader = dbfs_->OpenFile(path);
    if (!reader.has_value()) return reader.error().ToString();
    auto data = (*reader)->ReadAt(0, 1 << 20);
    return data.has_value() ? *data : "<read error>";
  }

  TempDir dir_;
  std::string root_;
  std::string outside_;
  std::unique_ptr<DbfsFileSystem> dbfs_;
};

TEST(DbfsPathTest, NormalizesAcceptedForms) {
  struct Case {
    const char* input;
    const char* expected;
  };
  for (const Case& c : {Case{"/", "/"}, Case{"dbfs:/", "/"}, Case{"dbfs:/a//b/./c/", "/a/b/c"},
                        Case{"/Volumes/main/default/v/x.csv", "/Volumes/main/default/v/x.csv"},
                        Case{"/%2e%2e/x", "/%2e%2e/x"}, Case{"/a b/ü.txt", "/a b/ü.txt"}}) {
    auto normalized = DbfsFileSystem::NormalizePath(c.input);
    ASSERT_TRUE(normalized.has_value()) << c.input << ": " << normalized.status().ToString();
    EXPECT_EQ(*normalized, c.expected) << c.input;
  }
}

TEST(DbfsPathTest, RefusesUnsafeOrRelativePaths) {
  for (std::string input : {std::string(""), std::string("dbfs:"), std::string("a/b"), std::string("dbfs:a/b"),
                            std::string("/a/../b"), std::string("/.."), std::string("/a/..", 5),
                            std::string("/a\0b", 4), std::string("/.tarn-tmp-uploads/x")}) {
    auto normalized = DbfsFileSystem::NormalizePath(input);
    ASSERT_FALSE(normalized.has_value()) << input;
    EXPECT_EQ(normalized.error().code(), ErrorCode::kInvalidParameterValue) << input;
  }
}

TEST_F(DbfsFileSystemTest, UploadBecomesVisibleOnlyAtCommit) {
  auto upload = dbfs_->StartUpload();
  ASSERT_TRUE(upload.has_value());
  ASSERT_TRUE((*upload)->Append("hello ").ok());
  ASSERT_TRUE((*upload)->Append("world").ok());
  EXPECT_EQ(dbfs_->GetStatus("/a/b.txt").status().code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_TRUE((*upload)->Commit("dbfs:/a/b.txt", false).ok());
  EXPECT_EQ(Read("/a/b.txt"), "hello world");
  auto info = dbfs_->GetStatus("/a/b.txt");
  ASSERT_TRUE(info.has_value());
  EXPECT_FALSE(info->is_dir);
  EXPECT_EQ(info->size, 11);
  EXPECT_GT(info->modification_time_millis, 0);
  EXPECT_EQ((*upload)->Commit("/a/c.txt", false).code(), ErrorCode::kInvalidState);
  // The staging directory holds nothing once the upload is committed, and it never shows in listings.
  EXPECT_TRUE(fs::is_empty(root_ + "/.tarn-tmp-uploads"));
  auto root_list = dbfs_->List("/");
  ASSERT_TRUE(root_list.has_value());
  ASSERT_EQ(root_list->size(), 1u);
  EXPECT_EQ((*root_list)[0].path, "/a");
  EXPECT_TRUE((*root_list)[0].is_dir);
}

TEST_F(DbfsFileSystemTest, AbandonedUploadLeavesNothing) {
  {
    auto upload = dbfs_->StartUpload();
    ASSERT_TRUE(upload.has_value());
    ASSERT_TRUE((*upload)->Append("partial").ok());
  }
  EXPECT_TRUE(fs::is_empty(root_ + "/.tarn-tmp-uploads"));
}

TEST_F(DbfsFileSystemTest, OpenRemovesStaleStagingFiles) {
  TempDir::WriteFile(root_ + "/.tarn-tmp-uploads/.tarn-tmp-leftover", "x");
  auto reopened = DbfsFileSystem::Open(root_);
  ASSERT_TRUE(reopened.has_value());
  EXPECT_TRUE(fs::is_empty(root_ + "/.tarn-tmp-uploads"));
}

TEST_F(DbfsFileSystemTest, OverwriteRules) {
  ASSERT_TRUE(Write("/f", "one").ok());
  EXPECT_EQ(Write("/f", "two").code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(Read("/f"), "one");
  ASSERT_TRUE(Write("/f", "three", true).ok());
  EXPECT_EQ(Read("/f"), "three");
  ASSERT_TRUE(dbfs_->MakeDirectories("/d").ok());
  EXPECT_EQ(Write("/d", "x", true).code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(Write("/f/child", "x", true).code(), ErrorCode::kResourceAlreadyExists);  // a file on the chain
}

TEST_F(DbfsFileSystemTest, LastCommitWins) {
  auto first = dbfs_->StartUpload();
  auto second = dbfs_->StartUpload();
  ASSERT_TRUE(first.has_value() && second.has_value());
  ASSERT_TRUE((*first)->Append("first").ok());
  ASSERT_TRUE((*second)->Append("second").ok());
  ASSERT_TRUE((*second)->Commit("/race", true).ok());
  ASSERT_TRUE((*first)->Commit("/race", true).ok());
  EXPECT_EQ(Read("/race"), "first");
}

TEST_F(DbfsFileSystemTest, ReaderKeepsContentOfOpenTime) {
  ASSERT_TRUE(Write("/r", "old content").ok());
  auto reader = dbfs_->OpenFile("/r");
  ASSERT_TRUE(reader.has_value());
  ASSERT_TRUE(Write("/r", "new", true).ok());
  auto data = (*reader)->ReadAt(0, 100);
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(*data, "old content");
  auto tail = (*reader)->ReadAt(4, 3);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(*tail, "con");
  EXPECT_EQ((*reader)->ReadAt(100, 5).value(), "");
}

TEST_F(DbfsFileSystemTest, MakeDirectoriesAndList) {
  ASSERT_TRUE(dbfs_->MakeDirectories("/x/y/z").ok());
  ASSERT_TRUE(dbfs_->MakeDirectories("/x/y/z").ok());  // existing is fine
  ASSERT_TRUE(Write("/x/file", "1234").ok());
  auto listed = dbfs_->List("/x");
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].path, "/x/file");
  EXPECT_EQ((*listed)[0].size, 4);
  EXPECT_EQ((*listed)[1].path, "/x/y");
  EXPECT_TRUE((*listed)[1].is_dir);
  auto single = dbfs_->List("/x/file");
  ASSERT_TRUE(single.has_value());
  ASSERT_EQ(single->size(), 1u);
  EXPECT_EQ((*single)[0].path, "/x/file");
  EXPECT_EQ(dbfs_->List("/missing").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(dbfs_->MakeDirectories("/x/file/sub").code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(dbfs_->MakeDirectories("/x/file").code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(dbfs_->GetStatus("/x/file/sub").status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(DbfsFileSystemTest, ListPagesStartAfterANameAndStopAtTheLimit) {
  for (const char* name : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(Write(std::string("/p/") + name, name).ok());
  ASSERT_TRUE(dbfs_->MakeDirectories("/p/cc").ok());
  ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/p/bb").c_str()), 0);  // hidden, and not counted
  auto names = [](const DbfsListPage& page) {
    std::vector<std::string> out;
    for (const auto& e : page.entries) out.push_back(e.path);
    return out;
  };
  auto first = dbfs_->ListPage("/p", "", 2);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(names(*first), (std::vector<std::string>{"/p/a", "/p/b"}));
  EXPECT_TRUE(first->has_more);
  auto second = dbfs_->ListPage("/p", "b", 2);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(names(*second), (std::vector<std::string>{"/p/c", "/p/cc"}));
  EXPECT_TRUE(second->entries[1].is_dir);
  EXPECT_TRUE(second->has_more);
  auto last = dbfs_->ListPage("/p", "cc", 2);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(names(*last), (std::vector<std::string>{"/p/d", "/p/e"}));
  EXPECT_FALSE(last->has_more);
  // A start name that is not an entry, one past the end, and no limit.
  EXPECT_EQ(names(*dbfs_->ListPage("/p", "bz", 1)), (std::vector<std::string>{"/p/c"}));
  EXPECT_TRUE(dbfs_->ListPage("/p", "zz", 10)->entries.empty());
  EXPECT_FALSE(dbfs_->ListPage("/p", "zz", 10)->has_more);
  EXPECT_EQ(dbfs_->ListPage("/p", "", 0)->entries.size(), 6u);
  EXPECT_EQ(dbfs_->ListPage("/missing", "", 1).status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(DbfsFileSystemTest, BatchedListingMatchesPerEntryStatus) {
  // Enough entries for the batched (io_uring) stat path, with files of different sizes, directories, a link and a
  // FIFO (both hidden), listed whole and in pages.
  std::vector<std::string> expected;
  for (int i = 0; i < 240; ++i) {
    std::string name = "/many/n" + std::to_string(1000 + (i * 7919) % 240);
    if (i % 40 == 0) {
      ASSERT_TRUE(dbfs_->MakeDirectories(name).ok());
    } else {
      ASSERT_TRUE(Write(name, std::string(static_cast<size_t>(i % 17), 'z')).ok());
    }
    expected.push_back(name);
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/many/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((root_ + "/many/fifo").c_str(), 0644), 0);
  auto all = dbfs_->List("/many");
  ASSERT_TRUE(all.has_value()) << all.status().ToString();
  ASSERT_EQ(all->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const DbfsFileInfo& got = (*all)[i];
    auto status = dbfs_->GetStatus(expected[i]);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(got.path, expected[i]);
    EXPECT_EQ(got.is_dir, status->is_dir);
    EXPECT_EQ(got.size, status->size);
    EXPECT_EQ(got.modification_time_millis, status->modification_time_millis);
  }
  std::vector<std::string> paged;
  std::string after;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = dbfs_->ListPage("/many", after, 99);
    ASSERT_TRUE(page.has_value());
    for (const DbfsFileInfo& e : page->entries) paged.push_back(e.path);
    if (!page->has_more) break;
    after = page->entries.back().path.substr(page->entries.back().path.rfind('/') + 1);
  }
  EXPECT_EQ(paged, expected);

  // More entries than one stat batch (4,096), written straight into the root.
  std::vector<std::string> huge;
  for (int i = 0; i < 4200; ++i) {
    std::string name = "h" + std::to_string(10000 + i);
    TempDir::WriteFile(root_ + "/huge/" + name, std::string(static_cast<size_t>(i % 5), 'q'));
    huge.push_back("/huge/" + name);
  }
  auto listed = dbfs_->List("/huge");
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), huge.size());
  for (size_t i = 0; i < huge.size(); ++i) {
    EXPECT_EQ((*listed)[i].path, huge[i]);
    EXPECT_EQ((*listed)[i].size, static_cast<int64_t>(i % 5));
  }
}

// Drains a listing in batches of `batch`, checking each batch's size; returns prefix + name of every entry.
std::vector<std::string> DrainListing(DbfsListing& listing, size_t batch) {
  std::vector<std::string> paths;
  std::vector<DbfsListedEntry> out;
  for (int calls = 0; calls < 100000; ++calls) {
    auto more = listing.Next(batch, out);
    EXPECT_TRUE(more.has_value()) << more.status().ToString();
    if (!more.has_value()) break;
    EXPECT_LE(out.size(), batch);
    for (const DbfsListedEntry& e : out) paths.push_back(listing.prefix() + std::string(e.name));
    if (!*more) break;
  }
  return paths;
}

TEST_F(DbfsFileSystemTest, ListingStreamsBatchesInByteOrder) {
  // More names than the stat window (4,096), names that agree in their first eight bytes or are shorter than
  // eight, non-ASCII bytes (sorted as unsigned bytes), a directory, and a link and a FIFO that stay hidden.
  std::vector<std::string> names = {"a", "ab", "abcdefg", "abcdefgh", "abcdefgh0", "abcdefghi", "abcdefgg",
                                    "\xC3\xA9t\xC3\xA9", "Z", "~tilde", "same-prefix"};
  for (int i = 0; i < 4500; ++i) names.push_back("same-prefix-" + std::to_string((i * 7919) % 4500));
  for (const std::string& name : names) TempDir::WriteFile(root_ + "/s/" + name, std::string(name.size() % 7, 'x'));
  ASSERT_TRUE(dbfs_->MakeDirectories("/s/dir").ok());
  names.push_back("dir");
  ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/s/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((root_ + "/s/fifo").c_str(), 0644), 0);
  std::sort(names.begin(), names.end());
  std::vector<std::string> expected;
  for (const std::string& name : names) expected.push_back("/s/" + name);

  auto listed = dbfs_->List("/s");
  ASSERT_TRUE(listed.has_value()) << listed.status().ToString();
  std::vector<std::string> listed_paths;
  for (const DbfsFileInfo& info : *listed) listed_paths.push_back(info.path);
  EXPECT_EQ(listed_paths, expected);

  for (size_t batch : {size_t{1}, size_t{1000}, size_t{100000}}) {
    auto listing = dbfs_->OpenListing("dbfs:/s/");
    ASSERT_TRUE(listing.has_value()) << listing.status().ToString();
    EXPECT_EQ((*listing)->prefix(), "/s/");
    EXPECT_EQ(DrainListing(**listing, batch), expected) << "batch " << batch;
    std::vector<DbfsListedEntry> out{DbfsListedEntry{}};
    auto after_end = (*listing)->Next(10, out);
    ASSERT_TRUE(after_end.has_value());
    EXPECT_FALSE(*after_end);
    EXPECT_TRUE(out.empty());
  }

  // Sizes, kinds and times agree with GetStatus.
  auto listing = dbfs_->OpenListing("/s");
  ASSERT_TRUE(listing.has_value());
  std::vector<DbfsListedEntry> out;
  ASSERT_TRUE((*listing)->Next(20, out).has_value());
  ASSERT_FALSE(out.empty());
  EXPECT_LE(out.size(), 20u);  // "fifo" and "link" are among the first 20 names but hidden
  for (const DbfsListedEntry& e : out) {
    auto status = dbfs_->GetStatus("/s/" + std::string(e.name));
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(e.is_dir, status->is_dir);
    EXPECT_EQ(e.size, status->size);
    EXPECT_EQ(e.modification_time_millis, status->modification_time_millis);
  }
  // Entries removed after the listing was opened are left out, or listed as they were when their stat had already
  // run ahead; every entry still there is listed, in order.
  for (int i = 0; i < 4500; i += 3) ::unlink((root_ + "/s/same-prefix-" + std::to_string(i)).c_str());
  std::vector<std::string> rest = DrainListing(**listing, 777);
  const std::string last_seen = "/s/" + std::string(out.back().name);
  std::vector<std::string> after_first(std::upper_bound(expected.begin(), expected.end(), last_seen), expected.end());
  EXPECT_TRUE(std::includes(after_first.begin(), after_first.end(), rest.begin(), rest.end()));
  std::vector<std::string> still;
  for (const std::string& path : after_first) {
    if (fs::exists(fs::symlink_status(root_ + path))) still.push_back(path);
  }
  EXPECT_TRUE(std::includes(rest.begin(), rest.end(), still.begin(), still.end()));
  EXPECT_LT(still.size(), after_first.size());

  // A listing dropped half-way (requests still in flight) leaves the pooled ring usable for the next one.
  {
    auto dropped = dbfs_->OpenListing("/s");
    ASSERT_TRUE(dropped.has_value());
    std::vector<DbfsListedEntry> few;
    ASSERT_TRUE((*dropped)->Next(5, few).has_value());
  }
  auto again = dbfs_->List("/s");
  ASSERT_TRUE(again.has_value());
  size_t first_still = 0;
  for (const DbfsListedEntry& e : out) first_still += fs::exists(root_ + "/s/" + std::string(e.name)) ? 1 : 0;
  EXPECT_EQ(again->size(), first_still + still.size());

  // A file lists as itself (empty prefix, the name is its path); the root's prefix is "/"; errors as List.
  auto file = dbfs_->OpenListing("/s/a");
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ((*file)->prefix(), "");
  EXPECT_EQ(DrainListing(**file, 10), (std::vector<std::string>{"/s/a"}));
  auto root = dbfs_->OpenListing("/");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ((*root)->prefix(), "/");
  EXPECT_EQ(DrainListing(**root, 10), (std::vector<std::string>{"/s"}));
  EXPECT_EQ(dbfs_->OpenListing("/missing").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(dbfs_->OpenListing("/s/../x").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(dbfs_->OpenListing("/s/link").status().code(), ErrorCode::kPermissionDenied);
}

TEST_F(DbfsFileSystemTest, LargeUploadIsByteExactAcrossWritebackKicks) {
  // Past several sync_file_range intervals, in uneven appends.
  auto upload = dbfs_->StartUpload();
  ASSERT_TRUE(upload.has_value());
  std::string expected;
  for (int i = 0; expected.size() < 20 * 1024 * 1024; ++i) {
    std::string piece(1000003 + i, static_cast<char>('a' + i % 26));
    ASSERT_TRUE((*upload)->Append(piece).ok());
    expected += piece;
  }
  ASSERT_TRUE((*upload)->Commit("/big/file", false).ok());
  EXPECT_TRUE(TempDir::ReadFile(root_ + "/big/file") == expected);
}

TEST_F(DbfsFileSystemTest, SymlinksAreNeverFollowed) {
  ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/link_dir").c_str()), 0);
  ASSERT_EQ(::symlink((outside_ + "/secret.txt").c_str(), (root_ + "/link_file").c_str()), 0);
  // Reads through links are refused.
  EXPECT_EQ(dbfs_->OpenFile("/link_file").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(dbfs_->OpenFile("/link_dir/secret.txt").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(dbfs_->GetStatus("/link_dir").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(dbfs_->List("/link_dir").status().code(), ErrorCode::kPermissionDenied);
  // Writes through a linked directory are refused and nothing lands outside the root.
  EXPECT_EQ(Write("/link_dir/new.txt", "x", true).code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(dbfs_->MakeDirectories("/link_dir/sub").code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(fs::exists(outside_ + "/new.txt"));
  EXPECT_FALSE(fs::exists(outside_ + "/sub"));
  // Overwriting a linked file replaces the link, never the target.
  ASSERT_TRUE(Write("/link_file", "replaced", true).ok());
  EXPECT_EQ(TempDir::ReadFile(outside_ + "/secret.txt"), "secret");
  EXPECT_EQ(Read("/link_file"), "replaced");
  // Listings leave links out; deleting a link removes only the link.
  auto listed = dbfs_->List("/");
  ASSERT_TRUE(listed.has_value());
  for (const auto& entry : *listed) EXPECT_NE(entry.path, "/link_dir");
  auto deleted = dbfs_->Delete("/link_dir", true, 100);
  ASSERT_TRUE(deleted.has_value()) << deleted.status().ToString();
  EXPECT_TRUE(fs::exists(outside_ + "/secret.txt"));
  EXPECT_EQ(fs::symlink_status(root_ + "/link_dir").type(), fs::file_type::not_found);
}

TEST_F(DbfsFileSystemTest, RecursiveDeleteInsideTreeDoesNotFollowLinks) {
  ASSERT_TRUE(dbfs_->MakeDirectories("/tree/sub").ok());
  ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/tree/sub/escape").c_str()), 0);
  auto deleted = dbfs_->Delete("/tree", true, 100);
  ASSERT_TRUE(deleted.has_value()) << deleted.status().ToString();
  EXPECT_TRUE(fs::exists(outside_ + "/secret.txt"));
  EXPECT_FALSE(fs::exists(root_ + "/tree"));
}

TEST_F(DbfsFileSystemTest, DeleteSemantics) {
  ASSERT_TRUE(Write("/d/a", "1").ok());
  EXPECT_EQ(dbfs_->Delete("/d", false, 100).status().code(), ErrorCode::kDirectoryNotEmpty);
  EXPECT_EQ(dbfs_->Delete("/missing", false, 100).value(), 0);
  EXPECT_EQ(dbfs_->Delete("/nope/deeper", true, 100).value(), 0);
  EXPECT_EQ(dbfs_->Delete("/", true, 100).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(dbfs_->Delete("/d/a", false, 100).value(), 1);
  EXPECT_EQ(dbfs_->Delete("/d", false, 100).value(), 1);
  EXPECT_EQ(dbfs_->GetStatus("/d").status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(DbfsFileSystemTest, LargeRecursiveDeleteIsPartialAndResumable) {
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(Write("/big/sub" + std::to_string(i % 3) + "/f" + std::to_string(i), "x").ok());
  // 12 files + 3 directories + /big itself = 16 entries; 5 per call.
  int calls = 0;
  while (true) {
    ++calls;
    auto deleted = dbfs_->Delete("/big", true, 5);
    if (deleted.has_value()) break;
    ASSERT_EQ(deleted.error().code(), ErrorCode::kPartialDelete);
    EXPECT_NE(deleted.error().message().find("operation has deleted 5 files"), std::string::npos)
        << deleted.error().message();
    ASSERT_LT(calls, 10);
  }
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(dbfs_->GetStatus("/big").status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(DbfsFileSystemTest, DeleteFileAndEmptyDirectory) {
  ASSERT_TRUE(Write("/e/f", "1").ok());
  EXPECT_EQ(dbfs_->DeleteFile("/e").code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(dbfs_->DeleteEmptyDirectory("/e").code(), ErrorCode::kDirectoryNotEmpty);
  EXPECT_EQ(dbfs_->DeleteEmptyDirectory("/e/f").code(), ErrorCode::kInvalidParameterValue);
  ASSERT_TRUE(dbfs_->DeleteFile("/e/f").ok());
  EXPECT_EQ(dbfs_->DeleteFile("/e/f").code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_TRUE(dbfs_->DeleteEmptyDirectory("/e").ok());
  EXPECT_EQ(dbfs_->DeleteEmptyDirectory("/e").code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(DbfsFileSystemTest, MoveSemantics) {
  ASSERT_TRUE(Write("/src/a.txt", "A").ok());
  ASSERT_TRUE(Write("/other", "O").ok());
  ASSERT_TRUE(dbfs_->Move("/src/a.txt", "/dst/deep/b.txt").ok());
  EXPECT_EQ(Read("/dst/deep/b.txt"), "A");
  EXPECT_EQ(dbfs_->Move("/src/a.txt", "/x").code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(dbfs_->Move("/dst/deep/b.txt", "/other").code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(Read("/other"), "O");
  EXPECT_EQ(dbfs_->Move("/dst", "/dst/inside").code(), ErrorCode::kInvalidParameterValue);
  ASSERT_TRUE(dbfs_->Move("/dst", "/moved").ok());
  EXPECT_EQ(Read("/moved/deep/b.txt"), "A");
  EXPECT_EQ(dbfs_->Move("/", "/y").code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(DbfsFileSystemTest, OpenFileRefusesDirectories) {
  ASSERT_TRUE(dbfs_->MakeDirectories("/dir").ok());
  EXPECT_EQ(dbfs_->OpenFile("/dir").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(dbfs_->OpenFile("/").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(dbfs_->OpenFile("/none").status().code(), ErrorCode::kResourceDoesNotExist);
}

}  // namespace
}  // namespace tarn::storage
