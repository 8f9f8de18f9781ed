// SPDX-License-Identifier: Apache-2.0
// `tarn sql --local`: runs Databricks SQL in-process against the data directory's catalog and prints each result.
#pragma once

#include <ostream>
#include <string>

namespace tarn::cli {

/// How `tarn sql` prints result sets.
enum class SqlFormat {
  kTable,  // aligned columns, "(N rows)" footer
  kCsv,    // RFC 4180 quoting with \n line ends: header row, fields quoted when needed, NULL as an empty field
  kJson,   // one JSON array of row objects per result; numbers and booleans as JSON values, NULL as null
};

struct LocalSqlOptions {
  std::string data_dir;   // created if missing; catalog in <data_dir>/meta.db, tables under <data_dir>/dbfs
  std::string sql;        // -c: the SQL text (may hold several statements)
  std::string file;       // -f: a script file ("-" = stdin); used when `sql` is empty
  SqlFormat format = SqlFormat::kTable;
};

/// Runs every statement of the SQL text in order, printing each result to `out`. Stops at the first error, which
/// is printed to `err` as exactly one line "ERROR <SQLSTATE>: <message>". Returns 0, or 1 after an error.
int RunLocalSql(const LocalSqlOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tarn::cli
