#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator) from the npm registry into the testkit's cache
# directory when it is missing, and prints the path of its executable. Safe to run from several
# test processes at once (the install holds a lock).
set -euo pipefail
home="${IOTC_ADX_TESTKIT_HOME:-$(cd "$(dirname "$0")/../.." && pwd)/target/testkit}"
dir="$home/azurite"
bin="$dir/node_modules/.bin/azurite"
mkdir -p "$dir"
if [ ! -x "$bin" ]; then
  command -v npm >/dev/null || { echo "npm is needed to install Azurite (apt-get install nodejs npm)" >&2; exit 1; }
  (
    flock 9
    if [ ! -x "$bin" ]; then
      echo "installing azurite into $dir" >&2
      npm install --prefix "$dir" --no-audit --no-fund --loglevel=error azurite@3.35 >&2
    fi
  ) 9>"$dir/.lock"
fi
echo "$bin"
