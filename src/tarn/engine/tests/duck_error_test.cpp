// SPDX-License-Identifier: Apache-2.0
// Tests the DuckDB error -> ErrorCode mapping for every duckdb_error_type, and error positions.
#include "tarn/engine/duck_error.hpp"

#include <duckdb.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tarn/engine/errors.hpp"

namespace tarn::engine {
namespace {

struct Case {
  duckdb_error_type type;
  std::string message;
  ErrorCode expected;
};

TEST(DuckErrorTest, MapsEveryErrorType) {
  const Case cases[] = {
      {DUCKDB_ERROR_INVALID, "something odd", ErrorCode::kInternal},
      {DUCKDB_ERROR_INVALID, "Parser Error: syntax error at or near \"x\"", ErrorCode::kSyntaxError},
      {DUCKDB_ERROR_OUT_OF_RANGE, "Out of Range Error: Overflow in addition of INT32", ErrorCode::kNumericOverflow},
      {DUCKDB_ERROR_CONVERSION, "Conversion Error: Could not convert string 'abc' to INT32",
       ErrorCode::kInvalidTextRepresentation},
      {DUCKDB_ERROR_CONVERSION, "Conversion Error: Type INT32 with value 1000 can't be cast because the value is out "
                                "of range for the destination type INT8", ErrorCode::kNumericOverflow},
      {DUCKDB_ERROR_CONVERSION, "Conversion Error: Unimplemented type for cast (INTEGER[] -> INTEGER)",
       ErrorCode::kTypeMismatch},
      {DUCKDB_ERROR_UNKNOWN_TYPE, "Unknown Type Error: nosuch", ErrorCode::kResourceDoesNotExist},
      {DUCKDB_ERROR_DECIMAL, "Decimal Error: overflow", ErrorCode::kNumericOverflow},
      {DUCKDB_ERROR_MISMATCH_TYPE, "Mismatch Type Error: x", ErrorCode::kTypeMismatch},
      {DUCKDB_ERROR_DIVIDE_BY_ZERO, "Divide by Zero Error: x", ErrorCode::kDivisionByZero},
      {DUCKDB_ERROR_OBJECT_SIZE, "Object Size Error: x", ErrorCode::kResourceExhausted},
      {DUCKDB_ERROR_INVALID_TYPE, "Invalid type Error: x", ErrorCode::kTypeMismatch},
      {DUCKDB_ERROR_SERIALIZATION, "Serialization Error: x", ErrorCode::kInternal},
      {DUCKDB_ERROR_TRANSACTION, "TransactionContext Error: cannot start a transaction within a transaction",
       ErrorCode::kInvalidTransactionState},
      {DUCKDB_ERROR_TRANSACTION, "TransactionContext Error: Catalog write-write conflict on create with \"t\"",
       ErrorCode::kCommitConflict},
      {DUCKDB_ERROR_NOT_IMPLEMENTED, "Not implemented Error: x", ErrorCode::kFeatureNotSupported},
      {DUCKDB_ERROR_EXPRESSION, "Expression Error: x", ErrorCode::kBinderError},
      {DUCKDB_ERROR_CATALOG, "Catalog Error: Table with name nosuch does not exist!", ErrorCode::kTableNotFound},
      {DUCKDB_ERROR_CATALOG, "Catalog Error: Schema with name s does not exist!", ErrorCode::kSchemaNotFound},
      {DUCKDB_ERROR_CATALOG, "Catalog Error: Scalar Function with name f does not exist!",
       ErrorCode::kFunctionNotFound},
      {DUCKDB_ERROR_CATALOG, "Catalog Error: Table with name \"t\" already exists!", ErrorCode::kDuplicateObject},
      {DUCKDB_ERROR_CATALOG, "Catalog Error: Type with name x does not exist!", ErrorCode::kResourceDoesNotExist},
      {DUCKDB_ERROR_PARSER, "Parser Error: syntax error at or near \"FROM\"", ErrorCode::kSyntaxError},
      {DUCKDB_ERROR_PLANNER, "Planner Error: x", ErrorCode::kBinderError},
      {DUCKDB_ERROR_SCHEDULER, "Scheduler Error: x", ErrorCode::kInternal},
      {DUCKDB_ERROR_EXECUTOR, "Executor Error: x", ErrorCode::kInternal},
      {DUCKDB_ERROR_CONSTRAINT, "Constraint Error: Duplicate key \"a: 1\" violates primary key constraint.",
       ErrorCode::kUniqueViolation},
      {DUCKDB_ERROR_CONSTRAINT, "Constraint Error: NOT NULL constraint failed: t.b", ErrorCode::kNotNullViolation},
      {DUCKDB_ERROR_CONSTRAINT, "Constraint Error: CHECK constraint failed: t", ErrorCode::kConstraintViolation},
      {DUCKDB_ERROR_INDEX, "Index Error: x", ErrorCode::kInternal},
      {DUCKDB_ERROR_STAT, "Stat Error: x", ErrorCode::kInternal},
      {DUCKDB_ERROR_CONNECTION, "Connection Error: x", ErrorCode::kConnectionFailure},
      {DUCKDB_ERROR_SYNTAX, "Syntax Error: x", ErrorCode::kSyntaxError},
      {DUCKDB_ERROR_SETTINGS, "Settings Error: x", ErrorCode::kInvalidParameterValue},
      {DUCKDB_ERROR_BINDER, "Binder Error: Referenced column \"x\" not found in FROM clause!",
       ErrorCode::kColumnNotFound},
      {DUCKDB_ERROR_BINDER, "Binder Error: Table \"t\" does not have a column named \"x\"",
       ErrorCode::kColumnNotFound},
      {DUCKDB_ERROR_BINDER, "Binder Error: Referenced table \"s.t\" not found!", ErrorCode::kTableNotFound},
      {DUCKDB_ERROR_BINDER, "Binder Error: Catalog \"nosuchcat\" does not exist!", ErrorCode::kCatalogNotFound},
      {DUCKDB_ERROR_BINDER, "Binder Error: No function matches the given name and argument types",
       ErrorCode::kFunctionNotFound},
      {DUCKDB_ERROR_BINDER, "Binder Error: Cannot compare values of type DATE and type VARCHAR",
       ErrorCode::kTypeMismatch},
      {DUCKDB_ERROR_BINDER, "Binder Error: Ambiguous reference to column name \"a\"", ErrorCode::kBinderError},
      {DUCKDB_ERROR_NETWORK, "Network Error: x", ErrorCode::kConnectionFailure},
      {DUCKDB_ERROR_OPTIMIZER, "Optimizer Error: x", ErrorCode::kInternal},
      {DUCKDB_ERROR_NULL_POINTER, "NullPointer Error: x", ErrorCode::kInternal},
      {DUCKDB_ERROR_IO, "IO Error: No files found that match the pattern", ErrorCode::kIoError},
      {DUCKDB_ERROR_INTERRUPT, "INTERRUPT Error: Interrupted!", ErrorCode::kCancelled},
      {DUCKDB_ERROR_FATAL, "FATAL Error: x", ErrorCode::kInternal},
      {DUCKDB_ERROR_INTERNAL, "INTERNAL Error: x", ErrorCode::kInternal},
      {DUCKDB_ERROR_INVALID_INPUT, "Invalid Input Error: boom", ErrorCode::kDataException},
      {DUCKDB_ERROR_INVALID_INPUT, "Invalid Input Error: Expected 1 parameters, but none were supplied",
       ErrorCode::kInvalidParameterValue},
      {DUCKDB_ERROR_OUT_OF_MEMORY, "Out of Memory Error: x", ErrorCode::kOutOfMemory},
      {DUCKDB_ERROR_PERMISSION, "Permission Error: x", ErrorCode::kPermissionDenied},
      {DUCKDB_ERROR_PARAMETER_NOT_RESOLVED, "Parameter Not Resolved Error: x", ErrorCode::kInvalidParameterValue},
      {DUCKDB_ERROR_PARAMETER_NOT_ALLOWED, "Parameter Not Allowed Error: x", ErrorCode::kFeatureNotSupported},
      {DUCKDB_ERROR_DEPENDENCY, "Dependency Error: x", ErrorCode::kInvalidState},
      {DUCKDB_ERROR_HTTP, "HTTP Error: x", ErrorCode::kIoError},
      {DUCKDB_ERROR_MISSING_EXTENSION, "Missing Extension Error: x", ErrorCode::kFeatureNotSupported},
      {DUCKDB_ERROR_AUTOLOAD, "Extension Autoloading Error: x", ErrorCode::kFeatureNotSupported},
      {DUCKDB_ERROR_SEQUENCE, "Sequence Error: x", ErrorCode::kDataException},
      {DUCKDB_INVALID_CONFIGURATION, "Invalid Configuration Error: x", ErrorCode::kInvalidParameterValue},
  };
  std::set<int> covered;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_EQ(MapDuckError(c.type, c.message), c.expected);
    covered.insert(c.type);
    // The message prefix names the same type (what prepare/pending errors rely on).
    if (c.type != DUCKDB_ERROR_INVALID) {
      EXPECT_EQ(DuckErrorTypeFromMessage(c.message), c.type);
      // DuckErrorFromMessage agrees with the typed mapping.
      EXPECT_EQ(DuckErrorFromMessage(c.message).code(), c.expected);
    }
  }
  EXPECT_EQ(covered.size(), static_cast<size_t>(kNumDuckErrorTypes));
  EXPECT_EQ(static_cast<int>(DUCKDB_INVALID_CONFIGURATION) + 1, kNumDuckErrorTypes);
}

TEST(DuckErrorTest, KeepsMessageAndSqlState) {
  Status status = DuckError(DUCKDB_ERROR_PARSER, "Parser Error: syntax error at or near \"FROM\"");
  EXPECT_EQ(status.code(), ErrorCode::kSyntaxError);
  EXPECT_EQ(status.sqlstate(), "42601");
  EXPECT_EQ(status.message(), "Parser Error: syntax error at or near \"FROM\"");
  EXPECT_EQ(DuckErrorTypeFromMessage("no prefix here"), DUCKDB_ERROR_INVALID);
}

TEST(SyntaxErrorPositionTest, ReadsCaretLine) {
  std::string sql = "SELECT FROM FROM";
  std::string message =
      "Parser Error: syntax error at or near \"FROM\"\n\nLINE 1: SELECT FROM FROM\n                    ^";
  EXPECT_EQ(SyntaxErrorPosition(message, sql), 13u);
  EXPECT_EQ(SyntaxErrorPosition("Parser Error: syntax error at end of input", sql), std::nullopt);
}

TEST(SyntaxErrorPositionTest, HandlesLaterLinesAndTruncation) {
  std::string sql = "SELECT 1;\nSELECT xx yy zz FROM t";
  std::string message = "Parser Error: x\n\nLINE 2: ...xx yy zz FROM t\n                 ^";
  // "LINE 2: " is 8 bytes, "..." 3 more: the caret at 17 points 6 bytes into "xx yy zz", at "zz" (line offset 13).
  EXPECT_EQ(SyntaxErrorPosition(message, sql), 10u + 13u + 1u);
}

}  // namespace
}  // namespace tarn::engine
