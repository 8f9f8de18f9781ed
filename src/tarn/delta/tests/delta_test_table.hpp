// SPDX-License-Identifier: Apache-2.0
// Test helper: writes Delta commits into an in-memory store.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tarn/delta/log_segment.hpp"
#include "tarn/storage/in_memory_object_store.hpp"

namespace tarn::delta::testing {

inline std::string ProtocolLine(int reader = 1, int writer = 2, std::string reader_features = "") {
  std::string features;
  if (!reader_features.empty()) {
    features = ",\"readerFeatures\":[" + reader_features + "],\"writerFeatures\":[" + reader_features + "]";
  }
  return "{\"protocol\":{\"minReaderVersion\":" + std::to_string(reader) +
         ",\"minWriterVersion\":" + std::to_string(writer) + features + "}}";
}

inline std::string MetadataLine(std::string partition_columns = "", std::string configuration = "") {
  return R"({"metaData":{"id":"test-id","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[)" +
         partition_columns + R"(],"configuration":{)" + configuration + R"(},"createdTime":1}})";
}

inline std::string AddLine(std::string path, int64_t size = 10, std::string extra = "") {
  return R"({"add":{"path":")" + path + R"(","partitionValues":{},"size":)" + std::to_string(size) +
         R"(,"modificationTime":1,"dataChange":true)" + extra + "}}";
}

inline std::string RemoveLine(std::string path, std::string extra = "") {
  return R"({"remove":{"path":")" + path + R"(","deletionTimestamp":5,"dataChange":true)" + extra + "}}";
}

/// Writes `lines` as commit `version` of the table under `root` and sets its mtime.
inline void WriteCommit(storage::InMemoryObjectStore& store, int64_t version, const std::vector<std::string>& lines,
                        int64_t mtime = 0, std::string root = "") {
  std::string content;
  for (const auto& line : lines) content += line + "\n";
  std::string key = root + "_delta_log/" + VersionStem(version) + ".json";
  ASSERT_TRUE(store.Write(key, content).ok());
  if (mtime != 0) { ASSERT_TRUE(store.TestingSetModificationTime(key, mtime).ok()); }
}

}  // namespace tarn::delta::testing
