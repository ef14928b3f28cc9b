#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator) from the npm registry into the testkit's cache
# directory when it is missing, and prints the path of its executable. Safe to run from several
# test processes at once (the install holds a lock); a failed download is tried again.
set -euo pipefail
source "$(dirname "$0")/retry.sh"
home="${IOTC_ADX_TESTKIT_HOME:-$(cd "$(dirname "$0")/../.." && pwd)/target/testkit}"
dir="$home/azurite"
bin="$dir/node_modules/.bin/azurite"
# Written only after a complete install: a half-finished one is never taken for done.
stamp="$dir/.installed-3.35"
mkdir -p "$dir"
install() {
  rm -rf "$dir/node_modules" "$dir/package.json" "$dir/package-lock.json"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error azurite@3.35 >&2
}
if [ ! -f "$stamp" ]; then
  command -v npm >/dev/null || { echo "npm is needed to install Azurite (apt-get install nodejs npm)" >&2; exit 1; }
  (
    flock 9
    if [ ! -f "$stamp" ]; then
      echo "installing azurite into $dir" >&2
      retry "npm install azurite@3.35" install
      [ -x "$bin" ] || { echo "npm installed azurite but $bin is missing" >&2; exit 1; }
      touch "$stamp"
    fi
  ) 9>"$dir/.lock"
fi
echo "$bin"
