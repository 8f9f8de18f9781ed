// SPDX-License-Identifier: Apache-2.0
// LocalObjectStore: POSIX implementation with atomic replace, put-if-absent by linking (O_TMPFILE + linkat) and fsync.
#include "tarn/storage/local_object_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "tarn/storage/storage_path.hpp"

namespace tarn::storage {
namespace {

constexpr std::string_view kTempPrefix = ".tarn-tmp-";

Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  ErrorCode code = ErrorCode::kIoError;
  if (err == ENOENT || err == ENOTDIR) code = ErrorCode::kResourceDoesNotExist;
  if (err == EEXIST) code = ErrorCode::kAlreadyExists;
  if (err == EACCES || err == EPERM) code = ErrorCode::kPermissionDenied;
  return Error(code, "{} failed for {}: {}", what, path, std::strerror(err));
}

// Closes a file descriptor on scope exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

int64_t MtimeMillis(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status MakeDirectories(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return Error(ErrorCode::kIoError, "not a directory: {}", dir);
  }
  if (dir != "/") TARN_RETURN_IF_ERROR(MakeDirectories(ParentOf(dir)));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus(errno, "mkdir", dir);
  return Status::OK();
}

Status SyncDirectory(const std::string& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open directory", dir);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync directory", dir);
  return Status::OK();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    written += static_cast<size_t>(n);
  }
  return Status::OK();
}

std::string TempPathFor(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  std::string dir = ParentOf(path);
  return fmt::format("{}/{}{}-{}-{}", dir, kTempPrefix, ::getpid(), counter.fetch_add(1), path.substr(dir.size() + 1));
}

// Writes `data` to a fresh temp file next to `path`; syncs it when asked. Returns the temp path.
Result<std::string> WriteTempFile(const std::string& path, std::string_view data, bool sync) {
  TARN_RETURN_IF_ERROR(MakeDirectories(ParentOf(path)));
  std::string temp = TempPathFor(path);
  FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus(errno, "create", temp);
  Status st = WriteAll(fd.get(), data, temp);
  if (st.ok() && sync && ::fsync(fd.get()) != 0) st = ErrnoStatus(errno, "fsync", temp);
  if (!st.ok()) {
    ::unlink(temp.c_str());
    return st;
  }
  return temp;
}

Status ListDirectory(const std::string& dir_path, const std::string& dir_key, std::string_view prefix,
                     const ListOptions& options, std::vector<ObjectInfo>& out) {
  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
    return ErrnoStatus(errno, "opendir", dir_path);
  }
  std::vector<std::pair<std::string, unsigned char>> names;  // name, d_type
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name.starts_with(kTempPrefix)) continue;
    names.emplace_back(name, entry->d_type);
  }
  ::closedir(dir);
  const std::string& start_after = options.start_after;
  for (const auto& [name, type] : names) {
    std::string key = dir_key + name;
    // Decide from the name (and d_type) first: only entries that can be listed or descended into are stat'ed, so a
    // listing with start_after costs O(entries after it) system calls.
    bool maybe_file = key.starts_with(prefix) && (start_after.empty() || key > start_after);
    std::string sub_key = key + "/";
    bool maybe_dir = (sub_key.starts_with(prefix) ? options.recursive : std::string_view(prefix).starts_with(sub_key)) &&
                     (start_after.empty() || sub_key > start_after || start_after.starts_with(sub_key));
    if (!maybe_file && !maybe_dir) continue;
    if (type == DT_REG && !maybe_file) continue;
    if (type == DT_DIR && !maybe_dir) continue;
    std::string path = dir_path + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;  // deleted while listing
    if (S_ISDIR(st.st_mode)) {
      if (maybe_dir) TARN_RETURN_IF_ERROR(ListDirectory(path, sub_key, prefix, options, out));
      continue;
    }
    if (!S_ISREG(st.st_mode) || !key.starts_with(prefix)) continue;
    if (!options.start_after.empty() && key <= options.start_after) continue;
    out.push_back(ObjectInfo{std::move(key), static_cast<int64_t>(st.st_size), MtimeMillis(st)});
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Create(std::string root, bool create_root,
                                                                   LocalObjectStoreOptions options) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeAbsolutePath(root));
  if (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  if (create_root) {
    TARN_RETURN_IF_ERROR(MakeDirectories(normalized));
  } else {
    struct stat st;
    if (::stat(normalized.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Error(ErrorCode::kResourceDoesNotExist, "store root is not a directory: {}", normalized);
    }
  }
  return std::unique_ptr<LocalObjectStore>(new LocalObjectStore(std::move(normalized), options));
}

Result<std::string> LocalObjectStore::PathOf(std::string_view key) const {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  return root_ == "/" ? "/" + normalized : root_ + "/" + normalized;
}

std::optional<std::string> LocalObjectStore::LocalPath(std::string_view key) const {
  auto path = PathOf(key);
  if (!path.has_value()) return std::nullopt;
  return std::move(path).value();
}

Result<std::vector<ObjectInfo>> LocalObjectStore::List(std::string_view prefix, const ListOptions& options) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectPrefix(prefix));
  // Start at the deepest directory the prefix names completely.
  size_t slash = normalized.rfind('/');
  std::string dir_key = slash == std::string::npos ? "" : normalized.substr(0, slash + 1);
  std::string dir_path = root_;
  if (!dir_key.empty()) {
    dir_path += '/';
    dir_path.append(dir_key, 0, dir_key.size() - 1);
  }
  std::vector<ObjectInfo> out;
  TARN_RETURN_IF_ERROR(ListDirectory(dir_path, dir_key, normalized, options, out));
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Result<std::string> LocalObjectStore::Read(std::string_view key) {
  TARN_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (S_ISDIR(st.st_mode)) return Error(ErrorCode::kResourceDoesNotExist, "not a file: {}", path);
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;  // truncated concurrently
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

Result<std::string> LocalObjectStore::ReadRange(std::string_view key, int64_t offset, int64_t length) {
  if (offset < 0 || length < 0) return Error(ErrorCode::kInvalidParameterValue, "negative range for {}", key);
  TARN_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (offset > st.st_size) {
    return Error(ErrorCode::kInvalidParameterValue, "range offset {} is past the end of {} ({} bytes)", offset, key,
                 static_cast<int64_t>(st.st_size));
  }
  std::string data;
  data.resize(static_cast<size_t>(std::min<int64_t>(length, st.st_size - offset)));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

Status LocalObjectStore::AppendRange(std::string_view key, int64_t offset, int64_t length, std::string& out) {
  if (offset < 0 || length < 0) return Error(ErrorCode::kInvalidParameterValue, "negative range for {}", key);
  TARN_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (offset > st.st_size) {
    return Error(ErrorCode::kInvalidParameterValue, "range offset {} is past the end of {} ({} bytes)", offset, key,
                 static_cast<int64_t>(st.st_size));
  }
  const size_t start = out.size();
  const size_t wanted = static_cast<size_t>(std::min<int64_t>(length, st.st_size - offset));
  out.resize(start + wanted);  // reuses the caller's capacity: no fresh pages per piece
  size_t done = 0;
  while (done < wanted) {
    ssize_t n = ::pread(fd.get(), out.data() + start + done, wanted - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      out.resize(start);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(start + done);
  return Status::OK();
}

Result<ObjectInfo> LocalObjectStore::Stat(std::string_view key) {
  TARN_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) return Error(ErrorCode::kResourceDoesNotExist, "not a file: {}", path);
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeObjectKey(key));
  return ObjectInfo{std::move(normalized), static_cast<int64_t>(st.st_size), MtimeMillis(st)};
}

Status LocalObjectStore::Write(std::string_view key, std::string_view data, const WriteOptions& options) {
  TARN_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  struct stat existing;
  if (options.sync && use_tmpfile_ && !tmpfile_unsupported_.load(std::memory_order_relaxed) &&
      ::stat(path.c_str(), &existing) != 0 && errno == ENOENT) {
    // A new object (checkpoints, data files): link an unnamed inode as PutIfAbsent does, which needs no temp name
    // and leaves no temp file after a crash. If another writer created it meanwhile, replace it by rename below.
    TARN_RETURN_IF_ERROR(MakeDirectories(ParentOf(path)));
    std::optional<Status> done = PutIfAbsentViaTmpfile(path, key, data);
    if (done && done->code() != ErrorCode::kAlreadyExists) return *done;
  }
  TARN_ASSIGN_OR_RETURN(std::string temp, WriteTempFile(path, data, options.sync));
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return ErrnoStatus(err, "rename", path);
  }
  if (options.sync) TARN_RETURN_IF_ERROR(SyncDirectory(ParentOf(path)));
  return Status::OK();
}

Status LocalObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  TARN_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  if (use_tmpfile_ && !tmpfile_unsupported_.load(std::memory_order_relaxed)) {
    TARN_RETURN_IF_ERROR(MakeDirectories(ParentOf(path)));
    std::optional<Status> done = PutIfAbsentViaTmpfile(path, key, data);
    if (done) return *done;
  }
  TARN_ASSIGN_OR_RETURN(std::string temp, WriteTempFile(path, data, /*sync=*/true));
  if (::link(temp.c_str(), path.c_str()) == 0) {
    ::unlink(temp.c_str());
    return SyncDirectory(ParentOf(path));
  }
  int err = errno;
  ::unlink(temp.c_str());
  if (err == EEXIST) return Error(ErrorCode::kAlreadyExists, "object already exists: {}", key);
  if (err != EPERM && err != ENOTSUP && err != EOPNOTSUPP && err != EXDEV && err != EMLINK) {
    return ErrnoStatus(err, "link", path);
  }
  // No hard links on this filesystem: O_EXCL still gives mutual exclusion (readers may briefly see a partial file).
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    if (errno == EEXIST) return Error(ErrorCode::kAlreadyExists, "object already exists: {}", key);
    return ErrnoStatus(errno, "create", path);
  }
  Status st = WriteAll(fd.get(), data, path);
  if (st.ok() && ::fsync(fd.get()) != 0) st = ErrnoStatus(errno, "fsync", path);
  if (!st.ok()) {
    ::unlink(path.c_str());
    return st;
  }
  return SyncDirectory(ParentOf(path));
}

std::optional<Status> LocalObjectStore::PutIfAbsentViaTmpfile(const std::string& path, std::string_view key,
                                                               std::string_view data) {
  const std::string dir = ParentOf(path);
  FileDescriptor fd(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    // Kernels or file systems without O_TMPFILE: use the named temp file from now on.
    if (errno == EOPNOTSUPP || errno == ENOTSUP || errno == EISDIR || errno == EINVAL) {
      tmpfile_unsupported_.store(true, std::memory_order_relaxed);
      return std::nullopt;
    }
    return ErrnoStatus(errno, "create", dir);
  }
  TARN_RETURN_IF_ERROR(WriteAll(fd.get(), data, path));
  // Write the data (allocating its blocks) before the name exists: whatever makes the link durable (a journal commit,
  // ours or another process's) then also holds the allocation and size, so a crash leaves no file or the whole file.
  if (::sync_file_range(fd.get(), 0, 0,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
    if (::fdatasync(fd.get()) != 0) return ErrnoStatus(errno, "fdatasync", path);
  }
  // The anonymous inode gets its name atomically and only if the name is free (put-if-absent). /proc/self/fd works
  // without privileges; AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH on older kernels.
  std::string proc_path = fmt::format("/proc/self/fd/{}", fd.get());
  int rc = ::linkat(AT_FDCWD, proc_path.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW);
  if (rc != 0 && errno == ENOENT) rc = ::linkat(fd.get(), "", AT_FDCWD, path.c_str(), AT_EMPTY_PATH);
  if (rc != 0) {
    int err = errno;
    if (err == EEXIST) return Error(ErrorCode::kAlreadyExists, "object already exists: {}", key);
    // No /proc and no privilege for AT_EMPTY_PATH, or no hard links: the named temp file path handles these (and
    // is used from now on when the cause is lasting).
    bool no_proc = err == ENOENT && ::access("/proc/self/fd", F_OK) != 0;
    if (no_proc || err == EPERM || err == EACCES || err == EOPNOTSUPP || err == ENOTSUP || err == EXDEV) {
      tmpfile_unsupported_.store(true, std::memory_order_relaxed);
      return std::nullopt;
    }
    if (err == ENOENT || err == EMLINK) return std::nullopt;
    return ErrnoStatus(err, "link", path);
  }
  // Both syncs must succeed before the commit counts as done. The file's fsync makes the inode with its new link
  // count durable (on journaling file systems it commits the transaction holding the new name as well, so the
  // directory's fsync then has nothing left to write).
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync", path);
  return SyncDirectory(dir);
}

Status LocalObjectStore::Delete(std::string_view key) {
  TARN_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Error(ErrorCode::kResourceDoesNotExist, "not a file: {}", key);
  }
  if (::unlink(path.c_str()) != 0) return ErrnoStatus(errno, "delete", path);
  return Status::OK();
}

Status LocalObjectStore::Rename(std::string_view from, std::string_view to, bool overwrite) {
  TARN_ASSIGN_OR_RETURN(std::string from_path, PathOf(from));
  TARN_ASSIGN_OR_RETURN(std::string to_path, PathOf(to));
  struct stat st;
  if (::stat(from_path.c_str(), &st) != 0) return ErrnoStatus(errno, "rename", from_path);
  TARN_RETURN_IF_ERROR(MakeDirectories(ParentOf(to_path)));
  if (overwrite) {
    if (::rename(from_path.c_str(), to_path.c_str()) != 0) return ErrnoStatus(errno, "rename", from_path);
  } else {
    // link + unlink never replaces an existing target.
    if (::link(from_path.c_str(), to_path.c_str()) != 0) {
      if (errno == EEXIST) return Error(ErrorCode::kAlreadyExists, "object already exists: {}", to);
      return ErrnoStatus(errno, "link", to_path);
    }
    if (::unlink(from_path.c_str()) != 0) return ErrnoStatus(errno, "unlink", from_path);
  }
  TARN_RETURN_IF_ERROR(SyncDirectory(ParentOf(to_path)));
  if (ParentOf(to_path) != ParentOf(from_path)) TARN_RETURN_IF_ERROR(SyncDirectory(ParentOf(from_path)));
  return Status::OK();
}

}  // namespace tarn::storage
