"""The Chrome DevTools protocol over --remote-debugging-pipe, for tests that open pages in
headless Chromium (the report, the dashboard): no websocket library, no browser download."""

from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which(
    "google-chrome")


class DevTools:
    """The Chrome DevTools protocol over --remote-debugging-pipe (fds 3 and 4)."""

    def __init__(self, args: list[str]) -> None:
        to_chrome_r, self._to_chrome = _high_pipe()
        self._from_chrome, from_chrome_w = _high_pipe()
        cmd = " ".join(_quote(a) for a in args)
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec {cmd} 3<&{to_chrome_r} 4>&{from_chrome_w}"],
            pass_fds=(to_chrome_r, from_chrome_w), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.profile: str | None = None
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.replies: dict[int, dict[str, Any]] = {}
        self._next = 0
        self._lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        while True:
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        self.replies[msg["id"]] = msg
                        self._lock.notify_all()
                else:
                    self.events.put(msg)

    @classmethod
    def headless(cls, width: int, height: int) -> DevTools:
        """Debian's Chromium, headless, offline (no background networking), in a fresh
        profile that `close` removes."""
        assert CHROMIUM is not None, "chromium not installed (Debian: chromium)"
        profile = tempfile.mkdtemp(prefix="truceline-chromium-")
        browser = cls([
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--remote-debugging-pipe",
            f"--window-size={width},{height}", "about:blank"])
        browser.profile = profile
        return browser

    def new_page(self, *domains: str) -> str:
        """A blank tab with the given domains enabled; returns its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        for domain in domains:
            self.send(f"{domain}.enable", session=session)
        return session

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 20.0) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._next not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no reply to {method}")
                self._lock.wait(left)
            reply = self.replies.pop(self._next)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        if getattr(self, "profile", None):
            shutil.rmtree(self.profile, ignore_errors=True)


def _high_pipe() -> tuple[int, int]:
    """A pipe whose fds are >= 10, so the shell's 3</4> redirections cannot clobber them."""
    r, w = os.pipe()
    hr, hw = fcntl.fcntl(r, fcntl.F_DUPFD, 10), fcntl.fcntl(w, fcntl.F_DUPFD, 10)
    os.close(r)
    os.close(w)
    return hr, hw


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"
