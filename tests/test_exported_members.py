"""`import truceline as tl`: the public names are complete, sorted, importable, and cheap.

After httpx's tests/test_exported_members.py: ``__all__`` is the list of public names,
sorted case-insensitively, and every one of them resolves.
"""

from __future__ import annotations

import subprocess
import sys

import truceline
from truceline import api


def test_all_is_sorted_and_matches_the_lazy_table():
    assert truceline.__all__ == sorted(truceline.__all__, key=str.casefold)
    assert set(truceline.__all__) == set(truceline._EXPORTS)


def test_every_exported_name_resolves_to_its_module():
    for name in truceline.__all__:
        value = getattr(truceline, name)
        assert value.__module__ == truceline._EXPORTS[name], name
    assert set(truceline.__all__) <= set(dir(truceline))


def test_the_notebook_api_is_exported_whole():
    missing = set(api.__all__) - set(truceline.__all__)
    assert not missing, f"truceline.api names not in truceline.__all__: {sorted(missing)}"
    assert api.__all__ == sorted(api.__all__, key=str.casefold)


def test_unknown_names_raise_attribute_error():
    try:
        truceline.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("truceline.no_such_thing resolved")


def test_import_and_cli_help_load_no_data_stack():
    """`import truceline` and the CLI module stay light, so `truceline --help` is fast."""
    code = ("import sys, truceline, truceline.cli; "
            "print(sorted(m for m in ('pandas', 'geopandas', 'numpy', 'shapely', 'pyarrow') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
