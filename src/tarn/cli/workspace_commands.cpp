// SPDX-License-Identifier: Apache-2.0
// workspace commands: CLI11 wiring, local file handling, and rendering of Workspace API answers.
#include "tarn/cli/workspace_commands.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tarn/base/crypto.hpp"
#include "tarn/cli/detail/json_answer.hpp"
#include "tarn/cli/table_printer.hpp"

namespace tarn::cli {
namespace {

using nlohmann::json;
using detail::Field;
using detail::ParseAnswer;
namespace fs = std::filesystem;

constexpr char kListPath[] = "/api/2.0/workspace/list";
constexpr char kMkdirsPath[] = "/api/2.0/workspace/mkdirs";
constexpr char kDeletePath[] = "/api/2.0/workspace/delete";
constexpr char kImportPath[] = "/api/2.0/workspace/import";
constexpr char kExportPath[] = "/api/2.0/workspace/export";

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

std::string JoinPath(const std::string& parent, const std::string& name) {
  return parent.empty() || parent.back() == '/' ? parent + name : parent + "/" + name;
}

Result<std::string> ReadLocalFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIoError, "cannot read {}", path);
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) return Error(ErrorCode::kIoError, "cannot read {}", path);
  return data.str();
}

Status WriteLocalFile(const std::string& path, std::string_view data) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(data.data(), static_cast<std::streamsize>(data.size()));
  file.close();
  if (!file) return Error(ErrorCode::kIoError, "cannot write {}", path);
  return Status::OK();
}

// Lists one folder; a missing "objects" key means an empty folder.
Result<json> ListObjects(RestClient& client, const std::string& path) {
  TARN_ASSIGN_OR_RETURN(std::string body, client.Get(kListPath, {{"path", path}}));
  TARN_ASSIGN_OR_RETURN(json listed, ParseAnswer(body, kListPath));
  json objects = listed.value("objects", json::array());
  if (!objects.is_array())
    return Error(ErrorCode::kProtocolViolation, "answer to {} has a non-array objects", kListPath);
  return objects;
}

Result<std::string> ExportBytes(RestClient& client, const std::string& path, const std::string& format) {
  return client.Get(kExportPath, {{"path", path}, {"format", format}, {"direct_download", "true"}});
}

std::string ExtensionForLanguage(const std::string& language) {
  std::string upper = Upper(language);
  if (upper == "SQL") return ".sql";
  if (upper == "R") return ".r";
  if (upper == "SCALA") return ".scala";
  return ".py";
}

Status PrintDone(OutputFormat format, const std::string& message, std::ostream& out) {
  if (format == OutputFormat::kJson) {
    out << "{}\n";
  } else {
    out << message << '\n';
  }
  return Status::OK();
}

// Option values of the workspace commands; owned by the CLI11 callbacks.
struct WorkspaceArgs {
  std::string path;
  std::string local;
  bool long_listing = false;
  bool recursive = false;
  bool overwrite = false;
  WorkspaceImportOptions import;
  std::string export_format = "SOURCE";
};

}  // namespace

Status RunWorkspaceList(RestClient& client, const std::string& path, bool long_listing, OutputFormat format,
                        std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string body, client.Get(kListPath, {{"path", path}}));
  TARN_ASSIGN_OR_RETURN(json listed, ParseAnswer(body, kListPath));
  if (format == OutputFormat::kJson) {
    out << listed.dump(2) << '\n';
    return Status::OK();
  }
  json objects = listed.value("objects", json::array());
  std::vector<std::string> headers = {"TYPE", "LANGUAGE", "PATH"};
  if (long_listing) headers = {"TYPE", "LANGUAGE", "OBJECT ID", "MODIFIED", "PATH"};
  TablePrinter table(headers);
  if (long_listing) table.SetRightAligned(2);
  for (const auto& object : objects) {
    if (!object.is_object()) continue;
    std::string modified;
    if (auto it = object.find("modified_at"); it != object.end() && it->is_number_integer() && *it > 0) {
      modified = FormatEpochMillis(it->get<int64_t>());
    }
    if (long_listing) {
      table.AddRow({Field(object, "object_type"), Field(object, "language"), Field(object, "object_id"), modified,
                    Field(object, "path")});
    } else {
      table.AddRow({Field(object, "object_type"), Field(object, "language"), Field(object, "path")});
    }
  }
  table.Print(out);
  return Status::OK();
}

Status RunWorkspaceMkdirs(RestClient& client, const std::string& path, OutputFormat format, std::ostream& out) {
  TARN_RETURN_IF_ERROR(client.Post(kMkdirsPath, json{{"path", path}}.dump()).status());
  return PrintDone(format, "Created " + path, out);
}

Status RunWorkspaceDelete(RestClient& client, const std::string& path, bool recursive, OutputFormat format,
                          std::ostream& out) {
  TARN_RETURN_IF_ERROR(client.Post(kDeletePath, json{{"path", path}, {"recursive", recursive}}.dump()).status());
  return PrintDone(format, "Deleted " + path, out);
}

Status RunWorkspaceImport(RestClient& client, const std::string& local_file, const std::string& target_path,
                          const WorkspaceImportOptions& options, OutputFormat format, std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string content, ReadLocalFile(local_file));
  std::string import_format = Upper(options.format);
  std::string language = Upper(options.language);
  std::string extension = Lower(fs::path(local_file).extension().string());
  if (import_format.empty()) {
    if (extension == ".ipynb") {
      import_format = "JUPYTER";
    } else if (!language.empty() || extension == ".py" || extension == ".sql" || extension == ".r" ||
               extension == ".scala") {
      import_format = "SOURCE";
    } else {
      import_format = "RAW";
    }
  }
  if (import_format == "SOURCE" && language.empty()) {
    if (extension == ".py") language = "PYTHON";
    if (extension == ".sql") language = "SQL";
    if (extension == ".r") language = "R";
    if (extension == ".scala") language = "SCALA";
  }
  json body = {{"path", target_path},
               {"format", import_format},
               {"overwrite", options.overwrite},
               {"content", Base64Encode(content)}};
  if (!language.empty()) body["language"] = language;
  TARN_RETURN_IF_ERROR(client.Post(kImportPath, body.dump()).status());
  return PrintDone(format, "Imported " + local_file + " -> " + target_path + " (" + import_format + ")", out);
}

Status RunWorkspaceExport(RestClient& client, const std::string& path, const std::string& local_file,
                          const std::string& export_format, bool overwrite, std::ostream& out) {
  bool to_stdout = local_file.empty() || local_file == "-";
  std::string target = local_file;
  if (!to_stdout && fs::is_directory(target)) {
    return Error(ErrorCode::kInvalidParameterValue, "{} is a directory; give a file name", target);
  }
  if (!to_stdout && !overwrite && fs::exists(target)) {
    return Error(ErrorCode::kResourceAlreadyExists, "{} already exists (use --overwrite)", target);
  }
  TARN_ASSIGN_OR_RETURN(std::string bytes,
                        ExportBytes(client, path, export_format.empty() ? "SOURCE" : Upper(export_format)));
  if (to_stdout) {
    out << bytes;
    return Status::OK();
  }
  return WriteLocalFile(target, bytes);
}

Status RunWorkspaceImportDir(RestClient& client, const std::string& local_dir, const std::string& target_path,
                             bool overwrite, OutputFormat format, std::ostream& out) {
  std::error_code error;
  if (!fs::is_directory(local_dir, error)) return Error(ErrorCode::kIoError, "{} is not a directory", local_dir);
  std::vector<fs::path> entries;
  for (fs::recursive_directory_iterator it(local_dir, error), end; it != end && !error; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    entries.push_back(it->path());
  }
  if (error) return Error(ErrorCode::kIoError, "cannot read {}: {}", local_dir, error.message());
  std::sort(entries.begin(), entries.end());
  TARN_RETURN_IF_ERROR(client.Post(kMkdirsPath, json{{"path", target_path}}.dump()).status());
  json imported = json::array();
  for (const fs::path& entry : entries) {
    std::string relative = fs::relative(entry, local_dir).generic_string();
    std::string target = JoinPath(target_path, relative);
    if (fs::is_directory(entry)) {
      TARN_RETURN_IF_ERROR(client.Post(kMkdirsPath, json{{"path", target}}.dump()).status());
      continue;
    }
    if (!fs::is_regular_file(entry)) continue;
    TARN_ASSIGN_OR_RETURN(std::string content, ReadLocalFile(entry.string()));
    json body = {{"path", target}, {"format", "AUTO"}, {"overwrite", overwrite}, {"content", Base64Encode(content)}};
    TARN_RETURN_IF_ERROR(client.Post(kImportPath, body.dump()).status().WithContext("importing {}", entry.string()));
    if (format == OutputFormat::kTable) out << "Imported " << entry.string() << " -> " << target << '\n';
    imported.push_back({{"file", entry.string()}, {"path", target}});
  }
  if (format == OutputFormat::kJson) out << json{{"imported", imported}}.dump(2) << '\n';
  return Status::OK();
}

Status RunWorkspaceExportDir(RestClient& client, const std::string& path, const std::string& local_dir, bool overwrite,
                             OutputFormat format, std::ostream& out, std::ostream& err) {
  json exported = json::array();
  // Depth-first over (workspace folder, local directory) pairs.
  std::vector<std::pair<std::string, std::string>> pending = {{path, local_dir}};
  while (!pending.empty()) {
    auto [folder, directory] = pending.back();
    pending.pop_back();
    std::error_code error;
    fs::create_directories(directory, error);
    if (error) return Error(ErrorCode::kIoError, "cannot create {}: {}", directory, error.message());
    TARN_ASSIGN_OR_RETURN(json objects, ListObjects(client, folder));
    for (const auto& object : objects) {
      std::string object_path = Field(object, "path");
      std::string type = Field(object, "object_type");
      std::string name = object_path.substr(object_path.rfind('/') + 1);
      if (name.empty() || name == "." || name == "..") continue;
      if (type == "DIRECTORY") {
        pending.emplace_back(object_path, (fs::path(directory) / name).string());
        continue;
      }
      std::string file;
      std::string export_format = "SOURCE";
      if (type == "NOTEBOOK") {
        file = (fs::path(directory) / (name + ExtensionForLanguage(Field(object, "language")))).string();
      } else if (type == "FILE") {
        file = (fs::path(directory) / name).string();
        export_format = "AUTO";
      } else {
        err << "Skipped " << object_path << " (" << type << ")\n";
        continue;
      }
      if (!overwrite && fs::exists(file)) {
        err << "Skipped " << object_path << ": " << file << " exists (use --overwrite)\n";
        continue;
      }
      TARN_ASSIGN_OR_RETURN(std::string bytes, ExportBytes(client, object_path, export_format));
      TARN_RETURN_IF_ERROR(WriteLocalFile(file, bytes));
      if (format == OutputFormat::kTable) out << "Exported " << object_path << " -> " << file << '\n';
      exported.push_back({{"path", object_path}, {"file", file}});
    }
  }
  if (format == OutputFormat::kJson) out << json{{"exported", exported}}.dump(2) << '\n';
  return Status::OK();
}

void AddWorkspaceCommands(CLI::App& app, RestCommand& selected) {
  auto args = std::make_shared<WorkspaceArgs>();
  CLI::App* workspace = app.add_subcommand("workspace", "Manage notebooks, files and folders in the workspace");
  workspace->require_subcommand(1);
  auto select = [&selected](CLI::App* command, RestCommand run) {
    command->callback([&selected, run] { selected = run; });
  };
  const std::vector<std::string> kImportFormats = {"SOURCE", "JUPYTER", "AUTO", "RAW"};
  const std::vector<std::string> kLanguages = {"PYTHON", "SQL", "R", "SCALA"};

  CLI::App* ls = workspace->add_subcommand("ls", "List a workspace folder");
  ls->add_option("PATH", args->path, "Workspace folder (default /)");
  ls->add_flag("-l,--long", args->long_listing, "Also show object ids and modification times");
  select(ls, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunWorkspaceList(client, args->path.empty() ? "/" : args->path, args->long_listing, format, out);
  });

  CLI::App* mkdirs = workspace->add_subcommand("mkdirs", "Create a folder and its missing parents");
  mkdirs->add_option("PATH", args->path, "Workspace folder")->required();
  select(mkdirs, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunWorkspaceMkdirs(client, args->path, format, out);
  });

  CLI::App* rm = workspace->add_subcommand("rm", "Delete a notebook, file or folder");
  rm->add_option("PATH", args->path, "Workspace path")->required();
  rm->add_flag("-r,--recursive", args->recursive, "Delete a non-empty folder with everything in it");
  select(rm, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunWorkspaceDelete(client, args->path, args->recursive, format, out);
  });

  CLI::App* import = workspace->add_subcommand("import", "Import a local file as a notebook or file");
  import->add_option("LOCAL_FILE", args->local, "File to import")->required();
  import->add_option("TARGET_PATH", args->path, "Workspace path of the new object")->required();
  import
      ->add_option("-f,--format", args->import.format,
                   "SOURCE, JUPYTER, AUTO or RAW (default: from the file extension)")
      ->transform(CLI::IsMember(kImportFormats, CLI::ignore_case));
  import->add_option("-l,--language", args->import.language, "PYTHON, SQL, R or SCALA (SOURCE; default: extension)")
      ->transform(CLI::IsMember(kLanguages, CLI::ignore_case));
  import->add_flag("--overwrite", args->import.overwrite, "Replace an existing object");
  select(import, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunWorkspaceImport(client, args->local, args->path, args->import, format, out);
  });

  CLI::App* export_command = workspace->add_subcommand("export", "Export a notebook or file");
  export_command->add_option("PATH", args->path, "Workspace path")->required();
  export_command->add_option("LOCAL_FILE", args->local, "Destination file (default: standard output)");
  export_command->add_option("-f,--format", args->export_format, "SOURCE (default), JUPYTER, AUTO or RAW")
      ->transform(CLI::IsMember(kImportFormats, CLI::ignore_case));
  export_command->add_flag("--overwrite", args->overwrite, "Replace an existing local file");
  select(export_command, [args](RestClient& client, OutputFormat, std::ostream& out, std::ostream&) {
    return RunWorkspaceExport(client, args->path, args->local, args->export_format, args->overwrite, out);
  });

  CLI::App* import_dir = workspace->add_subcommand("import-dir", "Import a local directory tree (format AUTO)");
  import_dir->add_option("LOCAL_DIR", args->local, "Directory to import")->required();
  import_dir->add_option("TARGET_PATH", args->path, "Workspace folder to import into")->required();
  import_dir->add_flag("--overwrite", args->overwrite, "Replace existing objects");
  select(import_dir, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunWorkspaceImportDir(client, args->local, args->path, args->overwrite, format, out);
  });

  CLI::App* export_dir = workspace->add_subcommand("export-dir", "Export a workspace folder tree to a directory");
  export_dir->add_option("PATH", args->path, "Workspace folder")->required();
  export_dir->add_option("LOCAL_DIR", args->local, "Destination directory (created if missing)")->required();
  export_dir->add_flag("--overwrite", args->overwrite, "Replace existing local files");
  select(export_dir, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream& err) {
    return RunWorkspaceExportDir(client, args->path, args->local, args->overwrite, format, out, err);
  });
}

}  // namespace tarn::cli
