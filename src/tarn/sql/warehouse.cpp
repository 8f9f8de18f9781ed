// SPDX-License-Identifier: Apache-2.0
// Warehouse: registers the Spark SQL functions once per database and creates sql::Sessions.
#include "tarn/sql/warehouse.hpp"

#include "tarn/engine/delta_checkpoint_reader.hpp"
#include "tarn/engine/delta_writer.hpp"
#include "tarn/sql/session.hpp"
#include "tarn/sql/spark_functions.hpp"

namespace tarn::sql {

Warehouse::Warehouse(engine::Database& database, catalog::Catalog& catalog)
    : database_(database),
      catalog_(catalog),
      checkpoint_reader_(std::make_unique<engine::DuckCheckpointReader>(database)),
      writer_(std::make_unique<engine::DeltaWriter>(database)) {}

Warehouse::~Warehouse() = default;

Result<std::unique_ptr<Warehouse>> Warehouse::Open(engine::Database& database, catalog::Catalog& catalog) {
  TARN_ASSIGN_OR_RETURN(auto session, database.Connect());
  TARN_RETURN_IF_ERROR(RegisterSparkFunctions(*session));
  return std::unique_ptr<Warehouse>(new Warehouse(database, catalog));
}

Result<std::unique_ptr<Session>> Warehouse::NewSession(const SessionOptions& options) {
  TARN_ASSIGN_OR_RETURN(auto schema, catalog_.GetSchema(options.catalog, options.schema));
  TARN_ASSIGN_OR_RETURN(auto engine, database_.Connect());
  auto session = std::make_unique<Session>(*this, std::move(engine), schema.catalog_name, schema.name);
  session->SetTimestampType(options.timestamp_type, /*as_default=*/true);
  if (!options.user.empty()) TARN_RETURN_IF_ERROR(session->SetUser(options.user));
  return session;
}

}  // namespace tarn::sql
