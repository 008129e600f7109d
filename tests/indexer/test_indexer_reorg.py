"""Reorgs of depth 1-5 while the indexer tails the chain: the new branch reuses block numbers, one
reorg happens while the indexer is stopped (its checkpoint is no longer on the chain), and the mirror
ends equal to a fresh re-index of the final chain."""

from __future__ import annotations

import threading
import time

import pytest
from comparators import Truth, compare_all
from ix_fixtures import *  # noqa: F403  (fixtures)
from ix_fixtures import rows_of
from scenario_helpers import Scenario, rpc

from indexer import DeepReorgError, Indexer

CONFIRMATIONS = 8


def _head(ledger) -> int:  # type: ignore[no-untyped-def]
    return int(ledger.chain.w3.eth.block_number)


def _wait_caught_up(indexer: Indexer, ledger, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = indexer.state()
        block = ledger.chain.w3.eth.get_block("latest")
        if state and state.block_number == block["number"] and state.block_hash == "0x" + block["hash"].hex():
            return
        time.sleep(0.02)
    raise AssertionError(f"indexer did not catch up: {indexer.state()} vs head {_head(ledger)}")


def _mine_branch(scenario: Scenario, blocks: int) -> None:
    """Exactly ``blocks`` new blocks of random one-transaction actions."""
    ledger = scenario.ledger
    target = _head(ledger) + blocks
    one_tx = [scenario.split, scenario.freeze, scenario.anchor, scenario.transfer_value, scenario.delegate,
              scenario.cancel_nonce, scenario.transfer_token, scenario.renew]
    while _head(ledger) < target:
        scenario.one(scenario.rng.choice(one_tx))
    assert _head(ledger) == target


class Tailing:
    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.indexer.run()
        except BaseException as exc:  # reported by stop()
            self.error = exc

    def stop(self) -> None:
        self.indexer.stop()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive()
        if self.error:
            raise self.error


def test_reorgs_while_tailing_equal_a_fresh_reindex(ledger, actors, make_indexer, new_db) -> None:  # type: ignore[no-untyped-def]
    scenario = Scenario(ledger, actors, 11).run(25)
    url = new_db()
    tail = Tailing(make_indexer(url, confirmations=CONFIRMATIONS))
    _wait_caught_up(tail.indexer, ledger)
    depths = []
    for round_, depth in enumerate([1, 2, 3, 4, 5]):
        fork = rpc(ledger, "evm_snapshot")
        fork_block = _head(ledger)
        _mine_branch(scenario, depth)
        _wait_caught_up(tail.indexer, ledger)
        old_hash = ledger.chain.w3.eth.get_block(fork_block + 1)["hash"]
        assert rpc(ledger, "evm_revert", fork) is True
        scenario.rng.seed(1000 + round_)
        scenario.resync()
        # the new branch reuses the numbers fork_block+1..; the depth-2 one is shorter than the old one
        _mine_branch(scenario, 1 if depth == 2 else depth + 1)
        assert ledger.chain.w3.eth.get_block(fork_block + 1)["hash"] != old_hash
        depths.append(depth)
        _wait_caught_up(tail.indexer, ledger)
    tail.stop()
    assert tail.indexer.reorgs >= len(depths)

    # A reorg while the indexer is down: its committed checkpoint is on the abandoned branch.
    fork = rpc(ledger, "evm_snapshot")
    _mine_branch(scenario, 3)
    stopped = make_indexer(url, confirmations=CONFIRMATIONS)
    stopped.sync()
    checkpoint = stopped.state()
    assert rpc(ledger, "evm_revert", fork) is True
    scenario.resync()
    _mine_branch(scenario, 4)
    restarted = make_indexer(url, confirmations=CONFIRMATIONS)
    state = restarted.sync()
    assert restarted.reorgs == 1 and state.block_hash != checkpoint.block_hash

    fresh = make_indexer(new_db(), confirmations=CONFIRMATIONS)
    fresh.sync()
    assert fresh.state().block_number == state.block_number
    assert rows_of(restarted) == rows_of(fresh)
    compare_all(Truth(ledger, [a.address for a in vars(actors).values()]), rows_of(restarted))


def test_reorg_deeper_than_the_window_stops_with_a_clear_error(ledger, actors, make_indexer, db_url) -> None:  # type: ignore[no-untyped-def]
    scenario = Scenario(ledger, actors, 5).run(5)
    fork = rpc(ledger, "evm_snapshot")
    _mine_branch(scenario, 4)
    indexer = make_indexer(db_url, confirmations=2)
    indexer.sync()
    assert rpc(ledger, "evm_revert", fork) is True
    scenario.resync()
    _mine_branch(scenario, 5)
    with pytest.raises(DeepReorgError, match="deeper than the kept window"):
        indexer.sync()
