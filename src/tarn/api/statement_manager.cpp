// SPDX-License-Identifier: Apache-2.0
// StatementManager: a worker pool running sql::Session statements; results cut into chunks, expired after a TTL.
#include "tarn/api/statement_manager.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "tarn/api/detail/statement_text.hpp"
#include "tarn/base/clock.hpp"
#include "tarn/base/crypto.hpp"
#include "tarn/base/logging.hpp"
#include "tarn/catalog/catalog.hpp"
#include "tarn/engine/chunk.hpp"
#include "tarn/engine/result_stream.hpp"
#include "tarn/sql/session.hpp"
#include "tarn/sql/warehouse.hpp"

namespace tarn::api {
namespace {

bool IsTerminal(StatementState state) {
  return state != StatementState::kPending && state != StatementState::kRunning;
}

std::string NewStatementId() {
  std::string hex = RandomHex(16);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

/// Collects rows into chunks, sealing one when it reaches the byte or row target.
class ChunkBuilder {
 public:
  ChunkBuilder(const StatementRequest& request, const StatementManagerOptions& options,
               const std::vector<ResultColumn>& columns)
      : request_(request), options_(options), columns_(columns) {}

  void Add(std::vector<std::optional<std::string>>& row, int64_t row_bytes) {
    for (auto& cell : row) current_.push_back(std::move(cell));
    current_rows_++;
    current_bytes_ += row_bytes;
    if (current_bytes_ >= options_.chunk_bytes || current_rows_ >= options_.chunk_rows) Seal();
  }

  void Seal() {
    if (current_rows_ == 0) return;
    auto chunk = std::make_shared<ResultChunk>();
    chunk->info.chunk_index = static_cast<int64_t>(chunks_.size());
    chunk->info.row_offset = rows_sealed_;
    chunk->info.row_count = current_rows_;
    chunk->num_columns = columns_.size();
    chunk->format = request_.format;
    if (request_.disposition == ResultDisposition::kInline) {
      chunk->info.byte_count = current_bytes_;
      chunk->cells = std::move(current_);
    } else if (request_.format == ResultFormat::kCsv) {
      if (chunks_.empty()) {
        std::vector<std::optional<std::string>> header;
        for (const auto& column : columns_) header.emplace_back(column.name);
        detail::AppendCsvRecord(chunk->payload, header.data(), header.size());
      }
      for (int64_t r = 0; r < current_rows_; r++) {
        detail::AppendCsvRecord(chunk->payload, current_.data() + r * columns_.size(), columns_.size());
      }
    } else {
      nlohmann::json rows = nlohmann::json::array();
      for (int64_t r = 0; r < current_rows_; r++) {
        nlohmann::json row = nlohmann::json::array();
        for (size_t c = 0; c < columns_.size(); c++) {
          const auto& cell = current_[r * columns_.size() + c];
          row.push_back(cell ? nlohmann::json(*cell) : nlohmann::json(nullptr));
        }
        rows.push_back(std::move(row));
      }
      chunk->payload = rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (request_.disposition == ResultDisposition::kExternalLinks) {
      chunk->info.byte_count = static_cast<int64_t>(chunk->payload.size());
    }
    rows_sealed_ += current_rows_;
    current_.clear();
    current_rows_ = 0;
    current_bytes_ = 0;
    chunks_.push_back(std::move(chunk));
  }

  std::vector<std::shared_ptr<const ResultChunk>> TakeChunks() { return std::move(chunks_); }

 private:
  const StatementRequest& request_;
  const StatementManagerOptions& options_;
  const std::vector<ResultColumn>& columns_;
  std::vector<std::optional<std::string>> current_;
  int64_t current_rows_ = 0;
  int64_t current_bytes_ = 0;
  int64_t rows_sealed_ = 0;
  std::vector<std::shared_ptr<const ResultChunk>> chunks_;
};

}  // namespace

std::string_view StatementStateName(StatementState state) {
  switch (state) {
    case StatementState::kPending: return "PENDING";
    case StatementState::kRunning: return "RUNNING";
    case StatementState::kSucceeded: return "SUCCEEDED";
    case StatementState::kFailed: return "FAILED";
    case StatementState::kCanceled: return "CANCELED";
    case StatementState::kClosed: return "CLOSED";
  }
  return "FAILED";
}

struct StatementManager::Entry {
  std::string id;
  StatementRequest request;
  StatementState state = StatementState::kPending;
  Status error;
  std::atomic<bool> cancel_requested{false};
  sql::Session* session = nullptr;  // while RUNNING (guarded by Shared::mu)
  std::vector<ResultColumn> columns;
  std::vector<std::shared_ptr<const ResultChunk>> chunks;
  int64_t total_rows = 0;
  int64_t total_bytes = 0;
  bool truncated = false;
  std::string link_secret;
  int64_t finished_ms = 0;
};

struct StatementManager::Shared {
  Shared(sql::Warehouse& w, StatementManagerOptions o) : warehouse(w), options(std::move(o)) {}

  sql::Warehouse& warehouse;
  StatementManagerOptions options;
  std::mutex mu;
  std::condition_variable work_cv;
  std::condition_variable done_cv;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries;
  std::deque<std::shared_ptr<Entry>> queue;
  std::vector<std::thread> workers;
  bool stopping = false;

  int64_t Now() const { return options.clock_ms ? options.clock_ms() : NowMillis(); }

  /// Moves an expired SUCCEEDED result to CLOSED (drops its rows). Caller holds mu.
  void Expire(Entry& entry, int64_t now) {
    if (entry.state == StatementState::kSucceeded && now >= entry.finished_ms + options.result_ttl_ms) {
      entry.state = StatementState::kClosed;
      entry.chunks.clear();
      entry.chunks.shrink_to_fit();
      entry.columns.clear();
    }
  }

  /// The entry when it exists, belongs to `owner_id` and is not forgotten. Caller holds mu.
  Result<std::shared_ptr<Entry>> Find(std::string_view id, int64_t owner_id) {
    auto it = entries.find(std::string(id));
    int64_t now = Now();
    if (it == entries.end() || it->second->request.owner_id != owner_id ||
        (IsTerminal(it->second->state) && now >= it->second->finished_ms + options.forget_after_ms)) {
      return Error(ErrorCode::kNotFound, "Statement {} not found.", id);
    }
    Expire(*it->second, now);
    return it->second;
  }

  /// Drops forgotten statements and, past max_statements, the oldest finished ones. Caller holds mu.
  void Sweep() {
    int64_t now = Now();
    std::vector<std::pair<int64_t, std::string>> finished;
    for (auto it = entries.begin(); it != entries.end();) {
      if (IsTerminal(it->second->state) && now >= it->second->finished_ms + options.forget_after_ms) {
        it = entries.erase(it);
        continue;
      }
      Expire(*it->second, now);
      if (IsTerminal(it->second->state)) finished.emplace_back(it->second->finished_ms, it->first);
      ++it;
    }
    if (entries.size() < options.max_statements) return;
    std::sort(finished.begin(), finished.end());
    for (const auto& [ms, id] : finished) {
      if (entries.size() < options.max_statements) break;
      entries.erase(id);
    }
  }

  void Finish(Entry& entry, StatementState state, Status error) {
    std::lock_guard lock(mu);
    entry.session = nullptr;
    entry.state = state;
    entry.error = std::move(error);
    entry.finished_ms = Now();
    entry.request.statement.clear();
    entry.request.statement.shrink_to_fit();
    done_cv.notify_all();
  }

  /// Runs the statement and fills the entry's result fields (not its state).
  Status Execute(sql::Session& session, Entry& entry) {
    const StatementRequest& request = entry.request;
    TARN_ASSIGN_OR_RETURN(std::string text, detail::BindNamedParameters(request.statement, request.parameters));
    TARN_ASSIGN_OR_RETURN(std::unique_ptr<engine::ResultStream> stream, session.Execute(text));
    std::vector<ResultColumn> columns;
    if (stream->result_kind() != engine::ResultKind::kNothing) {
      for (const auto& column : stream->columns()) columns.push_back(detail::DescribeColumn(column));
      if (stream->result_kind() == engine::ResultKind::kChangedRows && columns.size() == 1) {
        columns[0].name = "num_affected_rows";
      }
    }
    int64_t cap = request.disposition == ResultDisposition::kInline ? options.max_inline_bytes
                                                                     : options.max_external_bytes;
    ChunkBuilder builder(request, options, columns);
    int64_t rows = 0;
    int64_t bytes = 0;
    bool truncated = false;
    std::vector<std::optional<std::string>> row;
    while (!columns.empty() && !truncated) {
      if (entry.cancel_requested.load()) return Error(ErrorCode::kCancelled, "The statement was canceled.");
      TARN_ASSIGN_OR_RETURN(std::unique_ptr<engine::Chunk> chunk, stream->Next());
      if (!chunk) break;
      for (size_t r = 0; r < chunk->num_rows(); r++) {
        if (request.row_limit && rows >= *request.row_limit) {
          truncated = true;
          break;
        }
        row.clear();
        int64_t row_bytes = 0;
        for (size_t c = 0; c < chunk->num_columns(); c++) {
          row.push_back(detail::FormatCell(*chunk, c, r));
          row_bytes += row.back() ? static_cast<int64_t>(row.back()->size()) + 1 : 1;
        }
        if (request.byte_limit && bytes + row_bytes > *request.byte_limit) {
          truncated = true;
          break;
        }
        if (bytes + row_bytes > cap) {
          return Error(ErrorCode::kRequestTooLarge,
                       "The result exceeds the {} MiB limit of the {} disposition; use row_limit or byte_limit{}.",
                       cap >> 20, request.disposition == ResultDisposition::kInline ? "INLINE" : "EXTERNAL_LINKS",
                       request.disposition == ResultDisposition::kInline ? ", or disposition EXTERNAL_LINKS" : "");
        }
        builder.Add(row, row_bytes);
        rows++;
        bytes += row_bytes;
      }
    }
    builder.Seal();
    auto chunks = builder.TakeChunks();
    int64_t total_bytes = 0;
    for (const auto& chunk : chunks) total_bytes += chunk->info.byte_count;
    std::lock_guard lock(mu);
    entry.columns = std::move(columns);
    entry.chunks = std::move(chunks);
    entry.total_rows = rows;
    entry.total_bytes = total_bytes;
    entry.truncated = truncated;
    return Status::OK();
  }

  void Run(const std::shared_ptr<Entry>& entry) {
    sql::SessionOptions session_options;
    if (!entry->request.catalog.empty()) session_options.catalog = entry->request.catalog;
    if (!entry->request.schema.empty()) session_options.schema = entry->request.schema;
    session_options.user = entry->request.owner_name;
    auto session = warehouse.NewSession(session_options);
    if (!session.has_value()) {
      Finish(*entry, StatementState::kFailed, session.status());
      return;
    }
    {
      std::lock_guard lock(mu);
      entry->session = session->get();
    }
    Status status = entry->cancel_requested.load() ? Error(ErrorCode::kCancelled, "The statement was canceled.")
                                                   : Execute(**session, *entry);
    {
      std::lock_guard lock(mu);
      entry->session = nullptr;
    }
    session->reset();
    if (entry->cancel_requested.load() || status.code() == ErrorCode::kCancelled) {
      Finish(*entry, StatementState::kCanceled, Status::OK());
    } else if (!status.ok()) {
      Finish(*entry, StatementState::kFailed, std::move(status));
    } else {
      Finish(*entry, StatementState::kSucceeded, Status::OK());
    }
  }

  void WorkerLoop() {
    while (true) {
      std::shared_ptr<Entry> entry;
      {
        std::unique_lock lock(mu);
        work_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        entry = std::move(queue.front());
        queue.pop_front();
        if (entry->state != StatementState::kPending) continue;  // canceled while queued
        entry->state = StatementState::kRunning;
      }
      Run(entry);
    }
  }

  StatementSnapshot SnapshotOf(const Entry& entry) const {
    StatementSnapshot out;
    out.statement_id = entry.id;
    out.state = entry.state;
    out.error = entry.error;
    out.format = entry.request.format;
    out.disposition = entry.request.disposition;
    if (entry.state == StatementState::kSucceeded) {
      out.columns = entry.columns;
      for (const auto& chunk : entry.chunks) out.chunks.push_back(chunk->info);
      out.total_row_count = entry.total_rows;
      out.total_byte_count = entry.total_bytes;
      out.truncated = entry.truncated;
      if (!entry.chunks.empty()) out.first_chunk = entry.chunks.front();
      out.link_secret = entry.link_secret;
      out.expires_ms = entry.finished_ms + options.result_ttl_ms;
    }
    return out;
  }

  Result<std::shared_ptr<const ResultChunk>> ChunkOf(Entry& entry, int64_t index) const {
    if (entry.state != StatementState::kSucceeded) {
      return Error(ErrorCode::kInvalidState, "Statement {} is {}: it has no result to fetch.", entry.id,
                   StatementStateName(entry.state));
    }
    if (index < 0 || index >= static_cast<int64_t>(entry.chunks.size())) {
      return Error(ErrorCode::kInvalidParameterValue, "chunk_index {} is out of range: the result has {} chunks.",
                   index, entry.chunks.size());
    }
    return entry.chunks[static_cast<size_t>(index)];
  }
};

StatementManager::StatementManager(sql::Warehouse& warehouse, StatementManagerOptions options)
    : shared_(std::make_shared<Shared>(warehouse, std::move(options))) {
  int workers = std::max(1, shared_->options.workers);
  for (int i = 0; i < workers; i++) {
    shared_->workers.emplace_back([shared = shared_.get()] { shared->WorkerLoop(); });
  }
}

StatementManager::~StatementManager() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->stopping = true;
    for (auto& [id, entry] : shared_->entries) {
      if (entry->state == StatementState::kRunning) {
        entry->cancel_requested.store(true);
        if (entry->session != nullptr) entry->session->Interrupt();
      } else if (entry->state == StatementState::kPending) {
        entry->state = StatementState::kCanceled;
      }
    }
    shared_->work_cv.notify_all();
    shared_->done_cv.notify_all();
  }
  for (auto& worker : shared_->workers) worker.join();
}

Result<std::string> StatementManager::Submit(StatementRequest request) {
  auto entry = std::make_shared<Entry>();
  entry->id = NewStatementId();
  if (request.disposition == ResultDisposition::kExternalLinks) entry->link_secret = RandomHex(24);
  entry->request = std::move(request);
  std::lock_guard lock(shared_->mu);
  if (shared_->stopping) return Error(ErrorCode::kTemporarilyUnavailable, "The server is shutting down.");
  if (shared_->queue.size() >= shared_->options.max_queued) {
    return Error(ErrorCode::kResourceExhausted, "Too many statements are waiting to run ({}); retry later.",
                 shared_->queue.size());
  }
  shared_->Sweep();
  if (shared_->entries.size() >= shared_->options.max_statements) {
    return Error(ErrorCode::kResourceExhausted, "Too many statements are active; retry later.");
  }
  shared_->entries.emplace(entry->id, entry);
  shared_->queue.push_back(entry);
  shared_->work_cv.notify_one();
  return entry->id;
}

Result<StatementSnapshot> StatementManager::Wait(std::string_view id, int64_t owner_id, int64_t timeout_ms) {
  std::unique_lock lock(shared_->mu);
  TARN_ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, shared_->Find(id, owner_id));
  // A canceled statement is interrupted again on every look: DuckDB forgets an interrupt that arrives before the
  // query has started.
  auto reinterrupt = [&] {
    if (entry->state == StatementState::kRunning && entry->cancel_requested.load() && entry->session != nullptr) {
      entry->session->Interrupt();
    }
  };
  reinterrupt();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0));
  while (timeout_ms > 0 && !IsTerminal(entry->state) && !shared_->stopping) {
    auto slice = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
    if (shared_->done_cv.wait_until(lock, slice) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    reinterrupt();
  }
  shared_->Expire(*entry, shared_->Now());
  return shared_->SnapshotOf(*entry);
}

Result<std::shared_ptr<const ResultChunk>> StatementManager::GetChunk(std::string_view id, int64_t owner_id,
                                                                      int64_t index) {
  std::lock_guard lock(shared_->mu);
  TARN_ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, shared_->Find(id, owner_id));
  return shared_->ChunkOf(*entry, index);
}

Result<std::shared_ptr<const ResultChunk>> StatementManager::GetLinkedChunk(std::string_view id,
                                                                            std::string_view secret, int64_t index) {
  std::lock_guard lock(shared_->mu);
  auto it = shared_->entries.find(std::string(id));
  if (it == shared_->entries.end() || it->second->link_secret.empty() ||
      !ConstantTimeEquals(it->second->link_secret, secret)) {
    return Error(ErrorCode::kNotFound, "No such result link.");
  }
  TARN_ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, shared_->Find(id, it->second->request.owner_id));
  return shared_->ChunkOf(*entry, index);
}

Status StatementManager::Cancel(std::string_view id, int64_t owner_id) {
  std::lock_guard lock(shared_->mu);
  TARN_ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, shared_->Find(id, owner_id));
  if (entry->state == StatementState::kPending) {
    entry->cancel_requested.store(true);
    entry->state = StatementState::kCanceled;
    entry->finished_ms = shared_->Now();
    shared_->done_cv.notify_all();
  } else if (entry->state == StatementState::kRunning) {
    entry->cancel_requested.store(true);
    if (entry->session != nullptr) entry->session->Interrupt();
  }
  return Status::OK();
}

}  // namespace tarn::api
