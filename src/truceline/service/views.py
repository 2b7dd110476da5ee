"""What the service shows, computed by the same pipeline functions as the CLI, cached.

A :class:`LakeViews` answers the read endpoints and the dashboard. Reads go through a
:class:`StateView`: the lake pinned at one committed state (the ledger head and the
table versions it commits, read together), so an answer never mixes two states and
says which one it comes from. Anything derived (war calls, incidents, the line of
contact, coverage) is computed on first request with :mod:`truceline.pipeline` and kept
in a small LRU cache keyed by that state, with a lock per key so many clients asking for
the same week compute it once. The encoded answers of the read endpoints are kept per
URL in :class:`~truceline.service.answers.AnswerCache`, which serves the last state's
answer while a write's new state is computed in the background.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from truceline.errors import InputError, LakeError
from truceline.lake.store import Lake
from truceline.service.answers import AnswerCache, State

MAX_SPAN_DAYS = 93
BAND_KM = (5, 15, 30)  # the distance bands the dashboard draws around the line
AGREEMENTS_DIR = "agreements"
ASSESSMENTS_DIR = "assessments"
KEPT_STATES = 2  # pinned views kept: the newest state and the one before it
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits: \d takes any script's


class _Cache:
    """A thread-safe LRU of computed answers with one lock per key (no dog-piling)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._guard:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._items:
                    return self._items[key]
            value = compute()
            with self._guard:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
                self._locks.pop(key, None)
            return value

    def peek(self, key: Any) -> Any:
        """The value held for ``key``, or None, without waiting."""
        with self._guard:
            return self._items.get(key)

    def keep(self, wanted: Callable[[Any], bool]) -> None:
        """Forget the entries whose key is not ``wanted`` (a superseded state's)."""
        with self._guard:
            for key in [k for k in self._items if not wanted(k)]:
                del self._items[key]


def iso_day(value: str, name: str = "day") -> pd.Timestamp:
    """A UTC day as the API documents it, ``YYYY-MM-DD`` and nothing else.

    pandas and pydantic also read ``1672531200`` (a Unix time), ``20250821`` or
    ``2025-8-1`` as days: a mistyped or mis-encoded day would quietly ask for another one.

    >>> iso_day("2025-08-21")
    Timestamp('2025-08-21 00:00:00')
    >>> iso_day("1672531200", "start")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: start '1672531200': expected a day YYYY-MM-DD, ...
    """
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        try:
            return pd.Timestamp(date.fromisoformat(value))
        except ValueError:  # 2025-02-30: the form is right, the day does not exist
            pass
    raise InputError(f"{name} {value!r}: expected a day YYYY-MM-DD, e.g. 2025-08-21")


def day_span(start: str, end: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Two days ``YYYY-MM-DD``, in order, at most :data:`MAX_SPAN_DAYS` apart."""
    s, e = iso_day(start, "start"), iso_day(end, "end")
    if e < s:
        raise InputError(f"end {e.date()} is before start {s.date()}")
    if (e - s).days + 1 > MAX_SPAN_DAYS:
        raise InputError(f"start {s.date()} to end {e.date()}: at most {MAX_SPAN_DAYS} days "
                         "a request")
    return s, e


class LakeViews:
    """Cached read models over one lake (thread-safe; one per service process).

    ``lake`` is the lake itself (writes go there); reads go through :meth:`current`.
    """

    def __init__(self, lake: Lake, *, cache_size: int = 32,
                 answers: AnswerCache | None = None) -> None:
        self.lake = lake
        self.answers = answers if answers is not None else AnswerCache()
        self._cache = _Cache(cache_size)
        self._views: dict[State, StateView] = {}
        self._guard = threading.Lock()
        self._clims: tuple[Hashable, Any] | None = None
        self._clim_lock = threading.Lock()

    # ------------------------------------------------------------------ states
    def state(self) -> State:
        """The committed lake state (``ledger.head``): changes with every write."""
        from truceline.lake.ledger import GENESIS, read_head

        head = read_head(self.lake.ledger_path)
        return State(0, GENESIS) if head is None else State(*head)

    def version(self) -> str:
        """The committed state as ``SEQ:HASH``."""
        return self.state().tag

    def current(self) -> StateView:
        """The lake pinned at its committed state now.

        The head is read before and after pinning the table versions; when a write
        committed in between, it is tried again, so the view's state is exactly the one
        its tables come from (after five tries, a view whose tables may be newer than
        its state: never older).
        """
        for _ in range(5):
            state = self.state()
            with self._guard:
                view = self._views.get(state)
            if view is not None:
                return view
            pinned = self.lake.at()
            if self.state() != state:
                continue
            with self._guard:
                view = self._views.setdefault(state, StateView(self, state, pinned))
                for old in sorted(self._views)[:-KEPT_STATES]:
                    del self._views[old]
                kept = set(self._views)
            self._cache.keep(lambda key, kept=kept: key[0] in kept)
            return view
        return StateView(self, state, pinned)

    def climatologies(self) -> Any:
        """The stored climatologies, read again only when their files change (not at
        every write: an ingest leaves them as they are)."""
        from truceline.pipeline import BASELINE_DIR, load_baseline

        stamp = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size)
                      for f in sorted((self.lake.root / BASELINE_DIR).glob("*.npz")))
        with self._clim_lock:
            if self._clims is None or self._clims[0] != stamp:
                clims = load_baseline(self.lake)
                if clims is None:
                    raise LakeError(f"no climatology in {self.lake.root}: run `truceline "
                                    "baseline build` first")
                self._clims = (stamp, clims)
            return self._clims[1]

    # ------------------------------------------------------------------ live records
    def agreement_path(self, agreement_id: str) -> Path:
        return agreement_path(self.lake.root, agreement_id)

    def cached_tokens(self) -> list[dict[str, Any]] | None:
        """The current state's token records if already read, without waiting."""
        state = self.state()
        with self._guard:
            view = self._views.get(state)
        return None if view is None else self._cache.peek((state, "tokens"))

    def tokens(self) -> list[dict[str, Any]]:
        """The stored token records of the current state (never an older one: a
        revocation bites on the next request)."""
        from truceline.service.tokens import read_tokens

        view = self.current()
        return view._cached("tokens", compute=lambda: read_tokens(view.lake))  # type: ignore[no-any-return]

    def reports(self) -> list[dict[str, Any]]:
        """Published reports as the ledger records them (never a path from a request)."""
        keep = ("seq", "agreement", "verdict", "control_source", "manifest_sha256")
        return [{k: e.get(k) for k in keep} | {"id": int(e["seq"]), "ts": e.get("time_utc")}
                for e in self.lake.ledger_entries() if e.get("kind") == "publish-report"]

    def report_manifest(self, seq: int, reports_dir: Path) -> dict[str, Any]:
        """A report's manifest, found by the folder name the ledger records under the
        server's reports folder and checked against the manifest hash it records."""
        import re

        from truceline.errors import IntegrityError
        from truceline.hashing import sha256_file

        for e in self.lake.ledger_entries():
            if e.get("kind") != "publish-report" or int(e["seq"]) != seq:
                continue
            name = Path(str(e.get("report", ""))).name
            if not re.fullmatch(r"[A-Za-z0-9._-]+", name) or name.startswith("."):
                raise LakeError(f"report {seq}: the ledger names no folder this server serves")
            found = [p for p in (reports_dir / name / "manifest.json",
                                 *reports_dir.glob(f"*/{name}/manifest.json")) if p.is_file()]
            if not found:
                raise LakeError(f"report {seq}: its folder {name!r} is not in this server's "
                                "reports folder")
            for path in found:
                if sha256_file(path) == e.get("manifest_sha256"):
                    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
            raise IntegrityError(f"report {seq}: manifest.json differs from the hash the "
                                 "ledger recorded")
        raise LakeError(f"no report {seq} in the ledger")


def agreement_path(root: Path, agreement_id: str) -> Path:
    path = root / AGREEMENTS_DIR / f"{agreement_id}.toml"
    if not path.is_file():
        raise LakeError(f"no agreement {agreement_id!r} is registered in this lake")
    return path


class StateView:
    """What the service shows at one committed lake state (``lake`` is pinned there;
    files outside the tables, such as agreements, are read as they are when computed,
    which is never older)."""

    def __init__(self, views: LakeViews, state: State, lake: Lake) -> None:
        self.views, self.state, self.lake = views, state, lake

    def _cached(self, name: str, *key: Any, compute: Callable[[], Any]) -> Any:
        return self.views._cache.get((self.state, name, *key), compute)

    def agreement_path(self, agreement_id: str) -> Path:
        return agreement_path(self.lake.root, agreement_id)

    def sector(self, name: str, start: pd.Timestamp, end: pd.Timestamp,
               source: str | None) -> str:
        """``name`` as the lines in force in [start, end] spell it, else InputError (400)
        with the closest names: a misspelt sector must not read as a sector without fire."""
        from truceline.checks import match_name
        from truceline.pipeline import line_sector_names

        names = self._cached("sector-names", start, end, source,
                             compute=lambda: line_sector_names(self.lake, start, end, source))
        return match_name(name, names, option="sector",
                          what=f"sector on the lines in force from {start.date()} to "
                               f"{end.date()}")

    # ------------------------------------------------------------------ detect
    def scored(self, start: pd.Timestamp, end: pd.Timestamp, source: str | None,
               rule: str = "seasonal") -> Any:
        """``pipeline.detect_period`` for [start, end], with first/last UTC time, FRP and
        detections per incident (what the incident panel shows)."""
        from truceline.pipeline import detect_period

        def compute() -> Any:
            found = detect_period(self.lake, start, end, control_source=source,
                                  climatologies=self.views.climatologies(), rule=rule)
            found.incidents = _with_detection_facts(found.incidents, found.detections)
            return found
        return self._cached("scored", start, end, source, rule, compute=compute)

    # ------------------------------------------------------------------ line
    def contact(self, day: pd.Timestamp, source: str | None) -> dict[str, Any]:
        """The line of contact and the ground held in force on ``day`` (GeoJSON)."""
        import shapely

        from truceline.geo import outlines
        from truceline.geo.enrich import prepare_snapshot
        from truceline.pipeline import snapshot_at

        def compute() -> dict[str, Any]:
            snap = snapshot_at(self.lake, source, day)  # LakeError when none is in force
            sid = str(snap["snapshot_id"].iat[0])
            prep = prepare_snapshot(sid, snap.geometry.iat[0],
                                    crimea_missing=bool(snap["crimea_missing"].iat[0]))
            line = outlines.to_lonlat(prep.contact.line)
            held = outlines.to_lonlat(prep.areas.held)
            bands = {str(km): json.loads(shapely.to_geojson(shapely.set_precision(
                outlines.to_lonlat(shapely.simplify(shapely.buffer(
                    prep.contact.line, km * 1000.0, quad_segs=4), 500.0)), 1e-3)))
                for km in BAND_KM}
            return {"snapshot_id": sid, "source": str(snap["source"].iat[0]),
                    "valid_from": str(pd.Timestamp(snap["valid_from"].iat[0]).date()),
                    "length_km": round(prep.contact.length_km, 1),
                    "line": json.loads(shapely.to_geojson(shapely.set_precision(line, 1e-4))),
                    "held": json.loads(shapely.to_geojson(shapely.set_precision(held, 1e-4))),
                    "bands": bands}
        return self._cached("contact", day, source, compute=compute)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ coverage
    def coverage(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """Satellite passes with data and detections per UTC day, zero-filled."""
        from truceline.analysis.coverage import count_passes

        def compute() -> pd.DataFrame:
            det = self.lake.read_detections(start, end, columns=[
                "acq_date", "t_utc", "satellite", "sensor"])
            per = count_passes(det)
            days = pd.DataFrame({"date": pd.date_range(start, end, freq="D")})
            per["date"] = pd.to_datetime(per["date"])
            out = days.merge(per, on="date", how="left")
            out["n_passes"] = out["n_passes"].fillna(0).astype(int)
            out["n_detections"] = out["n_detections"].fillna(0).astype(int)
            out["timed"] = out["timed"].astype("boolean").fillna(False).astype(bool)
            return out
        return self._cached("coverage", start, end, compute=compute)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ agreements
    def agreements(self) -> list[dict[str, Any]]:
        """Registered agreements with their latest assessment and watch verdict."""
        from truceline.sources.agreements import load_agreement

        def compute() -> list[dict[str, Any]]:
            out = []
            for f in sorted((self.lake.root / AGREEMENTS_DIR).glob("*.toml")):
                ag = load_agreement(f)
                out.append({"id": f.stem, "name": ag.name,
                            "start_utc": ag.start_utc.isoformat(),
                            "end_utc": ag.end_utc.isoformat(),
                            "time_zone": ag.time_zone, "scope": ag.scope.describe(),
                            "control_source": ag.control_source,
                            "latest_assessment": self.latest_assessment(f.stem),
                            "watch": self.watch_state(f.stem)})
            return out
        return self._cached("agreements", compute=compute)  # type: ignore[no-any-return]

    def latest_assessment(self, agreement_id: str) -> dict[str, Any] | None:
        # one folder down (the lake's rule for derived files): <id>--<UTC stamp>.json
        files = sorted((self.lake.root / ASSESSMENTS_DIR).glob(f"{agreement_id}--*.json"))
        return json.loads(files[-1].read_text(encoding="utf-8")) if files else None

    def watch_state(self, agreement_id: str) -> dict[str, Any] | None:
        from truceline.service.watch import read_state

        state = read_state(self.lake, agreement_id)
        if state is None:
            return None
        return {k: state[k] for k in ("verdict", "rule", "data_through", "cycles",
                                      "pending_alerts", "updated_utc",
                                      "verdict_without_moved_test") if k in state}

    def summary(self) -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            info = self.lake.info()
            return {k: info[k] for k in ("detections", "total_detections", "date_range",
                                         "control")}
        return self._cached("summary", compute=compute)  # type: ignore[no-any-return]

    def ledger_head(self) -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            check = self.lake.verify_ledger()
            return {"entries": check.entries, "head": check.head, "ok": check.ok}
        return self._cached("ledger", compute=compute)  # type: ignore[no-any-return]


def _with_detection_facts(incidents: pd.DataFrame, detections: pd.DataFrame) -> pd.DataFrame:
    """Add first/last UTC time, FRP total and maximum per incident from its detections."""
    if incidents.empty or "incident_id" not in detections:
        return incidents.assign(first_utc=pd.NaT, last_utc=pd.NaT, frp_sum=np.nan,
                                frp_max=np.nan)
    det = detections[detections["incident_id"].notna()]
    t = pd.to_datetime(det["t_utc"], utc=True)
    t = t.fillna(pd.to_datetime(det["acq_date"]).dt.tz_localize("UTC"))
    g = pd.DataFrame({"incident_id": det["incident_id"].to_numpy(), "t": t.to_numpy(),
                      "frp": pd.to_numeric(det["frp"], errors="coerce").to_numpy()}
                     ).groupby("incident_id")
    facts = pd.DataFrame({"first_utc": g["t"].min(), "last_utc": g["t"].max(),
                          "frp_sum": g["frp"].sum(), "frp_max": g["frp"].max()})
    return incidents.join(facts, on="incident_id")
