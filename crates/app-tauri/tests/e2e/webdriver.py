"""A small W3C WebDriver client (urllib only) for the desktop E2E tests.

It speaks to tauri-driver, which turns `tauri:options` into WebKitWebDriver's
`webkitgtk:browserOptions` and forwards every other request unchanged. Elements are found by
CSS, almost always by `data-testid` (see `by_testid`).
"""

import base64
import http.client
import json
import time
import urllib.error
import urllib.request

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"

# WebDriver key codes (W3C "Keyboard actions").
ENTER = "\ue007"
TAB = "\ue004"
BACKSPACE = "\ue003"
ARROW_DOWN = "\ue015"
ARROW_UP = "\ue013"
CONTROL = "\ue009"


class WebDriverError(Exception):
    """An error answer of the remote end: `error` is the W3C error code."""

    def __init__(self, status, error, message, method="", path=""):
        super().__init__(f"{method} {path}: HTTP {status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message


class Timeout(AssertionError):
    """A wait that ran out: an assertion failure, so pytest reports what was waited for."""


def by_testid(testid, extra=""):
    """The CSS selector of `data-testid="testid"`, with optional more selector text."""
    return f'[data-testid="{testid}"]{extra}'


class Element:
    def __init__(self, session, element_id, selector=""):
        self.session = session
        self.id = element_id
        self.selector = selector

    def __repr__(self):
        return f"<Element {self.selector or self.id}>"

    def _path(self, suffix=""):
        return f"/element/{self.id}{suffix}"

    def find(self, css):
        return self.session._element(self._path("/element"), css)

    def find_all(self, css):
        return self.session._elements(self._path("/elements"), css)

    def testid(self, testid, extra=""):
        return self.find(by_testid(testid, extra))

    def testids(self, testid, extra=""):
        return self.find_all(by_testid(testid, extra))

    def click(self):
        self.session.post(self._path("/click"), {})

    def clear(self):
        self.session.post(self._path("/clear"), {})

    def send_keys(self, text):
        self.session.post(self._path("/value"), {"text": text})

    def type_slowly(self, text, pause=0.0):
        """One Element Send Keys per character: one input event each, like a person."""
        for char in text:
            self.send_keys(char)
            if pause:
                time.sleep(pause)

    @property
    def text(self):
        return self.session.get(self._path("/text"))

    def attribute(self, name):
        return self.session.get(self._path(f"/attribute/{name}"))

    def prop(self, name):
        return self.session.get(self._path(f"/property/{name}"))

    def enabled(self):
        return bool(self.session.get(self._path("/enabled")))

    def displayed(self):
        return bool(self.session.get(self._path("/displayed")))


class Session:
    """One WebDriver session. `Session.create(url, capabilities)` starts the app."""

    def __init__(self, base_url, session_id, capabilities, request_timeout=60):
        self.base_url = base_url.rstrip("/")
        self.id = session_id
        self.capabilities = capabilities
        self.request_timeout = request_timeout

    # -- transport ---------------------------------------------------------------------

    @staticmethod
    def request(base_url, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(base_url.rstrip("/") + path, data=data, method=method)
        req.add_header("Content-Type", "application/json; charset=utf-8")
        req.add_header("Accept", "application/json")
        for attempt in range(4):
            try:
                with urllib.request.urlopen(req, timeout=timeout) as answer:
                    raw = answer.read()
                    status = answer.status
                break
            except urllib.error.HTTPError as error:
                raw = error.read()
                status = error.code
                break
            except (ConnectionResetError, http.client.RemoteDisconnected,
                    urllib.error.URLError) as error:
                if isinstance(error, urllib.error.URLError) and not isinstance(
                        error.reason, ConnectionResetError):
                    raise
                # tauri-driver drops our connection when its pooled one to WebKitWebDriver
                # was reset under it (seen now and then): the request did not get through.
                if attempt == 3:
                    raise WebDriverError(0, "connection reset", str(error), method,
                                         path) from None
                time.sleep(0.3)
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            raise WebDriverError(status, "invalid json", raw[:500].decode(errors="replace"),
                                 method, path) from None
        value = payload.get("value") if isinstance(payload, dict) else None
        if status >= 400 or (isinstance(value, dict) and "error" in value
                             and isinstance(value.get("error"), str)):
            value = value if isinstance(value, dict) else {}
            raise WebDriverError(status, value.get("error", "unknown error"),
                                 value.get("message", raw[:500].decode(errors="replace")),
                                 method, path)
        return value

    @classmethod
    def create(cls, base_url, always_match, timeout=120):
        value = cls.request(base_url, "POST", "/session",
                            {"capabilities": {"alwaysMatch": always_match}}, timeout=timeout)
        return cls(base_url, value["sessionId"], value.get("capabilities", {}))

    def _call(self, method, path, body=None, timeout=None):
        return Session.request(self.base_url, method, f"/session/{self.id}{path}", body,
                               timeout or self.request_timeout)

    def get(self, path):
        return self._call("GET", path)

    def post(self, path, body=None, timeout=None):
        return self._call("POST", path, {} if body is None else body, timeout)

    def quit(self):
        try:
            self._call("DELETE", "", timeout=30)
        except (WebDriverError, OSError):
            pass

    # -- elements ----------------------------------------------------------------------

    def _element(self, path, css):
        value = self.post(path, {"using": "css selector", "value": css})
        return Element(self, value[ELEMENT_KEY], css)

    def _elements(self, path, css):
        value = self.post(path, {"using": "css selector", "value": css})
        return [Element(self, v[ELEMENT_KEY], css) for v in value]

    def find(self, css):
        return self._element("/element", css)

    def find_all(self, css):
        return self._elements("/elements", css)

    def testid(self, testid, extra=""):
        return self.find(by_testid(testid, extra))

    def testids(self, testid, extra=""):
        return self.find_all(by_testid(testid, extra))

    def active_element(self):
        value = self.get("/element/active")
        return Element(self, value[ELEMENT_KEY], "active")

    # -- page --------------------------------------------------------------------------

    def execute(self, script, *args):
        """Runs `script` (a function body; `arguments` holds args) and returns its value.
        Elements passed as args are sent as element references."""
        wire = [{ELEMENT_KEY: a.id} if isinstance(a, Element) else a for a in args]
        return self.post("/execute/sync", {"script": script, "args": wire})

    def execute_async(self, script, *args, timeout=30):
        wire = [{ELEMENT_KEY: a.id} if isinstance(a, Element) else a for a in args]
        return self.post("/execute/async", {"script": script, "args": wire}, timeout=timeout + 10)

    def set_timeouts(self, script_ms=30000, page_load_ms=60000, implicit_ms=0):
        self.post("/timeouts", {"script": script_ms, "pageLoad": page_load_ms,
                                "implicit": implicit_ms})

    def navigate(self, url):
        self.post("/url", {"url": url})

    def title(self):
        return self.get("/title")

    def url(self):
        return self.get("/url")

    def source(self):
        return self.get("/source")

    # WebKitGTK answers Take Screenshot after the page's next paint, and a page that does not
    # change is not painted again (on Xvfb the request then waits forever): so keep one
    # invisible pixel changing for a couple of seconds first. CSSOM, not inline CSS, so a
    # strict style-src CSP allows it.
    REPAINT = (
        "let d = document.getElementById('__e2e_repaint');"
        "if (!d) { d = document.createElement('div'); d.id = '__e2e_repaint';"
        "  Object.assign(d.style, {position: 'fixed', left: '0', top: '0', width: '1px',"
        "    height: '1px', pointerEvents: 'none', opacity: '0.01'});"
        "  document.documentElement.appendChild(d); }"
        "let n = 0; const step = () => { d.style.opacity = (n % 2) ? '0.01' : '0.02';"
        "  if (++n < 150) requestAnimationFrame(step); else d.remove(); };"
        "requestAnimationFrame(step);")

    def screenshot_png(self, timeout=30):
        last = None
        for _ in range(2):
            try:
                self.execute(self.REPAINT)
            except WebDriverError:
                pass
            try:
                return base64.b64decode(self._call("GET", "/screenshot", timeout=timeout))
            except OSError as error:  # a timeout: no paint came; kick again, once
                last = error
        raise WebDriverError(0, "timeout", f"no screenshot within {timeout}s twice: {last}",
                             "GET", "/screenshot")

    def save_screenshot(self, path):
        png = self.screenshot_png()
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise WebDriverError(0, "bad screenshot", "not a PNG", "GET", "/screenshot")
        with open(path, "wb") as out:
            out.write(png)
        return path

    def window_rect(self, width=None, height=None):
        if width and height:
            return self.post("/window/rect", {"width": width, "height": height})
        return self.get("/window/rect")

    # -- waiting -----------------------------------------------------------------------

    def wait_until(self, condition, timeout, what, interval=0.1):
        """Calls `condition()` until it returns something truthy (returned), or fails after
        `timeout` seconds saying `what` was waited for and the last exception seen.
        `no such element` and `stale element reference` answers count as "not yet"."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                value = condition()
                if value:
                    return value
                last = f"last value: {value!r}"
            except WebDriverError as error:
                if error.error not in ("no such element", "stale element reference"):
                    raise
                last = f"last error: {error.error}"
            if time.monotonic() >= deadline:
                raise Timeout(f"timed out after {timeout:.0f}s waiting for {what} ({last})")
            time.sleep(interval)

    def wait_for(self, css, timeout=10, what=None):
        """The first element matching `css`, once there is one."""
        return self.wait_until(lambda: self.find(css), timeout, what or f"element {css}")

    def wait_for_testid(self, testid, extra="", timeout=10):
        return self.wait_for(by_testid(testid, extra), timeout, f'data-testid="{testid}"{extra}')

    def wait_for_all(self, css, count=None, timeout=10, what=None):
        """The elements matching `css`, once there are at least one (or exactly `count`)."""

        def ready():
            found = self.find_all(css)
            if count is None:
                return found or None
            return found if len(found) == count else None

        return self.wait_until(ready, timeout, what or f"elements {css} (count {count})")

    def wait_attribute(self, css, name, accept, timeout=10, what=None):
        """The attribute `name` of the first `css` element, once `accept(value)` holds
        (`accept` may also be a plain value to compare with)."""
        test = accept if callable(accept) else (lambda v: v == accept)
        seen = []

        def ready():
            value = self.find(css).attribute(name)
            seen[:] = [value]
            return (value,) if test(value) else None

        try:
            return self.wait_until(ready, timeout, what or f"{css} [{name}]")[0]
        except Timeout as error:
            raise Timeout(f"{error}; last {name}={seen[0] if seen else None!r}") from None
