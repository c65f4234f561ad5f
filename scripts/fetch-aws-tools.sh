#!/usr/bin/env bash
# Install the AWS stand-ins the estate and execution tests use into a Python venv:
# `moto[server]` (a local AWS API), the AWS CLI v1 (`awscli`, the executor's and the
# benchmark's reference client) and the official MCP Python client (`mcp`, which drives
# `cloudops mcp` in the tests as an agent would). All come from PyPI; versions are pinned so
# the quirks documented in crates/cloudops-sync/NOTES.md stay true.
#
# Usage: scripts/fetch-aws-tools.sh        (venv: ${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv})
set -euo pipefail

MOTO_VERSION="5.2.5"
AWSCLI_VERSION="1.46.3"
MCP_VERSION="2.3.0"
VENV="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
PYTHON="${PYTHON:-python3}"

installed() {
    [[ -x "$VENV/bin/moto_server" && -x "$VENV/bin/aws" ]] &&
        "$VENV/bin/python" - "$MOTO_VERSION" "$AWSCLI_VERSION" "$MCP_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
wanted = tuple(sys.argv[1:4])
sys.exit(0 if (version("moto"), version("awscli"), version("mcp")) == wanted else 1)
PY
}

if installed; then
    echo "moto $MOTO_VERSION, awscli $AWSCLI_VERSION and mcp $MCP_VERSION already in $VENV"
    exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "awscli==$AWSCLI_VERSION" "mcp==$MCP_VERSION"
installed || { echo "error: moto/awscli/mcp did not install into $VENV" >&2; exit 1; }
echo "moto $MOTO_VERSION, awscli $AWSCLI_VERSION and mcp $MCP_VERSION installed in $VENV"
