// SPDX-License-Identifier: Apache-2.0
// Scalar SQL functions computed by C++ callbacks (server functions such as pg_cancel_backend).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/base/status.hpp"
#include "tarn/engine/session.hpp"

namespace tarn::engine {

/// Computes one row: `args` are the BIGINT arguments (never NULL: a NULL argument gives NULL without a call).
/// An error fails the statement with its message; kPermissionDenied keeps SQLSTATE 42501.
using BigintPredicate = std::function<Result<bool>(const std::vector<int64_t>& args)>;

/// Registers the volatile function `name(BIGINT x arity) -> BOOLEAN` in the database of `session` (visible to every
/// connection of it). The callback may run on any DuckDB thread, concurrently; it must outlive the database.
/// Errors: kAlreadyExists when a function of that name is registered already, kInternal when DuckDB refuses it.
Status RegisterBigintPredicate(Session& session, std::string_view name, size_t arity, BigintPredicate fn);

}  // namespace tarn::engine
