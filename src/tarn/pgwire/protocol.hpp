// SPDX-License-Identifier: Apache-2.0
// PostgreSQL wire protocol v3 codec: frontend message decoding and backend message encoding (no I/O).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "tarn/base/result.hpp"

namespace tarn::pgwire {

inline constexpr int32_t kProtocolVersion3 = 196608;  // 3.0
inline constexpr int32_t kCancelRequestCode = 80877102;
inline constexpr int32_t kSslRequestCode = 80877103;
inline constexpr int32_t kGssEncRequestCode = 80877104;
/// Largest startup packet accepted (PostgreSQL uses 10000).
inline constexpr size_t kMaxStartupPacketBytes = 10000;
/// Largest regular message accepted (body bytes).
inline constexpr size_t kMaxMessageBytes = 256u << 20;

/// The first packet of a connection (no type byte).
struct StartupPacket {
  enum class Kind { kStartup, kSslRequest, kGssEncRequest, kCancelRequest };
  Kind kind = Kind::kStartup;
  int32_t version = 0;                                       // kStartup: protocol version
  std::vector<std::pair<std::string, std::string>> params;   // kStartup: user, database, options...
  int32_t cancel_pid = 0;                                     // kCancelRequest
  int32_t cancel_secret = 0;                                  // kCancelRequest
};

/// Decodes a startup-phase packet body (everything after the Int32 length). Errors: kProtocolViolation.
Result<StartupPacket> DecodeStartupPacket(std::string_view body);

struct ParseMessage {
  std::string name;
  std::string query;
  std::vector<int32_t> param_types;
};
struct BindMessage {
  std::string portal;
  std::string statement;
  std::vector<int16_t> param_formats;
  std::vector<std::optional<std::string>> params;  // nullopt = NULL
  std::vector<int16_t> result_formats;
};
struct DescribeMessage {
  char kind = 'S';  // 'S' statement or 'P' portal
  std::string name;
};
struct ExecuteMessage {
  std::string portal;
  int32_t max_rows = 0;  // 0 = no limit
};
struct CloseMessage {
  char kind = 'S';
  std::string name;
};
struct QueryMessage {
  std::string sql;
};
/// 'p': password, SASLInitialResponse or SASLResponse; which one depends on the authentication state.
struct PasswordMessage {
  std::string body;
};
struct CopyDataMessage {
  std::string data;
};
struct CopyFailMessage {
  std::string message;
};
/// Messages without a body worth keeping: 'S' Sync, 'H' Flush, 'X' Terminate, 'c' CopyDone, 'F' FunctionCall.
struct ControlMessage {
  char type = 0;
};

using FrontendMessage = std::variant<ParseMessage, BindMessage, DescribeMessage, ExecuteMessage, CloseMessage,
                                     QueryMessage, PasswordMessage, CopyDataMessage, CopyFailMessage, ControlMessage>;

/// Decodes one regular frontend message of `type` with `body` (after the Int32 length). Never reads out of bounds.
/// Errors: kProtocolViolation for unknown types, truncated or inconsistent bodies, trailing bytes.
Result<FrontendMessage> DecodeFrontendMessage(char type, std::string_view body);

/// SASLInitialResponse: mechanism name and the client-first-message (nullopt when the length is -1).
struct SaslInitialResponse {
  std::string mechanism;
  std::optional<std::string> data;
};
Result<SaslInitialResponse> DecodeSaslInitialResponse(std::string_view body);
/// A plain password message: the password without its terminating NUL.
Result<std::string> DecodePasswordMessage(std::string_view body);

/// Splits a byte stream into regular messages. Feed bytes with Append(); Next() returns a complete message, nullopt
/// when more bytes are needed, or kProtocolViolation for a bad length (the stream is then unusable).
class FrameReader {
 public:
  struct Frame {
    char type;
    std::string body;
  };
  void Append(std::string_view bytes) { buffer_.append(bytes); }
  Result<std::optional<Frame>> Next();
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  size_t offset_ = 0;
};

/// One field of a RowDescription.
struct FieldDescription {
  std::string name;
  int32_t table_oid = 0;
  int16_t column_attnum = 0;
  int32_t type_oid = 0;
  int16_t type_len = -1;
  int32_t type_mod = -1;
  int16_t format = 0;
};

/// Fields of an ErrorResponse / NoticeResponse.
struct ErrorFields {
  std::string severity = "ERROR";  // ERROR, FATAL, WARNING, NOTICE...
  std::string sqlstate = "XX000";
  std::string message;
  std::string detail;
  std::string hint;
  std::optional<size_t> position;  // 1-based character position in the query
};

/// Appends backend messages to a byte buffer. All lengths are computed here; callers never frame by hand.
class BackendWriter {
 public:
  explicit BackendWriter(std::string& out) : out_(out) {}

  void AuthenticationOk();
  void AuthenticationCleartextPassword();
  void AuthenticationSasl(const std::vector<std::string>& mechanisms);
  void AuthenticationSaslContinue(std::string_view data);
  void AuthenticationSaslFinal(std::string_view data);
  void ParameterStatus(std::string_view name, std::string_view value);
  void BackendKeyData(int32_t pid, int32_t secret);
  void NegotiateProtocolVersion(int32_t newest_minor, const std::vector<std::string>& unrecognized);
  void ReadyForQuery(char status);
  void RowDescription(const std::vector<FieldDescription>& fields);
  void ParameterDescription(const std::vector<int32_t>& oids);
  void CommandComplete(std::string_view tag);
  void EmptyQueryResponse();
  void NoData();
  void ParseComplete();
  void BindComplete();
  void CloseComplete();
  void PortalSuspended();
  void Error(const ErrorFields& fields);
  void Notice(const ErrorFields& fields);
  void CopyOutResponse(int8_t format, const std::vector<int16_t>& column_formats);
  void CopyInResponse(int8_t format, const std::vector<int16_t>& column_formats);
  void CopyData(std::string_view data);
  void CopyDone();

  /// DataRow in pieces: BeginDataRow, then one AppendNull / BeginValue+bytes+EndValue per column, then EndDataRow.
  void BeginDataRow(int16_t num_columns);
  void AppendNull();
  /// Appends a complete value.
  void AppendValue(std::string_view bytes);
  /// For encoders that write straight into the buffer: returns the buffer; call EndValue() after appending.
  std::string& BeginValue();
  void EndValue();
  void EndDataRow();

  /// One column of DataRows built a column at a time: the values' bytes back to back, one length per row (-1 =
  /// NULL, no bytes).
  struct ColumnValues {
    std::string bytes;
    std::vector<int32_t> lengths;
  };
  /// Appends `num_rows` DataRows at once, row r holding value r of each column (each column has num_rows lengths
  /// whose non-negative sum is its bytes' size). The buffer grows once for all of them.
  void DataRows(const std::vector<ColumnValues>& columns, size_t num_rows);

  /// Starts any message; the returned offset is passed to EndMessage, which fills in the length.
  size_t BeginMessage(char type);
  void EndMessage(size_t start);

  std::string& buffer() { return out_; }

 private:
  void ErrorOrNotice(char type, const ErrorFields& fields);
  std::string& out_;
  size_t row_start_ = 0;
  size_t value_start_ = 0;
};

/// Big-endian helpers shared by the encoders.
void AppendInt16(std::string& out, int16_t v);
void AppendInt32(std::string& out, int32_t v);
void AppendInt64(std::string& out, int64_t v);
int16_t ReadInt16(const char* p);
int32_t ReadInt32(const char* p);
int64_t ReadInt64(const char* p);

}  // namespace tarn::pgwire
