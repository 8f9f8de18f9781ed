// SPDX-License-Identifier: Apache-2.0
// secrets commands: CLI11 wiring, request bodies, and tables for scopes, secret keys and ACLs.
#include "tarn/cli/secrets_commands.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
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

constexpr char kScopesCreatePath[] = "/api/2.0/secrets/scopes/create";
constexpr char kScopesListPath[] = "/api/2.0/secrets/scopes/list";
constexpr char kScopesDeletePath[] = "/api/2.0/secrets/scopes/delete";
constexpr char kPutPath[] = "/api/2.0/secrets/put";
constexpr char kListPath[] = "/api/2.0/secrets/list";
constexpr char kGetPath[] = "/api/2.0/secrets/get";
constexpr char kDeletePath[] = "/api/2.0/secrets/delete";
constexpr char kAclsPutPath[] = "/api/2.0/secrets/acls/put";
constexpr char kAclsListPath[] = "/api/2.0/secrets/acls/list";
constexpr char kAclsDeletePath[] = "/api/2.0/secrets/acls/delete";

// POSTs `body` and prints `message` (table) or the JSON answer.
Status PostAndReport(RestClient& client, const char* path, const json& body, OutputFormat format,
                     const std::string& message, std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string answer, client.Post(path, body.dump()));
  TARN_ASSIGN_OR_RETURN(json parsed, ParseAnswer(answer, path));
  if (format == OutputFormat::kJson) {
    out << parsed.dump(2) << '\n';
  } else {
    out << message << '\n';
  }
  return Status::OK();
}

// GETs a list and prints it as a table of `columns` (JSON keys) under `headers`, or the JSON answer.
Status GetAndPrintTable(RestClient& client, const char* path, const QueryParams& query, const char* list_key,
                        const std::vector<std::string>& headers, const std::vector<const char*>& columns,
                        OutputFormat format, std::ostream& out, const char* time_column = nullptr) {
  TARN_ASSIGN_OR_RETURN(std::string answer, client.Get(path, query));
  TARN_ASSIGN_OR_RETURN(json parsed, ParseAnswer(answer, path));
  if (format == OutputFormat::kJson) {
    out << parsed.dump(2) << '\n';
    return Status::OK();
  }
  json items = parsed.value(list_key, json::array());
  if (!items.is_array()) return Error(ErrorCode::kProtocolViolation, "answer to {} has a non-array {}", path, list_key);
  TablePrinter table(headers);
  for (const auto& item : items) {
    if (!item.is_object()) continue;
    std::vector<std::string> row;
    for (const char* column : columns) {
      if (time_column != nullptr && std::string_view(column) == time_column) {
        auto it = item.find(column);
        row.push_back(it != item.end() && it->is_number_integer() ? FormatEpochMillis(it->get<int64_t>())
                                                                  : Field(item, column));
      } else {
        row.push_back(Field(item, column));
      }
    }
    table.AddRow(std::move(row));
  }
  table.Print(out);
  return Status::OK();
}

// Option values of the secrets commands; owned by the CLI11 callbacks.
struct SecretsArgs {
  std::string scope;
  std::string key;
  std::string principal;
  std::string permission;
  std::optional<std::string> initial_manage_principal;
  std::optional<std::string> string_value;
  std::optional<std::string> bytes_value;
  std::optional<std::string> binary_file;
};

Result<SecretValue> ValueFromArgs(const SecretsArgs& args) {
  if (args.string_value) return SecretValue{*args.string_value, false};
  if (args.bytes_value) {
    auto decoded = Base64Decode(*args.bytes_value);
    if (!decoded.has_value()) return Error(ErrorCode::kInvalidParameterValue, "--bytes-value is not valid base64");
    return SecretValue{std::move(decoded).value(), true};
  }
  std::string data;
  if (args.binary_file) {
    std::ifstream in(*args.binary_file, std::ios::binary);
    if (!in) return Error(ErrorCode::kIoError, "cannot read {}", *args.binary_file);
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  return SecretValue{std::move(data), true};
}

}  // namespace

Status RunSecretsCreateScope(RestClient& client, const std::string& scope,
                             const std::optional<std::string>& initial_manage_principal, OutputFormat format,
                             std::ostream& out) {
  json body = {{"scope", scope}};
  if (initial_manage_principal) body["initial_manage_principal"] = *initial_manage_principal;
  return PostAndReport(client, kScopesCreatePath, body, format, "Created scope " + scope, out);
}

Status RunSecretsListScopes(RestClient& client, OutputFormat format, std::ostream& out) {
  return GetAndPrintTable(client, kScopesListPath, {}, "scopes", {"SCOPE", "BACKEND"}, {"name", "backend_type"}, format,
                          out);
}

Status RunSecretsDeleteScope(RestClient& client, const std::string& scope, OutputFormat format, std::ostream& out) {
  return PostAndReport(client, kScopesDeletePath, {{"scope", scope}}, format, "Deleted scope " + scope, out);
}

Status RunSecretsPut(RestClient& client, const std::string& scope, const std::string& key, const SecretValue& value,
                     OutputFormat format, std::ostream& out) {
  json body = {{"scope", scope}, {"key", key}};
  if (value.is_bytes) {
    body["bytes_value"] = Base64Encode(value.data);
  } else {
    body["string_value"] = value.data;
  }
  return PostAndReport(client, kPutPath, body, format, "Stored secret " + scope + "/" + key, out);
}

Status RunSecretsList(RestClient& client, const std::string& scope, OutputFormat format, std::ostream& out) {
  return GetAndPrintTable(client, kListPath, {{"scope", scope}}, "secrets", {"KEY", "LAST UPDATED"},
                          {"key", "last_updated_timestamp"}, format, out, "last_updated_timestamp");
}

Status RunSecretsDelete(RestClient& client, const std::string& scope, const std::string& key, OutputFormat format,
                        std::ostream& out) {
  return PostAndReport(client, kDeletePath, {{"scope", scope}, {"key", key}}, format,
                       "Deleted secret " + scope + "/" + key, out);
}

Status RunSecretsGet(RestClient& client, const std::string& scope, const std::string& key, OutputFormat format,
                     std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string answer, client.Get(kGetPath, {{"scope", scope}, {"key", key}}));
  TARN_ASSIGN_OR_RETURN(json parsed, ParseAnswer(answer, kGetPath));
  if (format == OutputFormat::kJson) {
    out << parsed.dump(2) << '\n';
    return Status::OK();
  }
  auto value = Base64Decode(Field(parsed, "value"));
  if (!value.has_value()) return Error(ErrorCode::kProtocolViolation, "answer to {} has no base64 value", kGetPath);
  out << *value;
  return Status::OK();
}

Status RunSecretsPutAcl(RestClient& client, const std::string& scope, const std::string& principal,
                        const std::string& permission, OutputFormat format, std::ostream& out) {
  return PostAndReport(client, kAclsPutPath, {{"scope", scope}, {"principal", principal}, {"permission", permission}},
                       format, "Granted " + permission + " on " + scope + " to " + principal, out);
}

Status RunSecretsListAcls(RestClient& client, const std::string& scope, OutputFormat format, std::ostream& out) {
  return GetAndPrintTable(client, kAclsListPath, {{"scope", scope}}, "items", {"PRINCIPAL", "PERMISSION"},
                          {"principal", "permission"}, format, out);
}

Status RunSecretsDeleteAcl(RestClient& client, const std::string& scope, const std::string& principal,
                           OutputFormat format, std::ostream& out) {
  return PostAndReport(client, kAclsDeletePath, {{"scope", scope}, {"principal", principal}}, format,
                       "Removed the ACL of " + principal + " on " + scope, out);
}

void AddSecretsCommands(CLI::App& app, RestCommand& selected) {
  auto args = std::make_shared<SecretsArgs>();
  CLI::App* secrets = app.add_subcommand("secrets", "Manage secret scopes, secrets and their ACLs");
  secrets->require_subcommand(1);
  auto select = [&selected](CLI::App* command, RestCommand run) {
    command->callback([&selected, run] { selected = run; });
  };
  auto scope_argument = [&](CLI::App* command) {
    command->add_option("SCOPE", args->scope, "Secret scope name")->required();
  };

  CLI::App* create_scope = secrets->add_subcommand("create-scope", "Create a secret scope (you get MANAGE on it)");
  scope_argument(create_scope);
  create_scope->add_option("--initial-manage-principal", args->initial_manage_principal,
                           "Also grant MANAGE to this principal (only 'users' is accepted)");
  select(create_scope, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunSecretsCreateScope(client, args->scope, args->initial_manage_principal, format, out);
  });

  CLI::App* list_scopes = secrets->add_subcommand("list-scopes", "List secret scopes");
  select(list_scopes, [](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunSecretsListScopes(client, format, out);
  });

  CLI::App* delete_scope = secrets->add_subcommand("delete-scope", "Delete a scope with all its secrets");
  scope_argument(delete_scope);
  select(delete_scope, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunSecretsDeleteScope(client, args->scope, format, out);
  });

  CLI::App* put = secrets->add_subcommand("put", "Store a secret (value from a flag, a file, or standard input)");
  scope_argument(put);
  put->add_option("KEY", args->key, "Secret key")->required();
  CLI::Option* string_value = put->add_option("--string-value", args->string_value, "The value as text");
  CLI::Option* bytes_value = put->add_option("--bytes-value", args->bytes_value, "The value as base64 bytes");
  CLI::Option* binary_file = put->add_option("--binary-file", args->binary_file, "Read the value from this file");
  string_value->excludes(bytes_value)->excludes(binary_file);
  bytes_value->excludes(binary_file);
  select(put, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) -> Status {
    TARN_ASSIGN_OR_RETURN(SecretValue value, ValueFromArgs(*args));
    return RunSecretsPut(client, args->scope, args->key, value, format, out);
  });

  CLI::App* list = secrets->add_subcommand("list", "List the secret keys of a scope (never values)");
  scope_argument(list);
  select(list, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunSecretsList(client, args->scope, format, out);
  });

  CLI::App* get = secrets->add_subcommand("get", "Print a secret's value (needs READ)");
  scope_argument(get);
  get->add_option("KEY", args->key, "Secret key")->required();
  select(get, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunSecretsGet(client, args->scope, args->key, format, out);
  });

  CLI::App* remove = secrets->add_subcommand("delete", "Delete a secret");
  scope_argument(remove);
  remove->add_option("KEY", args->key, "Secret key")->required();
  select(remove, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunSecretsDelete(client, args->scope, args->key, format, out);
  });

  const std::vector<std::string> kPermissions = {"READ", "WRITE", "MANAGE"};
  CLI::App* put_acl = secrets->add_subcommand("put-acl", "Grant a principal READ, WRITE or MANAGE on a scope");
  scope_argument(put_acl);
  put_acl->add_option("PRINCIPAL", args->principal, "User name, or 'users' for everyone")->required();
  put_acl->add_option("PERMISSION", args->permission, "READ, WRITE or MANAGE")
      ->required()
      ->transform(CLI::IsMember(kPermissions, CLI::ignore_case));
  select(put_acl, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunSecretsPutAcl(client, args->scope, args->principal, args->permission, format, out);
  });

  CLI::App* list_acls = secrets->add_subcommand("list-acls", "List the ACLs of a scope");
  scope_argument(list_acls);
  select(list_acls, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunSecretsListAcls(client, args->scope, format, out);
  });

  CLI::App* delete_acl = secrets->add_subcommand("delete-acl", "Remove a principal's ACL from a scope");
  scope_argument(delete_acl);
  delete_acl->add_option("PRINCIPAL", args->principal, "User name or 'users'")->required();
  select(delete_acl, [args](RestClient& client, OutputFormat format, std::ostream& out, std::ostream&) {
    return RunSecretsDeleteAcl(client, args->scope, args->principal, format, out);
  });
}

}  // namespace tarn::cli
