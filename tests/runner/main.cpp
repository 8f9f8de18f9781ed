// SPDX-License-Identifier: Apache-2.0
// tarn_sqllogictest: runs sqllogictest files through a transport and prints PASS/FAIL per file.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "in_process_transport.hpp"
#include "test_file.hpp"
#include "test_runner.hpp"
#include "wire_transport.hpp"

namespace fs = std::filesystem;
using namespace tarn::sqllogictest;

namespace {

void Usage() {
  std::cerr << "usage: tarn_sqllogictest [--transport=inprocess|wire] [--protocol=simple|extended] "
               "<file.test | directory>...\n"
               "Runs every *.test file (directories are searched recursively), one fresh database per file.\n"
               "inprocess (default) calls the engine directly; wire starts Tarn's PostgreSQL wire server in this\n"
               "process on a free 127.0.0.1 port for each file and runs the statements through libpq, as simple\n"
               "Query messages or (--protocol=extended) single statements as Parse/Bind/Describe/Execute.\n"
               "Prints PASS/FAIL per file and a final 'N passed, M failed' line; exits 1 when any file fails.\n";
}

std::vector<fs::path> CollectFiles(const std::vector<std::string>& args, bool& ok) {
  std::vector<fs::path> files;
  for (const auto& arg : args) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      for (const auto& entry : fs::recursive_directory_iterator(arg, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".test") files.push_back(entry.path());
      }
    } else if (fs::is_regular_file(arg, ec)) {
      files.emplace_back(arg);
    } else {
      std::cerr << "no such file or directory: " << arg << "\n";
      ok = false;
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> paths;
  std::string transport_name = "inprocess";
  std::string protocol = "simple";
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg.rfind("--transport=", 0) == 0) {
      transport_name = arg.substr(12);
    } else if (arg.rfind("--protocol=", 0) == 0) {
      protocol = arg.substr(11);
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else {
      paths.push_back(arg);
    }
  }
  if (paths.empty()) {
    Usage();
    return 2;
  }
  if (transport_name != "inprocess" && transport_name != "wire") {
    std::cerr << "unknown transport: " << transport_name << " (available: inprocess, wire)\n";
    return 2;
  }
  if (protocol != "simple" && protocol != "extended") {
    std::cerr << "unknown protocol: " << protocol << " (available: simple, extended)\n";
    return 2;
  }
  if (protocol != "simple" && transport_name != "wire") {
    std::cerr << "--protocol applies to --transport=wire only\n";
    return 2;
  }
  const bool wire = transport_name == "wire";
  const WireProtocol wire_protocol = protocol == "extended" ? WireProtocol::kExtended : WireProtocol::kSimple;
  // The name skipif/onlyif directives see.
  const std::string directive_name = wire ? "wire-" + protocol : transport_name;
  std::unique_ptr<TransportFactory> factory;
  std::unique_ptr<TransportFactory> catalog_factory;
  if (wire) {
    factory = std::make_unique<WireTransportFactory>(false, wire_protocol);
    catalog_factory = std::make_unique<WireTransportFactory>(true, wire_protocol);
  } else {
    factory = std::make_unique<InProcessTransportFactory>();
    catalog_factory = std::make_unique<CatalogTransportFactory>();
  }

  bool paths_ok = true;
  std::vector<fs::path> files = CollectFiles(paths, paths_ok);
  if (files.empty()) {
    std::cerr << "no .test files found\n";
    return 2;
  }
  int passed = 0;
  int failed = 0;
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<Record> records;
    std::string error;
    int error_line = 0;
    FileOutcome outcome;
    if (!in || !ParseTestFile(text.str(), records, error, error_line)) {
      outcome.passed = false;
      outcome.failed_line = error_line;
      outcome.message = in ? "parse error: " + error : "cannot read the file";
    } else {
      // Files that `require catalog` run Databricks SQL through sql::Session on a fresh catalog.
      bool catalog = std::any_of(records.begin(), records.end(), [](const Record& r) {
        return r.kind == RecordKind::kRequire && r.argument == "catalog";
      });
      std::unique_ptr<Transport> transport = catalog ? catalog_factory->Create(error) : factory->Create(error);
      std::error_code ec;
      fs::path test_dir = fs::temp_directory_path(ec) / ("tarn_sqllogictest_" + std::to_string(::getpid()));
      fs::remove_all(test_dir, ec);
      fs::create_directories(test_dir, ec);
      if (!transport) {
        outcome.passed = false;
        outcome.message = "cannot open a database: " + error;
      } else {
        outcome = RunRecords(records, *transport, test_dir.string(), directive_name);
      }
      transport.reset();
      fs::remove_all(test_dir, ec);
    }
    if (outcome.passed) {
      passed++;
      std::cout << "PASS " << file.string() << " (" << outcome.records_run << " records";
      if (outcome.records_skipped > 0) {
        std::cout << ", " << outcome.records_skipped << " skipped on " << directive_name << " by skipif/onlyif";
      }
      std::cout << ")\n";
    } else {
      failed++;
      std::cout << "FAIL " << file.string();
      if (outcome.failed_line > 0) std::cout << ":" << outcome.failed_line;
      while (!outcome.message.empty() && outcome.message.back() == '\n') outcome.message.pop_back();
      std::cout << ": " << outcome.message << "\n";
    }
    std::cout.flush();
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return (failed > 0 || !paths_ok) ? 1 : 0;
}
