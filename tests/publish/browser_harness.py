"""A page loaded in headless Chromium (`devtools.DevTools`), for the tests that click.

`open_page` loads a file, records every network request and console message, and hands
back a `Page` to evaluate JavaScript, click with real mouse events and take screenshots.
"""

from __future__ import annotations

import base64
import json
import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools import CHROMIUM, DevTools

SKIP_REASON = "chromium not installed (Debian: chromium)"


@dataclass
class Page:
    """A loaded page: what it requested and logged, and ways to poke at it."""

    browser: DevTools
    session: str
    url: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def drain(self) -> None:
        """Move pending browser events into `requests` and `console`."""
        while not self.browser.events.empty():
            self._note(self.browser.events.get())

    def _note(self, ev: dict[str, Any]) -> None:
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method in ("Log.entryAdded", "Runtime.consoleAPICalled",
                        "Runtime.exceptionThrown"):
            self.console.append(json.dumps(params)[:400])

    def evaluate(self, expression: str, timeout: float = 20.0) -> Any:
        reply = self.browser.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session, timeout=timeout)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression[:80]}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"never true: {expression}")

    def click(self, x: float, y: float) -> None:
        """A real mouse click (move, press, release) at page coordinates."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.browser.send("Input.dispatchMouseEvent", {
                "type": kind, "x": x, "y": y, "button": "left" if kind != "mouseMoved"
                else "none", "clickCount": 1}, session=self.session)
            time.sleep(0.05)

    def screenshot(self) -> bytes:
        return base64.b64decode(self.browser.send("Page.captureScreenshot", {
            "format": "png"}, session=self.session)["data"])


@contextmanager
def open_page(path: Path, *, width: int = 1280, height: int = 1800) -> Iterator[Page]:
    """Load `path` over file:// in headless Chromium; yield the `Page` once loaded."""
    assert CHROMIUM is not None, SKIP_REASON
    browser = DevTools.headless(width, height)
    try:
        session = browser.new_page("Network", "Page", "Log", "Runtime")
        url = Path(path).resolve().as_uri()
        page = Page(browser, session, url)
        browser.send("Page.navigate", {"url": url}, session=session)
        loaded = False
        deadline = time.monotonic() + 60
        while not loaded and time.monotonic() < deadline:
            try:
                ev = browser.events.get(timeout=1)
            except queue.Empty:
                continue
            page._note(ev)
            loaded = ev.get("method") == "Page.loadEventFired"
        assert loaded, "the page never finished loading"
        time.sleep(0.3)  # let late requests (fonts, lazy images) show up
        page.drain()
        yield page
    finally:
        browser.close()
