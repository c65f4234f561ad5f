#!/usr/bin/env bash
# A question answered end to end by a new `cloudops` process, on the demo estate (3,187
# resources imported, no AWS needed): `cloudops ask QUESTION` and the same count through
# `cloudops query`, with the MiniLM model installed and configured (what operators run) and
# with `[estate] semantic = false` (no model at all). A question embeds nothing, so the two
# should cost the same: the model is loaded only when something is embedded.
#
#   scripts/bench-question.sh [RUNS]     (default 20; the release build the tests use)
#   CLOUDOPS_BIN=path/to/cloudops scripts/bench-question.sh
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-20}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
if [[ -z "${CLOUDOPS_BIN:-}" ]]; then
    cargo build --workspace --release --locked --bins -q
fi
cloudops="${CLOUDOPS_BIN:-$CARGO_TARGET_DIR/release/cloudops}"
command -v hyperfine >/dev/null || { echo "error: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
scripts/fetch-model.sh >/dev/null
model="${CLOUDOPS_MODEL_DIR:-$HOME/.cache/cloudops/models/all-MiniLM-L6-v2}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$cloudops" estate demo >"$work/estate.jsonl"
for kind in model none; do
    mkdir -p "$work/$kind"
    if [[ "$kind" == model ]]; then
        printf '[estate]\nsemantic = true\nmodel_dir = "%s"\n' "$model" >"$work/$kind/config.toml"
    else
        printf '[estate]\nsemantic = false\n' >"$work/$kind/config.toml"
    fi
    "$cloudops" --home "$work/$kind" estate import "$work/estate.jsonl" >/dev/null
done

question="how many databases have no backups per region?"
hyperfine --style basic --warmup 2 --runs "$runs" --export-markdown "$work/results.md" \
    -n "ask, model installed" "$cloudops --home $work/model ask '$question'" \
    -n "ask, no model" "$cloudops --home $work/none ask '$question'" \
    -n "query --count, model installed" "$cloudops --home $work/model query 'type:rds_instance automated_backups_enabled=false' --count --group-by region" \
    -n "find (embeds the query), model installed" "$cloudops --home $work/model find 'the database with the postgres dumps' --limit 3" \
    >/dev/null
cat "$work/results.md"
