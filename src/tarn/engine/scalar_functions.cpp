// SPDX-License-Identifier: Apache-2.0
// Scalar SQL functions computed by C++ callbacks, through DuckDB's C API.
#include "tarn/engine/scalar_functions.hpp"

#include <string>

#include "tarn/engine/detail/duck_handles.hpp"
#include "tarn/engine/detail/impl.hpp"

namespace tarn::engine {
namespace {

struct PredicateInfo {
  size_t arity = 0;
  BigintPredicate fn;
};

void DestroyPredicateInfo(void* data) { delete static_cast<PredicateInfo*>(data); }

void RunPredicate(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  auto* predicate = static_cast<PredicateInfo*>(duckdb_scalar_function_get_extra_info(info));
  idx_t rows = duckdb_data_chunk_get_size(input);
  std::vector<const int64_t*> data(predicate->arity);
  std::vector<uint64_t*> validity(predicate->arity);
  for (size_t k = 0; k < predicate->arity; k++) {
    duckdb_vector vector = duckdb_data_chunk_get_vector(input, k);
    data[k] = static_cast<const int64_t*>(duckdb_vector_get_data(vector));
    validity[k] = duckdb_vector_get_validity(vector);
  }
  auto* out = static_cast<bool*>(duckdb_vector_get_data(output));
  std::vector<int64_t> args(predicate->arity);
  for (idx_t row = 0; row < rows; row++) {
    bool null = false;
    for (size_t k = 0; k < predicate->arity; k++) {
      if (validity[k] != nullptr && !duckdb_validity_row_is_valid(validity[k], row)) null = true;
      args[k] = data[k][row];
    }
    if (null) {
      duckdb_vector_ensure_validity_writable(output);
      duckdb_validity_set_row_invalid(duckdb_vector_get_validity(output), row);
      continue;
    }
    auto result = predicate->fn(args);
    if (!result.ok()) {
      duckdb_scalar_function_set_error(info, result.status().message().c_str());
      return;
    }
    out[row] = *result;
  }
}

}  // namespace

Status RegisterBigintPredicate(Session& session, std::string_view name, size_t arity, BigintPredicate fn) {
  duckdb_scalar_function function = duckdb_create_scalar_function();
  std::string function_name(name);
  duckdb_scalar_function_set_name(function, function_name.c_str());
  detail::DuckLogicalType bigint(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
  detail::DuckLogicalType boolean(duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN));
  for (size_t k = 0; k < arity; k++) duckdb_scalar_function_add_parameter(function, bigint.get());
  duckdb_scalar_function_set_return_type(function, boolean.get());
  duckdb_scalar_function_set_volatile(function);
  duckdb_scalar_function_set_extra_info(function, new PredicateInfo{arity, std::move(fn)}, DestroyPredicateInfo);
  duckdb_scalar_function_set_function(function, RunPredicate);
  duckdb_state state = duckdb_register_scalar_function(session.impl().connection.get(), function);
  duckdb_destroy_scalar_function(&function);
  if (state == DuckDBError) {
    // DuckDB refuses a second function of the same name (the first registration of this database stays).
    return Error(ErrorCode::kAlreadyExists, "cannot register scalar function {} (registered already?)", name);
  }
  return Status::OK();
}

}  // namespace tarn::engine
