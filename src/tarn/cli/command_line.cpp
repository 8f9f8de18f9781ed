// SPDX-License-Identifier: Apache-2.0
// Builds the CLI11 command tree, maps parse errors to usage messages (exit 2) and dispatches commands.
#include "tarn/cli/command_line.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <charconv>
#include <iostream>
#include <map>

#include "tarn/base/version.hpp"
#include "tarn/cli/fs_commands.hpp"
#include "tarn/cli/local_sql.hpp"
#include "tarn/cli/rest_client.hpp"
#include "tarn/cli/rest_commands.hpp"
#include "tarn/cli/secrets_commands.hpp"
#include "tarn/cli/workspace_commands.hpp"

namespace tarn::cli {
namespace {

constexpr char kDescription[] = "Tarn: a self-hosted lakehouse platform in one binary (server and client).";
constexpr char kFooter[] =
    "\nConnection settings for REST commands (highest precedence first):\n"
    "  --host / --token / --profile flags\n"
    "  DATABRICKS_HOST, DATABRICKS_TOKEN, DATABRICKS_CONFIG_PROFILE environment variables\n"
    "  a profile in ~/.databrickscfg (DATABRICKS_CONFIG_FILE overrides the path), default [DEFAULT]\n"
    "A host without a scheme gets https://, e.g. --host http://127.0.0.1:8080 for a local server.\n"
    "Global options (--host, --token, --profile, -o, --debug) may also follow the command.";

// Settings shared by every command.
struct GlobalOptions {
  ConnectionFlags connection;
  std::string output = "table";
  bool debug = false;
};

// Command-line values of every subcommand, bound by reference into the CLI11 tree.
struct ParsedCommandLine {
  GlobalOptions global;
  UpOptions up;
  std::string up_log_level;
  bool sql_local = false;
  std::string sql_data_dir = UpOptions().data_dir;
  std::string sql_command;
  std::string sql_file;
  std::string sql_format;
  std::optional<int64_t> token_lifetime_seconds;
  std::optional<std::string> token_comment;
  std::string token_id;
};

const std::map<std::string, LogLevel>& LogLevels() {
  static const std::map<std::string, LogLevel> levels = {
      {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo}, {"warn", LogLevel::kWarn}, {"error", LogLevel::kError}};
  return levels;
}

// Returns the deepest subcommand the parser selected and its full name ("tarn tokens revoke").
std::pair<const CLI::App*, std::string> SelectedCommand(const CLI::App& app) {
  const CLI::App* current = &app;
  std::string name = app.get_name();
  while (true) {
    auto selected = current->get_subcommands();
    if (selected.empty()) break;
    current = selected.front();
    name += " " + current->get_name();
  }
  return {current, name};
}

// Prints "Usage: ..." for the selected command, the error and a pointer to --help; returns kExitUsage.
int UsageError(const CLI::App& app, std::string_view message, std::ostream& err) {
  auto [command, name] = SelectedCommand(app);
  auto formatter = std::dynamic_pointer_cast<CLI::Formatter>(command->get_formatter());
  if (formatter) {
    err << formatter->make_usage(command, name);
  } else {
    err << "Usage: " << name << " [OPTIONS]\n";
  }
  err << "Error: " << message << "\n";
  err << "Run '" << name << " --help' for more information.\n";
  return kExitUsage;
}

// CLI11 reports an unknown command word as "A subcommand is required" (the requirement is checked before leftover
// arguments); name the unknown word and the valid commands instead.
std::string DescribeParseError(const CLI::App& app, const CLI::ParseError& e) {
  auto [command, name] = SelectedCommand(app);
  std::vector<std::string> leftover = app.remaining();
  auto subcommands = command->get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
  std::string names;
  for (const CLI::App* sub : subcommands) names += (names.empty() ? "" : ", ") + sub->get_name();
  if (!leftover.empty()) {
    const std::string& first = leftover.front();
    if (!first.empty() && first[0] == '-') return "unknown option '" + first + "'";
    if (!subcommands.empty()) return "unknown command '" + first + "' (commands: " + names + ")";
    return "unexpected argument '" + first + "'";
  }
  if (!subcommands.empty() && e.get_name() == "RequiredError") {
    return "a command is required (commands: " + names + ")";
  }
  return e.what();
}

// Accepts a whole number > 0 (CLI11's PositiveNumber prints its double range in the error).
CLI::Validator PositiveInteger() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        int64_t parsed = 0;
        auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
        if (error != std::errc() || end != value.data() + value.size() || parsed <= 0) {
          return "must be a whole number greater than 0, got '" + value + "'";
        }
        return "";
      },
      "INT>0");
}

int RunRestCommand(const GlobalOptions& global, const EnvLookup& env,
                   const std::function<Status(RestClient&, OutputFormat)>& command, std::ostream& err) {
  auto config = ResolveConnection(global.connection, env);
  if (!config.ok()) {
    err << "Error: " << config.error().message() << '\n';
    return kExitFailure;
  }
  RestClientOptions options;
  options.host = config->host;
  options.token = config->token;
  if (global.debug) {
    options.debug_log = &err;
    err << "* host " << config->host;
    if (!config->profile.empty()) err << " (profile " << config->profile << " in " << config->config_file << ")";
    err << '\n';
  }
  RestClient client(std::move(options));
  OutputFormat format = global.output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  Status status = command(client, format);
  if (!status.ok()) {
    err << "Error: " << status.message() << '\n';
    return kExitFailure;
  }
  return kExitOk;
}

int RunCommandLine(int argc, const char* const* argv, const CliHooks& hooks, std::ostream& out,
                   std::ostream& err) {
  ParsedCommandLine cmd;
  CLI::App app(kDescription, "tarn");
  app.set_version_flag("--version", std::string("tarn ") + kVersion);
  app.footer(kFooter);
  app.fallthrough();  // global flags are accepted after the subcommand too (inherited by subcommands)
  app.require_subcommand(1);
  app.get_formatter()->column_width(32);

  app.add_option("--host", cmd.global.connection.host, "Server URL, e.g. http://127.0.0.1:8080 (env DATABRICKS_HOST)")
      ->group("Connection");
  app.add_option("--token", cmd.global.connection.token, "Personal access token (env DATABRICKS_TOKEN)")
      ->group("Connection");
  app.add_option("-p,--profile", cmd.global.connection.profile,
                 "Profile in ~/.databrickscfg (env DATABRICKS_CONFIG_PROFILE, default DEFAULT)")
      ->group("Connection");
  app.add_option("-o,--output", cmd.global.output, "Output format: table (default) or json")
      ->check(CLI::IsMember({"table", "text", "json"}))
      ->group("Output");
  app.add_flag("--debug", cmd.global.debug, "Log requests to stderr (never the token)")->group("Output");

  // tarn up
  CLI::App* up = app.add_subcommand("up", "Start the Tarn server (REST API, web UI and SQL endpoint)");
  up->add_option("--data", cmd.up.data_dir, "Data directory (created if missing)")->capture_default_str();
  up->add_option("--bind", cmd.up.bind, "Address to listen on")->capture_default_str();
  up->add_option("--http-port", cmd.up.http_port, "HTTP port (REST API and web UI; 0 picks a free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  up->add_option("--sql-port", cmd.up.sql_port, "PostgreSQL wire protocol port (0 picks a free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  up->add_option("--threads", cmd.up.threads, "SQL engine worker threads (0: one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  up->add_option("--memory-limit", cmd.up.memory_limit, "SQL engine memory limit, e.g. 4GB (default: engine's)");
  up->add_option("--tls-cert", cmd.up.tls_cert, "PEM certificate (chain) for TLS on the SQL endpoint");
  up->add_option("--tls-key", cmd.up.tls_key, "PEM private key for TLS on the SQL endpoint");
  up->add_option("--sql-auth", cmd.up.sql_auth,
                 "SQL endpoint auth: scram-sha-256, or password (cleartext, TLS connections only)")
      ->check(CLI::IsMember({"scram-sha-256", "password"}))
      ->capture_default_str();
  up->add_option("--log-level", cmd.up_log_level, "Log level: debug, info (default), warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  // tarn sql
  CLI::App* sql = app.add_subcommand("sql", "Run SQL (in-process with --local)");
  sql->add_flag("--local", cmd.sql_local, "Run in this process against the data directory (required for now)");
  sql->add_option("--data", cmd.sql_data_dir, "Data directory (created if missing)")->capture_default_str();
  CLI::Option* sql_command = sql->add_option("-c,--command", cmd.sql_command, "SQL text to run (several "
                                             "statements run in order)");
  CLI::Option* sql_file = sql->add_option("-f,--file", cmd.sql_file, "SQL script file to run ('-' reads stdin)");
  sql_command->excludes(sql_file);
  sql->add_option("--format", cmd.sql_format, "Result format: table (default), csv or json (default follows -o)")
      ->check(CLI::IsMember({"table", "csv", "json"}));

  // The connection footer is about REST commands only.
  up->footer("");
  sql->footer("");

  // tarn auth
  CLI::App* auth = app.add_subcommand("auth", "Authentication commands");
  auth->require_subcommand(1);
  CLI::App* whoami = auth->add_subcommand("whoami", "Print the user the configured token belongs to");

  // tarn tokens
  CLI::App* tokens = app.add_subcommand("tokens", "Manage personal access tokens");
  tokens->require_subcommand(1);
  CLI::App* tokens_create = tokens->add_subcommand("create", "Create a personal access token (printed once)");
  tokens_create->add_option("--lifetime-seconds", cmd.token_lifetime_seconds,
                            "Lifetime in seconds (default: the server's)")
      ->check(PositiveInteger());
  tokens_create->add_option("--comment", cmd.token_comment, "Comment shown in `tarn tokens list`");
  CLI::App* tokens_list = tokens->add_subcommand("list", "List your tokens (never their secrets)");
  CLI::App* tokens_revoke = tokens->add_subcommand("revoke", "Revoke a token by id");
  tokens_revoke->add_option("TOKEN_ID", cmd.token_id, "Id of the token, as shown by `tarn tokens list`")
      ->required();

  // tarn fs
  std::unique_ptr<FsCommandLine> fs_command = FsCommandLine::Add(app);

  // tarn workspace, tarn secrets: parsing stores the chosen command here
  RestCommand group_command;
  AddWorkspaceCommands(app, group_command);
  AddSecretsCommands(app, group_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e, out, err);  // help
    return UsageError(app, DescribeParseError(app, e), err);
  }

  const EnvLookup env = hooks.env ? hooks.env : ProcessEnv();
  if (cmd.global.debug) Log::SetLevel(LogLevel::kDebug);

  if (up->parsed()) {
    if (!cmd.up_log_level.empty()) {
      cmd.up.log_level = LogLevels().at(cmd.up_log_level);
    } else if (cmd.global.debug) {
      cmd.up.log_level = LogLevel::kDebug;
    }
    if (!hooks.run_server) {
      err << "Error: this build of tarn has no server\n";
      return kExitFailure;
    }
    return hooks.run_server(cmd.up);
  }

  if (sql->parsed()) {
    if (!cmd.sql_local) {
      return UsageError(app,
                        "--local is required: `tarn sql` runs in-process for now (the remote SQL endpoint arrives "
                        "with the SQL warehouse)",
                        err);
    }
    if (cmd.sql_command.empty() && cmd.sql_file.empty()) {
      return UsageError(app, "give the SQL with -c \"SQL\" or a script with -f FILE", err);
    }
    LocalSqlOptions options;
    options.data_dir = cmd.sql_data_dir;
    options.sql = cmd.sql_command;
    options.file = cmd.sql_file;
    std::string format = cmd.sql_format.empty() ? (cmd.global.output == "json" ? "json" : "table") : cmd.sql_format;
    options.format = format == "csv" ? SqlFormat::kCsv : format == "json" ? SqlFormat::kJson : SqlFormat::kTable;
    return RunLocalSql(options, out, err);
  }

  if (whoami->parsed()) {
    return RunRestCommand(
        cmd.global, env, [&](RestClient& client, OutputFormat format) { return RunAuthWhoAmI(client, format, out); },
        err);
  }
  if (tokens_create->parsed()) {
    TokenCreateRequest request{cmd.token_lifetime_seconds, cmd.token_comment};
    return RunRestCommand(
        cmd.global, env,
        [&](RestClient& client, OutputFormat format) { return RunTokensCreate(client, request, format, out); }, err);
  }
  if (tokens_list->parsed()) {
    return RunRestCommand(
        cmd.global, env, [&](RestClient& client, OutputFormat format) { return RunTokensList(client, format, out); },
        err);
  }
  if (tokens_revoke->parsed()) {
    return RunRestCommand(
        cmd.global, env,
        [&](RestClient& client, OutputFormat format) { return RunTokensRevoke(client, cmd.token_id, format, out); },
        err);
  }
  if (fs_command->Parsed()) {
    bool progress_allowed = &err == &std::cerr && ::isatty(STDERR_FILENO) == 1;
    return RunRestCommand(
        cmd.global, env,
        [&](RestClient& client, OutputFormat format) {
          return fs_command->Run(client, format, progress_allowed, out, err);
        },
        err);
  }
  if (group_command) {
    return RunRestCommand(
        cmd.global, env,
        [&](RestClient& client, OutputFormat format) { return group_command(client, format, out, err); }, err);
  }
  return UsageError(app, "no command given", err);
}

}  // namespace

int Main(int argc, const char* const* argv, const CliHooks& hooks, std::ostream& out, std::ostream& err) {
  // Entry-point barrier: a library or hook exception becomes one error line instead of std::terminate.
  try {
    return RunCommandLine(argc, argv, hooks, out, err);
  } catch (const std::exception& e) {
    err << "Error: internal error: " << e.what() << '\n';
  } catch (...) {
    err << "Error: internal error\n";
  }
  return kExitFailure;
}

int Main(int argc, char** argv, const CliHooks& hooks) { return Main(argc, argv, hooks, std::cout, std::cerr); }

}  // namespace tarn::cli
