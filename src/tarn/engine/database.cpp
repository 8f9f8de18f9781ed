// SPDX-License-Identifier: Apache-2.0
// Database: opens the embedded DuckDB instance with Tarn's settings and hands out Sessions.
#include "tarn/engine/database.hpp"

#include <dlfcn.h>
#include <sys/types.h>

#include <cstdlib>
#include <string>

#include "tarn/engine/detail/impl.hpp"
#include "tarn/engine/duck_error.hpp"

namespace tarn::engine {
namespace {

// Settings every session runs with: progress tracking for Session::Progress(), no progress bar on stdout, and UTC so
// that DuckDB's own timestamptz arithmetic agrees with how Chunk prints timestamptz values.
constexpr const char* kSessionSetup =
    "SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET TimeZone = 'UTC';";

Status SetConfig(duckdb_config config, const char* name, const std::string& value) {
  if (duckdb_set_config(config, name, value.c_str()) == DuckDBError) {
    return Error(ErrorCode::kInvalidParameterValue, "invalid DuckDB setting {}: '{}'", name, value);
  }
  return Status::OK();
}

// The names of the table functions and table macros known now (the plan cache does not cache statements calling
// them: they may read files at bind time).
Status LoadTableFunctionNames(Database& database, detail::TableFunctionNames& names) {
  TARN_ASSIGN_OR_RETURN(auto session, database.Connect());
  TARN_ASSIGN_OR_RETURN(auto stream, session->Execute("SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
                                                      "WHERE function_type IN ('table', 'table_macro')"));
  while (true) {
    TARN_ASSIGN_OR_RETURN(auto chunk, stream->Next());
    if (!chunk) break;
    for (size_t r = 0; r < chunk->num_rows(); r++) {
      if (!chunk->IsNull(0, r)) names.insert(chunk->FormatValue(0, r, ValueStyle::kDuckDb));
    }
  }
  return Status::OK();
}

// DuckDB starts no worker threads of its own (external_threads = threads): statements run on their own thread, and
// the pool's helpers join only statements that run long (detail/task_pool.hpp).
Status StartTaskPool(Database& database, duckdb_database handle, std::unique_ptr<detail::TaskPool>& pool) {
  TARN_ASSIGN_OR_RETURN(auto session, database.Connect());
  std::string threads;
  {
    TARN_ASSIGN_OR_RETURN(auto stream, session->Execute("SELECT current_setting('threads')::BIGINT"));
    TARN_ASSIGN_OR_RETURN(auto chunk, stream->Next());
    if (!chunk || chunk->num_rows() != 1) return Error(ErrorCode::kInternal, "cannot read DuckDB's thread count");
    threads = chunk->FormatValue(0, 0, ValueStyle::kDuckDb);
  }
  TARN_ASSIGN_OR_RETURN(auto set, session->Execute("SET GLOBAL external_threads = " + threads));
  set->Close();
  long total = std::stol(threads);
  pool = std::make_unique<detail::TaskPool>(handle, total > 1 ? static_cast<size_t>(total - 1) : 0);
  return Status::OK();
}

// How long DuckDB's allocator (its bundled jemalloc) keeps freed pages before returning them to the kernel:
// jemalloc's own default for dirty pages. DuckDB builds it with 1 s, so a scan that frees and reallocates its
// Parquet read and decompression buffers every row group gives its pages back while it runs (MADV_FREE /
// MADV_DONTNEED, one TLB shoot-down each) and faults them in again: ~3,000 faults and 17 % of the server's CPU for a
// 1M-row SELECT streamed over the wire. Freed memory now stays mapped for up to 10 s after a large query.
constexpr unsigned kAllocatorDecayMs = 10000;

// Sets the decay of every jemalloc arena and of arenas created later. Best effort: skipped when the operator
// configures jemalloc (DUCKDB_JE_MALLOC_CONF) or the DuckDB build exports no jemalloc control (other allocator).
void TuneAllocatorDecay() {
  if (std::getenv("DUCKDB_JE_MALLOC_CONF") != nullptr) return;
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "duckdb_je_mallctl"));
  if (mallctl == nullptr) return;
  ssize_t decay = kAllocatorDecayMs;
  unsigned narenas = 0;
  size_t size = sizeof(narenas);
  if (mallctl("arenas.narenas", &narenas, &size, nullptr, 0) != 0) return;
  for (const char* kind : {"dirty_decay_ms", "muzzy_decay_ms"}) {
    std::string name = std::string("arenas.") + kind;
    mallctl(name.c_str(), nullptr, nullptr, &decay, sizeof(decay));
    for (unsigned i = 0; i < narenas; i++) {
      name = "arena." + std::to_string(i) + "." + kind;
      mallctl(name.c_str(), nullptr, nullptr, &decay, sizeof(decay));
    }
  }
}

}  // namespace

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

const DatabaseOptions& Database::options() const { return impl_->options; }

Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  if (options.threads < 0) {
    return Error(ErrorCode::kInvalidParameterValue, "threads must be 0 (default) or positive, got {}",
                 options.threads);
  }
  detail::DuckConfig config;
  if (duckdb_create_config(config.out()) == DuckDBError) {
    return Error(ErrorCode::kInternal, "cannot create a DuckDB configuration");
  }
  if (options.threads > 0) TARN_RETURN_IF_ERROR(SetConfig(config.get(), "threads", std::to_string(options.threads)));
  if (!options.memory_limit.empty()) TARN_RETURN_IF_ERROR(SetConfig(config.get(), "memory_limit", options.memory_limit));
  // The only reachable registries are package managers: never try to download extensions.
  TARN_RETURN_IF_ERROR(SetConfig(config.get(), "autoinstall_known_extensions", "false"));

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  char* error = nullptr;
  const char* path = options.path.empty() ? nullptr : options.path.c_str();
  if (duckdb_open_ext(path, impl->database.out(), config.get(), &error) == DuckDBError) {
    std::string message = error != nullptr ? error : "unknown error";
    if (error != nullptr) duckdb_free(error);
    bool bad_setting = message.find("memory") != std::string::npos || message.find("thread") != std::string::npos;
    if (bad_setting) {
      return Error(ErrorCode::kInvalidParameterValue, "cannot open database (threads={}, memory_limit='{}'): {}",
                   options.threads, options.memory_limit, message);
    }
    return Error(ErrorCode::kIoError, "cannot open database {}: {}", options.path.empty() ? ":memory:" : options.path,
                 message);
  }
  TuneAllocatorDecay();
  duckdb_database handle = impl->database.get();
  auto database = std::make_unique<Database>(std::move(impl));
  TARN_ASSIGN_OR_RETURN(database->impl_->delta, RegisterDeltaFunctions(*database, handle));
  TARN_RETURN_IF_ERROR(LoadTableFunctionNames(*database, database->impl_->table_functions));
  TARN_RETURN_IF_ERROR(StartTaskPool(*database, handle, database->impl_->pool));
  return database;
}

Result<std::unique_ptr<Session>> Database::Connect() {
  auto impl = std::make_unique<Session::Impl>();
  impl->delta = impl_->delta.get();
  impl->table_functions = &impl_->table_functions;
  if (impl_->pool) {
    impl->pool = impl_->pool.get();
    impl->pool->Register(&impl->activity);
  }
  if (duckdb_connect(impl_->database.get(), impl->connection.out()) == DuckDBError) {
    return Error(ErrorCode::kInternal, "DuckDB refused a new connection");
  }
  detail::DuckResult result;
  if (duckdb_query(impl->connection.get(), kSessionSetup, result.out()) == DuckDBError) {
    return DuckError(duckdb_result_error_type(result.get()), duckdb_result_error(result.get()))
        .WithContext("setting up a session");
  }
  return std::make_unique<Session>(std::move(impl));
}

}  // namespace tarn::engine
