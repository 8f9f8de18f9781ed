// SPDX-License-Identifier: Apache-2.0
// DbfsFileSystem: POSIX *at() calls walked from a root descriptor with O_NOFOLLOW, staged uploads and capped deletes.
#include "tarn/storage/dbfs_file_system.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <utility>

#include "tarn/base/crypto.hpp"
#include "tarn/storage/direct_file_writer.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::storage {
namespace {

constexpr std::string_view kReservedPrefix = ".tarn-tmp-";
constexpr char kStagingDirName[] = ".tarn-tmp-uploads";
// Upload bytes written between two writeback kicks (sync_file_range) of the staging file.
constexpr int64_t kWritebackBytes = 8 << 20;

// Closes a file descriptor on scope exit.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

// The stat of an entry, or nullopt when it does not exist.
using MaybeStat = std::optional<struct stat>;

int64_t MtimeMillis(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

Status IoError(int err, std::string_view what, std::string_view path) {
  return Error(ErrorCode::kIoError, "{} failed for {}: {}", what, path, std::strerror(err));
}

Status SymlinkError(std::string_view path) {
  return Error(ErrorCode::kPermissionDenied, "Path {} is or runs through a symbolic link; links are not followed",
               path);
}

Status NotFound(std::string_view path) {
  return Error(ErrorCode::kResourceDoesNotExist, "No file or directory exists on path {}.", path);
}

std::vector<std::string> Components(std::string_view normalized) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start < normalized.size()) {
    size_t slash = normalized.find('/', start);
    if (slash == std::string_view::npos) slash = normalized.size();
    parts.emplace_back(normalized.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

std::string JoinPath(const std::vector<std::string>& parts, size_t count) {
  if (count == 0) return "/";
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    out += '/';
    out += parts[i];
  }
  return out;
}

DbfsFileInfo InfoFromStat(std::string path, const struct stat& st) {
  bool is_dir = S_ISDIR(st.st_mode);
  return DbfsFileInfo{std::move(path), is_dir, is_dir ? 0 : static_cast<int64_t>(st.st_size), MtimeMillis(st)};
}

enum class WalkMode { kExisting, kCreate };

// Opens directory `parts[0..count)` below `root_fd`, one component at a time with O_NOFOLLOW. kCreate makes
// missing directories. Errors: kResourceDoesNotExist (missing, or a file on the chain when not creating),
// kResourceAlreadyExists (a file on the chain when creating), kPermissionDenied (a symbolic link).
Result<Fd> WalkDirectories(int root_fd, const std::vector<std::string>& parts, size_t count, WalkMode mode) {
  Fd current(::dup(root_fd));
  if (!current.valid()) return IoError(errno, "dup", "/");
  for (size_t i = 0; i < count; ++i) {
    const std::string& name = parts[i];
    for (int attempt = 0;; ++attempt) {
      int fd = ::openat(current.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0) {
        current = Fd(fd);
        break;
      }
      int err = errno;
      std::string here = JoinPath(parts, i + 1);
      if (err == ENOENT && mode == WalkMode::kCreate && attempt < 3) {
        if (::mkdirat(current.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
          return IoError(errno, "mkdir", here);
        }
        continue;
      }
      if (err == ENOENT) return NotFound(here);
      if (err == ELOOP || err == ENOTDIR) {
        struct stat st;
        if (::fstatat(current.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
          return SymlinkError(here);
        }
        if (mode == WalkMode::kCreate) {
          return Error(ErrorCode::kResourceAlreadyExists, "A file exists at {}, so it cannot be a directory.", here);
        }
        return NotFound(JoinPath(parts, parts.size()));
      }
      return IoError(err, "open directory", here);
    }
  }
  return current;
}

// The entry `name` in directory `dir_fd`, not following links; nullopt when missing.
Result<MaybeStat> StatEntry(int dir_fd, const std::string& name, std::string_view path) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return MaybeStat(st);
  if (errno == ENOENT) return MaybeStat();
  return IoError(errno, "stat", path);
}

// What a listing needs of one directory entry (not following links); `error` is 0 or the errno of the stat.
struct EntryStat {
  int error = 0;
  mode_t mode = 0;
  int64_t size = 0;
  int64_t mtime_millis = 0;
};

constexpr unsigned kStatMask = STATX_TYPE | STATX_SIZE | STATX_MTIME;
constexpr int kStatFlags = AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC;
// Listings of at least this many entries stat through io_uring; smaller ones with one statx each.
constexpr size_t kMinRingEntries = 64;
// Statx requests in flight on a ring at once (the completion queue holds twice as many, so it never overflows).
constexpr unsigned kStatRingEntries = 1024;
// Entries a listing stats ahead of the caller (bounds its statx buffers to 1 MiB whatever the directory size).
constexpr size_t kStatWindow = 4096;
// Listing scratch buffers kept for reuse, and the largest (in bytes) worth keeping.
constexpr size_t kMaxPooledScratch = 4;
constexpr size_t kMaxPooledScratchBytes = 64 << 20;

EntryStat FromStatx(const struct statx& st) {
  return EntryStat{0, static_cast<mode_t>(st.stx_mode), static_cast<int64_t>(st.stx_size),
                   static_cast<int64_t>(st.stx_mtime.tv_sec) * 1000 + st.stx_mtime.tv_nsec / 1000000};
}

// An io_uring for statx batches, set up on first use (nullptr from Get: not available).
class StatRing {
 public:
  StatRing() = default;
  StatRing(const StatRing&) = delete;
  StatRing& operator=(const StatRing&) = delete;
  ~StatRing() { Reset(); }
  struct io_uring* Get() {
    if (state_ == State::kUnset) {
      state_ = io_uring_queue_init(kStatRingEntries, &ring_, 0) == 0 ? State::kReady : State::kUnavailable;
    }
    return state_ == State::kReady ? &ring_ : nullptr;
  }
  /// After a failure: requests left on the submission queue must never run for a later listing, so the ring is
  /// closed (the next Get sets up a new one).
  void Reset() {
    if (state_ == State::kReady) io_uring_queue_exit(&ring_);
    if (state_ != State::kUnavailable) state_ = State::kUnset;
  }

 private:
  enum class State { kUnset, kReady, kUnavailable };
  State state_ = State::kUnset;
  struct io_uring ring_;
};

// A name of a directory being listed: its first eight bytes as a big-endian number (zero-padded) and where it lies
// in the name buffer. Sorting on `key` first settles most comparisons without touching the names.
struct SortedName {
  uint64_t key;
  uint32_t offset;
  uint32_t length;
};

// The buffers of one listing: names (each NUL-terminated, so statx takes them as they are), their sort order, the
// statx window and its ring. Pooled by the file system, so listing a large directory again does not fault in fresh
// memory or set up a new ring.
struct ListingScratch {
  std::string text;
  std::vector<SortedName> names;
  std::vector<struct statx> raw;  // kStatWindow slots; entry i uses slot i % kStatWindow
  std::vector<EntryStat> stats;   // same slots
  std::vector<uint8_t> slot_state;
  StatRing ring;
  size_t bytes() const {
    return text.capacity() + names.capacity() * sizeof(SortedName) + raw.capacity() * sizeof(struct statx) +
           stats.capacity() * sizeof(EntryStat) + slot_state.capacity();
  }
};

class ScratchPool {
 public:
  std::unique_ptr<ListingScratch> Take() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        std::unique_ptr<ListingScratch> scratch = std::move(free_.back());
        free_.pop_back();
        return scratch;
      }
    }
    return std::make_unique<ListingScratch>();
  }
  void Give(std::unique_ptr<ListingScratch> scratch) {
    if (scratch->bytes() > kMaxPooledScratchBytes) return;
    std::lock_guard lock(mu_);
    if (free_.size() < kMaxPooledScratch) free_.push_back(std::move(scratch));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<ListingScratch>> free_;
};

uint64_t NameKey(std::string_view name) {
  uint64_t key = 0;
  for (size_t i = 0; i < 8; ++i) {
    key = (key << 8) | (i < name.size() ? static_cast<unsigned char>(name[i]) : 0u);
  }
  return key;
}

// Calls `on_name` (returning Status) for each name in an open directory, without ".", ".." and reserved names,
// in directory order; stops at the first error.
template <typename OnName>
Status ForEachDirectoryName(int dir_fd, std::string_view path, OnName&& on_name) {
  int copy = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return IoError(errno, "open directory", path);
  DIR* dir = ::fdopendir(copy);
  if (dir == nullptr) {
    int err = errno;
    ::close(copy);
    return IoError(err, "opendir", path);
  }
  Status status = Status::OK();
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name.starts_with(kReservedPrefix)) continue;
    status = on_name(name);
    if (!status.ok()) break;
  }
  ::closedir(dir);
  return status;
}

// Reads the names of an open directory (without ".", ".." and reserved names) into `scratch`, sorted bytewise.
Status ReadSortedNames(int dir_fd, std::string_view path, ListingScratch& scratch) {
  scratch.text.clear();
  scratch.names.clear();
  TARN_RETURN_IF_ERROR(ForEachDirectoryName(dir_fd, path, [&](std::string_view name) -> Status {
    if (scratch.text.size() + name.size() + 1 > std::numeric_limits<uint32_t>::max()) {
      return Error(ErrorCode::kIoError, "directory {} has too many entries to list", path);
    }
    scratch.names.push_back(
        SortedName{NameKey(name), static_cast<uint32_t>(scratch.text.size()), static_cast<uint32_t>(name.size())});
    scratch.text.append(name.data(), name.size() + 1);  // with its NUL
    return Status::OK();
  }));
  const char* text = scratch.text.data();
  std::sort(scratch.names.begin(), scratch.names.end(), [text](const SortedName& a, const SortedName& b) {
    if (a.key != b.key) return a.key < b.key;
    // Equal keys: the first eight bytes (or the whole shorter name) agree.
    size_t skip = std::min<size_t>(8, std::min(a.length, b.length));
    return std::string_view(text + a.offset + skip, a.length - skip) <
           std::string_view(text + b.offset + skip, b.length - skip);
  });
  return Status::OK();
}

// A listing of a directory (or of one file) read in name order. Entries [0, end) of the sorted names are handed out
// from `next_`; with read-ahead, statx requests for up to kStatWindow entries past `next_` stay submitted to the
// ring so the kernel stats the next batch while the caller works on the current one.
class ListingImpl final : public DbfsListing {
 public:
  // A listing of one file: the file itself.
  explicit ListingImpl(DbfsFileInfo file) : file_(std::move(file)) {}
  ListingImpl(std::string prefix, Fd dir, std::unique_ptr<ListingScratch> scratch, ScratchPool& pool, bool read_ahead)
      : prefix_(std::move(prefix)),
        dir_(std::move(dir)),
        scratch_(std::move(scratch)),
        pool_(&pool),
        read_ahead_(read_ahead) {
    end_ = scratch_->names.size();
    scratch_->raw.resize(kStatWindow);
    scratch_->stats.resize(kStatWindow);
    scratch_->slot_state.assign(kStatWindow, kSlotIdle);
    if (end_ >= kMinRingEntries) ring_ = scratch_->ring.Get();
  }

  ~ListingImpl() override {
    if (!scratch_) return;
    // The kernel writes into `raw` until every accepted request completed.
    if (ring_ != nullptr) {
      while (reaped_ < accepted_) {
        struct io_uring_cqe* cqe;
        int rc = io_uring_wait_cqe(ring_, &cqe);
        if (rc < 0 && rc != -EINTR) break;
        Reap();
      }
      // Requests still queued or lost would run for the next user of the ring: drop the ring instead.
      if (reaped_ != accepted_ || accepted_ != prepared_) scratch_->ring.Reset();
    }
    if (pool_ != nullptr) pool_->Give(std::move(scratch_));
  }

  const std::string& prefix() const override { return prefix_; }

  /// Skips the names that sort at or before `name`.
  void SkipThrough(std::string_view name) {
    if (file_) return;
    const char* text = scratch_->text.data();
    auto it = std::upper_bound(scratch_->names.begin(), scratch_->names.end(), name,
                               [text](std::string_view value, const SortedName& entry) {
                                 return value < std::string_view(text + entry.offset, entry.length);
                               });
    next_ = submitted_ = static_cast<size_t>(it - scratch_->names.begin());
  }

  Result<bool> Next(size_t max_entries, std::vector<DbfsListedEntry>& out) override {
    out.clear();
    if (file_) {
      if (!file_done_) {
        file_done_ = true;
        out.push_back(DbfsListedEntry{file_->path, file_->is_dir, file_->size, file_->modification_time_millis});
      }
      return false;
    }
    size_t target = std::min(end_, next_ + std::max<size_t>(max_entries, 1));
    if (target - next_ > kStatWindow) target = next_ + kStatWindow;
    StatThrough(target);
    const char* text = scratch_->text.data();
    for (; next_ < target; ++next_) {
      size_t slot = next_ % kStatWindow;
      const EntryStat& st = scratch_->stats[slot];
      scratch_->slot_state[slot] = kSlotIdle;
      const SortedName& name = scratch_->names[next_];
      if (st.error == ENOENT) continue;  // removed since the scan
      if (st.error != 0) {
        ++next_;
        return IoError(st.error, "stat", prefix_ + std::string(text + name.offset, name.length));
      }
      if (!(S_ISDIR(st.mode) || S_ISREG(st.mode))) continue;  // links and special files stay hidden
      bool is_dir = S_ISDIR(st.mode);
      out.push_back(DbfsListedEntry{std::string_view(text + name.offset, name.length), is_dir, is_dir ? 0 : st.size,
                                    st.mtime_millis});
    }
    // Keep the kernel busy with the next entries while the caller works on these.
    if (read_ahead_ && ring_ != nullptr) Submit(std::min(end_, next_ + kStatWindow), /*wait=*/false);
    return next_ < end_;
  }

 private:
  static constexpr uint8_t kSlotIdle = 0;     // no request for the entry in this slot
  static constexpr uint8_t kSlotPending = 1;  // statx submitted (or queued) for it
  static constexpr uint8_t kSlotDone = 2;     // stats[slot] holds its result

  // Makes sure entries [next_, target) have their stats.
  void StatThrough(size_t target) {
    if (ring_ != nullptr) {
      while (true) {
        Submit(read_ahead_ ? std::min(end_, next_ + kStatWindow) : target, /*wait=*/false);
        Reap();
        if (ring_ == nullptr || AllDone(target)) break;
        if (reaped_ < accepted_) {
          struct io_uring_cqe* cqe;
          int rc = io_uring_wait_cqe(ring_, &cqe);
          if (rc < 0 && rc != -EINTR) Fail();
        }
      }
    }
    // Without a ring (small listing, io_uring unavailable or failed): one statx each.
    for (size_t i = next_; i < target; ++i) {
      size_t slot = i % kStatWindow;
      if (scratch_->slot_state[slot] == kSlotDone) continue;
      const SortedName& name = scratch_->names[i];
      struct statx& raw = scratch_->raw[slot];
      bool ok = ::statx(dir_.get(), scratch_->text.data() + name.offset, kStatFlags, kStatMask, &raw) == 0;
      scratch_->stats[slot] = ok ? FromStatx(raw) : EntryStat{errno};
      scratch_->slot_state[slot] = kSlotDone;
    }
    if (submitted_ < target) submitted_ = target;
  }

  bool AllDone(size_t target) {
    done_through_ = std::max(done_through_, next_);
    while (done_through_ < target && scratch_->slot_state[done_through_ % kStatWindow] == kSlotDone) {
      ++done_through_;
    }
    return done_through_ >= target;
  }

  // Queues statx requests up to entry `limit` (at most kStatRingEntries in flight) and submits them.
  void Submit(size_t limit, bool wait) {
    if (ring_ == nullptr) return;
    bool queued = false;
    while (submitted_ < limit && prepared_ - reaped_ < kStatRingEntries) {
      struct io_uring_sqe* sqe = io_uring_get_sqe(ring_);
      if (sqe == nullptr) break;
      size_t slot = submitted_ % kStatWindow;
      const SortedName& name = scratch_->names[submitted_];
      io_uring_prep_statx(sqe, dir_.get(), scratch_->text.data() + name.offset, kStatFlags, kStatMask,
                          &scratch_->raw[slot]);
      io_uring_sqe_set_data64(sqe, submitted_);
      scratch_->slot_state[slot] = kSlotPending;
      ++submitted_;
      ++prepared_;
      queued = true;
    }
    if (!queued && accepted_ == prepared_) return;
    int rc = wait ? io_uring_submit_and_wait(ring_, 1) : io_uring_submit(ring_);
    if (rc > 0) accepted_ += static_cast<size_t>(rc);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) Fail();
  }

  void Reap() {
    if (ring_ == nullptr) return;
    struct io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(ring_, head, cqe) {
      size_t index = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
      size_t slot = index % kStatWindow;
      scratch_->stats[slot] = cqe->res < 0 ? EntryStat{-cqe->res} : FromStatx(scratch_->raw[slot]);
      scratch_->slot_state[slot] = kSlotDone;
      ++seen;
    }
    io_uring_cq_advance(ring_, seen);
    reaped_ += seen;
  }

  // A ring failure: wait for what the kernel already took (it writes into `raw`), then go on without the ring;
  // entries whose requests never ran are stat'ed one by one.
  void Fail() {
    while (reaped_ < accepted_) {
      struct io_uring_cqe* cqe;
      int rc = io_uring_wait_cqe(ring_, &cqe);
      if (rc < 0 && rc != -EINTR) break;
      Reap();
    }
    for (size_t i = next_; i < submitted_; ++i) {
      uint8_t& state = scratch_->slot_state[i % kStatWindow];
      if (state == kSlotPending) state = kSlotIdle;
    }
    scratch_->ring.Reset();
    ring_ = nullptr;
    reaped_ = accepted_ = prepared_ = 0;
  }

  std::optional<DbfsFileInfo> file_;
  bool file_done_ = false;
  std::string prefix_;
  Fd dir_;
  std::unique_ptr<ListingScratch> scratch_;
  ScratchPool* pool_ = nullptr;
  bool read_ahead_ = false;
  struct io_uring* ring_ = nullptr;
  size_t end_ = 0;
  size_t next_ = 0;          // the next entry to hand out
  size_t submitted_ = 0;     // entries before this one have a request or a result
  size_t done_through_ = 0;  // entries before this one have results
  size_t prepared_ = 0;      // requests placed on the submission queue
  size_t accepted_ = 0;      // requests the kernel took
  size_t reaped_ = 0;        // completions seen
};

// The names in an open directory, without ".", ".." and reserved names.
Result<std::vector<std::string>> ReadDirectoryNames(int dir_fd, std::string_view path) {
  std::vector<std::string> names;
  TARN_RETURN_IF_ERROR(ForEachDirectoryName(dir_fd, path, [&](std::string_view name) {
    names.emplace_back(name);
    return Status::OK();
  }));
  std::sort(names.begin(), names.end());
  return names;
}

class FileReaderImpl final : public DbfsFileReader {
 public:
  FileReaderImpl(Fd fd, int64_t size, int64_t mtime, std::string path)
      : fd_(std::move(fd)), size_(size), mtime_(mtime), path_(std::move(path)) {}
  int64_t size() const override { return size_; }
  int64_t modification_time_millis() const override { return mtime_; }
  int native_handle() const override { return fd_.get(); }

  Result<std::string> ReadAt(int64_t offset, int64_t length) override {
    if (offset < 0 || length < 0) return Error(ErrorCode::kInvalidParameterValue, "negative read range");
    if (offset >= size_) return std::string();
    std::string data;
    data.resize(static_cast<size_t>(std::min(length, size_ - offset)));
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pread(fd_.get(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError(errno, "read", path_);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    data.resize(done);
    return data;
  }

 private:
  Fd fd_;
  int64_t size_;
  int64_t mtime_;
  std::string path_;
};

}  // namespace

struct DbfsFileSystem::State {
  Fd root_fd;
  Fd staging_fd;
  ScratchPool scratch_pool;
};

namespace {

class UploadImpl final : public DbfsUpload {
 public:
  UploadImpl(int root_fd, int staging_fd, Fd fd, std::string staging_name, bool direct)
      : root_fd_(root_fd), staging_fd_(staging_fd), fd_(std::move(fd)), staging_name_(std::move(staging_name)),
        writer_(fd_.get(), direct, "staging file") {}
  ~UploadImpl() override {
    if (!committed_) ::unlinkat(staging_fd_, staging_name_.c_str(), 0);
  }

  Status Append(std::string_view data) override {
    if (committed_) return Error(ErrorCode::kInvalidState, "The upload is already closed.");
    TARN_RETURN_IF_ERROR(writer_.Append(data));
    size_ += static_cast<int64_t>(data.size());
    KickWriteback();
    return Status::OK();
  }

  int64_t size() const override { return size_; }

  Result<int> WritableDescriptor() override {
    if (committed_) return Error(ErrorCode::kInvalidState, "The upload is already closed.");
    if (writer_.direct()) TARN_RETURN_IF_ERROR(writer_.Finish());
    return fd_.get();
  }

  void Appended(int64_t bytes) override {
    size_ += bytes;
    KickWriteback();
  }

  Status Commit(std::string_view path, bool overwrite) override {
    if (committed_) return Error(ErrorCode::kInvalidState, "The upload is already closed.");
    TARN_ASSIGN_OR_RETURN(std::string normalized, DbfsFileSystem::NormalizePath(path));
    if (normalized == "/") return Error(ErrorCode::kInvalidParameterValue, "Cannot write a file at the root.");
    std::vector<std::string> parts = Components(normalized);
    TARN_ASSIGN_OR_RETURN(Fd parent, WalkDirectories(root_fd_, parts, parts.size() - 1, WalkMode::kCreate));
    const std::string& leaf = parts.back();
    TARN_ASSIGN_OR_RETURN(MaybeStat existing, StatEntry(parent.get(), leaf, normalized));
    if (existing && S_ISDIR(existing->st_mode)) {
      return Error(ErrorCode::kResourceAlreadyExists, "A directory already exists at {}.", normalized);
    }
    if (existing && !overwrite) {
      return Error(ErrorCode::kResourceAlreadyExists, "A file or directory already exists at {}.", normalized);
    }
    if (!finished_) {
      TARN_RETURN_IF_ERROR(writer_.Finish());
      finished_ = true;
    }
    if (::fsync(fd_.get()) != 0) return IoError(errno, "fsync", normalized);
    // A symbolic link at the target is replaced as a name (rename never follows it).
    int rc = ::renameat2(staging_fd_, staging_name_.c_str(), parent.get(), leaf.c_str(),
                         overwrite ? 0 : RENAME_NOREPLACE);
    if (rc != 0 && errno == EINVAL && !overwrite) {
      // Filesystems without RENAME_NOREPLACE: link() never replaces an existing name either.
      rc = ::linkat(staging_fd_, staging_name_.c_str(), parent.get(), leaf.c_str(), 0);
      if (rc == 0) ::unlinkat(staging_fd_, staging_name_.c_str(), 0);
    }
    if (rc != 0) {
      int err = errno;
      if (err == EEXIST || err == ENOTEMPTY || err == EISDIR) {
        return Error(ErrorCode::kResourceAlreadyExists, "A file or directory already exists at {}.", normalized);
      }
      return IoError(err, "rename", normalized);
    }
    committed_ = true;
    ::fsync(parent.get());
    return Status::OK();
  }

 private:
  // Without O_DIRECT, starts writeback of what is written so far (without waiting), so a large upload reaches the
  // disk while it arrives and Commit's fsync has little left to do. Only a hint: failures show up at that fsync.
  void KickWriteback() {
    if (!writer_.direct() && size_ - flushed_ >= kWritebackBytes) {
      ::sync_file_range(fd_.get(), flushed_, size_ - flushed_, SYNC_FILE_RANGE_WRITE);
      flushed_ = size_;
    }
  }

  int root_fd_;
  int staging_fd_;
  Fd fd_;
  std::string staging_name_;
  // O_DIRECT staging where the file system takes it: no copy into the page cache and no writeback at commit.
  DirectFileWriter writer_;
  bool finished_ = false;  // writer_.Finish() done (a failed commit may be retried)
  int64_t size_ = 0;
  int64_t flushed_ = 0;  // bytes handed to writeback by sync_file_range
  bool committed_ = false;
};

// Removes the contents of directory `dir_fd` and then the entry `name` in `parent_fd`, counting entries against
// `budget`. Returns false when the budget ran out first.
Result<bool> RemoveTree(int parent_fd, const std::string& name, const std::string& path, int64_t& budget,
                        int64_t& deleted) {
  int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    return IoError(errno, "open directory", path);
  }
  Fd dir(fd);
  TARN_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadDirectoryNames(dir.get(), path));
  for (const std::string& child : names) {
    std::string child_path = path + "/" + child;
    TARN_ASSIGN_OR_RETURN(MaybeStat st, StatEntry(dir.get(), child, child_path));
    if (!st) continue;
    if (S_ISDIR(st->st_mode)) {
      TARN_ASSIGN_OR_RETURN(bool finished, RemoveTree(dir.get(), child, child_path, budget, deleted));
      if (!finished) return false;
      continue;
    }
    if (budget <= 0) return false;
    if (::unlinkat(dir.get(), child.c_str(), 0) != 0 && errno != ENOENT) return IoError(errno, "delete", child_path);
    --budget;
    ++deleted;
  }
  if (budget <= 0) return false;
  // Reserved entries (staging files of the object store) may remain; remove them with the directory.
  int reserved_dir = ::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (reserved_dir >= 0) {
    if (DIR* d = ::fdopendir(reserved_dir)) {
      std::vector<std::string> reserved;
      while (struct dirent* entry = ::readdir(d)) {
        std::string_view entry_name = entry->d_name;
        if (entry_name.starts_with(kReservedPrefix)) reserved.emplace_back(entry_name);
      }
      ::closedir(d);
      for (const std::string& r : reserved) ::unlinkat(dir.get(), r.c_str(), 0);
    } else {
      ::close(reserved_dir);
    }
  }
  if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return IoError(errno, "delete directory", path);
  }
  --budget;
  ++deleted;
  return true;
}

}  // namespace

DbfsFileSystem::DbfsFileSystem(std::string root, std::unique_ptr<State> state)
    : root_(std::move(root)), state_(std::move(state)) {}

DbfsFileSystem::~DbfsFileSystem() = default;

Result<std::unique_ptr<DbfsFileSystem>> DbfsFileSystem::Open(std::string root) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeAbsolutePath(root));
  // mkdir -p of the root itself (the root is trusted, so plain paths are fine here).
  for (size_t slash = 1; slash != std::string::npos;) {
    slash = normalized.find('/', slash + 1);
    std::string prefix = normalized.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return IoError(errno, "mkdir", prefix);
  }
  auto state = std::make_unique<State>();
  state->root_fd = Fd(::open(normalized.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!state->root_fd.valid()) return IoError(errno, "open", normalized);
  if (::mkdirat(state->root_fd.get(), kStagingDirName, 0700) != 0 && errno != EEXIST) {
    return IoError(errno, "mkdir", kStagingDirName);
  }
  state->staging_fd =
      Fd(::openat(state->root_fd.get(), kStagingDirName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!state->staging_fd.valid()) return IoError(errno, "open", kStagingDirName);
  // Uploads never finished by an earlier process are garbage now.
  if (int copy = ::openat(state->staging_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); copy >= 0) {
    if (DIR* dir = ::fdopendir(copy)) {
      std::vector<std::string> stale;
      while (struct dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") stale.emplace_back(name);
      }
      ::closedir(dir);
      for (const std::string& name : stale) ::unlinkat(state->staging_fd.get(), name.c_str(), 0);
    } else {
      ::close(copy);
    }
  }
  return std::unique_ptr<DbfsFileSystem>(new DbfsFileSystem(std::move(normalized), std::move(state)));
}

Result<std::string> DbfsFileSystem::NormalizePath(std::string_view path) {
  if (path.starts_with("dbfs:")) path.remove_prefix(5);
  if (path.empty()) return Error(ErrorCode::kInvalidParameterValue, "Path must not be empty.");
  if (path.find('\0') != std::string_view::npos) {
    return Error(ErrorCode::kInvalidParameterValue, "Path must not contain NUL bytes.");
  }
  if (path.front() != '/') return Error(ErrorCode::kInvalidParameterValue, "Path must be absolute: {}", path);
  std::string key;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return Error(ErrorCode::kInvalidParameterValue, "Path must not contain '..' segments: {}", path);
    }
    if (part.starts_with(kReservedPrefix)) {
      return Error(ErrorCode::kInvalidParameterValue, "Names starting with '{}' are reserved: {}", kReservedPrefix,
                   path);
    }
    if (!key.empty()) key += '/';
    key.append(part);
  }
  if (key.empty()) return std::string("/");
  // The storage module's key rules are the single definition of a safe relative key.
  TARN_ASSIGN_OR_RETURN(std::string checked, NormalizeObjectKey(key));
  return "/" + checked;
}

Result<DbfsFileInfo> DbfsFileSystem::GetStatus(std::string_view path) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizePath(path));
  std::vector<std::string> parts = Components(normalized);
  if (parts.empty()) {
    struct stat st;
    if (::fstat(state_->root_fd.get(), &st) != 0) return IoError(errno, "stat", "/");
    return InfoFromStat("/", st);
  }
  TARN_ASSIGN_OR_RETURN(Fd parent, WalkDirectories(state_->root_fd.get(), parts, parts.size() - 1,
                                                   WalkMode::kExisting));
  TARN_ASSIGN_OR_RETURN(MaybeStat st, StatEntry(parent.get(), parts.back(), normalized));
  if (!st) return NotFound(normalized);
  if (S_ISLNK(st->st_mode)) return SymlinkError(normalized);
  if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode)) return NotFound(normalized);
  return InfoFromStat(normalized, *st);
}

namespace {

// The listing of `info` (a file: the file itself; a directory: its names read and sorted now).
Result<std::unique_ptr<ListingImpl>> OpenListingOf(int root_fd, ScratchPool& pool, DbfsFileInfo info,
                                                   bool read_ahead) {
  if (!info.is_dir) return std::make_unique<ListingImpl>(std::move(info));
  std::vector<std::string> parts = Components(info.path);
  TARN_ASSIGN_OR_RETURN(Fd dir, WalkDirectories(root_fd, parts, parts.size(), WalkMode::kExisting));
  std::unique_ptr<ListingScratch> scratch = pool.Take();
  Status read = ReadSortedNames(dir.get(), info.path, *scratch);
  if (!read.ok()) {
    pool.Give(std::move(scratch));
    return read;
  }
  std::string prefix = info.path == "/" ? "/" : info.path + "/";
  return std::make_unique<ListingImpl>(std::move(prefix), std::move(dir), std::move(scratch), pool, read_ahead);
}

}  // namespace

Result<std::unique_ptr<DbfsListing>> DbfsFileSystem::OpenListing(std::string_view path) {
  TARN_ASSIGN_OR_RETURN(DbfsFileInfo info, GetStatus(path));
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<ListingImpl> listing,
                        OpenListingOf(state_->root_fd.get(), state_->scratch_pool, std::move(info), true));
  return std::unique_ptr<DbfsListing>(std::move(listing));
}

Result<std::vector<DbfsFileInfo>> DbfsFileSystem::List(std::string_view path) {
  TARN_ASSIGN_OR_RETURN(DbfsListPage page, ListPage(path, {}, 0));
  return std::move(page.entries);
}

Result<DbfsListPage> DbfsFileSystem::ListPage(std::string_view path, std::string_view start_after,
                                              size_t max_entries) {
  // Without read-ahead only what the page needs (plus one entry, for has_more) is stat'ed.
  TARN_ASSIGN_OR_RETURN(DbfsFileInfo info, GetStatus(path));
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<ListingImpl> listing,
                        OpenListingOf(state_->root_fd.get(), state_->scratch_pool, std::move(info),
                                      /*read_ahead=*/max_entries == 0));
  if (!start_after.empty()) listing->SkipThrough(start_after);
  DbfsListPage page;
  std::vector<DbfsListedEntry> batch;
  bool more = true;
  while (more && !page.has_more) {
    size_t want = max_entries == 0 ? kStatWindow : max_entries - page.entries.size() + 1;
    TARN_ASSIGN_OR_RETURN(more, listing->Next(want, batch));
    for (const DbfsListedEntry& entry : batch) {
      if (max_entries != 0 && page.entries.size() == max_entries) {
        page.has_more = true;
        break;
      }
      page.entries.push_back(DbfsFileInfo{listing->prefix() + std::string(entry.name), entry.is_dir, entry.size,
                                          entry.modification_time_millis});
    }
  }
  return page;
}

Status DbfsFileSystem::MakeDirectories(std::string_view path) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizePath(path));
  std::vector<std::string> parts = Components(normalized);
  return WalkDirectories(state_->root_fd.get(), parts, parts.size(), WalkMode::kCreate).status();
}

Result<int64_t> DbfsFileSystem::Delete(std::string_view path, bool recursive, int64_t max_entries) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizePath(path));
  std::vector<std::string> parts = Components(normalized);
  if (parts.empty()) return Error(ErrorCode::kInvalidParameterValue, "Cannot delete the root directory.");
  auto parent = WalkDirectories(state_->root_fd.get(), parts, parts.size() - 1, WalkMode::kExisting);
  if (!parent.has_value()) {
    if (parent.error().code() == ErrorCode::kResourceDoesNotExist) return int64_t{0};
    return parent.error();
  }
  const std::string& leaf = parts.back();
  TARN_ASSIGN_OR_RETURN(MaybeStat st, StatEntry(parent->get(), leaf, normalized));
  if (!st) return int64_t{0};
  if (!S_ISDIR(st->st_mode)) {
    if (::unlinkat(parent->get(), leaf.c_str(), 0) != 0 && errno != ENOENT) {
      return IoError(errno, "delete", normalized);
    }
    return int64_t{1};
  }
  if (!recursive) {
    TARN_RETURN_IF_ERROR(DeleteEmptyDirectory(normalized));
    return int64_t{1};
  }
  int64_t budget = std::max<int64_t>(1, max_entries);
  int64_t deleted = 0;
  TARN_ASSIGN_OR_RETURN(bool finished, RemoveTree(parent->get(), leaf, normalized, budget, deleted));
  if (!finished) {
    return Error(ErrorCode::kPartialDelete,
                 "The requested operation has deleted {} files. There are more files remaining. You must make "
                 "another request to delete more.",
                 deleted);
  }
  return deleted;
}

Status DbfsFileSystem::DeleteFile(std::string_view path) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizePath(path));
  std::vector<std::string> parts = Components(normalized);
  if (parts.empty()) return Error(ErrorCode::kInvalidParameterValue, "The root is a directory.");
  TARN_ASSIGN_OR_RETURN(Fd parent, WalkDirectories(state_->root_fd.get(), parts, parts.size() - 1,
                                                   WalkMode::kExisting));
  TARN_ASSIGN_OR_RETURN(MaybeStat st, StatEntry(parent.get(), parts.back(), normalized));
  if (!st) return NotFound(normalized);
  if (S_ISDIR(st->st_mode)) return Error(ErrorCode::kInvalidParameterValue, "Path {} is a directory.", normalized);
  if (::unlinkat(parent.get(), parts.back().c_str(), 0) != 0) {
    if (errno == ENOENT) return NotFound(normalized);
    return IoError(errno, "delete", normalized);
  }
  return Status::OK();
}

Status DbfsFileSystem::DeleteEmptyDirectory(std::string_view path) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizePath(path));
  std::vector<std::string> parts = Components(normalized);
  if (parts.empty()) return Error(ErrorCode::kInvalidParameterValue, "Cannot delete the root directory.");
  TARN_ASSIGN_OR_RETURN(Fd parent, WalkDirectories(state_->root_fd.get(), parts, parts.size() - 1,
                                                   WalkMode::kExisting));
  TARN_ASSIGN_OR_RETURN(MaybeStat st, StatEntry(parent.get(), parts.back(), normalized));
  if (!st) return NotFound(normalized);
  if (!S_ISDIR(st->st_mode)) return Error(ErrorCode::kInvalidParameterValue, "Path {} is not a directory.", normalized);
  if (::unlinkat(parent.get(), parts.back().c_str(), AT_REMOVEDIR) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST) {
      return Error(ErrorCode::kDirectoryNotEmpty, "Directory {} is not empty; delete it with recursive=true.",
                   normalized);
    }
    if (errno == ENOENT) return NotFound(normalized);
    return IoError(errno, "delete directory", normalized);
  }
  return Status::OK();
}

Status DbfsFileSystem::Move(std::string_view from, std::string_view to) {
  TARN_ASSIGN_OR_RETURN(std::string source, NormalizePath(from));
  TARN_ASSIGN_OR_RETURN(std::string destination, NormalizePath(to));
  if (source == "/" || destination == "/") {
    return Error(ErrorCode::kInvalidParameterValue, "Cannot move the root directory or onto it.");
  }
  TARN_RETURN_IF_ERROR(GetStatus(source).status());
  if (source == destination || destination.starts_with(source + "/")) {
    return Error(ErrorCode::kInvalidParameterValue, "Cannot move {} into itself ({}).", source, destination);
  }
  std::vector<std::string> from_parts = Components(source);
  std::vector<std::string> to_parts = Components(destination);
  TARN_ASSIGN_OR_RETURN(Fd from_parent, WalkDirectories(state_->root_fd.get(), from_parts, from_parts.size() - 1,
                                                         WalkMode::kExisting));
  // Check before creating the destination's parents, so a refused move leaves no directories behind.
  auto existing = GetStatus(destination);
  if (existing.has_value()) {
    return Error(ErrorCode::kResourceAlreadyExists, "A file or directory already exists at {}.", destination);
  }
  if (existing.error().code() != ErrorCode::kResourceDoesNotExist) return existing.error();
  TARN_ASSIGN_OR_RETURN(Fd to_parent, WalkDirectories(state_->root_fd.get(), to_parts, to_parts.size() - 1,
                                                      WalkMode::kCreate));
  int rc = ::renameat2(from_parent.get(), from_parts.back().c_str(), to_parent.get(), to_parts.back().c_str(),
                       RENAME_NOREPLACE);
  if (rc != 0 && errno == EINVAL) {
    // No RENAME_NOREPLACE on this filesystem: the existence check above has to do.
    rc = ::renameat(from_parent.get(), from_parts.back().c_str(), to_parent.get(), to_parts.back().c_str());
  }
  if (rc != 0) {
    int err = errno;
    if (err == EEXIST || err == ENOTEMPTY) {
      return Error(ErrorCode::kResourceAlreadyExists, "A file or directory already exists at {}.", destination);
    }
    if (err == ENOENT) return NotFound(source);
    return IoError(err, "rename", source);
  }
  return Status::OK();
}

Result<std::unique_ptr<DbfsFileReader>> DbfsFileSystem::OpenFile(std::string_view path) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizePath(path));
  std::vector<std::string> parts = Components(normalized);
  if (parts.empty()) return Error(ErrorCode::kInvalidParameterValue, "Path / is a directory.");
  TARN_ASSIGN_OR_RETURN(Fd parent, WalkDirectories(state_->root_fd.get(), parts, parts.size() - 1,
                                                   WalkMode::kExisting));
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
  int fd = ::openat(parent.get(), parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFound(normalized);
    if (err == ELOOP) return SymlinkError(normalized);
    return IoError(err, "open", normalized);
  }
  Fd file(fd);
  struct stat st;
  if (::fstat(file.get(), &st) != 0) return IoError(errno, "stat", normalized);
  if (S_ISDIR(st.st_mode)) return Error(ErrorCode::kInvalidParameterValue, "Path {} is a directory.", normalized);
  if (!S_ISREG(st.st_mode)) return NotFound(normalized);
  return std::unique_ptr<DbfsFileReader>(
      new FileReaderImpl(std::move(file), static_cast<int64_t>(st.st_size), MtimeMillis(st), normalized));
}

Result<std::unique_ptr<DbfsUpload>> DbfsFileSystem::StartUpload() {
  std::string name = std::string(kReservedPrefix) + RandomHex(12);
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  // O_DIRECT where the file system takes it (not tmpfs): large uploads skip the page-cache copy.
  bool direct = false;
  int fd = OpenMaybeDirect(state_->staging_fd.get(), name.c_str(), kFlags, 0644, direct);
  if (fd < 0) return IoError(errno, "create", "staging file");
  return std::unique_ptr<DbfsUpload>(
      new UploadImpl(state_->root_fd.get(), state_->staging_fd.get(), Fd(fd), std::move(name), direct));
}

}  // namespace tarn::storage
