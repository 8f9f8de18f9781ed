// SPDX-License-Identifier: Apache-2.0
// PostgreSQL wire transport: runs statements through libpq against Tarn's pgwire server started in this process.
#pragma once

#include <string>
#include <string_view>

#include "transport.hpp"

namespace tarn::sqllogictest {

/// Each Create() starts a fresh pgwire::Server on 127.0.0.1 (a free port) over a fresh database, with an in-memory
/// metadata store holding one user and its personal access token, and connects to it with libpq as user `token`.
/// `catalog` = false: plain DuckDB sessions (EngineBackendFactory), the wire counterpart of InProcessTransport;
/// `catalog` = true: Databricks SQL sessions of a warehouse on a temporary data directory (WarehouseBackendFactory),
/// the counterpart of CatalogTransport. Right after connecting, a catalog transport sends
/// `SET spark.sql.timestampType = TIMESTAMP_LTZ` (wire sessions default to TIMESTAMP_NTZ, PostgreSQL's TIMESTAMP),
/// so TIMESTAMP keeps its Databricks meaning as in-process.
/// How statements travel: kSimple sends every record as one Query message (PQexec, as psql does); kExtended sends a
/// single statement as Parse/Bind/Describe/Execute/Sync (PQexecParams without parameters, as most drivers do) and
/// only multi-statement records as Query (the extended protocol carries one statement).
enum class WireProtocol { kSimple, kExtended };

class WireTransportFactory : public TransportFactory {
 public:
  WireTransportFactory(bool catalog, WireProtocol protocol) : catalog_(catalog), protocol_(protocol) {}
  std::unique_ptr<Transport> Create(std::string& error) override;

 private:
  bool catalog_;
  WireProtocol protocol_;
};

/// Turns the PostgreSQL text of a non-NULL value of type `type_oid` into the runner's text (what the in-process
/// transport prints, DuckDB's style): t/f -> true/false, floats as DuckDB prints them (1.0, inf, nan), bytea
/// `\x..` -> DuckDB's blob escapes, intervals (`1 mon`) -> DuckDB's (`1 month`), ` BC` dates -> ` (BC)`, arrays
/// `{a,"b c"}` -> `[a, b c]` with DuckDB's element quoting. Other types are identical in both styles and pass
/// through unchanged. Exposed for the runner's own checks.
std::string NormalizeWireValue(unsigned int type_oid, std::string_view text);

}  // namespace tarn::sqllogictest
