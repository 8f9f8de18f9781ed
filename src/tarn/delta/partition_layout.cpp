// SPDX-License-Identifier: Apache-2.0
// Partition directory escaping and data file naming.
#include "tarn/delta/partition_layout.hpp"

#include "tarn/delta/uuid.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::delta {
namespace {

bool NeedsEscaping(unsigned char c) {
  if (c >= 0x01 && c <= 0x1F) return true;
  switch (c) {
    case '"': case '#': case '%': case '\'': case '*': case '/': case ':': case '=': case '?': case '\\':
    case 0x7F: case '{': case '[': case ']': case '^':
      return true;
    default:
      return false;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string EscapePartitionPathComponent(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (NeedsEscaping(static_cast<unsigned char>(c))) {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

std::string UnescapePartitionPathComponent(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

Result<std::string> PartitionDirectory(const std::vector<std::string>& partition_columns,
                                       const std::vector<MapEntry>& values) {
  std::string out;
  for (const std::string& column : partition_columns) {
    auto value = FindMapEntry(values, column);
    if (!value) return Error(ErrorCode::kInvalidParameterValue, "no value for partition column {}", column);
    out += EscapePartitionPathComponent(column);
    out += '=';
    if (!value->has_value() || (*value)->empty()) {
      out += kHiveDefaultPartition;
    } else {
      out += EscapePartitionPathComponent(**value);
    }
    out += '/';
  }
  return out;
}

std::string NewDataFileName(int task, std::string_view extension) {
  return fmt::format("part-{:05d}-{}-c000{}", task, NewUuid(), extension);
}

std::string EncodeAddPath(std::string_view relative_path) { return storage::PercentEncodePath(relative_path); }

}  // namespace tarn::delta
