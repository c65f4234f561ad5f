"""The WebDriver side of the desktop E2E tests: a Selenium session with tauri-driver, and thin
helpers over Selenium for what the tests do again and again.

tauri-driver turns `tauri:options` into WebKitWebDriver's `webkitgtk:browserOptions` and
forwards every other request unchanged. Elements are found by CSS, almost always by
`data-testid` (see `by_testid`); attributes are read with `get_dom_attribute` (the DOM
attribute, as the page sets it) and properties with `get_property`.
"""

import time
from contextlib import contextmanager

import urllib3
from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException,
                                        StaleElementReferenceException, TimeoutException)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.common.proxy import Proxy, ProxyType
from selenium.webdriver.common.timeouts import Timeouts
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.file_detector import UselessFileDetector
from selenium.webdriver.remote.remote_connection import RemoteConnection
from selenium.webdriver.support.wait import WebDriverWait

REQUEST_TIMEOUT = 60  # seconds for one WebDriver request (a new session: 120)
NOT_YET = (NoSuchElementException, StaleElementReferenceException)


class Timeout(AssertionError):
    """A wait that ran out: an assertion failure, so pytest reports what was waited for."""


class _ResendDropped(urllib3.Retry):
    """tauri-driver now and then drops a connection without an answer (when its pooled one to
    WebKitWebDriver was reset under it): that request did not get through, so it is sent
    again, whatever its method, up to 3 times, 0.3 s apart. A timeout is not retried, nor a
    refused connection."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None,
                  _stacktrace=None):
        if isinstance(error, urllib3.exceptions.TimeoutError):  # incl. NewConnectionError
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self):
        return 0.3


def start_session(url, application, args=(), timeout=120):
    """A WebDriver session through the tauri-driver at `url`, which starts `application`."""
    options = ArgOptions()
    # The name wry gives WebKitWebDriver for the app (as in Tauri's WebDriver docs);
    # WebKitWebDriver refuses a session whose browserName is not the browser's.
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": str(application), "args": list(args)})
    config = ClientConfig(
        url, timeout=timeout, proxy=Proxy({"proxyType": ProxyType.DIRECT}),
        init_args_for_pool_manager={"init_args_for_pool_manager": {"retries": _ResendDropped(
            total=3, connect=0, read=3, status=0, other=0, allowed_methods=None)}})
    # No file detector: typed text that names a local file must not upload it.
    driver = webdriver.Remote(RemoteConnection(client_config=config), options=options,
                              file_detector=UselessFileDetector())
    config.timeout = REQUEST_TIMEOUT
    driver.timeouts = Timeouts(script=30, page_load=60, implicit_wait=0)
    return driver


@contextmanager
def request_timeout(driver, seconds):
    """Each WebDriver request within waits at most `seconds` for its answer."""
    config = driver.command_executor.client_config
    before, config.timeout = config.timeout, seconds
    try:
        yield
    finally:
        config.timeout = before


def quit_session(driver):
    try:
        with request_timeout(driver, 30):
            driver.quit()
    except Exception:  # noqa: BLE001 - the app may be gone already
        pass


# -- elements ------------------------------------------------------------------------------

def by_testid(testid, extra=""):
    """The CSS selector of `data-testid="testid"`, with optional more selector text."""
    return f'[data-testid="{testid}"]{extra}'


def find(context, css):
    """The first element matching `css` in `context` (the driver or an element)."""
    return context.find_element(By.CSS_SELECTOR, css)


def find_all(context, css):
    return context.find_elements(By.CSS_SELECTOR, css)


def find_testid(context, testid, extra=""):
    return find(context, by_testid(testid, extra))


def find_testids(context, testid, extra=""):
    return find_all(context, by_testid(testid, extra))


def type_slowly(element, text, pause=0.0):
    """One Element Send Keys per character: one input event each, like a person."""
    for char in text:
        element.send_keys(char)
        if pause:
            time.sleep(pause)


# -- waiting -------------------------------------------------------------------------------

def wait_until(driver, condition, timeout, what, interval=0.1):
    """Calls `condition()` until it returns something truthy (returned), or fails after
    `timeout` seconds saying `what` was waited for and the last value or error seen.
    No such element and stale element reference count as "not yet"."""
    last = []

    def check(_driver):
        try:
            value = condition()
        except NOT_YET as error:
            last[:] = [f"last error: {type(error).__name__}"]
            raise
        last[:] = [f"last value: {value!r}"]
        return value

    marker = f"e2e wait: {what}"
    try:
        return WebDriverWait(driver, timeout, poll_frequency=interval,
                             ignored_exceptions=NOT_YET).until(check, marker)
    except TimeoutException as error:
        if error.msg != marker:  # the remote end's timeout, not this wait's
            raise
        raise Timeout(f"timed out after {timeout:.0f}s waiting for {what} "
                      f"({last[0] if last else 'not checked'})") from None


def wait_for(driver, css, timeout=10, what=None):
    """The first element matching `css`, once there is one."""
    return wait_until(driver, lambda: find(driver, css), timeout, what or f"element {css}")


def wait_for_testid(driver, testid, extra="", timeout=10):
    return wait_for(driver, by_testid(testid, extra), timeout, f'data-testid="{testid}"{extra}')


def wait_for_all(driver, css, count=None, timeout=10, what=None):
    """The elements matching `css`, once there are at least one (or exactly `count`)."""

    def ready():
        found = find_all(driver, css)
        if count is None:
            return found or None
        return found if len(found) == count else None

    return wait_until(driver, ready, timeout, what or f"elements {css} (count {count})")


def wait_attribute(driver, css, name, accept, timeout=10, what=None):
    """The attribute `name` of the first `css` element, once `accept(value)` holds
    (`accept` may also be a plain value to compare with)."""
    test = accept if callable(accept) else (lambda v: v == accept)
    seen = []

    def ready():
        value = find(driver, css).get_dom_attribute(name)
        seen[:] = [value]
        return (value,) if test(value) else None

    try:
        return wait_until(driver, ready, timeout, what or f"{css} [{name}]")[0]
    except Timeout as error:
        raise Timeout(f"{error}; last {name}={seen[0] if seen else None!r}") from None


# -- screenshots ---------------------------------------------------------------------------

# WebKitGTK answers Take Screenshot after the page's next paint, and a page that does not
# change is not painted again (on Xvfb the request then waits forever): so keep one invisible
# pixel changing for a couple of seconds first. CSSOM, not inline CSS, so a strict style-src
# CSP allows it.
REPAINT = (
    "let d = document.getElementById('__e2e_repaint');"
    "if (!d) { d = document.createElement('div'); d.id = '__e2e_repaint';"
    "  Object.assign(d.style, {position: 'fixed', left: '0', top: '0', width: '1px',"
    "    height: '1px', pointerEvents: 'none', opacity: '0.01'});"
    "  document.documentElement.appendChild(d); }"
    "let n = 0; const step = () => { d.style.opacity = (n % 2) ? '0.01' : '0.02';"
    "  if (++n < 150) requestAnimationFrame(step); else d.remove(); };"
    "requestAnimationFrame(step);")


def screenshot_png(driver, timeout=30):
    last = None
    for _ in range(2):
        try:
            driver.execute_script(REPAINT)
        except Exception:  # noqa: BLE001 - the screenshot below says whether it mattered
            pass
        try:
            with request_timeout(driver, timeout):
                return driver.get_screenshot_as_png()
        except urllib3.exceptions.TimeoutError as error:  # no paint came; kick again, once
            last = error
    raise Timeout(f"no screenshot within {timeout}s twice: {last}")


def save_screenshot(driver, path):
    png = screenshot_png(driver)
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise AssertionError(f"the screenshot for {path} is not a PNG")
    with open(path, "wb") as out:
        out.write(png)
    return path
