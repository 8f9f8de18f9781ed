// SPDX-License-Identifier: Apache-2.0
// DataDir implementation: mkdir -p, flock-based ownership, 0600 token file.
#include "tarn/server/data_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace tarn::server {
namespace {

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot create directory {}: {}", path, ec.message());
  if (!std::filesystem::is_directory(path, ec)) return Error(ErrorCode::kIoError, "not a directory: {}", path);
  return Status::OK();
}

Status WriteFileAtomically(const std::string& path, const std::string& contents, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error(ErrorCode::kIoError, "cannot write {}: {}", tmp, std::strerror(errno));
  ::fchmod(fd, mode);  // umask must not widen or narrow the mode
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error(ErrorCode::kIoError, "cannot write {}: {}", tmp, std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Error(ErrorCode::kIoError, "cannot sync {}: {}", tmp, std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error(ErrorCode::kIoError, "cannot rename {} to {}: {}", tmp, path, std::strerror(errno));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<DataDir>> DataDir::Open(const std::string& path) {
  if (path.empty()) return Error(ErrorCode::kInvalidParameterValue, "data directory must not be empty");
  std::error_code ec;
  std::string root = std::filesystem::absolute(path, ec).lexically_normal().string();
  if (ec) return Error(ErrorCode::kIoError, "bad data directory {}: {}", path, ec.message());
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  TARN_RETURN_IF_ERROR(MakeDirs(root));
  if (::access(root.c_str(), W_OK | X_OK) != 0) {
    return Error(ErrorCode::kIoError, "data directory is not writable: {}", root);
  }

  std::string lock_path = root + "/tarn.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error(ErrorCode::kIoError, "data directory is not writable: {}: {}", root, std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Error(ErrorCode::kInvalidState, "data directory {} is in use by another tarn process (pid {})", root, pid);
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    ::close(fd);
    return Error(ErrorCode::kIoError, "data directory is not writable: {}", root);
  }
  auto dir = std::unique_ptr<DataDir>(new DataDir(root, fd));
  for (const auto& sub : {dir->DbfsRoot(), dir->WarehouseRoot(), dir->LogDir()}) {
    TARN_RETURN_IF_ERROR(MakeDirs(sub));
  }
  return dir;
}

DataDir::~DataDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

Status DataDir::WriteAdminToken(const std::string& token) const {
  return WriteFileAtomically(AdminTokenPath(), token + "\n", 0600);
}

}  // namespace tarn::server
