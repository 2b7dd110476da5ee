"""Agreement TOML text for tests: the smallest valid agreement (two parties, a start and
an end in Kyiv time), with the lines a test changes given as arguments."""

from __future__ import annotations

PARTIES = """
[[parties]]
id = "ua"
name = "Ukraine"

[[parties]]
id = "ru"
name = "Russia"
"""


def agreement_toml(*, name: str = "Test truce", start: str = "2025-08-21 00:00",
                   end: str = 'end = "2025-08-23 00:00"') -> str:
    """The agreement's text; ``end`` is a whole line (``end = ...`` or a duration)."""
    return (f'name = "{name}"\ntime_zone = "Europe/Kyiv"\nstart = "{start}"\n{end}\n'
            + PARTIES)
