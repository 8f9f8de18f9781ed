// SPDX-License-Identifier: Apache-2.0
// Writes our Schema type back as Spark's JSON schema text (metaData.schemaString); round-trips with ParseSchema.
#pragma once

#include <string>

#include "tarn/delta/schema.hpp"

namespace tarn::delta {

/// Returns the schemaString for `schema`: {"type":"struct","fields":[{"name","type","nullable","metadata"}]}, with
/// Spark's type names ("long", "integer", "decimal(10,2)", nested struct/array/map objects). Field metadata is kept
/// verbatim (including column-mapping ids and physical names). ParseSchema(SerializeSchema(s)) equals s.
std::string SerializeSchema(const Schema& schema);

/// Returns Spark's JSON name of a primitive type ("long", "timestamp_ntz", "decimal(38,18)").
std::string PrimitiveTypeJsonName(const DataType& type);

}  // namespace tarn::delta
