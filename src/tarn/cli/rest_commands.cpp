// SPDX-License-Identifier: Apache-2.0
// auth and tokens commands: request building and rendering of the JSON answers as tables or pretty JSON.
#include "tarn/cli/rest_commands.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "tarn/cli/table_printer.hpp"

namespace tarn::cli {
namespace {

using nlohmann::json;

constexpr char kMePath[] = "/api/2.0/preview/scim/v2/Me";
constexpr char kTokenCreatePath[] = "/api/2.0/token/create";
constexpr char kTokenListPath[] = "/api/2.0/token/list";
constexpr char kTokenDeletePath[] = "/api/2.0/token/delete";

Result<json> ParseObject(const std::string& body, std::string_view what) {
  auto parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  // An empty 200 body means "{}" for endpoints that return nothing (token/delete).
  if (parsed.is_discarded() && body.find_first_not_of(" \t\r\n") == std::string::npos) parsed = json::object();
  if (!parsed.is_object()) {
    return Error(ErrorCode::kProtocolViolation, "unexpected answer to {}: not a JSON object", what);
  }
  return parsed;
}

void PrintJson(const json& value, std::ostream& out) { out << value.dump(2) << '\n'; }

std::string Text(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

// Renders an epoch-ms field; -1 or 0 (and absence) mean "never" for expiry times.
std::string Time(const json& object, const char* key, const char* absent) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return absent;
  int64_t millis = 0;
  if (it->is_number_integer()) {
    millis = it->get<int64_t>();
  } else if (it->is_string()) {
    // int64 fields may arrive as JSON strings.
    const std::string& text = it->get_ref<const std::string&>();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), millis);
    if (error != std::errc() || end != text.data() + text.size()) return text;
  } else {
    return it->dump();
  }
  if (millis <= 0) return absent;
  return FormatEpochMillis(millis);
}

}  // namespace

Status RunAuthWhoAmI(RestClient& client, OutputFormat format, std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string body, client.Get(kMePath));
  TARN_ASSIGN_OR_RETURN(json me, ParseObject(body, kMePath));
  if (format == OutputFormat::kJson) {
    PrintJson(me, out);
    return Status::OK();
  }
  std::string user_name = Text(me, "userName");
  if (user_name.empty()) return Error(ErrorCode::kProtocolViolation, "answer to {} has no userName", kMePath);
  out << user_name << '\n';
  return Status::OK();
}

Status RunTokensCreate(RestClient& client, const TokenCreateRequest& request, OutputFormat format,
                       std::ostream& out) {
  json body = json::object();
  if (request.lifetime_seconds) body["lifetime_seconds"] = *request.lifetime_seconds;
  if (request.comment) body["comment"] = *request.comment;
  TARN_ASSIGN_OR_RETURN(std::string answer, client.Post(kTokenCreatePath, body.dump()));
  TARN_ASSIGN_OR_RETURN(json created, ParseObject(answer, kTokenCreatePath));
  if (format == OutputFormat::kJson) {
    PrintJson(created, out);
    return Status::OK();
  }
  std::string token_value = Text(created, "token_value");
  if (token_value.empty()) {
    return Error(ErrorCode::kProtocolViolation, "answer to {} has no token_value", kTokenCreatePath);
  }
  json info = created.value("token_info", json::object());
  if (!info.is_object()) info = json::object();
  TablePrinter table({"TOKEN ID", "COMMENT", "CREATED", "EXPIRES"});
  table.AddRow({Text(info, "token_id"), Text(info, "comment"), Time(info, "creation_time", ""),
                Time(info, "expiry_time", "never")});
  table.Print(out);
  out << "\nToken (shown only once, store it now):\n" << token_value << '\n';
  return Status::OK();
}

Status RunTokensList(RestClient& client, OutputFormat format, std::ostream& out) {
  TARN_ASSIGN_OR_RETURN(std::string answer, client.Get(kTokenListPath));
  TARN_ASSIGN_OR_RETURN(json listed, ParseObject(answer, kTokenListPath));
  if (format == OutputFormat::kJson) {
    PrintJson(listed, out);
    return Status::OK();
  }
  json infos = listed.value("token_infos", json::array());
  if (!infos.is_array()) {
    return Error(ErrorCode::kProtocolViolation, "answer to {} has a non-array token_infos", kTokenListPath);
  }
  TablePrinter table({"TOKEN ID", "COMMENT", "CREATED", "EXPIRES"});
  for (const auto& info : infos) {
    if (!info.is_object()) continue;
    table.AddRow({Text(info, "token_id"), Text(info, "comment"), Time(info, "creation_time", ""),
                  Time(info, "expiry_time", "never")});
  }
  table.Print(out);
  return Status::OK();
}

Status RunTokensRevoke(RestClient& client, const std::string& token_id, OutputFormat format, std::ostream& out) {
  json body = {{"token_id", token_id}};
  TARN_ASSIGN_OR_RETURN(std::string answer, client.Post(kTokenDeletePath, body.dump()));
  TARN_ASSIGN_OR_RETURN(json deleted, ParseObject(answer, kTokenDeletePath));
  if (format == OutputFormat::kJson) {
    PrintJson(deleted, out);
    return Status::OK();
  }
  out << "Revoked token " << token_id << '\n';
  return Status::OK();
}

}  // namespace tarn::cli
