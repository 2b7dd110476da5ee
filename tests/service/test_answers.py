"""Answers served stale while a write's new state is computed, never older than asked for,
and a bounded cache: the answer cache alone, then the API on a real lake being written."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from service_data import NRT, copy_lake

from truceline.service.answers import Answer, AnswerCache, State
from truceline.service.app import create_app
from truceline.service.settings import Settings

S1, S2, S3 = State(1, "a" * 64), State(2, "b" * 64), State(3, "c" * 64)


def test_a_stale_answer_comes_at_once_and_is_replaced_in_the_background():
    cache = AnswerCache()
    gate = threading.Event()
    calls: list[State] = []

    def compute_at(state: State, wait: bool = False):
        def compute() -> Answer:
            if wait:
                assert gate.wait(30)
            calls.append(state)
            return Answer(state, f"at {state.seq}".encode())
        return compute

    assert cache.get("u", S1, compute_at(S1)) == (Answer(S1, b"at 1"), False)
    assert cache.get("u", S1, compute_at(S1)) == (Answer(S1, b"at 1"), False)
    # the lake moved to S2: the S1 answer at once (the refresh is held at the gate)
    assert cache.get("u", S2, compute_at(S2, wait=True)) == (Answer(S1, b"at 1"), True)
    assert cache.get("u", S2, compute_at(S2, wait=True)) == (Answer(S1, b"at 1"), True)
    assert cache.stats()["refreshing"] == 1  # one refresh per key, however many readers
    gate.set()
    assert cache.wait_idle(30)
    assert cache.get("u", S2, compute_at(S2)) == (Answer(S2, b"at 2"), False)
    assert calls == [S1, S2]


def test_a_client_that_needs_a_newer_state_waits_for_it():
    cache = AnswerCache()
    cache.get("u", S1, lambda: Answer(S1, b"old"))
    answer, stale = cache.get("u", S3, lambda: Answer(S3, b"new"), need=3)
    assert answer == Answer(S3, b"new") and not stale
    # an older answer that is new enough is still served at once
    cache.get("v", S2, lambda: Answer(S2, b"two"))
    assert cache.get("v", S3, lambda: Answer(S3, b"three"), need=2) == (Answer(S2, b"two"),
                                                                          True)


def test_an_older_state_never_replaces_a_newer_one_and_a_failed_refresh_forgets():
    cache = AnswerCache()
    cache.get("u", S3, lambda: Answer(S3, b"three"))
    cache._put("u", Answer(S1, b"one"))  # a slow computation finishing late
    assert cache.get("u", S3, lambda: Answer(S3, b"x"))[0].body == b"three"

    def broken() -> Answer:
        raise ValueError("no map in force")
    cache.get("w", S1, lambda: Answer(S1, b"w1"))
    assert cache.get("w", S2, broken) == (Answer(S1, b"w1"), True)
    assert cache.wait_idle(30)
    with pytest.raises(ValueError, match="no map"):  # the next reader sees the error
        cache.get("w", S2, broken)


def test_the_cache_is_bounded_in_answers_and_bytes():
    cache = AnswerCache(max_entries=3, max_bytes=1000)
    for i in range(10):
        cache.get(f"u{i}", S1, lambda i=i: Answer(S1, b"x" * 100))
    assert cache.stats()["answers"] == 3
    for i in range(10):
        cache.get(f"v{i}", S1, lambda: Answer(S1, b"x" * 400))
    assert cache.stats()["answers"] == 2 and cache.stats()["bytes"] == 800
    cache.get("huge", S1, lambda: Answer(S1, b"x" * 5000))  # served, not kept
    assert cache.stats()["bytes"] <= 1000


def _days(first: int, last: int) -> list[str]:
    return [f"J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025{d}.txt.csv" for d in range(first, last + 1)]


@pytest.mark.slow
def test_reads_during_a_write_get_the_previous_state_then_the_new(base_lake, data_dir,
                                                                  tmp_path, monkeypatch):
    """A write (an ingest of two more days) makes the week's incidents stale: the next
    read returns at once the previous state's answer, marked stale, while the refresh is
    still held back; once it is done, reads get the new state's answer."""
    from truceline import pipeline

    lake = copy_lake(base_lake, tmp_path / "lake")
    nrt = data_dir / NRT
    lake.ingest_firms([nrt / f for f in _days(223, 234)])  # 11-22 August
    app = create_app(Settings.from_env(lake.root, public_read=True,
                                       uploads_dir=tmp_path / "up"))
    client = TestClient(app)
    url = "/api/v1/incidents?start=2025-08-21&end=2025-08-24&limit=1000"
    r = client.get(url)
    assert r.status_code == 200 and "x-truceline-stale" not in r.headers
    before, state0 = r.json(), r.headers["x-truceline-state"]
    assert state0 == lake.ledger_anchor()

    gate, real = threading.Event(), pipeline.detect_period

    def held_back(*a, **kw):  # the refresh of the new state waits for the test
        assert gate.wait(60)
        return real(*a, **kw)
    monkeypatch.setattr(pipeline, "detect_period", held_back)
    lake.ingest_firms([nrt / f for f in _days(235, 236)])  # 23-24 August
    state1 = lake.ledger_anchor()
    assert state1 != state0
    with ThreadPoolExecutor(1) as pool:  # a read that waited for the refresh would hang
        r = pool.submit(client.get, url).result(timeout=30)
    assert r.status_code == 200
    assert r.headers["x-truceline-state"] == state0 and r.headers["x-truceline-stale"] == "1"
    assert r.json() == before
    gate.set()
    assert app.state.views.answers.wait_idle(120)
    r = client.get(url)
    assert r.headers["x-truceline-state"] == state1 and "x-truceline-stale" not in r.headers
    after = r.json()
    assert after["numberMatched"] > before["numberMatched"]
    assert max(f["properties"]["last_utc"] for f in after["features"]) >= "2025-08-23"

    # a client that asks for the newest state waits for it instead of getting the old one
    lake.write_files({"notes/x.txt": b"x"}, kind="note")
    state2 = lake.ledger_anchor()
    for headers in ({"X-Truceline-Min-State": state2}, {"Cache-Control": "no-cache"},
                    {"X-Truceline-Min-State": state2.split(":")[0]}):
        r = client.get(url, headers=headers)
        assert r.headers["x-truceline-state"] == state2, headers
        assert "x-truceline-stale" not in r.headers and r.json() == after
    seq = int(state2.split(":")[0])
    r = client.get(url, headers={"X-Truceline-Min-State": str(seq + 1)})
    assert r.status_code == 400 and "no state" in r.json()["detail"]
    r = client.get(url, headers={"X-Truceline-Min-State": "../etc"})
    assert r.status_code == 422


@pytest.mark.slow
def test_a_write_answer_names_the_state_its_follow_up_asks_for(api_lake, tmp_path):
    """POST /agreements answers with the lake state after the write; GET /agreements is
    always read at the state now, so the new agreement is there."""
    from service_data import AUGUST

    from truceline.service.tokens import create_token

    lake = copy_lake(api_lake.root, tmp_path / "lake")
    token = create_token(lake, "write", "tests")[0]
    client = TestClient(create_app(Settings.from_env(lake.root, uploads_dir=tmp_path / "up")))
    h = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/v1/agreements", headers=h)
    before = [a["id"] for a in r.json()]  # other tests may have registered more in the
    assert "august-2025-whatif" in before and "copy" not in before  # session's lake
    assert r.headers["x-truceline-state"] == lake.ledger_anchor()
    r = client.post("/api/v1/agreements?id=copy", content=AUGUST.read_text(),
                    headers=h | {"Content-Type": "text/plain"})
    assert r.status_code == 200 and r.headers["x-truceline-state"] == lake.ledger_anchor()
    r = client.get("/api/v1/agreements", headers=h)
    assert sorted(a["id"] for a in r.json()) == sorted([*before, "copy"])
    line = client.get("/api/v1/line?day=2025-08-21", headers=h | {
        "X-Truceline-Min-State": lake.ledger_anchor()})
    assert line.status_code == 200 and line.headers["x-truceline-state"] == lake.ledger_anchor()
