// SPDX-License-Identifier: Apache-2.0
// Values, rows and query results exchanged with the metadata store (the portable SQL value set).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tarn::meta {

/// The value types every backend supports: SQL NULL, 64-bit integer, double, UTF-8 text, bytes.
enum class ValueType { kNull, kInt, kDouble, kText, kBlob };

/// One SQL value, used both as a statement parameter and as a result cell. Booleans bind as 0/1 integers.
class Value {
 public:
  Value() = default;        // NULL
  Value(std::nullptr_t) {}  // NOLINT: implicit so `{nullptr, 1, "x"}` builds a parameter list
  template <std::integral T>
  Value(T v) : data_(static_cast<int64_t>(v)) {}                    // NOLINT
  Value(double v) : data_(v) {}                                     // NOLINT
  Value(const char* text) : data_(Text{std::string(text)}) {}       // NOLINT
  Value(std::string_view text) : data_(Text{std::string(text)}) {}  // NOLINT
  Value(std::string text) : data_(Text{std::move(text)}) {}         // NOLINT

  static Value Null() { return Value(); }
  static Value Blob(std::string bytes) {
    Value v;
    v.data_ = BlobBytes{std::move(bytes)};
    return v;
  }

  ValueType type() const { return static_cast<ValueType>(data_.index()); }
  bool is_null() const { return type() == ValueType::kNull; }

  /// Returns the integer; a double is truncated, anything else gives 0.
  int64_t AsInt() const;
  /// Returns the double; an integer is converted, anything else gives 0.
  double AsDouble() const;
  /// Returns text or blob bytes; anything else gives an empty string.
  const std::string& AsString() const;

  bool operator==(const Value& other) const = default;

 private:
  struct Text {
    std::string s;
    bool operator==(const Text&) const = default;
  };
  struct BlobBytes {
    std::string s;
    bool operator==(const BlobBytes&) const = default;
  };
  std::variant<std::monostate, int64_t, double, Text, BlobBytes> data_;
};

/// Statement parameters, bound in order to the `?` placeholders.
using Params = std::vector<Value>;

/// One result row: cells in select-list order.
class Row {
 public:
  Row() = default;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}

  size_t size() const { return values_.size(); }
  const Value& operator[](size_t i) const { return values_.at(i); }
  bool IsNull(size_t i) const { return values_.at(i).is_null(); }
  int64_t Int(size_t i) const { return values_.at(i).AsInt(); }
  double Double(size_t i) const { return values_.at(i).AsDouble(); }
  /// Text or blob bytes of cell `i` (empty for NULL).
  const std::string& String(size_t i) const { return values_.at(i).AsString(); }
  const std::vector<Value>& values() const { return values_; }

 private:
  std::vector<Value> values_;
};

/// A fully materialised result: column names and rows.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
};

}  // namespace tarn::meta
