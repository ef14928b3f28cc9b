#!/usr/bin/env bash
# Makes a headless browser available to the browser tests: Chromium from Debian's packages
# (installed with apt-get when missing; that needs root, as on CI) and playwright-core from the
# npm registry (into the testkit's cache directory) to drive it. Prints two lines: the path of
# chromium and the node_modules folder holding playwright-core. Safe to run from several test
# processes at once (the installs hold a lock); a failed download is tried again.
set -euo pipefail
source "$(dirname "$0")/retry.sh"
home="${IOTC_ADX_TESTKIT_HOME:-$(cd "$(dirname "$0")/../.." && pwd)/target/testkit}"
dir="$home/browser"
stamp="$dir/.installed-playwright-core-1.57"
mkdir -p "$dir"
(
  flock 9
  if ! command -v chromium >/dev/null; then
    command -v apt-get >/dev/null || { echo "Chromium is needed for the browser tests (Debian: apt-get install chromium)" >&2; exit 1; }
    echo "installing chromium from Debian's packages" >&2
    apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2 || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2; }; }
    retry "apt-get install chromium" apt_install
  fi
  if [ ! -f "$stamp" ]; then
    command -v npm >/dev/null || { echo "npm is needed to install playwright-core (apt-get install nodejs npm)" >&2; exit 1; }
    install() {
      rm -rf "$dir/node_modules" "$dir/package.json" "$dir/package-lock.json"
      npm install --prefix "$dir" --no-audit --no-fund --loglevel=error playwright-core@1.57 >&2
    }
    echo "installing playwright-core into $dir" >&2
    retry "npm install playwright-core@1.57" install
    touch "$stamp"
  fi
) 9>"$dir/.lock"
command -v chromium
echo "$dir/node_modules"
