#!/usr/bin/env bash
# The project's test command (README "Quick start"): installs what the tests need that cargo
# does not (the system packages, the embedding model, moto and the AWS CLI), then runs
# formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# The persistent target dir keeps every earlier build's test executables (each up to ~1 GB
# with line tables) and has filled the disk twice: each checkout path (a CI clone, a work tree)
# links its own set. Executables untouched for a day are stale
# builds: remove them (cargo relinks any it still needs; libraries are kept).
if [[ -d "$CARGO_TARGET_DIR" ]]; then
    echo "== prune stale test executables in $CARGO_TARGET_DIR"
    # (A new target dir has no deps folders yet: find's complaint about them is not an error.)
    { find "$CARGO_TARGET_DIR"/{release,debug}/deps -maxdepth 1 -type f -perm -u+x \
        ! -name '*.so' ! -name '*.rlib' ! -name '*.rmeta' -mmin +1440 -size +20M -print -delete 2>/dev/null || true; } |
        wc -l | xargs printf '%s removed\n'
    df -h "$CARGO_TARGET_DIR" | tail -1
fi

echo "== system packages"
scripts/system-deps.sh test

echo "== Node.js (the desktop's web UI)"
node_bin="$(scripts/fetch-node.sh)"
export PATH="$node_bin:$PATH"
node --version

echo "== model"
scripts/fetch-model.sh
# The evaluation must run with the model: fail rather than quietly test without it.
export CLOUDOPS_REQUIRE_MODEL=1

echo "== AWS stand-ins (moto, awscli)"
scripts/fetch-aws-tools.sh

echo "== desktop web UI (npm ci, type check, vitest)"
(cd crates/app-tauri/ui && npm ci --no-audit --no-fund && npm run check && npm test)

echo "== format"
cargo fmt --all -- --check

# Lints and tests in one compilation: clippy runs as the compiler of the workspace's own
# crates (what `cargo clippy` does, in check mode) inside the release build the tests use, so
# the dependency tree is compiled once, not a second time for a separate `cargo clippy` pass.
# Every target is linted: `--all-targets --no-run` also builds (and lints) the benchmarks and
# examples, which `cargo test` then does not run.
echo "== lint and build (clippy as the workspace's compiler, release profile, every target)"
clippy_driver="$(dirname "$(rustup which rustc 2>/dev/null || command -v rustc)")/clippy-driver"
[[ -x "$clippy_driver" ]] || { echo "error: no clippy-driver beside rustc (rustup component add clippy)" >&2; exit 1; }
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo test --workspace --release --locked --all-targets --no-run

# The tests run on the release profile: the build operators run (the desktop binary the
# end-to-end run tests below is the one this step builds), the embedding-heavy evaluation
# runs at full speed, and CI compiles the dependency tree once for lints and tests.
# The workspace's own crates keep overflow checks in release (Cargo.toml), tests included.
echo "== test (default features)"
cargo test --workspace --release --locked

# Core has no model at all; what remains to check without candle is the embed crate's
# fallback to the hashing embedder (the server's `--no-default-features` build).
echo "== test (cloudops-embed without candle)"
cargo test -p cloudops-embed --no-default-features --release --locked --lib

echo "== fuzz targets build"
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
cargo check --manifest-path fuzz/Cargo.toml --locked

echo "== desktop app end to end (the real app under Xvfb, WebDriver, moto)"
# The binary `cargo test` just built (app-tauri's integration test needs it), not a rebuild:
# `cargo build --bin` alone resolves other features and would recompile much of the tree.
CLOUDOPS_E2E_BUILD=0 CLOUDOPS_DESKTOP_BIN="$CARGO_TARGET_DIR/release/cloudops-desktop" \
    scripts/e2e-desktop.sh
