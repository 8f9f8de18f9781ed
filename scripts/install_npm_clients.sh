#!/usr/bin/env bash
# Installs the npm clients the end-to-end tests use (tests/clients/package.json) into BUILD_DIR/npm-clients.
# Quick when they are already installed. Prints the node_modules directory.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$(realpath -m "${1:-$ROOT/build}")/npm-clients"
mkdir -p "$DEST"
if ! cmp -s "$ROOT/tests/clients/package.json" "$DEST/package.json" || [ ! -d "$DEST/node_modules" ]; then
  cp "$ROOT/tests/clients/package.json" "$DEST/package.json"
  (cd "$DEST" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>"$DEST/npm-install.log") || {
    cat "$DEST/npm-install.log" >&2; exit 1; }
fi
echo "$DEST/node_modules"
