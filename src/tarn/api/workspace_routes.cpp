// SPDX-License-Identifier: Apache-2.0
// Workspace API 2.0 handlers: parameters from JSON, multipart or query strings; WorkspaceStore; Databricks JSON out.
#include "tarn/api/workspace_routes.hpp"

#include <cctype>

#include "tarn/api/detail/json_body.hpp"
#include "tarn/api/detail/multipart_form.hpp"
#include "tarn/base/crypto.hpp"

namespace tarn::api {
namespace {

using nlohmann::json;
using workspace::Format;
using workspace::ObjectInfo;
using workspace::ObjectType;

// Base64 text longer than this cannot decode to at most kMaxObjectBytes.
constexpr size_t kMaxBase64Bytes = (workspace::kMaxObjectBytes + 2) / 3 * 4 + 4;

json ObjectJson(const ObjectInfo& info) {
  json object = {{"path", info.path},
                 {"object_type", workspace::ObjectTypeName(info.type)},
                 {"object_id", info.object_id},
                 {"resource_id", std::to_string(info.object_id)}};
  if (info.language) object["language"] = notebooks::LanguageName(*info.language);
  if (info.path != "/") {
    object["created_at"] = info.created_at;
    object["modified_at"] = info.modified_at;
  }
  if (info.type != ObjectType::kDirectory) object["size"] = info.size;
  return object;
}

Result<bool> ParseBool(std::string_view name, std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0" || lower.empty()) return false;
  return Error(ErrorCode::kInvalidParameterValue, "Invalid value for '{}': expected a boolean, got '{}'", name, text);
}

// A boolean field of a JSON body: true/false, or a string as ParseBool takes it.
Result<bool> BoolField(const json& body, std::string_view name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return ParseBool(name, it->get_ref<const std::string&>());
  if (it->is_number_integer()) return it->get<int64_t>() != 0;
  return Error(ErrorCode::kInvalidParameterValue, "Invalid value for '{}': expected a boolean", name);
}

// Request parameters of a GET: the query string, else a JSON body (old clients send one with GET).
class GetParameters {
 public:
  explicit GetParameters(const http::Request& request) : request_(request) {
    if (!request.body.empty()) {
      auto parsed = detail::ParseJsonObject(request);
      if (parsed.has_value()) body_ = std::move(parsed).value();
    }
  }

  Result<std::optional<std::string>> Get(std::string_view name) const {
    if (auto value = request_.QueryParam(name)) return std::optional<std::string>(std::string(*value));
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return std::optional<std::string>();
    if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
    if (it->is_boolean() || it->is_number()) return std::optional<std::string>(it->dump());
    return Error(ErrorCode::kInvalidParameterValue, "Invalid value for '{}'", name);
  }

 private:
  const http::Request& request_;
  json body_ = json::object();
};

Result<std::string> RequiredPath(std::optional<std::string> path) {
  if (!path || path->empty()) return Error(ErrorCode::kInvalidParameterValue, "Missing required field: path");
  return std::move(*path);
}

Result<std::optional<notebooks::Language>> OptionalLanguage(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::optional<notebooks::Language>();
  TARN_ASSIGN_OR_RETURN(notebooks::Language language, notebooks::ParseLanguage(*text));
  return std::optional<notebooks::Language>(language);
}

Result<Format> OptionalFormat(const std::optional<std::string>& text, Format default_format) {
  if (!text || text->empty()) return default_format;
  return workspace::ParseFormat(*text);
}

Result<json> GetStatus(workspace::WorkspaceStore& store, http::Request& request) {
  GetParameters parameters(request);
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> path, parameters.Get("path"));
  TARN_ASSIGN_OR_RETURN(std::string required, RequiredPath(std::move(path)));
  TARN_ASSIGN_OR_RETURN(ObjectInfo info, store.GetStatus(required));
  return ObjectJson(info);
}

Result<json> List(workspace::WorkspaceStore& store, http::Request& request) {
  GetParameters parameters(request);
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> path, parameters.Get("path"));
  TARN_ASSIGN_OR_RETURN(std::string required, RequiredPath(std::move(path)));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> after_text, parameters.Get("notebooks_modified_after"));
  std::optional<int64_t> after;
  if (after_text && !after_text->empty()) {
    TARN_ASSIGN_OR_RETURN(
        after, detail::OptionalInt64(json{{"notebooks_modified_after", *after_text}}, "notebooks_modified_after"));
  }
  TARN_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, store.List(required, after));
  json answer = json::object();
  if (!objects.empty()) {
    json list = json::array();
    for (const auto& info : objects) list.push_back(ObjectJson(info));
    answer["objects"] = std::move(list);
  }
  return answer;
}

Result<json> Mkdirs(workspace::WorkspaceStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> path, detail::OptionalString(body, "path"));
  TARN_ASSIGN_OR_RETURN(std::string required, RequiredPath(std::move(path)));
  TARN_RETURN_IF_ERROR(store.Mkdirs(required));
  return json::object();
}

Result<std::string> DecodeContent(std::string_view base64) {
  if (base64.size() > kMaxBase64Bytes) {
    return Error(ErrorCode::kMaxNotebookSizeExceeded, "The content exceeds the limit of {} bytes.",
                 workspace::kMaxObjectBytes);
  }
  auto decoded = Base64Decode(base64);
  if (!decoded.has_value()) {
    return Error(ErrorCode::kInvalidParameterValue, "The 'content' field is not valid base64.");
  }
  return std::move(decoded).value();
}

Result<workspace::ImportRequest> ImportFromMultipart(const http::Request& request) {
  TARN_ASSIGN_OR_RETURN(std::vector<detail::FormPart> parts, detail::ParseMultipartForm(request));
  auto text = [&](std::string_view name) -> std::optional<std::string> {
    const detail::FormPart* part = detail::FindFormPart(parts, name);
    if (part == nullptr) return std::nullopt;
    return std::string(part->content);
  };
  workspace::ImportRequest import;
  TARN_ASSIGN_OR_RETURN(import.path, RequiredPath(text("path")));
  TARN_ASSIGN_OR_RETURN(import.format, OptionalFormat(text("format"), Format::kSource));
  TARN_ASSIGN_OR_RETURN(import.language, OptionalLanguage(text("language")));
  TARN_ASSIGN_OR_RETURN(import.overwrite, ParseBool("overwrite", text("overwrite").value_or("false")));
  const detail::FormPart* content = detail::FindFormPart(parts, "content");
  if (content == nullptr) {
    for (const auto& part : parts) {
      if (part.filename) content = &part;
    }
  }
  if (content == nullptr) return Error(ErrorCode::kInvalidParameterValue, "Missing required field: content");
  if (content->content.size() > workspace::kMaxObjectBytes) {
    return Error(ErrorCode::kMaxNotebookSizeExceeded, "The content ({} bytes) exceeds the limit of {} bytes.",
                 content->content.size(), workspace::kMaxObjectBytes);
  }
  import.content = std::string(content->content);
  return import;
}

Result<workspace::ImportRequest> ImportFromJson(const http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  workspace::ImportRequest import;
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> path, detail::OptionalString(body, "path"));
  TARN_ASSIGN_OR_RETURN(import.path, RequiredPath(std::move(path)));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> format, detail::OptionalString(body, "format"));
  TARN_ASSIGN_OR_RETURN(import.format, OptionalFormat(format, Format::kSource));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> language, detail::OptionalString(body, "language"));
  TARN_ASSIGN_OR_RETURN(import.language, OptionalLanguage(language));
  TARN_ASSIGN_OR_RETURN(import.overwrite, BoolField(body, "overwrite"));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> content, detail::OptionalString(body, "content"));
  if (!content) return Error(ErrorCode::kInvalidParameterValue, "Missing required field: content");
  TARN_ASSIGN_OR_RETURN(import.content, DecodeContent(*content));
  return import;
}

Result<json> Import(workspace::WorkspaceStore& store, http::Request& request) {
  workspace::ImportRequest import;
  if (detail::IsMultipartForm(request)) {
    TARN_ASSIGN_OR_RETURN(import, ImportFromMultipart(request));
  } else {
    TARN_ASSIGN_OR_RETURN(import, ImportFromJson(request));
  }
  TARN_RETURN_IF_ERROR(store.Import(import).status());
  return json::object();
}

Result<json> Delete(workspace::WorkspaceStore& store, http::Request& request) {
  TARN_ASSIGN_OR_RETURN(json body, detail::ParseJsonObject(request));
  TARN_ASSIGN_OR_RETURN(std::optional<std::string> path, detail::OptionalString(body, "path"));
  TARN_ASSIGN_OR_RETURN(std::string required, RequiredPath(std::move(path)));
  TARN_ASSIGN_OR_RETURN(bool recursive, BoolField(body, "recursive"));
  TARN_RETURN_IF_ERROR(store.Delete(required, recursive));
  return json::object();
}

// Export answers either JSON or raw bytes, so it is adapted to the router by hand.
http::Response Export(workspace::WorkspaceStore& store, http::Request& request) {
  auto run = [&]() -> Result<http::Response> {
    GetParameters parameters(request);
    TARN_ASSIGN_OR_RETURN(std::optional<std::string> path, parameters.Get("path"));
    TARN_ASSIGN_OR_RETURN(std::string required, RequiredPath(std::move(path)));
    TARN_ASSIGN_OR_RETURN(std::optional<std::string> format_text, parameters.Get("format"));
    TARN_ASSIGN_OR_RETURN(Format format, OptionalFormat(format_text, Format::kSource));
    TARN_ASSIGN_OR_RETURN(std::optional<std::string> direct_text, parameters.Get("direct_download"));
    TARN_ASSIGN_OR_RETURN(bool direct, ParseBool("direct_download", direct_text.value_or("false")));
    TARN_ASSIGN_OR_RETURN(workspace::ExportResult exported, store.Export(required, format));
    if (direct) {
      http::Response response = http::Response::Text(std::move(exported.content), 200, "application/octet-stream");
      std::string name(required.substr(required.rfind('/') + 1));
      std::string file_name = name;
      if (format != Format::kRaw && !exported.file_type.empty() &&
          (name.size() <= exported.file_type.size() ||
           name.substr(name.size() - exported.file_type.size() - 1) != "." + exported.file_type)) {
        file_name += "." + exported.file_type;
      }
      std::string quoted;
      for (char c : file_name) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      response.SetHeader("Content-Disposition", "attachment; filename=\"" + quoted + "\"");
      return response;
    }
    return detail::JsonResponse(json{{"content", Base64Encode(exported.content)}, {"file_type", exported.file_type}});
  };
  Result<http::Response> answer = run();
  if (!answer.has_value()) return http::Response::Error(answer.error());
  return std::move(answer).value();
}

// Runs `handler` after making sure the caller has a home folder.
template <typename Handler>
auto WithHome(workspace::WorkspaceStore& store, Handler handler) {
  return [&store, handler](http::Request& request) {
    Status home = store.EnsureHome(request.user_name);
    if (!home.ok()) return decltype(handler(request))(home);
    return handler(request);
  };
}

}  // namespace

void RegisterWorkspaceRoutes(http::Router& router, workspace::WorkspaceStore& store) {
  auto json_route = [&](http::Method method, std::string_view path,
                        Result<json> (*handler)(workspace::WorkspaceStore&, http::Request&)) {
    router.Add(
        method, path,
        detail::AuthenticatedJson(WithHome(store, [&store, handler](http::Request& r) { return handler(store, r); })));
  };
  json_route(http::Method::kGet, "/api/2.0/workspace/get-status", GetStatus);
  json_route(http::Method::kGet, "/api/2.0/workspace/list", List);
  json_route(http::Method::kPost, "/api/2.0/workspace/mkdirs", Mkdirs);
  json_route(http::Method::kPost, "/api/2.0/workspace/import", Import);
  json_route(http::Method::kPost, "/api/2.0/workspace/delete", Delete);
  router.Add(http::Method::kGet, "/api/2.0/workspace/export", [&store](http::Request& request) {
    if (request.user_id == 0) {
      return http::Response::Error(Error(ErrorCode::kUnauthenticated, "Missing authentication."));
    }
    Status home = store.EnsureHome(request.user_name);
    if (!home.ok()) return http::Response::Error(home);
    return Export(store, request);
  });
}

}  // namespace tarn::api
