// SPDX-License-Identifier: Apache-2.0
// Random UUIDs from the base module's secure random source.
#include "tarn/delta/uuid.hpp"

#include "tarn/base/crypto.hpp"

namespace tarn::delta {

std::string NewUuid() {
  std::string bytes = RandomBytes(16);
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string hex = HexEncode(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace tarn::delta
