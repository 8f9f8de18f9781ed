// SPDX-License-Identifier: Apache-2.0
// In-process transport: runs statements through tarn::engine on a fresh in-memory database.
#pragma once

#include "transport.hpp"

namespace tarn::sqllogictest {

class InProcessTransportFactory : public TransportFactory {
 public:
  std::unique_ptr<Transport> Create(std::string& error) override;
};

/// Runs statements through sql::Session (Databricks SQL on the catalog) with a fresh catalog: an in-memory metadata
/// store and a temporary data directory removed with the transport. Used for files that `require catalog`.
class CatalogTransportFactory : public TransportFactory {
 public:
  std::unique_ptr<Transport> Create(std::string& error) override;
};

}  // namespace tarn::sqllogictest
