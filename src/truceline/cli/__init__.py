"""The `truceline` command line: a thin layer over the Python API.

Errors from the library are mapped to exit codes here and nowhere else: InputError 2,
LakeError 3, IntegrityError 4, any other TrucelineError 1. One module per job:
``_base`` (the app, its groups, shared options and printing), ``demo``, ``front``
(enrich, line, sectors, detect), ``assess`` (assess, timeline, keys, verify),
``service`` (fetch, tokens, serve, watch), ``lake`` (ingest, lake, ledger, baseline) and
``validate``; importing them registers their commands.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

from truceline import __version__
from truceline.cli._base import _styled, app, console, out
from truceline.errors import TrucelineError

__all__ = ["app", "main"]

# registered in this order, which `truceline --help` keeps: the demo first
for _job in ("demo", "front", "assess", "service", "lake", "validate"):
    import_module(f"truceline.cli.{_job}")


@app.command("version", epilog="Example: truceline version")
def version() -> None:
    """Print the truceline version."""
    out.print(__version__)


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    """Warnings as one line on stderr ("warning: ..."), without the Python source line
    they were raised from, which means nothing to someone running the CLI."""
    print(f"warning: {message}", file=file or sys.stderr)


def main() -> None:
    """Entry point: run the app, turning library errors into messages and exit codes."""
    import warnings

    warnings.showwarning = _show_warning
    try:
        app()
    except TrucelineError as exc:
        console.print(_styled(("error:", "red"), f" {exc}"), highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        if exc.filename is None:  # not about a path the user gave: a bug, show it whole
            raise
        # a path that cannot be written or read (a folder under a file, a full disk, ...)
        console.print(_styled(("error:", "red"), f" {exc.filename}: {exc.strerror}"),
                      highlight=False, soft_wrap=True)
        sys.exit(2)

