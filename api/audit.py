"""The audit log: one ``api_audit`` row per request, written by a background thread in batches.

Rows go through a bounded queue: when it is full the request waits for room (back-pressure) instead
of dropping its row. The writer flushes a batch when it holds ``batch_size`` rows or when its oldest
row has waited ``flush_seconds``; a failed write is retried, never skipped. ``close`` drains the
queue and flushes what is left (the app calls it on shutdown).

The table comes from its own Alembic chain (api/migrations, version table ``api_alembic_version``),
applied when a writer is made. Retention: with ``retention_seconds`` set, the writer deletes rows older
than that, in batches, at most every ``purge_seconds``, between flushes (so never a row still queued);
:func:`purge` does the same on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, delete, insert, select

log = logging.getLogger(__name__)

metadata = MetaData()  # the API's own tables, kept apart from the indexer's schema
api_audit = Table(
    "api_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),  # unix seconds when the request arrived
    Column("method", String(16), nullable=False),
    Column("path", String(2048), nullable=False),  # the concrete path, without the query string
    Column("route", String(256), nullable=True),  # the route template, e.g. /payables/{slot}
    Column("status", Integer, nullable=False),
    Column("caller", String(64), nullable=True, index=True),  # the bearer token's address, if any
    Column("duration_ms", Float, nullable=False),
)


MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(engine: Engine, *, attempts: int = 5) -> None:
    """Bring the API's tables in ``engine``'s database to the latest migration (their own version table).

    Several workers of one service start together and each upgrades: when another process is migrating the
    same database, the attempt fails and rolls back whole (one transaction), and the next finds the work done.
    """
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.exc import DBAPIError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            return
        except DBAPIError:
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)


def purge(engine: Engine, older_than: float, *, batch_rows: int = 5000) -> int:
    """Delete the audit rows of requests that arrived before unix time ``older_than``, ``batch_rows`` per
    transaction (short locks on a busy log); returns how many were deleted."""
    doomed = select(api_audit.c.id).where(api_audit.c.at < older_than).order_by(api_audit.c.id).limit(batch_rows)
    deleted = 0
    while True:
        with engine.begin() as conn:
            ids = list(conn.execute(doomed).scalars())
            if ids:
                conn.execute(delete(api_audit).where(api_audit.c.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < batch_rows:
            return deleted


@dataclass(frozen=True)
class AuditRow:
    at: float
    method: str
    path: str
    route: str | None
    status: int
    caller: str | None
    duration_ms: float

    def as_dict(self) -> dict:
        return {"at": self.at, "method": self.method, "path": self.path, "route": self.route, "status": self.status,
                "caller": self.caller, "duration_ms": self.duration_ms}


_STOP = object()


class AuditWriter:
    """Batches audit rows into ``api_audit`` from a daemon thread (started on the first row)."""

    def __init__(self, engine: Engine, *, batch_size: int = 200, flush_seconds: float = 0.5,
                 max_queue: int = 10_000, retry_seconds: float = 0.2, retention_seconds: float | None = None,
                 purge_seconds: float = 3600.0) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.retry_seconds = retry_seconds
        self.retention_seconds = retention_seconds
        self.purge_seconds = purge_seconds
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._purged_at = -float("inf")  # monotonic time of the last purge
        self.written = 0
        self.purged = 0
        upgrade(engine)

    # -- producers

    def submit(self, row: AuditRow) -> None:
        """Queue ``row``, waiting for room when the queue is full (from threads; not from the event loop)."""
        self._ensure_started()
        self._queue.put(row)

    async def asubmit(self, row: AuditRow) -> None:
        """Queue ``row`` from the event loop; when the queue is full, wait for room off the loop."""
        self._ensure_started()
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            await asyncio.to_thread(self._queue.put, row)

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="api-audit-writer", daemon=True)
                    self._thread.start()

    # -- the writer

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            deadline = time.monotonic() + self.flush_seconds
            while len(batch) < self.batch_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._write(batch)
            self._maybe_purge()
        # drain whatever arrived after the stop marker
        rest = []
        with contextlib.suppress(queue.Empty):
            while True:
                item = self._queue.get_nowait()
                if item is not _STOP:
                    rest.append(item)
        for i in range(0, len(rest), self.batch_size):
            self._write(rest[i:i + self.batch_size])

    def _write(self, batch: list[AuditRow]) -> None:
        delay = self.retry_seconds
        while True:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(api_audit), [r.as_dict() for r in batch])
                self.written += len(batch)
                return
            except Exception:  # keep the rows: retry until the database takes them
                log.exception("audit batch of %d rows not written; retrying in %.1fs", len(batch), delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _maybe_purge(self) -> None:
        if self.retention_seconds is None or time.monotonic() - self._purged_at < self.purge_seconds:
            return
        try:
            self.purged += purge(self.engine, time.time() - self.retention_seconds)
        except Exception:  # the log keeps growing for a while; writing rows matters more
            log.exception("audit retention purge failed; retrying after the next interval")
        self._purged_at = time.monotonic()

    def close(self, timeout: float | None = 30.0) -> None:
        """Flush every queued row and stop the thread (a later row starts a new one: an app may run its
        lifespan more than once, as test clients do)."""
        with self._start_lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._queue.put(_STOP)
            thread.join(timeout)
