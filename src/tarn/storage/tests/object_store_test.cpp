// SPDX-License-Identifier: Apache-2.0
// Behaviour every ObjectStore must share, run against LocalObjectStore and InMemoryObjectStore.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "tarn/storage/in_memory_object_store.hpp"
#include "tarn/storage/local_object_store.hpp"

namespace tarn::storage {
namespace {

std::vector<std::string> Keys(const std::vector<ObjectInfo>& infos) {
  std::vector<std::string> keys;
  for (const auto& info : infos) keys.push_back(info.key);
  return keys;
}

// Owns a temp directory for the lifetime of a test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tarn-storage-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class StoreFactory {
 public:
  virtual ~StoreFactory() = default;
  virtual ObjectStore& store() = 0;
};

class LocalFactory : public StoreFactory {
 public:
  LocalFactory() : store_(LocalObjectStore::Create(dir_.path() + "/root").value()) {}
  ObjectStore& store() override { return *store_; }
  TempDir dir_;
  std::unique_ptr<LocalObjectStore> store_;
};

class MemoryFactory : public StoreFactory {
 public:
  ObjectStore& store() override { return store_; }
  InMemoryObjectStore store_;
};

template <typename Factory>
class ObjectStoreTest : public ::testing::Test {
 protected:
  ObjectStore& store() { return factory_.store(); }
  Factory factory_;
};

using Factories = ::testing::Types<LocalFactory, MemoryFactory>;
TYPED_TEST_SUITE(ObjectStoreTest, Factories);

TYPED_TEST(ObjectStoreTest, WriteReadStat) {
  ObjectStore& s = this->store();
  ASSERT_TRUE(s.Write("a/b/c.txt", "hello").ok());
  EXPECT_EQ(s.Read("a/b/c.txt").value(), "hello");
  EXPECT_EQ(s.Read("/a//b/./c.txt").value(), "hello");
  auto info = s.Stat("a/b/c.txt");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->key, "a/b/c.txt");
  EXPECT_EQ(info->size, 5);
  EXPECT_GT(info->modification_time_millis, 0);
  ASSERT_TRUE(s.Write("a/b/c.txt", "replaced").ok());
  EXPECT_EQ(s.Read("a/b/c.txt").value(), "replaced");
}

TYPED_TEST(ObjectStoreTest, MissingObjects) {
  ObjectStore& s = this->store();
  EXPECT_EQ(s.Read("nope").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(s.Stat("nope").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(s.Delete("nope").code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(s.ReadRange("nope", 0, 1).status().code(), ErrorCode::kResourceDoesNotExist);
  auto listed = s.List("no/such/dir/");
  ASSERT_TRUE(listed.has_value());
  EXPECT_TRUE(listed->empty());
}

TYPED_TEST(ObjectStoreTest, ReadRange) {
  ObjectStore& s = this->store();
  ASSERT_TRUE(s.Write("r", "0123456789").ok());
  EXPECT_EQ(s.ReadRange("r", 2, 3).value(), "234");
  EXPECT_EQ(s.ReadRange("r", 8, 100).value(), "89");
  EXPECT_EQ(s.ReadRange("r", 10, 5).value(), "");
  EXPECT_EQ(s.ReadRange("r", 11, 1).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(s.ReadRange("r", -1, 1).status().code(), ErrorCode::kInvalidParameterValue);
}

TYPED_TEST(ObjectStoreTest, ListIsLexicographicWithSizes) {
  ObjectStore& s = this->store();
  for (std::string key : {"t/_delta_log/00000000000000000002.json", "t/_delta_log/00000000000000000000.json",
                          "t/_delta_log/00000000000000000001.checkpoint.parquet", "t/_delta_log/_sidecars/x.parquet",
                          "t/_delta_log/00000000000000000001.json", "t/part-0.parquet", "u/other"}) {
    ASSERT_TRUE(s.Write(key, key).ok());
  }
  auto all = s.List("t/_delta_log/");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(Keys(*all), (std::vector<std::string>{"t/_delta_log/00000000000000000000.json",
                                                  "t/_delta_log/00000000000000000001.checkpoint.parquet",
                                                  "t/_delta_log/00000000000000000001.json",
                                                  "t/_delta_log/00000000000000000002.json",
                                                  "t/_delta_log/_sidecars/x.parquet"}));
  EXPECT_EQ((*all)[0].size, static_cast<int64_t>(std::string("t/_delta_log/00000000000000000000.json").size()));

  auto flat = s.List("t/_delta_log/", ListOptions{.start_after = "", .recursive = false});
  ASSERT_TRUE(flat.has_value());
  EXPECT_EQ(flat->size(), 4u);

  auto from = s.List("t/_delta_log/", ListOptions{.start_after = "t/_delta_log/00000000000000000001", .recursive = false});
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(Keys(*from), (std::vector<std::string>{"t/_delta_log/00000000000000000001.checkpoint.parquet",
                                                   "t/_delta_log/00000000000000000001.json",
                                                   "t/_delta_log/00000000000000000002.json"}));

  // start_after inside and before a sub-folder, recursive: only later keys, whatever folder they are in.
  auto nested = s.List("t/", ListOptions{.start_after = "t/_delta_log/00000000000000000002.json", .recursive = true});
  ASSERT_TRUE(nested.has_value());
  EXPECT_EQ(Keys(*nested), (std::vector<std::string>{"t/_delta_log/_sidecars/x.parquet", "t/part-0.parquet"}));
  auto in_folder = s.List("t/", ListOptions{.start_after = "t/_delta_log/_sidecars/a", .recursive = true});
  ASSERT_TRUE(in_folder.has_value());
  EXPECT_EQ(Keys(*in_folder), (std::vector<std::string>{"t/_delta_log/_sidecars/x.parquet", "t/part-0.parquet"}));
  auto past_folder = s.List("t/", ListOptions{.start_after = "t/_delta_log/_sidecars/y", .recursive = true});
  ASSERT_TRUE(past_folder.has_value());
  EXPECT_EQ(Keys(*past_folder), (std::vector<std::string>{"t/part-0.parquet"}));

  auto partial = s.List("t/_delta_log/0000000000000000000");
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->size(), 4u);

  auto everything = s.List("");
  ASSERT_TRUE(everything.has_value());
  EXPECT_EQ(everything->size(), 7u);
  EXPECT_EQ(everything->back().key, "u/other");
}

TYPED_TEST(ObjectStoreTest, PutIfAbsentIsExclusive) {
  ObjectStore& s = this->store();
  ASSERT_TRUE(s.PutIfAbsent("log/0.json", "first").ok());
  Status second = s.PutIfAbsent("log/0.json", "second");
  EXPECT_EQ(second.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(s.Read("log/0.json").value(), "first");
}

TYPED_TEST(ObjectStoreTest, ConcurrentPutIfAbsentHasOneWinner) {
  ObjectStore& s = this->store();
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::atomic<int> losers{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Status st = s.PutIfAbsent("log/1.json", "writer " + std::to_string(i));
      if (st.ok()) winners++;
      else if (st.code() == ErrorCode::kAlreadyExists) losers++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(losers.load(), kThreads - 1);
  EXPECT_TRUE(s.Read("log/1.json").value().starts_with("writer "));
}

TYPED_TEST(ObjectStoreTest, DeleteAndRename) {
  ObjectStore& s = this->store();
  ASSERT_TRUE(s.Write("a", "1").ok());
  ASSERT_TRUE(s.Write("b", "2").ok());
  EXPECT_EQ(s.Rename("a", "b", /*overwrite=*/false).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(s.Read("a").value(), "1");
  ASSERT_TRUE(s.Rename("a", "dir/c", false).ok());
  EXPECT_EQ(s.Read("dir/c").value(), "1");
  EXPECT_EQ(s.Read("a").status().code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_TRUE(s.Rename("dir/c", "b", /*overwrite=*/true).ok());
  EXPECT_EQ(s.Read("b").value(), "1");
  EXPECT_EQ(s.Rename("missing", "x", false).code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_TRUE(s.Delete("b").ok());
  EXPECT_EQ(s.Read("b").status().code(), ErrorCode::kResourceDoesNotExist);
}

TYPED_TEST(ObjectStoreTest, KeysCannotEscapeRoot) {
  ObjectStore& s = this->store();
  for (std::string bad : {std::string("../escape"), std::string("a/../../escape"), std::string(".."), std::string("a\0b", 3)}) {
    EXPECT_EQ(s.Write(bad, "x").code(), ErrorCode::kInvalidParameterValue) << bad;
    EXPECT_EQ(s.PutIfAbsent(bad, "x").code(), ErrorCode::kInvalidParameterValue) << bad;
    EXPECT_EQ(s.Read(bad).status().code(), ErrorCode::kInvalidParameterValue) << bad;
    EXPECT_EQ(s.Delete(bad).code(), ErrorCode::kInvalidParameterValue) << bad;
    EXPECT_EQ(s.Rename("a", bad, true).code(), ErrorCode::kInvalidParameterValue) << bad;
  }
  EXPECT_FALSE(s.List("../").has_value());
  // An encoded traversal is just a file name inside the store.
  ASSERT_TRUE(s.Write("%2e%2e/%2e%2e/x", "literal").ok());
  EXPECT_EQ(s.Read("%2e%2e/%2e%2e/x").value(), "literal");
}

TYPED_TEST(ObjectStoreTest, BinaryDataRoundTrips) {
  ObjectStore& s = this->store();
  std::string data("\0\x01\xff\n", 4);
  ASSERT_TRUE(s.Write("bin", data).ok());
  EXPECT_EQ(s.Read("bin").value(), data);
}

TEST(LocalObjectStoreTest, RootMustBeAbsolute) {
  EXPECT_FALSE(LocalObjectStore::Create("relative/root").has_value());
}

TEST(LocalObjectStoreTest, MissingRootWithoutCreate) {
  TempDir dir;
  auto store = LocalObjectStore::Create(dir.path() + "/missing", /*create_root=*/false);
  EXPECT_EQ(store.status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST(LocalObjectStoreTest, FilesLandUnderRootAndTempFilesAreHidden) {
  TempDir dir;
  auto store = LocalObjectStore::Create(dir.path()).value();
  ASSERT_TRUE(store->Write("x/y.json", "{}").ok());
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/x/y.json"));
  EXPECT_EQ(store->LocalPath("x/y.json").value(), dir.path() + "/x/y.json");
  EXPECT_FALSE(store->LocalPath("../y").has_value());
  // A leftover temp file from a crashed writer is not an object.
  { std::FILE* f = std::fopen((dir.path() + "/x/.tarn-tmp-1-0-y.json").c_str(), "w"); std::fclose(f); }
  auto listed = store->List("x/").value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "x/y.json");
  // No temp files remain after successful writes.
  ASSERT_TRUE(store->PutIfAbsent("x/z.json", "1").ok());
  EXPECT_FALSE(store->PutIfAbsent("x/z.json", "2").ok());
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/x")) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 3);  // y.json, z.json and the planted temp file
}

// Entries of a directory, hidden ones included.
std::vector<std::string> DirectoryEntries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// Both put-if-absent paths: the O_TMPFILE one (default) and the named temp file (forced, as on file systems without
// O_TMPFILE).
class LocalPutIfAbsentTest : public ::testing::TestWithParam<bool> {
 protected:
  std::unique_ptr<LocalObjectStore> Open() {
    return LocalObjectStore::Create(dir_.path() + "/root", true, LocalObjectStoreOptions{.use_tmpfile = GetParam()})
        .value();
  }
  TempDir dir_;
};

TEST_P(LocalPutIfAbsentTest, WinnerKeepsItsContentAndNoTempFileRemains) {
  auto store = Open();
  ASSERT_TRUE(store->PutIfAbsent("t/_delta_log/00.json", "first\n").ok());
  Status lost = store->PutIfAbsent("t/_delta_log/00.json", "second, longer\n");
  EXPECT_EQ(lost.code(), ErrorCode::kAlreadyExists) << lost.ToString();
  EXPECT_EQ(store->Read("t/_delta_log/00.json").value(), "first\n");
  ASSERT_TRUE(store->PutIfAbsent("t/_delta_log/01.json", "").ok());  // empty objects too
  EXPECT_EQ(store->Read("t/_delta_log/01.json").value(), "");
  EXPECT_EQ(DirectoryEntries(dir_.path() + "/root/t/_delta_log"), (std::vector<std::string>{"00.json", "01.json"}));
  struct stat st;
  ASSERT_EQ(::stat((dir_.path() + "/root/t/_delta_log/00.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_P(LocalPutIfAbsentTest, ReadersSeeNoFileOrTheWholeFile) {
  auto store = Open();
  const std::string big(8 << 20, 'a');  // large enough that a partial file would be observable
  std::atomic<bool> done{false};
  std::atomic<int> partial{0};
  std::atomic<int> complete{0};
  std::thread reader([&] {
    while (!done.load()) {
      for (int i = 0; i < 4; ++i) {
        auto read = store->Read("log/" + std::to_string(i) + ".json");
        if (!read.has_value()) continue;
        if (read->size() == big.size()) {
          complete.fetch_add(1);
        } else {
          partial.fetch_add(1);
        }
      }
    }
  });
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store->PutIfAbsent("log/" + std::to_string(i) + ".json", big).ok());
  done.store(true);
  reader.join();
  EXPECT_EQ(partial.load(), 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(store->Read("log/" + std::to_string(i) + ".json").value(), big);
}

TEST_P(LocalPutIfAbsentTest, ConcurrentWritersFromManyThreadsHaveOneWinnerPerKey) {
  auto store = Open();
  constexpr int kThreads = 8;
  constexpr int kKeys = 20;
  std::vector<std::vector<int>> won(kKeys);
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kKeys; ++k) {
        Status st = store->PutIfAbsent("log/" + std::to_string(k) + ".json", "writer " + std::to_string(t));
        if (st.ok()) {
          std::lock_guard lock(mu);
          won[k].push_back(t);
        } else {
          EXPECT_EQ(st.code(), ErrorCode::kAlreadyExists) << st.ToString();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int k = 0; k < kKeys; ++k) {
    ASSERT_EQ(won[k].size(), 1u) << "key " << k;
    EXPECT_EQ(store->Read("log/" + std::to_string(k) + ".json").value(), "writer " + std::to_string(won[k][0]));
  }
  EXPECT_EQ(DirectoryEntries(dir_.path() + "/root/log").size(), static_cast<size_t>(kKeys));
}

TEST_P(LocalPutIfAbsentTest, SyncedWritesCreateAndReplaceWithoutTempFiles) {
  auto store = Open();
  ASSERT_TRUE(store->Write("t/_delta_log/10.checkpoint.parquet", "checkpoint v1").ok());  // new object
  EXPECT_EQ(store->Read("t/_delta_log/10.checkpoint.parquet").value(), "checkpoint v1");
  ASSERT_TRUE(store->Write("t/_delta_log/10.checkpoint.parquet", "v2").ok());  // replaced in place
  EXPECT_EQ(store->Read("t/_delta_log/10.checkpoint.parquet").value(), "v2");
  ASSERT_TRUE(store->Write("t/_delta_log/_last_checkpoint", "{}", WriteOptions{.sync = false}).ok());
  ASSERT_TRUE(store->Write("t/_delta_log/_last_checkpoint", "{\"version\":10}", WriteOptions{.sync = false}).ok());
  EXPECT_EQ(store->Read("t/_delta_log/_last_checkpoint").value(), "{\"version\":10}");
  EXPECT_EQ(DirectoryEntries(dir_.path() + "/root/t/_delta_log"),
            (std::vector<std::string>{"10.checkpoint.parquet", "_last_checkpoint"}));
  // A synced write where a directory has the name fails without side effects.
  std::filesystem::create_directories(dir_.path() + "/root/t/dir");
  EXPECT_FALSE(store->Write("t/dir", "x").ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir_.path() + "/root/t/dir"));
}

INSTANTIATE_TEST_SUITE_P(Paths, LocalPutIfAbsentTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Tmpfile") : std::string("NamedTemp");
                         });

TEST(LocalObjectStoreTest, ReportsModificationTime) {
  TempDir dir;
  auto store = LocalObjectStore::Create(dir.path()).value();
  ASSERT_TRUE(store->Write("f", "1").ok());
  struct timespec times[2] = {{1000, 0}, {1234, 567000000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir.path() + "/f").c_str(), times, 0), 0);
  EXPECT_EQ(store->Stat("f")->modification_time_millis, 1234567);
  EXPECT_EQ(store->List("f").value().at(0).modification_time_millis, 1234567);
}

TEST(InMemoryObjectStoreTest, TestingClockAndModificationTime) {
  InMemoryObjectStore store;
  store.TestingSetClock([] { return int64_t{42}; });
  ASSERT_TRUE(store.Write("a", "1").ok());
  EXPECT_EQ(store.Stat("a")->modification_time_millis, 42);
  ASSERT_TRUE(store.TestingSetModificationTime("a", 7).ok());
  EXPECT_EQ(store.Stat("a")->modification_time_millis, 7);
  EXPECT_EQ(store.TestingSetModificationTime("b", 7).code(), ErrorCode::kResourceDoesNotExist);
}

}  // namespace
}  // namespace tarn::storage
