// SPDX-License-Identifier: Apache-2.0
// The one mapping from DuckDB errors (duckdb_error_type + message) to Tarn error codes.
#pragma once

#include <string>
#include <string_view>

#include "tarn/base/status.hpp"

namespace tarn::engine {

/// Number of duckdb_error_type values (DUCKDB_ERROR_INVALID .. DUCKDB_INVALID_CONFIGURATION), for table-driven tests.
inline constexpr int kNumDuckErrorTypes = 43;

/// Maps a duckdb_error_type value (passed as int so this header stays free of duckdb.h) and DuckDB's message to an
/// ErrorCode. The message refines broad types: a CATALOG error about a missing table is kTableNotFound, about a
/// missing function kFunctionNotFound, about an existing object kDuplicateObject, and so on.
ErrorCode MapDuckError(int duckdb_error_type, std::string_view message);

/// Recovers the duckdb_error_type from a message's "<Type> Error: " prefix (for C API calls that report only a
/// message: prepare, pending, extract). Returns 0 (DUCKDB_ERROR_INVALID) when there is no known prefix.
int DuckErrorTypeFromMessage(std::string_view message);

/// Appends " [<ErrorCode name>]" to a Tarn error's message, for errors our own DuckDB callbacks (table functions)
/// hand to DuckDB: MapDuckError recognises the tag at the end of DuckDB's message and restores the code.
std::string TagErrorMessage(const Status& status);

/// Builds the Status for a DuckDB error: the mapped code and DuckDB's message unchanged.
Status DuckError(int duckdb_error_type, std::string_view message);
/// As above, for calls that report only a message.
Status DuckErrorFromMessage(std::string_view message);

}  // namespace tarn::engine
