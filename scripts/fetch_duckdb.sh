#!/usr/bin/env bash
# Fetches the pinned DuckDB 1.4.4 (prebuilt libduckdb.so and headers) from npm, checks sha256, unpacks to a cache.
# Prints the cache directory. Nothing is fetched when the cache is already complete.
set -euo pipefail
VERSION=1.4.4
LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
LIB_TGZ="duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz"
LIB_SHA="732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b"
HDR_PKG="duckdb@1.4.4"
HDR_TGZ="duckdb-1.4.4.tgz"
HDR_SHA="5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed"

CACHE="${TARN_DUCKDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tarn/duckdb-$VERSION}"
if [ -f "$CACHE/.complete" ]; then echo "$CACHE"; exit 0; fi
mkdir -p "$CACHE"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch() { # pkg tgz sha
  if [ -f "$CACHE/$2" ] && echo "$3  $CACHE/$2" | sha256sum -c --status; then return 0; fi
  (cd "$work" && npm pack --silent "$1" >/dev/null)
  echo "$3  $work/$2" | sha256sum -c --status || { echo "fetch_duckdb: sha256 mismatch for $2" >&2; exit 1; }
  mv "$work/$2" "$CACHE/$2"
}
fetch "$LIB_PKG" "$LIB_TGZ" "$LIB_SHA"
fetch "$HDR_PKG" "$HDR_TGZ" "$HDR_SHA"
rm -rf "$CACHE/lib" "$CACHE/include"
mkdir -p "$CACHE/lib" "$CACHE/include"
tar xzf "$CACHE/$LIB_TGZ" -C "$work" package/libduckdb.so
mv "$work/package/libduckdb.so" "$CACHE/lib/libduckdb.so"
tar xzf "$CACHE/$HDR_TGZ" -C "$work" package/src/duckdb/src/include package/LICENSE 2>/dev/null || tar xzf "$CACHE/$HDR_TGZ" -C "$work" package/src/duckdb/src/include
cp -r "$work/package/src/duckdb/src/include/." "$CACHE/include/"
touch "$CACHE/.complete"
echo "$CACHE"
