"""Where things live: the lake folder and the real sample data.

Resolution order is explicit argument, then environment variable, then default, so
tests and the CLI can point anywhere without global state.
"""

from __future__ import annotations

import os
from pathlib import Path

LAKE_ENV = "TRUCELINE_LAKE"
DATA_ENV = "TRUCELINE_DATA"
DEFAULT_LAKE = Path("truceline-lake")
KEYS_ENV = "TRUCELINE_KEYS"
DOWNLOADS_ENV = "TRUCELINE_DOWNLOADS"


def lake_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The lake folder: `path`, else $TRUCELINE_LAKE, else ./truceline-lake."""
    if path is not None:
        return Path(path)
    env = os.environ.get(LAKE_ENV)
    return Path(env) if env else DEFAULT_LAKE


def data_dir(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The real sample data folder, or None when it cannot be found.

    Looks at `path`, $TRUCELINE_DATA, then ../shared/data beside the working directory
    and beside the source checkout.
    """
    candidates: list[Path] = []
    if path is not None:
        candidates.append(Path(path))
    env = os.environ.get(DATA_ENV)
    if env:
        candidates.append(Path(env))
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    for c in candidates:
        if (c / "SOURCES.md").exists() or (c / "firms").is_dir():
            return c
    return None


def keys_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Where signing keys live: `path`, else $TRUCELINE_KEYS, else ~/.config/truceline/keys.

    Kept outside the lake on purpose: a lake is shared and published, a private key never.
    """
    if path is not None:
        return Path(path)
    env = os.environ.get(KEYS_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "truceline" / "keys"


#: prefix of a path recorded relative to the data folder (see `portable_path`)
DATA_PREFIX = "data:"


def portable_path(path: str | os.PathLike[str], data: Path | None = None) -> str:
    """How a local file is named in what we publish (ledger, manifests, reports).

    Never an absolute local path, which says nothing to another machine and tells the
    world how this one is laid out: a file inside the data folder is ``data:`` and its
    path there, any other file only its name.

    >>> portable_path("/srv/data/firms/x.csv", Path("/srv/data"))
    'data:firms/x.csv'
    >>> portable_path("/home/me/Downloads/x.csv", Path("/srv/data"))
    'x.csv'
    """
    p = Path(path)
    root = data if data is not None else data_dir()
    if root is not None:
        try:
            return DATA_PREFIX + p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return p.name


def resolve_portable(name: str, data: Path | None = None) -> Path | None:
    """The local path a `portable_path` name stands for, or None when it cannot be found
    here (a bare file name, or no data folder).

    >>> resolve_portable("data:context/weather", Path("/srv/data"))
    PosixPath('/srv/data/context/weather')
    """
    if not name.startswith(DATA_PREFIX):
        return None
    root = data if data is not None else data_dir()
    return None if root is None else root / name[len(DATA_PREFIX):]


def downloads_dir(path: str | os.PathLike[str] | None = None,
                  lake: str | os.PathLike[str] | None = None) -> Path:
    """Where fetched FIRMS answers are kept: `path`, else $TRUCELINE_DOWNLOADS, else a
    folder beside the lake (``<lake>-downloads``): the raw evidence the ledger names,
    outside the lake, which only the lake layer writes."""
    if path is not None:
        return Path(path)
    env = os.environ.get(DOWNLOADS_ENV)
    if env:
        return Path(env)
    root = Path(lake) if lake is not None else lake_dir()
    return root.parent / f"{root.name}-downloads"
