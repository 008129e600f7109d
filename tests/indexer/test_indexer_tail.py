"""Following the head of a chain that mines one block a second: the mirror lags the head by little."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from indexer import Indexer
from ledger.anvil import Anvil, dev_accounts
from ledger.chain import Chain
from ledger.client import Ledger
from ledger.deployment import deploy_system
from ledger.roles import Role


@pytest.mark.slow
def test_lag_behind_a_one_block_per_second_head(tmp_path) -> None:
    with Anvil(accounts=4, block_time=1) as node:
        chain = Chain(node.url)
        keys = dev_accounts(4)
        deployment = deploy_system(chain, keys[0], kyc_registrars=(keys[1].address,))
        ledger = Ledger(chain, deployment)
        indexer = Indexer(node.url, f"sqlite:///{tmp_path}/tail.db", deployment, confirmations=3, poll_interval=0.1)
        thread = threading.Thread(target=indexer.run, daemon=True)
        thread.start()
        lags = []
        try:
            registrar = ledger.as_registrar(keys[1])
            registrar.admit(keys[2].address, "member", [Role.SUPPLIER], int(time.time()) + 86400 * 365)
            for i in range(8):
                result = registrar.renew(keys[2].address, int(time.time()) + 86400 * (400 + i)) if i % 2 else None
                head = chain.w3.eth.block_number
                while chain.w3.eth.block_number == head:  # the moment a new head appears
                    time.sleep(0.005)
                appeared = time.monotonic()
                head += 1
                while (state := indexer.state()) is None or state.block_number < head:
                    assert time.monotonic() - appeared < 10, "the indexer stopped following"
                    time.sleep(0.005)
                lags.append(time.monotonic() - appeared)
                assert result is None or result.block_number <= state.block_number + 1
        finally:
            indexer.stop()
            thread.join(timeout=10)
            indexer.close()
        # From the moment a block is the head to the moment the mirror covers it.
        print(f"lag behind a 1 block/s head: median {statistics.median(lags):.3f} s, max {max(lags):.3f} s")
        assert indexer.events_applied > 4
        assert max(lags) < 1.5, lags
        assert statistics.median(lags) < 0.5, lags
