"""`truceline fetch`, `tokens`, `serve` and `watch`: running truceline as a service (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from truceline import config
from truceline.checks import day
from truceline.cli._base import (
    JsonOpt,
    LakeOpt,
    _emit_json,
    _group,
    _open_lake,
    _styled,
    app,
    console,
    out,
)
from truceline.errors import InputError

# --------------------------------------------------------------------------- service (issue 13)
fetch_app = _group(help="New FIRMS data into the lake: the FIRMS API or a drop folder.",
                        no_args_is_help=True)
app.add_typer(fetch_app, name="fetch")


def _print_intake(result: Any, as_json: bool) -> None:
    if as_json:
        _emit_json(result.to_dict())
        return
    for f in result.files:
        out.print(f"{Path(f['file']).name}: {f['rows']} rows, {f['added']} added, "
                  f"{f['rejected']} rejected (kept in quarantine)")
    for r in result.rejected:
        console.print(_styled(("set aside", "yellow"), f" {r['file']}: {r['reason']}"))
    out.print(f"added {result.added} detections from {result.new_files} new files, "
              f"{len(result.skipped)} already in the lake, {len(result.rejected)} set aside")


@fetch_app.command("firms", epilog="Example: truceline fetch firms --days 3 "
                   "--sensor VIIRS_NOAA20_NRT (with MAP_KEY set)")
def fetch_firms(
    days: Annotated[int, typer.Option(help="How many days, ending with --date (the API "
                                      "serves 5 a request; more are split).")] = 1,
    sensor: Annotated[list[str] | None, typer.Option(help="FIRMS product (repeatable): "
                      "VIIRS_NOAA20_NRT (default), VIIRS_NOAA21_NRT, VIIRS_SNPP_NRT, "
                      "MODIS_NRT, ...")] = None,
    area: Annotated[str, typer.Option(help="Box W,S,E,N in degrees (default: Ukraine and "
                                      "the front).")] = "22,44,41,53",
    date: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: today, "
                                             "UTC).")] = None,
    save_to: Annotated[Path | None, typer.Option(help="Where the raw answers are kept "
                       "(default $TRUCELINE_DOWNLOADS or <lake>-downloads).")] = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch FIRMS detections from the FIRMS area API (key in $MAP_KEY) into the lake."""
    from datetime import UTC, datetime

    from truceline.service.intake import fetch_into_lake
    from truceline.sources import fetch

    key = fetch.map_key_from_env()
    box = fetch.parse_area(area)
    end = day(date, "--date") if date else datetime.now(UTC).date()
    requests = [r for s in (sensor or ["VIIRS_NOAA20_NRT"])
                for r in fetch.plan_requests(fetch.check_product(s), box, days, end)]
    lk = _open_lake(lake, create=True)
    api = fetch.FirmsAreaApi(key, fetch.base_url_from_env())
    with console.status(f"fetching {len(requests)} request(s) from FIRMS ..."):
        result = fetch_into_lake(lk, api, requests, config.downloads_dir(save_to, lk.root))
    _print_intake(result, as_json)


@fetch_app.command("drop", epilog="Example: truceline fetch drop ./inbox")
def fetch_drop(
    folder: Annotated[Path, typer.Argument(help="Drop folder of FIRMS CSV/TXT files.")],
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest the new files of a drop folder; a malformed one goes to DROP/rejected/."""
    from truceline.service.intake import drop_into_lake

    _print_intake(drop_into_lake(_open_lake(lake, create=True), folder), as_json)


tokens_app = _group(help="Bearer tokens for `truceline serve` (stored hashed).",
                         no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create", epilog="Example: truceline tokens create --scope read "
                    "--name newsroom")
def tokens_create(
    scope: Annotated[str, typer.Option(help="read or write (write can also read).")],
    name: Annotated[str, typer.Option(help="Who or what the token is for; no two live "
                                      "tokens share a name.")] = "",
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a token; it is shown once (the lake keeps only its hash)."""
    from truceline.service.tokens import create_token

    secret, rec = create_token(_open_lake(lake, create=True), scope, name)
    if as_json:
        _emit_json({"token": secret, **{k: rec[k] for k in ("id", "name", "scope")}})
    else:
        out.print(f"{rec['id']} ({rec['scope']}): {secret}\nkeep it now: it is not shown "
                  "again (the lake stores its SHA-256 only)")


@tokens_app.command("list", epilog="Example: truceline tokens list")
def tokens_list(lake: LakeOpt = None, as_json: JsonOpt = False) -> None:
    """Tokens by id, name and scope (never the secret)."""
    from truceline.service.tokens import read_tokens

    rows = [{k: t[k] for k in ("id", "name", "scope", "created_utc")}
            for t in read_tokens(_open_lake(lake))]
    if as_json:
        _emit_json(rows)
    for r in rows if not as_json else []:
        out.print(f"{r['id']}  {r['scope']:<5}  {r['created_utc']}  {r['name']}")


@tokens_app.command("revoke", epilog="Example: truceline tokens revoke tok-1a2b3c4d")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="Token id (tok-...).")],
                  lake: LakeOpt = None) -> None:
    """Revoke a token at once (the running service re-reads tokens on the next request)."""
    from truceline.service.tokens import revoke_token

    revoke_token(_open_lake(lake), token_id)
    out.print(f"revoked {token_id}")


@app.command("serve", epilog="Example: truceline serve --port 8000 --public-read")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    public_read: Annotated[bool, typer.Option(help="Let anyone read without a token "
                           "(default $TRUCELINE_PUBLIC_READ).")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    lake: LakeOpt = None,
) -> None:
    """The REST API and the dashboard at / (docs at /docs, OpenAPI at /api/v1/openapi.json)."""
    import os

    import uvicorn

    from truceline.service.app import create_app
    from truceline.service.settings import Settings

    settings = Settings.from_env(lake, public_read=public_read or None)
    application = create_app(settings)  # fails here, clearly, when the lake is not one
    console.print(f"serving {settings.lake} on http://{host}:{port} "
                  f"(read: {'public' if settings.public_read else 'token'})")
    if workers > 1:
        os.environ["TRUCELINE_LAKE"] = str(settings.lake)  # each worker builds its app
        if settings.public_read:
            os.environ["TRUCELINE_PUBLIC_READ"] = "1"
        uvicorn.run("truceline.service.app:app_from_env", factory=True, host=host,
                    port=port, workers=workers, log_level="warning")
    else:
        uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command("watch", epilog="Example: truceline watch --agreement A.toml --drop "
             "./inbox --every 1h --webhook http://127.0.0.1:9000/hook")
def watch_cmd(
    agreement: Annotated[Path, typer.Option(help="Agreement TOML file.")],
    fetch_: Annotated[bool, typer.Option("--fetch", help="New data from the FIRMS API "
                      "($MAP_KEY).")] = False,
    drop: Annotated[Path | None, typer.Option(help="New data from a drop folder.")] = None,
    every: Annotated[str, typer.Option(help="Cycle interval: 30s, 15m, 1h, 1d.")] = "1h",
    webhook: Annotated[str | None, typer.Option(help="POST a JSON alert here for each new "
                       "incident in scope and each change of the verdict so far.")] = None,
    once: Annotated[bool, typer.Option(help="One cycle, then stop.")] = False,
    cycles: Annotated[int | None, typer.Option(help="Stop after N cycles.")] = None,
    days: Annotated[int, typer.Option(help="With --fetch: days asked for each cycle.")] = 2,
    sensor: Annotated[str, typer.Option(help="With --fetch: FIRMS product.")
                      ] = "VIIRS_NOAA20_NRT",
    lake: LakeOpt = None,
) -> None:
    """Each cycle: new data in, detect, re-assess the agreement so far, alert."""
    from datetime import UTC, datetime

    from truceline.service import intake as intake_mod
    from truceline.service import watch as w
    from truceline.sources import fetch
    from truceline.sources.agreements import load_agreement

    if fetch_ == (drop is not None):
        raise InputError("watch: give exactly one of --fetch or --drop DIR")
    ag = load_agreement(agreement)
    interval = w.parse_every(every)
    lk = _open_lake(lake, create=True)
    if drop is not None:
        if not drop.is_dir():
            raise InputError(f"--drop {drop}: no such folder")
        source: Any = lambda: intake_mod.drop_into_lake(lk, drop)  # noqa: E731
    else:
        api = fetch.FirmsAreaApi(fetch.map_key_from_env(), fetch.base_url_from_env())
        product = fetch.check_product(sensor)
        folder = config.downloads_dir(None, lk.root)
        source = lambda: intake_mod.fetch_into_lake(  # noqa: E731
            lk, api, fetch.plan_requests(product, fetch.DEFAULT_AREA, days,
                                         datetime.now(UTC).date()), folder)
    hook = w.HttpWebhook(webhook) if webhook else None
    aid = w.register_agreement(lk, agreement, ag)

    def show(r: Any) -> None:
        out.print(f"cycle {r.cycle}: +{r.added} detections; verdict so far {r.verdict}"
                  f"{' (changed)' if r.verdict_changed else ''}; {len(r.new_incidents)} new "
                  f"incident(s); {r.delivered} alert(s) delivered, {r.pending} pending")

    try:
        w.watch(lk, ag, aid, source, hook, every=interval, cycles=1 if once else cycles,
                log=lambda m: console.print(_styled((m, "yellow"))), on_cycle=show)
    except KeyboardInterrupt:
        console.print("stopped; the next start goes on from the last committed cycle")
