// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a Delta table written by another engine (commit JSON with partition values, stats JSON and
// deletion vector descriptors, a DV file's bytes) through the scan planner: file skipping on every column, SQL
// generation and deletion vector loading (Z85, RoaringBitmapArray, CRC). Errors are fine; crashes are not.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/delta/delta_log.hpp"
#include "tarn/delta/log_segment.hpp"
#include "tarn/engine/deletion_vector.hpp"
#include "tarn/engine/delta_scan_plan.hpp"
#include "tarn/engine/delta_table.hpp"
#include "tarn/storage/in_memory_object_store.hpp"

namespace {

// Up to three NUL-separated parts: commit 0, a literal for the predicates, the bytes of every 'u'/'p' DV file.
std::vector<std::string_view> SplitParts(std::string_view bytes) {
  std::vector<std::string_view> parts;
  while (parts.size() < 2) {
    size_t nul = bytes.find('\0');
    if (nul == std::string_view::npos) break;
    parts.push_back(bytes.substr(0, nul));
    bytes.remove_prefix(nul + 1);
  }
  parts.push_back(bytes);
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tarn;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  engine::DecodeZ85(bytes).status().IgnoreError();
  engine::ParseRoaringBitmapArray(bytes, 1 << 20).status().IgnoreError();
  engine::RelativeDeletionVectorPath(bytes).status().IgnoreError();
  engine::DecodeScanPredicates(bytes);
  engine::ParseTimestampMillis(bytes).status().IgnoreError();
  engine::ResolveTableLocation(bytes, "/data/dbfs").status().IgnoreError();

  std::vector<std::string_view> parts = SplitParts(bytes);
  std::string_view literal = parts.size() > 1 ? parts[1] : std::string_view("1");
  std::string_view dv_file = parts.size() > 2 ? parts[2] : std::string_view();
  auto store = std::make_shared<storage::InMemoryObjectStore>();
  store->Write("_delta_log/" + delta::VersionStem(0) + ".json", parts[0]).IgnoreError();
  delta::DeltaLog log(*store, "");
  auto snapshot = log.LoadLatest();
  if (!snapshot.ok()) return 0;
  for (const delta::FileEntry& file : (*snapshot)->active_files()) {
    const delta::DeletionVectorRef* dv = file.deletion_vector;
    if (dv == nullptr) continue;
    if (dv->storage_type == 'u') {
      auto path = engine::RelativeDeletionVectorPath(dv->path_or_inline_dv);
      if (path.ok()) store->Write(*path, dv_file).IgnoreError();
    } else if (dv->storage_type == 'p' && !dv->path_or_inline_dv.empty() && dv->path_or_inline_dv.size() < 256) {
      store->Write(std::string(dv->path_or_inline_dv), dv_file).IgnoreError();
    }
  }
  engine::DeltaTable table{"/table", store, *snapshot};
  std::vector<engine::ScanPredicate> predicates;
  size_t columns = 0;
  for (const auto& field : (*snapshot)->schema().fields()) {
    if (++columns > 4) break;
    for (const char* op : {"=", "<>", "<", ">=", "is_null", "is_not_null"}) {
      bool null_test = std::string_view(op).starts_with("is_");
      predicates.push_back({field.name, op, null_test ? std::string() : std::string(literal)});
    }
  }
  for (size_t i = 0; i <= predicates.size(); i += 6) {
    std::span<const engine::ScanPredicate> some(predicates.data(), i);
    auto plan = engine::DeltaScanPlan::ForSnapshot(table, some);
    if (!plan.ok()) continue;
    (*plan)->EstimatedRows();
    (*plan)->PhysicalSchemaSql();
    std::vector<size_t> projection;
    for (size_t c = 0; c <= (*plan)->columns().size(); c++) projection.push_back(c);
    (*plan)->BuildSql(projection, {}, true);
    (*plan)->LoadRowFilters().status().IgnoreError();
  }
  engine::EncodeScanPredicates(predicates);
  return 0;
}
