"""The detections table: FIRMS files ingested (parsed a piece at a time, bad rows
quarantined, archive rows replacing NRT ones) and read back by day, sensor and column.

Why apart: the lake's biggest job by far (memory follows the piece being merged, not the
file or the lake), mixed into :class:`truceline.lake.store.Lake` as the control table's
methods are (:mod:`truceline.lake.control_tables`), through the same lock and ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from truceline import __version__
from truceline.config import portable_path
from truceline.errors import InputError
from truceline.lake import tables as T
from truceline.lake.writing import IngestSummary, Progress, _deltalake, _no_progress, _Write
from truceline.sources.firms import (
    DETECTION_COLUMNS,
    FirmsFile,
    check_sensor,
    check_utf8,
    find_firms_files,
    firms_layout,
    parse_firms,
    parse_firms_pieces,
)


class FirmsTables:
    """The detections table's methods of :class:`~truceline.lake.store.Lake`."""

    def detection_files(self, sensors: list[str] | None = None,
                        start: pd.Timestamp | None = None,
                        end: pd.Timestamp | None = None) -> list[Path]:
        """Data files (at the version read) that can hold detections of ``sensors`` in
        [start, end]; Parquet any tool reads, without the partition columns."""
        f = self._files(T.DETECTIONS)
        if f.empty:
            return []
        ym = f["year"].astype(int) * 12 + f["month"].astype(int)
        keep = np.ones(len(f), dtype=bool)
        if sensors is not None:
            keep &= f["sensor"].isin(sensors).to_numpy()
        if start is not None:
            keep &= (ym >= start.year * 12 + start.month).to_numpy()
        if end is not None:
            keep &= (ym <= end.year * 12 + end.month).to_numpy()
        f = f[keep].assign(_y=f["year"].astype(int), _m=f["month"].astype(int))
        return [Path(p) for p in f.sort_values(["sensor", "_y", "_m", "path"])["path"]]

    def detection_years(self, sensor: str) -> set[int]:
        """The years in which the lake holds detections of ``sensor``."""
        f = self._files(T.DETECTIONS)
        if f.empty:
            return set()
        f = f[(f["sensor"] == sensor) & (f["num_records"] > 0)]
        return {int(y) for y in f["year"]}

    def read_detections(self, start: str | pd.Timestamp | None = None,
                        end: str | pd.Timestamp | None = None,
                        sensors: list[str] | None = None,
                        columns: list[str] | None = None, *,
                        geometry: bool = True) -> pd.DataFrame:
        """Detections with acq_date in [start, end] (inclusive days), in a stable order
        (sensor, day, time, id), as a GeoDataFrame of points (EPSG:4326) when ``lon`` and
        ``lat`` are among the columns (``geometry=False``: a plain DataFrame)."""
        s = pd.Timestamp(start) if start is not None else None
        e = pd.Timestamp(end) if end is not None else None
        cols = list(columns) if columns else list(DETECTION_COLUMNS)
        bad = [c for c in cols if c not in DETECTION_COLUMNS]
        if bad:
            raise InputError(f"columns {bad}: not detection columns; expected some of "
                             f"{', '.join(DETECTION_COLUMNS)}")
        ds = self._dataset(T.DETECTIONS)
        if ds is None:
            empty = T.conform(pa.table({}), T.DETECTION_SCHEMA).select(cols)
            return T.to_frame(empty, geometry="lonlat" if geometry else None)
        flt = _detection_filter(s, e, sensors)
        order = [c for c in ("sensor", "acq_date", "t_utc", "detection_id")]
        read = cols + [c for c in order if c not in cols]
        table = ds.to_table(columns=read, filter=flt)
        table = table.sort_by([(c, "ascending") for c in order]).select(cols)
        return T.to_frame(table, geometry="lonlat" if geometry else None)

    def ingest_firms(self, paths: list[str | Path], *, sensor: str | None = None,
                     satellite: str | None = None,
                     progress: Progress = _no_progress) -> IngestSummary:
        """Ingest FIRMS files and folders: parse, quarantine bad rows, merge, log.

        The whole call is one write: any error leaves the lake as it was. Files are
        parsed and merged a piece at a time (:func:`parse_firms_pieces`), so memory
        follows the piece, not the file or the lake.
        """
        files, not_firms = find_firms_files(paths)
        if not files:
            raise InputError(f"{', '.join(map(str, paths))}: no FIRMS .csv or .txt files "
                             "found")
        check_sensor(sensor)  # even if nothing is parsed
        summary = IngestSummary(skipped=list(not_firms))
        with self._write() as w:
            todo = self._new_files(files, "ingest-firms", summary)
            for f, _ in todo:  # a file that is no FIRMS layout, or not UTF-8 text, is
                if firms_layout(f) is None:  # refused before any write
                    parse_firms(f, sensor=sensor, satellite=satellite)  # raises, naming it
                check_utf8(f)
            rejected, entries = [], []
            for i, (f, digest) in enumerate(todo):
                progress("ingest", i, len(todo))
                counts = {"rows": 0, "accepted": 0, "rejected": 0, "added": 0,
                          "replaced_nrt": 0, "already_in_lake": 0}
                first: FirmsFile | None = None
                mine: list[pd.DataFrame] = []
                for piece in parse_firms_pieces(f, sensor=sensor, satellite=satellite,
                                                sha256=digest):
                    first = first or piece
                    counts["rows"] += piece.n_rows
                    counts["accepted"] += len(piece.detections)
                    counts["rejected"] += len(piece.rejected)
                    for k, v in self._merge_piece(w, piece.detections).items():
                        counts[k] += v
                    piece.detections = piece.detections.iloc[:0]
                    if len(piece.rejected):
                        mine.append(piece.rejected.assign(file_sha256=digest, txn=w.id))
                assert first is not None
                if counts["rows"] and not counts["accepted"]:
                    raise _nothing_accepted(f, counts["rows"], mine)
                rejected.extend(mine)
                rec = {"kind": "ingest-firms", "file": portable_path(first.path), "sha256": digest,
                       "layout": first.layout, **counts, "sensor_rule": first.sensor_rule,
                       "truceline": __version__}
                entries.append(rec)
                summary.files.append(rec)
            progress("ingest", len(todo), len(todo))
            if not entries:
                return summary
            if rejected:
                q = T.conform(pa.Table.from_pandas(pd.concat(rejected, ignore_index=True),
                                                   preserve_index=False), T.QUARANTINE_SCHEMA)
                self._write_arrow(w, T.QUARANTINE, q, T.QUARANTINE_SCHEMA, partition_by=[])
            self._commit(w, entries)
            summary.txn = w.id
        return summary

    def _merge_piece(self, w: _Write, detections: pd.DataFrame) -> dict[str, int]:
        """Merge parsed detections (ids unique among them) into the table as it stands in
        this write: one row per detection_id, archive over NRT, otherwise what the lake
        holds first. New rows are appended; a month where an archive row replaces an NRT
        row is rewritten, streamed batch by batch. Returns the counts."""
        new = T.detections_arrow(detections)
        if not len(new):
            return {}
        is_nrt = new.column("is_nrt").to_numpy(zero_copy_only=False)
        lake_ids, lake_nrt = self._ids_in_lake(new)
        idx = pc.index_in(new.column("detection_id"), value_set=lake_ids)
        in_old = idx.is_valid().to_numpy(zero_copy_only=False)
        where = idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        old_nrt = np.zeros(len(new), dtype=bool)
        old_nrt[in_old] = lake_nrt[where[in_old]]
        upgrade = in_old & old_nrt & ~is_nrt
        kept = ~in_old | upgrade
        rows = new.filter(pa.array(kept))
        if upgrade.any():
            self._rewrite_with_upgrades(w, rows, new.column("detection_id").filter(
                pa.array(upgrade)))
        elif len(rows):
            self._write_arrow(w, T.DETECTIONS, rows, T.DETECTION_SCHEMA,
                              partition_by=T.PARTITIONS[T.DETECTIONS])
        return {"added": int((kept & ~in_old).sum()), "replaced_nrt": int(upgrade.sum()),
                "already_in_lake": int((~kept).sum())}

    def _latest(self, name: str) -> pads.Dataset | None:
        """A table as this write has left it so far (the caller holds the lock)."""
        path = self._table_dir(name)
        dl = _deltalake()
        if not dl.DeltaTable.is_deltatable(str(path)):
            return None
        return dl.DeltaTable(str(path)).to_pyarrow_dataset()

    def _ids_in_lake(self, candidates: pa.Table) -> tuple[pa.Array, np.ndarray]:
        """Which candidate ids the lake holds (with this write's rows so far), and whether
        its copy is NRT (streamed: only matching ids are kept, so memory follows the
        ingest, not the lake)."""
        ds = self._latest(T.DETECTIONS)
        if ds is None or not len(candidates):
            return pa.array([], pa.string()), np.zeros(0, dtype=bool)
        sensors = pc.unique(candidates.column("sensor")).to_pylist()
        years = pc.unique(candidates.column("year")).to_pylist()
        months = pc.unique(candidates.column("month")).to_pylist()
        flt = (pads.field("sensor").isin(sensors) & pads.field("year").isin(years)
               & pads.field("month").isin(months)
               & pads.field("detection_id").isin(candidates.column("detection_id")))
        t = ds.to_table(columns=["detection_id", "is_nrt"], filter=flt)
        return t.column("detection_id").combine_chunks(), t.column("is_nrt").to_numpy(
            zero_copy_only=False)

    def _rewrite_with_upgrades(self, w: _Write, rows: pa.Table, upgraded: pa.ChunkedArray
                               ) -> None:
        """Partitions where archive rows replace NRT rows are rewritten in one commit
        (their other rows streamed through); new rows elsewhere are appended."""
        parts = rows.filter(pc.is_in(rows.column("detection_id"), value_set=upgraded))
        keys = sorted({(s, y, m) for s, y, m in zip(parts.column("sensor").to_pylist(),
                                                    parts.column("year").to_pylist(),
                                                    parts.column("month").to_pylist(),
                                                    strict=True)})
        in_parts = np.zeros(len(rows), dtype=bool)
        sens = rows.column("sensor").to_numpy(zero_copy_only=False)
        yr = rows.column("year").to_numpy(zero_copy_only=False)
        mo = rows.column("month").to_numpy(zero_copy_only=False)
        for s, y, m in keys:
            in_parts |= (sens == s) & (yr == y) & (mo == m)
        ds = self._latest(T.DETECTIONS)
        assert ds is not None
        flt = None
        for s, y, m in keys:
            c = ((pads.field("sensor") == s) & (pads.field("year") == y)
                 & (pads.field("month") == m))
            flt = c if flt is None else flt | c
        flt = flt & ~pads.field("detection_id").isin(upgraded.combine_chunks())
        inside = rows.filter(pa.array(in_parts))

        def batches() -> Iterator[pa.RecordBatch]:
            for b in ds.scanner(columns=T.DETECTION_SCHEMA.names, filter=flt).to_batches():
                if b.num_rows:
                    yield T.conform(pa.Table.from_batches([b]), T.DETECTION_SCHEMA
                                    ).to_batches()[0]
            yield from inside.to_batches()

        predicate = " OR ".join(f"(sensor = {T.sql_str(s)} AND year = {int(y)} AND "
                                f"month = {int(m)})" for s, y, m in keys)
        reader = pa.RecordBatchReader.from_batches(T.DETECTION_SCHEMA, batches())
        self._write_arrow(w, T.DETECTIONS, reader, T.DETECTION_SCHEMA, mode="overwrite",
                          predicate=predicate)
        outside = rows.filter(pa.array(~in_parts))
        if len(outside):
            self._write_arrow(w, T.DETECTIONS, outside, T.DETECTION_SCHEMA)


def _nothing_accepted(path: Path, rows: int, rejected: list[pd.DataFrame],
                      shown: int = 3) -> InputError:
    """A FIRMS file none of whose rows is a detection is the wrong file or a broken one,
    not data with a few bad lines: refused whole (the lake unchanged), naming the first
    lines and why, rather than filed as an ingest that added nothing."""
    q = pd.concat(rejected, ignore_index=True).sort_values("line").head(shown)
    why = "; ".join(f"line {r.line}: {r.reason}" for r in q.itertuples())
    return InputError(f"{path}: none of its {rows:,} rows is a valid detection ({why}"
                      f"{'; ...' if rows > len(q) else ''}); nothing was ingested")


def _detection_filter(s: pd.Timestamp | None, e: pd.Timestamp | None,
                      sensors: list[str] | None) -> pads.Expression | None:
    """Partition pruning (sensor, year, month) and the day range as one expression."""
    flt = None

    def both(c: pads.Expression) -> None:
        nonlocal flt
        flt = c if flt is None else flt & c

    if sensors is not None:
        both(pads.field("sensor").isin(list(sensors)))
    year, month = pads.field("year"), pads.field("month")
    if s is not None:
        both((year > s.year) | ((year == s.year) & (month >= s.month)))
        both(pads.field("acq_date") >= pa.scalar(s.to_pydatetime(), pa.timestamp("us")))
    if e is not None:
        both((year < e.year) | ((year == e.year) & (month <= e.month)))
        both(pads.field("acq_date") <= pa.scalar(e.to_pydatetime(), pa.timestamp("us")))
    return flt
