"""`truceline lake migrate`: a lake of the first layout into Delta Lake tables, in place.

The first layout kept GeoParquet files under ``detections/``, ``control/``,
``quarantine/``, ``enriched/`` and ``incidents/`` and swapped them with a ``.txn`` folder.
Migration reads every file once (streamed, batch by batch), writes the tables of
:mod:`truceline.lake.store` under ``tables/`` (one Delta commit each), checks every row
count, and commits with one ``migrate`` ledger entry recording the table versions; only
then does it write ``lake.json`` and remove the old folders. The ledger is kept as it is
(its chain is extended, never rewritten). A crash at any point leaves a lake that the
same command finishes.

Before that, a transaction the old layer left in ``.txn`` is finished or undone the
way the old layer did, except that a plan's paths are trusted only when they name a
file of the old layout inside the lake (issue 12, item 1).
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from truceline import __version__
from truceline.errors import IntegrityError, LakeError
from truceline.lake import ledger as ledger_mod
from truceline.lake import tables as T
from truceline.lake.store import (
    FORMAT,
    FORMAT_FILE,
    OLD_LAYOUT_DIRS,
    Lake,
    _deltalake,
    check_not_tables_folder,
)

_OLD_REL = re.compile(r"^(detections|control|quarantine|enriched|incidents|baseline)"
                      r"(/[A-Za-z0-9_.=-]+)+$")
_TXN_ID = re.compile(r"^[0-9a-f]{16}$")


def _safe_rel(root: Path, rel: Any) -> Path | None:
    """The lake file a plan names, or None when it is not a file of the old layout."""
    if not isinstance(rel, str) or not _OLD_REL.match(rel) or ".." in rel.split("/"):
        return None
    target = root / rel
    try:
        target.parent.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return target


def _old_transactions(root: Path, committed: set[str]) -> list[str]:
    """Finish (committed) or roll back (not) what the old layer left in ``.txn``."""
    done = []
    base = root / ".txn"
    if not base.is_dir() or base.is_symlink():
        return done
    for d in sorted(base.iterdir()):
        if d.is_symlink() or not d.is_dir() or not _TXN_ID.match(d.name):
            continue
        if d.name not in committed:
            try:
                plan = json.loads((d / "plan.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                plan = []  # no plan: nothing was swapped in yet
            for step in reversed(plan if isinstance(plan, list) else []):
                if not isinstance(step, dict):
                    continue
                target = _safe_rel(root, step.get("rel"))
                if target is None:
                    done.append(f"ignored a step of transaction {d.name} naming "
                                f"{str(step.get('rel'))[:80]!r} (not a lake file)")
                    continue
                old, new = d / "old" / step["rel"], d / "new" / step["rel"]
                if step.get("existed") and old.is_file() and not old.is_symlink():
                    old.replace(target)
                elif not step.get("existed") and not step.get("delete") and \
                        target.is_file() and not new.exists():
                    target.unlink()
            done.append(f"rolled back unfinished transaction {d.name}")
        shutil.rmtree(d)
    shutil.rmtree(base, ignore_errors=True)
    return done


def _uncommitted_ledger_tail(path: Path, old_txns: set[str]) -> None:
    """Cut ledger lines past the head that belong to old transactions never committed
    (what the old layer did on open), and nothing else."""
    head = ledger_mod.read_head(path)
    if head is None or not path.exists():
        return
    data = path.read_bytes()
    lines = data.split(b"\n")
    n = head[0]
    if len(lines) - 1 <= n:
        return
    keep = sum(len(x) + 1 for x in lines[:n])
    tail = [x for x in lines[n:] if x.strip()]
    for x in tail:
        try:
            txn = json.loads(x).get("txn")
        except ValueError:
            txn = None  # a cut line: the old writer died mid-write
            if x is not tail[-1]:
                raise IntegrityError(f"{path}: garbled entries after the head") from None
        if txn is not None and txn not in old_txns:
            raise IntegrityError(f"{path}: entries after the head that no unfinished "
                                 "transaction explains; run `truceline ledger verify`")
    with open(path, "r+b") as f:
        f.truncate(keep)


def _batches(files: list[Path], fn: Any) -> Iterator[pa.RecordBatch]:
    for f in files:
        t = fn(f, pq.read_table(f))
        if len(t):
            yield from t.to_batches()


def _write(path: Path, schema: pa.Schema, batches: Iterator[pa.RecordBatch],
           partition_by: list[str], txn: str, props: dict[str, Any] | None = None) -> int:
    """Append ``batches`` to the table at ``path`` (created if need be) in one commit."""
    dl = _deltalake()
    path.mkdir(parents=True, exist_ok=True)
    dl.write_deltalake(str(path), pa.RecordBatchReader.from_batches(schema, batches),
                       mode="append", partition_by=partition_by or None, name=path.name,
                       description=T.describe(props) if props else None,
                       writer_properties=T.writer_properties(),
                       commit_properties=dl.CommitProperties(
                           custom_metadata={"truceline_txn": txn}))
    return int(dl.DeltaTable(str(path)).version())


def _drop_geo(table: pa.Table) -> pa.Table:
    table = table.replace_schema_metadata(None)
    fields = [pa.field(f.name, f.type) for f in table.schema]
    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields))


def _count(tables_dir: Path, name: str) -> int:
    dl = _deltalake()
    return int(dl.DeltaTable(str(tables_dir / name)).to_pyarrow_dataset().count_rows())


def migrate(root: str | Path) -> dict[str, Any]:
    """Convert the lake at ``root`` to the Delta layout; return what was done."""
    root = Path(root)
    if not root.is_dir():
        raise LakeError(f"{root}: no such lake folder")
    if (root / FORMAT_FILE).exists():
        Lake(root)  # checks the marker
        return {"lake": str(root), "migrated": False, "reason": "already in layout 2"}
    check_not_tables_folder(root)
    with open(root / ".lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LakeError(f"{root}: another truceline process is writing to this lake"
                            ) from exc
        return _migrate_locked(root)


def _migrate_locked(root: Path) -> dict[str, Any]:
    ledger_path = root / "ledger.jsonl"
    done: list[str] = []
    ledger_mod.finish_pending(ledger_path)
    txn_dirs = {d.name for d in (root / ".txn").iterdir()} if (root / ".txn").is_dir() else set()
    _uncommitted_ledger_tail(ledger_path, txn_dirs)
    entries = ledger_mod.read_entries(ledger_path)
    check = ledger_mod.verify_ledger(ledger_path)
    if not check.ok:
        raise IntegrityError(f"{ledger_path}: fails verification, so the lake is not "
                             f"migrated: {'; '.join(check.problems[:3])}")
    done += _old_transactions(root, {e.get("txn") for e in entries if e.get("txn")})
    tables_dir = root / T.TABLES_DIR
    last = entries[-1] if entries else {}
    rows: dict[str, int] = {}
    if last.get("kind") != "migrate":
        if tables_dir.exists():
            shutil.rmtree(tables_dir)  # an earlier migration that never committed
        txn = uuid.uuid4().hex[:16]
        versions: dict[str, int] = {}
        for name, version, n_old in _build_tables(root, tables_dir, txn):
            n_new = _count(tables_dir, name)
            if n_new != n_old:
                raise LakeError(f"{root}: table {name} has {n_new:,} rows after migration, "
                                f"the old files {n_old:,}; nothing was changed")
            versions[name], rows[name] = version, n_new
        new = ledger_mod.make_entry(entries, "migrate", from_layout=1,
                                    to_layout=FORMAT["layout"], rows=rows, tables=versions,
                                    txn=txn, truceline=__version__)
        ledger_mod.append_entries(ledger_path, [new], before=entries)
        done.append(f"wrote tables {', '.join(f'{k} ({v:,} rows)' for k, v in rows.items())}")
    else:
        rows = dict(last.get("rows", {}))
    ledger_mod.write_durably(root / FORMAT_FILE, (json.dumps(FORMAT) + "\n").encode())
    for d in OLD_LAYOUT_DIRS:
        p = root / d
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
            done.append(f"removed the old folder {d}/")
    return {"lake": str(root), "migrated": True, "rows": rows, "done": done}


def _build_tables(root: Path, tables_dir: Path, txn: str
                  ) -> Iterator[tuple[str, int, int]]:
    """Write each table of the old layout; yield (name, version, rows in the old files)."""
    det = sorted((root / "detections").glob("sensor=*/year=*/month=*/part.parquet"))
    if det:
        n = sum(pq.read_metadata(f).num_rows for f in det)

        years: dict[str, list[Path]] = {}
        for f in det:  # one commit per sensor and year: the writer holds one year's rows
            years.setdefault(f"{f.parent.parent.parent.name}/{f.parent.parent.name}", []
                             ).append(f)
        for group in years.values():
            v = _write(tables_dir / T.DETECTIONS, T.DETECTION_SCHEMA,
                       _batches(group, lambda f, t: T.detections_arrow(_drop_geo(t))),
                       T.PARTITIONS[T.DETECTIONS], txn)
        yield T.DETECTIONS, v, n
    ctl = sorted((root / "control").glob("source=*/*.parquet"))
    if ctl:
        n = sum(pq.read_metadata(f).num_rows for f in ctl)

        def control(f: Path, t: pa.Table) -> pa.Table:
            t = _drop_geo(t)
            t = t.append_column("day", pa.array([f.stem] * len(t), pa.string()))
            return T.conform(t, T.SNAPSHOT_SCHEMA)

        for i in range(0, len(ctl), 100):  # 100 maps a commit: memory stays small
            v = _write(tables_dir / T.CONTROL, T.SNAPSHOT_SCHEMA,
                       _batches(ctl[i:i + 100], control), T.PARTITIONS[T.CONTROL], txn,
                       {T.GEOMETRY_PROPERTY: T.WKB_4326})
        yield T.CONTROL, v, n
    qua = sorted((root / "quarantine").glob("*.parquet"))
    if qua:
        n = sum(pq.read_metadata(f).num_rows for f in qua)
        v = _write(tables_dir / T.QUARANTINE, T.QUARANTINE_SCHEMA,
                   _batches(qua, lambda f, t: T.conform(t, T.QUARANTINE_SCHEMA)), [], txn)
        yield T.QUARANTINE, v, n
    enr = sorted((root / "enriched").glob("control=*/sensor=*/year=*/month=*/part.parquet"))
    if enr:
        parts = []
        for f in enr:
            t = _drop_geo(pq.read_table(f))
            t = t.drop_columns([c for c in ("geometry",) if c in t.column_names])
            m = re.search(r"control=([^/]+)/sensor=[^/]+/year=(\d+)/month=(\d+)", f.as_posix())
            assert m is not None
            t = t.append_column("control", pa.array([m[1]] * len(t), pa.string()))
            t = t.append_column("year", pa.array([int(m[2])] * len(t), pa.int32()))
            t = t.append_column("month", pa.array([int(m[3])] * len(t), pa.int32()))
            parts.append(t)
        table, uint64 = T.to_delta_arrow(pa.concat_tables(parts, promote_options="permissive"))
        v = _write(tables_dir / T.ENRICHED, table.schema, iter(table.to_batches()),
                   T.PARTITIONS[T.ENRICHED], txn,
                   {T.UINT64_PROPERTY: sorted(uint64)} if uint64 else None)
        yield T.ENRICHED, v, len(table)
    inc = sorted((root / "incidents").glob("*.parquet"))
    if inc:
        parts = []
        for f in inc:
            t = _drop_geo(pq.read_table(f))
            parts.append(t.append_column("key", pa.array([f.stem] * len(t), pa.string())))
        table, uint64 = T.to_delta_arrow(pa.concat_tables(parts, promote_options="permissive"))
        config: dict[str, Any] = ({T.GEOMETRY_PROPERTY: T.WKB_4326}
                                  if "geometry" in table.column_names else {})
        if uint64:
            config[T.UINT64_PROPERTY] = sorted(uint64)
        v = _write(tables_dir / "incidents", table.schema, iter(table.to_batches()),
                   T.KEYED_PARTITIONS, txn, config)
        yield "incidents", v, len(table)
