// SPDX-License-Identifier: Apache-2.0
// Chunk: typed access to and text formatting of one DuckDB data chunk.
#include "tarn/engine/chunk.hpp"

#include "tarn/engine/detail/impl.hpp"
#include "tarn/engine/detail/value_format.hpp"

namespace tarn::engine {
namespace {

template <typename T>
T DataAt(const void* data, size_t row) {
  return static_cast<const T*>(data)[row];
}

}  // namespace

Chunk::Chunk(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Chunk::~Chunk() = default;

size_t Chunk::num_rows() const { return impl_->num_rows; }
size_t Chunk::num_columns() const { return impl_->vectors.size(); }
const LogicalType& Chunk::column_type(size_t col) const { return (*impl_->columns)[col].type; }

bool Chunk::IsNull(size_t col, size_t row) const {
  const uint64_t* validity = impl_->validity[col];
  return validity != nullptr && ((validity[row / 64] >> (row % 64)) & 1) == 0;
}

bool Chunk::GetBool(size_t col, size_t row) const {
  if (column_type(col).id != TypeId::kBoolean) return false;
  return DataAt<bool>(impl_->data[col], row);
}

int64_t Chunk::GetInt64(size_t col, size_t row) const {
  const void* v = impl_->data[col];
  switch (column_type(col).id) {
    case TypeId::kTinyInt: return DataAt<int8_t>(v, row);
    case TypeId::kSmallInt: return DataAt<int16_t>(v, row);
    case TypeId::kInteger: return DataAt<int32_t>(v, row);
    case TypeId::kBigInt: return DataAt<int64_t>(v, row);
    case TypeId::kUTinyInt: return DataAt<uint8_t>(v, row);
    case TypeId::kUSmallInt: return DataAt<uint16_t>(v, row);
    case TypeId::kUInteger: return DataAt<uint32_t>(v, row);
    case TypeId::kUBigInt: return static_cast<int64_t>(DataAt<uint64_t>(v, row));
    default: return 0;
  }
}

uint64_t Chunk::GetUInt64(size_t col, size_t row) const {
  const void* v = impl_->data[col];
  switch (column_type(col).id) {
    case TypeId::kUTinyInt: return DataAt<uint8_t>(v, row);
    case TypeId::kUSmallInt: return DataAt<uint16_t>(v, row);
    case TypeId::kUInteger: return DataAt<uint32_t>(v, row);
    case TypeId::kUBigInt: return DataAt<uint64_t>(v, row);
    default: return static_cast<uint64_t>(GetInt64(col, row));
  }
}

double Chunk::GetDouble(size_t col, size_t row) const {
  const void* v = impl_->data[col];
  const LogicalType& type = column_type(col);
  switch (type.id) {
    case TypeId::kFloat: return DataAt<float>(v, row);
    case TypeId::kDouble: return DataAt<double>(v, row);
    case TypeId::kUBigInt: return static_cast<double>(DataAt<uint64_t>(v, row));
    case TypeId::kDecimal: {
      double raw = 0;
      if (type.decimal_width <= 4) {
        raw = DataAt<int16_t>(v, row);
      } else if (type.decimal_width <= 9) {
        raw = DataAt<int32_t>(v, row);
      } else if (type.decimal_width <= 18) {
        raw = static_cast<double>(DataAt<int64_t>(v, row));
      } else {
        auto h = DataAt<duckdb_hugeint>(v, row);
        raw = static_cast<double>(h.upper) * 18446744073709551616.0 + static_cast<double>(h.lower);
      }
      double divisor = 1;
      for (int i = 0; i < type.decimal_scale; i++) divisor *= 10;
      return raw / divisor;
    }
    default: return static_cast<double>(GetInt64(col, row));
  }
}

int32_t Chunk::GetDateDays(size_t col, size_t row) const {
  if (column_type(col).id != TypeId::kDate) return 0;
  return DataAt<int32_t>(impl_->data[col], row);
}

int64_t Chunk::GetMicros(size_t col, size_t row) const {
  TypeId id = column_type(col).id;
  if (id != TypeId::kTimestamp && id != TypeId::kTimestampTz && id != TypeId::kTime) return 0;
  return DataAt<int64_t>(impl_->data[col], row);
}

std::string_view Chunk::GetString(size_t col, size_t row) const {
  TypeId id = column_type(col).id;
  if (id != TypeId::kVarchar && id != TypeId::kBlob && id != TypeId::kBit) return {};
  const duckdb_string_t& s = static_cast<const duckdb_string_t*>(impl_->data[col])[row];
  uint32_t length = s.value.inlined.length;
  return length <= 12 ? std::string_view(s.value.inlined.inlined, length) : std::string_view(s.value.pointer.ptr, length);
}

std::string Chunk::FormatValue(size_t col, size_t row, ValueStyle style) const {
  if (IsNull(col, row)) return style == ValueStyle::kDuckDb ? "NULL" : "";
  std::string out;
  detail::AppendValue(impl_->vectors[col], column_type(col), row, style, out);
  return out;
}

void Chunk::AppendValue(size_t col, size_t row, ValueStyle style, std::string& out) const {
  detail::AppendValue(impl_->vectors[col], column_type(col), row, style, out);
}

void Chunk::FormatColumn(size_t col, size_t begin, size_t end, ValueStyle style, std::string& text,
                         std::vector<int32_t>& lengths) const {
  text.clear();
  lengths.clear();
  lengths.reserve(end - begin);
  detail::AppendColumn(impl_->vectors[col], impl_->data[col], impl_->validity[col], column_type(col), begin, end, style,
                       text, lengths);
}

namespace detail {

std::unique_ptr<Chunk> WrapChunk(duckdb_data_chunk chunk, ColumnsPtr columns) {
  auto impl = std::make_unique<Chunk::Impl>();
  impl->chunk = DuckDataChunk(chunk);
  impl->columns = std::move(columns);
  impl->num_rows = duckdb_data_chunk_get_size(chunk);
  idx_t num_columns = duckdb_data_chunk_get_column_count(chunk);
  for (idx_t i = 0; i < num_columns; i++) {
    duckdb_vector vector = duckdb_data_chunk_get_vector(chunk, i);
    impl->vectors.push_back(vector);
    impl->data.push_back(duckdb_vector_get_data(vector));
    impl->validity.push_back(duckdb_vector_get_validity(vector));
  }
  return std::make_unique<Chunk>(std::move(impl));
}

}  // namespace detail
}  // namespace tarn::engine
