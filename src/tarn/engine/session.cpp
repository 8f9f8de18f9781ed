// SPDX-License-Identifier: Apache-2.0
// Session and PreparedStatement: statement execution on one DuckDB connection.
#include "tarn/engine/session.hpp"

#include <chrono>
#include <string>
#include <type_traits>
#include <variant>

#include "tarn/engine/detail/duck_types.hpp"
#include "tarn/engine/detail/impl.hpp"
#include "tarn/engine/duck_error.hpp"
#include "tarn/engine/spark_sql_rewriter.hpp"

namespace tarn::engine {

using detail::DuckExtracted;
using detail::DuckLogicalType;
using detail::DuckPrepared;

// ---- PreparedStatement ----

PreparedStatement::PreparedStatement(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PreparedStatement::~PreparedStatement() = default;

size_t PreparedStatement::NumParams() const { return duckdb_nparams(impl_->prepared.get()); }

LogicalType PreparedStatement::ParamType(size_t index) const {
  if (index == 0 || index > NumParams()) return LogicalType{};
  DuckLogicalType type(duckdb_param_logical_type(impl_->prepared.get(), index));
  return detail::FromDuckLogicalType(type.get());
}

const std::vector<Column>& PreparedStatement::columns() const { return impl_->columns; }
StatementType PreparedStatement::statement_type() const { return impl_->statement_type; }

Status PreparedStatement::Bind(size_t index, const ParamValue& value) {
  if (index == 0 || index > NumParams()) {
    return Error(ErrorCode::kInvalidParameterValue, "parameter index out of range: {} (statement has {})", index,
                 NumParams());
  }
  duckdb_prepared_statement p = impl_->prepared.get();
  duckdb_state state = std::visit(
      [&](const auto& v) -> duckdb_state {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return duckdb_bind_null(p, index);
        } else if constexpr (std::is_same_v<T, bool>) {
          return duckdb_bind_boolean(p, index, v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return duckdb_bind_int64(p, index, v);
        } else if constexpr (std::is_same_v<T, double>) {
          return duckdb_bind_double(p, index, v);
        } else {
          return duckdb_bind_varchar_length(p, index, v.data(), v.size());
        }
      },
      value);
  if (state == DuckDBError) {
    const char* error = duckdb_prepare_error(p);
    return Error(ErrorCode::kInvalidParameterValue, "cannot bind parameter {}: {}", index,
                 error != nullptr ? error : "value not accepted");
  }
  return Status::OK();
}

void PreparedStatement::ClearBindings() { duckdb_clear_bindings(impl_->prepared.get()); }

Result<std::unique_ptr<ResultStream>> PreparedStatement::Execute() {
  return detail::StartStream(*impl_->session, impl_->prepared.get(), DuckPrepared());
}

// ---- Session ----

namespace {

// Extracts the statements of `sql`; zero statements is not an error.
Result<idx_t> Extract(duckdb_connection connection, const std::string& sql, DuckExtracted& extracted) {
  idx_t count = duckdb_extract_statements(connection, sql.c_str(), extracted.out());
  if (count == 0) {
    const char* error = extracted ? duckdb_extract_statements_error(extracted.get()) : nullptr;
    if (error != nullptr && *error != '\0') return DuckErrorFromMessage(error);
  }
  return count;
}

Result<DuckPrepared> PrepareExtracted(duckdb_connection connection, duckdb_extracted_statements extracted,
                                      idx_t index) {
  DuckPrepared prepared;
  if (duckdb_prepare_extracted_statement(connection, extracted, index, prepared.out()) == DuckDBError) {
    const char* error = prepared ? duckdb_prepare_error(prepared.get()) : nullptr;
    return DuckErrorFromMessage(error != nullptr ? error : "could not prepare the statement");
  }
  return prepared;
}

const detail::TableFunctionNames& TableFunctions(const Session::Impl& session) {
  static const detail::TableFunctionNames kNone;
  return session.table_functions != nullptr ? *session.table_functions : kNone;
}

// The statement front-end's view of the database's Delta runtime (empty when the session has none). Counts the table
// function calls of the scans it inlines (pinned file lists) for the plan cache check.
SparkSqlContext FrontEnd(Session::Impl& session) {
  if (session.delta == nullptr) return {};
  SparkSqlContext context = DeltaSqlContext(*session.delta);
  context.inline_scan = [inner = std::move(context.inline_scan), &session](
                            const DeltaTable& table, std::span<const ScanPredicate> predicates) -> Result<std::string> {
    TARN_ASSIGN_OR_RETURN(std::string sql, inner(table, predicates));
    session.generated_table_calls += detail::CountTableFunctionCalls(sql, TableFunctions(session));
    return sql;
  };
  return context;
}

Result<DuckPrepared> PrepareText(duckdb_connection connection, const std::string& text) {
  DuckPrepared prepared;
  if (duckdb_prepare(connection, text.c_str(), prepared.out()) == DuckDBError) {
    const char* error = prepared ? duckdb_prepare_error(prepared.get()) : nullptr;
    return DuckErrorFromMessage(error != nullptr ? error : "could not prepare the statement");
  }
  return prepared;
}

// A SELECT without parameters that reads only catalog objects and pinned scans: its plan can be reused for the same
// text (DuckDB rebinds it itself when the catalog changed since).
bool Cacheable(const Session::Impl& session, duckdb_prepared_statement prepared, const std::string& text) {
  return duckdb_prepared_statement_type(prepared) == DUCKDB_STATEMENT_TYPE_SELECT && duckdb_nparams(prepared) == 0 &&
         detail::ReadsOnlyPinnedData(text, session.generated_table_calls, TableFunctions(session));
}

std::unique_ptr<ResultStream> EmptyStream() {
  auto impl = std::make_unique<ResultStream::Impl>();
  impl->columns = std::make_shared<std::vector<Column>>();
  impl->done = true;
  impl->result_kind = ResultKind::kNothing;
  return std::make_unique<ResultStream>(std::move(impl));
}

}  // namespace

// The statement front-end, timed (Session::last_front_end_nanos).
static Result<std::string> TimedFrontEnd(Session::Impl& impl, std::string_view sql) {
  auto start = std::chrono::steady_clock::now();
  impl.generated_table_calls = 0;
  auto text = RewriteSparkSql(sql, FrontEnd(impl));
  impl.front_end_nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  return text;
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
int64_t Session::last_front_end_nanos() const { return impl_->front_end_nanos; }
PlanCacheStats Session::plan_cache_stats() const {
  return PlanCacheStats{impl_->plans.hits(), impl_->plans.misses(), impl_->plans.size()};
}
Session::~Session() { impl_->CloseActive(); }

Result<std::unique_ptr<ResultStream>> Session::Execute(std::string_view sql) {
  impl_->CloseActive();
  TARN_ASSIGN_OR_RETURN(std::string text, TimedFrontEnd(*impl_, sql));
  if (detail::IsSingleStatement(text)) {  // no separate split: a cached plan, or one prepare that parses once
    if (duckdb_prepared_statement cached = impl_->plans.Find(text)) {
      return detail::StartStream(*impl_, cached, DuckPrepared());
    }
    TARN_ASSIGN_OR_RETURN(DuckPrepared prepared, PrepareText(impl_->connection.get(), text));
    if (Cacheable(*impl_, prepared.get(), text)) {
      duckdb_prepared_statement handle = impl_->plans.Insert(std::move(text), std::move(prepared));
      return detail::StartStream(*impl_, handle, DuckPrepared());
    }
    duckdb_prepared_statement handle = prepared.get();
    return detail::StartStream(*impl_, handle, std::move(prepared));
  }
  DuckExtracted extracted;
  TARN_ASSIGN_OR_RETURN(idx_t count, Extract(impl_->connection.get(), text, extracted));
  if (count == 0) return EmptyStream();
  for (idx_t i = 0; i + 1 < count; i++) {
    TARN_ASSIGN_OR_RETURN(DuckPrepared prepared, PrepareExtracted(impl_->connection.get(), extracted.get(), i));
    duckdb_prepared_statement handle = prepared.get();
    TARN_ASSIGN_OR_RETURN(auto stream, detail::StartStream(*impl_, handle, std::move(prepared)));
    while (true) {  // earlier statements run to completion so that their errors surface
      TARN_ASSIGN_OR_RETURN(auto chunk, stream->Next());
      if (!chunk) break;
    }
  }
  TARN_ASSIGN_OR_RETURN(DuckPrepared prepared, PrepareExtracted(impl_->connection.get(), extracted.get(), count - 1));
  duckdb_prepared_statement handle = prepared.get();
  return detail::StartStream(*impl_, handle, std::move(prepared));
}

Status Session::ExecuteScript(std::string_view sql, const StatementCallback& on_result) {
  impl_->CloseActive();
  TARN_ASSIGN_OR_RETURN(std::string text, TimedFrontEnd(*impl_, sql));
  DuckExtracted extracted;
  TARN_ASSIGN_OR_RETURN(idx_t count, Extract(impl_->connection.get(), text, extracted));
  for (idx_t i = 0; i < count; i++) {
    TARN_ASSIGN_OR_RETURN(DuckPrepared prepared, PrepareExtracted(impl_->connection.get(), extracted.get(), i));
    duckdb_prepared_statement handle = prepared.get();
    TARN_ASSIGN_OR_RETURN(auto stream, detail::StartStream(*impl_, handle, std::move(prepared)));
    TARN_RETURN_IF_ERROR(on_result(i, *stream));
    stream->Close();
  }
  return Status::OK();
}

Result<size_t> Session::CountStatements(std::string_view sql) {
  TARN_ASSIGN_OR_RETURN(std::string text, RewriteSparkSql(sql, SparkSqlContext{}));
  DuckExtracted extracted;
  TARN_ASSIGN_OR_RETURN(idx_t count, Extract(impl_->connection.get(), text, extracted));
  return static_cast<size_t>(count);
}

Result<std::unique_ptr<PreparedStatement>> Session::Prepare(std::string_view sql) {
  impl_->CloseActive();
  TARN_ASSIGN_OR_RETURN(std::string text, TimedFrontEnd(*impl_, sql));
  auto impl = std::make_unique<PreparedStatement::Impl>();
  impl->session = impl_.get();
  if (duckdb_prepare(impl_->connection.get(), text.c_str(), impl->prepared.out()) == DuckDBError) {
    const char* error = impl->prepared ? duckdb_prepare_error(impl->prepared.get()) : nullptr;
    return DuckErrorFromMessage(error != nullptr ? error : "could not prepare the statement");
  }
  duckdb_prepared_statement p = impl->prepared.get();
  impl->statement_type = detail::FromDuckStatementType(duckdb_prepared_statement_type(p));
  idx_t num_columns = duckdb_prepared_statement_column_count(p);
  for (idx_t i = 0; i < num_columns; i++) {
    DuckLogicalType type(duckdb_prepared_statement_column_logical_type(p, i));
    detail::DuckString name(const_cast<char*>(duckdb_prepared_statement_column_name(p, i)));
    impl->columns.push_back(Column{name.get(), detail::FromDuckLogicalType(type.get())});
  }
  return std::make_unique<PreparedStatement>(std::move(impl));
}

void Session::Interrupt() { duckdb_interrupt(impl_->connection.get()); }

double Session::Progress() const {
  duckdb_query_progress_type progress = duckdb_query_progress(impl_->connection.get());
  if (progress.percentage < 0) return -1;
  return progress.percentage > 100 ? 100 : progress.percentage;
}

}  // namespace tarn::engine
