// SPDX-License-Identifier: Apache-2.0
// `tarn sql --local`: script execution through sql::Session (catalog in the data dir) and result rendering.
#include "tarn/cli/local_sql.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tarn/base/result.hpp"
#include "tarn/cli/table_printer.hpp"
#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/engine/session.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/sql/session.hpp"
#include "tarn/sql/warehouse.hpp"

namespace tarn::cli {
namespace {

// The operating-system user running `tarn sql --local` (what current_user returns there), else $USER, else "local".
std::string LocalUserName() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr && pw->pw_name[0] != 0) {
    return pw->pw_name;
  }
  const char* env = std::getenv("USER");
  return env != nullptr && env[0] != 0 ? env : "local";
}

using engine::Chunk;
using engine::ResultKind;
using engine::ResultStream;
using engine::StatementType;
using engine::TypeId;

bool IsExactNumber(TypeId id) {
  switch (id) {
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt:
    case TypeId::kUTinyInt:
    case TypeId::kUSmallInt:
    case TypeId::kUInteger:
    case TypeId::kUBigInt:
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt:
    case TypeId::kDecimal:
    case TypeId::kBigNum:
      return true;
    default:
      return false;
  }
}

bool IsNumber(TypeId id) { return IsExactNumber(id) || id == TypeId::kFloat || id == TypeId::kDouble; }

// Returns a psql-style command tag for results without rows ("CREATE", "INSERT 3").
std::string CommandTag(const ResultStream& result) {
  std::string tag;
  switch (result.statement_type()) {
    case StatementType::kInsert: tag = "INSERT"; break;
    case StatementType::kUpdate: tag = "UPDATE"; break;
    case StatementType::kDelete: tag = "DELETE"; break;
    case StatementType::kCreate:
    case StatementType::kCreateFunc: tag = "CREATE"; break;
    case StatementType::kDrop: tag = "DROP"; break;
    case StatementType::kAlter: tag = "ALTER"; break;
    case StatementType::kCopy: tag = "COPY"; break;
    case StatementType::kSet:
    case StatementType::kVariableSet: tag = "SET"; break;
    case StatementType::kTransaction: tag = "TRANSACTION"; break;
    case StatementType::kAttach: tag = "ATTACH"; break;
    case StatementType::kDetach: tag = "DETACH"; break;
    default: tag = "OK"; break;
  }
  if (result.result_kind() == ResultKind::kChangedRows) tag += " " + std::to_string(result.rows_changed());
  return tag;
}

// RFC 4180: quote when the field holds a separator, quote, line break or edge whitespace.
std::string CsvField(const std::string& value) {
  bool quote = value.find_first_of(",\"\r\n") != std::string::npos ||
               (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string JsonValue(const Chunk& chunk, size_t col, size_t row) {
  if (chunk.IsNull(col, row)) return "null";
  TypeId id = chunk.column_type(col).id;
  if (id == TypeId::kBoolean) return chunk.GetBool(col, row) ? "true" : "false";
  std::string text = chunk.FormatValue(col, row, engine::ValueStyle::kDuckDb);
  // Exact numbers keep every digit as a JSON number; inf/nan (not JSON numbers) fall back to strings.
  if (IsNumber(id) && nlohmann::json::accept(text)) return text;
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class ResultPrinter {
 public:
  ResultPrinter(SqlFormat format, std::ostream& out) : format_(format), out_(out) {}

  Status Print(ResultStream& result) {
    if (result.result_kind() == ResultKind::kNothing || result.columns().empty()) {
      if (format_ == SqlFormat::kTable) out_ << CommandTag(result) << '\n';
      return Status::OK();
    }
    if (result.result_kind() == ResultKind::kChangedRows && format_ == SqlFormat::kTable) {
      out_ << CommandTag(result) << '\n';
      return Status::OK();
    }
    switch (format_) {
      case SqlFormat::kTable: return PrintTable(result);
      case SqlFormat::kCsv: return PrintCsv(result);
      case SqlFormat::kJson: return PrintJson(result);
    }
    return Status::OK();
  }

 private:
  // EXPLAIN plans are multi-line box drawings: print the plan text as is instead of flattening it into a cell.
  Status PrintExplain(ResultStream& result) {
    while (true) {
      TARN_ASSIGN_OR_RETURN(std::unique_ptr<Chunk> chunk, result.Next());
      if (!chunk) break;
      size_t plan_column = chunk->num_columns() - 1;
      for (size_t row = 0; row < chunk->num_rows(); ++row) {
        std::string plan = chunk->FormatValue(plan_column, row, engine::ValueStyle::kDuckDb);
        out_ << plan << (plan.empty() || plan.back() != '\n' ? "\n" : "");
      }
    }
    return Status::OK();
  }

  Status PrintTable(ResultStream& result) {
    if (result.statement_type() == StatementType::kExplain) return PrintExplain(result);
    std::vector<std::string> headers;
    for (const auto& column : result.columns()) headers.push_back(column.name);
    TablePrinter table(std::move(headers));
    for (size_t i = 0; i < result.columns().size(); ++i) {
      table.SetRightAligned(i, IsNumber(result.columns()[i].type.id));
    }
    while (true) {
      TARN_ASSIGN_OR_RETURN(std::unique_ptr<Chunk> chunk, result.Next());
      if (!chunk) break;
      for (size_t row = 0; row < chunk->num_rows(); ++row) {
        std::vector<std::string> cells;
        cells.reserve(chunk->num_columns());
        for (size_t col = 0; col < chunk->num_columns(); ++col) {
          cells.push_back(chunk->FormatValue(col, row, engine::ValueStyle::kDuckDb));  // NULL prints as "NULL"
        }
        table.AddRow(std::move(cells));
      }
    }
    table.Print(out_);
    out_ << '(' << table.num_rows() << (table.num_rows() == 1 ? " row)" : " rows)") << '\n';
    return Status::OK();
  }

  Status PrintCsv(ResultStream& result) {
    if (printed_any_) out_ << '\n';  // a blank line between the results of a script
    printed_any_ = true;
    const auto& columns = result.columns();
    for (size_t i = 0; i < columns.size(); ++i) out_ << (i ? "," : "") << CsvField(columns[i].name);
    out_ << '\n';
    while (true) {
      TARN_ASSIGN_OR_RETURN(std::unique_ptr<Chunk> chunk, result.Next());
      if (!chunk) break;
      for (size_t row = 0; row < chunk->num_rows(); ++row) {
        for (size_t col = 0; col < chunk->num_columns(); ++col) {
          if (col > 0) out_ << ',';
          if (!chunk->IsNull(col, row)) {
            out_ << CsvField(chunk->FormatValue(col, row, engine::ValueStyle::kDuckDb));
          }
        }
        out_ << '\n';
      }
    }
    return Status::OK();
  }

  Status PrintJson(ResultStream& result) {
    std::vector<std::string> keys;
    for (const auto& column : result.columns()) {
      keys.push_back(nlohmann::json(column.name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    out_ << '[';
    bool first_row = true;
    while (true) {
      TARN_ASSIGN_OR_RETURN(std::unique_ptr<Chunk> chunk, result.Next());
      if (!chunk) break;
      for (size_t row = 0; row < chunk->num_rows(); ++row) {
        out_ << (first_row ? "\n  {" : ",\n  {");
        first_row = false;
        for (size_t col = 0; col < chunk->num_columns(); ++col) {
          out_ << (col ? ", " : "") << keys[col] << ": " << JsonValue(*chunk, col, row);
        }
        out_ << '}';
      }
    }
    out_ << (first_row ? "]\n" : "\n]\n");
    return Status::OK();
  }

  SqlFormat format_;
  std::ostream& out_;
  bool printed_any_ = false;
};

Result<std::string> ReadSql(const LocalSqlOptions& options) {
  if (!options.sql.empty()) return options.sql;
  std::stringstream text;
  if (options.file == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream file(options.file, std::ios::binary);
  if (!file) return Error(ErrorCode::kIoError, "cannot read {}: {}", options.file, std::strerror(errno));
  text << file.rdbuf();
  return text.str();
}

Status Run(const LocalSqlOptions& options, std::ostream& out) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot create data directory {}: {}", options.data_dir, ec.message());
  TARN_ASSIGN_OR_RETURN(std::string sql, ReadSql(options));

  // The catalog lives in <data>/meta.db and table data under <data>/dbfs (the layout `tarn up` uses), so tables
  // created here are seen by the server and the other way round. DuckDB itself runs in memory.
  std::string root = options.data_dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::filesystem::create_directories(root + "/dbfs/user/hive/warehouse", ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot create {}/dbfs: {}", root, ec.message());
  TARN_ASSIGN_OR_RETURN(auto store, meta::SqliteMetaStore::Open(root + "/meta.db"));
  std::string dbfs_root = std::filesystem::absolute(root).string() + "/dbfs";
  TARN_ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(*store, {dbfs_root, nullptr}));
  engine::DatabaseOptions database_options;
  database_options.dbfs_root = dbfs_root;
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<engine::Database> database, engine::Database::Open(database_options));
  TARN_ASSIGN_OR_RETURN(auto warehouse, sql::Warehouse::Open(*database, *catalog));
  sql::SessionOptions session_options;
  session_options.user = LocalUserName();
  TARN_ASSIGN_OR_RETURN(auto session, warehouse->NewSession(session_options));
  ResultPrinter printer(options.format, out);
  Status status = session->ExecuteScript(sql, [&](size_t, ResultStream& result) { return printer.Print(result); });
  out.flush();
  return status;
}

// DuckDB messages can span lines (hints, "LINE 1:" context); the contract is one line per error.
std::string FirstLine(const std::string& message) {
  size_t end = message.find('\n');
  std::string line = message.substr(0, end);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace

int RunLocalSql(const LocalSqlOptions& options, std::ostream& out, std::ostream& err) {
  Status status = Run(options, out);
  if (status.ok()) return 0;
  err << "ERROR " << status.sqlstate() << ": " << FirstLine(status.message()) << '\n';
  return 1;
}

}  // namespace tarn::cli
