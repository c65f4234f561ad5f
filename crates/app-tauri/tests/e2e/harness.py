"""Processes and paths for the desktop E2E tests: moto, the seeder, Xvfb, tauri-driver and
the app under test, each started with a bounded wait, logged to a file, and stopped by the
fixture that started it (the pids are also appended to `$CLOUDOPS_E2E_PIDFILE`, so
`scripts/e2e-desktop.sh` can stop whatever an interrupted run left behind)."""

import json
import os
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
HOME = Path(os.environ.get("HOME", "/root"))
CACHE = HOME / ".cache" / "cloudops"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target"))
VENV = Path(os.environ.get("CLOUDOPS_VENV", CACHE / "venv"))

APP_BIN = Path(os.environ.get("CLOUDOPS_DESKTOP_BIN", TARGET / "release" / "cloudops-desktop"))
# Arguments for the app (tauri:options args), and a page to open first: both empty for the
# real app; set only to check the harness itself against another WebKitGTK browser
# (MiniBrowser needs `--automation`).
APP_ARGS = shlex.split(os.environ.get("CLOUDOPS_DESKTOP_ARGS", ""))
START_URL = os.environ.get("CLOUDOPS_E2E_START_URL", "")
OUT = Path(os.environ.get("CLOUDOPS_E2E_OUT", TARGET / "e2e-screenshots"))
PIDFILE = os.environ.get("CLOUDOPS_E2E_PIDFILE")


def env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value else default


SEED_TIMEOUT = env_float("CLOUDOPS_E2E_SEED_TIMEOUT", 600)
SYNC_TIMEOUT = env_float("CLOUDOPS_E2E_SYNC_TIMEOUT", 300)
EXECUTION_TIMEOUT = env_float("CLOUDOPS_E2E_EXECUTION_TIMEOUT", 300)
PLAN_TIMEOUT = env_float("CLOUDOPS_E2E_PLAN_TIMEOUT", 90)
SEARCH_TIMEOUT = env_float("CLOUDOPS_E2E_SEARCH_TIMEOUT", 30)


def which(name, *fallbacks):
    for candidate in fallbacks:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout, process=None, what="a server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening "
                               f"on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def note_pid(pid, name):
    if PIDFILE:
        with open(PIDFILE, "a") as out:
            out.write(f"{pid} {name}\n")


class Process:
    """A child process with its output in `log`; `stop()` ends it (TERM, then KILL)."""

    def __init__(self, name, argv, log, env=None, **popen):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                      stderr=subprocess.STDOUT, env=env, **popen)
        self.pid = self.popen.pid
        note_pid(self.pid, Path(self.argv[0]).name)

    def poll(self):
        return self.popen.poll()

    @property
    def returncode(self):
        return self.popen.returncode

    def stop(self, grace=10):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self.log.close()

    def tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# -- /proc ---------------------------------------------------------------------------------

def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def proc_parent(pid):
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses.
    return int(stat[stat.rindex(b")") + 2:].split()[1])


def proc_descends_from(pid, ancestor):
    seen = 0
    while pid and pid > 1 and seen < 64:
        if pid == ancestor:
            return True
        pid = proc_parent(pid)
        seen += 1
    return False


def proc_argv0_name(pid):
    cmdline = _read(f"/proc/{pid}/cmdline")
    if not cmdline:
        return None
    return os.path.basename(cmdline.split(b"\0")[0].decode(errors="replace"))


def find_processes(name, ancestor=None):
    """Pids whose argv[0] is `name` (by file name), optionally under `ancestor`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if proc_argv0_name(pid) != name:
            continue
        if ancestor is None or proc_descends_from(pid, ancestor):
            found.append(pid)
    return sorted(found)


def proc_descendants(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = proc_parent(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def memory_kib(pid):
    """What a process holds, in KiB: RSS and its anonymous / file-backed parts (status), and
    the proportional set size (smaps_rollup), which splits shared library pages among their
    users."""
    out = {}
    status = _read(f"/proc/{pid}/status")
    for line in (status or b"").decode(errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            out[key] = int(value.split()[0])
    rollup = _read(f"/proc/{pid}/smaps_rollup")
    for line in (rollup or b"").decode(errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key == "Pss":
            out["Pss"] = int(value.split()[0])
    return out


def largest_mappings_kib(pid, count=12):
    """Where the resident memory is, in KiB: RSS summed per mapped file (anonymous mappings
    as "[anon]", the heap as "[heap]"), largest first."""
    totals = {}
    current = None
    for line in (_read(f"/proc/{pid}/smaps") or b"").decode(errors="replace").splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and not fields[0].endswith(":"):
            current = fields[5] if len(fields) > 5 else "[anon]"
        elif fields[:1] == ["Rss:"] and current is not None:
            totals[current] = totals.get(current, 0) + int(fields[1])
    largest = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:count]
    return [{"mapping": name, "rss_kib": kib} for name, kib in largest]


def save_memory_map(pid, path):
    """Copies /proc/<pid>/smaps (every mapping with its resident, shared and dirty sizes) to
    `path`, for finding where memory goes (CLOUDOPS_E2E_SMAPS=1)."""
    Path(path).write_bytes(_read(f"/proc/{pid}/smaps") or b"")


# The OpenGL stack a Mesa install maps: the drivers, their LLVM and the vendor libraries.
GL_DRIVER_MARKERS = ("libLLVM", "_dri.so", "libgallium", "libGLX_mesa", "libEGL_mesa")


def gl_driver_mappings(pid):
    """The mapped files of `pid` that belong to the GL drivers (see GL_DRIVER_MARKERS)."""
    found = set()
    for line in (_read(f"/proc/{pid}/maps") or b"").decode(errors="replace").splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and any(m in os.path.basename(fields[5]) for m in GL_DRIVER_MARKERS):
            found.add(fields[5].strip())
    return sorted(found)


def proc_environ(pid):
    raw = _read(f"/proc/{pid}/environ") or b""
    env = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            key, _, value = item.partition(b"=")
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


# -- the pieces ----------------------------------------------------------------------------

def start_moto(logs):
    server = VENV / "bin" / "moto_server"
    if not server.exists():
        raise RuntimeError(f"{server} missing: run scripts/fetch-aws-tools.sh")
    port = free_port()
    moto = Process("moto", [server, "-H", "127.0.0.1", "-p", port], logs / "moto.log")
    wait_port(port, 60, moto, "moto_server")
    moto.endpoint = f"http://127.0.0.1:{port}"
    return moto


def seed(endpoint, manifest, config, logs):
    """scripts/seed-moto.py: the 3,187-resource estate, its manifest and config.toml."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    started = time.monotonic()
    with open(logs / "seed.log", "wb") as log:
        done = subprocess.run(
            [str(VENV / "bin" / "python"), str(REPO / "scripts" / "seed-moto.py"),
             "--endpoint", endpoint, "--manifest", str(manifest), "--config", str(config),
             "--cloudops", os.environ.get("CLOUDOPS_BIN", str(TARGET / "release" / "cloudops"))],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            timeout=SEED_TIMEOUT)
    if done.returncode != 0:
        tail = (logs / "seed.log").read_text(errors="replace").splitlines()[-20:]
        raise RuntimeError("seed-moto.py failed:\n" + "\n".join(tail))
    return time.monotonic() - started


def configure(config, endpoint):
    """What the seeder's config.toml lacks for the app: the endpoint (as the CLI's `ask`
    tests set it), the venv's AWS CLI for the executor, and short verification polls."""
    with open(config, "a") as out:
        out.write(
            "\n# Added by crates/app-tauri/tests/e2e (the desktop E2E run).\n"
            "[sync]\n"
            f'endpoint_url = "{endpoint}"\n'
            "cloudtrail = false\n"
            "\n"
            "[ask]\n"
            f'aws_cli = "{VENV / "bin" / "aws"}"\n'
            "expect_interval_secs = 1\n"
            "expect_timeout_secs = 120\n")


def start_xvfb(logs):
    xvfb = which("Xvfb")
    if not xvfb:
        raise RuntimeError("Xvfb not found (Debian package xvfb)")
    read_end, write_end = os.pipe()
    process = Process("xvfb", [xvfb, "-displayfd", str(write_end), "-screen", "0",
                               "1600x1000x24", "-nolisten", "tcp", "-noreset"],
                      logs / "xvfb.log", pass_fds=(write_end,))
    os.close(write_end)
    data = b""
    deadline = time.monotonic() + 30
    try:
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                process.stop()
                raise RuntimeError(f"Xvfb did not start:\n{process.tail()}")
            ready, _, _ = select.select([read_end], [], [], left)
            if ready:
                chunk = os.read(read_end, 64)
                if not chunk:
                    process.stop()
                    raise RuntimeError(f"Xvfb did not report its display:\n{process.tail()}")
                data += chunk
    finally:
        os.close(read_end)
    process.display = f":{int(data.strip())}"
    return process


def app_environment(base, display, home, runtime_dir, endpoint):
    """The environment tauri-driver passes on to WebKitWebDriver, which starts the app with
    it (the capabilities carry no environment)."""
    env = {k: v for k, v in base.items()
           if not k.startswith("AWS_") and k not in ("WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
    env.update({
        "DISPLAY": display,
        "GDK_BACKEND": "x11",
        "XDG_RUNTIME_DIR": str(runtime_dir),
        "NO_AT_BRIDGE": "1",
        # Software rendering: Xvfb has no GPU, and WebKitGTK's DMA-BUF renderer paints blank.
        "WEBKIT_DISABLE_DMABUF_RENDERER": "1",
        "LIBGL_ALWAYS_SOFTWARE": "1",
        "CLOUDOPS_HOME": str(home),
        # A keychain that needs no desktop session, under a service name of this run only.
        "CLOUDOPS_KEYCHAIN": "kernel",
        "CLOUDOPS_KEYCHAIN_SERVICE": f"cloudops-e2e-{os.getpid()}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        # Also in config.toml ([sync] endpoint_url); here so nothing can reach real AWS.
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": str(Path(home).parent / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(Path(home).parent / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "RUST_BACKTRACE": "1",
        # anyhow's backtraces (tauri-driver logs one per refused connection): off.
        "RUST_LIB_BACKTRACE": "0",
    })
    return env


def start_tauri_driver(env, logs):
    driver = which("tauri-driver", os.environ.get("TAURI_DRIVER"),
                   CACHE / "tools" / "bin" / "tauri-driver", HOME / ".cargo" / "bin" / "tauri-driver")
    if not driver:
        raise RuntimeError("tauri-driver not found: scripts/e2e-desktop.sh installs it "
                           "(cargo install tauri-driver --version 2.1.0)")
    native = which("WebKitWebDriver", os.environ.get("WEBKIT_WEBDRIVER"), "/usr/bin/WebKitWebDriver")
    if not native:
        raise RuntimeError("WebKitWebDriver not found (Debian package webkit2gtk-driver)")
    port, native_port = free_port(), free_port()
    while native_port == port:
        native_port = free_port()
    process = Process("tauri-driver",
                      [driver, "--port", port, "--native-port", native_port,
                       "--native-driver", native],
                      logs / "tauri-driver.log", env=env)
    process.url = f"http://127.0.0.1:{port}"
    # tauri-driver listens at once and forwards to WebKitWebDriver, which takes a moment.
    wait_port(native_port, 60, process, "WebKitWebDriver (under tauri-driver)")
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"tauri-driver exited with {process.returncode}:\n"
                               f"{process.tail()}")
        try:
            with urllib.request.urlopen(process.url + "/status", timeout=5) as answer:
                status = json.loads(answer.read())
                if status.get("value", {}).get("ready", True):
                    break
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            process.stop()
            raise RuntimeError(f"tauri-driver/WebKitWebDriver not ready:\n{process.tail()}")
        time.sleep(0.2)
    return process


def percentile(values, fraction):
    """Nearest-rank percentile of `values` (fraction in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]


CAPTURE = None  # pytest's capture manager, set by conftest.py


def log(message):
    """A progress line, shown live (past pytest's output capture)."""
    line = f"[e2e] {message}"
    if CAPTURE is None:
        print(line, file=sys.stderr, flush=True)
        return
    with CAPTURE.global_and_fixture_disabled():
        print(line, file=sys.stderr, flush=True)
