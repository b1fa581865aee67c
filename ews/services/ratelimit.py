"""Fixed-window request limits shared by every process of a node, counted in the database.

Each caller (an API key, or an address) has a counter per one-minute window
in ``rate_window``. A process does not write on every request: it counts
locally and adds its count to the shared row in batches, small when the
caller is near its limit and never more than ``MAX_BATCH``, so the total over
all processes overshoots a limit by a few requests at most.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, Table, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from ews.models import RateWindow

log = logging.getLogger("ews.ratelimit")
_TABLE: Table = RateWindow.__table__  # type: ignore[attr-defined]
WINDOW_SECONDS = 60
MAX_BATCH = 20
FLUSH_AFTER_SECONDS = 1.0


@dataclass
class _Local:
    window: int
    known_total: int = 0  # the shared count after our last flush
    pending: int = 0  # counted here, not yet added to the shared row
    flushed_at: float = 0.0


class RateLimiter:
    def __init__(self, engine: Engine, window_seconds: int = WINDOW_SECONDS) -> None:
        self.engine = engine
        self.window_seconds = window_seconds
        self._local: dict[str, _Local] = {}
        self._lock = threading.Lock()
        self._last_cleanup = 0

    def hit(self, subject: str, limit: int) -> float | None:
        """Count one request of ``subject``; seconds to wait if it is over ``limit`` a minute, else None."""
        decision, flush = self.count(subject, limit)
        return self.flush(*flush) if flush is not None else decision

    def count(self, subject: str, limit: int) -> tuple[float | None, tuple | None]:
        """The local part of :meth:`hit`, which never touches the database.

        Returns (seconds to wait or None, None) when decided locally, or
        (None, arguments for :meth:`flush`) when the shared count must be updated first.
        """
        if limit <= 0:
            return None, None
        now = time.time()
        window = int(now // self.window_seconds)
        retry_after = (window + 1) * self.window_seconds - now
        with self._lock:
            state = self._local.get(subject)
            if state is None or state.window != window:
                state = self._local[subject] = _Local(window)
            state.pending += 1
            if state.known_total + state.pending > limit:
                return retry_after, None
            batch = max(1, min(MAX_BATCH, (limit - state.known_total) // 8))
            if state.pending < batch and now - state.flushed_at < FLUSH_AFTER_SECONDS:
                return None, None
            adding, state.pending, state.flushed_at = state.pending, 0, now
        return None, (subject, limit, window, adding, retry_after)

    def flush(self, subject: str, limit: int, window: int, adding: int, retry_after: float) -> float | None:
        """Add ``adding`` requests to the shared count; seconds to wait if the total is over ``limit``."""
        total = self._add(subject, window, adding)
        if total is None:
            return None  # the database is unreachable: admit (the request itself will say 503)
        with self._lock:
            state = self._local.get(subject)
            if state is not None and state.window == window:
                state.known_total = total
        self._cleanup(window)
        return retry_after if total > limit else None

    def _add(self, subject: str, window: int, count: int) -> int | None:
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(RateWindow)
            .values(subject=subject, window=window, count=count)
            .on_conflict_do_update(index_elements=["subject", "window"], set_={"count": _TABLE.c["count"] + count})
            .returning(_TABLE.c["count"])
        )
        try:
            with self.engine.begin() as connection:
                return int(connection.execute(statement).scalar_one())
        except SQLAlchemyError as error:
            log.warning("rate limit counter unavailable: %s", type(error).__name__)
            return None

    def _cleanup(self, window: int) -> None:
        if self._last_cleanup == window:
            return
        self._last_cleanup = window
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(RateWindow).where(_TABLE.c["window"] < window - 1))
        except SQLAlchemyError:
            pass
        with self._lock:
            self._local = {k: v for k, v in self._local.items() if v.window >= window}
