// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: bytes from other engines' Delta logs (commit JSON, _last_checkpoint, schemaString, partition
// values, stats, deletion vector descriptors) through an in-memory store and a snapshot load. Errors are fine;
// any crash, hang, leak or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/delta/actions.hpp"
#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/log_segment.hpp"
#include "tarn/delta/partition_value.hpp"
#include "tarn/delta/schema.hpp"
#include "tarn/delta/schema_serializer.hpp"
#include "tarn/delta/table_maintenance.hpp"
#include "tarn/storage/in_memory_object_store.hpp"

namespace {

// The input is up to four NUL-separated parts: commit 0, commit 1, _last_checkpoint, a free-form value.
std::vector<std::string_view> SplitParts(std::string_view bytes) {
  std::vector<std::string_view> parts;
  while (parts.size() < 3) {
    size_t nul = bytes.find('\0');
    if (nul == std::string_view::npos) break;
    parts.push_back(bytes.substr(0, nul));
    bytes.remove_prefix(nul + 1);
  }
  parts.push_back(bytes);
  return parts;
}

void Inspect(const tarn::delta::Snapshot& snapshot, std::string_view free_form) {
  using namespace tarn::delta;
  SerializeSchema(snapshot.schema());
  for (const auto& field : snapshot.schema().fields()) {
    if (field.type) ParsePartitionValue(free_form, *field.type).status().IgnoreError();
  }
  for (const FileEntry& file : snapshot.active_files()) {
    for (const auto& column : snapshot.partition_columns()) {
      const StructField* field = snapshot.schema().FindField(column);
      const PartitionValueRef* ref =
          file.FindPartitionValue(PartitionValueKey(snapshot.metadata().configuration, snapshot.schema(), column));
      if (field == nullptr || field->type == nullptr || ref == nullptr) continue;
      ParsePartitionValue(ref->is_null ? std::nullopt : std::optional<std::string_view>(ref->value), *field->type)
          .status()
          .IgnoreError();
    }
    if (file.deletion_vector != nullptr) {
      DecodeZ85(file.deletion_vector->path_or_inline_dv);
      DeletionVectorFilePath(*file.deletion_vector, "/table/root");
    }
  }
  for (const FileEntry& file : snapshot.tombstones()) (void)file.FindPartitionValue("p");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tarn::delta;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ParseJsonActions(bytes).status().IgnoreError();
  ParseSchema(bytes).status().IgnoreError();
  ParsePrimitiveTypeName(bytes).status().IgnoreError();
  ParseLastCheckpoint(bytes);
  DecodeZ85(bytes);

  std::vector<std::string_view> parts = SplitParts(bytes);
  tarn::storage::InMemoryObjectStore store;
  store.Write("t/_delta_log/" + VersionStem(0) + ".json", parts[0]).IgnoreError();
  if (parts.size() > 1) store.Write("t/_delta_log/" + VersionStem(1) + ".json", parts[1]).IgnoreError();
  if (parts.size() > 2) store.Write("t/_delta_log/_last_checkpoint", parts[2]).IgnoreError();
  std::string_view free_form = parts.size() > 3 ? parts[3] : std::string_view();
  DeltaLog log(store, "t");
  auto v0 = log.LoadAtVersion(0);
  if (v0.ok()) {
    Inspect(**v0, free_form);
    auto refreshed = log.Refresh(*v0);
    if (refreshed.ok()) Inspect(**refreshed, free_form);
  }
  auto latest = log.LoadLatest();
  if (latest.ok()) Inspect(**latest, free_form);
  log.CommitTimestamps().status().IgnoreError();
  log.LoadAtTimestamp(1).status().IgnoreError();
  return 0;
}
