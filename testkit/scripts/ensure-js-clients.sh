#!/usr/bin/env bash
# Installs the official JavaScript Azure clients the stand-ins are tested against
# (@azure/event-hubs with its blob checkpoint store, azure-kusto-data and azure-kusto-ingest)
# from the npm registry into the testkit's cache directory, and prints the node_modules folder.
# Safe to run from several test processes at once (the install holds a lock); a failed download
# is tried again.
set -euo pipefail
source "$(dirname "$0")/retry.sh"
home="${IOTC_ADX_TESTKIT_HOME:-$(cd "$(dirname "$0")/../.." && pwd)/target/testkit}"
dir="$home/js"
stamp="$dir/.installed-v2"
mkdir -p "$dir"
install() {
  rm -rf "$dir/node_modules" "$dir/package.json" "$dir/package-lock.json"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "@azure/event-hubs@6.0.4" \
    "@azure/eventhubs-checkpointstore-blob@2.0.0" "@azure/storage-blob@12.34.0" \
    "azure-kusto-data@7.0.4" "azure-kusto-ingest@7.0.1" >&2
}
if [ ! -f "$stamp" ]; then
  command -v npm >/dev/null || { echo "npm is needed to install the JavaScript clients (apt-get install nodejs npm)" >&2; exit 1; }
  (
    flock 9
    if [ ! -f "$stamp" ]; then
      echo "installing the JavaScript clients into $dir" >&2
      retry "npm install of the JavaScript clients" install
      touch "$stamp"
    fi
  ) 9>"$dir/.lock"
fi
echo "$dir/node_modules"
