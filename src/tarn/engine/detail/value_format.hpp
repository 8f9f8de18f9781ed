// SPDX-License-Identifier: Apache-2.0
// Formats values held in DuckDB vectors as DuckDB-CLI or PostgreSQL text (module-private: includes duckdb.h).
#pragma once

#include <duckdb.h>

#include <string>
#include <string_view>
#include <vector>

#include "tarn/engine/types.hpp"

namespace tarn::engine::detail {

__extension__ typedef __int128 Int128;            // NOLINT: GCC/Clang extension, silenced for -Wpedantic
__extension__ typedef unsigned __int128 UInt128;  // NOLINT

bool IsValidAt(duckdb_vector vector, idx_t row);
/// Returns the bytes of a string_t value (VARCHAR, BLOB, BIT, BIGNUM storage).
std::string_view StringAt(duckdb_vector vector, idx_t row);
/// Appends the text of the non-NULL value at `row` of `vector`, whose type is `type`.
void AppendValue(duckdb_vector vector, const LogicalType& type, idx_t row, ValueStyle style, std::string& out);
/// Appends the text of rows [begin, end) of `vector` (its data and validity pointers passed in) to `text` and one
/// length per row to `lengths` (-1 for NULL): Chunk::FormatColumn.
void AppendColumn(duckdb_vector vector, const void* data, const uint64_t* validity, const LogicalType& type,
                  idx_t begin, idx_t end, ValueStyle style, std::string& text, std::vector<int32_t>& lengths);

/// Scalar formatters, exposed for tests.
std::string FormatDouble(double value, ValueStyle style);
std::string FormatFloat(float value, ValueStyle style);
std::string FormatInterval(int32_t months, int32_t days, int64_t micros, ValueStyle style);
std::string FormatDecimal(Int128 value, uint8_t scale);
std::string FormatInt128(Int128 value);
std::string FormatUInt128(UInt128 value);
std::string FormatBigNum(std::string_view bytes);

}  // namespace tarn::engine::detail
