"""Load on `truceline serve` over loopback: requests per second, p50 and p99.

Three phases against a real lake (``--lake``, default ``$TRUCELINE_LAKE`` or the demo's
``./truceline-lake``; only read):

1. ``--clients`` (50) concurrent clients ask for one week of incidents along the whole
   front (``/api/v1/incidents?start=2025-08-21&end=2025-08-27&limit=1000``) for
   ``--seconds``; target p99 < 200 ms on this machine;
2. ``--burst`` (500) concurrent clients: every answer must be 200 or a clean 429/503
   (JSON body, Retry-After), the server must stay up, and its memory bounded;
3. with ``--write-copy DIR``: the lake is copied to DIR and ``truceline watch --once``
   ingests a drop folder of new files (the August 2025 NOAA-20 files moved a year on, so
   each is new to the lake) while the 50 clients keep reading, from the watch's start to
   its end; the answers' ``X-Truceline-State`` headers say how many lake states they
   came from and how many were stale (the previous state's, served while the new one
   was computed), and ``fresh_after_watch_s`` how long after the watch ended the first
   answer of its final state came.

    python benchmarks/api_load.py [--lake LAKE] [--write-copy /tmp/load-lake]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

WEEK = "/api/v1/incidents?start=2025-08-21&end=2025-08-27&limit=1000"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(lake: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRUCELINE_LAKE": str(lake), "TRUCELINE_PUBLIC_READ": "1",
           "TRUCELINE_RATE_PER_MINUTE": "100000000"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory",
                             "truceline.service.app:app_from_env", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers),
                             "--log-level", "warning", "--backlog", "4096"], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).is_success:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not start")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn workers), MB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


class Conn:
    """A bare HTTP/1.1 keep-alive connection: the load generator shares the machine's two
    cores with the server, so it must cost far less per request than the server does."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:]
                                                      if ln)}
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def load(base: str, clients: int, seconds: float, path: str = WEEK,
               done: Callable[[], bool] = lambda: False) -> dict[str, object]:
    """``clients`` loops asking ``path`` for ``seconds`` (or until ``done()``); latencies
    of the 200s, the lake states they came from and how many were stale."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    states: Counter[str] = Counter()
    bad_bodies = stale = 0
    stop = time.monotonic() + seconds

    async def one() -> None:
        nonlocal bad_bodies, stale
        conn = Conn(host, int(port))
        while time.monotonic() < stop and not done():
            t = time.perf_counter()
            try:
                status, headers, body = await asyncio.wait_for(conn.get(path), 60)
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                statuses[type(exc).__name__] += 1
                await conn.close()
                await asyncio.sleep(0.05)
                continue
            statuses[str(status)] += 1
            if status == 200:
                latencies.append(time.perf_counter() - t)
                states[headers.get("x-truceline-state", "?").split(":")[0]] += 1
                stale += headers.get("x-truceline-stale") == "1"
            elif status in (429, 503):
                if set(json.loads(body)) != {"error", "detail"} or "retry-after" not in headers:
                    bad_bodies += 1
                await asyncio.sleep(float(headers.get("retry-after", "1")) / 10)
            else:
                bad_bodies += 1
        await conn.close()

    t0, load_before = time.monotonic(), os.getloadavg()[0]
    await asyncio.gather(*(one() for _ in range(clients)))
    elapsed = time.monotonic() - t0
    lat = np.array(latencies) * 1000
    return {"clients": clients, "seconds": round(elapsed, 1), "ok": len(latencies),
            "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 1) if len(lat) else None,
            "p99_ms": round(float(np.percentile(lat, 99)), 1) if len(lat) else None,
            "p999_ms": round(float(np.percentile(lat, 99.9)), 1) if len(lat) else None,
            "max_ms": round(float(lat.max()), 1) if len(lat) else None,
            "statuses": dict(statuses), "unclean_answers": bad_bodies,
            "stale_answers": stale, "answers_per_state": dict(sorted(states.items())),
            # the machine is shared: how busy it was (1-minute load average) around it
            "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def shifted_drop(folder: Path, data: Path) -> Path:
    """The August 2025 NOAA-20 files moved to August 2026: new to any lake."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in sorted((data / "firms" / "viirs_noaa20_nrt_2025").glob("*.csv")):
        text = f.read_text().replace(",2025-08-", ",2026-08-")
        (folder / f.name.replace("_2025", "_2026")).write_text(text)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lake", type=Path, default=None)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--burst", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--write-copy", type=Path, default=None,
                    help="copy the lake here and run watch on it during a read phase")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from truceline import config

    args.lake = config.lake_dir(args.lake)
    lake = args.lake
    if args.write_copy is not None:
        shutil.rmtree(args.write_copy, ignore_errors=True)
        shutil.copytree(args.lake, args.write_copy)
        lake = args.write_copy
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(lake, port, args.workers)
    out: dict[str, object] = {"lake": str(args.lake), "workers": args.workers,
                              "cpus": os.cpu_count(), "request": WEEK}
    try:
        t = time.perf_counter()
        first = httpx.get(base + WEEK, timeout=300)
        out["first_request_s"] = round(time.perf_counter() - t, 2)
        out["incidents_in_week"] = first.json()["numberMatched"]
        out["rss_mb_warm"] = round(rss_mb(server.pid), 1)
        out["steady"] = asyncio.run(load(base, args.clients, args.seconds))
        out["rss_mb_after_steady"] = round(rss_mb(server.pid), 1)
        out["burst"] = asyncio.run(load(base, args.burst, args.seconds))
        out["rss_mb_after_burst"] = round(rss_mb(server.pid), 1)
        out["alive_after_burst"] = httpx.get(base + "/api/v1/health", timeout=10).is_success
        if args.write_copy is not None:
            data = config.data_dir()
            assert data is not None, "real data needed for the write phase"
            drop = shifted_drop(args.write_copy.parent / "load-drop", data)
            agreement = ROOT / "examples" / "agreements" / "august_2025_whatif.toml"
            watch = subprocess.Popen(
                [sys.executable, "-m", "truceline.cli", "watch", "--agreement",
                 str(agreement), "--drop", str(drop), "--once", "--lake", str(lake)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t = time.monotonic()
            out["during_watch"] = asyncio.run(load(base, args.clients, 900,
                                                   done=lambda: watch.poll() is not None))
            out["watch_exit"] = watch.wait(timeout=600)
            out["watch_s"] = round(time.monotonic() - t, 1)
            out["ledger_after_watch"] = httpx.get(base + "/api/v1/ledger/head").json()
            t = time.monotonic()
            while httpx.get(base + WEEK, timeout=300).headers.get("x-truceline-stale") \
                    and time.monotonic() < t + 300:
                time.sleep(0.2)
            out["fresh_after_watch_s"] = round(time.monotonic() - t, 1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
