// SPDX-License-Identifier: Apache-2.0
// RestCommand: a REST command chosen on the command line, run once the connection settings are resolved.
#pragma once

#include <functional>
#include <ostream>

#include "tarn/base/status.hpp"
#include "tarn/cli/rest_client.hpp"
#include "tarn/cli/rest_commands.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace tarn::cli {

/// Runs one command against the server: results to `out`, notes and progress to `err`.
using RestCommand =
    std::function<Status(RestClient& client, OutputFormat format, std::ostream& out, std::ostream& err)>;

}  // namespace tarn::cli
