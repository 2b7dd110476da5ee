"""Encoded answers kept per URL and served stale while the new lake state's is computed.

Why: an answer derived from the lake (a week of incidents) takes seconds to compute, and
every write (an ingest by ``watch``, an upload) makes it stale. If each reader after a
write waited for that computation, reads would stall for seconds at every ingest. So the
cache keeps, per URL, the answer of the newest lake state that has one; a reader gets it
at once, and one background computation per URL brings it up to the lake's current
state, replacing the old answer when it is ready (stale-while-revalidate, RFC 5861).

Every answer carries the :class:`State` it was computed from, so a client can tell how
old it is; a client that needs at least a given state (``need``) never gets an older
answer: it waits for the computation instead. Memory is bounded by a number of answers
and a number of bytes (least recently used go first).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class State:
    """A committed lake state: the ledger's entry count and head hash (``ledger.head``).

    The ledger is append-only and hash-chained, so ``seq`` alone orders states.

    >>> State(3, "ab").tag
    '3:ab'
    """

    seq: int
    hash: str

    @property
    def tag(self) -> str:
        """``SEQ:HASH``, as `truceline ledger anchor` prints it."""
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class Answer:
    """An encoded answer and the lake state it was computed from."""

    state: State
    body: bytes


class AnswerCache:
    """Latest answer per key, bounded; stale answers refreshed in the background.

    ``workers`` background computations run at a time (one by default: the machine's
    cores are better spent on readers than on refreshing many URLs at once); a key is
    never queued twice.
    """

    def __init__(self, max_entries: int = 512, max_bytes: int = 256 * 2**20,
                 workers: int = 1) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[str, Answer] = OrderedDict()
        self._bytes = 0
        self._locks: dict[str, threading.Lock] = {}
        self._refreshing: set[str] = set()
        self._guard = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="truceline-refresh")

    def peek(self, key: str, current: State, compute: Callable[[], Answer], *,
             need: int | None = None) -> tuple[Answer, bool] | None:
        """The held answer for ``key`` and whether it is stale, without waiting; None
        when the caller has to compute it (:meth:`get`).

        An answer of ``current`` (or newer) is fresh. One of an older state is returned
        and a refresh queued (``compute`` in the background), unless ``need`` asks for
        a newer state than it has.
        """
        with self._guard:
            held = self._items.get(key)
            if held is None:
                return None
            self._items.move_to_end(key)
            if held.state.seq >= current.seq:
                return held, False
            if need is None or held.state.seq >= need:
                self._refresh_later(key, compute)
                return held, True
            return None

    def get(self, key: str, current: State, compute: Callable[[], Answer], *,
            need: int | None = None) -> tuple[Answer, bool]:
        """:meth:`peek`, or else ``compute`` now (blocking) and keep the answer.

        ``compute`` computes the answer at the lake's state when it runs (which may be
        newer than ``current``). Many callers waiting for one key share one computation.
        """
        found = self.peek(key, current, compute, need=need)
        if found is not None:
            return found
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                held = self._items.get(key)
            if held is not None and held.state.seq >= max(current.seq, need or 0):
                return held, False  # computed by the caller we waited for
            answer = compute()
            with self._guard:
                self._put(key, answer)
                self._locks.pop(key, None)
            return answer, answer.state.seq < current.seq

    def _refresh_later(self, key: str, compute: Callable[[], Answer]) -> None:
        """Queue one background computation for ``key`` (caller holds the guard)."""
        if key in self._refreshing:
            return
        self._refreshing.add(key)
        self._pool.submit(self._refresh, key, compute)

    def _refresh(self, key: str, compute: Callable[[], Answer]) -> None:
        try:
            answer = compute()
        except Exception as exc:  # noqa: BLE001 - the next reader computes and sees it
            # the new state has no answer (a map gone, a bad range): stop serving the old
            # one, so the next reader computes it in the open and gets the error itself
            log.warning("refreshing %s failed (%s: %s); dropped its old answer", key,
                        type(exc).__name__, exc)
            with self._guard:
                self._drop(key)
                self._refreshing.discard(key)
            return
        with self._guard:
            self._put(key, answer)
            self._refreshing.discard(key)

    def _put(self, key: str, answer: Answer) -> None:
        """Keep ``answer`` unless a newer state's is already held; then trim (guard held)."""
        held = self._items.get(key)
        if held is not None and held.state.seq > answer.state.seq:
            return
        self._drop(key)
        if len(answer.body) > self.max_bytes:
            return  # too big to keep: computed each time
        self._items[key] = answer
        self._bytes += len(answer.body)
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            _, old = self._items.popitem(last=False)
            self._bytes -= len(old.body)

    def _drop(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no refresh is queued or running (for tests and benchmarks)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._guard:
                if not self._refreshing:
                    return True
            time.sleep(0.01)
        return False

    def stats(self) -> dict[str, int]:
        with self._guard:
            return {"answers": len(self._items), "bytes": self._bytes,
                    "refreshing": len(self._refreshing)}
