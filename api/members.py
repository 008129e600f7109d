"""Who is a member, with which roles: the chain's Participants registry, re-read when the chain moves.

Reading a member costs several ``eth_call`` s (membership, each member role); doing it on every
request caps the API at a few hundred requests a second. :class:`Members` keeps each answer until the
chain's head moves: a background thread polls the head every ``refresh_seconds``, and an answer read at
an older head is read again. Whatever changes membership (admission, removal, renewal, a role granted
or revoked) is a transaction, hence a new block, so the API follows it within one poll interval; an
expiry (``validUntil`` passing without any block) is checked against the clock. ``refresh_seconds=0``
re-reads the chain on every request.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass

from ledger.client import Ledger
from ledger.records import MemberRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    head: int
    record: MemberRecord


class Members:
    def __init__(self, ledger: Ledger, refresh_seconds: float) -> None:
        self.ledger = ledger
        self.refresh_seconds = refresh_seconds
        self.reads = 0  # member reads from the chain (cache misses)
        self._head = -1
        self._cache: dict[str, _Entry] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def cached(self, address: str) -> MemberRecord | None:
        """The answer for ``address`` read at the current head, if there is one (no I/O: safe on the event
        loop)."""
        if self.refresh_seconds <= 0:
            return None
        entry = self._cache.get(address)
        if entry is None or entry.head != self._head or entry.head < 0:
            return None
        if entry.record.is_member and entry.record.valid_until < time.time():
            return None  # expired since it was read, with no block mined since
        return entry.record

    def get(self, address: str) -> MemberRecord:
        """``address``'s membership and roles as the chain says (at most one poll interval old)."""
        if (record := self.cached(address)) is not None:
            return record
        if self.refresh_seconds > 0:
            self._ensure_watching()
        head = self._head  # the head seen before the read: a block mined meanwhile makes the next request read again
        record = self.ledger.member(address)
        self.reads += 1
        if self.refresh_seconds > 0:
            self._cache[address] = _Entry(head, record)
        return record

    def _ensure_watching(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._head = self._read_head()
                    self._stop = threading.Event()
                    self._thread = threading.Thread(target=_watch, name="api-member-head", daemon=True,
                                                    args=(weakref.ref(self), self._stop, self.refresh_seconds))
                    self._thread.start()

    def close(self) -> None:
        """Stop watching the head (a later request starts again)."""
        with self._lock:
            if self._thread is not None:
                self._stop.set()
                self._thread = None

    def _read_head(self) -> int:
        return int(self.ledger.chain.w3.eth.block_number)

    def _poll(self) -> None:
        try:
            head = self._read_head()
        except Exception as exc:  # chain unreachable: nothing cached is trusted until it answers again
            if self._head != -1:
                log.warning("cannot read the chain head (%s); member answers are re-read", exc)
            head = -1
        if head != self._head:
            self._head = head
            self._cache = {}


def _watch(ref: weakref.ref[Members], stop: threading.Event, interval: float) -> None:
    """Poll the head until stopped or until the app's :class:`Members` is gone (no strong reference is held
    while waiting, so a dropped app is collected and its thread ends)."""
    while not stop.wait(interval):
        members = ref()
        if members is None:
            return
        members._poll()
        del members
