// SPDX-License-Identifier: Apache-2.0
// Spark SQL function macros: definitions and the Spark datetime pattern -> strftime conversion.
#include "tarn/sql/spark_functions.hpp"

#include <string>

namespace tarn::sql {
namespace {

// SQL expression converting the Spark pattern `f` to a strftime format, token by token (the same rules as
// SparkPatternToStrftime, which tests compare it with).
constexpr std::string_view kPatternSql =
    "array_to_string(list_transform(regexp_extract_all(f, '(''[^'']*''|y+|M+|d+|H+|h+|m+|s+|S+|E+|a|D+|%|.)'), "
    "x -> CASE WHEN x[1] = '''' THEN replace(x[2:-2], '''''', '''') "
    "WHEN x = '%' THEN '%%' "
    "WHEN x IN ('yyyy', 'yyy', 'y') THEN '%Y' WHEN x = 'yy' THEN '%y' "
    "WHEN x = 'MMMM' THEN '%B' WHEN x = 'MMM' THEN '%b' WHEN x = 'MM' THEN '%m' WHEN x = 'M' THEN '%-m' "
    "WHEN x = 'dd' THEN '%d' WHEN x = 'd' THEN '%-d' WHEN x IN ('DDD', 'DD', 'D') THEN '%j' "
    "WHEN x = 'HH' THEN '%H' WHEN x = 'H' THEN '%-H' WHEN x = 'hh' THEN '%I' WHEN x = 'h' THEN '%-I' "
    "WHEN x = 'mm' THEN '%M' WHEN x = 'm' THEN '%-M' WHEN x = 'ss' THEN '%S' WHEN x = 's' THEN '%-S' "
    "WHEN x = 'SSSSSS' THEN '%f' WHEN x = 'SSS' THEN '%g' "
    "WHEN x = 'EEEE' THEN '%A' WHEN x IN ('E', 'EE', 'EEE') THEN '%a' WHEN x = 'a' THEN '%p' "
    "ELSE x END), '')";

std::string Pattern(std::string_view arg) {
  std::string sql(kPatternSql);
  // The lambda reads `f`; bind the macro's parameter name.
  std::string out;
  out.reserve(sql.size());
  size_t pos = sql.find("(f,");
  out = sql.substr(0, pos) + "(" + std::string(arg) + "," + sql.substr(pos + 3);
  return out;
}

std::string Macros() {
  std::string sql;
  sql += "CREATE OR REPLACE MACRO date_format(t, f) AS strftime(t, " + Pattern("f") + ");\n";
  sql += "CREATE OR REPLACE MACRO to_date(s) AS CAST(s AS DATE);\n";
  sql += "CREATE OR REPLACE MACRO to_timestamp(s) AS CAST(s AS TIMESTAMPTZ);\n";
  // Two-argument to_date / to_timestamp: the session rewrites the Spark pattern literal to a strptime format and
  // calls these (DuckDB needs strptime's format to be a constant, which a macro cannot compute).
  sql += "CREATE OR REPLACE MACRO __tarn_to_date(s, f) AS CAST(strptime(s, f) AS DATE);\n";
  sql += "CREATE OR REPLACE MACRO __tarn_to_timestamp(s, f) AS CAST(strptime(s, f) AS TIMESTAMPTZ);\n";
  sql += "CREATE OR REPLACE MACRO datediff(end_date, start_date) AS "
         "CAST(CAST(end_date AS DATE) - CAST(start_date AS DATE) AS INTEGER), "
         "(unit, start_date, end_date) AS system.main.datediff(unit, start_date, end_date);\n";
  sql += "CREATE OR REPLACE MACRO collect_list(x) AS coalesce(list(x) FILTER (WHERE x IS NOT NULL), []);\n";
  sql += "CREATE OR REPLACE MACRO collect_set(x) AS coalesce(list(DISTINCT x) FILTER (WHERE x IS NOT NULL), []);\n";
  sql += "CREATE OR REPLACE MACRO explode(x) AS unnest(x);\n";
  sql += "CREATE OR REPLACE MACRO size(x) AS CAST(len(x) AS INTEGER);\n";
  sql += "CREATE OR REPLACE MACRO nvl(a, b) AS coalesce(a, b);\n";
  sql += "CREATE OR REPLACE MACRO nvl2(a, b, c) AS CASE WHEN a IS NOT NULL THEN b ELSE c END;\n";
  sql += "CREATE OR REPLACE MACRO split(s, pattern) AS string_split_regex(s, pattern);\n";
  sql += "CREATE OR REPLACE MACRO regexp_extract(s, pattern) AS system.main.regexp_extract(s, pattern, 1), "
         "(s, pattern, idx) AS system.main.regexp_extract(s, pattern, idx);\n";
  sql += "CREATE OR REPLACE MACRO get_json_object(j, path) AS json_extract_string(j, path);\n";
  sql += "CREATE OR REPLACE MACRO current_timestamp() AS get_current_timestamp();\n";
  return sql;
}

}  // namespace

Status RegisterSparkFunctions(engine::Session& session) {
  return session.ExecuteScript(Macros(), [](size_t, engine::ResultStream&) { return Status::OK(); });
}

std::string SparkPatternToStrftime(std::string_view p) {
  std::string out;
  size_t i = 0;
  while (i < p.size()) {
    char c = p[i];
    if (c == '\'') {
      size_t end = p.find('\'', i + 1);
      if (end == std::string_view::npos) end = p.size();
      if (end == i + 1) {
        out += '\'';  // '' is a literal quote
      } else {
        out += std::string(p.substr(i + 1, end - i - 1));
      }
      i = end + 1;
      continue;
    }
    size_t n = 1;
    if (std::string_view("yMdHhmsSED").find(c) != std::string_view::npos) {
      while (i + n < p.size() && p[i + n] == c) n++;
    }
    std::string run(p.substr(i, n));
    i += n;
    if (c == '%') out += "%%";
    else if (c == 'y') out += n == 2 ? "%y" : "%Y";
    else if (run == "MMMM") out += "%B";
    else if (run == "MMM") out += "%b";
    else if (run == "MM") out += "%m";
    else if (run == "M") out += "%-m";
    else if (run == "dd") out += "%d";
    else if (run == "d") out += "%-d";
    else if (c == 'D') out += "%j";
    else if (run == "HH") out += "%H";
    else if (run == "H") out += "%-H";
    else if (run == "hh") out += "%I";
    else if (run == "h") out += "%-I";
    else if (run == "mm") out += "%M";
    else if (run == "m") out += "%-M";
    else if (run == "ss") out += "%S";
    else if (run == "s") out += "%-S";
    else if (run == "SSSSSS") out += "%f";
    else if (run == "SSS") out += "%g";
    else if (run == "EEEE") out += "%A";
    else if (c == 'E' && n <= 3) out += "%a";
    else if (run == "a") out += "%p";
    else out += run;
  }
  return out;
}

}  // namespace tarn::sql
