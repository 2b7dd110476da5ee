"""The control table: maps of who holds which ground, ingested as one snapshot per source
and day (a second map for a day refused unless it replaces the first; the ground held
since 2014 filled where a map leaves it out) and read back by source and the days in force.

Why apart: these are methods of :class:`truceline.lake.store.Lake`, kept in their own
room by job; they write through its lock and ledger (``_write``, ``_write_arrow``,
``_commit``) and read at the versions it committed (``_dataset``, ``_files``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

from truceline import __version__
from truceline.config import portable_path
from truceline.errors import InputError, LakeError
from truceline.lake import tables as T
from truceline.lake.writing import IngestSummary, Progress, _deltalake, _no_progress, _Write
from truceline.sources.frontlines import (
    SNAPSHOT_COLUMNS,
    ControlFile,
    check_party,
    check_source,
    find_control_files,
    parse_control,
)
from truceline.sources.frontlines import SOURCES as CONTROL_SOURCES


def _options_not_applied(skipped: list[dict[str, Any]], stored: pd.DataFrame, source: str,
                         valid_from: str | None) -> list[str]:
    """A warning for each file skipped as already ingested whose stored snapshot is not
    the --source or --valid-from given now: those options were not applied, and the
    user should hear so (and how to apply them)."""
    day = None if valid_from is None else str(pd.Timestamp(valid_from).date())
    out = []
    for rec in skipped:
        if rec.get("reason") != "already ingested":
            continue
        held = stored[stored["source_sha256"] == rec["sha256"]]
        given = []
        if source != "auto" and (held["source"] != source).any():
            given.append(f"--source {source}")
        if day is not None and (held["day"] != day).any():
            given.append(f"--valid-from {day}")
        if given:
            out.append(f"{rec['file']}: already in the lake as "
                       f"{', '.join(held['snapshot_id'].astype(str))}; {' '.join(given)} "
                       "not applied (pass --replace to store it that way instead)")
    return out


class ControlTables:
    """The control table's methods of :class:`~truceline.lake.store.Lake`."""

    def ingest_control(self, paths: list[str | Path], *, source: str = "auto",
                       party: str = "ru", valid_from: str | None = None,
                       progress: Progress = _no_progress,
                       replace: bool = False) -> IngestSummary:
        """Ingest control maps as snapshots; one write for the whole call.

        A map for a source and day the lake (or this call) already has is refused, unless
        ``replace``: then it replaces the stored snapshot, and so does a file already
        ingested under another source or day (to correct a wrong ``--source`` or
        ``--valid-from``). What it replaces stays readable at the earlier table version
        the ledger names (``Lake.at``).
        """
        files = find_control_files(paths)
        if not files:
            raise InputError(f"{', '.join(map(str, paths))}: no GeoJSON, GeoPackage or "
                             "shapefile found")
        check_source(source)  # even if nothing is parsed
        check_party(party)
        if valid_from is not None and len(files) > 1:
            raise InputError("--valid-from applies to one file; got "
                             f"{len(files)} files")
        summary = IngestSummary()
        with self._write() as w:
            stored = self._snapshot_index()
            seen = self._ingested("ingest-control")
            if replace:  # a file ingested before is parsed again; identical snapshots skip
                seen = {}
            parsed: list[ControlFile] = self._parse_new(
                files, "ingest-control", lambda f, h: parse_control(
                    f, source=source, party=party, valid_from=valid_from, sha256=h),
                summary, progress, seen=seen)
            summary.warnings.extend(_options_not_applied(summary.skipped, stored, source,
                                                         valid_from))
            parsed = self._check_replacements(parsed, stored, replace, summary)
            if not parsed:
                return summary
            summary.warnings.extend(w for cf in parsed for w in cf.warnings)
            self._fill_2014_ground(parsed, summary)
            self._store_snapshots(w, parsed, stored, summary)
        return summary

    def _snapshot_index(self) -> pd.DataFrame:
        """source, day, snapshot_id, source_sha256, source_file, party of every stored
        snapshot."""
        ds = self._dataset(T.CONTROL)
        cols = ["source", "day", "snapshot_id", "source_sha256", "source_file", "party"]
        if ds is None:
            return pd.DataFrame(columns=cols)
        return ds.to_table(columns=cols).to_pandas()

    def _check_replacements(self, parsed: list[ControlFile], stored: pd.DataFrame,
                            replace: bool, summary: IngestSummary) -> list[ControlFile]:
        """Refuse a second map for a source and day unless ``replace``; with it, skip a
        file whose snapshot is stored exactly as it would be again."""
        keep, batch = [], {}
        for cf in parsed:
            src = str(cf.snapshot["source"].iat[0])
            day = str(cf.snapshot["valid_from"].iat[0].date())
            same = stored[(stored["source"] == src) & (stored["day"] == day)]
            party = str(cf.snapshot["party"].iat[0])
            if replace and ((same["source_sha256"] == cf.sha256)
                            & (same["party"].astype(str) == party)).any():
                summary.skipped.append({"file": str(cf.path), "sha256": cf.sha256,
                                        "reason": "already ingested as this source and day"})
                continue
            if not replace and (len(same) or (src, day) in batch):
                other = (same["source_file"].iat[0] if len(same) else batch[(src, day)])
                raise InputError(f"{cf.path}: the lake already has a {src} map for {day} "
                                 f"(from {Path(str(other)).name}); pass --replace to replace "
                                 "it (the earlier snapshot stays readable at its table "
                                 "version), or --valid-from/--source if this map is for "
                                 "another day or source")
            batch[(src, day)] = str(cf.path)
            keep.append(cf)
        return keep

    def _store_snapshots(self, w: _Write, parsed: list[ControlFile], stored: pd.DataFrame,
                         summary: IngestSummary) -> None:
        """Delete what the maps replace (one commit), append the maps (one commit), log."""
        before = self.table_versions().get(T.CONTROL)
        last: dict[tuple[str, str], int] = {}
        for i, cf in enumerate(parsed):  # two maps for one source and day: the last wins
            last[(str(cf.snapshot["source"].iat[0]),
                  str(cf.snapshot["valid_from"].iat[0].date()))] = i
        gone = []
        conds = []
        for (src, day), i in last.items():
            hit = stored[((stored["source"] == src) & (stored["day"] == day))
                         | (stored["source_sha256"] == parsed[i].sha256)]
            gone.extend(hit.to_dict("records"))
            conds.extend(f"(source = {T.sql_str(r['source'])} AND day = {T.sql_str(r['day'])})"
                         for r in hit.to_dict("records"))
        if conds:
            dt = _deltalake().DeltaTable(str(self._table_dir(T.CONTROL)))
            dt.delete(" OR ".join(sorted(set(conds))), commit_properties=w.commit_props())
            w.wrote(T.CONTROL)
        snaps = pd.concat([parsed[i].snapshot for i in sorted(last.values())],
                          ignore_index=True)  # one frame, converted once (not one a map)
        snaps["day"] = snaps["valid_from"].dt.strftime("%Y-%m-%d")
        self._write_arrow(w, T.CONTROL, T.conform(T.frame_to_arrow(snaps), T.SNAPSHOT_SCHEMA),
                          T.SNAPSHOT_SCHEMA, partition_by=T.PARTITIONS[T.CONTROL],
                          geometry=True)
        entries = []
        for i, cf in enumerate(parsed):
            row = cf.snapshot.iloc[0]
            key = (str(row["source"]), str(row["valid_from"].date()))
            replaced = [g for g in gone if (g["source"], g["day"]) == key
                        or g["source_sha256"] == cf.sha256] if last[key] == i else []
            dropped = last[key] != i
            rec = {"kind": "ingest-control", "file": portable_path(cf.path),
                   "sha256": cf.sha256,
                   "snapshot_id": row["snapshot_id"], "source": row["source"],
                   "valid_from": str(row["valid_from"].date()),
                   "crimea_missing": bool(row["crimea_missing"]),
                   "area_km2": round(float(row["area_km2"]), 1),
                   "repaired": bool(row["repaired"]),
                   "repair_area_km2": round(float(row["repair_area_km2"]), 3),
                   "replaces_snapshot": bool(replaced),
                   "replaced": [{"snapshot_id": g["snapshot_id"], "file": g["source_file"],
                                 "sha256": g["source_sha256"]} for g in replaced],
                   "replaced_readable_at_version": before if replaced else None,
                   "superseded_in_batch": dropped,
                   "filled_2014_km2": round(float(row["filled_2014_km2"]), 1),
                   "filled_from": row["filled_from"], "truceline": __version__}
            for g in replaced:
                summary.warnings.append(
                    f"{cf.path}: replaces snapshot {g['snapshot_id']} (from "
                    f"{Path(str(g['source_file'])).name}); the earlier one stays readable at "
                    f"control table version {before}")
            entries.append(rec)
            summary.files.append(rec)
        self._commit(w, entries)
        summary.txn = w.id

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

        ds = self._dataset(T.CONTROL)
        if ds is None:
            return None
        idx = ds.to_table(columns=["day"], filter=(pads.field("source") == source)
                          & (pads.field("day") < str(before.date()))).column("day").to_pylist()
        for day in sorted(set(idx), reverse=True):
            t = ds.to_table(columns=["snapshot_id", "geometry"],
                            filter=(pads.field("source") == source) & (pads.field("day") == day))
            geom = shapely.from_wkb(t.column("geometry")[0].as_py())
            if not misses_2014_ground(geom):
                return pd.Timestamp(day), geom, str(t.column("snapshot_id")[0].as_py())
        return None

    def control_files(self, source: str | None = None) -> list[Path]:
        """Data files of the control table (one per snapshot), of one source if given."""
        f = self._files(T.CONTROL)
        if f.empty:
            return []
        if source is not None:
            f = f[f["source"] == source]
        return [Path(p) for p in f.sort_values(["source", "day", "path"])["path"]]

    def snapshot_files(self, source: str | None, start: str | pd.Timestamp | None,
                       end: str | pd.Timestamp | None) -> list[Path]:
        """Data files of the snapshots in force some day of [start, end] (of ``source``)."""
        f = self._files(T.CONTROL)
        if f.empty:
            return []
        if source is not None:
            f = f[f["source"] == source]
        days = _in_force(f.assign(valid_from=pd.to_datetime(f["day"])), start, end)
        return [Path(p) for p in f[days].sort_values(["source", "day", "path"])["path"]]

    def check_control_source(self, source: str | None) -> pd.DataFrame:
        """The control table's files, after checking the lake has maps (of ``source``,
        if given): a name no source has is a typo (InputError), a known source the lake
        lacks is missing data (LakeError), both naming what the lake has. Cheap: reads
        the table's log, not its maps, so a command can check before its work."""
        f = self._files(T.CONTROL)
        if f.empty:
            raise LakeError(f"no control snapshots in {self.root}; run "
                            "`truceline ingest control PATH` first")
        if source is not None and not (f["source"] == source).any():
            have = sorted(f["source"].unique())
            err = LakeError if source in CONTROL_SOURCES else InputError
            raise err(f"no control snapshots from source {source!r} in {self.root}; "
                      f"the lake has: {', '.join(have)}")
        return f

    def read_control(self, source: str | None = None, *,
                     start: str | pd.Timestamp | None = None,
                     end: str | pd.Timestamp | None = None,
                     geometry: bool = True) -> gpd.GeoDataFrame | pd.DataFrame:
        """Control snapshots (of one source, if given) sorted by valid_from.

        With ``start``/``end``, only the snapshots in force some day of [start, end] are
        read: those valid from a day in the range, and per source the last one before it.
        """
        f = self.check_control_source(source)
        if source is not None:
            f = f[f["source"] == source]
        if start is not None or end is not None:  # chosen from the log: only they are read
            f = f[_in_force(f.assign(valid_from=pd.to_datetime(f["day"])), start, end)]
        if f.empty:  # none in force then: an empty frame with the columns
            empty = T.conform(pa.table({}), T.SNAPSHOT_SCHEMA).drop_columns(["day"])
            return T.to_frame(empty, geometry="wkb" if geometry else None)
        ds = self._dataset(T.CONTROL)
        assert ds is not None
        cols = [*SNAPSHOT_COLUMNS, "day", *(["geometry"] if geometry else [])]
        flt = (pads.field("source").isin(sorted(f["source"].unique()))
               & pads.field("day").isin(sorted(f["day"].unique())))
        table = ds.to_table(columns=cols, filter=flt)
        frame = table.drop_columns(["geometry"] if geometry else []).to_pandas()
        wanted = set(zip(f["source"], f["day"], strict=True))
        keep = np.array([k in wanted for k in zip(frame["source"], frame["day"], strict=True)],
                        dtype=bool)
        frame = frame.assign(_row=np.arange(len(frame)))[keep]
        frame = frame.sort_values(["valid_from", "source"], kind="stable")
        rows = frame.pop("_row").to_numpy()
        frame = frame.drop(columns="day").reset_index(drop=True)
        if geometry:
            import shapely

            wkb = table.column("geometry").take(pa.array(rows)).to_numpy(zero_copy_only=False)
            frame = gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs="EPSG:4326")
        return frame


def _in_force(meta: pd.DataFrame, start: str | pd.Timestamp | None,
              end: str | pd.Timestamp | None) -> np.ndarray:
    """Rows (snapshots with ``source``, ``valid_from``) in force some day of [start, end]:
    per source, the last valid on or before start, and those valid from a later day up to
    end."""
    s = pd.Timestamp(start) if start is not None else pd.Timestamp.min
    e = pd.Timestamp(end) if end is not None else pd.Timestamp.max
    vf = pd.to_datetime(meta["valid_from"])
    before = vf <= s
    last_before = vf.where(before).groupby(meta["source"]).transform("max")
    keep = (before & (vf == last_before)) | ((vf > s) & (vf <= e))
    return keep.to_numpy()
