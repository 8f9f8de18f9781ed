#!/usr/bin/env bash
# Installs the Debian packages Tarn needs to build and test. Idempotent and quick when nothing is missing.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates zstd
  libboost-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev nlohmann-json3-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev clang libclang-rt-14-dev libsimdjson-dev liburing-dev
  python3 python3-pytest python3-requests
  postgresql-client python3-psycopg2 postgresql-15 libpq-dev python3-sqlalchemy
  libpostgresql-jdbc-java default-jdk-headless unixodbc odbc-postgresql python3-pyodbc
  r-base-core r-cran-dbi r-cran-rpostgresql
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm packs the pinned DuckDB; a machine may carry its own Node.js that already bundles npm.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
