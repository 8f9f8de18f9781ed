// SPDX-License-Identifier: Apache-2.0
// PostgreSQL wire transport: libpq against an in-process pgwire::Server; PostgreSQL text mapped to the runner's.
#include "wire_transport.hpp"

#include <libpq-fe.h>
#include <stdlib.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <vector>

#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/nested_text.hpp"
#include "tarn/identity/token_service.hpp"
#include "tarn/identity/user_store.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/pgwire/pg_types.hpp"
#include "tarn/pgwire/query_backend.hpp"
#include "tarn/pgwire/server.hpp"
#include "tarn/pgwire/sql_text.hpp"
#include "tarn/sql/warehouse.hpp"

namespace tarn::sqllogictest {
namespace {

namespace oid = pgwire::oid;

// The element type of a PostgreSQL array type (0 when `type_oid` is not an array type Tarn sends).
unsigned int ArrayElementOid(unsigned int type_oid) {
  switch (type_oid) {
    case 1000: return oid::kBool;
    case 1001: return oid::kBytea;
    case 1005: return oid::kInt2;
    case 1007: return oid::kInt4;
    case 1009: return oid::kText;
    case 1015: return oid::kVarchar;
    case 1016: return oid::kInt8;
    case 199: return oid::kJson;
    case 1021: return oid::kFloat4;
    case 1022: return oid::kFloat8;
    case 1182: return oid::kDate;
    case 1183: return oid::kTime;
    case 1115: return oid::kTimestamp;
    case 1185: return oid::kTimestampTz;
    case 1187: return oid::kInterval;
    case 1270: return oid::kTimeTz;
    case 1231: return oid::kNumeric;
    case 2951: return oid::kUuid;
    default: return 0;
  }
}

// DuckDB's float text (the engine's kDuckDb style): shortest round-trip digits, exponent form below 1e-4 or from
// 1e16 on, integral values with ".0", nan/inf/-inf.
template <typename T>
std::string DuckDbFloat(T value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::array<char, 64> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::scientific);
  std::string out;
  const char* p = buf.data();
  if (*p == '-') {
    out += '-';
    p++;
  }
  std::string digits;
  while (p < end && *p != 'e') {
    if (*p != '.') digits += *p;
    p++;
  }
  int exponent = 0;
  if (p < end) std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), end, exponent);
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    int magnitude = exponent < 0 ? -exponent : exponent;
    out += exponent < 0 ? "e-" : "e+";
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
    return out;
  }
  if (exponent < 0) return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  size_t int_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= int_digits) return out + digits + std::string(int_digits - digits.size(), '0') + ".0";
  return out + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

std::optional<std::string> NormalizeFloat(std::string_view text, bool single) {
  std::string copy(text);
  char* end = nullptr;
  if (single) {
    float value = std::strtof(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size()) return std::nullopt;
    return DuckDbFloat(value);
  }
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return DuckDbFloat(value);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea hex output (\x0aff) -> DuckDB's blob text (printable bytes as is, others \xAA).
std::optional<std::string> NormalizeBytea(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) return std::nullopt;
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 2; i < text.size(); i += 2) {
    int hi = HexDigit(text[i]);
    int lo = HexDigit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    auto c = static_cast<unsigned char>(hi * 16 + lo);
    if (c >= 32 && c <= 126 && c != '\\' && c != '\'' && c != '"') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

bool ParseInt(std::string_view text, int64_t& value) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// IntervalStyle postgres ("1 year 2 mons -3 days +04:05:06.5") -> DuckDB's ("1 year 2 months -3 days 04:05:06.5").
std::optional<std::string> NormalizeInterval(std::string_view text) {
  std::vector<std::string_view> tokens;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.find(' ', pos);
    if (next == std::string_view::npos) next = text.size();
    if (next > pos) tokens.push_back(text.substr(pos, next - pos));
    pos = next + 1;
  }
  int64_t months = 0;
  int64_t days = 0;
  int64_t micros = 0;
  for (size_t i = 0; i < tokens.size(); i++) {
    std::string_view token = tokens[i];
    if (token.find(':') != std::string_view::npos) {
      bool negative = token[0] == '-';
      if (token[0] == '-' || token[0] == '+') token.remove_prefix(1);
      size_t c1 = token.find(':');
      size_t c2 = token.find(':', c1 + 1);
      if (c2 == std::string_view::npos) return std::nullopt;
      std::string_view sec = token.substr(c2 + 1);
      std::string_view frac;
      if (size_t dot = sec.find('.'); dot != std::string_view::npos) {
        frac = sec.substr(dot + 1);
        sec = sec.substr(0, dot);
      }
      int64_t h = 0;
      int64_t m = 0;
      int64_t s = 0;
      int64_t f = 0;
      if (!ParseInt(token.substr(0, c1), h) || !ParseInt(token.substr(c1 + 1, c2 - c1 - 1), m) ||
          !ParseInt(sec, s) || frac.size() > 6 || (!frac.empty() && !ParseInt(frac, f))) {
        return std::nullopt;
      }
      for (size_t d = frac.size(); d < 6; d++) f *= 10;
      int64_t total = ((h * 60 + m) * 60 + s) * 1000000 + f;
      micros += negative ? -total : total;
      continue;
    }
    if (i + 1 >= tokens.size()) return std::nullopt;
    int64_t value = 0;
    if (!ParseInt(token, value)) return std::nullopt;
    std::string_view unit = tokens[++i];
    if (unit == "year" || unit == "years") {
      months += value * 12;
    } else if (unit == "mon" || unit == "mons") {
      months += value;
    } else if (unit == "day" || unit == "days") {
      days += value;
    } else {
      return std::nullopt;
    }
  }
  // The engine's kDuckDb interval text.
  std::string out;
  auto add = [&](int64_t value, const char* unit) {
    if (value == 0) return;
    if (!out.empty()) out += ' ';
    out += std::to_string(value) + " " + unit + ((value == 1 || value == -1) ? "" : "s");
  };
  add(months / 12, "year");
  add(months % 12, "month");
  add(days, "day");
  if (micros != 0 || out.empty()) {
    if (!out.empty()) out += ' ';
    uint64_t abs_micros =
        micros < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
    if (micros < 0) out += '-';
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%02llu:%02llu:%02llu",
                  static_cast<unsigned long long>(abs_micros / 3600000000ULL),
                  static_cast<unsigned long long>((abs_micros / 60000000ULL) % 60),
                  static_cast<unsigned long long>((abs_micros / 1000000ULL) % 60));
    out += buf;
    uint64_t frac = abs_micros % 1000000ULL;
    if (frac != 0) {
      std::snprintf(buf, sizeof(buf), "%06llu", static_cast<unsigned long long>(frac));
      std::string digits = buf;
      while (digits.back() == '0') digits.pop_back();
      out += "." + digits;
    }
  }
  return out;
}

// PostgreSQL puts " BC" at the end of a date or timestamp; DuckDB puts " (BC)" right after the date.
std::string NormalizeBc(std::string_view text) {
  constexpr std::string_view kBc = " BC";
  if (text.size() < kBc.size() || text.substr(text.size() - kBc.size()) != kBc) return std::string(text);
  std::string_view value = text.substr(0, text.size() - kBc.size());
  size_t space = value.find(' ');
  if (space == std::string_view::npos) return std::string(value) + " (BC)";
  return std::string(value.substr(0, space)) + " (BC)" + std::string(value.substr(space));
}

// Parses the PostgreSQL array literal at text[pos] ('{' ... '}') and appends it in DuckDB's list form. Returns
// false on malformed input.
bool AppendArray(std::string_view text, size_t& pos, unsigned int element_oid, std::string& out) {
  if (pos >= text.size() || text[pos] != '{') return false;
  pos++;
  out += '[';
  bool first = true;
  if (pos < text.size() && text[pos] == '}') {
    pos++;
    out += ']';
    return true;
  }
  while (pos < text.size()) {
    if (!first) out += ", ";
    first = false;
    if (text[pos] == '{') {
      if (!AppendArray(text, pos, element_oid, out)) return false;
    } else if (text[pos] == '"') {
      std::string element;
      pos++;
      while (pos < text.size() && text[pos] != '"') {
        if (text[pos] == '\\' && pos + 1 < text.size()) pos++;
        element += text[pos++];
      }
      if (pos >= text.size()) return false;
      pos++;
      engine::AppendDuckNestedText(out, NormalizeWireValue(element_oid, element));
    } else {
      size_t start = pos;
      while (pos < text.size() && text[pos] != ',' && text[pos] != '}') pos++;
      std::string_view element = text.substr(start, pos - start);
      if (engine::EqualsNullIgnoreCase(element)) {
        out += "NULL";
      } else {
        engine::AppendDuckNestedText(out, NormalizeWireValue(element_oid, element));
      }
    }
    if (pos >= text.size()) return false;
    if (text[pos] == '}') {
      pos++;
      out += ']';
      return true;
    }
    if (text[pos] != ',') return false;
    pos++;
  }
  return false;
}

std::string ErrorField(const PGresult* result, int field) {
  const char* value = PQresultErrorField(result, field);
  return value == nullptr ? std::string() : std::string(value);
}

class WireTransport : public Transport {
 public:
  WireTransport(bool catalog, WireProtocol protocol) : catalog_(catalog), protocol_(protocol) {}

  ~WireTransport() override {
    if (conn_ != nullptr) PQfinish(conn_);
    if (server_) server_->Stop();
    server_.reset();
    warehouse_.reset();
    catalog_store_.reset();
    database_.reset();
    tokens_.reset();
    users_.reset();
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  Status Open() {
    TARN_ASSIGN_OR_RETURN(store_, meta::SqliteMetaStore::Open(":memory:"));
    users_ = std::make_unique<identity::UserStore>(*store_);
    tokens_ = std::make_unique<identity::TokenService>(*store_);
    TARN_ASSIGN_OR_RETURN(auto user, users_->Create("sqllogictest", "SQL logic test runner"));
    TARN_ASSIGN_OR_RETURN(auto token, tokens_->Create(user.id, std::nullopt, "tarn_sqllogictest wire transport"));
    TARN_ASSIGN_OR_RETURN(database_, engine::Database::Open({}));
    pgwire::BackendFactory backends;
    if (catalog_) {
      std::string pattern = (std::filesystem::temp_directory_path() / "tarn_slt_wire_XXXXXX").string();
      if (mkdtemp(pattern.data()) == nullptr) {
        return Error(ErrorCode::kIoError, "cannot create a temporary directory");
      }
      dir_ = pattern;
      TARN_ASSIGN_OR_RETURN(catalog_store_, catalog::Catalog::Open(*store_, {dir_ + "/dbfs", nullptr}));
      TARN_ASSIGN_OR_RETURN(warehouse_, sql::Warehouse::Open(*database_, *catalog_store_));
      backends = pgwire::WarehouseBackendFactory(*warehouse_);
    } else {
      backends = pgwire::EngineBackendFactory(*database_);
    }
    pgwire::ServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    TARN_ASSIGN_OR_RETURN(server_, pgwire::Server::Create(options, *tokens_, std::move(backends)));
    server_->Start();

    std::string port = std::to_string(server_->port());
    const char* keys[] = {"host", "port", "user", "password", "dbname", "sslmode", "connect_timeout", nullptr};
    const char* values[] = {"127.0.0.1", port.c_str(), "token", token.token_value.c_str(), "main", "disable",
                            "30", nullptr};
    conn_ = PQconnectdbParams(keys, values, 0);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      return Error(ErrorCode::kConnectionFailure, "cannot connect to the pgwire server on port {}: {}", port,
                   conn_ == nullptr ? "out of memory" : PQerrorMessage(conn_));
    }
    // Notices and warnings (e.g. COMMIT outside a block) are not results.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    // Databricks SQL sessions only: plain DuckDB sessions have no such setting (TIMESTAMP is DuckDB's there, as
    // in-process).
    if (!catalog_) return Status::OK();
    StatementResult set = Execute("SET spark.sql.timestampType = TIMESTAMP_LTZ");
    if (!set.ok) {
      return Error(ErrorCode::kConnectionFailure, "SET spark.sql.timestampType = TIMESTAMP_LTZ failed: {} {}",
                   set.sqlstate, set.error_message);
    }
    return Status::OK();
  }

  StatementResult Execute(std::string_view sql) override {
    StatementResult out;
    std::string text(sql);
    bool extended = protocol_ == WireProtocol::kExtended && pgwire::SplitStatements(sql).size() == 1;
    PGresult* result = extended ? PQexecParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)
                                : PQexec(conn_, text.c_str());
    if (result == nullptr) {
      out.ok = false;
      out.sqlstate = "08006";
      out.error_message = PQerrorMessage(conn_);
      out.transport_failed = true;
      return out;
    }
    switch (PQresultStatus(result)) {
      case PGRES_TUPLES_OK:
      case PGRES_SINGLE_TUPLE: {
        int columns = PQnfields(result);
        out.num_columns = static_cast<size_t>(columns);
        std::vector<unsigned int> types;
        for (int c = 0; c < columns; c++) types.push_back(PQftype(result, c));
        for (int r = 0; r < PQntuples(result); r++) {
          std::vector<std::string> row;
          row.reserve(out.num_columns);
          for (int c = 0; c < columns; c++) {
            if (PQgetisnull(result, r, c)) {
              row.emplace_back("NULL");
              continue;
            }
            std::string_view raw(PQgetvalue(result, r, c), static_cast<size_t>(PQgetlength(result, r, c)));
            std::string value = NormalizeWireValue(types[c], raw);
            if (value.empty()) value = "(empty)";
            row.push_back(std::move(value));
          }
          out.rows.push_back(std::move(row));
        }
        break;
      }
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
        // COPY FROM STDIN / TO STDOUT carry data the records cannot give or check: end it and fail the file.
        out.ok = false;
        out.transport_failed = true;
        out.error_message = "COPY FROM STDIN / TO STDOUT cannot run through the sqllogictest runner";
        FinishCopy(PQresultStatus(result));
        break;
      default: {
        out.ok = false;
        out.sqlstate = ErrorField(result, PG_DIAG_SQLSTATE);
        out.error_message = ErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
        if (out.error_message.empty()) out.error_message = PQresultErrorMessage(result);
        // A FATAL error closes the connection (the server ends it; libpq reports a lost link without SQLSTATE).
        out.transport_failed = PQstatus(conn_) != CONNECTION_OK ||
                              ErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED) == "FATAL";
        break;
      }
    }
    PQclear(result);
    return out;
  }

 private:
  // Ends a COPY sub-protocol the connection entered and reads the results up to the next ReadyForQuery.
  void FinishCopy(ExecStatusType status) {
    if (status == PGRES_COPY_IN) {
      PQputCopyEnd(conn_, "not supported by the sqllogictest runner");
    } else {
      char* buffer = nullptr;
      while (PQgetCopyData(conn_, &buffer, 0) > 0) PQfreemem(buffer);
    }
    while (PGresult* rest = PQgetResult(conn_)) PQclear(rest);
  }

  bool catalog_;
  WireProtocol protocol_;
  std::string dir_;
  std::unique_ptr<meta::SqliteMetaStore> store_;
  std::unique_ptr<identity::UserStore> users_;
  std::unique_ptr<identity::TokenService> tokens_;
  std::unique_ptr<engine::Database> database_;
  std::unique_ptr<catalog::Catalog> catalog_store_;
  std::unique_ptr<sql::Warehouse> warehouse_;
  std::unique_ptr<pgwire::Server> server_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::string NormalizeWireValue(unsigned int type_oid, std::string_view text) {
  std::optional<std::string> out;
  switch (type_oid) {
    case oid::kBool:
      if (text == "t") return "true";
      if (text == "f") return "false";
      break;
    case oid::kFloat4: out = NormalizeFloat(text, true); break;
    case oid::kFloat8: out = NormalizeFloat(text, false); break;
    case oid::kBytea: out = NormalizeBytea(text); break;
    case oid::kInterval: out = NormalizeInterval(text); break;
    case oid::kDate:
    case oid::kTimestamp:
    case oid::kTimestampTz: return NormalizeBc(text);
    default:
      if (unsigned int element = ArrayElementOid(type_oid); element != 0) {
        std::string list;
        size_t pos = 0;
        if (AppendArray(text, pos, element, list) && pos == text.size()) return list;
      }
      break;
  }
  // Anything not recognised is shown as received, so a difference stays visible.
  return out ? *out : std::string(text);
}

std::unique_ptr<Transport> WireTransportFactory::Create(std::string& error) {
  auto transport = std::make_unique<WireTransport>(catalog_, protocol_);
  Status status = transport->Open();
  if (!status.ok()) {
    error = status.ToString();
    return nullptr;
  }
  return transport;
}

}  // namespace tarn::sqllogictest
