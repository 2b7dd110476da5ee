"""The lake: a local folder of GeoParquet partitions, a quarantine and a ledger.

Layout (everything below is readable as it is by GeoPandas, DuckDB and QGIS)::

    LAKE/
      detections/sensor=VIIRS/year=2025/month=08/part.parquet   GeoParquet 1.0.0, points
      control/source=deepstate/2025-08-20.parquet                GeoParquet, one snapshot
      quarantine/<txn>.parquet                                   rejected input rows
      ledger.jsonl, ledger.head                                  hash-chained log
      .txn/                                                      in-flight transactions
      .lock                                                      one writer at a time

Detection columns are :data:`truceline.sources.firms.DETECTION_COLUMNS` plus
``geometry`` (WGS84 point). Control snapshot columns are
:data:`truceline.sources.frontlines.SNAPSHOT_COLUMNS` plus ``geometry`` (MultiPolygon of
the ground ``party`` holds). Every write goes through :class:`~truceline.lake.txn.Transaction`
and ends with a ledger entry, so an ingest lands whole or not at all.
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from truceline import __version__
from truceline.errors import InputError, LakeError
from truceline.hashing import sha256_file
from truceline.lake import ledger as ledger_mod
from truceline.lake.txn import Transaction, recover
from truceline.sources.firms import (
    DETECTION_COLUMNS,
    FirmsFile,
    check_sensor,
    find_firms_files,
    parse_firms,
)
from truceline.sources.frontlines import (
    ControlFile,
    check_source,
    find_control_files,
    parse_control,
)

GEOPARQUET_VERSION = "1.0.0"
Progress = Callable[[str, int, int], None]


def _no_progress(label: str, done: int, total: int) -> None:
    return None


@dataclass
class IngestSummary:
    """What one ingest call did, per file and in total (also what the ledger records)."""

    files: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    txn: str | None = None

    def total(self, key: str) -> int:
        return int(sum(f.get(key, 0) for f in self.files))


class Lake:
    """A lake folder. Opening it finishes or undoes any transaction a crash left."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.ledger_path = self.root / "ledger.jsonl"
        if self.root.exists() and not self.root.is_dir():
            raise LakeError(f"{self.root}: exists and is not a folder")
        if (self.root / ".txn").is_dir():
            with self._locked():
                ledger_mod.drop_uncommitted(self.ledger_path)
                committed = {e.get("txn") for e in self.ledger_entries()}
                recover(self.root, {c for c in committed if c})

    # ---------------------------------------------------------------- basics
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise LakeError(f"{self.root}: another truceline process is writing to "
                                "this lake; try again when it has finished") from exc
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def ledger_entries(self) -> list[dict[str, Any]]:
        return ledger_mod.read_entries(self.ledger_path)

    def verify_ledger(self) -> ledger_mod.LedgerCheck:
        return ledger_mod.verify_ledger(self.ledger_path)

    def _ingested(self, kind: str) -> dict[str, int]:
        """sha256 -> ledger seq of every file already ingested as ``kind``."""
        return {e["sha256"]: e["seq"] for e in self.ledger_entries()
                if e.get("kind") == kind and "sha256" in e}

    def _parse_new(self, files: list[Path], kind: str, parse: Callable[[Path, str], Any],
                    summary: IngestSummary, progress: Progress) -> list[Any]:
        """Parse the files the ledger does not already record as ``kind``.

        Files are recognised by SHA-256 before parsing, so a re-run costs a hash per file;
        a file given twice in one call is parsed once. ``parse(path, sha256)``.
        """
        seen = self._ingested(kind)
        parsed: list[Any] = []
        batch: set[str] = set()
        for i, f in enumerate(files):
            progress("parse", i, len(files))
            digest = sha256_file(f)
            if digest in seen or digest in batch:
                summary.skipped.append({"file": str(f), "sha256": digest,
                                        "reason": "already ingested",
                                        "ledger_seq": seen.get(digest)})
                continue
            batch.add(digest)
            parsed.append(parse(f, digest))
        progress("parse", len(files), len(files))
        return parsed

    def _commit(self, txn: Transaction, entries: list[dict[str, Any]]) -> None:
        def write_ledger(txn_id: str) -> None:
            chain = self.ledger_entries()
            new = []
            for fields in entries:
                entry = ledger_mod.make_entry(chain + new, txn=txn_id, **fields)
                new.append(entry)
            try:
                ledger_mod.append_entries(self.ledger_path, new)
            except BaseException:
                ledger_mod.drop_uncommitted(self.ledger_path)
                raise
        txn.commit(write_ledger)

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append a ledger entry for something published from this lake."""
        with self._locked():
            entry = ledger_mod.make_entry(self.ledger_entries(), kind=kind, **fields)
            ledger_mod.append_entry(self.ledger_path, entry)
            return entry

    # ---------------------------------------------------------------- detections
    def _partition_rel(self, sensor: str, year: int, month: int) -> str:
        return f"detections/sensor={sensor}/year={year:04d}/month={month:02d}/part.parquet"

    def detection_files(self, sensors: list[str] | None = None,
                        start: pd.Timestamp | None = None,
                        end: pd.Timestamp | None = None) -> list[Path]:
        """Partition files that can hold detections of ``sensors`` in [start, end]."""
        base = self.root / "detections"
        if not base.is_dir():
            return []
        out = []
        pattern = re.compile(r"sensor=(\w+)/year=(\d{4})/month=(\d{2})/part\.parquet$")
        lo = (start.year * 12 + start.month) if start is not None else -1
        hi = (end.year * 12 + end.month) if end is not None else 10**9
        for f in sorted(base.rglob("part.parquet")):
            m = pattern.search(f.relative_to(self.root).as_posix())
            if not m:
                continue
            ym = int(m.group(2)) * 12 + int(m.group(3))
            if (sensors is None or m.group(1) in sensors) and lo <= ym <= hi:
                out.append(f)
        return out

    def detection_years(self, sensor: str) -> set[int]:
        """The years in which the lake holds detections of ``sensor``."""
        return {int(re.search(r"year=(\d{4})", f.as_posix())[1])  # type: ignore[index]
                for f in self.detection_files([sensor])}

    def read_detections(self, start: str | pd.Timestamp | None = None,
                        end: str | pd.Timestamp | None = None,
                        sensors: list[str] | None = None,
                        columns: list[str] | None = None) -> pd.DataFrame:
        """Detections with acq_date in [start, end] (inclusive days), without geometry."""
        s = pd.Timestamp(start) if start is not None else None
        e = pd.Timestamp(end) if end is not None else None
        files = self.detection_files(sensors, s, e)
        cols = list(columns) if columns else list(DETECTION_COLUMNS)
        if not files:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        ds = pads.dataset([str(f) for f in files], format="parquet")
        flt = None
        if s is not None:
            flt = pads.field("acq_date") >= pa.scalar(s.to_pydatetime(), pa.timestamp("s"))
        if e is not None:
            cond = pads.field("acq_date") <= pa.scalar(e.to_pydatetime(), pa.timestamp("s"))
            flt = cond if flt is None else flt & cond
        table = ds.to_table(columns=cols, filter=flt)
        return table.to_pandas().reset_index(drop=True)

    def _write_partition(self, txn: Transaction, rel: str, frame: pd.DataFrame) -> None:
        gdf = gpd.GeoDataFrame(frame.reset_index(drop=True),
                               geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                               crs="EPSG:4326")
        gdf.to_parquet(txn.stage(rel), index=False, schema_version=GEOPARQUET_VERSION,
                       compression="zstd")

    def ingest_firms(self, paths: list[str | Path], *, sensor: str | None = None,
                     satellite: str | None = None,
                     progress: Progress = _no_progress) -> IngestSummary:
        """Ingest FIRMS files and folders: parse, quarantine bad rows, merge, log.

        The whole call is one transaction: any error leaves the lake as it was.
        """
        files, not_firms = find_firms_files(paths)
        if not files:
            raise InputError(f"{', '.join(map(str, paths))}: no FIRMS .csv or .txt files "
                             "found")
        check_sensor(sensor)  # even if nothing is parsed
        summary = IngestSummary(skipped=list(not_firms))
        with self._locked():
            parsed: list[FirmsFile] = self._parse_new(
                files, "ingest-firms", lambda f, h: parse_firms(f, sensor=sensor,
                                                                satellite=satellite, sha256=h),
                summary, progress)
            if not parsed:
                return summary
            self._merge_detections(parsed, summary, progress)
        return summary

    def _merge_detections(self, parsed: list[FirmsFile], summary: IngestSummary,
                          progress: Progress) -> None:
        new = pd.concat([p.detections.assign(_file=i) for i, p in enumerate(parsed)],
                        ignore_index=True)
        new["_year"] = new["acq_date"].dt.year.astype(np.int64)
        new["_month"] = new["acq_date"].dt.month.astype(np.int64)
        counts = {i: {"added": 0, "replaced_nrt": 0, "already_in_lake": 0}
                  for i in range(len(parsed))}
        with Transaction(self.root) as txn:
            groups = list(new.groupby(["sensor", "_year", "_month"], sort=True))
            for gi, ((sens, year, month), part) in enumerate(groups):
                progress("merge", gi, len(groups))
                rel = self._partition_rel(sens, int(year), int(month))
                target = self.root / rel
                old = (pq.read_table(target, columns=list(DETECTION_COLUMNS)).to_pandas()
                       if target.exists() else None)
                merged, kept = _merge_partition(old, part)
                fidx = part["_file"].to_numpy()
                in_old = (part["detection_id"].isin(old["detection_id"]).to_numpy()
                          if old is not None else np.zeros(len(part), dtype=bool))
                for key, mask in (("added", kept & ~in_old), ("replaced_nrt", kept & in_old),
                                  ("already_in_lake", ~kept)):
                    binc = np.bincount(fidx[mask], minlength=len(parsed))
                    for i, c in enumerate(binc):
                        counts[i][key] += int(c)
                self._write_partition(txn, rel, merged)
            progress("merge", len(groups), len(groups))
            rejected = pd.concat([p.rejected.assign(file_sha256=p.sha256) for p in parsed],
                                 ignore_index=True)
            if len(rejected):
                rejected["txn"] = txn.id
                rejected.to_parquet(txn.stage(f"quarantine/{txn.id}.parquet"), index=False)
            entries = []
            for i, p in enumerate(parsed):
                rec = {"kind": "ingest-firms", "file": str(p.path), "sha256": p.sha256,
                       "layout": p.layout, "rows": p.n_rows,
                       "accepted": len(p.detections), "rejected": len(p.rejected),
                       **counts[i], "sensor_rule": p.sensor_rule,
                       "truceline": __version__}
                entries.append(rec)
                summary.files.append(rec)
            self._commit(txn, entries)
            summary.txn = txn.id

    # ---------------------------------------------------------------- control maps
    def ingest_control(self, paths: list[str | Path], *, source: str = "auto",
                       party: str = "ru", valid_from: str | None = None,
                       progress: Progress = _no_progress) -> IngestSummary:
        """Ingest control maps as snapshots; one transaction for the whole call."""
        files = find_control_files(paths)
        if not files:
            raise InputError(f"{', '.join(map(str, paths))}: no GeoJSON, GeoPackage or "
                             "shapefile found")
        check_source(source)  # even if nothing is parsed
        if valid_from is not None and len(files) > 1:
            raise InputError("--valid-from applies to one file; got "
                             f"{len(files)} files")
        summary = IngestSummary()
        with self._locked():
            parsed: list[ControlFile] = self._parse_new(
                files, "ingest-control", lambda f, h: parse_control(
                    f, source=source, party=party, valid_from=valid_from, sha256=h),
                summary, progress)
            if not parsed:
                return summary
            summary.warnings.extend(w for cf in parsed for w in cf.warnings)
            self._fill_2014_ground(parsed, summary)
            with Transaction(self.root) as txn:
                entries = []
                for cf in parsed:
                    row = cf.snapshot.iloc[0]
                    rel = f"control/source={row['source']}/{row['valid_from'].date()}.parquet"
                    # two files for one source and day: the last staged wins
                    replaces = (self.root / rel).exists() or rel in txn.targets
                    cf.snapshot.to_parquet(txn.stage(rel), index=False,
                                           schema_version=GEOPARQUET_VERSION)
                    rec = {"kind": "ingest-control", "file": str(cf.path), "sha256": cf.sha256,
                           "snapshot_id": row["snapshot_id"], "source": row["source"],
                           "valid_from": str(row["valid_from"].date()),
                           "crimea_missing": bool(row["crimea_missing"]),
                           "area_km2": round(float(row["area_km2"]), 1),
                           "repaired": bool(row["repaired"]),
                           "repair_area_km2": round(float(row["repair_area_km2"]), 3),
                           "replaces_snapshot": bool(replaces),
                           "filled_2014_km2": round(float(row["filled_2014_km2"]), 1),
                           "filled_from": row["filled_from"], "truceline": __version__}
                    entries.append(rec)
                    summary.files.append(rec)
                self._commit(txn, entries)
                summary.txn = txn.id
        return summary

    def _fill_2014_ground(self, parsed: list[ControlFile], summary: IngestSummary) -> None:
        """Fill the ground held since 2014 where a map leaves it out (liveuamap from
        2024-03-14), from the last earlier map of the same source that draws it: in this
        batch or in the lake. With none, the snapshot is kept as it is and a warning says
        so; either way the ledger records it."""
        from truceline.sources.frontlines import fill_2014_ground, misses_2014_ground

        order = sorted(range(len(parsed)), key=lambda i: parsed[i].snapshot["valid_from"].iat[0])
        good: dict[str, tuple[pd.Timestamp, Any, str]] = {}
        for i in order:
            snap = parsed[i].snapshot
            src, day = str(snap["source"].iat[0]), snap["valid_from"].iat[0]
            geom = snap.geometry.iat[0]
            if not misses_2014_ground(geom):
                good[src] = (day, geom, str(snap["snapshot_id"].iat[0]))
                continue
            ref = good.get(src) or self._last_full_snapshot(src, day)
            if ref is None:
                summary.warnings.append(f"{parsed[i].path}: leaves out the ground held since "
                                        "2014 (Donetsk) and no earlier map of this source "
                                        "draws it: kept as it is")
                continue
            filled, added = fill_2014_ground(geom, ref[1])
            snap["geometry"] = [filled]
            snap["filled_2014_km2"] = added
            snap["filled_from"] = ref[2]
            snap["area_km2"] = snap["area_km2"] + added

    def _last_full_snapshot(self, source: str, before: pd.Timestamp
                            ) -> tuple[pd.Timestamp, Any, str] | None:
        """The latest stored snapshot of ``source`` before ``before`` that holds Donetsk."""
        import shapely

        from truceline.sources.frontlines import misses_2014_ground

        for f in reversed(self.control_files(source)):
            if pd.Timestamp(f.stem) >= before:
                continue
            t = pq.read_table(f, columns=["snapshot_id", "geometry"])
            geom = shapely.from_wkb(t.column("geometry")[0].as_py())
            if not misses_2014_ground(geom):
                return pd.Timestamp(f.stem), geom, str(t.column("snapshot_id")[0].as_py())
        return None

    def control_files(self, source: str | None = None) -> list[Path]:
        base = self.root / "control"
        if not base.is_dir():
            return []
        pattern = f"source={source}/*.parquet" if source else "source=*/*.parquet"
        return sorted(base.glob(pattern))

    def read_control(self, source: str | None = None, *,
                     start: str | pd.Timestamp | None = None,
                     end: str | pd.Timestamp | None = None,
                     geometry: bool = True) -> gpd.GeoDataFrame | pd.DataFrame:
        """Control snapshots (of one source, if given) sorted by valid_from.

        With ``start``/``end``, only the snapshots in force some day of [start, end] are
        read: those valid from a day in the range, and per source the last one before it.
        """
        files = self.control_files(source)
        if not files:
            if source is not None and self.control_files():
                have = sorted({p.parent.name.split("=", 1)[1] for p in self.control_files()})
                raise LakeError(f"no control snapshots from source {source!r} in {self.root}; "
                                f"the lake has: {', '.join(have)}")
            raise LakeError(f"no control snapshots in {self.root}; run "
                            "`truceline ingest control PATH` first")
        if start is not None or end is not None:
            files = _snapshots_in_force(files, start, end)
        tables = [_timestamps_as(pq.read_table(f), "us") for f in files]
        table = pa.concat_tables(tables, promote_options="default")
        cols = [c for c in table.column_names if c != "geometry"]
        frame = table.select(cols).to_pandas()
        if geometry:
            import shapely

            geoms = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
            frame = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")
        return frame.sort_values(["valid_from", "source"], kind="stable").reset_index(drop=True)

    # ---------------------------------------------------------------- derived tables
    def write_enriched(self, frame: pd.DataFrame, *, control: str,
                       params: dict[str, Any]) -> dict[str, Any]:
        """Store enriched detections, replacing the months they cover, in one transaction.

        ``control`` names the control source the frame was enriched against (``any``
        for the most recent snapshot of any source); each source keeps its own copy.
        """
        if frame.empty:
            return {"rows": 0, "partitions": 0}
        day = pd.to_datetime(frame["acq_date"])
        years, months = day.dt.year.to_numpy(), day.dt.month.to_numpy()
        with self._locked():
            with Transaction(self.root) as txn:
                groups = frame.groupby([frame["sensor"].to_numpy(), years, months], sort=True)
                n = 0
                for (sens, year, month), part in groups:
                    rel = (f"enriched/control={control}/sensor={sens}/year={int(year):04d}/"
                           f"month={int(month):02d}/part.parquet")
                    gdf = part if isinstance(part, gpd.GeoDataFrame) else gpd.GeoDataFrame(
                        part, geometry=gpd.points_from_xy(part["lon"], part["lat"]),
                        crs="EPSG:4326")
                    gdf.reset_index(drop=True).to_parquet(
                        txn.stage(rel), index=False, schema_version=GEOPARQUET_VERSION,
                        compression="zstd")
                    n += 1
                rec = {"kind": "enrich", "control": control, "rows": int(len(frame)),
                       "partitions": n, "from": str(day.min().date()),
                       "to": str(day.max().date()),
                       "params": params, "truceline": __version__}
                self._commit(txn, [rec])
        return rec

    def read_enriched(self, start: str | pd.Timestamp | None = None,
                      end: str | pd.Timestamp | None = None, *, control: str = "any",
                      geometry: bool = False) -> pd.DataFrame:
        """Enriched detections stored by :meth:`write_enriched` with acq_date in [start, end]."""
        base = self.root / "enriched" / f"control={control}"
        s = pd.Timestamp(start) if start is not None else None
        e = pd.Timestamp(end) if end is not None else None
        files = []
        for f in sorted(base.rglob("part.parquet")) if base.is_dir() else []:
            m = re.search(r"year=(\d{4})/month=(\d{2})", f.as_posix())
            ym = int(m.group(1)) * 12 + int(m.group(2)) if m else 0
            if (s is None or ym >= s.year * 12 + s.month) and (
                    e is None or ym <= e.year * 12 + e.month):
                files.append(f)
        if not files:
            return pd.DataFrame()
        if geometry:
            frame = pd.concat([gpd.read_parquet(f) for f in files], ignore_index=True)
        else:
            cols = [c for c in pq.read_schema(files[0]).names if c != "geometry"]
            frame = pads.dataset([str(f) for f in files], format="parquet").to_table(
                columns=cols).to_pandas()
        d = pd.to_datetime(frame["acq_date"])
        keep = np.ones(len(frame), dtype=bool)
        if s is not None:
            keep &= (d >= s).to_numpy()
        if e is not None:
            keep &= (d <= e).to_numpy()
        return frame[keep].reset_index(drop=True)

    def write_table(self, rel: str, frame: pd.DataFrame, *, kind: str,
                    **fields: Any) -> dict[str, Any]:
        """Store one derived table (incidents, ...) as (Geo)Parquet, logged in the ledger."""
        import io

        buf = io.BytesIO()
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_parquet(buf, index=False, schema_version=GEOPARQUET_VERSION)
        else:
            frame.to_parquet(buf, index=False)
        return self.write_files({rel: buf.getvalue()}, kind=kind, rows=int(len(frame)),
                                **fields)

    def write_files(self, files: dict[str, bytes], *, kind: str, **fields: Any
                    ) -> dict[str, Any]:
        """Store derived files (e.g. a climatology) whole, in one logged transaction."""
        with self._locked():
            with Transaction(self.root) as txn:
                for rel, data in files.items():
                    txn.stage(rel).write_bytes(data)
                rec = {"kind": kind, "files": sorted(files), **fields, "truceline": __version__}
                self._commit(txn, [rec])
        return rec

    # ---------------------------------------------------------------- quarantine + info
    def read_quarantine(self) -> pd.DataFrame:
        files = sorted((self.root / "quarantine").glob("*.parquet"))
        if not files:
            return pd.DataFrame(columns=["file", "line", "raw", "reason", "file_sha256", "txn"])
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def info(self) -> dict[str, Any]:
        """What the lake holds: counts per sensor and year, dates, snapshots, quarantine."""
        files = self.detection_files()
        out: dict[str, Any] = {"lake": str(self.root), "detections": {}, "total_detections": 0,
                               "date_range": None}
        if files:
            t = pads.dataset([str(f) for f in files], format="parquet").to_table(
                columns=["sensor", "acq_date"]).to_pandas()
            year = t["acq_date"].dt.year
            table = t.groupby([t["sensor"], year]).size()
            for (sens, yr), n in table.items():
                out["detections"].setdefault(str(sens), {})[str(int(yr))] = int(n)
            out["total_detections"] = int(len(t))
            out["date_range"] = [str(t["acq_date"].min().date()), str(t["acq_date"].max().date())]
        snaps = []
        if self.control_files():
            c = self.read_control(geometry=False)
            for src, g in c.groupby("source"):
                snaps.append({"source": src, "snapshots": int(len(g)),
                              "first": str(g["valid_from"].min().date()),
                              "last": str(g["valid_from"].max().date()),
                              "repaired": int(g["repaired"].sum())})
        out["control"] = snaps
        q = self.read_quarantine()
        reasons = q["reason"].astype(str).str.replace(r"'[^']*'", "'…'", regex=True)
        reasons = reasons.str.replace(r"line \d+", "line N", regex=True)
        out["quarantine"] = {"rows": int(len(q)),
                             "by_reason": {k: int(v) for k, v in reasons.value_counts().items()}}
        baselines = [e for e in self.ledger_entries() if e.get("kind") == "baseline"]
        out["baseline"] = ({s: {"years": m.get("years"), "cells": m.get("n_cells"),
                                "hot_spots": m.get("n_hot_spots")}
                            for s, m in baselines[-1].get("climatologies", {}).items()}
                           if baselines and (self.root / "baseline").is_dir() else {})
        out["enriched_partitions"] = {
            d.name.split("=", 1)[1]: len(list(d.rglob("part.parquet")))
            for d in sorted((self.root / "enriched").glob("control=*"))}
        out["incident_tables"] = len(list((self.root / "incidents").glob("*.parquet")))
        out["reports_published"] = sum(e.get("kind") == "publish-report"
                                       for e in self.ledger_entries())
        check = self.verify_ledger()
        out["ledger"] = {"entries": check.entries, "head": check.head, "ok": check.ok}
        return out


def _timestamps_as(table: pa.Table, unit: str) -> pa.Table:
    """One timestamp unit for every file, whichever pandas wrote (files differ)."""
    fields = [pa.field(f.name, pa.timestamp(unit, f.type.tz)) if pa.types.is_timestamp(f.type)
              else f for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _snapshots_in_force(files: list[Path], start: str | pd.Timestamp | None,
                        end: str | pd.Timestamp | None) -> list[Path]:
    """Snapshot files (named by valid_from) in force on some day of [start, end]."""
    s = pd.Timestamp(start) if start is not None else pd.Timestamp.min
    e = pd.Timestamp(end) if end is not None else pd.Timestamp.max
    by_source: dict[str, list[tuple[pd.Timestamp, Path]]] = {}
    for f in files:
        by_source.setdefault(f.parent.name, []).append((pd.Timestamp(f.stem), f))
    keep = []
    for items in by_source.values():
        items.sort()
        before = [f for d, f in items if d <= s]
        if before:
            keep.append(before[-1])
        keep.extend(f for d, f in items if s < d <= e)
    return sorted(keep)


def _merge_partition(old: pd.DataFrame | None, new: pd.DataFrame
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """Merge new rows into a partition; one row per detection_id, archive over NRT.

    Returns the merged partition and, for each new row, whether it is the one kept.
    """
    cols = list(DETECTION_COLUMNS)
    new_part = new[cols].assign(_origin=np.arange(1, len(new) + 1))
    if old is None:
        both = new_part
    else:
        both = pd.concat([old[cols].assign(_origin=0), new_part], ignore_index=True)
    # archive (is_nrt False) first, then what was there before, then file order
    both = both.sort_values(["is_nrt", "_origin"], kind="stable")
    keep = ~both["detection_id"].duplicated(keep="first")
    kept_new = np.zeros(len(new), dtype=bool)
    kept_new[both.loc[keep & (both["_origin"] > 0), "_origin"].to_numpy() - 1] = True
    merged = both[keep].drop(columns="_origin")
    merged = merged.sort_values(["acq_date", "t_utc", "detection_id"], kind="stable")
    return merged.reset_index(drop=True), kept_new
