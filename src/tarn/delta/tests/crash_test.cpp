// SPDX-License-Identifier: Apache-2.0
// Crash safety with real processes: a writer process (delta_crash_writer) is killed with SIGKILL at random moments;
// the table must load at (at least) its last acknowledged version, every version must be complete, every referenced
// file must exist with its full content, and a restarted writer must continue. Two concurrent writer processes must
// never lose a commit.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/log_segment.hpp"
#include "tarn/delta/tests/crash_test_files.hpp"
#include "tarn/delta/tests/write_test_table.hpp"
#include "tarn/storage/local_object_store.hpp"

#ifndef TARN_CRASH_WRITER
#error "TARN_CRASH_WRITER must name the delta_crash_writer executable"
#endif

namespace tarn::delta {
namespace {

struct Ack {
  int64_t version = 0;
  std::string path;
  int64_t size = 0;
};

// One running writer process with its stdout as a line stream.
class WriterProcess {
 public:
  WriterProcess(const std::string& root, const std::string& id, int commits, int checkpoint_interval) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    std::string commits_arg = std::to_string(commits);
    std::string interval_arg = std::to_string(checkpoint_interval);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      const char* args[] = {TARN_CRASH_WRITER, root.c_str(), id.c_str(), commits_arg.c_str(), interval_arg.c_str(),
                            nullptr};
      ::execv(TARN_CRASH_WRITER, const_cast<char* const*>(args));
      std::perror("execv delta_crash_writer");
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = ::fdopen(fds[0], "r");
  }
  ~WriterProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
    if (out_ != nullptr) std::fclose(out_);
  }
  bool started() const { return pid_ > 0 && out_ != nullptr; }

  // Reads the next acknowledgement; false at end of output (the process exited or was killed).
  bool Next(Ack& ack) {
    char* line = nullptr;
    size_t capacity = 0;
    for (;;) {
      ssize_t n = ::getline(&line, &capacity, out_);
      if (n <= 0) break;
      std::string text(line, static_cast<size_t>(n));
      if (text.back() != '\n') break;  // a partial line cannot happen (one write per line), but never trust it
      std::istringstream in(text);
      std::string word;
      in >> word >> ack.version >> ack.path >> ack.size;
      if (word == "committed" && !in.fail()) {
        std::free(line);
        acks_.push_back(ack);
        return true;
      }
    }
    std::free(line);
    return false;
  }
  void Kill() { ::kill(pid_, SIGKILL); }
  // Reaps the process; returns its exit status as waitpid reports it.
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return status;
  }
  const std::vector<Ack>& acks() const { return acks_; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  bool reaped_ = false;
  std::vector<Ack> acks_;
};

class DeltaCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tarn-delta-crash-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    store_ = storage::LocalObjectStore::Create(root_, false).value();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  SnapshotPtr LoadLatest() {
    DeltaLog log(*store_, "", testing::ReaderOptions(reader_));
    auto snapshot = log.LoadLatest();
    EXPECT_TRUE(snapshot.has_value()) << snapshot.status().ToString();
    return snapshot.has_value() ? *snapshot : nullptr;
  }

  // Checks every version from 0 to `latest`: it loads, its files exist with the content the writer wrote, and each
  // version adds exactly the files of the versions before plus its own.
  void VerifyEveryVersion(int64_t latest) {
    DeltaLog log(*store_, "", testing::ReaderOptions(reader_));
    size_t previous_files = 0;
    for (int64_t version = 0; version <= latest; ++version) {
      auto snapshot = log.LoadAtVersion(version);
      ASSERT_TRUE(snapshot.has_value()) << "version " << version << ": " << snapshot.status().ToString();
      size_t files = (*snapshot)->active_files().size();
      EXPECT_EQ(files, version == 0 ? 0u : previous_files + 1) << "version " << version;
      previous_files = files;
    }
  }

  void VerifyFiles(const Snapshot& snapshot) {
    for (const FileEntry& file : snapshot.active_files()) {
      std::string path(file.path);
      auto data = store_->Read(path);
      ASSERT_TRUE(data.has_value()) << "version " << snapshot.version() << " references missing file " << path;
      EXPECT_EQ(*data, testing::CrashTestFileContent(path)) << path;
      EXPECT_EQ(file.size, static_cast<int64_t>(data->size())) << path;
    }
  }

  // Only log files (and the hint) are visible in _delta_log: no temp or partial files.
  void VerifyLogListing() {
    auto listed = store_->List("_delta_log/");
    ASSERT_TRUE(listed.has_value());
    for (const storage::ObjectInfo& info : *listed) {
      bool known = ParseLogFileName(info).has_value() || info.key == "_delta_log/_last_checkpoint";
      EXPECT_TRUE(known) << "unexpected object visible in the log: " << info.key;
    }
    // Commits write an unnamed O_TMPFILE inode and link it: a killed writer leaves no temp file of a commit on disk
    // (the named temp files of the fallback path would be ".tarn-tmp-<pid>-<n>-<20 digits>.json").
    for (const auto& entry : std::filesystem::directory_iterator(root_ + "/_delta_log")) {
      std::string name = entry.path().filename();
      if (!name.starts_with(".tarn-tmp-") || !name.ends_with(".json") || name.size() < 25) continue;
      std::string final_name = name.substr(name.size() - 25);
      bool commit =
          std::all_of(final_name.begin(), final_name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; });
      EXPECT_FALSE(commit) << "a commit's temp file was left behind: " << name;
    }
  }

  std::string root_;
  std::unique_ptr<storage::LocalObjectStore> store_;
  testing::JsonCheckpointReader reader_;
};

TEST_F(DeltaCrashTest, KillNineAtRandomMomentsLeavesTheLastCommittedVersion) {
  std::random_device device;
  const unsigned seed = device();
  std::mt19937 random(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::set<std::string> acked_paths;
  int64_t acked_max = -1;
  int kills = 0;
  for (int round = 0; round < 6; ++round) {
    WriterProcess writer(root_, "w", /*commits=*/0, /*checkpoint_interval=*/4);
    ASSERT_TRUE(writer.started());
    // Let it acknowledge a random number of commits, then kill it a random few milliseconds later (mid-commit,
    // mid-checkpoint or between commits).
    const int wait_for = std::uniform_int_distribution<int>(1, 25)(random);
    Ack ack;
    int seen = 0;
    while (seen < wait_for && writer.Next(ack)) ++seen;
    ASSERT_EQ(seen, wait_for) << "the writer stopped early in round " << round;
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 20000)(random)));
    writer.Kill();
    while (writer.Next(ack)) {
    }
    int status = writer.Wait();
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << "writer failed in round " << round << " with status " << status;
    ++kills;
    for (const Ack& a : writer.acks()) {
      EXPECT_GT(a.version, acked_max) << "versions must increase across restarts";
      acked_max = std::max(acked_max, a.version);
      acked_paths.insert(a.path);
    }

    SnapshotPtr snapshot = LoadLatest();
    ASSERT_NE(snapshot, nullptr);
    // Every acknowledged commit is there; at most the one commit in flight at each kill may have landed unacknowledged.
    EXPECT_GE(snapshot->version(), acked_max);
    std::set<std::string> live;
    for (const FileEntry& file : snapshot->active_files()) live.emplace(file.path);
    for (const std::string& path : acked_paths) EXPECT_TRUE(live.count(path)) << "lost acknowledged commit " << path;
    EXPECT_LE(live.size(), acked_paths.size() + static_cast<size_t>(kills));
    EXPECT_EQ(static_cast<int64_t>(live.size()), snapshot->version()) << "one file per commit after the create";
    VerifyFiles(*snapshot);
    VerifyLogListing();
    acked_max = snapshot->version();  // an unacknowledged commit that landed is committed: the next must follow it
    for (const FileEntry& file : snapshot->active_files()) acked_paths.emplace(file.path);
  }
  VerifyEveryVersion(acked_max);

  // A restarted writer continues from the last version and finishes normally.
  WriterProcess writer(root_, "final", /*commits=*/5, /*checkpoint_interval=*/4);
  ASSERT_TRUE(writer.started());
  Ack ack;
  while (writer.Next(ack)) {
  }
  int status = writer.Wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  ASSERT_EQ(writer.acks().size(), 5u);
  EXPECT_EQ(writer.acks().front().version, acked_max + 1);
  EXPECT_EQ(writer.acks().back().version, acked_max + 5);
  SnapshotPtr final_snapshot = LoadLatest();
  ASSERT_NE(final_snapshot, nullptr);
  EXPECT_EQ(final_snapshot->version(), acked_max + 5);
  VerifyFiles(*final_snapshot);
  VerifyLogListing();
}

TEST_F(DeltaCrashTest, TwoWriterProcessesNeverLoseACommit) {
  constexpr int kCommitsEach = 40;
  WriterProcess a(root_, "a", kCommitsEach, /*checkpoint_interval=*/5);
  WriterProcess b(root_, "b", kCommitsEach, /*checkpoint_interval=*/5);
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(b.started());
  // Drain both outputs concurrently so neither blocks on a full pipe.
  std::thread drain_b([&b] {
    Ack ack;
    while (b.Next(ack)) {
    }
  });
  Ack ack;
  while (a.Next(ack)) {
  }
  drain_b.join();
  int status_a = a.Wait();
  int status_b = b.Wait();
  ASSERT_TRUE(WIFEXITED(status_a) && WEXITSTATUS(status_a) == 0) << "writer a status " << status_a;
  ASSERT_TRUE(WIFEXITED(status_b) && WEXITSTATUS(status_b) == 0) << "writer b status " << status_b;
  ASSERT_EQ(a.acks().size(), static_cast<size_t>(kCommitsEach));
  ASSERT_EQ(b.acks().size(), static_cast<size_t>(kCommitsEach));
  std::map<int64_t, std::string> by_version;
  for (const auto* acks : {&a.acks(), &b.acks()}) {
    for (const Ack& entry : *acks) {
      EXPECT_TRUE(by_version.emplace(entry.version, entry.path).second)
          << "version " << entry.version << " acknowledged twice";
    }
  }
  SnapshotPtr snapshot = LoadLatest();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->version(), 2 * kCommitsEach);
  EXPECT_EQ(by_version.begin()->first, 1);
  EXPECT_EQ(by_version.rbegin()->first, 2 * kCommitsEach);
  std::set<std::string> live;
  for (const FileEntry& file : snapshot->active_files()) live.emplace(file.path);
  EXPECT_EQ(live.size(), static_cast<size_t>(2 * kCommitsEach));
  for (const auto& [version, path] : by_version) EXPECT_TRUE(live.count(path)) << "lost commit " << version;
  VerifyFiles(*snapshot);
  VerifyEveryVersion(snapshot->version());
  VerifyLogListing();
}

}  // namespace
}  // namespace tarn::delta
