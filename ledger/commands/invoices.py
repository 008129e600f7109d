"""``scf invoice``: notarize invoices (seller), confirm them (buyer), show them."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger.client import InvoiceRegistration
from ledger.commands.common import (
    DEFAULT_DATA_DIR,
    DEFAULT_RPC,
    DataDir,
    Keystore,
    Rpc,
    address,
    bytes32,
    connect,
    console,
    errors,
    format_amount,
    open_session,
    parse_amount,
)
from ledger.errors import ConfigurationError
from ledger.fingerprint import InvoiceFields

app = typer.Typer(no_args_is_help=True, help="Invoices: notarize, confirm, show.")
KEY_ENV = "SCF_CONSORTIUM_KEY"


def _consortium_key() -> bytes:
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise ConfigurationError(f"set ${KEY_ENV} to the consortium's fingerprint key")
    return key.encode()


def document_hash(path: Path) -> bytes:
    """SHA-256 of a document, read in chunks; the file itself never leaves this machine."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    return digest.digest()


@app.command("notarize")
def notarize(
    file: Annotated[Path, typer.Argument(help="The invoice document (hashed locally).")],
    buyer: Annotated[str, typer.Option(help="Buyer's address.")],
    number: Annotated[str, typer.Option(help="Invoice number as printed.")],
    amount: Annotated[str, typer.Option(help="Amount in settlement units, e.g. 120000.50.")],
    issued: Annotated[str, typer.Option(help="Issue date, YYYY-MM-DD.")],
    keystore: Keystore,
    currency: Annotated[str, typer.Option(help="ISO 4217 currency code.")] = "CNY",
    seller: Annotated[str | None, typer.Option(help="Seller, when acting as its delegate.")] = None,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Register an invoice: its keyed fingerprint and the document's hash go on-chain."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        try:
            issue_date = date.fromisoformat(issued)
        except ValueError:
            raise ConfigurationError(f"--issued {issued!r} is not a YYYY-MM-DD date") from None
        fields = InvoiceFields(address(seller or session.account.address), address(buyer), number,
                               parse_amount(amount, session.decimals), currency, issue_date)
        registration = InvoiceRegistration(fields, document_hash(file))
        fingerprint, result = session.ledger.as_supplier(session.account).register_invoice(
            registration, _consortium_key())
    console.print(f"fingerprint 0x{fingerprint.hex()} (tx {result.tx_hash})")


@app.command("confirm")
def confirm(
    fingerprint: Annotated[list[str], typer.Argument(help="Fingerprints (0x...) of invoices you bought.")],
    keystore: Keystore,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Confirm, as the buyer, that you owe these invoices."""
    with errors():
        prints = [bytes32(f) for f in fingerprint]
        session = open_session(rpc, data_dir, keystore)
        result = session.ledger.as_member(session.account).confirm_invoices(prints)
    console.print(f"confirmed {len(prints)} invoice(s) (tx {result.tx_hash})")


@app.command("show")
def show(fingerprint: str, rpc: Rpc = DEFAULT_RPC, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """The on-chain record of an invoice."""
    with errors():
        ledger = connect(rpc, data_dir)
        record = ledger.invoice(bytes32(fingerprint))
        decimals = int(ledger.receivables.functions.valueDecimals().call())
    table = Table(show_header=False)
    for label, value in (("status", record.status.name), ("seller", record.seller), ("buyer", record.buyer),
                         ("amount", format_amount(record.amount, decimals)), ("slot", str(record.slot or "-")),
                         ("document", "0x" + record.document_hash.hex())):
        table.add_row(label, value)
    console.print(table)
