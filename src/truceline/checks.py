"""Checks of what a user asks for, made before any work starts: days, date ranges, names.

Why here: the CLI, the Python API and the service take the same dates and names, and a
mistake must fail at once with a message that quotes the option and the value, not ten
seconds later deep in the pipeline (or, worse, succeed with an empty result). Pure
functions, standard library only, so checking costs nothing (``truceline --help`` and
``import truceline`` stay fast).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from truceline.errors import InputError

__all__ = ["closest_names", "day", "day_range", "match_name", "missing_years",
           "output_path"]


def day(value: Any, option: str = "--date") -> date:
    """A calendar day from ``YYYY-MM-DD`` (or an ISO instant, a date, datetime or pandas
    Timestamp), else InputError.

    ``option`` names what the value was given as, so the message points at it.

    Example
    -------
    >>> day("2025-08-21", "--from")
    datetime.date(2025, 8, 21)
    >>> day("2025-13-01", "--from")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: --from '2025-13-01': not a day; expected YYYY-MM-DD, ...
    """
    if isinstance(value, datetime):  # also pandas.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:  # an ISO instant (2025-08-21T00:00:00, as numpy prints one): its day
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise InputError(f"{option} {str(value)!r}: not a day; expected YYYY-MM-DD, "
                         "e.g. 2025-08-21") from None


def day_range(start: Any, end: Any, options: tuple[str, str] = ("--from", "--to")
              ) -> tuple[date | None, date | None]:
    """Both ends of an inclusive range of days, checked; either may be None (open).

    Example
    -------
    >>> day_range("2025-08-11", "2025-08-21")
    (datetime.date(2025, 8, 11), datetime.date(2025, 8, 21))
    >>> day_range("2025-08-21", "2025-08-11")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: --from 2025-08-21 is after --to 2025-08-11: give the ...
    """
    s = None if start is None else day(start, options[0])
    e = None if end is None else day(end, options[1])
    if s is not None and e is not None and e < s:
        raise InputError(f"{options[0]} {s} is after {options[1]} {e}: give the earlier day "
                         "first")
    return s, e


def closest_names(value: str, names: Iterable[str], n: int = 5) -> list[str]:
    """The ``n`` names most like ``value`` (case-insensitive), best first.

    Names sharing no likeness with ``value`` are left out, so the list may be short or
    empty.

    Example
    -------
    >>> closest_names("Pokrovks", ["Kherson", "Pokrovsk", "Toretsk", "Myrnohrad"])
    ['Pokrovsk']
    """
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(name.casefold(), name)
    keys = difflib.get_close_matches(value.casefold(), list(by_key), n=n, cutoff=0.6)
    return [by_key[k] for k in keys]


def match_name(value: str, names: Iterable[str], *, option: str, what: str,
               hint: str = "") -> str:
    """``value`` as spelled in ``names`` (case-insensitive), else InputError with the
    closest names and ``hint`` (where to find them all).

    Example
    -------
    >>> match_name("pokrovsk", ["Pokrovsk", "Kherson"], option="--sector", what="sector")
    'Pokrovsk'
    >>> match_name("Pokrovks", ["Pokrovsk", "Kherson"], option="--sector", what="sector")
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: --sector 'Pokrovks': no such sector; closest: Pokrovsk
    """
    pool = [str(n) for n in names]
    for name in pool:
        if name.casefold() == value.casefold():
            return name
    near = closest_names(value, pool)
    msg = f"{option} {value!r}: no such {what}"
    msg += f"; closest: {', '.join(near)}" if near else f" (none of {len(pool)} is close)"
    raise InputError(msg + (f" ({hint})" if hint else ""))


def missing_years(counts: Mapping[str, Mapping[Any, int]]) -> dict[str, list[int]]:
    """Years without detections between the first and last year held, overall (``"any"``)
    and per sensor, from ``{sensor: {year: count}}`` as ``Lake.info()["detections"]``.

    A gap is usually a yearly file that was never ingested. A sensor's gaps are counted
    between its own first and last year only (VIIRS starting in 2012 is not a gap).

    Example
    -------
    >>> missing_years({"VIIRS": {"2012": 5, "2013": 3, "2016": 9},
    ...                "MODIS": {"2010": 2, "2012": 1}})
    {'any': [2011, 2014, 2015], 'MODIS': [2011], 'VIIRS': [2014, 2015]}
    """
    def gaps(years: set[int]) -> list[int]:
        return sorted(set(range(min(years), max(years) + 1)) - years) if years else []

    per = {str(s): {int(y) for y, n in ys.items() if n} for s, ys in counts.items()}
    out = {"any": gaps(set().union(*per.values()) if per else set())}
    out.update({s: gaps(per[s]) for s in sorted(per)})
    return out


def output_path(path: str | os.PathLike[str], *, option: str = "--out",
                folder: bool = True) -> Path:
    """``path`` if a result can be written there (a folder, or a file when ``folder`` is
    false), else InputError naming the option and what is in the way: checked before the
    work, so a long run does not end in a traceback over a mistyped path.

    Example
    -------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = f.write_text("x")
    >>> output_path(f / "report", option="--out")
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: --out .../a.txt/report: .../a.txt is a file, so no ...
    """
    p = Path(path)
    if p.exists():
        if folder and not p.is_dir():
            raise InputError(f"{option} {p}: is a file: expected a folder")
        if not folder and p.is_dir():
            raise InputError(f"{option} {p}: is a folder: expected a file name")
    parent = p if folder and p.exists() else p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{option} {p}: {parent} is a file, so no folder can be made under "
                         "it")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{option} {p}: cannot write in {parent} (permission denied)")
    return p
