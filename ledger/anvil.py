"""A local anvil node from the project's node_modules, on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import requests

from ledger.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parents[1]
ANVIL_IN_NODE_MODULES = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"


def anvil_binary() -> str:
    """Path of anvil: $SCF_ANVIL, node_modules, or PATH."""
    for candidate in (os.environ.get("SCF_ANVIL"), str(ANVIL_IN_NODE_MODULES), shutil.which("anvil")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise ConfigurationError("anvil not found: run `npm ci` (it installs @foundry-rs/anvil-linux-amd64)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Anvil:
    """A running anvil process; use as a context manager or call :meth:`stop`."""

    def __init__(
        self,
        *,
        port: int | None = None,
        accounts: int = 20,
        block_time: float | None = None,
        chain_id: int = 31337,
        extra_args: list[str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            anvil_binary(),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--accounts",
            str(accounts),
            "--mnemonic",
            DEFAULT_MNEMONIC,
            "--chain-id",
            str(chain_id),
            "--silent",
            # old blocks' states stay in memory (anvil's window) and are dropped beyond it, never written
            # to ~/.foundry/anvil/tmp: a long chain would leave gigabytes there per run
            "--max-persisted-states",
            "0",
        ]
        if block_time:
            args += ["--block-time", str(block_time)]
        self._process = subprocess.Popen([*args, *(extra_args or [])], stdout=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ConfigurationError(f"anvil exited with code {self._process.returncode}")
            try:
                body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
                if requests.post(self.url, json=body, timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise ConfigurationError(f"anvil did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def __enter__(self) -> Anvil:
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()


def dev_accounts(count: int = 20) -> list:
    """The private-key accounts anvil funds with its default mnemonic (for local use only)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]
