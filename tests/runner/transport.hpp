// SPDX-License-Identifier: Apache-2.0
// Transport: how the sqllogictest runner reaches a SQL engine (in-process, or over the PostgreSQL wire).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tarn::sqllogictest {

/// What one statement produced, as text: rows of values (NULL as "NULL", empty strings as "(empty)", the
/// sqllogictest conventions) or an error with its SQLSTATE.
struct StatementResult {
  bool ok = true;
  std::string sqlstate;          // 5 characters when !ok
  std::string error_message;     // when !ok
  // When !ok: the transport failed rather than the statement (connection lost, a result it cannot read); the runner
  // fails the file whatever the record expected.
  bool transport_failed = false;
  size_t num_columns = 0;
  std::vector<std::vector<std::string>> rows;
};

/// One connection to a fresh database. A transport lives for one test file.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Runs one SQL statement (or script) and returns its last result.
  virtual StatementResult Execute(std::string_view sql) = 0;
};

/// Creates a transport on a fresh, empty database; returns nullptr and sets `error` when it cannot.
class TransportFactory {
 public:
  virtual ~TransportFactory() = default;
  virtual std::unique_ptr<Transport> Create(std::string& error) = 0;
};

}  // namespace tarn::sqllogictest
