// SPDX-License-Identifier: Apache-2.0
// The one mapping from DuckDB errors (duckdb_error_type + message) to Tarn error codes.
#include "tarn/engine/duck_error.hpp"

#include <duckdb.h>

#include <array>
#include <string>
#include <utility>

namespace tarn::engine {
namespace {

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The "<Type> Error: " prefixes DuckDB puts in front of messages (its ExceptionType names).
constexpr std::array<std::pair<std::string_view, duckdb_error_type>, 43> kPrefixes = {{
    {"Out of Range", DUCKDB_ERROR_OUT_OF_RANGE},
    {"Conversion", DUCKDB_ERROR_CONVERSION},
    {"Unknown Type", DUCKDB_ERROR_UNKNOWN_TYPE},
    {"Decimal", DUCKDB_ERROR_DECIMAL},
    {"Mismatch Type", DUCKDB_ERROR_MISMATCH_TYPE},
    {"Divide by Zero", DUCKDB_ERROR_DIVIDE_BY_ZERO},
    {"Object Size", DUCKDB_ERROR_OBJECT_SIZE},
    {"Invalid type", DUCKDB_ERROR_INVALID_TYPE},
    {"Serialization", DUCKDB_ERROR_SERIALIZATION},
    {"TransactionContext", DUCKDB_ERROR_TRANSACTION},
    {"Not implemented", DUCKDB_ERROR_NOT_IMPLEMENTED},
    {"Expression", DUCKDB_ERROR_EXPRESSION},
    {"Catalog", DUCKDB_ERROR_CATALOG},
    {"Parser", DUCKDB_ERROR_PARSER},
    {"Planner", DUCKDB_ERROR_PLANNER},
    {"Scheduler", DUCKDB_ERROR_SCHEDULER},
    {"Executor", DUCKDB_ERROR_EXECUTOR},
    {"Constraint", DUCKDB_ERROR_CONSTRAINT},
    {"Index", DUCKDB_ERROR_INDEX},
    {"Stat", DUCKDB_ERROR_STAT},
    {"Connection", DUCKDB_ERROR_CONNECTION},
    {"Syntax", DUCKDB_ERROR_SYNTAX},
    {"Settings", DUCKDB_ERROR_SETTINGS},
    {"Binder", DUCKDB_ERROR_BINDER},
    {"Network", DUCKDB_ERROR_NETWORK},
    {"Optimizer", DUCKDB_ERROR_OPTIMIZER},
    {"NullPointer", DUCKDB_ERROR_NULL_POINTER},
    {"IO", DUCKDB_ERROR_IO},
    {"INTERRUPT", DUCKDB_ERROR_INTERRUPT},
    {"FATAL", DUCKDB_ERROR_FATAL},
    {"INTERNAL", DUCKDB_ERROR_INTERNAL},
    {"Invalid Input", DUCKDB_ERROR_INVALID_INPUT},
    {"Out of Memory", DUCKDB_ERROR_OUT_OF_MEMORY},
    {"Permission", DUCKDB_ERROR_PERMISSION},
    {"Parameter Not Resolved", DUCKDB_ERROR_PARAMETER_NOT_RESOLVED},
    {"Parameter Not Allowed", DUCKDB_ERROR_PARAMETER_NOT_ALLOWED},
    {"Dependency", DUCKDB_ERROR_DEPENDENCY},
    {"HTTP", DUCKDB_ERROR_HTTP},
    {"Missing Extension", DUCKDB_ERROR_MISSING_EXTENSION},
    {"Extension Autoloading", DUCKDB_ERROR_AUTOLOAD},
    {"Sequence", DUCKDB_ERROR_SEQUENCE},
    {"Invalid Configuration", DUCKDB_INVALID_CONFIGURATION},
    {"Invalid", DUCKDB_ERROR_INVALID},
}};

ErrorCode MapCatalogError(std::string_view message) {
  if (Contains(message, "already exists")) return ErrorCode::kDuplicateObject;
  if (Contains(message, "Function with name") || Contains(message, "Macro Function")) {
    return ErrorCode::kFunctionNotFound;
  }
  if (Contains(message, "Schema with name")) return ErrorCode::kSchemaNotFound;
  if (Contains(message, "Catalog with name") || Contains(message, "Catalog \"")) return ErrorCode::kCatalogNotFound;
  if ((Contains(message, "Table with name") || Contains(message, "View with name") ||
       Contains(message, "Table or view with name")) &&
      Contains(message, "does not exist")) {
    return ErrorCode::kTableNotFound;
  }
  // Types, collations, sequences, settings, pragmas: PostgreSQL's undefined_object.
  return ErrorCode::kResourceDoesNotExist;
}

ErrorCode MapBinderError(std::string_view message) {
  if (Contains(message, "Referenced column") || Contains(message, "does not have a column named") ||
      (Contains(message, "Column \"") && Contains(message, "does not exist")) ||
      Contains(message, "column with name")) {
    return ErrorCode::kColumnNotFound;
  }
  if (Contains(message, "Referenced table")) return ErrorCode::kTableNotFound;
  if (Contains(message, "Catalog \"") && Contains(message, "does not exist")) return ErrorCode::kCatalogNotFound;
  if (Contains(message, "No function matches") || Contains(message, "Could not choose a best candidate function")) {
    return ErrorCode::kFunctionNotFound;
  }
  if (Contains(message, "Cannot compare values of type") || Contains(message, "Cannot mix values of type") ||
      Contains(message, "an explicit cast is required")) {
    return ErrorCode::kTypeMismatch;
  }
  return ErrorCode::kBinderError;
}

ErrorCode MapConversionError(std::string_view message) {
  if (Contains(message, "out of range for the destination type") || Contains(message, "Overflow")) {
    return ErrorCode::kNumericOverflow;
  }
  if (Contains(message, "Unimplemented type for cast")) return ErrorCode::kTypeMismatch;
  return ErrorCode::kInvalidTextRepresentation;
}

ErrorCode MapConstraintError(std::string_view message) {
  if (Contains(message, "NOT NULL constraint")) return ErrorCode::kNotNullViolation;
  if (Contains(message, "Duplicate key") || Contains(message, "unique constraint") ||
      Contains(message, "primary key constraint")) {
    return ErrorCode::kUniqueViolation;
  }
  return ErrorCode::kConstraintViolation;
}

}  // namespace

std::string TagErrorMessage(const Status& status) {
  return status.message() + " [" + std::string(status.info().name) + "]";
}

ErrorCode MapDuckError(int error_type, std::string_view message) {
  // Errors raised by Tarn's own table functions carry their code as a tag (TagErrorMessage); DuckDB may append
  // context lines ("LINE 1: ...") after it.
  for (size_t open = message.find(" [k"); open != std::string_view::npos; open = message.find(" [k", open + 1)) {
    size_t close = message.find(']', open);
    if (close == std::string_view::npos) break;
    std::string_view name = message.substr(open + 2, close - open - 2);
    for (size_t i = 0; i < NumErrorCodes(); i++) {
      auto code = static_cast<ErrorCode>(i);
      if (GetErrorCodeInfo(code).name == name) return code;
    }
  }
  switch (static_cast<duckdb_error_type>(error_type)) {
    case DUCKDB_ERROR_INVALID: {
      int from_message = DuckErrorTypeFromMessage(message);
      return from_message != DUCKDB_ERROR_INVALID ? MapDuckError(from_message, message) : ErrorCode::kInternal;
    }
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_DECIMAL:
      return ErrorCode::kNumericOverflow;
    case DUCKDB_ERROR_CONVERSION:
      return MapConversionError(message);
    case DUCKDB_ERROR_UNKNOWN_TYPE:
      return ErrorCode::kResourceDoesNotExist;
    case DUCKDB_ERROR_MISMATCH_TYPE:
    case DUCKDB_ERROR_INVALID_TYPE:
      return ErrorCode::kTypeMismatch;
    case DUCKDB_ERROR_DIVIDE_BY_ZERO:
      return ErrorCode::kDivisionByZero;
    case DUCKDB_ERROR_OBJECT_SIZE:
      return ErrorCode::kResourceExhausted;
    case DUCKDB_ERROR_TRANSACTION:
      return Contains(message, "onflict") ? ErrorCode::kCommitConflict : ErrorCode::kInvalidTransactionState;
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
    case DUCKDB_ERROR_PARAMETER_NOT_ALLOWED:
    case DUCKDB_ERROR_MISSING_EXTENSION:
    case DUCKDB_ERROR_AUTOLOAD:
      return ErrorCode::kFeatureNotSupported;
    case DUCKDB_ERROR_EXPRESSION:
    case DUCKDB_ERROR_PLANNER:
      return ErrorCode::kBinderError;
    case DUCKDB_ERROR_CATALOG:
      return MapCatalogError(message);
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_SYNTAX:
      return ErrorCode::kSyntaxError;
    case DUCKDB_ERROR_CONSTRAINT:
      return MapConstraintError(message);
    case DUCKDB_ERROR_CONNECTION:
    case DUCKDB_ERROR_NETWORK:
      return ErrorCode::kConnectionFailure;
    case DUCKDB_ERROR_SETTINGS:
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_INVALID_CONFIGURATION:
      return ErrorCode::kInvalidParameterValue;
    case DUCKDB_ERROR_BINDER:
      return MapBinderError(message);
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_HTTP:
      return ErrorCode::kIoError;
    case DUCKDB_ERROR_INTERRUPT:
      return ErrorCode::kCancelled;
    case DUCKDB_ERROR_INVALID_INPUT:
      if (Contains(message, "permission denied")) return ErrorCode::kPermissionDenied;  // scalar_functions.hpp
      return Contains(message, "parameters") || Contains(message, "prepared statement")
                 ? ErrorCode::kInvalidParameterValue
                 : ErrorCode::kDataException;
    case DUCKDB_ERROR_OUT_OF_MEMORY:
      return ErrorCode::kOutOfMemory;
    case DUCKDB_ERROR_PERMISSION:
      return ErrorCode::kPermissionDenied;
    case DUCKDB_ERROR_DEPENDENCY:
      return ErrorCode::kInvalidState;
    case DUCKDB_ERROR_SEQUENCE:
      return ErrorCode::kDataException;
    case DUCKDB_ERROR_SERIALIZATION:
    case DUCKDB_ERROR_SCHEDULER:
    case DUCKDB_ERROR_EXECUTOR:
    case DUCKDB_ERROR_INDEX:
    case DUCKDB_ERROR_STAT:
    case DUCKDB_ERROR_OPTIMIZER:
    case DUCKDB_ERROR_NULL_POINTER:
    case DUCKDB_ERROR_FATAL:
    case DUCKDB_ERROR_INTERNAL:
      return ErrorCode::kInternal;
  }
  return ErrorCode::kInternal;
}

int DuckErrorTypeFromMessage(std::string_view message) {
  size_t end = message.find(" Error: ");
  if (end == std::string_view::npos) return DUCKDB_ERROR_INVALID;
  std::string_view prefix = message.substr(0, end);
  for (const auto& [name, type] : kPrefixes) {
    if (prefix == name) return type;
  }
  return DUCKDB_ERROR_INVALID;
}

Status DuckError(int error_type, std::string_view message) {
  std::string text(message.empty() ? std::string_view("unknown DuckDB error") : message);
  ErrorCode code = MapDuckError(error_type, text);  // before `text` is moved from
  return Status(code, std::move(text));
}

Status DuckErrorFromMessage(std::string_view message) {
  return DuckError(DuckErrorTypeFromMessage(message), message);
}

}  // namespace tarn::engine
