"""Reading a file someone else named, safely: regular files only, and only so much.

Paths come from agreements, command lines and key options; a path to a folder, a FIFO
or ``/dev/urandom`` must be refused before it is read (the last would be read until the
memory runs out), and a message must name the file, never repeat what it holds.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from truceline.errors import InputError

__all__ = ["read_limited"]


def read_limited(path: Path, what: str, limit: int) -> bytes | None:
    """A regular file's bytes, at most ``limit`` of them; None when it does not exist.

    Refuses folders, devices, FIFOs (``/dev/urandom`` would be read until memory runs
    out) and files over the limit, naming the file but never its content.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise InputError(f"{path}: is {kind}: expected {what}")
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror}): expected {what}") from None
    if len(data) > limit:
        raise InputError(f"{path}: is larger than {_size(limit)}: expected {what} of at "
                         "most that size")
    return data


def _size(n: int) -> str:
    """1048576 -> '1 MB', 65536 -> '64 KB'."""
    return f"{n // (1 << 20)} MB" if n >= 1 << 20 else f"{n // 1024} KB"
