// SPDX-License-Identifier: Apache-2.0
// Deletion vectors: Z85, RoaringBitmapArray parsing and DV file access.
#include "tarn/engine/deletion_vector.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tarn/storage/storage_path.hpp"

namespace tarn::engine {
namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr uint32_t kRoaringArrayMagic = 1681511377;
constexpr uint32_t kSerialCookieNoRuns = 12346;
constexpr uint32_t kSerialCookie = 12347;
constexpr uint32_t kNoOffsetThreshold = 4;
constexpr uint32_t kMaxArrayContainer = 4096;
constexpr size_t kUuidZ85Length = 20;

// Bounds-checked little-endian reader.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}
  bool Skip(size_t n) {
    if (data_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  template <typename T>
  bool Read(T& out) {
    if (data_.size() - pos_ < sizeof(T)) return false;
    T value = 0;
    for (size_t i = 0; i < sizeof(T); i++) {
      value |= static_cast<T>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    out = value;
    pos_ += sizeof(T);
    return true;
  }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

Status Corrupt(std::string_view what) { return Error(ErrorCode::kCorruptData, "corrupt deletion vector: {}", what); }

// Appends the values of one portable 32-bit Roaring bitmap, each OR'ed with `high` (the bucket key << 32); more than
// `max_rows` values in `out` are kCorruptData (a few bytes of runs can describe billions of rows).
Status ParseRoaring32(ByteReader& in, uint64_t high, std::vector<uint64_t>& out, uint64_t max_rows) {
  uint32_t cookie = 0;
  if (!in.Read(cookie)) return Corrupt("truncated roaring cookie");
  uint32_t num_containers = 0;
  std::vector<uint8_t> run_flags;
  bool has_runs = (cookie & 0xFFFF) == kSerialCookie;
  if (has_runs) {
    num_containers = (cookie >> 16) + 1;
    run_flags.resize((num_containers + 7) / 8);
    for (auto& flag : run_flags) {
      if (!in.Read(flag)) return Corrupt("truncated run flags");
    }
  } else if (cookie == kSerialCookieNoRuns) {
    if (!in.Read(num_containers)) return Corrupt("truncated container count");
  } else {
    return Corrupt(fmt::format("unknown roaring cookie {}", cookie));
  }
  if (num_containers > (1u << 16)) return Corrupt("too many containers");
  std::vector<uint16_t> keys(num_containers);
  std::vector<uint32_t> cardinalities(num_containers);
  for (uint32_t i = 0; i < num_containers; i++) {
    uint16_t cardinality_minus_one = 0;
    if (!in.Read(keys[i]) || !in.Read(cardinality_minus_one)) return Corrupt("truncated container header");
    cardinalities[i] = static_cast<uint32_t>(cardinality_minus_one) + 1;
  }
  if (!has_runs || num_containers >= kNoOffsetThreshold) {
    if (!in.Skip(4 * static_cast<size_t>(num_containers))) return Corrupt("truncated container offsets");
  }
  for (uint32_t i = 0; i < num_containers; i++) {
    uint64_t base = high | (static_cast<uint64_t>(keys[i]) << 16);
    bool is_run = has_runs && (run_flags[i / 8] >> (i % 8)) & 1;
    if (is_run) {
      uint16_t num_runs = 0;
      if (!in.Read(num_runs)) return Corrupt("truncated run container");
      for (uint16_t r = 0; r < num_runs; r++) {
        uint16_t start = 0;
        uint16_t length_minus_one = 0;
        if (!in.Read(start) || !in.Read(length_minus_one)) return Corrupt("truncated run");
        if (static_cast<uint32_t>(start) + length_minus_one > 0xFFFF) return Corrupt("run past the container end");
        if (out.size() + length_minus_one + 1 > max_rows) return Corrupt("more rows than the descriptor's cardinality");
        for (uint32_t v = start; v <= static_cast<uint32_t>(start) + length_minus_one; v++) out.push_back(base | v);
      }
    } else if (cardinalities[i] <= kMaxArrayContainer) {
      for (uint32_t j = 0; j < cardinalities[i]; j++) {
        uint16_t v = 0;
        if (!in.Read(v)) return Corrupt("truncated array container");
        out.push_back(base | v);
      }
    } else {
      for (uint32_t word = 0; word < 1024; word++) {
        uint64_t bits = 0;
        if (!in.Read(bits)) return Corrupt("truncated bitmap container");
        while (bits != 0) {
          int bit = __builtin_ctzll(bits);
          out.push_back(base | (word * 64 + static_cast<uint32_t>(bit)));
          bits &= bits - 1;
        }
      }
    }
    if (out.size() > max_rows) return Corrupt("more rows than the descriptor's cardinality");
  }
  return Status::OK();
}

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) crc = table[(crc ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t ReadBigEndian32(std::string_view data) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = (v << 8) | static_cast<uint8_t>(data[i]);
  return v;
}

Result<std::string> ReadLocalFileRange(const std::string& path, int64_t offset, int64_t length) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Error(ErrorCode::kResourceDoesNotExist, "deletion vector file not found: {}", path);
  // Check the range against the file before allocating: offset and sizeInBytes come from the log.
  int64_t file_size = static_cast<int64_t>(in.tellg());
  if (offset < 0 || length < 0 || file_size < 0 || offset > file_size || length > file_size - offset) {
    return Error(ErrorCode::kCorruptData, "deletion vector range [{}, +{}) outside {} ({} bytes)", offset, length, path,
                 file_size);
  }
  in.seekg(offset);
  std::string data(static_cast<size_t>(length), '\0');
  in.read(data.data(), length);
  if (in.gcount() != length) return Error(ErrorCode::kCorruptData, "deletion vector file truncated: {}", path);
  return data;
}

}  // namespace

Result<std::string> DecodeZ85(std::string_view text) {
  static const std::array<int8_t, 256> decode = [] {
    std::array<int8_t, 256> d{};
    d.fill(-1);
    for (size_t i = 0; i < kZ85Alphabet.size(); i++) d[static_cast<uint8_t>(kZ85Alphabet[i])] = static_cast<int8_t>(i);
    return d;
  }();
  if (text.size() % 5 != 0) return Error(ErrorCode::kCorruptData, "Z85 text length {} is not a multiple of 5", text.size());
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    // 32-bit wrap-around like Delta's (Java int) decoder: writers emit such groups in the padded tail of inline DVs.
    uint32_t value = 0;
    for (size_t j = 0; j < 5; j++) {
      int8_t digit = decode[static_cast<uint8_t>(text[i + j])];
      if (digit < 0) return Error(ErrorCode::kCorruptData, "invalid Z85 character '{}'", text[i + j]);
      value = value * 85u + static_cast<uint32_t>(digit);
    }
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
  }
  return out;
}

Result<std::vector<uint64_t>> ParseRoaringBitmapArray(std::string_view data, uint64_t max_rows) {
  ByteReader in(data);
  uint32_t magic = 0;
  if (!in.Read(magic)) return Corrupt("truncated magic");
  if (magic != kRoaringArrayMagic) return Corrupt(fmt::format("bad magic {}", magic));
  uint64_t num_buckets = 0;
  if (!in.Read(num_buckets)) return Corrupt("truncated bucket count");
  if (num_buckets > in.remaining()) return Corrupt("bucket count exceeds data");
  std::vector<uint64_t> rows;
  for (uint64_t b = 0; b < num_buckets; b++) {
    uint32_t key = 0;
    if (!in.Read(key)) return Corrupt("truncated bucket key");
    if (key & 0x80000000u) return Corrupt("bucket key has its sign bit set");
    TARN_RETURN_IF_ERROR(ParseRoaring32(in, static_cast<uint64_t>(key) << 32, rows, max_rows));
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

Result<std::string> RelativeDeletionVectorPath(std::string_view path_or_inline_dv) {
  if (path_or_inline_dv.size() < kUuidZ85Length) {
    return Error(ErrorCode::kCorruptData, "deletion vector path too short: '{}'", path_or_inline_dv);
  }
  std::string_view prefix = path_or_inline_dv.substr(0, path_or_inline_dv.size() - kUuidZ85Length);
  TARN_ASSIGN_OR_RETURN(std::string uuid, DecodeZ85(path_or_inline_dv.substr(prefix.size())));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (size_t i = 0; i < uuid.size(); i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    text.push_back(kHex[static_cast<uint8_t>(uuid[i]) >> 4]);
    text.push_back(kHex[static_cast<uint8_t>(uuid[i]) & 0xF]);
  }
  std::string path;
  if (!prefix.empty()) path = std::string(prefix) + "/";
  return path + "deletion_vector_" + text + ".bin";
}

Result<std::vector<uint64_t>> LoadDeletionVector(storage::ObjectStore& store, std::string_view table_root,
                                                 const delta::DeletionVectorRef& dv) {
  std::string bitmap;
  std::string source;
  if (dv.storage_type == 'i') {
    source = "inline";
    TARN_ASSIGN_OR_RETURN(bitmap, DecodeZ85(dv.path_or_inline_dv));
    if (dv.size_in_bytes < 0 || static_cast<size_t>(dv.size_in_bytes) > bitmap.size()) {
      return Error(ErrorCode::kCorruptData, "inline deletion vector shorter than its sizeInBytes {}", dv.size_in_bytes);
    }
    bitmap.resize(static_cast<size_t>(dv.size_in_bytes));
  } else if (dv.storage_type == 'u' || dv.storage_type == 'p') {
    // A negative sizeInBytes would frame fewer than the 4 size bytes read below.
    if (dv.size_in_bytes < 0) {
      return Error(ErrorCode::kCorruptData, "deletion vector sizeInBytes {} is negative", dv.size_in_bytes);
    }
    int64_t offset = dv.offset.value_or(1);
    int64_t length = static_cast<int64_t>(dv.size_in_bytes) + 8;  // size field + data + CRC
    std::string framed;
    if (dv.storage_type == 'u') {
      TARN_ASSIGN_OR_RETURN(std::string relative, RelativeDeletionVectorPath(dv.path_or_inline_dv));
      source = std::string(table_root) + relative;
      TARN_ASSIGN_OR_RETURN(framed, store.ReadRange(source, offset, length));
    } else {
      TARN_ASSIGN_OR_RETURN(std::string decoded, storage::PercentDecode(dv.path_or_inline_dv));
      std::string_view path = decoded;
      if (path.starts_with("file://")) path.remove_prefix(7);
      else if (path.starts_with("file:")) path.remove_prefix(5);
      if (!path.starts_with("/")) {
        return Error(ErrorCode::kFeatureNotSupported, "deletion vector storage not supported: {}", decoded);
      }
      source = std::string(path);
      TARN_ASSIGN_OR_RETURN(framed, ReadLocalFileRange(source, offset, length));
    }
    if (static_cast<int64_t>(framed.size()) != length) {
      return Error(ErrorCode::kCorruptData, "deletion vector truncated in {} at offset {}", source, offset);
    }
    uint32_t size = ReadBigEndian32(framed);
    if (static_cast<int64_t>(size) != dv.size_in_bytes) {
      return Error(ErrorCode::kCorruptData, "deletion vector size {} in {} does not match descriptor size {}", size,
                   source, dv.size_in_bytes);
    }
    bitmap = framed.substr(4, size);
    uint32_t crc = ReadBigEndian32(std::string_view(framed).substr(4 + size));
    if (crc != Crc32(bitmap)) return Error(ErrorCode::kCorruptData, "deletion vector checksum mismatch in {}", source);
  } else {
    return Error(ErrorCode::kFeatureNotSupported, "deletion vector storage type '{}' not supported", dv.storage_type);
  }
  if (dv.cardinality < 0) {
    return Error(ErrorCode::kCorruptData, "deletion vector cardinality {} is negative", dv.cardinality);
  }
  auto rows = ParseRoaringBitmapArray(bitmap, static_cast<uint64_t>(dv.cardinality));
  if (!rows.has_value()) return rows.status().WithContext("{}", source);
  if (static_cast<int64_t>(rows->size()) != dv.cardinality) {
    return Error(ErrorCode::kCorruptData, "deletion vector in {} holds {} rows, descriptor says {}", source,
                 rows->size(), dv.cardinality);
  }
  return rows;
}

}  // namespace tarn::engine
