// SPDX-License-Identifier: Apache-2.0
// fs commands: remote/local path resolution, streamed and block-wise transfers, recursion and the progress bar.
#include "tarn/cli/fs_commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tarn/base/crypto.hpp"
#include "tarn/cli/table_printer.hpp"
#include "tarn/storage/direct_file_writer.hpp"

namespace tarn::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr char kDbfsApi[] = "/api/2.0/dbfs/";
constexpr char kFilesApi[] = "/api/2.0/fs/files";
constexpr int64_t kBlockBytes = 1 << 20;
// Downloads of at least this size are written with O_DIRECT (storage::DirectFileWriter).
constexpr int64_t kDirectWriteMinBytes = 8 << 20;
constexpr std::string_view kDbfsScheme = "dbfs:";

// A location named on the command line: remote (DBFS path, always absolute) or local.
struct Location {
  bool remote = false;
  std::string path;       // remote: "/a/b"; local: as given
  bool trailing_slash = false;
};

Location ParseLocation(const std::string& arg, bool bare_is_remote) {
  Location location;
  std::string_view text = arg;
  if (text.starts_with(kDbfsScheme)) {
    text.remove_prefix(kDbfsScheme.size());
    location.remote = true;
  } else if (bare_is_remote && text.starts_with('/')) {
    location.remote = true;
  }
  location.trailing_slash = text.size() > 1 && text.back() == '/';
  if (!location.remote) {
    location.path = std::string(text);
    return location;
  }
  std::string path = text.starts_with('/') ? std::string(text) : "/" + std::string(text);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  location.path = path;
  return location;
}

Result<std::string> RequireRemote(const std::string& arg) {
  Location location = ParseLocation(arg, /*bare_is_remote=*/true);
  if (!location.remote) {
    return Error(ErrorCode::kInvalidParameterValue, "'{}' is not a DBFS path (write dbfs:/path)", arg);
  }
  return location.path;
}

std::string Display(const std::string& remote_path) { return "dbfs:" + remote_path; }

bool IsVolumesPath(std::string_view path) { return path == "/Volumes" || path.starts_with("/Volumes/"); }

std::string JoinRemote(const std::string& dir, std::string_view name) {
  return dir == "/" ? "/" + std::string(name) : dir + "/" + std::string(name);
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// Percent-encodes each segment of a remote path for use in a URL path.
std::string EncodeUrlPath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<json> ParseAnswer(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  auto parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return Error(ErrorCode::kProtocolViolation, "unexpected answer from the server");
  return parsed;
}

Result<json> DbfsGet(RestClient& client, std::string_view op, const QueryParams& query) {
  TARN_ASSIGN_OR_RETURN(std::string body, client.Get(std::string(kDbfsApi) + std::string(op), query));
  return ParseAnswer(body);
}

Result<json> DbfsPost(RestClient& client, std::string_view op, const json& request) {
  TARN_ASSIGN_OR_RETURN(std::string body, client.Post(std::string(kDbfsApi) + std::string(op), request.dump()));
  return ParseAnswer(body);
}

struct RemoteEntry {
  std::string path;
  bool is_dir = false;
  int64_t size = 0;
  int64_t modification_time = 0;
};

RemoteEntry EntryFromJson(const json& info) {
  RemoteEntry entry;
  entry.path = info.value("path", "");
  entry.is_dir = info.value("is_dir", false);
  entry.size = info.value("file_size", int64_t{0});
  entry.modification_time = info.value("modification_time", int64_t{0});
  return entry;
}

// get-status; nullopt when nothing is at `path`.
Result<std::optional<RemoteEntry>> StatRemote(RestClient& client, const std::string& path) {
  auto answer = DbfsGet(client, "get-status", {{"path", path}});
  if (!answer.has_value()) {
    if (answer.error().code() == ErrorCode::kResourceDoesNotExist) return std::optional<RemoteEntry>();
    return answer.error();
  }
  return std::optional<RemoteEntry>(EntryFromJson(*answer));
}

Result<std::vector<RemoteEntry>> ListRemote(RestClient& client, const std::string& path) {
  TARN_ASSIGN_OR_RETURN(json answer, DbfsGet(client, "list", {{"path", path}}));
  std::vector<RemoteEntry> entries;
  if (answer.contains("files") && answer["files"].is_array()) {
    for (const json& info : answer["files"]) entries.push_back(EntryFromJson(info));
  }
  return entries;
}

std::string HumanBytes(int64_t bytes) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

// A one-line progress bar redrawn in place on stderr; silent unless enabled and the transfer is large.
class ProgressBar {
 public:
  ProgressBar(std::ostream& err, std::string label, int64_t total, bool enabled)
      : err_(err), label_(std::move(label)), total_(total), enabled_(enabled && total >= kProgressMinBytes) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() { Finish(); }

  void Update(int64_t done) {
    if (!enabled_ || total_ <= 0) return;
    int percent = static_cast<int>(std::min<int64_t>(100, done * 100 / total_));
    if (percent == last_percent_) return;
    last_percent_ = percent;
    constexpr int kWidth = 30;
    int filled = percent * kWidth / 100;
    err_ << '\r' << label_ << " [" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] "
         << percent << "% " << HumanBytes(done) << " / " << HumanBytes(total_) << std::flush;
    drawn_ = true;
  }

  void Finish() {
    if (drawn_) err_ << '\n' << std::flush;
    drawn_ = false;
  }

 private:
  std::ostream& err_;
  std::string label_;
  int64_t total_;
  bool enabled_;
  int last_percent_ = -1;
  bool drawn_ = false;
};

// Closes a FILE* on scope exit.
struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

Result<FilePtr> OpenLocal(const std::string& path, const char* mode) {
  FilePtr file(std::fopen(path.c_str(), mode));
  if (!file) return Error(ErrorCode::kIoError, "cannot open {}: {}", path, std::strerror(errno));
  return file;
}

// Uploads through create/add-block/close, `read_block` filling each block (empty = end).
Status UploadBlocks(RestClient& client, const std::string& remote, bool overwrite,
                    const std::function<Result<std::string>()>& read_block, ProgressBar& bar) {
  TARN_ASSIGN_OR_RETURN(json created, DbfsPost(client, "create", {{"path", remote}, {"overwrite", overwrite}}));
  if (!created.contains("handle")) return Error(ErrorCode::kProtocolViolation, "create answered without a handle");
  json handle = created["handle"];
  int64_t done = 0;
  while (true) {
    TARN_ASSIGN_OR_RETURN(std::string block, read_block());
    if (block.empty()) break;
    TARN_RETURN_IF_ERROR(DbfsPost(client, "add-block", {{"handle", handle}, {"data", Base64Encode(block)}}).status());
    done += static_cast<int64_t>(block.size());
    bar.Update(done);
  }
  return DbfsPost(client, "close", {{"handle", handle}}).status();
}

Status UploadLocalFile(RestClient& client, const std::string& local, const std::string& remote, bool overwrite,
                       const FsOptions& options, std::ostream& err) {
  std::error_code ec;
  int64_t size = static_cast<int64_t>(fs::file_size(local, ec));
  if (ec) return Error(ErrorCode::kIoError, "cannot read {}: {}", local, ec.message());
  TARN_ASSIGN_OR_RETURN(FilePtr file, OpenLocal(local, "rb"));
  ProgressBar bar(err, BaseName(local), size, options.progress);
  if (IsVolumesPath(remote)) {
    // One streamed PUT of the file (sendfile(2) over plain http, see RestClient::PutFile).
    int fd = ::fileno(file.get());
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // larger read-ahead for a cold file
    ProgressCallback progress = [&](int64_t done, int64_t) { bar.Update(done); };
    return client.PutFile(kFilesApi + EncodeUrlPath(remote), {{"overwrite", overwrite ? "true" : "false"}}, fd, size,
                          local, progress).status();
  }
  std::string buffer;
  auto read_block = [&]() -> Result<std::string> {
    buffer.resize(kBlockBytes);
    size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    if (n == 0 && std::ferror(file.get())) return Error(ErrorCode::kIoError, "reading {} failed", local);
    buffer.resize(n);
    return buffer;
  };
  return UploadBlocks(client, remote, overwrite, read_block, bar);
}

// Streams a remote file into `sink` (1 MiB DBFS reads, or one Files API GET under /Volumes).
Status ReadRemote(RestClient& client, const RemoteEntry& entry, const std::function<Status(std::string_view)>& sink,
                  ProgressBar& bar) {
  if (IsVolumesPath(entry.path)) {
    Status sink_status;
    int64_t done = 0;
    BodySink body_sink = [&](std::string_view piece) {
      sink_status = sink(piece);
      done += static_cast<int64_t>(piece.size());
      bar.Update(done);
      return sink_status.ok();
    };
    Status status = client.GetStream(kFilesApi + EncodeUrlPath(entry.path), {}, body_sink);
    if (!sink_status.ok()) return sink_status;
    return status;
  }
  int64_t offset = 0;
  while (offset < entry.size) {
    TARN_ASSIGN_OR_RETURN(json answer, DbfsGet(client, "read",
                                               {{"path", entry.path},
                                                {"offset", std::to_string(offset)},
                                                {"length", std::to_string(kBlockBytes)}}));
    int64_t bytes_read = answer.value("bytes_read", int64_t{0});
    if (bytes_read <= 0) break;  // the file shrank meanwhile
    TARN_ASSIGN_OR_RETURN(std::string data, Base64Decode(answer.value("data", "")));
    TARN_RETURN_IF_ERROR(sink(data));
    offset += static_cast<int64_t>(data.size());
    bar.Update(offset);
  }
  return Status::OK();
}

// Downloads to a temporary file next to `local` and renames it into place, so `local` is never half-written.
Status DownloadToLocal(RestClient& client, const RemoteEntry& entry, const std::string& local, bool overwrite,
                       const FsOptions& options, std::ostream& err) {
  std::error_code ec;
  if (fs::exists(local, ec) && !overwrite) {
    return Error(ErrorCode::kResourceAlreadyExists, "{} already exists (use --overwrite to replace it)", local);
  }
  fs::path target(local);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  std::string temp = local + ".tarn-part-" + RandomHex(4);
  Status status;
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  if (IsVolumesPath(entry.path)) {
    // One Files API GET straight into the file (splice(2) over plain http, see RestClient::GetToFile).
    int fd = ::open(temp.c_str(), kFlags, 0644);
    if (fd < 0) return Error(ErrorCode::kIoError, "cannot open {}: {}", temp, std::strerror(errno));
    ProgressBar bar(err, BaseName(entry.path), entry.size, options.progress);
    ProgressCallback progress = [&](int64_t done, int64_t) { bar.Update(done); };
    status = client.GetToFile(kFilesApi + EncodeUrlPath(entry.path), {}, fd, temp, progress).status();
    if (::close(fd) != 0 && status.ok()) {
      status = Error(ErrorCode::kIoError, "writing {} failed: {}", temp, std::strerror(errno));
    }
  } else {
    // DBFS reads of 1 MiB: large files bypass the page cache (O_DIRECT through an aligned buffer) where the file
    // system allows it.
    bool direct = false;
    int fd = entry.size >= kDirectWriteMinBytes ? storage::OpenMaybeDirect(AT_FDCWD, temp.c_str(), kFlags, 0644, direct)
                                                : ::open(temp.c_str(), kFlags, 0644);
    if (fd < 0) return Error(ErrorCode::kIoError, "cannot open {}: {}", temp, std::strerror(errno));
    storage::DirectFileWriter writer(fd, direct, temp);
    ProgressBar bar(err, BaseName(entry.path), entry.size, options.progress);
    status = ReadRemote(client, entry, [&](std::string_view piece) { return writer.Append(piece); }, bar);
    if (status.ok()) status = writer.Finish();
    if (::close(fd) != 0 && status.ok()) {
      status = Error(ErrorCode::kIoError, "writing {} failed: {}", temp, std::strerror(errno));
    }
  }
  if (status.ok()) {
    fs::rename(temp, local, ec);
    if (ec) status = Error(ErrorCode::kIoError, "cannot rename {} to {}: {}", temp, local, ec.message());
  }
  if (!status.ok()) fs::remove(temp, ec);
  return status;
}

Status CopyRemoteFile(RestClient& client, const RemoteEntry& entry, const std::string& target, bool overwrite,
                      const FsOptions& options, std::ostream& err) {
  ProgressBar bar(err, BaseName(entry.path), entry.size, options.progress);
  ProgressBar silent(err, "", 0, false);
  int64_t offset = 0;
  auto read_block = [&]() -> Result<std::string> {
    if (offset >= entry.size) return std::string();
    TARN_ASSIGN_OR_RETURN(json answer, DbfsGet(client, "read",
                                               {{"path", entry.path},
                                                {"offset", std::to_string(offset)},
                                                {"length", std::to_string(kBlockBytes)}}));
    TARN_ASSIGN_OR_RETURN(std::string data, Base64Decode(answer.value("data", "")));
    offset += static_cast<int64_t>(data.size());
    bar.Update(offset);
    return data;
  };
  return UploadBlocks(client, target, overwrite, read_block, silent);
}

// Every file and directory below a remote directory, parents before children.
Status WalkRemote(RestClient& client, const std::string& dir, std::vector<RemoteEntry>& out) {
  TARN_ASSIGN_OR_RETURN(std::vector<RemoteEntry> entries, ListRemote(client, dir));
  for (RemoteEntry& entry : entries) {
    bool is_dir = entry.is_dir;
    std::string path = entry.path;
    out.push_back(std::move(entry));
    if (is_dir) TARN_RETURN_IF_ERROR(WalkRemote(client, path, out));
  }
  return Status::OK();
}

// The relative part of `path` below `root` ("/a/b/c" under "/a" → "b/c").
std::string RelativeTo(const std::string& root, const std::string& path) {
  if (root == "/") return path.substr(1);
  return path.size() > root.size() ? path.substr(root.size() + 1) : "";
}

Status CopyFromLocal(RestClient& client, const std::string& source, const Location& target,
                     const FsOptions& options, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  fs::file_status status = fs::status(source, ec);
  if (ec || !fs::exists(status)) return Error(ErrorCode::kResourceDoesNotExist, "{} does not exist", source);
  TARN_ASSIGN_OR_RETURN(std::optional<RemoteEntry> existing, StatRemote(client, target.path));
  bool into_directory = (existing && existing->is_dir) || (!existing && target.trailing_slash);
  std::string destination = into_directory ? JoinRemote(target.path, BaseName(source)) : target.path;
  if (fs::is_directory(status)) {
    if (!options.recursive) {
      return Error(ErrorCode::kInvalidParameterValue, "{} is a directory (use -r to copy it)", source);
    }
    if (!existing || !existing->is_dir) destination = target.path;  // copy the contents to a new directory
    TARN_RETURN_IF_ERROR(DbfsPost(client, "mkdirs", {{"path", destination}}).status());
    std::vector<fs::directory_entry> entries;
    for (auto it = fs::recursive_directory_iterator(source, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      entries.push_back(*it);
    }
    if (ec) return Error(ErrorCode::kIoError, "cannot read {}: {}", source, ec.message());
    std::sort(entries.begin(), entries.end(),
              [](const fs::directory_entry& a, const fs::directory_entry& b) { return a.path() < b.path(); });
    for (const fs::directory_entry& entry : entries) {
      std::string relative = fs::relative(entry.path(), source, ec).generic_string();
      std::string remote = JoinRemote(destination, relative);
      if (entry.is_directory()) {
        TARN_RETURN_IF_ERROR(DbfsPost(client, "mkdirs", {{"path", remote}}).status());
      } else if (entry.is_regular_file()) {
        TARN_RETURN_IF_ERROR(UploadLocalFile(client, entry.path().string(), remote, options.overwrite, options, err));
        out << entry.path().string() << " -> " << Display(remote) << '\n';
      }
    }
    return Status::OK();
  }
  TARN_RETURN_IF_ERROR(UploadLocalFile(client, source, destination, options.overwrite, options, err));
  out << source << " -> " << Display(destination) << '\n';
  return Status::OK();
}

Status CopyFromRemote(RestClient& client, const Location& source, const Location& target, const FsOptions& options,
                      std::ostream& out, std::ostream& err) {
  TARN_ASSIGN_OR_RETURN(std::optional<RemoteEntry> entry, StatRemote(client, source.path));
  if (!entry) return Error(ErrorCode::kResourceDoesNotExist, "{} does not exist", Display(source.path));
  std::error_code ec;
  bool target_exists_dir = false;
  if (target.remote) {
    TARN_ASSIGN_OR_RETURN(std::optional<RemoteEntry> existing, StatRemote(client, target.path));
    target_exists_dir = existing && existing->is_dir;
  } else {
    target_exists_dir = fs::is_directory(target.path, ec);
  }
  bool target_is_dir = target_exists_dir || target.trailing_slash;
  auto join = [&](const std::string& base, const std::string& relative) {
    if (target.remote) return JoinRemote(base, relative);
    return (fs::path(base) / relative).string();
  };
  if (!entry->is_dir) {
    std::string destination = target_is_dir ? join(target.path, BaseName(entry->path)) : target.path;
    if (target.remote) {
      TARN_RETURN_IF_ERROR(CopyRemoteFile(client, *entry, destination, options.overwrite, options, err));
      out << Display(entry->path) << " -> " << Display(destination) << '\n';
    } else {
      TARN_RETURN_IF_ERROR(DownloadToLocal(client, *entry, destination, options.overwrite, options, err));
      out << Display(entry->path) << " -> " << destination << '\n';
    }
    return Status::OK();
  }
  if (!options.recursive) {
    return Error(ErrorCode::kInvalidParameterValue, "{} is a directory (use -r to copy it)", Display(entry->path));
  }
  std::string root = target_exists_dir ? join(target.path, BaseName(entry->path)) : target.path;
  if (target.remote && target.path.starts_with(entry->path + "/")) {
    return Error(ErrorCode::kInvalidParameterValue, "cannot copy {} into itself", Display(entry->path));
  }
  std::vector<RemoteEntry> tree;
  TARN_RETURN_IF_ERROR(WalkRemote(client, entry->path, tree));
  if (target.remote) {
    TARN_RETURN_IF_ERROR(DbfsPost(client, "mkdirs", {{"path", root}}).status());
  } else {
    fs::create_directories(root, ec);
    if (ec) return Error(ErrorCode::kIoError, "cannot create {}: {}", root, ec.message());
  }
  for (const RemoteEntry& item : tree) {
    std::string destination = join(root, RelativeTo(entry->path, item.path));
    if (item.is_dir) {
      if (target.remote) {
        TARN_RETURN_IF_ERROR(DbfsPost(client, "mkdirs", {{"path", destination}}).status());
      } else {
        fs::create_directories(destination, ec);
        if (ec) return Error(ErrorCode::kIoError, "cannot create {}: {}", destination, ec.message());
      }
      continue;
    }
    if (target.remote) {
      TARN_RETURN_IF_ERROR(CopyRemoteFile(client, item, destination, options.overwrite, options, err));
      out << Display(item.path) << " -> " << Display(destination) << '\n';
    } else {
      TARN_RETURN_IF_ERROR(DownloadToLocal(client, item, destination, options.overwrite, options, err));
      out << Display(item.path) << " -> " << destination << '\n';
    }
  }
  return Status::OK();
}

}  // namespace

Status RunFsLs(RestClient& client, const std::string& path, const FsOptions& options, std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string remote, RequireRemote(path));
  TARN_ASSIGN_OR_RETURN(json answer, DbfsGet(client, "list", {{"path", remote}}));
  if (options.format == OutputFormat::kJson) {
    if (!answer.contains("files")) answer["files"] = json::array();
    out << answer.dump(2) << '\n';
    return Status::OK();
  }
  std::vector<RemoteEntry> entries;
  if (answer.contains("files") && answer["files"].is_array()) {
    for (const json& info : answer["files"]) entries.push_back(EntryFromJson(info));
  }
  if (!options.long_format) {
    for (const RemoteEntry& entry : entries) out << BaseName(entry.path) << (entry.is_dir ? "/" : "") << '\n';
    return Status::OK();
  }
  TablePrinter table({"TYPE", "SIZE", "MODIFIED", "PATH"});
  table.SetRightAligned(1);
  for (const RemoteEntry& entry : entries) {
    table.AddRow({entry.is_dir ? "dir" : "file", entry.is_dir ? "-" : std::to_string(entry.size),
                  entry.modification_time > 0 ? FormatEpochMillis(entry.modification_time) : "-",
                  Display(entry.path)});
  }
  table.Print(out);
  return Status::OK();
}

Status RunFsCat(RestClient& client, const std::string& path, std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string remote, RequireRemote(path));
  TARN_ASSIGN_OR_RETURN(std::optional<RemoteEntry> entry, StatRemote(client, remote));
  if (!entry) return Error(ErrorCode::kResourceDoesNotExist, "{} does not exist", Display(remote));
  if (entry->is_dir) return Error(ErrorCode::kInvalidParameterValue, "{} is a directory", Display(remote));
  ProgressBar silent(out, "", 0, false);
  return ReadRemote(client, *entry, [&](std::string_view piece) -> Status {
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    if (!out) return Error(ErrorCode::kIoError, "writing to the output failed");
    return Status::OK();
  }, silent);
}

Status RunFsCp(RestClient& client, const std::string& source, const std::string& target, const FsOptions& options,
               std::ostream& out, std::ostream& err) {
  Location from = ParseLocation(source, /*bare_is_remote=*/false);
  Location to = ParseLocation(target, /*bare_is_remote=*/false);
  if (!from.remote && !to.remote) {
    return Error(ErrorCode::kInvalidParameterValue, "one of the paths must be a DBFS path (dbfs:/...)");
  }
  if (!from.remote) return CopyFromLocal(client, from.path, to, options, out, err);
  return CopyFromRemote(client, from, to, options, out, err);
}

Status RunFsMv(RestClient& client, const std::string& source, const std::string& target, std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string from, RequireRemote(source));
  TARN_ASSIGN_OR_RETURN(std::string to, RequireRemote(target));
  TARN_ASSIGN_OR_RETURN(std::optional<RemoteEntry> existing, StatRemote(client, to));
  if (existing && existing->is_dir) to = JoinRemote(to, BaseName(from));
  TARN_RETURN_IF_ERROR(DbfsPost(client, "move", {{"source_path", from}, {"destination_path", to}}).status());
  out << Display(from) << " -> " << Display(to) << '\n';
  return Status::OK();
}

Status RunFsRm(RestClient& client, const std::string& path, const FsOptions& options, std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string remote, RequireRemote(path));
  TARN_ASSIGN_OR_RETURN(std::optional<RemoteEntry> entry, StatRemote(client, remote));
  if (!entry) return Error(ErrorCode::kResourceDoesNotExist, "{} does not exist", Display(remote));
  // A huge tree answers PARTIAL_DELETE after each slice of work; the same call continues where it stopped.
  while (true) {
    auto answer = DbfsPost(client, "delete", {{"path", remote}, {"recursive", options.recursive}});
    if (answer.has_value()) break;
    if (answer.error().code() != ErrorCode::kPartialDelete) return answer.error();
  }
  out << "deleted " << Display(remote) << '\n';
  return Status::OK();
}

Status RunFsMkdirs(RestClient& client, const std::string& path, std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string remote, RequireRemote(path));
  TARN_RETURN_IF_ERROR(DbfsPost(client, "mkdirs", {{"path", remote}}).status());
  return Status::OK();
}

struct FsCommandLine::State {
  FsOptions options;
  std::string path;
  std::string source;
  std::string target;
  CLI::App* ls = nullptr;
  CLI::App* cat = nullptr;
  CLI::App* cp = nullptr;
  CLI::App* mv = nullptr;
  CLI::App* rm = nullptr;
  CLI::App* mkdirs = nullptr;
};

FsCommandLine::FsCommandLine(std::unique_ptr<State> state) : state_(std::move(state)) {}
FsCommandLine::~FsCommandLine() = default;

std::unique_ptr<FsCommandLine> FsCommandLine::Add(CLI::App& app) {
  auto state = std::make_unique<State>();
  State& s = *state;
  CLI::App* group = app.add_subcommand("fs", "Work with files in DBFS (dbfs:/ paths) and volumes");
  group->require_subcommand(1);
  s.ls = group->add_subcommand("ls", "List a DBFS directory");
  s.ls->add_flag("-l,--long", s.options.long_format, "Long format: type, size, modification time, path");
  s.ls->add_option("PATH", s.path, "Directory, e.g. dbfs:/tmp (default dbfs:/)");
  s.cat = group->add_subcommand("cat", "Print a DBFS file");
  s.cat->add_option("PATH", s.path, "File, e.g. dbfs:/tmp/a.txt")->required();
  s.cp = group->add_subcommand("cp", "Copy files between the local disk and DBFS (either way) or within DBFS");
  s.cp->add_flag("-r,--recursive", s.options.recursive, "Copy directories recursively");
  s.cp->add_flag("--overwrite", s.options.overwrite, "Replace existing files");
  s.cp->add_option("SOURCE", s.source, "Local path or dbfs:/ path")->required();
  s.cp->add_option("TARGET", s.target, "Local path or dbfs:/ path")->required();
  s.mv = group->add_subcommand("mv", "Move or rename a DBFS file or directory");
  s.mv->add_option("SOURCE", s.source, "dbfs:/ path")->required();
  s.mv->add_option("TARGET", s.target, "dbfs:/ path")->required();
  s.rm = group->add_subcommand("rm", "Delete a DBFS file or directory");
  s.rm->add_flag("-r,--recursive", s.options.recursive, "Delete a non-empty directory with its contents");
  s.rm->add_option("PATH", s.path, "dbfs:/ path")->required();
  s.mkdirs = group->add_subcommand("mkdirs", "Create a DBFS directory and its parents");
  s.mkdirs->add_option("PATH", s.path, "dbfs:/ path")->required();
  return std::unique_ptr<FsCommandLine>(new FsCommandLine(std::move(state)));
}

bool FsCommandLine::Parsed() const {
  const State& s = *state_;
  return s.ls->parsed() || s.cat->parsed() || s.cp->parsed() || s.mv->parsed() || s.rm->parsed() ||
         s.mkdirs->parsed();
}

Status FsCommandLine::Run(RestClient& client, OutputFormat format, bool progress_allowed, std::ostream& out,
                          std::ostream& err) {
  State& s = *state_;
  s.options.format = format;
  s.options.progress = progress_allowed;
  if (s.ls->parsed()) return RunFsLs(client, s.path.empty() ? "dbfs:/" : s.path, s.options, out);
  if (s.cat->parsed()) return RunFsCat(client, s.path, out);
  if (s.cp->parsed()) return RunFsCp(client, s.source, s.target, s.options, out, err);
  if (s.mv->parsed()) return RunFsMv(client, s.source, s.target, out);
  if (s.rm->parsed()) return RunFsRm(client, s.path, s.options, out);
  if (s.mkdirs->parsed()) return RunFsMkdirs(client, s.path, out);
  return Error(ErrorCode::kInvalidParameterValue, "no fs command given");
}

}  // namespace tarn::cli
