// SPDX-License-Identifier: Apache-2.0
// DirectFileWriter: sequential writes of a new file that bypass the page cache (O_DIRECT) where the file system allows.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "tarn/base/result.hpp"

namespace tarn::storage {

/// Opens `name` relative to `dir_fd` (AT_FDCWD for plain paths) with `flags | O_DIRECT`, or with `flags` alone when
/// the file system refuses O_DIRECT (tmpfs). Sets `direct` to what was used. Returns the descriptor or -1 (errno).
int OpenMaybeDirect(int dir_fd, const char* name, int flags, unsigned mode, bool& direct);

/// Appends to a file from offset 0 through an aligned buffer: each full buffer is one O_DIRECT write (no copy into
/// the page cache and no writeback later, which on a VM disk is several times faster for large files), and Finish()
/// writes the unaligned tail through the page cache. Without O_DIRECT (`direct` false, or the file system refusing
/// an O_DIRECT write) the bytes go through plain write(2). Does not own the descriptor; not thread-safe.
class DirectFileWriter {
 public:
  /// Bytes gathered per O_DIRECT write.
  static constexpr size_t kBufferBytes = 4 << 20;
  static constexpr size_t kAlignment = 4096;

  /// `fd` is open for writing at offset 0; `direct` tells whether it carries O_DIRECT. `what` names the file in errors.
  DirectFileWriter(int fd, bool direct, std::string what);
  ~DirectFileWriter();
  DirectFileWriter(const DirectFileWriter&) = delete;
  DirectFileWriter& operator=(const DirectFileWriter&) = delete;

  Status Append(std::string_view data);
  /// Writes what is still buffered and clears O_DIRECT from the descriptor; later Appends use plain writes.
  Status Finish();
  /// Bytes appended so far.
  int64_t size() const { return size_; }
  /// Whether writes still bypass the page cache.
  bool direct() const { return direct_; }

 private:
  struct FreeDeleter {
    void operator()(char* p) const;
  };
  Status WriteAll(std::string_view data);
  Status DisableDirect();
  Status FlushBuffer();

  int fd_;
  bool direct_;
  std::string what_;
  std::unique_ptr<char, FreeDeleter> buffer_;
  size_t buffered_ = 0;
  int64_t size_ = 0;
};

}  // namespace tarn::storage
