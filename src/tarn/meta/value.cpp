// SPDX-License-Identifier: Apache-2.0
// Value accessors for the metadata store's portable value set.
#include "tarn/meta/value.hpp"

namespace tarn::meta {

int64_t Value::AsInt() const {
  if (const auto* i = std::get_if<int64_t>(&data_)) return *i;
  if (const auto* d = std::get_if<double>(&data_)) return static_cast<int64_t>(*d);
  return 0;
}

double Value::AsDouble() const {
  if (const auto* d = std::get_if<double>(&data_)) return *d;
  if (const auto* i = std::get_if<int64_t>(&data_)) return static_cast<double>(*i);
  return 0.0;
}

const std::string& Value::AsString() const {
  static const std::string kEmpty;
  if (const auto* t = std::get_if<Text>(&data_)) return t->s;
  if (const auto* b = std::get_if<BlobBytes>(&data_)) return b->s;
  return kEmpty;
}

}  // namespace tarn::meta
