"""`truceline watch`: each cycle, new data in, the agreement re-assessed so far, alerts out.

One cycle:

1. **intake**: the FIRMS API or a drop folder, into the lake (``service.intake``); an
   unreachable source or a malformed file is logged and the cycle goes on with the data
   already in the lake;
2. **verdict so far**: the agreement judged over the part of its window the data reaches
   (``pipeline.run_assessment`` on the agreement cut at the end of the last UTC day with
   data); before any data inside the window it is ``inconclusive`` without running;
3. **alerts**: one for each incident in scope not alerted before, and one for each
   change of the verdict so far. An incident is "the same" as one alerted before when it
   shares a detection with it (incident ids change as incidents grow);
4. **state**: alerts join an outbox and the state is written to the lake
   (``watch/<agreement>.json``, through a logged transaction) *before* anything is sent;
5. **delivery**: the outbox is posted to the webhook in order, with retries and backoff;
   what could not be delivered stays in the outbox for the next cycle.

So stopping at any point loses nothing (a cycle stopped before step 4 is simply done
again) and a restart does not re-send, except an alert whose delivery was not yet
recorded when it stopped: it goes out again with the same ``alert_id`` (at least once;
receivers de-duplicate on it, it is also sent as the ``Idempotency-Key`` header).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd

from truceline.errors import InputError, RemoteError, TrucelineError
from truceline.lake.store import Lake

STATE_DIR = "watch"
Log = Callable[[str], None]


def state_rel(agreement_id: str) -> str:
    return f"{STATE_DIR}/{agreement_id}.json"


def read_state(lake: Lake, agreement_id: str) -> dict[str, Any] | None:
    """The watch state of an agreement as last committed, or None."""
    path = lake.root / state_rel(agreement_id)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def write_state(lake: Lake, agreement_id: str, state: dict[str, Any], *,
                wait: float = 10.0) -> None:
    """Commit the state through the lake (waiting up to ``wait`` seconds while another
    writer holds it)."""
    state["updated_utc"] = _now()
    state["pending_alerts"] = len(state["outbox"])
    data = json.dumps(state, indent=1, sort_keys=True, default=str).encode()
    lake.write_files({state_rel(agreement_id): data}, kind="watch-state", wait=wait,
                     agreement=state["agreement"], cycle=state["cycles"],
                     verdict=state["verdict"], outbox=len(state["outbox"]))


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def parse_every(text: str) -> float:
    """Seconds in ``30s``, ``15m``, ``1h`` or ``1d``.

    >>> parse_every("15m"), parse_every("1h")
    (900.0, 3600.0)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if not m:
        raise InputError(f"--every {text!r}: expected a number and a unit s, m, h or d, "
                         "e.g. 1h")
    seconds = float(m[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]]
    if seconds <= 0:
        raise InputError(f"--every {text!r}: expected a positive interval")
    return seconds


def register_agreement(lake: Lake, path: Any, agreement: Any) -> str:
    """The agreement's id in the lake (its file name), registering it on first watch so
    the API and the dashboard show it with its verdict so far."""
    from pathlib import Path

    aid = re.sub(r"[^a-z0-9-]+", "-", Path(path).stem.lower()).strip("-")[:64] or "agreement"
    rel = f"agreements/{aid}.toml"
    data = Path(path).read_bytes()
    stored = lake.root / rel
    if not stored.is_file() or stored.read_bytes() != data:
        lake.write_files({rel: data}, kind="register-agreement", agreement=agreement.name,
                         id=aid)
    return aid


# --------------------------------------------------------------------------- webhook
class Webhook(Protocol):
    """Where alerts go; ``post`` raises RemoteError when the alert was not accepted."""

    def post(self, alert: dict[str, Any]) -> None: ...


class HttpWebhook:
    """POST each alert as JSON; 2xx is delivered, anything else is retried with backoff."""

    def __init__(self, url: str, *, retries: int = 2, backoff: float = 1.0,
                 timeout: float = 10.0, sleep: Callable[[float], None] = time.sleep) -> None:
        import httpx

        if not url.startswith(("http://", "https://")):
            raise InputError(f"--webhook {url!r}: expected an http:// or https:// URL")
        self.url, self.retries, self.backoff, self.sleep = url, retries, backoff, sleep
        self.client = httpx.Client(timeout=timeout)

    def post(self, alert: dict[str, Any]) -> None:
        import httpx

        last = ""
        for attempt in range(self.retries + 1):
            try:
                resp = self.client.post(self.url, json=alert,
                                        headers={"Idempotency-Key": alert["alert_id"]})
                if 200 <= resp.status_code < 300:
                    return
                last = f"HTTP {resp.status_code}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.retries:
                self.sleep(self.backoff * 2 ** attempt)
        raise RemoteError(f"webhook {self.url}: {last} after {self.retries + 1} attempts")


# --------------------------------------------------------------------------- verdict
def verdict_so_far(lake: Lake, agreement: Any, climatologies: Any = None
                   ) -> tuple[dict[str, Any], Any]:
    """The agreement judged on the part of its window the lake's data reaches.

    Returns the verdict summary and the ``AssessmentRun`` (None when nothing inside the
    window has been seen yet, which is ``inconclusive`` by definition).
    """
    from truceline.analysis.proof import verdict_without_moved
    from truceline.pipeline import run_assessment

    w0 = pd.Timestamp(agreement.start_utc).tz_localize(None)
    w1 = pd.Timestamp(agreement.end_utc).tz_localize(None)
    c0 = pd.Timestamp(agreement.comparison.start_utc).tz_localize(None)
    days = lake.read_detections(min(c0, w0).normalize(), w1.normalize(),
                                columns=["acq_date"])["acq_date"]
    last = pd.to_datetime(days).max() if len(days) else None
    if last is None or pd.isna(last) or last + pd.Timedelta(days=1) <= w0:
        seen = "no data yet" if last is None or pd.isna(last) else f"data through {last.date()}"
        return {"verdict": "inconclusive", "rule": "not-started", "data_through":
                None if last is None or pd.isna(last) else str(last.date()),
                "reasons": [f"nothing seen inside the window yet ({seen}; the window starts "
                            f"{w0:%Y-%m-%d %H:%M} UTC)"], "incidents": 0}, None
    cut = min(w1, last.normalize() + pd.Timedelta(days=1))
    so_far = replace(agreement, end=cut.tz_localize("UTC").to_pydatetime().astimezone(
        agreement.start.tzinfo))
    run = run_assessment(lake, so_far, climatologies=climatologies)
    a = run.assessment
    return {"verdict": a["verdict"], "rule": a["rule"], "reasons": a["reasons"],
            "data_through": str(last.date()), "window_so_far_end_utc": cut.isoformat() + "Z",
            "incidents": len(run.incidents),
            # a violation that rests on the maps' motion says so (analysis.proof)
            "verdict_without_moved_test": verdict_without_moved(a)}, run


# --------------------------------------------------------------------------- cycle
@dataclass
class CycleReport:
    """What one cycle did (printed by the CLI, returned to tests)."""

    cycle: int
    added: int = 0
    verdict: str | None = None
    rule: str | None = None
    verdict_changed: bool = False
    new_incidents: list[str] = field(default_factory=list)
    delivered: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)


def new_state(agreement_id: str, agreement: Any) -> dict[str, Any]:
    return {"agreement": agreement.name, "agreement_id": agreement_id, "cycles": 0,
            "verdict": None, "rule": None, "data_through": None, "alerted_detections": [],
            "alerted_incidents": [], "outbox": [], "delivered": 0, "log": []}


def _alert_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _data_seq(lake: Lake) -> int:
    """The ledger position of the last data the lake took in (detections or maps)."""
    seqs = [int(e["seq"]) for e in lake.ledger_entries()
            if e.get("kind") in ("ingest-firms", "ingest-control")]
    return max(seqs, default=-1)


def _incident_alert(agreement_id: str, name: str, row: Any, cycle: int) -> dict[str, Any]:
    from truceline.service.factory import imagery_links, records

    fields = ("incident_id", "t_start", "t_end", "lon", "lat", "n_detections", "n_days",
              "p_min", "confidence", "side", "dist_km", "sector", "place", "region")
    frame = pd.DataFrame([row])[[c for c in fields if c in row.index]]
    inc = records(frame)[0]
    inc["worldview"] = imagery_links(pd.DataFrame([row]))["worldview"][0]
    first = sorted(row["detection_ids"])[0]
    return {"alert_id": _alert_id(agreement_id, "incident", first), "kind": "new-incident",
            "agreement": name, "agreement_id": agreement_id, "cycle": cycle,
            "created_utc": _now(), "incident": inc}


def run_cycle(lake: Lake, agreement: Any, agreement_id: str,
              intake: Callable[[], Any] | None, webhook: Webhook | None, *,
              log: Log = lambda s: None, climatologies: Any = None) -> CycleReport:
    """One watch cycle (see the module docstring); never raises for a bad file, an
    unreachable source or a failing webhook: those are logged and the cycle goes on."""
    state = read_state(lake, agreement_id) or new_state(agreement_id, agreement)
    state["cycles"] += 1
    report = CycleReport(state["cycles"])
    if intake is not None:
        try:
            got = intake()
            report.added = got.added
            for r in got.rejected:
                report.problems.append(f"set aside {r['file']}: {r['reason']}")
        except (RemoteError, InputError) as exc:
            report.problems.append(f"intake failed, going on with the lake as it is: {exc}")
    for p in report.problems:
        log(p)
    data_seq = _data_seq(lake)
    if data_seq != state.get("assessed_data_seq") or state["verdict"] is None:
        # new data since the last committed assessment (this cycle's, or one a stop
        # interrupted before its state was written): judge again
        summary, run = verdict_so_far(lake, agreement, climatologies)
        _queue_alerts(state, summary, run, agreement, agreement_id, report)
        state["assessed_data_seq"] = data_seq
    report.verdict, report.rule = state["verdict"], state["rule"]
    write_state(lake, agreement_id, state)  # the commit point: alerts are queued
    if webhook is not None and state["outbox"]:
        report.delivered = _deliver(state, webhook, log)
        if report.delivered:
            write_state(lake, agreement_id, state)
    report.pending = len(state["outbox"])
    return report


def _queue_alerts(state: dict[str, Any], summary: dict[str, Any], run: Any, agreement: Any,
                  agreement_id: str, report: CycleReport) -> None:
    cycle = state["cycles"]
    alerted = set(state["alerted_detections"])
    if run is not None and len(run.incidents):
        inc = run.incidents.sort_values(["t_start", "incident_id"])
        for _, row in inc.iterrows():  # a few dozen incidents: one alert each
            ids = set(row["detection_ids"])
            if not ids & alerted:
                state["outbox"].append(_incident_alert(agreement_id, agreement.name, row,
                                                       cycle))
                state["alerted_incidents"].append(str(row["incident_id"]))
                report.new_incidents.append(str(row["incident_id"]))
            alerted |= ids
    state["alerted_detections"] = sorted(alerted)
    if summary["verdict"] != state["verdict"]:
        report.verdict_changed = True
        state["outbox"].append({
            "alert_id": _alert_id(agreement_id, "verdict", str(cycle), summary["verdict"]),
            "kind": "verdict-changed", "agreement": agreement.name,
            "agreement_id": agreement_id, "cycle": cycle, "created_utc": _now(),
            "previous": state["verdict"], **summary})
    state.update(verdict=summary["verdict"], rule=summary["rule"],
                 data_through=summary["data_through"], reasons=summary["reasons"],
                 verdict_without_moved_test=summary.get("verdict_without_moved_test"))


def _deliver(state: dict[str, Any], webhook: Webhook, log: Log) -> int:
    sent = 0
    while state["outbox"]:
        alert = state["outbox"][0]
        try:
            webhook.post(alert)
        except TrucelineError as exc:
            log(f"webhook: {exc}; {len(state['outbox'])} alert(s) kept for the next cycle")
            break
        state["outbox"].pop(0)
        state["delivered"] += 1
        sent += 1
    return sent


def watch(lake: Lake, agreement: Any, agreement_id: str, intake: Callable[[], Any] | None,
          webhook: Webhook | None, *, every: float, cycles: int | None = None,
          log: Log = lambda s: None, on_cycle: Callable[[CycleReport], None] = lambda r: None,
          sleep: Callable[[float], None] = time.sleep) -> list[CycleReport]:
    """Run cycles every ``every`` seconds (``cycles`` of them, or until stopped)."""
    from truceline.pipeline import baseline

    clims = baseline(lake)
    done: list[CycleReport] = []
    while cycles is None or len(done) < cycles:
        started = time.monotonic()
        report = run_cycle(lake, agreement, agreement_id, intake, webhook, log=log,
                           climatologies=clims)
        on_cycle(report)
        done.append(report)
        if cycles is not None and len(done) >= cycles:
            break
        sleep(max(0.0, every - (time.monotonic() - started)))
    return done
