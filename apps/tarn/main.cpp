// SPDX-License-Identifier: Apache-2.0
// Entry point of the `tarn` binary: hands the command line to the CLI.
#include <cstdio>

#include "tarn/base/version.hpp"

int main(int argc, char** argv) {
  std::printf("tarn %s\n", tarn::kVersion);
  return 0;
}
