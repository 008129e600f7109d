"""``scf org``: consortium membership (KYC registrars act here)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from ledger.commands.common import (
    DEFAULT_DATA_DIR,
    DEFAULT_RPC,
    DataDir,
    Keystore,
    Rpc,
    address,
    connect,
    console,
    errors,
    open_session,
)
from ledger.errors import ConfigurationError
from ledger.roles import MEMBER_ROLES, Role

app = typer.Typer(no_args_is_help=True, help="Consortium members: add, remove, show.")
DAY = 86400


def _roles(names: list[str]) -> list[Role]:
    known = {r.name: r for r in MEMBER_ROLES}
    unknown = [n for n in names if n.upper() not in known]
    if unknown or not names:
        raise ConfigurationError(f"roles must be among {', '.join(known)}; got {', '.join(unknown) or 'none'}")
    return [known[n.upper()] for n in names]


@app.command("add")
def add(
    account: Annotated[str, typer.Argument(help="Address of the organization's wallet.")],
    name: Annotated[str, typer.Option(help="Registered name (only its hash goes on-chain).")],
    role: Annotated[list[str], typer.Option(help="Member role, repeatable: SUPPLIER, LENDER, ...")],
    keystore: Keystore,
    valid_days: Annotated[int, typer.Option(min=1, help="Days the admission is valid.")] = 365,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Admit an organization (the keystore must be a KYC registrar's)."""
    with errors():
        roles = _roles(role)
        session = open_session(rpc, data_dir, keystore)
        until = int(time.time()) + valid_days * DAY
        result = session.ledger.as_registrar(session.account).admit(address(account), name, roles, until)
    console.print(f"admitted {address(account)} as {', '.join(r.name for r in roles)} (tx {result.tx_hash})")


@app.command("remove")
def remove(account: str, keystore: Keystore, rpc: Rpc = DEFAULT_RPC, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Remove a member; its claims stay redeemable."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        result = session.ledger.as_registrar(session.account).remove(address(account))
    console.print(f"removed {address(account)} (tx {result.tx_hash})")


@app.command("show")
def show(account: str, rpc: Rpc = DEFAULT_RPC, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Membership record and roles of an address."""
    with errors():
        record = connect(rpc, data_dir).member(address(account))
    table = Table(show_header=False)
    table.add_row("address", record.address)
    table.add_row("member", "yes" if record.is_member else "no")
    table.add_row("roles", ", ".join(sorted(r.name for r in record.roles)) or "-")
    table.add_row("valid until", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(record.valid_until))
                  if record.valid_until else "-")
    console.print(table)
