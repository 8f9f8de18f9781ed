// SPDX-License-Identifier: Apache-2.0
// In-process transports: tarn::engine on a fresh in-memory database, or sql::Session on a fresh catalog.
#include "in_process_transport.hpp"

#include <unistd.h>

#include <filesystem>

#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/database.hpp"
#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/sql/session.hpp"
#include "tarn/sql/warehouse.hpp"

namespace tarn::sqllogictest {
namespace {

// Collects a result stream's rows as text (sqllogictest conventions).
Status ReadRows(engine::ResultStream& stream, StatementResult& out) {
  out.num_columns = stream.columns().size();
  while (true) {
    TARN_ASSIGN_OR_RETURN(auto chunk, stream.Next());
    if (!chunk) break;
    for (size_t r = 0; r < chunk->num_rows(); r++) {
      std::vector<std::string> row;
      row.reserve(chunk->num_columns());
      for (size_t c = 0; c < chunk->num_columns(); c++) {
        std::string value = chunk->FormatValue(c, r, engine::ValueStyle::kDuckDb);
        if (!chunk->IsNull(c, r) && value.empty()) value = "(empty)";
        row.push_back(std::move(value));
      }
      out.rows.push_back(std::move(row));
    }
  }
  return Status::OK();
}

StatementResult ToResult(const Status& status, StatementResult out) {
  if (!status.ok()) {
    out.ok = false;
    out.sqlstate = std::string(status.sqlstate());
    out.error_message = status.message();
    out.rows.clear();
  }
  return out;
}

class CatalogTransport : public Transport {
 public:
  ~CatalogTransport() override {
    session_.reset();
    warehouse_.reset();
    database_.reset();
    catalog_.reset();
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  Status Open() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tarn_slt_catalog_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return Error(ErrorCode::kIoError, "cannot create a temporary directory");
    dir_ = pattern;
    TARN_ASSIGN_OR_RETURN(store_, meta::SqliteMetaStore::Open(":memory:"));
    TARN_ASSIGN_OR_RETURN(catalog_, catalog::Catalog::Open(*store_, {dir_ + "/dbfs", nullptr}));
    TARN_ASSIGN_OR_RETURN(database_, engine::Database::Open({}));
    TARN_ASSIGN_OR_RETURN(warehouse_, sql::Warehouse::Open(*database_, *catalog_));
    sql::SessionOptions options;
    options.user = "sqllogictest";  // the wire transport's login user (current_user answers alike)
    TARN_ASSIGN_OR_RETURN(session_, warehouse_->NewSession(options));
    return Status::OK();
  }

  StatementResult Execute(std::string_view sql) override {
    StatementResult out;
    auto stream = session_->Execute(sql);
    Status status = stream.ok() ? ReadRows(**stream, out) : stream.status();
    return ToResult(status, std::move(out));
  }

 private:
  std::string dir_;
  std::unique_ptr<meta::SqliteMetaStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<engine::Database> database_;
  std::unique_ptr<sql::Warehouse> warehouse_;
  std::unique_ptr<sql::Session> session_;
};

class InProcessTransport : public Transport {
 public:
  InProcessTransport(std::unique_ptr<engine::Database> database, std::unique_ptr<engine::Session> session)
      : database_(std::move(database)), session_(std::move(session)) {}

  StatementResult Execute(std::string_view sql) override {
    StatementResult out;
    Status status = Run(sql, out);
    if (!status.ok()) {
      out.ok = false;
      out.sqlstate = std::string(status.sqlstate());
      out.error_message = status.message();
      out.rows.clear();
    }
    return out;
  }

 private:
  Status Run(std::string_view sql, StatementResult& out) {
    TARN_ASSIGN_OR_RETURN(auto stream, session_->Execute(sql));
    out.num_columns = stream->columns().size();
    while (true) {
      TARN_ASSIGN_OR_RETURN(auto chunk, stream->Next());
      if (!chunk) break;
      for (size_t r = 0; r < chunk->num_rows(); r++) {
        std::vector<std::string> row;
        row.reserve(chunk->num_columns());
        for (size_t c = 0; c < chunk->num_columns(); c++) {
          std::string value = chunk->FormatValue(c, r, engine::ValueStyle::kDuckDb);
          if (!chunk->IsNull(c, r) && value.empty()) value = "(empty)";
          row.push_back(std::move(value));
        }
        out.rows.push_back(std::move(row));
      }
    }
    return Status::OK();
  }

  std::unique_ptr<engine::Database> database_;
  std::unique_ptr<engine::Session> session_;
};

}  // namespace

std::unique_ptr<Transport> CatalogTransportFactory::Create(std::string& error) {
  auto transport = std::make_unique<CatalogTransport>();
  Status status = transport->Open();
  if (!status.ok()) {
    error = status.ToString();
    return nullptr;
  }
  return transport;
}

std::unique_ptr<Transport> InProcessTransportFactory::Create(std::string& error) {
  auto database = engine::Database::Open({});
  if (!database.ok()) {
    error = database.status().ToString();
    return nullptr;
  }
  auto session = (*database)->Connect();
  if (!session.ok()) {
    error = session.status().ToString();
    return nullptr;
  }
  return std::make_unique<InProcessTransport>(std::move(database).value(), std::move(session).value());
}

}  // namespace tarn::sqllogictest
