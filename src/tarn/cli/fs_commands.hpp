// SPDX-License-Identifier: Apache-2.0
// `tarn fs ls|cat|cp|mv|rm|mkdirs`: DBFS file commands over the DBFS and Files REST APIs.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "tarn/base/status.hpp"
#include "tarn/cli/rest_client.hpp"
#include "tarn/cli/rest_commands.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace tarn::cli {

/// Options shared by the fs commands.
struct FsOptions {
  OutputFormat format = OutputFormat::kTable;
  bool recursive = false;    // -r: cp of directories, rm of non-empty directories
  bool overwrite = false;    // --overwrite: cp may replace existing files
  bool long_format = false;  // ls -l
  /// Draws a progress bar on `err` for transfers over kProgressMinBytes (set when stderr is a terminal).
  bool progress = false;
};

/// Files at least this large get a progress bar when FsOptions::progress is set.
inline constexpr int64_t kProgressMinBytes = 4 << 20;

/// Remote paths are written `dbfs:/a/b`; the commands other than cp also take a bare absolute path `/a/b` as DBFS.
/// Transfers: `dbfs:/Volumes/...` goes through the Files API (one streamed PUT/GET), other paths through the DBFS
/// API (create + 1 MiB add-block + close; read in 1 MiB slices), so memory use never grows with the file size.

/// Lists a directory (names; `-l`: type, size, modification time, path; json: the API answer).
Status RunFsLs(RestClient& client, const std::string& path, const FsOptions& options, std::ostream& out);
/// Writes a remote file's bytes to `out`.
Status RunFsCat(RestClient& client, const std::string& path, std::ostream& out);
/// Copies local→dbfs, dbfs→local or dbfs→dbfs; a directory needs `recursive`. Copying into an existing directory
/// puts the source inside it. Existing target files need `overwrite`. Prints one line per copied file on `out`.
Status RunFsCp(RestClient& client, const std::string& source, const std::string& target, const FsOptions& options,
               std::ostream& out, std::ostream& err);
/// Moves or renames a remote file or directory.
Status RunFsMv(RestClient& client, const std::string& source, const std::string& target, std::ostream& out);
/// Deletes a remote file, or a directory (non-empty ones need `recursive`; PARTIAL_DELETE answers are repeated).
Status RunFsRm(RestClient& client, const std::string& path, const FsOptions& options, std::ostream& out);
/// Creates a remote directory and its parents.
Status RunFsMkdirs(RestClient& client, const std::string& path, std::ostream& out);

/// The `tarn fs` command group on a CLI11 parser: AddFsCommands declares `fs ls|cat|cp|mv|rm|mkdirs` and their
/// flags; after parsing, Parsed() says whether one of them was chosen and Run() executes it.
class FsCommandLine {
 public:
  /// Adds the `fs` group to `app`; the returned object must outlive parsing.
  static std::unique_ptr<FsCommandLine> Add(CLI::App& app);
  ~FsCommandLine();
  FsCommandLine(const FsCommandLine&) = delete;
  FsCommandLine& operator=(const FsCommandLine&) = delete;

  bool Parsed() const;
  /// Runs the parsed subcommand. `progress_allowed`: whether `err` is a terminal a progress bar may draw on.
  Status Run(RestClient& client, OutputFormat format, bool progress_allowed, std::ostream& out, std::ostream& err);

 private:
  struct State;
  explicit FsCommandLine(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tarn::cli
