// SPDX-License-Identifier: Apache-2.0
// Tests for Status, Result and the error-code table.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tarn/base/result.hpp"

namespace tarn {
namespace {

TEST(StatusTest, OkHasNoMessage) {
  Status st;
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kOk);
  EXPECT_EQ(st.message(), "");
  EXPECT_EQ(st.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMappings) {
  Status st = Error(ErrorCode::kTableNotFound, "table not found: {}", "sales.orders");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "table not found: sales.orders");
  EXPECT_EQ(st.sqlstate(), "42P01");
  EXPECT_EQ(st.http_status(), 404);
}

TEST(StatusTest, ContextIsPrefixed) {
  Status st = Error(ErrorCode::kCorruptData, "bad json").WithContext("reading version {}", 7);
  EXPECT_EQ(st.message(), "reading version 7: bad json");
  EXPECT_EQ(st.code(), ErrorCode::kCorruptData);
  EXPECT_TRUE(Status::OK().WithContext("x").ok());
}

TEST(StatusTest, CopyIsDeep) {
  Status a = Error(ErrorCode::kInternal, "a");
  Status b = a;
  a = Status::OK();
  EXPECT_EQ(b.message(), "a");
  EXPECT_TRUE(a.ok());
}

TEST(StatusTest, EveryCodeHasWellFormedMappings) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < NumErrorCodes(); ++i) {
    const auto& info = GetErrorCodeInfo(static_cast<ErrorCode>(i));
    EXPECT_EQ(info.sqlstate.size(), 5u) << info.name;
    EXPECT_GE(info.http_status, 200) << info.name;
    EXPECT_LT(info.http_status, 600) << info.name;
    EXPECT_FALSE(info.databricks.empty()) << info.name;
    EXPECT_FALSE(info.mlflow.empty()) << info.name;
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate " << info.name;
    if (i > 0) {
      EXPECT_GE(info.http_status, 400) << info.name;
    }
  }
  // User mistakes never map to 500.
  EXPECT_EQ(GetErrorCodeInfo(ErrorCode::kInvalidParameterValue).http_status, 400);
  EXPECT_EQ(GetErrorCodeInfo(ErrorCode::kUnauthenticated).http_status, 401);
  EXPECT_EQ(GetErrorCodeInfo(ErrorCode::kPermissionDenied).http_status, 403);
  EXPECT_EQ(GetErrorCodeInfo(ErrorCode::kResourceDoesNotExist).databricks, "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(GetErrorCodeInfo(ErrorCode::kInternal).http_status, 500);
}

Result<int> Half(int v) {
  if (v % 2) return Error(ErrorCode::kInvalidParameterValue, "odd: {}", v);
  return v / 2;
}

Result<int> Quarter(int v) {
  TARN_ASSIGN_OR_RETURN(int half, Half(v));
  TARN_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(r.error().message(), "odd: 3");
}

TEST(ResultTest, OkStatusIsNotAValue) {
  Result<int> r(Status::OK());
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInternal);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

}  // namespace
}  // namespace tarn
