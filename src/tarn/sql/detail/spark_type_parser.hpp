// SPDX-License-Identifier: Apache-2.0
// Type parsing over tokens (module-private), shared by CREATE TABLE, ADD COLUMNS and ParseSparkType.
#pragma once

#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/schema.hpp"
#include "tarn/sql/spark_types.hpp"
#include "tarn/sql/detail/tokens.hpp"

namespace tarn::sql::detail {

/// Parses one type starting at t[i]; advances i past it. A bare TIMESTAMP follows `timestamp_type`.
Result<delta::DataTypePtr> ParseTypeTokens(const std::vector<Token>& t, size_t& i,
                                           TimestampType timestamp_type = TimestampType::kLtz);

}  // namespace tarn::sql::detail
