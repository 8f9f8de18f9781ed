// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: REST request bytes the routes parse themselves: multipart/form-data bodies (whole and streamed
// in pieces), base64, JSON bodies and their typed fields, the Files API Range header and statement parameter
// binding. Checks that the streamed parser agrees with the whole-body parser. Crashes and sanitizer reports are bugs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/api/detail/byte_range.hpp"
#include "tarn/api/detail/json_body.hpp"
#include "tarn/api/detail/multipart_form.hpp"
#include "tarn/api/detail/statement_text.hpp"
#include "tarn/base/crypto.hpp"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// The multipart form as the streaming parser sees it when the body arrives in pieces of `piece` bytes.
struct StreamedPart {
  std::string name;
  std::optional<std::string> filename;
  std::string content;
};

std::optional<std::vector<StreamedPart>> ParseStreamed(const tarn::http::Request& request, size_t piece) {
  std::vector<StreamedPart> parts;
  auto parser = tarn::api::detail::MultipartStreamParser::Create(
      request,
      [&](const std::string& name, const std::optional<std::string>& filename) {
        parts.push_back({name, filename, {}});
        return tarn::Status();
      },
      [&](std::string_view data) {
        if (parts.empty()) std::abort();  // data before any part
        parts.back().content.append(data);
        return tarn::Status();
      });
  if (!parser.ok()) return std::nullopt;
  std::string_view body = request.body;
  for (size_t at = 0; at < body.size(); at += piece) {
    if (!parser->Feed(body.substr(at, piece)).ok()) return std::nullopt;
  }
  if (!parser->Finish().ok()) return std::nullopt;
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tarn;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // Base64 round trip.
  if (auto decoded = Base64Decode(bytes); decoded.ok()) {
    auto again = Base64Decode(Base64Encode(*decoded));
    Check(again.ok() && *again == *decoded);
  }

  // Range header against a few file sizes.
  for (int64_t file_size : {int64_t{0}, int64_t{1}, int64_t{100}, int64_t{1} << 40}) {
    api::detail::ByteRange range;
    if (api::detail::ParseRange(bytes, file_size, range) == api::detail::RangeKind::kSatisfiable) {
      Check(range.first >= 0 && range.first <= range.last && range.last < file_size);
    }
  }

  // JSON bodies and typed fields.
  http::Request json_request;
  json_request.body = std::string(bytes);
  if (auto object = api::detail::ParseJsonObject(json_request); object.ok()) {
    for (const auto& [key, value] : object->items()) {
      api::detail::OptionalInt64(*object, key).status().IgnoreError();
      api::detail::OptionalString(*object, key).status().IgnoreError();
    }
    api::detail::JsonResponse(*object);
  }

  // Named parameters: the text is the statement, the first line (if any) a parameter value.
  size_t newline = bytes.find('\n');
  std::string value(newline == std::string_view::npos ? std::string_view("v") : bytes.substr(0, newline));
  std::vector<api::StatementParameter> parameters = {
      {"a", value, ""}, {"b", std::nullopt, "INT"}, {"c", value, "DATE"}};
  api::detail::BindNamedParameters(bytes, parameters).status().IgnoreError();

  // multipart/form-data: the first line is the boundary, the rest the body.
  if (newline == std::string_view::npos) return 0;
  http::Request form;
  form.method = http::Method::kPost;
  form.headers.push_back({"Content-Type", "multipart/form-data; boundary=" + value});
  form.body = std::string(bytes.substr(newline + 1));
  auto whole = api::detail::ParseMultipartForm(form);
  if (whole.ok()) api::detail::FindFormPart(*whole, "file");
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}}) {
    auto streamed = ParseStreamed(form, piece);
    if (!whole.ok() || !streamed) continue;
    // Whatever both accept, they must agree on.
    Check(streamed->size() == whole->size());
    for (size_t i = 0; i < whole->size(); i++) {
      Check((*streamed)[i].name == (*whole)[i].name && (*streamed)[i].filename == (*whole)[i].filename &&
            (*streamed)[i].content == (*whole)[i].content);
    }
  }
  return 0;
}
