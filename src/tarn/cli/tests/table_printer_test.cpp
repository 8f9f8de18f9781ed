// SPDX-License-Identifier: Apache-2.0
// Tests for TablePrinter alignment and ISO time formatting.
#include <gtest/gtest.h>

#include "tarn/cli/table_printer.hpp"

namespace tarn::cli {
namespace {

TEST(TablePrinterTest, PadsColumnsToTheWidestCell) {
  TablePrinter table({"ID", "COMMENT"});
  table.AddRow({"1", "nightly ci"});
  table.AddRow({"12345", "x"});
  EXPECT_EQ(table.ToString(),
            "ID     COMMENT\n"
            "-----  ----------\n"
            "1      nightly ci\n"
            "12345  x\n");
  EXPECT_EQ(table.num_rows(), 2u);
}

TEST(TablePrinterTest, RightAlignsChosenColumns) {
  TablePrinter table({"NAME", "N"});
  table.SetRightAligned(1);
  table.AddRow({"a", "7"});
  table.AddRow({"b", "1000"});
  EXPECT_EQ(table.ToString(),
            "NAME     N\n"
            "----  ----\n"
            "a        7\n"
            "b     1000\n");
}

TEST(TablePrinterTest, HeaderOnlyAndRaggedRows) {
  TablePrinter empty({"A", "B"});
  EXPECT_EQ(empty.ToString(), "A  B\n-  -\n");

  TablePrinter ragged({"A", "B"});
  ragged.AddRow({"x"});
  ragged.AddRow({"1", "2", "3"});
  EXPECT_EQ(ragged.ToString(), "A  B\n-  -\nx\n1  2\n");
}

TEST(TablePrinterTest, CountsCodePointsAndFlattensControlCharacters) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("h\xC3\xA9llo"), 5u);  // "héllo"
  TablePrinter table({"CITY", "X"});
  table.AddRow({"Z\xC3\xBCrich", "line1\nline2"});
  table.AddRow({"Bern", "t\tab"});
  EXPECT_EQ(table.ToString(),
            "CITY    X\n"
            "------  -----------\n"
            "Z\xC3\xBCrich  line1 line2\n"
            "Bern    t ab\n");
}

TEST(TablePrinterTest, FormatsEpochMillisAsIsoUtc) {
  EXPECT_EQ(FormatEpochMillis(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatEpochMillis(1714564800123), "2024-05-01T12:00:00Z");
  EXPECT_EQ(FormatEpochMillis(-1), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace tarn::cli
