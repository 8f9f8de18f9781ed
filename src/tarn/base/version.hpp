// SPDX-License-Identifier: Apache-2.0
// The Tarn version string, reported by /health, --version and Delta commitInfo.engineInfo.
#pragma once

namespace tarn {
inline constexpr const char kVersion[] = "0.1.0";
}  // namespace tarn
