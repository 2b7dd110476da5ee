"""`truceline fetch firms` and the drop folder against a local FIRMS stand-in that plays
the real NOAA-20 files of August 2025 (never the real service)."""

from __future__ import annotations

import socket
from datetime import date

import pytest
from typer.testing import CliRunner

from fake_firms import GOOD_KEY, FakeFirms
from truceline.cli import app
from truceline.errors import InputError, RemoteError
from truceline.lake.store import Lake
from truceline.service.intake import drop_into_lake, fetch_into_lake
from truceline.sources import fetch

NRT = "firms/viirs_noaa20_nrt_2025"


@pytest.fixture(scope="module")
def fake(data_dir):
    with FakeFirms(data_dir) as f:
        yield f


def _api(fake: FakeFirms, key: str = GOOD_KEY, **kw) -> fetch.FirmsAreaApi:
    waits: list[float] = []
    api = fetch.FirmsAreaApi(key, fake.url, sleep=waits.append, **kw)
    api.waits = waits  # type: ignore[attr-defined]
    return api


def _ids(lake: Lake) -> set[str]:
    return set(lake.read_detections(columns=["detection_id"])["detection_id"])


def test_fetched_days_are_the_real_files_detections(fake, data_dir, tmp_path):
    """Three days through the API give exactly the detections of the three real files."""
    lake = Lake(tmp_path / "lake")
    reqs = fetch.plan_requests("VIIRS_NOAA20_NRT", fetch.DEFAULT_AREA, 3, date(2025, 8, 31))
    result = fetch_into_lake(lake, _api(fake), reqs, tmp_path / "dl")
    direct = Lake(tmp_path / "direct")
    direct.ingest_firms([data_dir / NRT / f"J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025{d}.txt.csv"
                         for d in (241, 242, 243)])
    assert result.added == len(_ids(direct)) > 500
    assert _ids(lake) == _ids(direct)
    entries = [e for e in lake.ledger_entries() if e["kind"] == "ingest-firms"]
    assert len(entries) == 1 and entries[0]["file"].endswith(".csv")
    assert (tmp_path / "dl").is_dir() and len(list((tmp_path / "dl").iterdir())) == 1
    # the same answer again is recognised by its hash and not ingested twice
    again = fetch_into_lake(lake, _api(fake), reqs, tmp_path / "dl")
    assert again.added == 0 and again.skipped[0]["reason"] == "already ingested"


def test_long_spans_are_split_into_five_day_requests(fake, tmp_path):
    before = len(fake.requests)
    reqs = fetch.plan_requests("VIIRS_NOAA20_NRT", (30.0, 45.0, 40.0, 52.0), 12,
                               date(2025, 8, 31))
    assert [r.days for r in reqs] == [5, 5, 2]
    result = fetch_into_lake(Lake(tmp_path / "lake"), _api(fake), reqs, tmp_path / "dl")
    assert len(fake.requests) - before == 3
    assert result.added > 1000 and len(result.files) == 3
    assert all("/30,45,40,52/" in r for r in fake.requests[before:])


def test_refused_key_is_named_and_not_retried(fake, tmp_path):
    api = _api(fake, key="WRONGKEY1234")
    reqs = fetch.plan_requests("VIIRS_NOAA20_NRT", fetch.DEFAULT_AREA, 1, date(2025, 8, 31))
    lake = Lake(tmp_path / "lake")
    with pytest.raises(RemoteError, match="refused the MAP_KEY") as err:
        fetch_into_lake(lake, api, reqs, tmp_path / "dl")
    assert "WRONGKEY1234" not in str(err.value)
    assert api.waits == [] and lake.ledger_entries() == []  # type: ignore[attr-defined]


def test_rate_limit_is_retried_with_backoff_then_reported(fake, tmp_path):
    reqs = fetch.plan_requests("VIIRS_NOAA20_NRT", fetch.DEFAULT_AREA, 1, date(2025, 8, 31))
    fake.rate_limited, fake.failing = 1, 1
    api = _api(fake, retries=3, backoff=0.5)
    assert fetch_into_lake(Lake(tmp_path / "a"), api, reqs, tmp_path / "dl").added > 100
    assert api.waits == [0.5, 1.0]  # type: ignore[attr-defined]
    fake.rate_limited = 10
    api = _api(fake, retries=2)
    with pytest.raises(RemoteError, match="rate limit reached.*gave up after 3 attempts"):
        fetch_into_lake(Lake(tmp_path / "b"), api, reqs, tmp_path / "dl")
    fake.rate_limited = 0


def test_unreachable_host_is_reported_after_retries(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits: list[float] = []
    api = fetch.FirmsAreaApi(GOOD_KEY, f"http://127.0.0.1:{port}", retries=2,
                             sleep=waits.append, timeout=2)
    reqs = fetch.plan_requests("VIIRS_NOAA20_NRT", fetch.DEFAULT_AREA, 1, date(2025, 8, 31))
    with pytest.raises(RemoteError, match="is unreachable.*gave up after 3"):
        fetch_into_lake(Lake(tmp_path / "lake"), api, reqs, tmp_path / "dl")
    assert waits == [2.0, 4.0]


def test_cli_fetch_messages_and_exit_codes(fake, tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv("TRUCELINE_FIRMS_URL", fake.url)
    monkeypatch.delenv("MAP_KEY", raising=False)
    args = ["fetch", "firms", "--days", "2", "--date", "2025-08-30", "--lake",
            str(tmp_path / "lake"), "--save-to", str(tmp_path / "dl")]
    r = runner.invoke(app, args)
    assert isinstance(r.exception, InputError) and "set MAP_KEY" in str(r.exception)
    monkeypatch.setenv("MAP_KEY", "WRONGKEY1234")
    r = runner.invoke(app, args)
    assert isinstance(r.exception, RemoteError) and r.exception.exit_code == 5
    monkeypatch.setenv("MAP_KEY", GOOD_KEY)
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    assert '"added"' in r.stdout and "2025-08-29_2d" in r.stdout
    r = runner.invoke(app, [*args, "--sensor", "GOES_NRT"])
    assert isinstance(r.exception, InputError) and "VIIRS_NOAA20_NRT" in str(r.exception)
    r = runner.invoke(app, [*args[:-4], "--area", "41,44,22,53"])
    assert isinstance(r.exception, InputError) and "W < E" in str(r.exception)


def test_drop_folder_sets_a_malformed_file_aside_and_takes_the_rest(data_dir, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    for d in (223, 224):
        name = f"J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025{d}.txt.csv"
        (drop / name).write_bytes((data_dir / NRT / name).read_bytes())
    (drop / "broken.csv").write_text("this is,not,a FIRMS file\n1,2,3\n")
    (drop / "half.csv.part").write_text("still being written")
    lake = Lake(tmp_path / "lake")
    result = drop_into_lake(lake, drop)
    assert len(result.files) == 2 and result.added > 500
    assert [r["file"] for r in result.rejected] == ["broken.csv"]
    assert (drop / "rejected" / "broken.csv").exists()
    assert "FIRMS layout" in (drop / "rejected" / "broken.csv.reason.txt").read_text()
    assert (drop / "half.csv.part").exists()
    again = drop_into_lake(lake, drop)
    assert again.added == 0 and len(again.skipped) == 2 and not again.rejected
    with pytest.raises(InputError, match="no such folder"):
        drop_into_lake(lake, tmp_path / "nowhere")
