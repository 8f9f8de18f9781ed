// SPDX-License-Identifier: Apache-2.0
// DbfsFileSystem: the directory tree behind dbfs:/ paths (DBFS API and Files API), confined to one root directory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"

namespace tarn::storage {

/// One file or directory. `path` is absolute and normalised ("/a/b.txt"; "/" is the root).
struct DbfsFileInfo {
  std::string path;
  bool is_dir = false;
  int64_t size = 0;                      // 0 for directories
  int64_t modification_time_millis = 0;  // epoch milliseconds
};

/// One page of a directory listing (DbfsFileSystem::ListPage).
struct DbfsListPage {
  std::vector<DbfsFileInfo> entries;  // sorted by name
  bool has_more = false;              // entries sorting after the last one remain
};

/// One entry handed out by a DbfsListing: its path is the listing's prefix() followed by `name`. `name` stays
/// valid while the listing lives.
struct DbfsListedEntry {
  std::string_view name;
  bool is_dir = false;
  int64_t size = 0;                      // 0 for directories
  int64_t modification_time_millis = 0;  // epoch milliseconds
};

/// A whole directory listing read in name order, batch by batch (DbfsFileSystem::OpenListing): the names are read
/// and sorted when it is opened, and while the caller works on one batch the kernel already stats the next entries
/// (io_uring), so writing a listing out overlaps its stats. Must not outlive its DbfsFileSystem (it returns its
/// buffers to the file system's pool). Not safe for concurrent use.
class DbfsListing {
 public:
  virtual ~DbfsListing() = default;
  /// "/dir/" for a directory ("/" for the root); "" when the listing is of one file (its `name` is then its path).
  virtual const std::string& prefix() const = 0;
  /// Replaces `out` with the next entries (at most `max_entries`, possibly none when entries vanished or are
  /// hidden); returns whether entries remain after them. A stat failure other than "gone" is kIoError.
  virtual Result<bool> Next(size_t max_entries, std::vector<DbfsListedEntry>& out) = 0;
};

/// An open regular file: reads see the content the file had when it was opened (writers replace files by rename,
/// never in place). Safe for concurrent ReadAt calls.
class DbfsFileReader {
 public:
  virtual ~DbfsFileReader() = default;
  virtual int64_t size() const = 0;
  virtual int64_t modification_time_millis() const = 0;
  /// The open file descriptor (valid while the reader lives), for zero-copy sends such as sendfile(2).
  virtual int native_handle() const = 0;
  /// Returns up to `length` bytes from `offset` (fewer at the end; empty at or past the end).
  virtual Result<std::string> ReadAt(int64_t offset, int64_t length) = 0;
};

/// A file being written: bytes go to a hidden staging file and Commit() makes them visible at once under the final
/// name (rename), so readers never see a partial file and of two writers of one path the last commit wins.
/// Destroying an uncommitted upload removes the staging file. Not safe for concurrent use.
class DbfsUpload {
 public:
  virtual ~DbfsUpload() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual int64_t size() const = 0;
  /// Hands the staging file to a caller that writes into it itself (for example with splice(2)): writes out what
  /// Append buffered, switches the file to page-cache writes and returns a descriptor positioned at size(), owned
  /// by the upload. Report each write with Appended(); Append may still be mixed in.
  virtual Result<int> WritableDescriptor() = 0;
  /// Accounts `bytes` written through WritableDescriptor() and starts their writeback, as Append does.
  virtual void Appended(int64_t bytes) = 0;
  /// Publishes the bytes at `path`, creating missing parent directories. Without `overwrite` an existing file is
  /// kResourceAlreadyExists; a directory at `path` always is. A file on the parent chain is
  /// kResourceAlreadyExists. After a successful commit the upload is spent (Append/Commit fail kInvalidState).
  virtual Status Commit(std::string_view path, bool overwrite) = 0;
};

/// Files and directories under `root` (the data dir's dbfs/ folder), addressed by absolute paths with or without a
/// `dbfs:` prefix. Confinement: paths are normalised (repeated '/' and "." dropped), ".." segments, NUL bytes and
/// the reserved ".tarn-tmp-" names are kInvalidParameterValue, and every component is opened with O_NOFOLLOW from
/// a descriptor of the root, so a symbolic link inside the root is never followed (kPermissionDenied when a path
/// runs through or names one; links are left out of listings; Delete removes the link itself). Staging files live
/// in the hidden "<root>/.tarn-tmp-uploads" directory, emptied by Open().
/// Safe for concurrent use.
class DbfsFileSystem {
 public:
  static Result<std::unique_ptr<DbfsFileSystem>> Open(std::string root);
  ~DbfsFileSystem();
  DbfsFileSystem(const DbfsFileSystem&) = delete;
  DbfsFileSystem& operator=(const DbfsFileSystem&) = delete;

  /// Returns the normalised absolute form of a user path ("dbfs:/a//./b/" → "/a/b"). Errors:
  /// kInvalidParameterValue for empty or relative paths, "..", NUL and reserved names.
  static Result<std::string> NormalizePath(std::string_view path);

  /// kResourceDoesNotExist when nothing is at `path`.
  Result<DbfsFileInfo> GetStatus(std::string_view path);
  /// The entries of a directory sorted by name, or the file itself when `path` is a file.
  Result<std::vector<DbfsFileInfo>> List(std::string_view path);
  /// The entries of a directory (or the file itself) as a DbfsListing, for writing out a large listing as it is
  /// stat'ed. Errors as List, for the path; stat errors of entries come from DbfsListing::Next.
  Result<std::unique_ptr<DbfsListing>> OpenListing(std::string_view path);
  /// Like List, but only entries whose names sort after `start_after` (empty: from the first), at most
  /// `max_entries` of them (0: no limit). Only the returned entries are stat'ed, so a page of a huge directory
  /// costs one directory scan and sort plus `max_entries` stats.
  Result<DbfsListPage> ListPage(std::string_view path, std::string_view start_after, size_t max_entries);
  /// Creates the directory and its parents; an existing directory is fine; a file at `path` or on its parent chain
  /// is kResourceAlreadyExists.
  Status MakeDirectories(std::string_view path);
  /// Deletes a file, or a directory (with `recursive`, its contents too, at most `max_entries` entries per call:
  /// beyond that it stops with kPartialDelete saying how many it deleted, and a repeated call continues).
  /// A missing path deletes nothing. A non-empty directory without `recursive` is kDirectoryNotEmpty. Returns the
  /// number of entries deleted.
  Result<int64_t> Delete(std::string_view path, bool recursive, int64_t max_entries);
  /// Deletes a regular file (kResourceDoesNotExist when missing, kInvalidParameterValue for a directory).
  Status DeleteFile(std::string_view path);
  /// Deletes an empty directory (kResourceDoesNotExist when missing, kDirectoryNotEmpty when not empty,
  /// kInvalidParameterValue for a file or the root).
  Status DeleteEmptyDirectory(std::string_view path);
  /// Moves a file or a whole directory. Source missing: kResourceDoesNotExist; destination present:
  /// kResourceAlreadyExists; destination inside the source: kInvalidParameterValue. Creates missing parents.
  Status Move(std::string_view from, std::string_view to);
  /// Opens a regular file for reading (kResourceDoesNotExist when missing, kInvalidParameterValue for a directory).
  Result<std::unique_ptr<DbfsFileReader>> OpenFile(std::string_view path);
  /// Starts a new staged upload.
  Result<std::unique_ptr<DbfsUpload>> StartUpload();

  const std::string& root() const { return root_; }

 private:
  struct State;
  DbfsFileSystem(std::string root, std::unique_ptr<State> state);

  std::string root_;
  std::unique_ptr<State> state_;
};

}  // namespace tarn::storage
