"""A local stand-in for the FIRMS area API (127.0.0.1 only), played from the real files.

``GET /api/area/csv/{KEY}/{PRODUCT}/{W,S,E,N}/{DAYS}/{DATE}`` answers the detections of
the real NOAA-20 NRT files in ``../shared/data`` that fall in the box and in the DAYS
days from DATE, written as the API writes them (acq_time HHMM, confidence l/n/h,
instrument column). ``/{DAYS}`` without a date ends on ``today``. Behaviours the client
must cope with are switches: a refused key, the rate limit for the next N requests,
HTTP 500 for the next N requests.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd

API_COLUMNS = ["latitude", "longitude", "bright_ti4", "scan", "track", "acq_date", "acq_time",
               "satellite", "instrument", "confidence", "version", "bright_ti5", "frp",
               "daynight"]
GOOD_KEY = "0123456789abcdef0123456789abcdef"


class FakeFirms:
    """Serve FIRMS-API answers from real NOAA-20 files; use as a context manager."""

    def __init__(self, data_dir: Path, today: date = date(2025, 8, 31)) -> None:
        files = sorted((data_dir / "firms" / "viirs_noaa20_nrt_2025").glob("*.csv"))
        frame = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
        frame["acq_time"] = frame["acq_time"].str.replace(":", "").str[:4]
        frame["confidence"] = frame["confidence"].str[0]
        frame["instrument"] = "VIIRS"
        self.frame = frame[API_COLUMNS]
        self.today = today
        self.requests: list[str] = []
        self.rate_limited = 0  # answer the rate-limit text to the next N requests
        self.failing = 0  # answer HTTP 500 to the next N requests
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeFirms:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str) -> tuple[int, str]:
        self.requests.append(path)
        parts = path.strip("/").split("/")
        if len(parts) not in (7, 8) or parts[:3] != ["api", "area", "csv"]:
            return 404, "Not found"
        key, product, area, days = parts[3:7]
        if key != GOOD_KEY:
            return 200, "Invalid MAP_KEY."
        if self.failing:
            self.failing -= 1
            return 500, "Internal Server Error"
        if self.rate_limited:
            self.rate_limited -= 1
            return 200, "Exceeding allowed transaction limit."
        if product != "VIIRS_NOAA20_NRT":
            return 200, ",".join(API_COLUMNS) + "\n"  # no detections of other products
        try:
            w, s, e, n = (float(v) for v in area.split(","))
            n_days = int(days)
            start = (date.fromisoformat(parts[7]) if len(parts) == 8
                     else self.today - timedelta(days=n_days - 1))
        except ValueError:
            return 400, "Invalid request."
        if not 1 <= n_days <= 5:
            return 400, "Invalid day range. Expects [1..5]."
        f = self.frame
        lat, lon = f["latitude"].astype(float), f["longitude"].astype(float)
        d = pd.to_datetime(f["acq_date"]).dt.date
        keep = ((lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
                & (d >= start) & (d < start + timedelta(days=n_days)))
        return 200, f[keep].to_csv(index=False)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                status, body = fake.answer(self.path)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/csv; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return None

        return Handler
