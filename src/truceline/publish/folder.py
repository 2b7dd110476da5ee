"""A report folder is built aside and moved into place whole, never written in place.

Why: ``--out`` is a folder the user names, and anything already in it would otherwise be
hashed into the manifest and signed as ours (a planted ``CONCLUSION.txt`` would verify),
and a run that fails half-way would leave the previous signed report half overwritten.
So the new report is written into a fresh sibling folder, signed there, and only then
swapped for the old one; the old one is removed after the swap. ``--out`` must be new,
empty, or an earlier report whose every file its manifest lists (a folder holding
anything else is refused, so no file of the user's is ever deleted).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from truceline.checks import output_path
from truceline.errors import InputError

__all__ = ["check_out_dir", "copy_agreement", "staged_folder"]

_MANIFEST, _SIGNATURE = "manifest.json", "manifest.sig"


def check_out_dir(out: Path) -> None:
    """Refuse an ``--out`` that is a file, or a non-empty folder that is not an earlier
    report made of exactly the files its manifest lists."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file: expected a folder for the report")
    output_path(out, option="--out")  # a folder can be made there
    if not out.exists():
        return
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if not p.is_dir())
    if not files:
        return
    listed = _listed_outputs(out)
    if listed is None:
        raise InputError(f"--out {out}: holds {len(files)} file(s) ({_few(files)}) and no "
                         f"{_MANIFEST}: expected a new or empty folder, or an earlier report "
                         "(which is replaced whole)")
    extra = [f for f in files if f not in listed and f not in (_MANIFEST, _SIGNATURE)]
    if extra:
        raise InputError(f"--out {out}: is an earlier report plus {len(extra)} file(s) its "
                         f"manifest does not list ({_few(extra)}): move them away first "
                         "(replacing the report would delete them; nothing unlisted is "
                         "ever signed)")


def _listed_outputs(folder: Path) -> set[str] | None:
    """The outputs an earlier report's manifest lists, or None if it has no manifest."""
    try:
        doc = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    outputs = doc.get("outputs") if isinstance(doc, dict) else None
    if not isinstance(outputs, list):
        return None
    return {o["path"] for o in outputs if isinstance(o, dict) and isinstance(o.get("path"), str)}


def _few(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A fresh empty folder beside ``out`` to build into; on success it replaces ``out``.

    On an exception the staged folder is removed and ``out`` is left exactly as it was.
    The swap is two renames on one file system: should the machine stop between them,
    the earlier report survives whole as ``.<name>.old-<id>`` beside it.
    """
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    stage = out.parent / f".{out.name}.new-{tag}"
    old = out.parent / f".{out.name}.old-{tag}"
    stage.mkdir()
    try:
        yield stage
        _fsync_tree(stage)
        if out.exists():
            os.replace(out, old)
        os.replace(stage, out)
    except BaseException:
        if old.exists() and not out.exists():
            os.replace(old, out)  # the swap failed half-way: the earlier report goes back
        shutil.rmtree(stage, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    """Flush a built folder's files to disk before it is swapped in."""
    for p in folder.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def copy_agreement(agreement: Any, folder: Path) -> list[Path]:
    """Copy an agreement file and the files it names into ``folder``, at the relative
    paths the agreement writes, so that loading the copy finds them (signed with the
    report, and what ``verify --recompute`` reads anywhere). An agreement given as text
    (no file) is not copied."""
    if getattr(agreement, "path", None) is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    copies = [(Path(agreement.path).name, Path(agreement.path))]
    copies += [(name, src) for name, src in getattr(agreement, "files", ())]
    written = []
    for name, src in copies:
        dst = folder / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        written.append(dst)
    return written
