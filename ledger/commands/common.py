"""What every business command needs: the endpoint, the deployment, a key, amounts and errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.markup import escape
from web3 import Web3

from ledger.errors import ConfigurationError, LedgerError

if TYPE_CHECKING:
    from ledger.client import Ledger

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

Rpc = Annotated[str, typer.Option(envvar="SCF_RPC_URL", help="JSON-RPC endpoint of the chain.")]
DataDir = Annotated[Path, typer.Option(envvar="SCF_DATA_DIR", help="Where deployments.json lives.")]
Keystore = Annotated[Path, typer.Option(envvar="SCF_KEYSTORE", help="Encrypted keystore of the acting member "
                                        "(password: $SCF_KEY_PASSWORD or a prompt).")]
DEFAULT_RPC = "http://127.0.0.1:8545"
DEFAULT_DATA_DIR = Path(".data")


@dataclass
class Session:
    """A connected deployment and the member key acting in it."""

    ledger: Ledger
    account: LocalAccount

    @property
    def decimals(self) -> int:
        return int(self.ledger.receivables.functions.valueDecimals().call())


def password(confirm: bool = False) -> str:
    from ledger.keys import PASSWORD_ENV

    return os.environ.get(PASSWORD_ENV) or typer.prompt(
        "keystore password", hide_input=True, confirmation_prompt=confirm
    )


def connect(rpc: str, data_dir: Path) -> Ledger:
    """The deployment recorded for ``rpc``'s chain in ``data_dir``/deployments.json."""
    from ledger.chain import Chain
    from ledger.client import Ledger
    from ledger.deployment import load_manifest

    chain = Chain(rpc)
    return Ledger(chain, load_manifest(data_dir / "deployments.json", chain.chain_id))


def open_session(rpc: str, data_dir: Path, keystore: Path) -> Session:
    from ledger.keys import load_keystore

    account = load_keystore(keystore, password())
    return Session(connect(rpc, data_dir), account)


def parse_amount(text: str, decimals: int) -> int:
    """``"1,000.5"`` with 6 decimals -> 1000500000; refuses negatives and excess precision."""
    try:
        amount = Decimal(text.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise ConfigurationError(f"{text!r} is not an amount") from None
    units = amount.scaleb(decimals)
    if amount <= 0 or units != units.to_integral_value():
        raise ConfigurationError(f"{text!r} must be positive with at most {decimals} decimals")
    return int(units)


def format_amount(units: int, decimals: int) -> str:
    return f"{Decimal(units).scaleb(-decimals):,.{decimals}f}"


def address(text: str) -> str:
    if not Web3.is_address(text):
        raise ConfigurationError(f"{text!r} is not an address")
    return Web3.to_checksum_address(text)


def bytes32(text: str) -> bytes:
    raw = bytes.fromhex(text.removeprefix("0x")) if all(c in "0123456789abcdefABCDEFx" for c in text) else b""
    if len(raw) != 32:
        raise ConfigurationError(f"{text!r} is not 32 bytes of hex")
    return raw


@contextmanager
def errors() -> Iterator[None]:
    """Turn library errors into one red line on stderr and exit code 1."""
    try:
        yield
    except LedgerError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from exc
