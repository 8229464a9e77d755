#!/usr/bin/env bash
# Installs what Ferry's demo and tests need on a fresh Debian machine: the .NET SDK is assumed;
# PostgreSQL server binaries come from apt when absent; s3rver (the S3 test server) from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pg=1
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then need_pg=0; fi
if [ "$need_pg" = 1 ]; then
  echo "ferry: installing PostgreSQL (apt-get install postgresql)…"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "ferry: the .NET 10 SDK is required (https://dot.net); install it and run this again" >&2
  exit 1
fi

if [ "${1:-}" = "--with-s3rver" ] && [ ! -d tests/s3rver/node_modules/s3rver ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "ferry: installing Node.js and npm for the S3 test server…"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
  fi
  echo "ferry: installing s3rver (npm ci in tests/s3rver)…"
  (cd tests/s3rver && (npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent))
fi
