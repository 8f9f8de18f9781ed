// SPDX-License-Identifier: Apache-2.0
// Tests for schemaString parsing into the Delta type tree.
#include <gtest/gtest.h>

#include "tarn/delta/schema.hpp"

namespace tarn::delta {
namespace {

TEST(SchemaTest, ParsesPrimitivesAndNestedTypes) {
  std::string json = R"json({"type":"struct","fields":[
    {"name":"id","type":"long","nullable":false,"metadata":{}},
    {"name":"d","type":"decimal(10,2)","nullable":true,"metadata":{}},
    {"name":"ts","type":"timestamp_ntz","nullable":true,"metadata":{}},
    {"name":"s","type":{"type":"struct","fields":[{"name":"a","type":"integer","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
    {"name":"arr","type":{"type":"array","elementType":"string","containsNull":false},"nullable":true,"metadata":{}},
    {"name":"m","type":{"type":"map","keyType":"string","valueType":{"type":"array","elementType":"byte","containsNull":true},"valueContainsNull":true},"nullable":true,"metadata":{}},
    {"name":"v","type":"variant","nullable":true,"metadata":{}},
    {"name":"n","type":"void","nullable":true,"metadata":{}}]})json";
  auto schema = ParseSchema(json);
  ASSERT_TRUE(schema.has_value()) << schema.status().ToString();
  ASSERT_EQ(schema->fields().size(), 8u);
  EXPECT_EQ(schema->ToString(),
            "struct<id:bigint,d:decimal(10,2),ts:timestamp_ntz,s:struct<a:int>,arr:array<string>,"
            "m:map<string,array<tinyint>>,v:variant,n:void>");
  EXPECT_FALSE(schema->fields()[0].nullable);
  EXPECT_EQ(schema->fields()[1].type->precision(), 10);
  EXPECT_EQ(schema->fields()[1].type->scale(), 2);
  EXPECT_FALSE(schema->fields()[4].type->contains_null());
  EXPECT_EQ(schema->FindField("ARR"), &schema->fields()[4]);
  EXPECT_EQ(schema->FindField("nope"), nullptr);
}

TEST(SchemaTest, ReadsColumnMappingMetadata) {
  std::string json = R"({"type":"struct","fields":[{"name":"a b","type":"integer","nullable":true,
    "metadata":{"delta.columnMapping.id":5,"delta.columnMapping.physicalName":"col-123","comment":"x"}}]})";
  auto schema = ParseSchema(json).value();
  const StructField& field = schema.fields()[0];
  EXPECT_EQ(field.column_mapping_id, 5);
  EXPECT_EQ(field.PhysicalName(), "col-123");
  EXPECT_NE(field.metadata_json.find("comment"), std::string::npos);
}

TEST(SchemaTest, ErrorsNameTheProblem) {
  auto unknown = ParseSchema(R"({"type":"struct","fields":[{"name":"x","type":"interval","nullable":true}]})");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kFeatureNotSupported);
  EXPECT_NE(unknown.status().message().find("interval"), std::string::npos);
  EXPECT_EQ(ParseSchema("{not json").status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ(ParseSchema(R"("long")").status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ(ParseSchema(R"({"type":"struct","fields":[{"name":"x"}]})").status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ(ParsePrimitiveTypeName("decimal(40,2)").status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ(ParsePrimitiveTypeName("decimal").value()->ToString(), "decimal(10,0)");
}

TEST(SchemaTest, StructuralEquality) {
  auto a = ParseSchema(R"({"type":"struct","fields":[{"name":"x","type":"long","nullable":true,"metadata":{"k":1}}]})");
  auto b = ParseSchema(R"({"type":"struct","fields":[{"name":"x","type":"long","nullable":true,"metadata":{}}]})");
  auto c = ParseSchema(R"({"type":"struct","fields":[{"name":"x","type":"integer","nullable":true,"metadata":{}}]})");
  EXPECT_TRUE(a->type()->Equals(*b->type()));
  EXPECT_FALSE(a->type()->Equals(*c->type()));
}

// Found with deep-nesting inputs for the fuzzers: a schemaString nesting types thousands deep recursed without bound.
TEST(SchemaTest, DeepNestingIsCorruptData) {
  std::string open, close;
  for (int i = 0; i < 5000; i++) {
    open += R"({"type":"array","containsNull":true,"elementType":)";
    close += "}";
  }
  std::string schema = R"({"type":"struct","fields":[{"name":"a","type":)" + open + R"("long")" + close +
                       R"(,"nullable":true,"metadata":{}}]})";
  auto parsed = ParseSchema(schema);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kCorruptData);
  EXPECT_NE(parsed.status().message().find("deeper"), std::string::npos) << parsed.status().message();
}

}  // namespace
}  // namespace tarn::delta
