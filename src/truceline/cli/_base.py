"""The command line's app, its command groups, the options they share and the helpers that print."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from truceline import config
from truceline.checks import day
from truceline.errors import InputError
from truceline.progress import progress_bars


def _group(**kwargs: Any) -> typer.Typer:
    """A command group whose help paragraphs reflow to the terminal (Markdown), instead of
    keeping the line breaks of the docstrings they come from."""
    return typer.Typer(rich_markup_mode="markdown", **kwargs)


app = _group(help="Monitor ceasefires from space.", no_args_is_help=True,
                  pretty_exceptions_enable=False,
                  epilog="Example: truceline demo (the whole pipeline on the sample data); "
                  "then truceline COMMAND --help, each with an example.")
ingest_app = _group(help="Bring FIRMS detections and control maps into the lake.",
                         no_args_is_help=True)
lake_app = _group(help="What the lake holds.", no_args_is_help=True)
ledger_app = _group(help="The lake's hash-chained ledger.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(lake_app, name="lake")
app.add_typer(ledger_app, name="ledger")
keys_app = _group(help="Ed25519 keys that sign reports.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
baseline_app = _group(help="Peacetime fire climatologies.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")
validate_app = _group(help="Rerun the figures of docs/VALIDATION.md from a lake; with "
                           "no sub-command, every check.", invoke_without_command=True)
app.add_typer(validate_app, name="validate")

KeyOpt = Annotated[Path | None, typer.Option("--key", help="Private signing key (default: "
                   "the key pair in $TRUCELINE_KEYS or ~/.config/truceline/keys, made on "
                   "first use).")]
WeatherOpt = Annotated[Path | None, typer.Option("--weather", help="Folder of daily weather "
                       "per oblast (ukr_weather_data_YYYY.csv) for cloud cover (default: "
                       "the sample data's context/weather when present).")]


def _signer(key: Path | None, *inside_none_of: Path | None):  # noqa: ANN202
    """The report signer: the given key, or the default pair (generated on first use);
    refused when the key lies in a lake, a report or one of ``inside_none_of``."""
    from truceline.publish.signing import KeySigner, check_key_outside, default_private_key

    check_key_outside(key if key is not None else config.keys_dir(), *inside_none_of)
    if key is not None:
        return KeySigner.from_file(key)
    folder = config.keys_dir()
    path, made = default_private_key(folder)
    if made is not None:
        console.print(f"made a signing key pair in {folder} (fingerprint {made.fingerprint})")
    return KeySigner.from_file(path)


def _weather(folder: Path | None) -> Path | None:
    if folder is not None:
        if not folder.is_dir():
            raise InputError(f"--weather {folder}: no such folder")
        return folder
    data = config.data_dir()
    default = data / "context" / "weather" if data else None
    return default if default is not None and default.is_dir() else None

# markup=False: text from users and files ("latitude[/x]", an agreement's name) is
# printed as it is, never read as Rich markup; styles go through `_styled`.
# highlight=False: Rich's automatic colouring would paint parts of hashes and paths.
console = Console(stderr=True, markup=False, highlight=False)
out = Console(markup=False, highlight=False)


def _styled(*parts: str | tuple[str, str]) -> Text:
    """One line from plain strings and (text, style) pairs, with no markup parsing."""
    return Text.assemble(*parts)

LakeOpt = Annotated[Path | None, typer.Option("--lake", help="Lake folder "
                                              "(default $TRUCELINE_LAKE or ./truceline-lake).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
FromOpt = Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOpt = Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")]
SourceOpt = Annotated[str | None, typer.Option("--control-source",
                                             help="Control map source.")]


def _open_lake(lake: Path | None, *, create: bool = False):  # noqa: ANN202 - lazy import
    """The lake at --lake / $TRUCELINE_LAKE / ./truceline-lake. Only the commands that
    fill a lake (``create``) may name a folder that does not exist yet (or is empty)."""
    from truceline.lake.store import Lake, open_existing

    root = config.lake_dir(lake)
    return Lake(root) if create else open_existing(root)


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Rich progress bars fed by the library's (label, done, total) callbacks, on stderr
    and only on a terminal: never with --json, piped or redirected."""
    with progress_bars(console, enabled=enabled) as update:
        yield update


def _busy(text: str, enabled: bool) -> Any:
    """A spinner on stderr for a step of unknown length; nothing with --json or piped."""
    from contextlib import nullcontext

    return console.status(text) if enabled and console.is_terminal else nullcontext()


#: Short headers, so that tables fit 80 columns.
_HEADERS = {"replaced_nrt": "NRT\nreplaced", "already_in_lake": "already\nin lake"}


def _narrow_table(title: str | None = None) -> Table:
    """A table without vertical rules: readable at 80 columns and when piped."""
    from rich import box

    return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                 show_edge=False)


def _summary_table(summary: Any, columns: list[str], title: str) -> Table:
    table = _narrow_table(title)
    table.add_column("file", overflow="fold", ratio=1)
    for c in columns:
        table.add_column(_HEADERS.get(c, c), justify="right", no_wrap=True)
    for f in summary.files:
        table.add_row(Path(f["file"]).name, *[_count(f.get(c, "")) for c in columns])
    return table


def _count(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


def pd_day(value: str, option: str = "--date"):  # noqa: ANN201
    """A day from the command line as a pandas Timestamp, or InputError naming the value."""
    import pandas as pd

    return pd.Timestamp(day(value, option))


def _default_events(events: Path | None) -> Path | None:
    if events is not None:
        return events
    data = config.data_dir()
    default = data / "events" / "ucdp_ukraine_2022_2023.csv" if data else None
    return default if default is not None and default.is_file() else None


def _bullets(lines: list[str]) -> None:
    """A list, each item wrapped under its own first word (hanging indent), as plain
    text: a reason's brackets are not Rich markup."""
    import textwrap

    for line in lines:
        out.print(textwrap.fill(str(line), width=max(out.width, 40), initial_indent="  - ",
                                subsequent_indent="    ", break_on_hyphens=False),
                  markup=False, highlight=False, soft_wrap=True)
