"""The membership cache: one chain read per member while the head stays, a new read once it moves, and
no watcher thread left behind by an app that is gone."""

from __future__ import annotations

import gc
import time

from api.members import Members
from ledger.roles import Role


def test_answers_are_cached_until_the_head_moves(ledger, actors):
    members = Members(ledger, 0.05)
    for _ in range(5):
        assert members.get(actors.lender.address).roles == frozenset({Role.LENDER})
    assert members.reads == 1
    ledger.chain.w3.provider.make_request("evm_mine", [])
    deadline = time.monotonic() + 5
    while members.cached(actors.lender.address) is not None:
        assert time.monotonic() < deadline, "the new head was not noticed"
        time.sleep(0.01)
    assert members.get(actors.lender.address).is_member and members.reads == 2
    members.close()


def test_a_dropped_cache_stops_its_watcher(ledger, actors):
    members = Members(ledger, 0.05)
    members.get(actors.supplier.address)
    watcher = members._thread
    assert watcher is not None and watcher.is_alive()
    del members
    gc.collect()
    watcher.join(5)
    assert not watcher.is_alive(), "the watcher outlived its cache"
