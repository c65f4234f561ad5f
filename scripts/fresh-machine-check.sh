#!/usr/bin/env bash
# The README's Quick start on a truly fresh machine: a clean Debian root made with debootstrap,
# holding only what the README asks for (Python 3, a C compiler, CA certificates), with this
# machine's Rust toolchain bind-mounted read-only and an empty cargo home and target dir.
# It clones the current commit into that root and runs the README's commands there, as root
# and without a terminal (as CI does), and prints how long each took.
#
#   sudo scripts/fresh-machine-check.sh            # both commands: demo, then the tests
#   sudo scripts/fresh-machine-check.sh demo       # only scripts/demo.sh
#   sudo scripts/fresh-machine-check.sh test       # only scripts/test.sh
#
# Env: FRESH_ROOT (default /var/tmp/cloudops-fresh; recreated), DEBIAN_SUITE (default
# bookworm), DEBIAN_MIRROR (default http://deb.debian.org/debian), RUSTUP_HOME and CARGO_HOME
# of the toolchain to lend (default ~/.rustup, ~/.cargo). Too slow for every CI run: a cold
# build of the tree on 2 cores takes most of an hour. Results: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-both}"
case "$what" in
demo | test | both) ;;
*) echo "usage: $0 [demo|test|both]" >&2; exit 2 ;;
esac
((EUID == 0)) || { echo "error: debootstrap and chroot need root (run with sudo)" >&2; exit 1; }
command -v debootstrap >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
}

fresh="${FRESH_ROOT:-/var/tmp/cloudops-fresh}"
suite="${DEBIAN_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
[[ -x "$cargo_bin/cargo" ]] || { echo "error: no cargo in $cargo_bin" >&2; exit 1; }

mounts=()
cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() { # bind SOURCE TARGET [ro]
    mkdir -p "$2"
    mount --bind "$1" "$2"
    mounts+=("$2")
    [[ "${3:-}" != ro ]] || mount -o remount,bind,ro "$2"
}

# An earlier run's mounts may be left if it was killed: unmount before deleting anything.
for mountpoint in $(awk -v root="$fresh/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$mountpoint"
done
rm -rf "$fresh"
mkdir -p "$fresh"
start=$(date +%s)
echo "== debootstrap $suite into $fresh (python3, build-essential, ca-certificates)"
debootstrap --variant=minbase --include=python3,build-essential,ca-certificates \
    "$suite" "$fresh" "$mirror" >"$fresh.debootstrap.log" 2>&1 ||
    { tail -20 "$fresh.debootstrap.log" >&2; exit 1; }
echo "   $(($(date +%s) - start)) s"

# The toolchain, read-only; everything cargo writes (registry, git checkouts, target) is new.
bind "$rustup_home" "$fresh/opt/rustup" ro
bind "$cargo_bin" "$fresh/opt/cargo-bin" ro
bind /proc "$fresh/proc"
bind /sys "$fresh/sys"
bind /dev "$fresh/dev"
bind /dev/pts "$fresh/dev/pts"
cp /etc/resolv.conf "$fresh/etc/resolv.conf"
# The one thing of the machine's set-up a fresh machine on the same network would share: the
# certificate authorities added locally (a TLS-inspecting proxy's, on corporate networks), and
# the variables that point tools at the system's bundle.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$fresh/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$fresh/usr/local/share/ca-certificates/"
    chroot "$fresh" update-ca-certificates >/dev/null 2>&1
fi
ca_env=()
for name in SSL_CERT_FILE SSL_CERT_DIR PIP_CERT REQUESTS_CA_BUNDLE CURL_CA_BUNDLE \
    NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO CARGO_HTTP_CAINFO; do
    [[ -z "${!name:-}" ]] || ca_env+=("$name=${!name}")
done
# What a user would clone: this commit, nothing of the working tree's state.
git clone --quiet --no-hardlinks "$PWD" "$fresh/root/cloudops"
git -C "$fresh/root/cloudops" checkout --quiet "$(git rev-parse HEAD)"

run() { # run NAME COMMAND
    local name="$1" command="$2" began rc=0
    echo "== $name: $command (in the fresh root)"
    began=$(date +%s)
    chroot "$fresh" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 CI=true "${ca_env[@]}" \
        PATH=/opt/cargo-bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        RUSTUP_HOME=/opt/rustup CARGO_HOME=/root/.cargo \
        bash -c "cd /root/cloudops && $command" </dev/null >"$fresh.$name.log" 2>&1 || rc=$?
    local took=$(($(date +%s) - began))
    printf '   %s: exit %d after %dm%02ds (log: %s)\n' "$name" "$rc" $((took / 60)) $((took % 60)) "$fresh.$name.log"
    ((rc == 0)) || { tail -30 "$fresh.$name.log" >&2; return "$rc"; }
}

status=0
[[ "$what" == test ]] || run demo scripts/demo.sh || status=1
[[ "$what" == demo ]] || run test scripts/test.sh || status=1
exit "$status"
