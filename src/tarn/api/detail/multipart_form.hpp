// SPDX-License-Identifier: Apache-2.0
// Module-private multipart/form-data (RFC 7578) parsing for uploads such as workspace/import and dbfs/put, whole
// (ParseMultipartForm) or incrementally as the body streams in (MultipartStreamParser).
#pragma once

#include <functional>
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

/// Splits a multipart/form-data body fed in pieces of any size, calling `on_part` at the start of each part and
/// `on_data` with its content as it arrives (possibly in many calls), so a part of any size passes through
/// bounded memory: at most one delimiter length of content is held back, plus one part's header block (limited to
/// kMaxPartHeaderBytes). A callback error stops the parser and is returned. Not thread-safe.
class MultipartStreamParser {
 public:
  using PartCallback = std::function<Status(const std::string& name, const std::optional<std::string>& filename)>;
  using DataCallback = std::function<Status(std::string_view data)>;
  static constexpr size_t kMaxPartHeaderBytes = 16 * 1024;

  /// Takes the boundary from the request's Content-Type (kMalformedRequest when missing).
  static Result<MultipartStreamParser> Create(const http::Request& request, PartCallback on_part,
                                              DataCallback on_data);
  /// Consumes the next bytes of the body. Errors: kMalformedRequest, or a callback's error.
  Status Feed(std::string_view data);
  /// Checks that the closing delimiter was seen (kMalformedRequest "truncated" otherwise).
  Status Finish() const;

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kDone };
  MultipartStreamParser(std::string boundary, PartCallback on_part, DataCallback on_data);
  // Consumes what it can of `data`; returns the number of bytes consumed (the rest must be kept and re-fed).
  Result<size_t> Process(std::string_view data);

  std::string delimiter_;       // "\r\n--" + boundary
  State state_ = State::kPreamble;
  std::string pending_;         // bytes not yet consumed
  PartCallback on_part_;
  DataCallback on_data_;
};

/// Returns the first part named `name`, if any.
const FormPart* FindFormPart(const std::vector<FormPart>& parts, std::string_view name);

}  // namespace tarn::api::detail
