// SPDX-License-Identifier: Apache-2.0
// DirectFileWriter: an aligned gather buffer, O_DIRECT writes, a buffered tail and a plain-write fallback.
#include "tarn/storage/direct_file_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tarn::storage {

int OpenMaybeDirect(int dir_fd, const char* name, int flags, unsigned mode, bool& direct) {
  direct = true;
  int fd = ::openat(dir_fd, name, flags | O_DIRECT, mode);
  if (fd < 0 && errno == EINVAL) {
    direct = false;
    fd = ::openat(dir_fd, name, flags, mode);
  }
  return fd;
}

void DirectFileWriter::FreeDeleter::operator()(char* p) const { std::free(p); }

DirectFileWriter::DirectFileWriter(int fd, bool direct, std::string what)
    : fd_(fd), direct_(direct), what_(std::move(what)) {
  if (direct_) {
    buffer_.reset(static_cast<char*>(std::aligned_alloc(kAlignment, kBufferBytes)));
    if (!buffer_) (void)DisableDirect();  // if even this fails, the first write reports the error
  }
}

DirectFileWriter::~DirectFileWriter() = default;

Status DirectFileWriter::Append(std::string_view data) {
  size_ += static_cast<int64_t>(data.size());
  if (!direct_) return WriteAll(data);
  while (!data.empty()) {
    size_t n = std::min(data.size(), kBufferBytes - buffered_);
    std::memcpy(buffer_.get() + buffered_, data.data(), n);
    buffered_ += n;
    data.remove_prefix(n);
    if (buffered_ == kBufferBytes) TARN_RETURN_IF_ERROR(FlushBuffer());
  }
  return Status::OK();
}

Status DirectFileWriter::Finish() {
  if (!direct_) {
    if (buffered_ == 0) return Status::OK();
    Status status = WriteAll(std::string_view(buffer_.get(), buffered_));
    buffered_ = 0;
    return status;
  }
  size_t aligned = buffered_ / kAlignment * kAlignment;
  size_t tail = buffered_ - aligned;
  if (aligned > 0) {
    buffered_ = aligned;
    TARN_RETURN_IF_ERROR(FlushBuffer());
  }
  if (direct_) TARN_RETURN_IF_ERROR(DisableDirect());
  if (tail > 0) TARN_RETURN_IF_ERROR(WriteAll(std::string_view(buffer_.get() + aligned, tail)));
  buffered_ = 0;
  return Status::OK();
}

Status DirectFileWriter::WriteAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(ErrorCode::kIoError, "write failed for {}: {}", what_, std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status DirectFileWriter::DisableDirect() {
  direct_ = false;
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) {
    return Error(ErrorCode::kIoError, "fcntl failed for {}: {}", what_, std::strerror(errno));
  }
  return Status::OK();
}

// Writes the whole (aligned) buffer with O_DIRECT. A file system that refuses it (EINVAL before any byte) or a
// short write that leaves the offset unaligned switches to plain writes, which are only slower.
Status DirectFileWriter::FlushBuffer() {
  size_t done = 0;
  while (done < buffered_) {
    ssize_t n = ::write(fd_, buffer_.get() + done, buffered_ - done);
    if (n < 0 && errno == EINTR) continue;
    if ((n < 0 && errno == EINVAL && done == 0) || (n > 0 && (done + n) % kAlignment != 0)) {
      if (n > 0) done += static_cast<size_t>(n);
      TARN_RETURN_IF_ERROR(DisableDirect());
      TARN_RETURN_IF_ERROR(WriteAll(std::string_view(buffer_.get() + done, buffered_ - done)));
      break;
    }
    if (n < 0) return Error(ErrorCode::kIoError, "write failed for {}: {}", what_, std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  buffered_ = 0;
  return Status::OK();
}

}  // namespace tarn::storage
