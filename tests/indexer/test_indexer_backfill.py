"""Backfill robustness: SIGKILL at random points then restart, and a provider that refuses large ranges."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from ix_fixtures import *  # noqa: F403  (fixtures)
from ix_fixtures import ALL_TABLES, fresh_deployment, mine, rows_of
from scenario_helpers import Scenario
from sqlalchemy import create_engine, select

from indexer import Indexer
from indexer.engine import iter_rows
from indexer.models import Checkpoint
from indexer.rpc import JsonRpc, is_range_error, parse_suggestion
from ledger.anvil import Anvil
from ledger.deployment import save_manifest

ALCHEMY = ("Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on "
           "the response size, or you can request any block range with a cap of 10K logs in the response. Based on "
           "your parameters, this block range should work: [{lo:#x}, {hi:#x}]")


@pytest.mark.parametrize(("message", "to_block", "size"), [
    (ALCHEMY.format(lo=0x10, hi=0x7DF), 0x7DF, None),
    ("query returned more than 10000 results. Try with this block range [0x1A2B, 0x1B00].", 0x1B00, None),
    ("eth_getLogs is limited to a 10000 range", None, 10000),
    ("block range is too large, max range: 5000", None, 5000),
    ("exceed maximum block range: 3500", None, 3500),
    ("ranges over 2000 blocks are not supported", None, None),
])
def test_range_errors_of_real_providers_are_recognised(message: str, to_block, size) -> None:  # type: ignore[no-untyped-def]
    assert is_range_error(message)
    assert parse_suggestion(message) == (to_block, size)


def _checkpoint(engine) -> int:  # type: ignore[no-untyped-def]
    try:
        with engine.connect() as conn:
            row = conn.execute(select(Checkpoint.__table__.c.block_number)).first()  # type: ignore[attr-defined]
            return -1 if row is None else int(row[0])
    except Exception:  # the schema may not exist yet
        return -1


def test_sigkill_during_backfill_then_restart_gives_the_same_rows(ledger, actors, anvil, make_indexer, new_db,
                                                                   tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenario = Scenario(ledger, actors, 3).run(20)
    mine(ledger, 150)
    scenario.run(20)
    mine(ledger, 150)
    scenario.run(10)
    head = int(ledger.chain.w3.eth.block_number)
    options = {"confirmations": 0, "initial_range": 1, "max_range": 1}
    baseline = make_indexer(new_db(), **options)
    baseline.sync()
    manifest = tmp_path / "deployments.json"
    save_manifest(manifest, ledger.deployment)
    url = new_db()
    command = [sys.executable, "-m", "indexer.cli", "index", "--rpc", anvil.url, "--db", url, "--manifest",
               str(manifest), "--confirmations", "0", "--no-follow", "--initial-range", "1", "--max-range", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rng = random.Random(20261124)
    start = ledger.deployment.start_block
    targets = sorted(rng.sample(range(start, start + (head - start) * 3 // 5), 4))
    killed_at = []
    watcher = create_engine(url)
    for target in targets:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while _checkpoint(watcher) < target and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.02))
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed_at.append((target, _checkpoint(watcher), process.returncode))
    assert sum(block < head for _, block, _ in killed_at) >= 3, f"kills came after the backfill ended: {killed_at}"
    finished = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert _checkpoint(watcher) == head
    try:
        assert iter_rows(watcher, ALL_TABLES) == rows_of(baseline)
    finally:
        watcher.dispose()


class RangeLimitedProvider:
    """An HTTP JSON-RPC proxy in front of anvil that refuses eth_getLogs over ``limit`` blocks the way
    Alchemy does, and answers every ``every``-th request with HTTP 429."""

    def __init__(self, upstream: str, limit: int = 2000, every: int = 5) -> None:
        self.upstream = upstream
        self.limit = limit
        self.every = every
        self.refused = 0
        self.throttled = 0
        self.count = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = proxy.answer(body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, body):  # type: ignore[no-untyped-def]
        with self.lock:
            self.count += 1
            if self.count % self.every == 0:
                self.throttled += 1
                return 429, {"jsonrpc": "2.0", "id": None, "error": {"code": 429, "message": "Too Many Requests"}}
        requests_ = body if isinstance(body, list) else [body]
        for request in requests_:
            if request["method"] == "eth_getLogs":
                lo, hi = int(request["params"][0]["fromBlock"], 16), int(request["params"][0]["toBlock"], 16)
                if hi - lo + 1 > self.limit:
                    with self.lock:
                        self.refused += 1
                    message = ALCHEMY.format(lo=lo, hi=lo + self.limit - 1)
                    return 200, {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32602, "message": message}}
        return 200, requests.post(self.upstream, json=body, timeout=30).json()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _through_limited_provider(ledger, actors, url: str, new_db, limit: int) -> None:  # type: ignore[no-untyped-def]
    scenario = Scenario(ledger, actors, 8).run(15)
    mine(ledger, limit * 9 // 4)
    scenario.run(15)
    mine(ledger, limit * 3 // 4)
    scenario.run(5)
    made: list[Indexer] = []
    try:
        direct = Indexer(url, new_db(), ledger.deployment, confirmations=0, initial_range=100_000, max_range=100_000)
        made.append(direct)
        direct.sync()
        provider = RangeLimitedProvider(url, limit=limit)
        try:
            limited = Indexer(provider.url, new_db(), ledger.deployment, confirmations=0, initial_range=limit * 5,
                              max_range=100_000, rpc=JsonRpc(provider.url, backoff=0.005))
            made.append(limited)
            state = limited.sync()
        finally:
            provider.close()
        assert state.block_number == direct.state().block_number
        assert provider.refused >= 2 and provider.throttled >= 1
        assert rows_of(limited) == rows_of(direct)
    finally:
        for indexer in made:
            indexer.close()


def test_backfill_completes_through_a_provider_that_refuses_large_ranges(ledger, actors, anvil,
                                                                         new_db) -> None:  # type: ignore[no-untyped-def]
    """Alchemy-style refusals over 200 blocks (anvil mines only a few hundred blocks a second) and HTTP 429s:
    the backfill completes with the rows of an unhindered run."""
    _through_limited_provider(ledger, actors, anvil.url, new_db, 200)


@pytest.mark.slow
def test_backfill_completes_through_a_provider_that_refuses_ranges_over_2000_blocks(actors, new_db) -> None:  # type: ignore[no-untyped-def]
    """The same with Alchemy's own limit, 2,000 blocks, on a chain of its own (about 6,000 blocks)."""
    with Anvil(accounts=20) as node:
        _through_limited_provider(fresh_deployment(node.url, actors), actors, node.url, new_db, 2000)
