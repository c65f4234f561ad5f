#!/usr/bin/env bash
# The system packages (Debian/Ubuntu names) the project needs beyond the Rust toolchain, by job:
#
#   scripts/system-deps.sh demo      # the CLI demo: a C compiler, Python with venv
#   scripts/system-deps.sh test      # every test: the above, plus Redis, the keychains, the
#                                    # desktop's GTK/WebKitGTK, Xvfb, WebKitWebDriver (Node.js:
#                                    # scripts/fetch-node.sh)
#   scripts/system-deps.sh test --check   # only say what is missing (exit 1 if anything is)
#
# Only what is missing is installed: with apt-get as root, else with `sudo -n` (never a
# password prompt: the tests run without a terminal). When neither is possible, or apt-get is
# not there, it prints the one line to run and exits 1, before any build starts.
set -euo pipefail

job="${1:-}"
check_only=0
[[ "${2:-}" == --check ]] && check_only=1
case "$job" in
demo | test) ;;
*) echo "usage: $0 demo|test [--check]" >&2; exit 2 ;;
esac

need=()
# A C compiler and linker: qdrant-edge, zstd, ring and the link step itself.
command -v cc >/dev/null || need+=(build-essential)
# moto and the AWS CLI (and the model fetch) live in a Python venv: python3 with venv and pip.
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# TLS roots for the registry and PyPI downloads.
[[ -e /etc/ssl/certs/ca-certificates.crt ]] || need+=(ca-certificates)

if [[ "$job" == test ]]; then
    # The playbook library tests make real Git repositories.
    command -v git >/dev/null || need+=(git)
    # The planning server's tests run a real Redis.
    command -v redis-server >/dev/null || need+=(redis-server)
    # The keychain tests: a real Secret Service (gnome-keyring on a private D-Bus) and the
    # kernel keyring (keyctl).
    command -v dbus-daemon >/dev/null || need+=(dbus-daemon)
    command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
    command -v keyctl >/dev/null || need+=(keyutils)
    # The desktop app: the webview and GTK libraries it links, Xvfb and WebKitWebDriver for
    # its end-to-end tests (scripts/e2e-desktop.sh). Node.js for its web UI is not a system
    # package here: Debian 12's is too old, and scripts/fetch-node.sh provides one.
    for lib in webkit2gtk-4.1 gtk+-3.0 librsvg-2.0 ayatana-appindicator3-0.1 openssl; do
        pkg-config --exists "$lib" 2>/dev/null || {
            need+=(pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev
                libayatana-appindicator3-dev libxdo-dev libssl-dev)
            break
        }
    done
    command -v Xvfb >/dev/null || need+=(xvfb xauth)
    command -v WebKitWebDriver >/dev/null || need+=(webkit2gtk-driver)
fi

((${#need[@]})) || exit 0

line="apt-get update && apt-get install -y --no-install-recommends ${need[*]}"
if ((check_only)); then
    echo "missing system packages for the $job: ${need[*]}" >&2
    echo "install them with: sudo sh -c '$line'" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "error: missing system packages (Debian/Ubuntu names): ${need[*]}" >&2
    echo "install the equivalents with your package manager, then run this again" >&2
    exit 1
fi
if ((EUID == 0)); then
    sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "error: missing system packages for the $job: ${need[*]}" >&2
    echo "install them with: sudo sh -c '$line'" >&2
    exit 1
fi
echo "installing system packages for the $job: ${need[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${need[@]}"
