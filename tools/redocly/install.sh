#!/usr/bin/env bash
# Installs the pinned Redocly CLI into .tools/redocly (not committed) when it
# is missing. TestOpenAPILint runs it; .ci/run calls this script.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=2.77.0
BIN=.tools/redocly/node_modules/.bin/redocly
if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null | tail -1)" = "$VERSION" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is not installed; installing nodejs and npm with apt"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
mkdir -p .tools/redocly
npm install --no-audit --no-fund --silent --prefix .tools/redocly "@redocly/cli@$VERSION"
"$BIN" --version
