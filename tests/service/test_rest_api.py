"""The REST API in-process on a real lake: reads, filters, access, uploads, limits."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from service_data import AUGUST, NRT

from truceline.lake.store import Lake
from truceline.service.app import create_app
from truceline.service.settings import Settings
from truceline.service.tokens import create_token, revoke_token

WEEK = "start=2025-08-21&end=2025-08-27"


@pytest.fixture(scope="module")
def tokens(api_lake):
    return {"read": create_token(api_lake, "read", "tests-read")[0],
            "write": create_token(api_lake, "write", "tests-write")[0]}


def _client(lake, tmp_path, **kw) -> TestClient:
    settings = Settings.from_env(lake.root, uploads_dir=tmp_path / "uploads",
                                 reports_dir=tmp_path / "reports", **kw)
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def client(api_lake, tmp_path_factory) -> TestClient:
    return _client(api_lake, tmp_path_factory.mktemp("api-run"))


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_incidents_filters_and_pages(client, tokens):
    r = client.get(f"/api/v1/incidents?{WEEK}&limit=1000", headers=_h(tokens["read"]))
    assert r.status_code == 200
    allinc = r.json()
    assert allinc["numberMatched"] == allinc["numberReturned"] > 20
    props = [f["properties"] for f in allinc["features"]]
    assert all(len(p["t_start"]) == len(p["t_end"]) == 10 for p in props)  # YYYY-MM-DD
    assert all(p["first_utc"].endswith("Z") for p in props)
    assert all(p["first_utc"] <= p["last_utc"] for p in props)
    assert all(p["worldview"].startswith("https://worldview.earthdata.nasa.gov/?v=")
               for p in props)
    # the imagery links of the report's map, at the incident's first time
    from truceline.publish.webmap import firms_map_url, worldview_url

    f = allinc["features"][0]
    lon, lat = f["geometry"]["coordinates"]
    assert f["properties"]["worldview"] == worldview_url(lon, lat, f["properties"]["first_utc"])
    assert f["properties"]["firms"] == firms_map_url(lon, lat, f["properties"]["first_utc"])
    box = "36.5,47.5,38.5,49"
    r = client.get(f"/api/v1/incidents?{WEEK}&bbox={box}&limit=1000", headers=_h(tokens["read"]))
    inside = r.json()["features"]
    assert 0 < len(inside) < len(props)
    assert all(36.5 <= f["geometry"]["coordinates"][0] <= 38.5 and
               47.5 <= f["geometry"]["coordinates"][1] <= 49 for f in inside)
    r = client.get(f"/api/v1/incidents?{WEEK}&confidence=high&limit=1000",
                   headers=_h(tokens["read"]))
    high = r.json()["features"]
    assert len(high) == sum(p["confidence"] == "high" for p in props)
    sector = props[0]["sector"]
    r = client.get(f"/api/v1/incidents?{WEEK}&sector={sector.upper()}",
                   headers=_h(tokens["read"]))
    assert r.json()["numberMatched"] == sum(p["sector"] == sector for p in props)
    # a misspelt sector is an error with the closest names, not a sector without fire
    for path in ("incidents", "timeline"):
        r = client.get(f"/api/v1/{path}?{WEEK}&sector={sector}x", headers=_h(tokens["read"]))
        assert r.status_code == 400, path
        assert f"sector '{sector}x': no such sector" in r.json()["detail"]
        assert f"closest: {sector}" in r.json()["detail"]
    page = client.get(f"/api/v1/incidents?{WEEK}&limit=5&offset=5",
                      headers=_h(tokens["read"])).json()
    assert [f["id"] for f in page["features"]] == [f["id"] for f in allinc["features"][5:10]]
    assert page["links"][0]["rel"] == "next" and "offset=10" in page["links"][0]["href"]
    r = client.get(f"/api/v1/incidents?{WEEK}&agreement=august-2025-whatif&limit=1000",
                   headers=_h(tokens["read"]))
    phases = {f["properties"]["phase"] for f in r.json()["features"]}
    assert phases <= {"before", "during", "after"} and "during" in phases


def test_detections_carry_the_war_call(client, tokens, api_lake):
    r = client.get("/api/v1/detections?day=2025-08-22&limit=1000&source=deepstate",
                   headers=_h(tokens["read"]))
    body = r.json()
    day = api_lake.read_detections("2025-08-22", "2025-08-22", columns=["detection_id"])
    assert body["numberMatched"] == len(day) > 300
    props = [f["properties"] for f in body["features"]]
    assert {type(p["war"]) for p in props} == {bool}
    assert any(p["war"] for p in props) and not all(p["war"] for p in props)
    assert all(p["incident_id"] is None or p["war"] for p in props)
    # a detection's day is a day; its time is UTC and says so
    assert {p["acq_date"] for p in props} == {"2025-08-22"}
    assert all(p["t_utc"] is None or p["t_utc"].endswith("Z") for p in props)


def test_line_coverage_timeline_and_integrity(client, tokens, api_lake):
    h = _h(tokens["read"])
    line = client.get("/api/v1/line?day=2025-08-21", headers=h).json()
    assert line["source"] == "deepstate" and line["valid_from"] <= "2025-08-21"
    assert line["line"]["geometry"]["type"] in ("LineString", "MultiLineString")
    assert 1000 < line["length_km"] < 3000
    assert [b["properties"]["km"] for b in line["bands"]] == [5, 15, 30]
    assert line["staleness_days"] <= 14 and not line["stale"]
    late = client.get("/api/v1/line?day=2026-01-01", headers=h).json()  # the last map: August
    assert late["stale"] and late["staleness_days"] > 100
    r = client.get("/api/v1/line?day=2019-01-01", headers=h)
    assert r.status_code == 404 and r.json()["error"] == "LakeError"
    cov = client.get("/api/v1/coverage?start=2025-08-10&end=2025-08-12", headers=h).json()
    assert [c["date"] for c in cov] == ["2025-08-10", "2025-08-11", "2025-08-12"]
    assert cov[0]["n_passes"] == 0 and cov[1]["n_passes"] >= 2
    tl = pd.DataFrame(client.get(f"/api/v1/timeline?{WEEK}", headers=h).json())
    assert tl["date"].nunique() == 7 and (tl["n_war"] <= tl["n_detections"]).all()
    head = client.get("/api/v1/ledger/head", headers=h).json()
    assert head["ok"] and head["entries"] == len(api_lake.ledger_entries())


def api_lake_root(client: TestClient) -> str:
    return str(client.app.state.settings.lake.resolve())


def test_bad_parameters_are_json_errors(client, tokens):
    h = _h(tokens["read"])
    for url, status in (("/api/v1/incidents?start=2025-08-27&end=2025-08-21", 400),
                        ("/api/v1/incidents?start=2025-01-01&end=2025-08-21", 400),
                        ("/api/v1/incidents?start=2025-08-21", 422),
                        ("/api/v1/incidents?start=x&end=2025-08-21", 422),
                        (f"/api/v1/incidents?{WEEK}&bbox=1,2,3", 422),
                        (f"/api/v1/incidents?{WEEK}&bbox=40,47,36,49", 400),
                        (f"/api/v1/incidents?{WEEK}&limit=0", 422),
                        (f"/api/v1/incidents?{WEEK}&source=../../etc", 422),
                        (f"/api/v1/incidents?{WEEK}&source=isw", 404),
                        ("/api/v1/reports/999999/manifest", 404)):
        r = client.get(url, headers=h)
        assert r.status_code == status, (url, r.text)
        assert set(r.json()) == {"error", "detail"}
    # an error names what the lake lacks, never where the server keeps it
    r = client.get(f"/api/v1/incidents?{WEEK}&source=isw", headers=h)
    assert "the lake" in r.json()["detail"]
    assert str(api_lake_root(client)) not in r.text


def test_tokens_scopes_and_revocation(api_lake, client, tokens, tmp_path):
    r = client.get(f"/api/v1/incidents?{WEEK}")
    assert r.status_code == 401 and "Bearer" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/reports", headers=_h("tl_wrong")).status_code == 401
    r = client.post("/api/v1/agreements", content="x", headers=_h(tokens["read"]))
    assert r.status_code == 403
    secret, rec = create_token(api_lake, "read")
    assert client.get("/api/v1/reports", headers=_h(secret)).status_code == 200
    revoke_token(api_lake, rec["id"])
    assert client.get("/api/v1/reports", headers=_h(secret)).status_code == 401
    stored = (api_lake.root / "service/tokens.json").read_text()
    assert secret not in stored and tokens["write"] not in stored
    public = _client(api_lake, tmp_path, public_read=True)
    assert public.get("/api/v1/reports").status_code == 200
    assert public.post("/api/v1/agreements", content="x").status_code == 401


def test_uploads_are_validated_named_safely_and_limited(api_lake, tokens, tmp_path,
                                                        data_dir):
    client = _client(api_lake, tmp_path, max_upload_bytes=2_000_000)
    h = _h(tokens["write"])
    entries = len(api_lake.ledger_entries())
    src = data_dir / NRT / "J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025230.txt.csv"
    r = client.post("/api/v1/firms", headers=h,
                    files={"file": ("../../../tmp/evil.csv", src.read_bytes())})
    assert r.status_code == 200 and r.json()["added"] == 0  # already in the lake
    assert r.json()["skipped"][0]["reason"] == "already ingested"
    stored = list((tmp_path / "uploads").iterdir())
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{16}_evil\.csv", stored[0].name)
    r = client.post("/api/v1/firms", headers=h, files={"file": ("bad.csv", b"a,b\n1,2\n")})
    assert r.status_code == 400 and "FIRMS layout" in r.json()["detail"]
    # a refused file is not kept, and the answer names the client's file, not a server path
    assert "'bad.csv'" in r.json()["detail"] and str(tmp_path) not in r.json()["detail"]
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == [stored[0].name]
    r = client.post("/api/v1/firms", headers=h, files={"file": ("x.exe", b"MZ")})
    assert r.status_code == 400 and ".csv" in r.json()["detail"]
    r = client.post("/api/v1/firms", headers=h, files={"file": ("big.csv", b"0" * 2_000_001)})
    assert r.status_code == 413
    assert len(api_lake.ledger_entries()) == entries
    assert not [p for p in (tmp_path / "uploads").iterdir() if p.name.startswith(".")]


def test_register_agreement_refuses_file_references(client, tokens, api_lake):
    h = _h(tokens["write"]) | {"Content-Type": "text/plain"}
    text = AUGUST.read_text()
    r = client.post("/api/v1/agreements?id=whatif-copy", content=text, headers=h)
    assert r.status_code == 200 and r.json()["name"] == "What-if ceasefire, August 2025"
    # the same terms again change nothing; other terms under the id need replace=true
    entries = len(api_lake.ledger_entries())
    assert client.post("/api/v1/agreements?id=whatif-copy", content=text,
                       headers=h).status_code == 200
    assert len(api_lake.ledger_entries()) == entries
    other = text.replace("What-if ceasefire, August 2025", "Another truce")
    r = client.post("/api/v1/agreements?id=whatif-copy", content=other, headers=h)
    assert r.status_code == 409
    assert "already holds other terms (agreement 'What-if ceasefire, August 2025')" in \
        r.json()["detail"]
    assert len(api_lake.ledger_entries()) == entries
    r = client.post("/api/v1/agreements?id=whatif-copy&replace=true", content=other,
                    headers=h)
    assert r.status_code == 200 and r.json()["name"] == "Another truce"
    bad = text + '\n[prohibited.x]\n'
    assert client.post("/api/v1/agreements", content=bad, headers=h).status_code == 400
    sneaky = text.replace("[prohibited]\nfire_near_line = true",
                          '[prohibited]\nfire_near_line = true\nprotected_sites = '
                          '"../../../../etc/passwd"')
    r = client.post("/api/v1/agreements", content=sneaky, headers=h)
    assert r.status_code == 400 and "names a file" in r.json()["detail"]
    r = client.post("/api/v1/agreements?id=../x", content=text, headers=h)
    assert r.status_code == 422


def _write_lake(tmp_path) -> tuple[Lake, str]:
    """A lake with nothing but a write token: enough to register agreements."""
    lake = Lake(tmp_path / "lake")
    return lake, create_token(lake, "write", "ops")[0]


def test_register_agreement_takes_only_the_toml_media_types(tmp_path):
    """A body the endpoint does not take (a JSON string, a form, none declared) was read
    as the TOML or failed as bad TOML; now it is a 415 naming the header and the types
    taken, and nothing is written."""
    lake, token = _write_lake(tmp_path)
    client = _client(lake, tmp_path)
    text = AUGUST.read_text()
    ledger = (lake.root / "ledger.jsonl").read_bytes()
    for ctype, body in ((None, json.dumps({"name": "What-if"})), (None, text),
                        ("application/json", json.dumps(text)),
                        ("application/x-www-form-urlencoded", text),
                        ("multipart/form-data; boundary=x", text), ("text/html", text),
                        ("text/plain; charset=latin-1", text)):
        r = client.post("/api/v1/agreements?id=typed", content=body.encode(),
                        headers=_h(token) | ({"Content-Type": ctype} if ctype else {}))
        assert r.request.headers.get("content-type") == ctype
        assert r.status_code == 415, (ctype, r.text)
        assert r.json() == {"error": "HTTPError", "detail": (
            f"Content-Type {ctype!r}: expected text/plain or application/toml (UTF-8), the "
            "agreement TOML as the body")}
    for body, problem in ((b"", "empty"), (b"name = \"\xff\"", "not UTF-8"),
                          (b"#" * 200_001, "at most 200000 characters")):
        r = client.post("/api/v1/agreements?id=typed", content=body,
                        headers=_h(token) | {"Content-Type": "text/plain"})
        assert r.status_code == 422 and r.json()["detail"][0]["where"] == "body"
        assert problem in r.json()["detail"][0]["problem"]
    assert not (lake.root / "agreements").exists()
    assert (lake.root / "ledger.jsonl").read_bytes() == ledger
    # the documented forms still register it
    for n, ctype in enumerate(("text/plain", "text/plain; charset=UTF-8", "application/toml")):
        r = client.post(f"/api/v1/agreements?id=typed-{n}", content=text.encode(),
                        headers=_h(token) | {"Content-Type": ctype})
        assert r.status_code == 200 and r.json()["name"] == "What-if ceasefire, August 2025"
    assert sorted(p.name for p in (lake.root / "agreements").iterdir()) == [
        "typed-0.toml", "typed-1.toml", "typed-2.toml"]
    post = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/agreements"]["post"]
    assert set(post["requestBody"]["content"]) == {"text/plain", "application/toml"}
    assert "415" in post["responses"]


DAY_PARAMETERS = (("coverage?start={}&end=2025-08-12", "start"),
                  ("coverage?start=2025-08-10&end={}", "end"),
                  ("incidents?start={}&end=2025-08-27", "start"),
                  ("timeline?start=2025-08-21&end={}", "end"),
                  ("detections?day={}", "day"), ("line?day={}", "day"))


@pytest.mark.parametrize("bad", ["1672531200", "1672531200.0", "0", "20250821", "2025-8-21",
                                 "2025-08-21T00:00:00", "2025-02-30", "٢٠٢٥-08-21"])
def test_days_are_taken_as_yyyy_mm_dd_only(client, tokens, bad):
    """pydantic took 1672531200 as a Unix time (2023-01-01) and answered for that day."""
    for url, param in DAY_PARAMETERS:
        r = client.get("/api/v1/" + url.format(bad), headers=_h(tokens["read"]))
        assert r.status_code == 422, (url, bad, r.text)
        assert r.json()["error"] == "ValidationError"
        assert r.json()["detail"] == [{"where": f"query.{param}", "problem": (
            f"expected a day YYYY-MM-DD, e.g. 2025-08-21, not '{bad}'")}]


def test_a_control_map_day_is_taken_as_yyyy_mm_dd_only(tmp_path):
    lake, token = _write_lake(tmp_path)
    client = _client(lake, tmp_path)
    ledger = (lake.root / "ledger.jsonl").read_bytes()
    r = client.post("/api/v1/control", headers=_h(token), data={"valid_from": "1672531200"},
                    files={"file": ("map.geojson", b'{"type": "FeatureCollection"}')})
    assert r.status_code == 422
    assert r.json()["detail"] == [{"where": "body.valid_from", "problem": (
        "expected a day YYYY-MM-DD, e.g. 2025-08-21, not '1672531200'")}]
    assert (lake.root / "ledger.jsonl").read_bytes() == ledger
    assert not (tmp_path / "uploads").exists()


@pytest.mark.filterwarnings("ignore:control snapshot 'liveuamap")  # its Donbas gap
def test_the_default_control_map_is_the_latest_of_any_source_as_in_the_cli(tmp_path,
                                                                            data_dir):
    """`truceline detect` and `assess` take the latest map of any source in force each
    day (control_source=None); the service took DeepState's."""
    from truceline.pipeline import snapshot_at

    lake = Lake(tmp_path / "lake")
    maps = data_dir / "frontline"
    lake.ingest_control([maps / "deepstate/deepstatemap_data_20250822.geojson"])
    lake.ingest_control([maps / "liveuamap_nzz/nzz_2025-08-23.json"], source="liveuamap",
                        valid_from="2025-08-23")
    client = _client(lake, tmp_path, public_read=True)
    cli = snapshot_at(lake, None, pd.Timestamp("2025-08-23"))
    r = client.get("/api/v1/line?day=2025-08-23")
    assert r.status_code == 200, r.text
    assert (r.json()["source"], r.json()["snapshot_id"]) == (
        "liveuamap", cli["snapshot_id"].iat[0])
    r = client.get("/api/v1/line?day=2025-08-23&source=deepstate")
    assert (r.json()["source"], r.json()["valid_from"]) == ("deepstate", "2025-08-22")
    params = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/line"]["get"][
        "parameters"]
    source = next(p for p in params if p["name"] == "source")
    assert "Default: the latest map of any source in force each day" in source["description"]


@pytest.mark.slow
def test_run_assessment_publishes_a_signed_report(client, tokens, tmp_path, monkeypatch):
    from truceline.publish.signing import generate_keypair

    generate_keypair(tmp_path / "keys")
    monkeypatch.setenv("TRUCELINE_KEYS", str(tmp_path / "keys"))
    r = client.post("/api/v1/agreements/august-2025-whatif/assessments",
                    headers=_h(tokens["write"]))
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["verdict"] == "violated" and a["incidents"] > 10
    # dozens of proving incidents: the violation does not rest on the maps' motion
    assert a["verdict_without_moved_test"] in (None, "violated")
    h = _h(tokens["read"])
    listed = client.get("/api/v1/agreements", headers=h).json()
    mine = next(x for x in listed if x["id"] == "august-2025-whatif")
    assert mine["latest_assessment"]["verdict"] == "violated"
    mine = next(x for x in client.get("/api/v1/reports", headers=h).json()
                if x["id"] == a["report_id"])
    assert mine["verdict"] == "violated" and mine["ts"].endswith("+00:00")  # when, in UTC
    manifest = client.get(f"/api/v1/reports/{a['report_id']}/manifest", headers=h).json()
    key = client.get("/api/v1/public-key", headers=h).json()
    assert manifest["public_key"] == key["public_key"]


def test_limits_cors_docs_and_dashboard_stay_local(api_lake, tmp_path):
    busy = _client(api_lake, tmp_path, max_in_flight=0, public_read=True)
    r = busy.get("/api/v1/reports")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    slow = _client(api_lake, tmp_path, rate_per_minute=6, public_read=True)
    codes = [slow.get("/api/v1/health").status_code for _ in range(15)]
    assert codes[0] == 200 and codes[-1] == 429
    plain = _client(api_lake, tmp_path, public_read=True)
    r = plain.get("/api/v1/health", headers={"Origin": "http://elsewhere.example"})
    assert "access-control-allow-origin" not in r.headers
    cors = _client(api_lake, tmp_path, public_read=True, cors_origins=("http://a.example",))
    r = cors.get("/api/v1/health", headers={"Origin": "http://a.example"})
    assert r.headers["access-control-allow-origin"] == "http://a.example"
    docs = plain.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert plain.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert plain.get("/api/v1/openapi.json").json()["info"]["title"] == "truceline"
    page = plain.get("/")
    srcs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert srcs == ["/static/plotly.min.js"]
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    js = plain.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000


def test_a_server_without_a_signing_key_says_so_as_its_own_fault(client, tokens, tmp_path,
                                                                 monkeypatch):
    """No key is the server's set-up, not a missing resource: 503, and no key path shown."""
    monkeypatch.setenv("TRUCELINE_KEYS", str(tmp_path / "no-keys"))
    h = _h(tokens["write"])
    r = client.get("/api/v1/public-key", headers=h)
    assert r.status_code == 503 and "truceline keys generate" in r.json()["detail"]
    r = client.post("/api/v1/agreements/august-2025-whatif/assessments", headers=h)
    assert r.status_code == 503 and str(tmp_path) not in r.json()["detail"]
