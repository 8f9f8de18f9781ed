// SPDX-License-Identifier: Apache-2.0
// WorkspaceStore: the workspace tree (folders, notebooks, files) behind the Workspace API.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/meta/meta_store.hpp"
#include "tarn/notebooks/notebook.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::workspace {

enum class ObjectType { kNotebook, kDirectory, kFile };
/// Returns "NOTEBOOK", "DIRECTORY" or "FILE".
std::string_view ObjectTypeName(ObjectType type);

/// Import/export formats of the Workspace API (names are case-sensitive, as Databricks has them).
enum class Format { kSource, kJupyter, kAuto, kRaw, kDbc, kHtml, kRMarkdown };
/// Parses "SOURCE", "JUPYTER", "AUTO", "RAW", "DBC", "HTML", "R_MARKDOWN". kInvalidParameterValue otherwise.
Result<Format> ParseFormat(std::string_view name);
std::string_view FormatName(Format format);

/// One workspace object as the API describes it.
struct ObjectInfo {
  std::string path;
  ObjectType type = ObjectType::kDirectory;
  int64_t object_id = 0;
  std::optional<notebooks::Language> language;  // notebooks only
  int64_t created_at = 0;                       // epoch milliseconds
  int64_t modified_at = 0;                      // epoch milliseconds
  int64_t size = 0;                             // stored bytes (files: content, notebooks: .ipynb); 0 for folders
};

struct ImportRequest {
  std::string path;
  std::string content;  // decoded bytes
  Format format = Format::kSource;
  std::optional<notebooks::Language> language;
  bool overwrite = false;
};

struct ExportResult {
  std::string content;    // bytes
  std::string file_type;  // "py", "sql", "r", "scala", "ipynb", or a file's extension ("" when it has none)
};

/// Largest import (decoded content) and export, as on Databricks.
inline constexpr size_t kMaxObjectBytes = 10 * 1024 * 1024;

/// Returns the canonical form of a workspace path: absolute, no trailing '/', a leading "/Workspace" removed.
/// kInvalidParameterValue for relative paths, empty, "." or ".." segments, control characters, over-long names.
Result<std::string> NormalizeWorkspacePath(std::string_view path);

/// The workspace tree. Object metadata (ids, types, languages, times) lives in the metadata store (table
/// `workspace_objects`, which is the source of truth for what exists); content lives in an object store under
/// `tree/<path>`: notebooks as nbformat-4 `<path>.ipynb` with the language in the kernelspec, files as their bytes.
/// Content is written to `staging/` first and renamed into place inside the metadata transaction, so a failed
/// import leaves nothing visible; deleted content is removed after the metadata commit.
/// Mutations are serialised by one mutex; reads run concurrently. Safe for concurrent use; caller keeps `meta`
/// and `content` alive.
class WorkspaceStore {
 public:
  using Clock = std::function<int64_t()>;
  /// `clock` null means the wall clock.
  WorkspaceStore(meta::MetaStore& meta, storage::ObjectStore& content, Clock clock = nullptr);
  WorkspaceStore(const WorkspaceStore&) = delete;
  WorkspaceStore& operator=(const WorkspaceStore&) = delete;

  /// Creates /Users and /Shared when missing.
  Status Bootstrap();
  /// Creates /Users/<user_name> when missing (cached, so repeated calls are cheap). Names that cannot be a path
  /// segment are ignored.
  Status EnsureHome(std::string_view user_name);

  /// Errors: kResourceDoesNotExist.
  Result<ObjectInfo> GetStatus(std::string_view path);
  /// Lists a folder's children ordered by path (a notebook or file lists itself). Notebooks modified at or before
  /// `notebooks_modified_after` are left out. Errors: kResourceDoesNotExist.
  Result<std::vector<ObjectInfo>> List(std::string_view path, std::optional<int64_t> notebooks_modified_after = {});
  /// Creates the folder and missing parents; an existing folder is fine. Errors: kResourceAlreadyExists when a
  /// notebook or file is on the path.
  Status Mkdirs(std::string_view path);
  /// Imports a notebook (SOURCE, JUPYTER, AUTO with a notebook extension) or a file (RAW, AUTO otherwise). AUTO
  /// strips the extension of notebooks. Errors: kMaxNotebookSizeExceeded over kMaxObjectBytes;
  /// kInvalidParameterValue for an unsupported format, missing language, non-UTF-8 SOURCE or invalid ipynb;
  /// kResourceDoesNotExist when the parent folder is missing; kResourceAlreadyExists when the path exists and
  /// !overwrite, is a folder, or clashes with a sibling's stored name (notebook "x" vs file "x.ipynb").
  Result<ObjectInfo> Import(const ImportRequest& request);
  /// Exports a notebook as SOURCE (also AUTO) or JUPYTER, or a file's bytes (SOURCE, AUTO, RAW). Errors:
  /// kResourceDoesNotExist; kInvalidParameterValue for folders and unsupported formats.
  Result<ExportResult> Export(std::string_view path, Format format);
  /// Deletes an object; folders need `recursive` unless empty (else kDirectoryNotEmpty). The root cannot be
  /// deleted (kInvalidParameterValue). Errors: kResourceDoesNotExist.
  Status Delete(std::string_view path, bool recursive);

 private:
  meta::MetaStore& meta_;
  storage::ObjectStore& content_;
  Clock clock_;
  std::mutex write_mu_;  // serialises mutations (metadata + content)
  std::mutex homes_mu_;
  std::set<std::string, std::less<>> ensured_homes_;  // guarded by homes_mu_
};

}  // namespace tarn::workspace
