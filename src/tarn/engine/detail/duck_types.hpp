// SPDX-License-Identifier: Apache-2.0
// Conversions between DuckDB's C type descriptions and the engine's (module-private: includes duckdb.h).
#pragma once

#include <duckdb.h>

#include "tarn/engine/types.hpp"

namespace tarn::engine::detail {

TypeId FromDuckTypeId(duckdb_type type);
/// Describes a DuckDB logical type (recursing into children, reading enum dictionaries). Does not take ownership.
LogicalType FromDuckLogicalType(duckdb_logical_type type);
StatementType FromDuckStatementType(duckdb_statement_type type);
ResultKind FromDuckResultType(duckdb_result_type type);

}  // namespace tarn::engine::detail
