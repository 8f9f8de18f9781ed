// SPDX-License-Identifier: Apache-2.0
// Spark SQL functions DuckDB lacks (or spells differently), registered as DuckDB macros once per database.
#pragma once

#include <string>
#include <string_view>

#include "tarn/base/status.hpp"
#include "tarn/engine/session.hpp"

namespace tarn::sql {

/// Creates (or replaces) the macros in the database `session` belongs to, visible to every connection:
/// date_format, to_date(s), to_timestamp(s), datediff (Spark's (end, start) and (unit, start, end)), collect_list,
/// collect_set, explode, size, nvl, nvl2, split (regex, as Spark), regexp_extract (group 1 by default, as Spark),
/// get_json_object, current_timestamp(). DuckDB's own date_add, ifnull, concat_ws, named_struct-free struct_pack and
/// current_timestamp keep their built-in meaning. Spark datetime patterns in date_format must be constants
/// (DuckDB's strftime needs a constant format). sql::Session rewrites to_date(s, 'pattern') and
/// to_timestamp(s, 'pattern') (pattern literal converted) to __tarn_to_date / __tarn_to_timestamp, named_struct('a',
/// x, ...) to struct_pack, and from_json(j, 'a INT, b STRING') to DuckDB's from_json with a JSON structure.
Status RegisterSparkFunctions(engine::Session& session);

/// Converts a Spark datetime pattern ("yyyy-MM-dd HH:mm:ss.SSS", quoted literals 'T') to a strftime/strptime format.
std::string SparkPatternToStrftime(std::string_view pattern);

}  // namespace tarn::sql
