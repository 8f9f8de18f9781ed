// SPDX-License-Identifier: Apache-2.0
// REST resources for the SQL Statement Execution API 2.0 and the SQL warehouses API (one built-in warehouse).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tarn/api/statement_manager.hpp"
#include "tarn/http/router.hpp"

namespace tarn::api {

/// The id of the one SQL warehouse Tarn has (its SQL engine); statements must name it as warehouse_id.
inline constexpr const char* kBuiltinWarehouseId = "tarn-builtin";
inline constexpr const char* kBuiltinWarehouseName = "Tarn built-in";

struct SqlWarehouseRouteOptions {
  /// The PostgreSQL-wire port (`--sql-port`) reported in odbc_params / jdbc_url; called per request.
  std::function<uint16_t()> sql_port;
  /// Execute calls that may block an HTTP handler thread waiting for their statement (wait_timeout > 0) at once;
  /// past it, CONTINUE calls answer with the current state at once (clients then poll), so waiting clients never
  /// occupy every handler thread. -1 = max(2, hardware threads), half of the HTTP server's default handler pool.
  int max_blocking_waits = -1;
};

/// Adds, for authenticated callers (statements are visible to the user who submitted them only):
/// - POST /api/2.0/sql/statements {statement, warehouse_id, catalog?, schema?, parameters?: [{name, value?, type?}],
///   wait_timeout? ("0s" or "5s".."50s", default "10s"), on_wait_timeout? (CONTINUE|CANCEL), disposition? (INLINE|
///   EXTERNAL_LINKS), format? (JSON_ARRAY|CSV; CSV needs EXTERNAL_LINKS), row_limit?, byte_limit?} → StatementResponse
///   {statement_id, status: {state, error?: {error_code, message}, sql_state?}, manifest?, result?}
/// - GET  /api/2.0/sql/statements/{id} → StatementResponse (manifest and chunk 0 once SUCCEEDED)
/// - GET  /api/2.0/sql/statements/{id}/result/chunks/{n} → ResultData of chunk n
/// - POST /api/2.0/sql/statements/{id}/cancel → {}
/// - GET  /api/2.0/sql/warehouses → {warehouses: [EndpointInfo]}; GET /api/2.0/sql/warehouses/{id} → EndpointInfo
/// and, without authentication (clients drop the token for external links; the URL carries a per-statement secret):
/// - GET  /sql/statement-results/{id}/{secret}/{n} → chunk n as CSV (text/csv) or compact JSON (application/json)
/// Execution failures are HTTP 200 with state FAILED. Errors: 400 INVALID_PARAMETER_VALUE (fields, formats),
/// 404 NOT_FOUND (statement, warehouse), 400 INVALID_STATE (chunks of an unfinished or closed statement),
/// 429 RESOURCE_EXHAUSTED (queue full), 400 MALFORMED_REQUEST. Caller keeps `manager` alive as long as `router`.
void RegisterSqlStatementRoutes(http::Router& router, StatementManager& manager, SqlWarehouseRouteOptions options);

}  // namespace tarn::api
