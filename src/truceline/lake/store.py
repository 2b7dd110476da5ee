"""The lake: Delta Lake tables, derived files, and a hash-chained ledger.

Layout (the tables are Delta Lake tables: Parquet files plus a ``_delta_log``)::

    LAKE/
      lake.json                         format marker: {"format": "truceline-lake", "layout": 2}
      tables/detections/                sensor=/year=/month= partitions, no geometry column
      tables/control/                   source=/day= partitions, one snapshot per day, WKB
      tables/quarantine/                rejected input rows: file, line, raw, reason, txn
      tables/enriched/                  control=/sensor=/year=/month=  (`truceline enrich`)
      tables/incidents/                 key= partitions (`truceline detect`); any keyed table
      baseline/VIIRS.npz, MODIS.npz     climatologies, whole files
      ledger.jsonl, ledger.head         hash-chained log and its head (the commit point)
      .lock                             one writer at a time (readers never take it)

**Commit protocol.** A write (an ingest, an enrich, ...) makes one or more Delta commits,
then appends ledger entries that record the table versions it produced (``tables``) and
moves ``ledger.head``. The head moving is the commit point of the whole write, across
tables. Readers read each table at the version the committed ledger records (they never
wait and never see a table version the ledger has not committed); a :class:`Lake` made
with ``versions=`` (see :meth:`Lake.at`) reads those versions instead (time travel).
A writer that finds table versions past the committed ones (a crash between a Delta
commit and the ledger) restores the tables to the committed versions before it writes,
and logs that it did. Nothing in recovery reads a path from a file.

Detection columns are :data:`truceline.sources.firms.DETECTION_COLUMNS`; control
snapshot columns :data:`truceline.sources.frontlines.SNAPSHOT_COLUMNS` plus ``geometry``.
The two tables' own methods (ingest and read) live beside this module, by job
(:mod:`truceline.lake.firms_tables`, :mod:`truceline.lake.control_tables`); this one
holds the lake itself: layout, the lock, the ledger, recovery and the derived tables.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

from truceline import __version__
from truceline.errors import InputError, IntegrityError, LakeError
from truceline.hashing import sha256_file
from truceline.lake import ledger as ledger_mod
from truceline.lake import tables as T
from truceline.lake.control_tables import ControlTables
from truceline.lake.firms_tables import FirmsTables
from truceline.lake.writing import IngestSummary, Progress, _deltalake, _Write

FORMAT_FILE = "lake.json"
FORMAT = {"format": "truceline-lake", "layout": 2, "tables": "delta"}
#: folders of the first layout (GeoParquet files swapped by a .txn folder)
OLD_LAYOUT_DIRS = ("detections", "control", "quarantine", "enriched", "incidents", ".txn")
LOCK_WAIT_S = 900.0  # a ledger record waits this long for a running ingest
_TMP_FILE = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)\.(?P<txn>[0-9a-f]{16})\.tmp$")


def open_existing(root: str | Path) -> Lake:
    """The lake at ``root`` for reading: InputError when the folder does not exist or
    holds other files but no lake (a mistyped path must not read as an empty lake and
    blame missing data); an empty folder is an empty lake."""
    root = Path(root)
    if not root.exists():
        raise InputError(f"no lake at {root}: the folder does not exist (name the lake "
                         "folder, e.g. --lake or $TRUCELINE_LAKE, or fill one first with "
                         "`truceline ingest firms PATH` or `truceline demo`)")
    lake = Lake(root)  # refuses a lake of the first layout, or a lake's tables folder
    if not (root / FORMAT_FILE).exists() and any(
            p.name not in (".lock", "ledger.jsonl") for p in root.iterdir()):
        raise InputError(f"no lake at {root}: the folder holds files but no {FORMAT_FILE} "
                         "(a data folder? name the lake folder, e.g. --lake or "
                         "$TRUCELINE_LAKE)")
    return lake


def check_not_tables_folder(root: Path) -> None:
    """Refuse a folder of Delta tables (a lake's ``tables/``) given as the lake itself.

    Why: its table folders have the first layout's names, so it would be read as a lake in
    that layout, and migrating it would delete the tables it holds."""
    delta = [d for d in OLD_LAYOUT_DIRS if (root / d / "_delta_log").is_dir()]
    if delta:
        lake = root.parent if (root.parent / FORMAT_FILE).exists() else None
        raise LakeError(f"{root}: holds Delta tables ({', '.join(delta)}), so it is the "
                        f"tables folder of a lake, not a lake: give the lake's own folder"
                        + (f" ({lake})" if lake else " (the one with lake.json)"))


def _check_file_names(files: dict[str, bytes]) -> None:
    """Derived files live one folder down, never among the tables or hidden."""
    for rel in files:
        parts = rel.split("/")
        if len(parts) != 2 or parts[0] in (T.TABLES_DIR, "") or parts[0].startswith(".") \
                or not _TMP_FILE.match(f"{parts[1]}.{'0' * 16}.tmp"):
            raise LakeError(f"{rel}: derived files live one folder down in the lake "
                            "(e.g. baseline/VIIRS.npz)")


class Lake(FirmsTables, ControlTables):
    """A lake folder. Opening it only reads; writers recover from a crash first.

    ``versions`` pins the table versions to read (see :meth:`at`, :meth:`table_versions`).
    """

    def __init__(self, root: str | Path, *, versions: dict[str, int] | None = None) -> None:
        self.root = Path(root)
        self.ledger_path = self.root / "ledger.jsonl"
        self._pinned = dict(versions) if versions is not None else None
        self._tables: dict[tuple[str, int], Any] = {}
        if self.root.exists() and not self.root.is_dir():
            raise LakeError(f"{self.root}: exists and is not a folder")
        self._check_layout()

    # ---------------------------------------------------------------- layout and versions
    def _check_layout(self) -> None:
        marker = self.root / FORMAT_FILE
        if marker.exists():
            try:
                fmt = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise LakeError(f"{marker}: unreadable ({exc})") from exc
            if not isinstance(fmt, dict) or fmt.get("format") != FORMAT["format"] or \
                    fmt.get("layout") != FORMAT["layout"]:
                raise LakeError(f"{marker}: a lake layout this truceline {__version__} does "
                                f"not know ({fmt!r}); expected layout {FORMAT['layout']}")
            return
        check_not_tables_folder(self.root)
        old = [d for d in OLD_LAYOUT_DIRS if (self.root / d).is_dir()]
        if old:
            raise LakeError(f"{self.root}: a lake in the first layout (GeoParquet folders "
                            f"{', '.join(old)}); convert it once with `truceline lake migrate "
                            f"--lake {self.root}` (the ledger is kept, nothing is lost)")

    def _table_dir(self, name: str) -> Path:
        return self.root / T.TABLES_DIR / T.check_table_name(name)

    def _latest_version(self, name: str) -> int:
        return int(_deltalake().DeltaTable(str(self._table_dir(name))).version())

    def table_versions(self) -> dict[str, int]:
        """The version of every table this lake reads: pinned, or the latest the ledger
        committed. Record it with a result; ``Lake(root, versions=...)`` reads it back."""
        if self._pinned is not None:
            return dict(self._pinned)
        return _committed_versions(self.ledger_entries())

    def at(self, versions: dict[str, int] | None = None) -> Lake:
        """A read-only view of this lake at ``versions`` (default: the versions now), so a
        long computation reads one consistent state while ingests go on."""
        return Lake(self.root, versions=self.table_versions() if versions is None else versions)

    def _table(self, name: str) -> Any | None:
        """The Delta table ``name`` at the version this lake reads; None if it has none."""
        v = self.table_versions().get(name)
        if v is None:
            return None
        key = (name, v)
        if key not in self._tables:
            path = self._table_dir(name)
            try:
                self._tables[key] = _deltalake().DeltaTable(str(path), version=v)
            except Exception as exc:  # noqa: BLE001 - delta-rs raises several kinds
                raise LakeError(f"{path}: table version {v} cannot be read ({exc})") from exc
        return self._tables[key]

    def _dataset(self, name: str) -> pads.Dataset | None:
        dt = self._table(name)
        if dt is None:
            return None
        key = (f"{name}/dataset", int(dt.version()))
        if key not in self._tables:  # building it lists every file: 0.2 s on the demo lake
            self._tables[key] = dt.to_pyarrow_dataset()
        return self._tables[key]

    def _properties(self, name: str) -> dict[str, Any]:
        dt = self._table(name)
        return {} if dt is None else T.properties_of(dt.metadata().description)

    def _files(self, name: str) -> pd.DataFrame:
        """Live data files of a table at the version read: path, rows, partition values."""
        dt = self._table(name)
        if dt is None:
            return pd.DataFrame(columns=["path", "num_records"])
        frame = pa.table(dt.get_add_actions(flatten=True)).to_pandas()
        frame.columns = [c.removeprefix("partition.") for c in frame.columns]
        frame["path"] = [str(self._table_dir(name) / p) for p in frame["path"]]
        return frame

    # ---------------------------------------------------------------- writing
    @contextmanager
    def _locked(self, wait: float = 0.0) -> Iterator[None]:
        """The write lock, after recovering from any crash. ``wait``: seconds to wait for
        another writer (0: refuse at once)."""
        if self._pinned is not None:
            raise LakeError(f"{self.root}: this view reads fixed table versions; open the "
                            "lake again to write")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = open(self.root / ".lock", "a")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise LakeError(f"{self.root}: cannot write to this lake ({exc.strerror}); it "
                            "can still be read") from exc
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as exc:
                    if time.monotonic() >= deadline:
                        raise LakeError(f"{self.root}: another truceline process is writing "
                                        "to this lake; try again when it has finished (reads "
                                        "work meanwhile)") from exc
                    time.sleep(0.2)
            try:
                marker = self.root / FORMAT_FILE
                if not marker.exists():
                    ledger_mod.write_durably(marker, (json.dumps(FORMAT) + "\n").encode())
                self._tables.clear()
                self.recover()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        finally:
            lock.close()

    def recover(self) -> list[str]:
        """Finish or undo what a crash left (the caller holds the write lock).

        The ledger's interrupted append is completed or cut back to its recorded size;
        then the ledger must verify (else writes are refused: exit 4); then every table is
        brought back to the version the ledger committed, and left-over temporary files
        of derived-file writes are finished or removed. What was done is logged.
        """
        done = []
        msg = ledger_mod.finish_pending(self.ledger_path)
        if msg:
            done.append(msg)
        check = self.verify_ledger()
        if not check.ok:
            raise IntegrityError(f"{self.ledger_path}: fails verification, so this lake takes "
                                 f"no writes: {'; '.join(check.problems[:3])}")
        entries = self.ledger_entries()
        committed = _committed_versions(entries)
        restored: dict[str, int] = {}
        base = self.root / T.TABLES_DIR
        for d in sorted(base.iterdir()) if base.is_dir() else []:
            if d.is_symlink() or not d.is_dir() or not T.TABLE_NAME.match(d.name):
                continue
            if d.name not in committed:  # created by a write that never committed
                shutil.rmtree(d)
                done.append(f"removed table {d.name}, created by a write that never committed")
                continue
            latest = self._latest_version(d.name)
            if latest > committed[d.name]:
                _deltalake().DeltaTable(str(d)).restore(committed[d.name])
                restored[d.name] = self._latest_version(d.name)
                done.append(f"restored table {d.name} to version {committed[d.name]} "
                            f"(versions {committed[d.name] + 1}-{latest} never committed)")
        txns = {e.get("txn") for e in entries}
        for sub in sorted(self.root.iterdir()):
            if sub.is_symlink() or not sub.is_dir() or sub.name in (T.TABLES_DIR,) or \
                    sub.name.startswith("."):
                continue
            for f in sorted(sub.iterdir()):
                m = _TMP_FILE.match(f.name)
                if not m or f.is_symlink() or not f.is_file():
                    continue
                if m["txn"] in txns:
                    os.replace(f, sub / m["name"])
                    done.append(f"finished writing {sub.name}/{m['name']}")
                else:
                    f.unlink()
                    done.append(f"removed {sub.name}/{f.name}, never committed")
        if restored:
            self._append([{"kind": "recover", "done": done, "tables": restored}], entries)
        self._tables.clear()
        return done

    def _append(self, entries: list[dict[str, Any]],
                before: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        chain = self.ledger_entries() if before is None else before
        new: list[dict[str, Any]] = []
        for fields in entries:
            new.append(ledger_mod.make_entry(chain + new, **fields))
        ledger_mod.append_entries(self.ledger_path, new, before=chain)
        self._tables.clear()
        return new

    @contextmanager
    def _write(self, wait: float = 0.0) -> Iterator[_Write]:
        """A write under the lock (``wait``: as :meth:`_locked`); an exception undoes the
        table commits it made."""
        with self._locked(wait):
            w = _Write(self)
            try:
                yield w
            except BaseException:
                self._undo(w)
                raise

    def _undo(self, w: _Write) -> None:
        """Bring every table this write touched back to its committed version."""
        ledger_mod.finish_pending(self.ledger_path)
        committed = _committed_versions(self.ledger_entries())
        for name in w.after:
            if name not in committed:
                shutil.rmtree(self._table_dir(name), ignore_errors=True)
            elif self._latest_version(name) > committed[name]:
                _deltalake().DeltaTable(str(self._table_dir(name))).restore(committed[name])
                self._append([{"kind": "recover", "done": [f"undid write {w.id}"],
                               "tables": {name: self._latest_version(name)}}])
        self._tables.clear()

    def _commit(self, w: _Write, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Log the write: every entry carries its id and the versions it produced."""
        tables = dict(w.after)
        return self._append([{**e, "txn": w.id, "tables": tables} for e in entries])

    def _write_arrow(self, w: _Write, name: str, data: Any, schema: pa.Schema, *,
                     mode: str = "append", predicate: str | None = None,
                     partition_by: list[str] | None = None, merge_schema: bool = False,
                     uint64: list[str] | tuple[str, ...] = (), geometry: bool = False) -> None:
        """One Delta commit of ``data`` (an Arrow table or a RecordBatchReader)."""
        dl = _deltalake()
        path = self._table_dir(name)
        exists = dl.DeltaTable.is_deltatable(str(path))
        props: dict[str, Any] = {}
        if uint64:
            props[T.UINT64_PROPERTY] = sorted(uint64)
        if geometry:
            props[T.GEOMETRY_PROPERTY] = T.WKB_4326
        if exists and props:
            dt = dl.DeltaTable(str(path))
            have = T.properties_of(dt.metadata().description)
            merged = {**have, **props}
            merged[T.UINT64_PROPERTY] = sorted(set(have.get(T.UINT64_PROPERTY) or [])
                                               | set(uint64))
            if not merged[T.UINT64_PROPERTY]:
                del merged[T.UINT64_PROPERTY]
            if merged != have:
                dt.alter.set_table_description(T.describe(merged))
        if not exists:
            path.mkdir(parents=True, exist_ok=True)
        dl.write_deltalake(
            str(path), data, mode=mode if exists else "append", predicate=predicate if exists
            else None, partition_by=partition_by if not exists else None,
            description=T.describe(props) if not exists and props else None,
            schema_mode="merge" if merge_schema and exists else None,
            writer_properties=T.writer_properties(),
            commit_properties=w.commit_props(), name=name if not exists else None)
        w.wrote(name)

    def ledger_entries(self) -> list[dict[str, Any]]:
        """The committed ledger entries (integrity errors raise, exit 4)."""
        return ledger_mod.read_entries(self.ledger_path)

    def verify_ledger(self, anchor: str | None = None) -> ledger_mod.LedgerCheck:
        """Re-walk the ledger's chain; with ``anchor`` (from :meth:`ledger_anchor`), also
        check the chain still contains that entry."""
        return ledger_mod.verify_ledger(self.ledger_path, anchor)

    def ledger_anchor(self) -> str:
        """``SEQ:HASH`` of the committed head: publish it elsewhere, check it later with
        ``truceline ledger verify --anchor``."""
        entries = self.ledger_entries()
        return f"{len(entries)}:{ledger_mod.head_of(entries)}"

    def _ingested(self, kind: str) -> dict[str, int]:
        """sha256 -> ledger seq of every file already ingested as ``kind``."""
        return {e["sha256"]: e["seq"] for e in self.ledger_entries()
                if e.get("kind") == kind and "sha256" in e}

    def _new_files(self, files: list[Path], kind: str, summary: IngestSummary,
                   seen: dict[str, int] | None = None) -> list[tuple[Path, str]]:
        """(file, sha256) of the files the ledger does not record as ``kind`` (or not in
        ``seen``), each once; the others are listed in ``summary.skipped``."""
        seen = self._ingested(kind) if seen is None else seen
        out, batch = [], set()
        for f in files:
            digest = sha256_file(f)
            if digest in seen or digest in batch:
                summary.skipped.append({"file": str(f), "sha256": digest,
                                        "reason": "already ingested",
                                        "ledger_seq": seen.get(digest)})
                continue
            batch.add(digest)
            out.append((f, digest))
        return out

    def _parse_new(self, files: list[Path], kind: str, parse: Callable[[Path, str], Any],
                   summary: IngestSummary, progress: Progress,
                   seen: dict[str, int] | None = None) -> list[Any]:
        """Parse the files the ledger does not already record as ``kind`` (or not in
        ``seen``), each once; ``parse(path, sha256)``. A re-run costs a hash per file."""
        todo = self._new_files(files, kind, summary, seen)
        parsed: list[Any] = []
        for i, (f, digest) in enumerate(todo):
            progress("parse", i, len(todo))
            parsed.append(parse(f, digest))
        progress("parse", len(todo), len(todo))
        return parsed

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append a ledger entry for something published from this lake (waits for a
        running write to finish rather than failing)."""
        with self._locked(wait=LOCK_WAIT_S):
            return self._append([{"kind": kind, **fields}])[0]

    # ---------------------------------------------------------------- derived tables
    def write_enriched(self, frame: pd.DataFrame, *, control: str,
                       params: dict[str, Any]) -> dict[str, Any]:
        """Store enriched detections, replacing the months they cover, in one commit.

        ``control`` names the control source the frame was enriched against (``any``
        for the most recent snapshot of any source); each source keeps its own copy.
        """
        if frame.empty:
            return {"rows": 0, "partitions": 0}
        day = pd.to_datetime(frame["acq_date"])
        body = pd.DataFrame(frame.drop(columns=[c for c in ("geometry", "control", "year",
                                                            "month") if c in frame]))
        body = body.assign(control=control, year=day.dt.year.astype("int32").to_numpy(),
                           month=day.dt.month.astype("int32").to_numpy())
        table, uint64 = T.to_delta_arrow(pa.Table.from_pandas(body.reset_index(drop=True),
                                                              preserve_index=False))
        keys = sorted(set(zip(body["sensor"], body["year"], body["month"], strict=True)))
        predicate = f"control = {T.sql_str(control)} AND (" + " OR ".join(
            f"(sensor = {T.sql_str(s)} AND year = {int(y)} AND month = {int(m)})"
            for s, y, m in keys) + ")"
        with self._write() as w:
            self._write_arrow(w, T.ENRICHED, table, table.schema, mode="overwrite",
                              predicate=predicate, partition_by=T.PARTITIONS[T.ENRICHED],
                              merge_schema=True, uint64=uint64)
            rec = {"kind": "enrich", "control": control, "rows": int(len(frame)),
                   "partitions": len(keys), "from": str(day.min().date()),
                   "to": str(day.max().date()), "params": params, "truceline": __version__}
            self._commit(w, [rec])
        return rec

    def read_enriched(self, start: str | pd.Timestamp | None = None,
                      end: str | pd.Timestamp | None = None, *, control: str = "any",
                      geometry: bool = False) -> pd.DataFrame:
        """Enriched detections stored by :meth:`write_enriched` with acq_date in [start, end]."""
        ds = self._dataset(T.ENRICHED)
        if ds is None:
            return pd.DataFrame()
        s = pd.Timestamp(start) if start is not None else None
        e = pd.Timestamp(end) if end is not None else None
        flt = pads.field("control") == control
        day = pads.field("acq_date")
        if s is not None:
            flt = flt & (pads.field("year") >= s.year) & (day >= pa.scalar(
                s.to_pydatetime(), ds.schema.field("acq_date").type))
        if e is not None:
            flt = flt & (pads.field("year") <= e.year) & (day <= pa.scalar(
                e.to_pydatetime(), ds.schema.field("acq_date").type))
        table = T.from_delta_arrow(ds.to_table(filter=flt), self._properties(T.ENRICHED))
        if not len(table):
            return pd.DataFrame()
        # columns a later schema added are null in older partitions: keep the written ones
        return T.to_frame(table, drop=["control", "year", "month"],
                          geometry="lonlat" if geometry else None)

    def write_table(self, rel: str, frame: pd.DataFrame, *, kind: str,
                    **fields: Any) -> dict[str, Any]:
        """Store one derived table (incidents, ...): ``rel`` = ``NAME/KEY[.parquet]`` is the
        key's partition of table NAME, replaced whole, logged in the ledger."""
        name, _, key = rel.partition("/")
        key = key.removesuffix(".parquet")
        if not key or not T.TABLE_NAME.match(name) or name in T.PARTITIONS:
            raise LakeError(f"{rel}: expected NAME/KEY with NAME a derived table name")
        table, uint64 = T.to_delta_arrow(T.frame_to_arrow(frame))
        table = table.append_column("key", pa.array([key] * len(table), pa.string()))
        with self._write() as w:
            self._write_arrow(w, name, table, table.schema, mode="overwrite",
                              predicate=f"key = {T.sql_str(key)}",
                              partition_by=T.KEYED_PARTITIONS, merge_schema=True,
                              uint64=uint64, geometry=isinstance(frame, gpd.GeoDataFrame))
            rec = {"kind": kind, "files": [rel], "table": name, "key": key,
                   "rows": int(len(frame)), **fields, "truceline": __version__}
            self._commit(w, [rec])
        return rec

    def read_table(self, name: str, key: str | None = None) -> pd.DataFrame:
        """A derived table written by :meth:`write_table` (one key's rows, if given)."""
        if not T.TABLE_NAME.match(name) or not (self.root / T.TABLES_DIR / name).is_dir():
            return pd.DataFrame()
        ds = self._dataset(name)
        if ds is None:
            return pd.DataFrame()
        flt = (pads.field("key") == key) if key is not None else None
        props = self._properties(name)
        table = T.from_delta_arrow(ds.to_table(filter=flt), props)
        geo = "wkb" if props.get(T.GEOMETRY_PROPERTY) else None
        return T.to_frame(table, geometry=geo)

    def write_files(self, files: dict[str, bytes] | Callable[[], dict[str, bytes]], *,
                    kind: str, wait: float = 0.0, **fields: Any) -> dict[str, Any]:
        """Store derived files (e.g. a climatology) whole, in one logged write (``wait``:
        seconds to wait for another writer; 0 refuses at once with a LakeError).

        Each file is written beside its target as ``NAME.<write id>.tmp`` and fsynced;
        the ledger entry (with every file's SHA-256) commits them, then they are renamed
        into place. A crash in between is finished or undone by the next writer.
        ``files`` may be a function giving them: it is called under the write lock, so a
        file it reads and changes cannot change meanwhile (the service's tokens: two
        writers at once must not each keep only their own token).
        """
        import hashlib

        if not callable(files):
            _check_file_names(files)
        with self._write(wait) as w:
            if callable(files):
                files = files()
                _check_file_names(files)
            staged = []
            for rel, data in files.items():
                target = self.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f"{target.name}.{w.id}.tmp")
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                staged.append((tmp, target))
            try:
                rec = {"kind": kind, "files": sorted(files),
                       "sha256": {rel: hashlib.sha256(d).hexdigest() for rel, d in files.items()},
                       **fields, "truceline": __version__}
                self._commit(w, [rec])
            except BaseException:
                for tmp, _ in staged:
                    tmp.unlink(missing_ok=True)
                raise
            for tmp, target in staged:
                os.replace(tmp, target)
                ledger_mod.fsync_dir(target.parent)
        return rec

    # ---------------------------------------------------------------- quarantine + info
    def read_quarantine(self) -> pd.DataFrame:
        ds = self._dataset(T.QUARANTINE)
        if ds is None:
            return pd.DataFrame(columns=list(T.QUARANTINE_SCHEMA.names))
        return ds.to_table().to_pandas()

    def info(self) -> dict[str, Any]:
        """What the lake holds: counts per sensor and year, dates, snapshots, quarantine.

        Counts come from the tables' logs (rows and min/max per file), so this answers in
        about a second whatever the lake holds, and never waits for a writer.
        """
        out: dict[str, Any] = {"lake": str(self.root), "detections": {}, "total_detections": 0,
                               "date_range": None, "tables": self.table_versions()}
        f = self._files(T.DETECTIONS)
        f = f[f["num_records"] > 0] if not f.empty else f
        if not f.empty:
            for (sens, yr), n in f.groupby(["sensor", f["year"].astype(int)])[
                    "num_records"].sum().items():
                out["detections"].setdefault(str(sens), {})[str(int(yr))] = int(n)
            out["total_detections"] = int(f["num_records"].sum())
            out["date_range"] = [str(pd.Timestamp(f["min.acq_date"].min()).date()),
                                 str(pd.Timestamp(f["max.acq_date"].max()).date())]
        snaps = []
        c = self._files(T.CONTROL)  # one snapshot per file: its statistics are its values
        for src, g in (c.groupby("source") if not c.empty else []):
            snaps.append({"source": src, "snapshots": int(g["num_records"].sum()),
                          "first": str(g["day"].min()), "last": str(g["day"].max()),
                          "repaired": int(g["max.repaired"].fillna(False).astype(bool).sum())})
        out["control"] = snaps
        q = self.read_quarantine()
        reasons = q["reason"].astype(str).str.replace(r"'[^']*'", "'…'", regex=True)
        reasons = reasons.str.replace(r"line \d+", "line N", regex=True)
        out["quarantine"] = {"rows": int(len(q)),
                             "by_reason": {k: int(v) for k, v in reasons.value_counts().items()}}
        entries = self.ledger_entries()
        baselines = [e for e in entries if e.get("kind") == "baseline"]
        out["baseline"] = ({s: {"years": m.get("years"), "cells": m.get("n_cells"),
                                "hot_spots": m.get("n_hot_spots")}
                            for s, m in baselines[-1].get("climatologies", {}).items()}
                           if baselines and (self.root / "baseline").is_dir() else {})
        e = self._files(T.ENRICHED)
        out["enriched_partitions"] = ({str(k): int(v) for k, v in
                                       e.groupby("control").size().items()}
                                      if not e.empty else {})
        inc = self._files("incidents") if (self.root / T.TABLES_DIR / "incidents").is_dir() \
            else pd.DataFrame()
        out["incident_tables"] = int(inc["key"].nunique()) if "key" in inc else 0
        out["reports_published"] = sum(x.get("kind") == "publish-report" for x in entries)
        check = self.verify_ledger()
        out["ledger"] = {"entries": check.entries, "head": check.head, "ok": check.ok}
        return out


def _committed_versions(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Each table's latest version recorded by a committed ledger entry."""
    out: dict[str, int] = {}
    for e in entries:
        tables = e.get("tables")
        if isinstance(tables, dict):
            for name, v in tables.items():
                if isinstance(name, str) and T.TABLE_NAME.match(name) and isinstance(v, int):
                    out[name] = v
    return out
