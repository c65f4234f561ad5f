# Sourced by the scripts that need a local AWS stand-in (demo, benchmarks).
# `start_moto LOG` starts moto (from the venv of scripts/fetch-aws-tools.sh) on a free port,
# waits until it listens, and sets MOTO_PID and MOTO_ENDPOINT; the caller's EXIT trap stops it.
start_moto() {
    local venv="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}" port
    port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$1" 2>&1 &
    MOTO_PID=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    MOTO_ENDPOINT="http://127.0.0.1:$port"
}
