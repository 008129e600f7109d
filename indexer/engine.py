"""The indexing engine: fetches the logs of every contract in the deployment manifest in adaptive
ranges, applies them through the handler registry, and commits each batch together with its
checkpoint. Blocks above the safe block (head - confirmations) are kept with their hashes; a new
head whose parent hash does not match starts a walk back to the common ancestor and an undo of the
rows written above it (from the change log), in one transaction, before re-applying."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from indexer.db import make_engine, upgrade
from indexer.handlers import Context, HandlerRegistry
from indexer.handlers import registry as default_registry
from indexer.models import BlockRecord, Checkpoint, RawLog
from indexer.rpc import JsonRpc, RangeTooLargeError
from indexer.store import Overlay, mark_final, prune_changes, rollback_to
from ledger.deployment import Deployment
from ledger.events import DecodedEvent, EventDecoder

log = logging.getLogger("indexer")
ProgressCallback = Callable[["Progress"], None]

_CHECKPOINT = Checkpoint.__table__  # type: ignore[attr-defined]
_BLOCKS = BlockRecord.__table__  # type: ignore[attr-defined]
_RAW = RawLog.__table__  # type: ignore[attr-defined]


class IndexerError(Exception):
    """The indexer cannot go on safely."""


class DeepReorgError(IndexerError):
    """A reorg reaches below the kept window of unconfirmed blocks."""


@dataclass(frozen=True)
class Progress:
    block: int  # last block applied
    target: int  # the block the current phase goes to
    head: int
    events: int  # events applied by this indexer object so far
    phase: str  # "backfill" | "tail"


@dataclass
class State:
    chain_id: int
    start_block: int
    block_number: int
    block_hash: str
    safe_block: int
    head_block: int


class Indexer:
    """Mirrors one deployment into one database.

    ``confirmations``: blocks below head - confirmations are final; the ones above are kept for
    reorg detection (the window). ``initial_range``/``max_range``: eth_getLogs block ranges of the
    backfill (halved on a provider's range error, doubled after an empty range).
    """

    def __init__(
        self,
        rpc_url: str,
        db_url: str,
        deployment: Deployment,
        *,
        confirmations: int = 12,
        initial_range: int = 2_000,
        max_range: int = 50_000,
        tail_range: int = 500,
        poll_interval: float = 1.0,
        registry: HandlerRegistry = default_registry,
        rpc: JsonRpc | None = None,
        engine: Engine | None = None,
        migrate: bool = True,
        decoder: EventDecoder | None = None,
    ) -> None:
        self.deployment = deployment
        self.rpc = rpc or JsonRpc(rpc_url)
        self.engine = engine or make_engine(db_url)
        if migrate:
            upgrade(self.engine)
        self.confirmations = confirmations
        self.range = initial_range
        self.max_range = max_range
        self.tail_range = tail_range
        self.poll_interval = poll_interval
        self.registry = registry
        contracts = {c.address: name for name, c in deployment.contracts.items()}
        self.decoder = decoder or EventDecoder(contracts)
        self.addresses = self.decoder.addresses
        self.topics = self.decoder.topics
        self.events_applied = 0
        self.reorgs = 0
        self._lowest_unfinal: int | None = 0  # lowest block that may have non-final rows (0: unknown)
        self._stop = threading.Event()
        self.chain_id = self.rpc.chain_id()
        if self.chain_id != deployment.chain_id:
            raise IndexerError(f"endpoint is chain {self.chain_id}, the manifest is for chain {deployment.chain_id}")

    # ------------------------------------------------------------ public

    def state(self) -> State | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_CHECKPOINT)).mappings().first()
        return None if row is None else State(**{k: row[k] for k in State.__dataclass_fields__})

    def sync(self, on_progress: ProgressCallback | None = None) -> State:
        """Catch up once: undo a reorg if there was one, backfill to the safe block, then apply the
        unconfirmed blocks up to the head. Returns the new checkpoint."""
        state = self._ensure_state()
        for _ in range(100):
            head = self.rpc.block_number()
            safe = max(head - self.confirmations, state.start_block - 1)
            if state.block_number > head or not self._on_chain(state):
                state = self._undo_reorg(state)
                continue
            state = self._backfill(state, safe, head, on_progress)
            finished, state = self._tail(state, safe, head, on_progress)
            if finished:
                return state
        raise IndexerError("the chain kept reorganising while catching up")

    def run(self, on_progress: ProgressCallback | None = None, *, until_block: int | None = None) -> None:
        """Backfill, then follow the head until :meth:`stop` (or ``until_block`` is indexed)."""
        while not self._stop.is_set():
            state = self.sync(on_progress)
            if until_block is not None and state.block_number >= until_block:
                return
            self._stop.wait(self.poll_interval)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.engine.dispose()
        self.rpc.session.close()

    # ------------------------------------------------------------ state

    def _ensure_state(self) -> State:
        state = self.state()
        if state is not None:
            if state.chain_id != self.chain_id:
                raise IndexerError(f"database mirrors chain {state.chain_id}, the endpoint is chain {self.chain_id}")
            return state
        start = self.deployment.start_block
        parent = self.rpc.headers([start - 1])[0] if start > 0 else None
        state = State(self.chain_id, start, start - 1, parent["hash"] if parent else "", start - 1, start - 1)
        with self.engine.begin() as conn:
            conn.execute(insert(_CHECKPOINT), [{"id": 1, **state.__dict__}])
            if parent:
                conn.execute(insert(_BLOCKS), [_block_row(parent)])
        return state

    def _on_chain(self, state: State) -> bool:
        if not state.block_hash or state.block_number < 0:
            return True
        return self.rpc.headers([state.block_number])[0]["hash"] == state.block_hash

    def _save(self, conn: Connection, state: State) -> None:
        conn.execute(update(_CHECKPOINT).where(_CHECKPOINT.c.id == 1).values(**state.__dict__))

    # ------------------------------------------------------------ reorgs

    def _undo_reorg(self, state: State) -> State:
        with self.engine.connect() as conn:
            kept = conn.execute(select(_BLOCKS.c.number, _BLOCKS.c.hash).where(
                _BLOCKS.c.number <= state.block_number).order_by(_BLOCKS.c.number.desc())).all()
        head = self.rpc.block_number()
        candidates = [(n, h) for n, h in kept if n <= head]
        chain = {int(h["number"], 16): h["hash"] for h in self.rpc.headers([n for n, _ in candidates])}
        ancestor = next((n for n, h in candidates if chain[n] == h), None)
        if ancestor is None:
            lowest = kept[-1][0] if kept else state.block_number
            raise DeepReorgError(
                f"reorg deeper than the kept window: none of the kept blocks {lowest}..{state.block_number} is on "
                f"the chain any more (confirmations={self.confirmations}); re-index from scratch"
            )
        with self.engine.begin() as conn:
            undone = rollback_to(conn, ancestor)
            conn.execute(delete(_RAW).where(_RAW.c.block_number > ancestor))
            conn.execute(delete(_BLOCKS).where(_BLOCKS.c.number > ancestor))
            state = State(state.chain_id, state.start_block, ancestor, chain[ancestor],
                          min(state.safe_block, ancestor), state.head_block)
            self._save(conn, state)
        self.reorgs += 1
        self._lowest_unfinal = 0
        log.warning("reorg: rolled back to block %d (%d row changes undone)", ancestor, undone)
        return state

    # ------------------------------------------------------------ backfill

    def _backfill(self, state: State, safe: int, head: int, on_progress: ProgressCallback | None) -> State:
        target = safe
        while state.block_number < target and not self._stop.is_set():
            lo = state.block_number + 1
            hi = min(lo + self.range - 1, target)
            try:
                logs = self.rpc.get_logs(self.addresses, self.topics, lo, hi)
            except RangeTooLargeError as exc:
                self.range = _smaller_range(exc, lo, hi)
                log.info("provider refused %d..%d; range now %d", lo, hi, self.range)
                continue
            end = self.rpc.headers([hi])[0]
            if any(e["blockHash"] != end["hash"] for e in logs if int(e["blockNumber"], 16) == hi):
                continue  # the range's end moved under us: fetch again
            with self.engine.begin() as conn:
                applied = self._apply(conn, logs, safe)
                conn.execute(delete(_BLOCKS))
                conn.execute(insert(_BLOCKS), [_block_row(end)])
                self._finalize(conn, safe)
                state = State(state.chain_id, state.start_block, hi, end["hash"], safe, head)
                self._save(conn, state)
            self.events_applied += applied
            if not logs:
                self.range = min(self.max_range, self.range * 2)
            if on_progress:
                on_progress(Progress(hi, target, head, self.events_applied, "backfill"))
        return state

    # ------------------------------------------------------------ tail

    def _tail(self, state: State, safe: int, head: int, on_progress: ProgressCallback | None) -> tuple[bool, State]:
        while state.block_number < head and not self._stop.is_set():
            lo = state.block_number + 1
            hi = min(head, lo + self.tail_range - 1)
            headers = self.rpc.headers(list(range(lo, hi + 1)))
            parent = state.block_hash
            for header in headers:
                if parent and header["parentHash"] != parent:
                    return False, state  # reorg (or a new branch): sync() walks back
                parent = header["hash"]
            by_number = {int(h["number"], 16): h for h in headers}
            logs = self.rpc.get_logs(self.addresses, self.topics, lo, hi)
            if any(entry["blockHash"] != by_number[int(entry["blockNumber"], 16)]["hash"] for entry in logs):
                return False, state
            with self.engine.begin() as conn:
                applied = self._apply(conn, logs, safe, by_number)
                conn.execute(insert(_BLOCKS), [_block_row(h) for h in headers])
                conn.execute(delete(_BLOCKS).where(_BLOCKS.c.number < min(safe, hi)))
                self._finalize(conn, safe)
                if hi > safe and self._lowest_unfinal is None:
                    self._lowest_unfinal = max(lo, safe + 1)
                state = State(state.chain_id, state.start_block, hi, headers[-1]["hash"], safe, head)
                self._save(conn, state)
            self.events_applied += applied
            if on_progress:
                on_progress(Progress(hi, head, head, self.events_applied, "tail"))
        return True, state

    def _finalize(self, conn: Connection, safe: int) -> None:
        """Mark rows at or below ``safe`` final and drop their change log (only when some may not be)."""
        if self._lowest_unfinal is not None and self._lowest_unfinal <= safe:
            prune_changes(conn, safe)
            mark_final(conn, safe)
            self._lowest_unfinal = None

    # ------------------------------------------------------------ apply

    def _apply(self, conn: Connection, logs: list[dict], safe: int, headers: dict[int, dict] | None = None) -> int:
        """Apply ``logs`` (one block range, in chain order) and record them in raw_log; returns the count."""
        if not logs:
            return 0
        logs = sorted(logs, key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16)))
        lo, hi = int(logs[0]["blockNumber"], 16), int(logs[-1]["blockNumber"], 16)
        seen = set(conn.execute(select(_RAW.c.tx_hash, _RAW.c.log_index).where(
            _RAW.c.chain_id == self.chain_id, _RAW.c.block_number >= lo, _RAW.c.block_number <= hi)).all())
        timestamps = self._timestamps(logs, headers)
        overlay = Overlay(conn, safe)
        raw: list[dict[str, Any]] = []
        for entry in logs:
            event = self.decoder.decode(entry)  # the decoder reads JSON-RPC hex fields as they come
            if event is None or (event.tx_hash, event.log_index) in seen:
                continue
            overlay.block_number = event.block_number
            handler = self.registry.get(event.contract, event.name)
            if handler is not None:
                handler(Context(overlay, timestamps[event.block_number]), event)
            raw.append(_raw_row(self.chain_id, event, entry))
        overlay.flush()
        if raw:
            conn.execute(insert(_RAW), raw)
        return len(raw)

    def _timestamps(self, logs: list[dict], headers: dict[int, dict] | None) -> dict[int, int]:
        out: dict[int, int] = {}
        missing: set[int] = set()
        for entry in logs:
            number = int(entry["blockNumber"], 16)
            if number in out:
                continue
            stamp = entry.get("blockTimestamp")
            if stamp is not None:
                out[number] = int(stamp, 16)
            elif headers and number in headers:
                out[number] = int(headers[number]["timestamp"], 16)
            else:
                missing.add(number)
        if missing:
            for header in self.rpc.headers(sorted(missing)):
                out[int(header["number"], 16)] = int(header["timestamp"], 16)
        return out


def _smaller_range(exc: RangeTooLargeError, lo: int, hi: int) -> int:
    size = hi - lo + 1
    if exc.suggested_to is not None and lo <= exc.suggested_to < hi:
        return exc.suggested_to - lo + 1
    if exc.suggested_size is not None and 0 < exc.suggested_size < size:
        return exc.suggested_size
    return max(1, size // 2)


def _block_row(header: dict) -> dict[str, Any]:
    return {"number": int(header["number"], 16), "hash": header["hash"], "parent_hash": header["parentHash"],
            "timestamp": int(header["timestamp"], 16)}


def _raw_row(chain_id: int, event: DecodedEvent, entry: dict) -> dict[str, Any]:
    return {"chain_id": chain_id, "tx_hash": event.tx_hash, "log_index": event.log_index,
            "block_number": event.block_number, "block_hash": event.block_hash, "address": event.address,
            "contract": event.contract, "event": event.name, "topics": ",".join(entry["topics"]),
            "data": entry["data"]}


def run(rpc_url: str, db_url: str, deployment: Deployment, *, follow: bool = True,
        on_progress: ProgressCallback | None = None, **options: Any) -> Indexer:
    """Index ``deployment`` into ``db_url``: backfill, then (``follow``) tail the head until stopped."""
    indexer = Indexer(rpc_url, db_url, deployment, **options)
    if follow:
        indexer.run(on_progress)
    else:
        indexer.sync(on_progress)
    return indexer


def iter_rows(engine: Engine, tables: Iterable[Any]) -> dict[str, list[dict]]:
    """Every row of ``tables`` (models or tables), sorted by primary key, for comparisons."""
    out: dict[str, list[dict]] = {}
    with engine.connect() as conn:
        for model in tables:
            table = getattr(model, "__table__", model)
            order = list(table.primary_key.columns)
            out[table.name] = [dict(r) for r in conn.execute(select(table).order_by(*order)).mappings()]
    return out
