#!/usr/bin/env bash
# Creates the testkit's Python virtual environment with the official Azure SDKs used to prove
# that an independent client accepts the stand-ins (and that iotc-adx shares checkpoints with the
# official Python checkpoint store), plus the reference JMESPath implementation the engine is
# checked against, and aiosmtpd, the SMTP server e-mail reports are tested against; prints the
# path of its python.
# Safe to run from several test processes at once (the install holds a lock); a failed download
# is tried again.
set -euo pipefail
source "$(dirname "$0")/retry.sh"
home="${IOTC_ADX_TESTKIT_HOME:-$(cd "$(dirname "$0")/../.." && pwd)/target/testkit}"
venv="$home/venv"
stamp="$venv/.installed-v3"
mkdir -p "$home"
install() {
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "azure-kusto-data==6.0.4" "azure-kusto-ingest==6.0.4" "azure-eventhub==5.15.1" \
    "azure-eventhub-checkpointstoreblob==1.2.0" "jmespath==1.1.0" \
    "aiosmtpd==1.4.6" >&2
}
if [ ! -f "$stamp" ]; then
  (
    flock 9
    if [ ! -f "$stamp" ]; then
      echo "creating python venv in $venv" >&2
      python3 -m venv "$venv" >&2
      retry "pip install of the Azure SDKs" install
      touch "$stamp"
    fi
  ) 9>"$home/.venv.lock"
fi
echo "$venv/bin/python"
