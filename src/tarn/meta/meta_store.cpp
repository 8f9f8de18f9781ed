// SPDX-License-Identifier: Apache-2.0
// Backend-independent parts of the metadata store interface.
#include "tarn/meta/meta_store.hpp"

namespace tarn::meta {

Result<std::optional<Row>> Executor::QueryRow(std::string_view sql, const Params& params) {
  TARN_ASSIGN_OR_RETURN(QueryResult result, Query(sql, params));
  if (result.rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(result.rows.front()));
}

}  // namespace tarn::meta
