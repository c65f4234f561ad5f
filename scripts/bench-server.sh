#!/usr/bin/env bash
# Benchmarks cloudops-server: builds it in release mode, then for each setup (embedded or
# Redis metadata store; hashing embedder, and MiniLM when installed) starts it on a free
# port and runs wrk POSTing the design's example request to /v1/plan.
# Prints requests/s, p50/p99 latency and errors per setup; non-2xx responses must be 0.
# The MiniLM setups repeat one prompt, so the server's query-vector cache answers after the
# first request; the "uncached" setup varies every prompt to measure the model itself.
# Needs wrk, curl and redis-server (apt-get install -y wrk curl redis-server).
#
#   scripts/bench-server.sh                 # 20 s per setup, 2 threads, 32 connections
#   DURATION=5s scripts/bench-server.sh     # shorter
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
DURATION="${DURATION:-20s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
export BENCH_REQUEST="crates/cloudops-server/tests/server/design_request.json"

for tool in wrk curl redis-server; do
    if ! command -v "$tool" >/dev/null; then
        echo "bench-server: $tool is not installed (apt-get install -y wrk curl redis-server)" >&2
        exit 1
    fi
done

echo "== build (release)"
cargo build --release --locked -p cloudops-server
server_bin="$CARGO_TARGET_DIR/release/cloudops-server"

work="$(mktemp -d)"
server_pid=""
redis_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    [[ -n "$redis_pid" ]] && kill "$redis_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_redis() {
    local port
    port="$(free_port)"
    mkdir -p "$work/redis"
    (cd "$work/redis" && exec redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no) \
        >"$work/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            redis_url="redis://127.0.0.1:$port"
            return
        fi
        sleep 0.1
    done
    echo "bench-server: redis-server did not start" >&2
    exit 1
}

# start_server ARGS...: starts the server, sets server_pid and server_url.
start_server() {
    : >"$work/server.out"
    # The rate limiter stays on (so the Redis setup pays its round trip) with a limit no
    # benchmark reaches; logging as configured by default (one access log line per request).
    env -u RUST_LOG "$server_bin" --listen 127.0.0.1:0 --rate-limit 100000000 "$@" \
        >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    for _ in $(seq 600); do
        if line="$(grep -m1 '^listening on ' "$work/server.out")"; then
            server_url="${line#listening on }"
            return
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            cat "$work/server.err" >&2
            echo "bench-server: the server exited before listening" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "bench-server: the server did not listen within 60 s" >&2
    exit 1
}

stop_server() {
    kill -TERM "$server_pid"
    wait "$server_pid"
    server_pid=""
}

results=()

# bench LABEL ARGS...: one setup. BENCH_UNIQUE=1 in the environment varies every prompt.
bench() {
    local label="$1"
    shift
    echo "== $label"
    start_server "$@"
    # One checked request first: the benchmark must measure plans, not errors.
    if ! curl -sf -H 'content-type: application/json' --data-binary "@$BENCH_REQUEST" \
        "$server_url/v1/plan" | grep -q '"command":"aws rds stop-db-instance"'; then
        echo "bench-server: $label: the warm-up request did not get the expected plan" >&2
        exit 1
    fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s scripts/bench-server.lua --latency \
        "$server_url/v1/plan" | tee "$work/wrk.txt"
    local result
    result="$(grep '^RESULT ' "$work/wrk.txt")"
    curl -sf "$server_url/metrics" | grep -E '^cloudops_plan_duration_seconds_(sum|count) ' || true
    stop_server
    results+=("$(printf '%-28s %s' "$label" "${result#RESULT }")")
}

bench "embedded, hashing" --embedder hashing
start_redis
bench "redis, hashing" --embedder hashing --metadata-url "$redis_url"
model_dir="${CLOUDOPS_MODEL_DIR:-$HOME/.cache/cloudops/models/all-MiniLM-L6-v2}"
if [[ -f "$model_dir/model.safetensors" ]]; then
    bench "embedded, MiniLM" --embedder minilm
    bench "redis, MiniLM" --embedder minilm --metadata-url "$redis_url"
    # Every prompt different: the model runs for every request.
    BENCH_UNIQUE=1 bench "embedded, MiniLM, uncached" --embedder minilm
    BENCH_UNIQUE=1 bench "embedded, hashing, every prompt different" --embedder hashing
else
    echo "== MiniLM not installed (scripts/fetch-model.sh): skipping the model setups"
fi

echo
echo "== summary ($(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION; target >= 1000 plans/s, p99 <= 20 ms, non2xx = 0)"
failed=0
for line in "${results[@]}"; do
    echo "$line"
    if [[ "$line" != *" non2xx=0 "* ]]; then
        failed=1
    fi
done
if ((failed)); then
    echo "bench-server: some responses were not 2xx" >&2
    exit 1
fi
