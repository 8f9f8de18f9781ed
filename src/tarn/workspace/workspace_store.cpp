// SPDX-License-Identifier: Apache-2.0
// WorkspaceStore: path rules, format resolution, and the metadata + content updates of each operation.
#include "tarn/workspace/workspace_store.hpp"

#include <filesystem>
#include <system_error>

#include "tarn/base/clock.hpp"
#include "tarn/base/crypto.hpp"
#include "tarn/base/logging.hpp"
#include "tarn/notebooks/ipynb_format.hpp"
#include "tarn/notebooks/source_format.hpp"

namespace tarn::workspace {
namespace {

constexpr std::string_view kColumns =
    "object_id, path, object_type, language, size, created_at, modified_at, content_key";
constexpr std::string_view kTreePrefix = "tree";
constexpr std::string_view kStagingPrefix = "staging/";
constexpr std::string_view kNotebookSuffix = ".ipynb";
constexpr std::string_view kWorkspacePrefix = "/Workspace";
constexpr size_t kMaxSegmentBytes = 255;
constexpr size_t kMaxPathBytes = 4096;

Result<ObjectType> ParseObjectType(std::string_view name) {
  if (name == "NOTEBOOK") return ObjectType::kNotebook;
  if (name == "DIRECTORY") return ObjectType::kDirectory;
  if (name == "FILE") return ObjectType::kFile;
  return Error(ErrorCode::kCorruptData, "unknown workspace object type in the metadata store: {}", name);
}

// One stored row: the API's ObjectInfo plus where the content lives.
struct StoredObject {
  ObjectInfo info;
  std::string content_key;  // empty for folders
};

Result<StoredObject> FromRow(const meta::Row& row) {
  StoredObject object;
  object.info.object_id = row.Int(0);
  object.info.path = row.String(1);
  TARN_ASSIGN_OR_RETURN(object.info.type, ParseObjectType(row.String(2)));
  if (!row.IsNull(3)) {
    TARN_ASSIGN_OR_RETURN(object.info.language, notebooks::ParseLanguage(row.String(3)));
  }
  object.info.size = row.Int(4);
  object.info.created_at = row.Int(5);
  object.info.modified_at = row.Int(6);
  if (!row.IsNull(7)) object.content_key = row.String(7);
  return object;
}

ObjectInfo RootInfo() {
  ObjectInfo root;
  root.path = "/";
  root.type = ObjectType::kDirectory;
  return root;
}

Result<std::optional<StoredObject>> FindObject(meta::Executor& executor, std::string_view path) {
  TARN_ASSIGN_OR_RETURN(
      std::optional<meta::Row> row,
      executor.QueryRow(fmt::format("SELECT {} FROM workspace_objects WHERE path = ?", kColumns), {std::string(path)}));
  if (!row) return std::optional<StoredObject>();
  TARN_ASSIGN_OR_RETURN(StoredObject object, FromRow(*row));
  return std::optional<StoredObject>(std::move(object));
}

Status NotFound(std::string_view path) {
  return Error(ErrorCode::kResourceDoesNotExist, "Path ({}) doesn't exist.", path);
}

std::string ParentOf(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(path.substr(0, slash));
}

std::string_view NameOf(std::string_view path) { return path.substr(path.rfind('/') + 1); }

// The extension of the last segment without the dot ("" for none or a leading dot only).
std::string_view ExtensionOf(std::string_view path) {
  std::string_view name = NameOf(path);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return name.substr(dot + 1);
}

std::string ContentKey(std::string_view path, ObjectType type) {
  std::string key = std::string(kTreePrefix) + std::string(path);
  if (type == ObjectType::kNotebook) key += kNotebookSuffix;
  return key;
}

// Number of code points, as SQL substr() counts them.
int64_t CodePoints(std::string_view text) {
  int64_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

// Refuses a new object whose stored name is taken by another object: notebook "x" (stored as x.ipynb) versus a
// file or folder named "x.ipynb".
Status CheckStoredNameFree(meta::Executor& executor, std::string_view key, std::string_view self_path) {
  std::string as_path(key.substr(kTreePrefix.size()));
  TARN_ASSIGN_OR_RETURN(
      std::optional<meta::Row> clash,
      executor.QueryRow("SELECT path FROM workspace_objects WHERE (content_key = ? OR (object_type = 'DIRECTORY' "
                        "AND path = ?)) AND path <> ?",
                        {std::string(key), as_path, std::string(self_path)}));
  if (clash) {
    return Error(ErrorCode::kResourceAlreadyExists, "Path ({}) clashes with the existing object {}.", self_path,
                 clash->String(0));
  }
  return Status::OK();
}

// The object an import creates, after format resolution and conversion.
struct PreparedImport {
  std::string path;
  ObjectType type = ObjectType::kFile;
  std::optional<notebooks::Language> language;
  std::string bytes;
};

Result<PreparedImport> PrepareImport(const ImportRequest& request) {
  PreparedImport prepared;
  TARN_ASSIGN_OR_RETURN(prepared.path, NormalizeWorkspacePath(request.path));
  if (prepared.path == "/") return Error(ErrorCode::kInvalidParameterValue, "Cannot import to the root folder.");
  if (request.content.size() > kMaxObjectBytes) {
    return Error(ErrorCode::kMaxNotebookSizeExceeded, "The content size ({} bytes) exceeds the limit of {} bytes.",
                 request.content.size(), kMaxObjectBytes);
  }
  Format format = request.format;
  std::optional<notebooks::Language> language = request.language;
  if (format == Format::kAuto) {
    std::string_view extension = ExtensionOf(prepared.path);
    std::optional<notebooks::Language> by_extension = notebooks::LanguageForExtension(extension);
    if (extension == "ipynb") {
      format = Format::kJupyter;
    } else if (by_extension && notebooks::DetectSourceLanguage(request.content)) {
      format = Format::kSource;
      if (!language) language = by_extension;
    } else {
      format = Format::kRaw;
    }
    if (format != Format::kRaw) prepared.path.resize(prepared.path.size() - extension.size() - 1);
  }
  switch (format) {
    case Format::kSource: {
      if (!language) language = notebooks::DetectSourceLanguage(request.content);
      if (!language) {
        return Error(ErrorCode::kInvalidParameterValue,
                     "The language is required to import a notebook in SOURCE format.");
      }
      if (!notebooks::IsValidUtf8(request.content)) {
        return Error(ErrorCode::kInvalidParameterValue, "The content of a SOURCE notebook must be UTF-8 text.");
      }
      prepared.type = ObjectType::kNotebook;
      prepared.language = language;
      prepared.bytes = notebooks::RenderIpynb(notebooks::ParseSource(request.content, *language));
      return prepared;
    }
    case Format::kJupyter: {
      TARN_ASSIGN_OR_RETURN(notebooks::Notebook notebook, notebooks::ParseIpynb(request.content, language));
      prepared.type = ObjectType::kNotebook;
      prepared.language = notebook.language;
      prepared.bytes = notebooks::RenderIpynb(notebook);
      return prepared;
    }
    case Format::kRaw:
      prepared.type = ObjectType::kFile;
      prepared.bytes = request.content;
      return prepared;
    case Format::kAuto:
    case Format::kDbc:
    case Format::kHtml:
    case Format::kRMarkdown:
      break;
  }
  return Error(ErrorCode::kInvalidParameterValue,
               "Import format {} is not supported; use SOURCE, JUPYTER, AUTO or RAW.", FormatName(format));
}

}  // namespace

std::string_view ObjectTypeName(ObjectType type) {
  switch (type) {
    case ObjectType::kNotebook:
      return "NOTEBOOK";
    case ObjectType::kDirectory:
      return "DIRECTORY";
    case ObjectType::kFile:
      return "FILE";
  }
  return "FILE";
}

Result<Format> ParseFormat(std::string_view name) {
  for (Format format : {Format::kSource, Format::kJupyter, Format::kAuto, Format::kRaw, Format::kDbc, Format::kHtml,
                        Format::kRMarkdown}) {
    if (FormatName(format) == name) return format;
  }
  return Error(ErrorCode::kInvalidParameterValue,
               "Invalid format: '{}' (expected SOURCE, JUPYTER, AUTO, RAW, DBC, HTML or R_MARKDOWN)", name);
}

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kSource:
      return "SOURCE";
    case Format::kJupyter:
      return "JUPYTER";
    case Format::kAuto:
      return "AUTO";
    case Format::kRaw:
      return "RAW";
    case Format::kDbc:
      return "DBC";
    case Format::kHtml:
      return "HTML";
    case Format::kRMarkdown:
      return "R_MARKDOWN";
  }
  return "SOURCE";
}

Result<std::string> NormalizeWorkspacePath(std::string_view path) {
  auto invalid = [&](std::string_view why) {
    return Error(ErrorCode::kInvalidParameterValue, "Invalid path '{}': {}", path, why);
  };
  if (path.empty() || path.front() != '/') return invalid("it must be absolute");
  if (path.size() > kMaxPathBytes) return invalid("it is too long");
  std::string_view rest = path;
  if (rest.substr(0, kWorkspacePrefix.size()) == kWorkspacePrefix &&
      (rest.size() == kWorkspacePrefix.size() || rest[kWorkspacePrefix.size()] == '/')) {
    rest.remove_prefix(kWorkspacePrefix.size());
  }
  while (rest.size() > 1 && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest == "/") return std::string("/");
  std::string normalized;
  size_t start = 1;
  while (start <= rest.size()) {
    size_t slash = rest.find('/', start);
    if (slash == std::string_view::npos) slash = rest.size();
    std::string_view segment = rest.substr(start, slash - start);
    if (segment.empty()) return invalid("it has an empty segment");
    if (segment == "." || segment == "..") return invalid("'.' and '..' are not allowed");
    if (segment.size() > kMaxSegmentBytes) return invalid("a name is longer than 255 bytes");
    for (char c : segment) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return invalid("it contains a control character");
    }
    if (!notebooks::IsValidUtf8(segment)) return invalid("it is not UTF-8");
    normalized += '/';
    normalized.append(segment);
    start = slash + 1;
  }
  return normalized;
}

WorkspaceStore::WorkspaceStore(meta::MetaStore& meta, storage::ObjectStore& content, Clock clock)
    : meta_(meta), content_(content), clock_(clock ? std::move(clock) : Clock([] { return NowMillis(); })) {}

Status WorkspaceStore::Bootstrap() {
  TARN_RETURN_IF_ERROR(Mkdirs("/Users"));
  return Mkdirs("/Shared");
}

Status WorkspaceStore::EnsureHome(std::string_view user_name) {
  {
    std::lock_guard lock(homes_mu_);
    if (ensured_homes_.contains(user_name)) return Status::OK();
  }
  std::string home = "/Users/" + std::string(user_name);
  auto normalized = NormalizeWorkspacePath(home);
  bool usable = user_name.find('/') == std::string_view::npos && normalized.has_value() && *normalized == home;
  if (!usable) return Status::OK();
  TARN_RETURN_IF_ERROR(Mkdirs(home));
  std::lock_guard lock(homes_mu_);
  ensured_homes_.emplace(user_name);
  return Status::OK();
}

Result<ObjectInfo> WorkspaceStore::GetStatus(std::string_view path) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeWorkspacePath(path));
  if (normalized == "/") return RootInfo();
  TARN_ASSIGN_OR_RETURN(std::optional<StoredObject> object, FindObject(meta_, normalized));
  if (!object) return NotFound(normalized);
  return object->info;
}

Result<std::vector<ObjectInfo>> WorkspaceStore::List(std::string_view path,
                                                     std::optional<int64_t> notebooks_modified_after) {
  TARN_ASSIGN_OR_RETURN(ObjectInfo info, GetStatus(path));
  std::vector<ObjectInfo> objects;
  if (info.type != ObjectType::kDirectory) {
    objects.push_back(std::move(info));
  } else {
    TARN_ASSIGN_OR_RETURN(
        meta::QueryResult rows,
        meta_.Query(fmt::format("SELECT {} FROM workspace_objects WHERE parent_path = ? ORDER BY path", kColumns),
                    {info.path}));
    for (const auto& row : rows.rows) {
      TARN_ASSIGN_OR_RETURN(StoredObject object, FromRow(row));
      objects.push_back(std::move(object.info));
    }
  }
  if (notebooks_modified_after) {
    std::erase_if(objects, [&](const ObjectInfo& o) {
      return o.type == ObjectType::kNotebook && o.modified_at <= *notebooks_modified_after;
    });
  }
  return objects;
}

Status WorkspaceStore::Mkdirs(std::string_view path) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeWorkspacePath(path));
  if (normalized == "/") return Status::OK();
  std::lock_guard lock(write_mu_);
  int64_t now = clock_();
  return meta_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    size_t end = 0;
    while (end < normalized.size()) {
      end = normalized.find('/', end + 1);
      if (end == std::string::npos) end = normalized.size();
      std::string prefix = normalized.substr(0, end);
      TARN_ASSIGN_OR_RETURN(std::optional<StoredObject> existing, FindObject(tx, prefix));
      if (existing) {
        if (existing->info.type != ObjectType::kDirectory) {
          return Error(ErrorCode::kResourceAlreadyExists, "Path ({}) already exists and it is not a folder.", prefix);
        }
        continue;
      }
      TARN_RETURN_IF_ERROR(CheckStoredNameFree(tx, ContentKey(prefix, ObjectType::kDirectory), prefix));
      TARN_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO workspace_objects (path, parent_path, object_type, language, size, created_at, "
                     "modified_at, content_key) VALUES (?, ?, 'DIRECTORY', NULL, 0, ?, ?, NULL)",
                     {prefix, ParentOf(prefix), now, now})
              .status());
    }
    return Status::OK();
  });
}

Result<ObjectInfo> WorkspaceStore::Import(const ImportRequest& request) {
  TARN_ASSIGN_OR_RETURN(PreparedImport prepared, PrepareImport(request));
  std::string key = ContentKey(prepared.path, prepared.type);
  std::string staging = std::string(kStagingPrefix) + RandomHex(16);

  std::lock_guard lock(write_mu_);
  int64_t now = clock_();
  TARN_RETURN_IF_ERROR(content_.Write(staging, prepared.bytes).WithContext("staging workspace content"));
  std::string replaced_key;  // content of the overwritten object when it lived elsewhere
  ObjectInfo info;
  Status status = meta_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    std::string parent = ParentOf(prepared.path);
    if (parent != "/") {
      TARN_ASSIGN_OR_RETURN(std::optional<StoredObject> folder, FindObject(tx, parent));
      if (!folder || folder->info.type != ObjectType::kDirectory) {
        return Error(ErrorCode::kResourceDoesNotExist, "The parent folder ({}) does not exist.", parent);
      }
    }
    TARN_ASSIGN_OR_RETURN(std::optional<StoredObject> existing, FindObject(tx, prepared.path));
    if (existing) {
      if (existing->info.type == ObjectType::kDirectory) {
        return Error(ErrorCode::kResourceAlreadyExists, "Path ({}) already exists and it is a folder.", prepared.path);
      }
      if (!request.overwrite) {
        return Error(ErrorCode::kResourceAlreadyExists, "Path ({}) already exists.", prepared.path);
      }
    }
    TARN_RETURN_IF_ERROR(CheckStoredNameFree(tx, key, prepared.path));
    info.path = prepared.path;
    info.type = prepared.type;
    info.language = prepared.language;
    info.size = static_cast<int64_t>(prepared.bytes.size());
    info.modified_at = now;
    meta::Value language =
        prepared.language ? meta::Value(notebooks::LanguageName(*prepared.language)) : meta::Value::Null();
    if (existing) {
      info.object_id = existing->info.object_id;
      info.created_at = existing->info.created_at;
      if (existing->content_key != key) replaced_key = existing->content_key;
      TARN_RETURN_IF_ERROR(tx.Execute("UPDATE workspace_objects SET object_type = ?, language = ?, size = ?, "
                                      "modified_at = ?, content_key = ? WHERE object_id = ?",
                                      {ObjectTypeName(prepared.type), language, info.size, now, key, info.object_id})
                               .status());
    } else {
      info.created_at = now;
      TARN_ASSIGN_OR_RETURN(
          std::optional<meta::Row> inserted,
          tx.QueryRow("INSERT INTO workspace_objects (path, parent_path, object_type, language, size, created_at, "
                      "modified_at, content_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING object_id",
                      {prepared.path, parent, ObjectTypeName(prepared.type), language, info.size, now, now, key}));
      if (!inserted) return Error(ErrorCode::kInternal, "INSERT ... RETURNING gave no row");
      info.object_id = inserted->Int(0);
    }
    // Last step: the content becomes visible together with the metadata.
    return content_.Rename(staging, key, /*overwrite=*/true).WithContext("publishing workspace content");
  });
  if (!status.ok()) {
    content_.Delete(staging).IgnoreError();  // gone already when the rename succeeded
    return status;
  }
  if (!replaced_key.empty()) {
    Status removed = content_.Delete(replaced_key);
    if (!removed.ok())
      TARN_LOG_WARN("workspace: cannot remove replaced content {}: {}", replaced_key, removed.ToString());
  }
  return info;
}

Result<ExportResult> WorkspaceStore::Export(std::string_view path, Format format) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeWorkspacePath(path));
  if (normalized == "/") {
    return Error(ErrorCode::kInvalidParameterValue, "Exporting a folder is not supported; export each object.");
  }
  TARN_ASSIGN_OR_RETURN(std::optional<StoredObject> object, FindObject(meta_, normalized));
  if (!object) return NotFound(normalized);
  auto unsupported = [&] {
    return Error(ErrorCode::kInvalidParameterValue, "Export format {} is not supported for {} {}.", FormatName(format),
                 ObjectTypeName(object->info.type), normalized);
  };
  if (object->info.type == ObjectType::kDirectory) {
    return Error(ErrorCode::kInvalidParameterValue, "Exporting a folder is not supported; export each object.");
  }
  ExportResult result;
  if (object->info.type == ObjectType::kFile) {
    if (format != Format::kSource && format != Format::kAuto && format != Format::kRaw) return unsupported();
    TARN_ASSIGN_OR_RETURN(result.content, content_.Read(object->content_key));
    result.file_type = std::string(ExtensionOf(normalized));
  } else {
    TARN_ASSIGN_OR_RETURN(std::string ipynb, content_.Read(object->content_key));
    if (format == Format::kJupyter) {
      result.content = std::move(ipynb);
      result.file_type = "ipynb";
    } else if (format == Format::kSource || format == Format::kAuto) {
      TARN_ASSIGN_OR_RETURN(notebooks::Notebook notebook,
                            notebooks::ParseIpynb(ipynb, object->info.language.value_or(notebooks::Language::kPython)));
      result.content = notebooks::RenderSource(notebook);
      result.file_type = std::string(notebooks::SourceExtension(notebook.language));
    } else {
      return unsupported();
    }
  }
  if (result.content.size() > kMaxObjectBytes) {
    return Error(ErrorCode::kMaxNotebookSizeExceeded, "The exported content ({} bytes) exceeds the limit of {} bytes.",
                 result.content.size(), kMaxObjectBytes);
  }
  return result;
}

Status WorkspaceStore::Delete(std::string_view path, bool recursive) {
  TARN_ASSIGN_OR_RETURN(std::string normalized, NormalizeWorkspacePath(path));
  if (normalized == "/") return Error(ErrorCode::kInvalidParameterValue, "The root folder cannot be deleted.");
  std::lock_guard lock(write_mu_);
  std::vector<std::string> content_keys;
  bool was_folder = false;
  TARN_RETURN_IF_ERROR(meta_.RunInTransaction([&](meta::Transaction& tx) -> Status {
    content_keys.clear();
    TARN_ASSIGN_OR_RETURN(std::optional<StoredObject> object, FindObject(tx, normalized));
    if (!object) return NotFound(normalized);
    was_folder = object->info.type == ObjectType::kDirectory;
    std::string below = normalized + "/";
    meta::Params subtree = {normalized, CodePoints(below), below};
    if (was_folder && !recursive) {
      TARN_ASSIGN_OR_RETURN(std::optional<meta::Row> child,
                            tx.QueryRow("SELECT path FROM workspace_objects WHERE parent_path = ?", {normalized}));
      if (child) return Error(ErrorCode::kDirectoryNotEmpty, "Folder ({}) is not empty.", normalized);
    }
    TARN_ASSIGN_OR_RETURN(meta::QueryResult keys,
                          tx.Query("SELECT content_key FROM workspace_objects WHERE (path = ? OR substr(path, 1, ?) "
                                   "= ?) AND content_key IS NOT NULL",
                                   subtree));
    for (const auto& row : keys.rows) content_keys.push_back(row.String(0));
    return tx.Execute("DELETE FROM workspace_objects WHERE path = ? OR substr(path, 1, ?) = ?", subtree).status();
  }));
  // The objects are gone from the API now; removing their content can only leave invisible leftovers.
  for (const auto& key : content_keys) {
    Status removed = content_.Delete(key);
    if (!removed.ok() && removed.code() != ErrorCode::kResourceDoesNotExist) {
      TARN_LOG_WARN("workspace: cannot remove content {}: {}", key, removed.ToString());
    }
  }
  if (was_folder) {
    // Local stores keep directories; remove the folder's so a later file of the same name can be stored.
    if (std::optional<std::string> local = content_.LocalPath(ContentKey(normalized, ObjectType::kDirectory))) {
      std::error_code error;
      std::filesystem::remove_all(*local, error);
    }
  }
  return Status::OK();
}

}  // namespace tarn::workspace
