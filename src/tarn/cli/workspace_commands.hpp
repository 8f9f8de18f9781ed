// SPDX-License-Identifier: Apache-2.0
// `tarn workspace ...`: list, import, export, mkdirs, rm, import-dir and export-dir over the Workspace API.
#pragma once

#include <ostream>
#include <string>

#include "tarn/base/status.hpp"
#include "tarn/cli/rest_client.hpp"
#include "tarn/cli/rest_command.hpp"
#include "tarn/cli/rest_commands.hpp"

namespace tarn::cli {

/// Adds the `workspace` command group to `app`. When the user picks one of its commands, parsing stores it in
/// `selected` (which must outlive `app`).
void AddWorkspaceCommands(CLI::App& app, RestCommand& selected);

/// GET workspace/list; prints TYPE, LANGUAGE, PATH (plus OBJECT ID and MODIFIED with `long_listing`), or the JSON.
Status RunWorkspaceList(RestClient& client, const std::string& path, bool long_listing, OutputFormat format,
                        std::ostream& out);
/// POST workspace/mkdirs.
Status RunWorkspaceMkdirs(RestClient& client, const std::string& path, OutputFormat format, std::ostream& out);
/// POST workspace/delete.
Status RunWorkspaceDelete(RestClient& client, const std::string& path, bool recursive, OutputFormat format,
                          std::ostream& out);

struct WorkspaceImportOptions {
  /// SOURCE, JUPYTER, AUTO or RAW; empty = from the local file: .ipynb → JUPYTER, .py/.sql/.r/.scala (or any file
  /// with `language`) → SOURCE, anything else → RAW.
  std::string format;
  std::string language;  // PYTHON, SQL, R, SCALA; empty = from the extension (SOURCE)
  bool overwrite = false;
};

/// Reads `local_file` and POSTs workspace/import (JSON, base64 content). Errors: kIoError for an unreadable file,
/// else the server's.
Status RunWorkspaceImport(RestClient& client, const std::string& local_file, const std::string& target_path,
                          const WorkspaceImportOptions& options, OutputFormat format, std::ostream& out);
/// GETs workspace/export with direct_download and writes the bytes to `local_file` ("" or "-": to `out`).
/// `export_format` defaults to SOURCE. Errors: kResourceAlreadyExists when the local file exists and !overwrite.
Status RunWorkspaceExport(RestClient& client, const std::string& path, const std::string& local_file,
                          const std::string& export_format, bool overwrite, std::ostream& out);
/// Imports every non-hidden file under `local_dir` below `target_path` with format AUTO (notebook sources and
/// .ipynb become notebooks without their extension, other files stay files), creating folders as needed.
Status RunWorkspaceImportDir(RestClient& client, const std::string& local_dir, const std::string& target_path,
                             bool overwrite, OutputFormat format, std::ostream& out);
/// Exports the folder `path` recursively into `local_dir`: notebooks as SOURCE files with their language's
/// extension, files as their bytes. Existing local files are kept (and reported) unless `overwrite`.
Status RunWorkspaceExportDir(RestClient& client, const std::string& path, const std::string& local_dir, bool overwrite,
                             OutputFormat format, std::ostream& out, std::ostream& err);

}  // namespace tarn::cli
