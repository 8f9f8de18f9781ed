// SPDX-License-Identifier: Apache-2.0
// Test and benchmark stand-ins for the engine's Parquet checkpoint writer/reader: checkpoint rows stored as JSON lines.
#pragma once

#include <atomic>
#include <string>

#include "tarn/delta/action_serializer.hpp"
#include "tarn/delta/checkpoint_reader.hpp"
#include "tarn/delta/checkpoint_writer.hpp"

namespace tarn::delta::testing {

/// Writes CheckpointContent rows as newline-delimited JSON under the checkpoint key. Can be told to fail.
class JsonCheckpointWriter final : public CheckpointWriter {
 public:
  Result<CheckpointFileInfo> WriteCheckpoint(storage::ObjectStore& store, std::string_view key,
                                             const CheckpointContent& content) override {
    if (fail_.load()) return Error(ErrorCode::kIoError, "injected checkpoint failure");
    std::string data = SerializeAction(content.protocol) + "\n" + SerializeAction(content.metadata) + "\n";
    for (const TxnAction& txn : content.txns) data += SerializeAction(txn) + "\n";
    for (const DomainMetadataAction& domain : content.domain_metadata) data += SerializeAction(domain) + "\n";
    if (content.checkpoint_metadata) data += SerializeAction(*content.checkpoint_metadata) + "\n";
    for (const AddAction& add : content.adds) data += SerializeAction(add) + "\n";
    for (const RemoveAction& remove : content.removes) data += SerializeAction(remove) + "\n";
    TARN_RETURN_IF_ERROR(store.Write(key, data));
    ++num_written_;
    return CheckpointFileInfo{static_cast<int64_t>(data.size())};
  }
  void set_fail(bool fail) { fail_ = fail; }
  int num_written() const { return num_written_.load(); }

 private:
  std::atomic<bool> fail_{false};
  std::atomic<int> num_written_{0};
};

/// Reads what JsonCheckpointWriter wrote.
class JsonCheckpointReader final : public CheckpointReader {
 public:
  Status ReadCheckpointActions(storage::ObjectStore& store, std::string_view key, const CheckpointReadRequest&,
                               ActionVisitor& visitor) override {
    auto content = store.Read(key);
    if (!content.has_value()) return content.status();
    return ReadJsonActions(*content, key, visitor);
  }
};

}  // namespace tarn::delta::testing
