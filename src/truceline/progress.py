"""Progress callbacks: how long-running library calls tell a caller how far they are.

A callback is ``progress(label, done, total)``: ``label`` names the step ("enrich",
"baseline", ...), ``done`` of ``total`` units are finished. Library code calls it and
never prints; :func:`progress_bars` draws it with Rich (the CLI on a terminal, a
notebook), and the default does nothing. The lake's ingest takes the same shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Progress", "no_progress", "progress_bars"]

Progress = Callable[[str, int, int], None]


def no_progress(label: str, done: int, total: int) -> None:
    """The default callback: report nothing."""
    return None


@contextmanager
def progress_bars(console: Any = None, *, enabled: bool = True) -> Iterator[Progress]:
    """A callback that draws one Rich bar per label, removed when the block ends.

    Drawn only on a terminal or in Jupyter (``console``, default: Rich's on stderr);
    piped, redirected or with ``enabled=False`` the callback does nothing, so machine
    output stays clean. A one-step task pulses until it is done.

    Example
    -------
    >>> with progress_bars(enabled=False) as progress:
    ...     progress("enrich", 1, 2)
    """
    import rich.progress as rp
    from rich.console import Console

    console = console if console is not None else Console(stderr=True)
    if not enabled or not (console.is_terminal or console.is_jupyter):
        yield no_progress
        return
    with rp.Progress(rp.TextColumn("{task.description:<10}", markup=False),
                     rp.BarColumn(bar_width=30), rp.MofNCompleteColumn(),
                     rp.TimeElapsedColumn(), console=console, transient=True) as bars:
        tasks: dict[str, Any] = {}

        def update(label: str, done: int, total: int) -> None:
            shown = None if total <= 1 and done < total else total  # unknown length: pulse
            if label not in tasks:
                tasks[label] = bars.add_task(label, total=shown)
            bars.update(tasks[label], completed=done, total=shown)

        yield update
