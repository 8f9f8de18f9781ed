// SPDX-License-Identifier: Apache-2.0
// RAII owners for every DuckDB C API handle the engine uses (module-private: includes duckdb.h).
#pragma once

#include <duckdb.h>

#include <utility>

namespace tarn::engine::detail {

/// Owns one DuckDB handle of type T and destroys it with Destroy(&handle). Move-only; get() for C calls,
/// out() to receive a handle from a C function (destroys any held one first).
template <typename T, void (*Destroy)(T*)>
class DuckHandle {
 public:
  DuckHandle() = default;
  explicit DuckHandle(T handle) : handle_(handle) {}
  ~DuckHandle() { Reset(); }
  DuckHandle(const DuckHandle&) = delete;
  DuckHandle& operator=(const DuckHandle&) = delete;
  DuckHandle(DuckHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  DuckHandle& operator=(DuckHandle&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }

  T get() const { return handle_; }
  T* out() {
    Reset();
    return &handle_;
  }
  explicit operator bool() const { return handle_ != nullptr; }
  void Reset() {
    if (handle_ != nullptr) Destroy(&handle_);
    handle_ = nullptr;
  }

 private:
  T handle_ = nullptr;
};

inline void DestroyDatabase(duckdb_database* h) { duckdb_close(h); }
inline void DestroyConnection(duckdb_connection* h) { duckdb_disconnect(h); }
inline void DestroyConfig(duckdb_config* h) { duckdb_destroy_config(h); }

using DuckDatabase = DuckHandle<duckdb_database, DestroyDatabase>;
using DuckConnection = DuckHandle<duckdb_connection, DestroyConnection>;
using DuckConfig = DuckHandle<duckdb_config, DestroyConfig>;
using DuckPrepared = DuckHandle<duckdb_prepared_statement, duckdb_destroy_prepare>;
using DuckPending = DuckHandle<duckdb_pending_result, duckdb_destroy_pending>;
using DuckExtracted = DuckHandle<duckdb_extracted_statements, duckdb_destroy_extracted>;
using DuckDataChunk = DuckHandle<duckdb_data_chunk, duckdb_destroy_data_chunk>;
using DuckLogicalType = DuckHandle<duckdb_logical_type, duckdb_destroy_logical_type>;
using DuckValue = DuckHandle<duckdb_value, duckdb_destroy_value>;

/// Owns a duckdb_result (a struct, not a pointer): destroyed with duckdb_destroy_result once filled.
class DuckResult {
 public:
  DuckResult() = default;
  ~DuckResult() { Reset(); }
  DuckResult(const DuckResult&) = delete;
  DuckResult& operator=(const DuckResult&) = delete;

  /// For C functions that fill a result (duckdb_execute_pending...); the result counts as filled afterwards, even
  /// on error, because DuckDB fills error results too.
  duckdb_result* out() {
    Reset();
    filled_ = true;
    return &result_;
  }
  duckdb_result* get() { return &result_; }
  duckdb_result& ref() { return result_; }
  bool filled() const { return filled_; }
  void Reset() {
    if (filled_) duckdb_destroy_result(&result_);
    filled_ = false;
  }

 private:
  duckdb_result result_{};
  bool filled_ = false;
};

/// Owns a char* DuckDB allocated (duckdb_free).
class DuckString {
 public:
  explicit DuckString(char* s) : s_(s) {}
  ~DuckString() {
    if (s_ != nullptr) duckdb_free(s_);
  }
  DuckString(const DuckString&) = delete;
  DuckString& operator=(const DuckString&) = delete;
  const char* get() const { return s_ != nullptr ? s_ : ""; }

 private:
  char* s_;
};

}  // namespace tarn::engine::detail
