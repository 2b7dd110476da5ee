"""The dashboard in headless Chromium against a live server on 127.0.0.1: it loads, the
slider moves the day, a click on an incident opens its panel, and no request leaves
127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import queue
import socket
import threading
import time

import pytest
import uvicorn

from devtools import CHROMIUM, DevTools
from truceline.service.app import create_app
from truceline.service.settings import Settings


@pytest.fixture(scope="module")
def server(api_lake, tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings.from_env(api_lake.root, public_read=True,
                                       uploads_dir=tmp_path_factory.mktemp("dash-up")))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _eval(browser: DevTools, session: str, js: str):
    r = browser.send("Runtime.evaluate", {"expression": js, "returnByValue": True,
                                          "awaitPromise": True}, session=session)
    return r["result"].get("value")


def _wait_for(browser, session, js, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = _eval(browser, session, js)
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {js}; status: "
                         f"{_eval(browser, session, 'document.body.innerText')[:500]}")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
def test_dashboard_loads_slides_opens_an_incident_offline(server, tmp_path):
    browser = DevTools.headless(1400, 900)
    try:
        session = browser.new_page("Network", "Page", "Runtime")
        browser.send("Emulation.setDeviceMetricsOverride", {
            "width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=session)
        browser.send("Page.navigate", {"url": server + "/"}, session=session)
        status = "document.getElementById('status').textContent"
        _wait_for(browser, session, f"{status}.includes('incidents in the 7 days')")
        first = _eval(browser, session, f"{status}")
        assert first.startswith("2025-08-30:"), first  # the agreement's last window day
        assert "VIOLATED" in _eval(browser, session, "document.body.innerText").upper() or \
            "NOT ASSESSED" in _eval(browser, session, "document.body.innerText").upper()
        # move the slider back to 2025-08-25
        _eval(browser, session, """(() => { const s = document.getElementById('slider');
            s.value = state.days.indexOf('2025-08-25');
            s.dispatchEvent(new Event('input')); return true; })()""")
        _wait_for(browser, session, f"{status}.startsWith('2025-08-25: ')")
        n = int(_eval(browser, session, f"{status}").split(": ")[1].split()[0])
        assert n > 10
        # click the first incident where Plotly draws it
        x, y = _wait_for(browser, session, """(() => {
            const gd = document.getElementById('map'), fl = gd._fullLayout;
            const f = state.incidents.find(f => f.properties.phase === 'during');
            if (!f) return null;
            const [lon, lat] = f.geometry.coordinates, r = gd.getBoundingClientRect();
            return [r.left + fl.xaxis._offset + fl.xaxis.l2p(lon),
                    r.top + fl.yaxis._offset + fl.yaxis.l2p(lat)]; })()""")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            browser.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                      "button": "left", "clickCount": 1},
                         session=session)
            time.sleep(0.2)
        panel = _wait_for(browser, session, """(() => { const t =
            document.getElementById('incident').innerText;
            return t.includes('first (UTC)') ? t : null; })()""", timeout=20)
        assert "km to the line" in panel and "p_natural" in panel and "during" in panel
        link = _eval(browser, session, "document.getElementById('worldview').href")
        assert link.startswith("https://worldview.earthdata.nasa.gov/?v=")
        firms = _eval(browser, session, "document.getElementById('firms').href")
        assert firms.startswith("https://firms.modaps.eosdis.nasa.gov/map/#d:2025-08-")
        # a violation that rests on the maps' motion is marked in the agreements' list,
        # one that stands without the moving front's incidents is not
        marks = _eval(browser, session, """(() => {
            const a = state.agreements[0], keep = [a.watch, a.latest_assessment], out = [];
            for (const w of ["inconclusive", "violated"]) {
              a.watch = null;
              a.latest_assessment = {verdict: "violated", verdict_without_moved_test: w};
              renderAgreements();
              out.push(document.getElementById('agreementList').innerText);
            }
            [a.watch, a.latest_assessment] = keep; renderAgreements(); return out; })()""")
        assert "rests on the maps' motion" in marks[0]
        assert "rests on the maps' motion" not in marks[1]
        shot = base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"},
                                             session=session)["data"])
        requests = []
        while True:
            try:
                ev = browser.events.get_nowait()
            except queue.Empty:
                break
            if ev.get("method") == "Network.requestWillBeSent":
                requests.append(ev["params"]["request"]["url"])
    finally:
        browser.close()
    out = os.environ.get("TRUCELINE_SCREENSHOTS")
    (tmp_path / "dashboard.png").write_bytes(shot)
    if out:
        (tmp_path / "dashboard.png").replace(os.path.join(out, "dashboard.png"))
    leaving = [u for u in requests if not u.startswith((server, "data:", "blob:", "about:"))]
    assert leaving == [], leaving
    assert any("/api/v1/incidents" in u for u in requests)
    assert shot.startswith(b"\x89PNG") and len(shot) > 30_000
    assert json.dumps(requests).count("/static/plotly.min.js") == 1
