// SPDX-License-Identifier: Apache-2.0
// Random (version 4) UUIDs for table ids, transaction ids and data file names.
#pragma once

#include <string>

namespace tarn::delta {

/// Returns a random RFC 4122 version-4 UUID in its 36-character lowercase text form.
std::string NewUuid();

}  // namespace tarn::delta
