// SPDX-License-Identifier: Apache-2.0
// Runs parsed sqllogictest records against a Transport and reports the first failure.
#pragma once

#include <string>
#include <vector>

#include "test_file.hpp"
#include "transport.hpp"

namespace tarn::sqllogictest {

struct FileOutcome {
  bool passed = true;
  int failed_line = 0;         // header line of the failing record
  std::string message;         // what went wrong, with expected vs actual
  size_t records_run = 0;      // after loop expansion
  size_t records_skipped = 0;  // skipif/onlyif records not run on this transport (not in records_run)
};

/// Runs `records` in order on `transport`, stopping at the first failure. `test_dir` replaces __TEST_DIR__.
/// `transport_name` (inprocess, wire-simple or wire-extended) decides which skipif/onlyif records run.
FileOutcome RunRecords(const std::vector<Record>& records, Transport& transport, const std::string& test_dir,
                       const std::string& transport_name);

}  // namespace tarn::sqllogictest
