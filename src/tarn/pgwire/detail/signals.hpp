// SPDX-License-Identifier: Apache-2.0
// Module-private: pg_cancel_backend / pg_terminate_backend routing from SQL to the connection registries.
#pragma once

#include <cstdint>

#include "tarn/base/result.hpp"

namespace tarn::pgwire::detail {

/// Cancels (terminate = false: its running statement fails with 57014) or terminates (FATAL 57P01, closed) the
/// connection `target_pid` of the server whose connection `caller_pid` is (authenticated by its BackendKeyData
/// secret). Returns false for an unknown target. Errors: kPermissionDenied (42501) when the caller's user is
/// neither the target's nor the admin, or the caller's key does not match (a forged call).
/// Any thread (the caller's DuckDB worker).
Result<bool> SignalBackend(int32_t caller_pid, int32_t caller_secret, bool terminate, int32_t target_pid);

}  // namespace tarn::pgwire::detail
