"""Progress callbacks: how long-running library calls tell a caller how far they are.

A callback is ``progress(label, done, total)``: ``label`` names the step ("enrich",
"baseline VIIRS", ...), ``done`` of ``total`` units are finished. Library code calls it
and never prints; the CLI turns it into Rich progress bars, a notebook may pass its own,
and the default does nothing. The lake's ingest takes the same shape.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "no_progress"]

Progress = Callable[[str, int, int], None]


def no_progress(label: str, done: int, total: int) -> None:
    """The default callback: report nothing."""
    return None
