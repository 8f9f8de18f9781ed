// SPDX-License-Identifier: Apache-2.0
// In-process transport: runs statements through tarn::engine on a fresh in-memory database.
#include "in_process_transport.hpp"

#include "tarn/engine/database.hpp"

namespace tarn::sqllogictest {
namespace {

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
