// SPDX-License-Identifier: Apache-2.0
// PostgreSQL wire protocol v3 codec: bounds-checked message decoding and length-framed message encoding.
#include "tarn/pgwire/protocol.hpp"

#include <cstring>

namespace tarn::pgwire {
namespace {

Status Violation(std::string_view what) { return Error(ErrorCode::kProtocolViolation, "invalid message: {}", what); }

// Reads typed fields from a message body; every read checks the remaining length.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool Int16(int16_t& v) {
    if (data_.size() - pos_ < 2) return false;
    v = ReadInt16(data_.data() + pos_);
    pos_ += 2;
    return true;
  }
  bool Int32(int32_t& v) {
    if (data_.size() - pos_ < 4) return false;
    v = ReadInt32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool Byte(char& c) {
    if (pos_ >= data_.size()) return false;
    c = data_[pos_++];
    return true;
  }
  bool CString(std::string& s) {
    size_t end = data_.find('\0', pos_);
    if (end == std::string_view::npos) return false;
    s.assign(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return true;
  }
  bool Bytes(size_t n, std::string& s) {
    if (data_.size() - pos_ < n) return false;
    s.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  std::string_view Rest() const { return data_.substr(pos_); }
  bool AtEnd() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

bool ReadFormats(Reader& r, std::vector<int16_t>& formats) {
  int16_t n = 0;
  if (!r.Int16(n) || n < 0) return false;
  formats.resize(static_cast<size_t>(n));
  for (auto& f : formats) {
    if (!r.Int16(f)) return false;
    if (f != 0 && f != 1) return false;
  }
  return true;
}

}  // namespace

void AppendInt16(std::string& out, int16_t v) {
  auto u = static_cast<uint16_t>(v);
  char b[2] = {static_cast<char>(u >> 8), static_cast<char>(u)};
  out.append(b, 2);
}
void AppendInt32(std::string& out, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
               static_cast<char>(u)};
  out.append(b, 4);
}
void AppendInt64(std::string& out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  AppendInt32(out, static_cast<int32_t>(u >> 32));
  AppendInt32(out, static_cast<int32_t>(u & 0xffffffffu));
}
int16_t ReadInt16(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int16_t>((b[0] << 8) | b[1]);
}
int32_t ReadInt32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3]);
}
int64_t ReadInt64(const char* p) {
  return static_cast<int64_t>((static_cast<uint64_t>(static_cast<uint32_t>(ReadInt32(p))) << 32) |
                              static_cast<uint32_t>(ReadInt32(p + 4)));
}

Result<StartupPacket> DecodeStartupPacket(std::string_view body) {
  Reader r(body);
  int32_t code = 0;
  if (!r.Int32(code)) return Violation("startup packet too short");
  StartupPacket packet;
  if (code == kSslRequestCode || code == kGssEncRequestCode) {
    if (!r.AtEnd()) return Violation("SSL/GSS request with trailing bytes");
    packet.kind = code == kSslRequestCode ? StartupPacket::Kind::kSslRequest : StartupPacket::Kind::kGssEncRequest;
    return packet;
  }
  if (code == kCancelRequestCode) {
    packet.kind = StartupPacket::Kind::kCancelRequest;
    if (!r.Int32(packet.cancel_pid) || !r.Int32(packet.cancel_secret) || !r.AtEnd()) {
      return Violation("malformed cancel request");
    }
    return packet;
  }
  if ((code >> 16) != 3) {
    return Error(ErrorCode::kFeatureNotSupported, "unsupported frontend protocol {}.{}: server supports 3.0",
                 code >> 16, code & 0xffff);
  }
  packet.kind = StartupPacket::Kind::kStartup;
  packet.version = code;
  while (true) {
    std::string key;
    if (!r.CString(key)) return Violation("startup parameters not terminated");
    if (key.empty()) break;
    std::string value;
    if (!r.CString(value)) return Violation("startup parameter without value");
    packet.params.emplace_back(std::move(key), std::move(value));
  }
  if (!r.AtEnd()) return Violation("trailing bytes after startup parameters");
  return packet;
}

Result<FrontendMessage> DecodeFrontendMessage(char type, std::string_view body) {
  Reader r(body);
  switch (type) {
    case 'Q': {
      QueryMessage m;
      if (!r.CString(m.sql) || !r.AtEnd()) return Violation("Query");
      return FrontendMessage(std::move(m));
    }
    case 'P': {
      ParseMessage m;
      int16_t n = 0;
      if (!r.CString(m.name) || !r.CString(m.query) || !r.Int16(n) || n < 0) return Violation("Parse");
      m.param_types.resize(static_cast<size_t>(n));
      for (auto& oid : m.param_types) {
        if (!r.Int32(oid)) return Violation("Parse parameter types");
      }
      if (!r.AtEnd()) return Violation("Parse trailing bytes");
      return FrontendMessage(std::move(m));
    }
    case 'B': {
      BindMessage m;
      if (!r.CString(m.portal) || !r.CString(m.statement) || !ReadFormats(r, m.param_formats)) {
        return Violation("Bind");
      }
      int16_t n = 0;
      if (!r.Int16(n) || n < 0) return Violation("Bind parameter count");
      m.params.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; i++) {
        int32_t len = 0;
        if (!r.Int32(len) || len < -1) return Violation("Bind parameter length");
        if (len == -1) {
          m.params.emplace_back(std::nullopt);
          continue;
        }
        std::string value;
        if (!r.Bytes(static_cast<size_t>(len), value)) return Violation("Bind parameter value");
        m.params.emplace_back(std::move(value));
      }
      if (!ReadFormats(r, m.result_formats) || !r.AtEnd()) return Violation("Bind result formats");
      return FrontendMessage(std::move(m));
    }
    case 'D':
    case 'C': {
      char kind = 0;
      std::string name;
      if (!r.Byte(kind) || (kind != 'S' && kind != 'P') || !r.CString(name) || !r.AtEnd()) {
        return Violation(type == 'D' ? "Describe" : "Close");
      }
      if (type == 'D') return FrontendMessage(DescribeMessage{kind, std::move(name)});
      return FrontendMessage(CloseMessage{kind, std::move(name)});
    }
    case 'E': {
      ExecuteMessage m;
      if (!r.CString(m.portal) || !r.Int32(m.max_rows) || !r.AtEnd()) return Violation("Execute");
      return FrontendMessage(std::move(m));
    }
    case 'p':
      return FrontendMessage(PasswordMessage{std::string(body)});
    case 'd':
      return FrontendMessage(CopyDataMessage{std::string(body)});
    case 'f': {
      CopyFailMessage m;
      if (!r.CString(m.message) || !r.AtEnd()) return Violation("CopyFail");
      return FrontendMessage(std::move(m));
    }
    case 'S':
    case 'H':
    case 'X':
    case 'c':
      if (!r.AtEnd()) return Violation("unexpected message body");
      return FrontendMessage(ControlMessage{type});
    case 'F':
      return FrontendMessage(ControlMessage{type});
    default:
      return Error(ErrorCode::kProtocolViolation, "invalid frontend message type {}", static_cast<int>(
          static_cast<unsigned char>(type)));
  }
}

Result<SaslInitialResponse> DecodeSaslInitialResponse(std::string_view body) {
  Reader r(body);
  SaslInitialResponse m;
  int32_t len = 0;
  if (!r.CString(m.mechanism) || !r.Int32(len) || len < -1) return Violation("SASLInitialResponse");
  if (len >= 0) {
    std::string data;
    if (!r.Bytes(static_cast<size_t>(len), data)) return Violation("SASLInitialResponse data");
    m.data = std::move(data);
  }
  if (!r.AtEnd()) return Violation("SASLInitialResponse trailing bytes");
  return m;
}

Result<std::string> DecodePasswordMessage(std::string_view body) {
  Reader r(body);
  std::string password;
  if (!r.CString(password) || !r.AtEnd()) return Violation("PasswordMessage");
  return password;
}

Result<std::optional<FrameReader::Frame>> FrameReader::Next() {
  size_t available = buffer_.size() - offset_;
  if (available < 5) return std::optional<Frame>();
  const char* p = buffer_.data() + offset_;
  int32_t len = ReadInt32(p + 1);
  if (len < 4 || static_cast<size_t>(len - 4) > kMaxMessageBytes) {
    return Error(ErrorCode::kProtocolViolation, "invalid message length {}", len);
  }
  if (available < static_cast<size_t>(len) + 1) return std::optional<Frame>();
  Frame frame{p[0], std::string(p + 5, static_cast<size_t>(len) - 4)};
  offset_ += static_cast<size_t>(len) + 1;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > (1u << 20)) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return std::optional<Frame>(std::move(frame));
}

size_t BackendWriter::BeginMessage(char type) {
  size_t start = out_.size();
  out_ += type;
  out_.append(4, '\0');
  return start;
}

void BackendWriter::EndMessage(size_t start) {
  auto len = static_cast<uint32_t>(out_.size() - start - 1);
  out_[start + 1] = static_cast<char>(len >> 24);
  out_[start + 2] = static_cast<char>(len >> 16);
  out_[start + 3] = static_cast<char>(len >> 8);
  out_[start + 4] = static_cast<char>(len);
}

void BackendWriter::AuthenticationOk() {
  size_t s = BeginMessage('R');
  AppendInt32(out_, 0);
  EndMessage(s);
}
void BackendWriter::AuthenticationCleartextPassword() {
  size_t s = BeginMessage('R');
  AppendInt32(out_, 3);
  EndMessage(s);
}
void BackendWriter::AuthenticationSasl(const std::vector<std::string>& mechanisms) {
  size_t s = BeginMessage('R');
  AppendInt32(out_, 10);
  for (const auto& m : mechanisms) {
    out_ += m;
    out_ += '\0';
  }
  out_ += '\0';
  EndMessage(s);
}
void BackendWriter::AuthenticationSaslContinue(std::string_view data) {
  size_t s = BeginMessage('R');
  AppendInt32(out_, 11);
  out_ += data;
  EndMessage(s);
}
void BackendWriter::AuthenticationSaslFinal(std::string_view data) {
  size_t s = BeginMessage('R');
  AppendInt32(out_, 12);
  out_ += data;
  EndMessage(s);
}
void BackendWriter::ParameterStatus(std::string_view name, std::string_view value) {
  size_t s = BeginMessage('S');
  out_ += name;
  out_ += '\0';
  out_ += value;
  out_ += '\0';
  EndMessage(s);
}
void BackendWriter::BackendKeyData(int32_t pid, int32_t secret) {
  size_t s = BeginMessage('K');
  AppendInt32(out_, pid);
  AppendInt32(out_, secret);
  EndMessage(s);
}
void BackendWriter::NegotiateProtocolVersion(int32_t newest_minor, const std::vector<std::string>& unrecognized) {
  size_t s = BeginMessage('v');
  AppendInt32(out_, newest_minor);
  AppendInt32(out_, static_cast<int32_t>(unrecognized.size()));
  for (const auto& name : unrecognized) {
    out_ += name;
    out_ += '\0';
  }
  EndMessage(s);
}
void BackendWriter::ReadyForQuery(char status) {
  size_t s = BeginMessage('Z');
  out_ += status;
  EndMessage(s);
}
void BackendWriter::RowDescription(const std::vector<FieldDescription>& fields) {
  size_t s = BeginMessage('T');
  AppendInt16(out_, static_cast<int16_t>(fields.size()));
  for (const auto& f : fields) {
    out_ += f.name;
    out_ += '\0';
    AppendInt32(out_, f.table_oid);
    AppendInt16(out_, f.column_attnum);
    AppendInt32(out_, f.type_oid);
    AppendInt16(out_, f.type_len);
    AppendInt32(out_, f.type_mod);
    AppendInt16(out_, f.format);
  }
  EndMessage(s);
}
void BackendWriter::ParameterDescription(const std::vector<int32_t>& oids) {
  size_t s = BeginMessage('t');
  AppendInt16(out_, static_cast<int16_t>(oids.size()));
  for (int32_t oid : oids) AppendInt32(out_, oid);
  EndMessage(s);
}
void BackendWriter::CommandComplete(std::string_view tag) {
  size_t s = BeginMessage('C');
  out_ += tag;
  out_ += '\0';
  EndMessage(s);
}
void BackendWriter::EmptyQueryResponse() { EndMessage(BeginMessage('I')); }
void BackendWriter::NoData() { EndMessage(BeginMessage('n')); }
void BackendWriter::ParseComplete() { EndMessage(BeginMessage('1')); }
void BackendWriter::BindComplete() { EndMessage(BeginMessage('2')); }
void BackendWriter::CloseComplete() { EndMessage(BeginMessage('3')); }
void BackendWriter::PortalSuspended() { EndMessage(BeginMessage('s')); }
void BackendWriter::CopyDone() { EndMessage(BeginMessage('c')); }

void BackendWriter::ErrorOrNotice(char type, const ErrorFields& f) {
  size_t s = BeginMessage(type);
  auto field = [&](char code, std::string_view value) {
    out_ += code;
    // A NUL inside a value would end the field early; clients would misparse the rest.
    for (char c : value) out_ += c == '\0' ? ' ' : c;
    out_ += '\0';
  };
  field('S', f.severity);
  field('V', f.severity);
  field('C', f.sqlstate);
  field('M', f.message);
  if (!f.detail.empty()) field('D', f.detail);
  if (!f.hint.empty()) field('H', f.hint);
  if (f.position) field('P', std::to_string(*f.position));
  out_ += '\0';
  EndMessage(s);
}
void BackendWriter::Error(const ErrorFields& fields) { ErrorOrNotice('E', fields); }
void BackendWriter::Notice(const ErrorFields& fields) { ErrorOrNotice('N', fields); }

void BackendWriter::CopyOutResponse(int8_t format, const std::vector<int16_t>& column_formats) {
  size_t s = BeginMessage('H');
  out_ += static_cast<char>(format);
  AppendInt16(out_, static_cast<int16_t>(column_formats.size()));
  for (int16_t f : column_formats) AppendInt16(out_, f);
  EndMessage(s);
}
void BackendWriter::CopyInResponse(int8_t format, const std::vector<int16_t>& column_formats) {
  size_t s = BeginMessage('G');
  out_ += static_cast<char>(format);
  AppendInt16(out_, static_cast<int16_t>(column_formats.size()));
  for (int16_t f : column_formats) AppendInt16(out_, f);
  EndMessage(s);
}
void BackendWriter::CopyData(std::string_view data) {
  size_t s = BeginMessage('d');
  out_ += data;
  EndMessage(s);
}

void BackendWriter::BeginDataRow(int16_t num_columns) {
  row_start_ = BeginMessage('D');
  AppendInt16(out_, num_columns);
}
void BackendWriter::AppendNull() { AppendInt32(out_, -1); }
void BackendWriter::AppendValue(std::string_view bytes) {
  AppendInt32(out_, static_cast<int32_t>(bytes.size()));
  out_ += bytes;
}
std::string& BackendWriter::BeginValue() {
  value_start_ = out_.size();
  out_.append(4, '\0');
  return out_;
}
void BackendWriter::EndValue() {
  auto len = static_cast<uint32_t>(out_.size() - value_start_ - 4);
  out_[value_start_] = static_cast<char>(len >> 24);
  out_[value_start_ + 1] = static_cast<char>(len >> 16);
  out_[value_start_ + 2] = static_cast<char>(len >> 8);
  out_[value_start_ + 3] = static_cast<char>(len);
}
void BackendWriter::EndDataRow() { EndMessage(row_start_); }

namespace {
char* PutInt32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
  return p + 4;
}
}  // namespace

void BackendWriter::DataRows(const std::vector<ColumnValues>& columns, size_t num_rows) {
  const size_t ncols = columns.size();
  size_t total = num_rows * (1 + 4 + 2 + 4 * ncols);
  for (const ColumnValues& c : columns) {
    for (size_t r = 0; r < num_rows; r++) total += c.lengths[r] > 0 ? static_cast<size_t>(c.lengths[r]) : 0;
  }
  size_t start = out_.size();
  out_.resize(start + total);
  char* p = out_.data() + start;
  // Read cursors into each column's bytes.
  std::vector<const char*> next(ncols);
  for (size_t c = 0; c < ncols; c++) next[c] = columns[c].bytes.data();
  for (size_t r = 0; r < num_rows; r++) {
    char* row = p;
    *p++ = 'D';
    p += 4;  // length, filled in below
    *p++ = static_cast<char>(ncols >> 8);
    *p++ = static_cast<char>(ncols);
    for (size_t c = 0; c < ncols; c++) {
      int32_t len = columns[c].lengths[r];
      p = PutInt32(p, static_cast<uint32_t>(len));
      if (len > 0) {
        std::memcpy(p, next[c], static_cast<size_t>(len));
        p += len;
        next[c] += len;
      }
    }
    PutInt32(row + 1, static_cast<uint32_t>(p - row - 1));
  }
}

}  // namespace tarn::pgwire
