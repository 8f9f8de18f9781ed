// SPDX-License-Identifier: Apache-2.0
// Module-private multipart/form-data (RFC 7578) parsing for uploads such as workspace/import.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/http/message.hpp"

namespace tarn::api::detail {

/// One part of a multipart/form-data body. `content` points into the request body.
struct FormPart {
  std::string name;
  std::optional<std::string> filename;
  std::string_view content;
};

/// Returns whether the request's Content-Type is multipart/form-data.
bool IsMultipartForm(const http::Request& request);

/// Splits the body of a multipart/form-data request into its parts. Part bodies are taken raw whatever their own
/// Content-Type (some clients label a file part multipart/form-data). Errors: kMalformedRequest for a missing
/// boundary or a truncated body.
Result<std::vector<FormPart>> ParseMultipartForm(const http::Request& request);

/// Returns the first part named `name`, if any.
const FormPart* FindFormPart(const std::vector<FormPart>& parts, std::string_view name);

}  // namespace tarn::api::detail
