#!/usr/bin/env bash
# The project's test command (README "Quick start"): installs what the tests need that cargo
# does not (the embedding model), then runs formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

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

echo "== lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== test (default features)"
cargo test --workspace --locked

echo "== test (cloudops-core without the candle embedder)"
cargo test -p cloudops-core --no-default-features --locked

echo "== fuzz targets build"
cargo check --manifest-path fuzz/Cargo.toml --locked

echo "== desktop app end to end (the real app under Xvfb, WebDriver, moto)"
scripts/e2e-desktop.sh
