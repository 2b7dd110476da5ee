"""`truceline watch` replayed on real data: the 21 NOAA-20 files of 11-31 August 2025
dropped one per cycle under the August what-if agreement, with a malformed file, an
unreachable source, a failing webhook and a restart along the way."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from service_data import AUGUST, NRT, copy_lake
from typer.testing import CliRunner

from truceline import pipeline
from truceline.cli import app
from truceline.errors import InputError, RemoteError
from truceline.lake.store import Lake
from truceline.service import watch as w
from truceline.service.intake import drop_into_lake
from truceline.sources.agreements import load_agreement


class Receiver:
    """A webhook on 127.0.0.1 that keeps what it is sent, or fails while ``down``."""

    def __init__(self) -> None:
        self.alerts: list[dict] = []
        self.keys: list[str] = []
        self.down = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.down:
                    self.send_response(503)
                else:
                    outer.alerts.append(json.loads(body))
                    outer.keys.append(self.headers["Idempotency-Key"])
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.mark.slow
def test_replay_of_august_2025_alerts_each_incident_once(base_lake, tmp_path, data_dir,
                                                         receiver):
    lake = copy_lake(base_lake, tmp_path / "lake")
    ag = load_agreement(AUGUST)
    clims = pipeline.load_baseline(lake)
    files = sorted((data_dir / NRT).glob("*.csv"))
    assert len(files) == 21
    drop = tmp_path / "drop"
    drop.mkdir()
    hook = w.HttpWebhook(receiver.url, retries=1, sleep=lambda s: None)
    logs: list[str] = []
    verdicts: dict[str, str] = {}
    rules: dict[str, str] = {}

    def unreachable():
        raise RemoteError("http://127.0.0.1:9/api: is unreachable (ConnectError)")

    for i, f in enumerate(files):
        day = f"2025-08-{11 + i:02d}"
        shutil.copy(f, drop / f.name)
        if day == "2025-08-13":
            (drop / "garbled.csv").write_text("latitude;longitude\n\x00\x01\n")
        receiver.down = day in ("2025-08-22", "2025-08-23")
        if day == "2025-08-25":  # the source is down: nothing comes in this cycle
            report = w.run_cycle(lake, ag, "august", unreachable, hook, log=logs.append,
                                 climatologies=clims)
            assert report.added == 0 and "unreachable" in report.problems[0]
        if day == "2025-08-27":  # stopped mid-cycle: data in, state not yet written
            drop_into_lake(lake, drop)
            lake = Lake(lake.root)  # a new process
        report = w.run_cycle(lake, ag, "august", lambda lk=lake: drop_into_lake(lk, drop),
                             hook, log=logs.append, climatologies=clims)
        verdicts[day] = report.verdict
        rules[day] = f"{report.verdict} ({report.rule})"
        if day == "2025-08-13":
            assert any("garbled.csv" in m for m in logs)
            assert (drop / "rejected" / "garbled.csv").exists()
        if receiver.down:
            assert report.pending > 0 or not report.new_incidents

    state = w.read_state(lake, "august")
    # the window ends 2025-08-31 00:00 Kyiv = 2025-08-30 21:00 UTC
    assert state is not None and state["outbox"] == [] and state["data_through"] == "2025-08-30"
    # the verdict so far: inconclusive before the window's evidence, then violated for good
    order = list(verdicts.values())
    first = order.index("violated")
    assert set(order[:first]) == {"inconclusive"} and set(order[first:]) == {"violated"}
    turn = list(verdicts)[first]
    # the window opens 2025-08-21 00:00 Kyiv = 2025-08-20 21:00 UTC: the data of the UTC
    # day 2025-08-20 already holds its first hours (NOAA-20's 23:18 UTC pass saw war fire
    # within 10 km of the line then, under the detection rule of issue 10)
    assert "2025-08-20" <= turn <= "2025-08-31", verdicts
    print("verdict so far per day of data:", rules)
    # the turn is where the pipeline itself, on the data of those days, says violated
    changes = [a for a in receiver.alerts if a["kind"] == "verdict-changed"]
    assert [(a["previous"], a["verdict"]) for a in changes] == [
        (None, "inconclusive"), ("inconclusive", "violated")]
    assert changes[1]["data_through"] == turn
    # the alert says whether the violation rests on the maps' motion: the first days of
    # August 2025's fire prove it without the moving front's incidents
    assert changes[1]["verdict_without_moved_test"] in (None, "violated")
    assert state["verdict_without_moved_test"] in (None, "violated")
    # each incident alerted once: unique alert ids, disjoint detections, all delivered
    incidents = [a for a in receiver.alerts if a["kind"] == "new-incident"]
    assert len(incidents) >= 10
    assert len(set(receiver.keys)) == len(receiver.keys) == len(receiver.alerts)
    assert len({a["incident"]["incident_id"] for a in incidents}) == len(incidents)
    assert len(incidents) == len(state["alerted_incidents"])
    assert all(a["incident"]["worldview"].startswith("https://worldview") for a in incidents)
    # every incident in scope at the end is one that was alerted (or grew from one)
    final, run = w.verdict_so_far(lake, ag, clims)
    assert final["verdict"] == "violated"
    alerted = set(state["alerted_detections"])
    assert all(set(ids) & alerted for ids in run.incidents["detection_ids"])
    # a restart with nothing new sends nothing again
    sent = len(receiver.alerts)
    again = w.run_cycle(Lake(lake.root), ag, "august", lambda: drop_into_lake(lake, drop),
                        hook, climatologies=clims)
    assert again.added == 0 and not again.new_incidents and len(receiver.alerts) == sent


def test_watch_cli_checks_its_options(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["watch", "--agreement", str(AUGUST), "--lake", str(tmp_path)])
    assert isinstance(r.exception, InputError) and "exactly one of --fetch" in str(
        r.exception)
    r = runner.invoke(app, ["watch", "--agreement", str(AUGUST), "--drop", str(tmp_path),
                            "--every", "soon", "--lake", str(tmp_path)])
    assert isinstance(r.exception, InputError) and "--every 'soon'" in str(r.exception)
    r = runner.invoke(app, ["watch", "--agreement", str(AUGUST), "--drop", str(tmp_path),
                            "--webhook", "ftp://x", "--lake", str(tmp_path)])
    assert isinstance(r.exception, InputError) and "--webhook" in str(r.exception)


def test_failing_webhook_keeps_alerts_until_delivered(tmp_path, receiver):
    """The outbox in isolation: a down webhook keeps alerts, in order, until it is back."""
    state = {"outbox": [{"alert_id": f"a{i}", "kind": "x"} for i in range(3)],
             "delivered": 0}
    hook = w.HttpWebhook(receiver.url, retries=2, sleep=lambda s: None)
    receiver.down = True
    logs: list[str] = []
    assert w._deliver(state, hook, logs.append) == 0
    assert len(state["outbox"]) == 3 and "HTTP 503 after 3 attempts" in logs[0]
    receiver.down = False
    assert w._deliver(state, hook, logs.append) == 3
    assert receiver.keys == ["a0", "a1", "a2"] and state["outbox"] == []
