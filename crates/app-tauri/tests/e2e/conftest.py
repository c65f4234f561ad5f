"""Fixtures of the desktop E2E tests (one moto estate, one app session for the whole run)
and the end-of-run summary: search latency, memory, where the screenshots are."""

import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
import urllib3
from selenium.common.exceptions import WebDriverException

import browser
import harness
from harness import log


def _terminate(signum, _frame):
    # The script's `timeout` sends TERM: turn it into an interrupt so fixtures clean up.
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _terminate)


def pytest_configure(config):
    harness.CAPTURE = config.pluginmanager.getplugin("capturemanager")


class Results:
    """What the run measured, written to $CLOUDOPS_E2E_OUT/search-latency.json."""

    def __init__(self, out):
        self.out = Path(out)
        self.data = {"app": str(harness.APP_BIN), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                            time.gmtime())}
        self.screenshots = []

    def set(self, key, value):
        self.data[key] = value
        self.write()

    def write(self):
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "search-latency.json"
        path.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n")
        return path


RESULTS = Results(harness.OUT)
STATE = {}  # what later tests need from earlier ones, and the live session for failure dumps


@pytest.fixture(scope="session")
def results():
    return RESULTS


@pytest.fixture(scope="session")
def state():
    return STATE


@pytest.fixture(scope="session")
def out_dir():
    harness.OUT.mkdir(parents=True, exist_ok=True)
    for old in harness.OUT.glob("*.png"):
        old.unlink()
    return harness.OUT


@pytest.fixture(scope="session")
def logs(out_dir):
    path = out_dir / "logs"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def work():
    path = os.environ.get("CLOUDOPS_E2E_WORK")
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
        return
    path = Path(tempfile.mkdtemp(prefix="cloudops-e2e-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def estate(work, logs):
    """moto seeded with the seed-sized estate; the data directory configured for it."""
    home = work / "home"
    if home.exists():
        shutil.rmtree(home)
    moto = harness.start_moto(logs)
    try:
        manifest_path = work / "manifest.json"
        config = home / "config.toml"
        log(f"seeding moto at {moto.endpoint} (about a minute or two)")
        seconds = harness.seed(moto.endpoint, manifest_path, config, logs)
        harness.configure(config, moto.endpoint)
        manifest = json.loads(manifest_path.read_text())
        RESULTS.set("seed_seconds", round(seconds, 1))
        log(f"seeded in {seconds:.0f}s; config {config}")
        yield {"endpoint": moto.endpoint, "home": home, "config": config,
               "manifest": manifest, "moto": moto}
    finally:
        moto.stop()


@pytest.fixture(scope="session")
def display(logs):
    xvfb = harness.start_xvfb(logs)
    log(f"Xvfb on {xvfb.display}")
    yield xvfb.display
    xvfb.stop()


@pytest.fixture(scope="session")
def app(estate, display, work, logs):
    """The app under tauri-driver: a WebDriver session, with the app's pid."""
    if not harness.APP_BIN.exists():
        pytest.fail(f"the app is not built: {harness.APP_BIN} (set CLOUDOPS_DESKTOP_BIN or "
                    "cargo build -p app-tauri)")
    runtime_dir = work / "xdg-runtime"
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    env = harness.app_environment(os.environ, display, estate["home"], runtime_dir,
                                  estate["endpoint"])
    driver = harness.start_tauri_driver(env, logs)
    session = None
    pid = None
    try:
        try:
            session = browser.start_session(driver.url, harness.APP_BIN, harness.APP_ARGS)
        except (WebDriverException, urllib3.exceptions.HTTPError, OSError) as error:
            raise RuntimeError(f"no WebDriver session (an app that does not allow automation "
                               f"makes this time out): {error}\n{driver.tail()}") from None
        if harness.START_URL:
            # Only for checking the harness itself with another WebKitGTK browser.
            session.get(harness.START_URL.replace("{home}", str(estate["home"])))
        pids = []
        deadline = time.monotonic() + 15
        while not pids and time.monotonic() < deadline:
            pids = harness.find_processes(harness.APP_BIN.name, ancestor=driver.pid)
            time.sleep(0.1)
        pid = pids[0] if pids else None
        if pid:
            harness.note_pid(pid, harness.APP_BIN.name)
        log(f"session {session.session_id}; app pid {pid}")
        handle = {"session": session, "pid": pid, "env": env, "driver": driver,
                  "home": estate["home"]}
        STATE["app"] = handle
        yield handle
    finally:
        STATE.pop("app", None)
        if session is not None:
            browser.quit_session(session)
        driver.stop()
        if pid and harness.proc_argv0_name(pid) == harness.APP_BIN.name:
            os.kill(pid, signal.SIGKILL)


# -- reporting -----------------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        handle = STATE.get("app")
        if handle is None:
            return
        pid = handle.get("pid")
        if pid and harness.proc_argv0_name(pid) != harness.APP_BIN.name:
            # WebKitWebDriver then answers "invalid session id"; WebKit's own SIGSEGV handler
            # means a crash may leave no message in the app's stderr (logs/tauri-driver.log).
            report.sections.append(("e2e", f"the app (pid {pid}) is gone: it crashed or "
                                           f"exited; its stderr is in "
                                           f"{harness.OUT / 'logs' / 'tauri-driver.log'}"))
            return
        name = item.name.replace("/", "_")
        try:
            path = harness.OUT / f"failure-{name}.png"
            browser.save_screenshot(handle["session"], path)
            (harness.OUT / f"failure-{name}.html").write_text(handle["session"].page_source)
            report.sections.append(("e2e", f"screenshot and page source: {path} (.html)"))
        except Exception as error:  # noqa: BLE001 - best effort, never hides the failure
            report.sections.append(("e2e", f"no failure screenshot: {error}"))


def pytest_terminal_summary(terminalreporter):
    data = RESULTS.data
    write = terminalreporter.write_line
    terminalreporter.section("CloudOps desktop E2E")
    search = data.get("search")
    if search:
        write(f"search-as-you-type, first answers: {search['count']} renders, p50 "
              f"{search['p50_ms']:.1f} ms, p99 {search['p99_ms']:.1f} ms, "
              f"max {search['max_ms']:.1f} ms")
        settled = search.get("settled")
        if settled:
            write(f"search-as-you-type, settled answers: {settled['count']} renders "
                  f"({search['refined']} refined by the full lookup), p50 "
                  f"{settled['p50_ms']:.1f} ms, p99 {settled['p99_ms']:.1f} ms")
    for key, label in (("rss_after_sync_kib", "after sync"),
                       ("rss_after_search_kib", "after search (model loaded)")):
        if data.get("memory", {}).get(key) is not None:
            write(f"cloudops-desktop VmRSS {label}: {data['memory'][key] / 1024:.0f} MiB")
        total = data.get("memory", {}).get(key.replace("rss_", "app_total_pss_"))
        if total is not None:
            write(f"  the app with its WebKit processes, PSS {label}: {total / 1024:.0f} MiB")
    if data.get("sync_seconds") is not None:
        write(f"sync (UI, press to summary): {data['sync_seconds']:.0f}s")
    if data.get("risk_level"):
        write(f"plan risk level for 'Stop pg-instance-main1': {data['risk_level']}")
    shots = sorted(harness.OUT.glob("*.png")) if harness.OUT.exists() else []
    write(f"results: {RESULTS.write()}")
    write(f"screenshots ({len(shots)}) in {harness.OUT}: " + ", ".join(p.name for p in shots))
    write(f"logs: {harness.OUT / 'logs'}")
