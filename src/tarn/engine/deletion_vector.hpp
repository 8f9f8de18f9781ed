// SPDX-License-Identifier: Apache-2.0
// Deletion vectors: Z85 decoding, the RoaringBitmapArray format and loading a DV descriptor's row set (PROTOCOL.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/base/result.hpp"
#include "tarn/delta/snapshot.hpp"
#include "tarn/storage/object_store.hpp"

namespace tarn::engine {

/// Decodes Z85 (the ZeroMQ alphabet; big-endian 4-byte groups as 5 characters). The length must be a multiple of 5.
/// Errors: kCorruptData for a bad length or character.
Result<std::string> DecodeZ85(std::string_view text);

/// Parses a serialized RoaringBitmapArray (magic 1681511377, bucket count, per bucket a 32-bit key and a portable
/// 32-bit Roaring bitmap) into the sorted row indexes it holds. Errors: kCorruptData naming what is wrong, also for
/// runs past a container's end and for more than `max_rows` rows (LoadDeletionVector passes the descriptor's
/// cardinality, so a few bytes of runs cannot make it allocate billions of rows).
Result<std::vector<uint64_t>> ParseRoaringBitmapArray(std::string_view data, uint64_t max_rows = UINT64_MAX);

/// Returns the sorted, deduplicated row indexes deleted by `dv` (inline 'i', relative 'u' under the table root,
/// absolute 'p'), reading DV files through `store` (keys relative to `table_root`, a store key prefix ""/"dir/").
/// Checks the stored CRC and that the count equals the descriptor's cardinality.
/// Errors: kCorruptData (bad encoding, CRC or cardinality), kResourceDoesNotExist (missing DV file), kIoError.
Result<std::vector<uint64_t>> LoadDeletionVector(storage::ObjectStore& store, std::string_view table_root,
                                                 const delta::DeletionVectorRef& dv);

/// Builds the 'u' storage path of a DV relative to the table root: "<prefix>/deletion_vector_<uuid>.bin".
Result<std::string> RelativeDeletionVectorPath(std::string_view path_or_inline_dv);

}  // namespace tarn::engine
