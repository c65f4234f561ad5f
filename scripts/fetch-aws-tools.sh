#!/usr/bin/env bash
# Install the AWS stand-ins the estate and execution tests use into a Python venv:
# `moto[server]` (a local AWS API) and the AWS CLI v1 (`awscli`, the executor's and the
# benchmark's reference client). Both come from PyPI; versions are pinned so the quirks
# documented in crates/cloudops-sync/NOTES.md stay true.
#
# Usage: scripts/fetch-aws-tools.sh        (venv: ${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv})
set -euo pipefail

MOTO_VERSION="5.2.5"
AWSCLI_VERSION="1.46.3"
VENV="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
PYTHON="${PYTHON:-python3}"

installed() {
    [[ -x "$VENV/bin/moto_server" && -x "$VENV/bin/aws" ]] &&
        "$VENV/bin/python" - "$MOTO_VERSION" "$AWSCLI_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("moto"), version("awscli")) == (sys.argv[1], sys.argv[2]) else 1)
PY
}

if installed; then
    echo "moto $MOTO_VERSION and awscli $AWSCLI_VERSION already in $VENV"
    exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "awscli==$AWSCLI_VERSION"
installed || { echo "error: moto/awscli did not install into $VENV" >&2; exit 1; }
echo "moto $MOTO_VERSION and awscli $AWSCLI_VERSION installed in $VENV"
