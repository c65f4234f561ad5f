#!/usr/bin/env bash
# End-to-end tests of the desktop app (crates/app-tauri/tests/e2e): the real cloudops-desktop
# under tauri-driver + WebKitWebDriver on Xvfb, driven over WebDriver, against moto seeded
# with the seed-sized estate (3,187 resources): sync, explorer, a change through chat
# (plan, approval, execution, checked in moto), history, search latency, settings.
#
#   scripts/e2e-desktop.sh                 # builds the app (release) first
#   scripts/e2e-desktop.sh -k explorer     # extra arguments go to pytest
#
# Installs what is missing: tauri-driver 2.1.0 (cargo install, into ~/.cache/cloudops/tools),
# moto + AWS CLI (scripts/fetch-aws-tools.sh), and pytest and Selenium (the WebDriver client)
# into the same venv. Needs the Debian packages webkit2gtk-driver (WebKitWebDriver) and xvfb.
# The pytest fixtures start moto, Xvfb, tauri-driver and the app, and stop them; this script
# only installs, runs pytest under a time limit, and stops whatever an interrupted run left
# (the fixtures note every pid).
#
# Environment: CLOUDOPS_DESKTOP_BIN (an app binary to test as it is; default: build and test
# $CARGO_TARGET_DIR/release/cloudops-desktop; CLOUDOPS_E2E_BUILD=0 skips that build),
# CLOUDOPS_E2E_OUT (screenshots, search-latency.json, logs; default
# $CARGO_TARGET_DIR/e2e-screenshots), CLOUDOPS_E2E_TIMEOUT (seconds for pytest, default 900),
# CLOUDOPS_E2E_WORK (the work directory: moto manifest, the app's data directory; kept when
# given, else a temporary one removed at the end unless CLOUDOPS_E2E_KEEP=1),
# CLOUDOPS_E2E_SMAPS=1 (also save the app's /proc/PID/smaps at each memory reading, as
# smaps-<when>.txt in the output directory).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
export CLOUDOPS_VENV="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
# The app under test: the given binary as it is, else this checkout's release build, built now
# (a no-op when up to date; it also keeps a stale binary in the shared target directory from
# being tested). The release build is what operators run, so the latency and memory this run
# records are the shipped app's.
if [[ -z "${CLOUDOPS_DESKTOP_BIN:-}" && "${CLOUDOPS_E2E_BUILD:-1}" == 1 ]]; then
    echo "== building cloudops-desktop (release)"
    timeout 3600 cargo build --release --locked --bin cloudops-desktop
fi
export CLOUDOPS_DESKTOP_BIN="${CLOUDOPS_DESKTOP_BIN:-$CARGO_TARGET_DIR/release/cloudops-desktop}"
export CLOUDOPS_E2E_OUT="${CLOUDOPS_E2E_OUT:-$CARGO_TARGET_DIR/e2e-screenshots}"
TOOLS="$HOME/.cache/cloudops/tools"
TAURI_DRIVER_VERSION="2.1.0"
PYTEST_VERSION="9.2.0"
SELENIUM_VERSION="4.51.0"  # 4.52.0 needs certifi>=2026.10.23, which pip could not get (Dec 2026)
TIMEOUT="${CLOUDOPS_E2E_TIMEOUT:-900}"

# -- tools ---------------------------------------------------------------------------------
export TAURI_DRIVER="$TOOLS/bin/tauri-driver"
if ! [[ -x "$TAURI_DRIVER" ]] ||
    ! grep -q "^\"tauri-driver $TAURI_DRIVER_VERSION " "$TOOLS/.crates.toml" 2>/dev/null; then
    echo "== installing tauri-driver $TAURI_DRIVER_VERSION into $TOOLS"
    # Its own target directory: the workspace build must not wait on this one, nor it on that.
    CARGO_TARGET_DIR="$HOME/.cache/cloudops/target-tools" timeout 1200 \
        cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --root "$TOOLS"
fi
export WEBKIT_WEBDRIVER="${WEBKIT_WEBDRIVER:-$(command -v WebKitWebDriver || echo /usr/bin/WebKitWebDriver)}"
[[ -x "$WEBKIT_WEBDRIVER" ]] || { echo "error: WebKitWebDriver missing: apt-get install webkit2gtk-driver" >&2; exit 1; }
command -v Xvfb >/dev/null || { echo "error: Xvfb missing: apt-get install xvfb" >&2; exit 1; }

scripts/fetch-aws-tools.sh
if ! "$CLOUDOPS_VENV/bin/python" -c "
import sys; from importlib.metadata import version
sys.exit((version('pytest'), version('selenium')) != ('$PYTEST_VERSION', '$SELENIUM_VERSION'))" \
    2>/dev/null; then
    echo "== installing pytest $PYTEST_VERSION and selenium $SELENIUM_VERSION into $CLOUDOPS_VENV"
    timeout 600 "$CLOUDOPS_VENV/bin/pip" install --quiet --disable-pip-version-check \
        "pytest==$PYTEST_VERSION" "selenium==$SELENIUM_VERSION"
fi

[[ -x "$CLOUDOPS_DESKTOP_BIN" ]] || {
    echo "error: $CLOUDOPS_DESKTOP_BIN not built (cargo test --workspace --release --locked --no-run builds it)" >&2
    exit 1
}

# -- run -----------------------------------------------------------------------------------
if [[ -n "${CLOUDOPS_E2E_WORK:-}" ]]; then
    WORK="$CLOUDOPS_E2E_WORK" CLOUDOPS_E2E_KEEP=1
    mkdir -p "$WORK"
else
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/cloudops-e2e.XXXXXX")"
fi
export CLOUDOPS_E2E_WORK="$WORK" CLOUDOPS_E2E_PIDFILE="$WORK/pids"
: >"$CLOUDOPS_E2E_PIDFILE"
mkdir -p "$CLOUDOPS_E2E_OUT"

TEST_PID=""
cleanup() {
    local pid name
    # Interrupted: pass it on to pytest (through `timeout`), whose fixtures stop what they
    # started; give them a moment.
    if [[ -n "$TEST_PID" ]] && kill -0 "$TEST_PID" 2>/dev/null; then
        kill -TERM "$TEST_PID" 2>/dev/null || true
        for _ in $(seq 60); do kill -0 "$TEST_PID" 2>/dev/null || break; sleep 0.5; done
    fi
    # Whatever the fixtures started and did not stop (an interrupted or timed-out run):
    # only those pids, and only while they still run the program that was noted.
    if [[ -f "$CLOUDOPS_E2E_PIDFILE" ]]; then
        while read -r pid name; do
            [[ -r "/proc/$pid/cmdline" ]] || continue
            [[ "$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -1 | xargs -r basename)" == "$name" ]] || continue
            kill -TERM "$pid" 2>/dev/null || true
        done <"$CLOUDOPS_E2E_PIDFILE"
        sleep 1
        while read -r pid name; do
            [[ -r "/proc/$pid/cmdline" ]] || continue
            [[ "$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -1 | xargs -r basename)" == "$name" ]] || continue
            kill -KILL "$pid" 2>/dev/null || true
        done <"$CLOUDOPS_E2E_PIDFILE"
    fi
    if [[ "${CLOUDOPS_E2E_KEEP:-}" == 1 ]]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== desktop E2E: $CLOUDOPS_DESKTOP_BIN (time limit ${TIMEOUT}s)"
status=0
# `timeout` makes its own process group and signals all of it (pytest and what it started);
# pytest turns TERM into an interrupt so its fixtures stop their processes.
# In the background and waited for, so a signal to this script is handled at once.
PYTHONDONTWRITEBYTECODE=1 timeout --kill-after=30 "$TIMEOUT" \
    "$CLOUDOPS_VENV/bin/python" -m pytest -v crates/app-tauri/tests/e2e "$@" </dev/null &
TEST_PID=$!
wait "$TEST_PID" || status=$?
TEST_PID=""
if ((status == 124 || status == 137)); then
    echo "error: the desktop E2E run took longer than ${TIMEOUT}s" >&2
fi
echo "screenshots, search-latency.json and logs: $CLOUDOPS_E2E_OUT"
exit "$status"
