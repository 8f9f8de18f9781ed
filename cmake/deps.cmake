# SPDX-License-Identifier: Apache-2.0
# Third-party dependencies: Debian packages via find_package/pkg-config, DuckDB from the pinned npm cache.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CURL REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
if(TARN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

if(NOT TARN_DUCKDB_DIR)
  set(TARN_DUCKDB_DIR "$ENV{HOME}/.cache/tarn/duckdb-1.4.4")
  if(DEFINED ENV{TARN_DUCKDB_CACHE})
    set(TARN_DUCKDB_DIR "$ENV{TARN_DUCKDB_CACHE}")
  endif()
endif()
if(NOT EXISTS "${TARN_DUCKDB_DIR}/include/duckdb.h" OR NOT EXISTS "${TARN_DUCKDB_DIR}/lib/libduckdb.so")
  message(FATAL_ERROR "DuckDB not found in ${TARN_DUCKDB_DIR}: run scripts/fetch_duckdb.sh (make does) or set TARN_DUCKDB_DIR")
endif()
add_library(tarn_duckdb SHARED IMPORTED GLOBAL)
set_target_properties(tarn_duckdb PROPERTIES
  IMPORTED_LOCATION "${TARN_DUCKDB_DIR}/lib/libduckdb.so"
  IMPORTED_NO_SONAME TRUE)
target_include_directories(tarn_duckdb SYSTEM INTERFACE "${TARN_DUCKDB_DIR}/include")
add_library(duckdb::duckdb ALIAS tarn_duckdb)
# The binary finds libduckdb.so through an rpath, so no LD_LIBRARY_PATH is needed.
set(CMAKE_BUILD_RPATH "${TARN_DUCKDB_DIR}/lib")
set(CMAKE_INSTALL_RPATH "${TARN_DUCKDB_DIR}/lib")
