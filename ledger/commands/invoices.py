"""``scf invoice``: notarize invoices (seller), confirm them (buyer), show them."""

from __future__ import annotations

import csv
import hashlib
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
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
    err_console,
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


TABLE_COLUMNS = ("file", "buyer", "number", "amount", "issued")


@app.command("notarize")
def notarize(
    keystore: Keystore,
    files: Annotated[list[Path] | None, typer.Argument(help="Invoice documents (hashed locally, never sent): "
                                                      "one with the field options, or those of --table's rows "
                                                      "(default: all of them).")] = None,
    buyer: Annotated[str | None, typer.Option(help="Buyer's address.")] = None,
    number: Annotated[str | None, typer.Option(help="Invoice number as printed.")] = None,
    amount: Annotated[str | None, typer.Option(help="Amount in settlement units, e.g. 120000.50.")] = None,
    issued: Annotated[str | None, typer.Option(help="Issue date, YYYY-MM-DD.")] = None,
    table: Annotated[Path | None, typer.Option(help="CSV with columns file,buyer,number,amount,issued[,currency] "
                                                    "(file paths relative to the CSV): one batch transaction.")] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 currency code.")] = "CNY",
    seller: Annotated[str | None, typer.Option(help="Seller, when acting as its delegate.")] = None,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Register invoices: their keyed fingerprints and the documents' hashes go on-chain. One invoice
    from FILE and the field options, or many from --table in one transaction; duplicates, in the
    batch or on-chain, are refused before anything is sent."""
    with errors():
        rows = _notarize_rows(files or [], table, buyer, number, amount, issued, currency)
        session = open_session(rpc, data_dir, keystore)
        seller_address = address(seller or session.account.address)
        registrations = []
        for row in track(rows, description="hashing documents", console=err_console, transient=True,
                         disable=len(rows) < 2):
            fields = InvoiceFields(seller_address, address(row["buyer"]), row["number"],
                                   parse_amount(row["amount"], session.decimals), row.get("currency") or currency,
                                   _date(row["issued"]))
            registrations.append(InvoiceRegistration(fields, document_hash(row["file"])))
        supplier = session.ledger.as_supplier(session.account)
        key = _consortium_key()
        prints = [supplier.fingerprints(r.fields, key).full for r in registrations]
        if len(set(prints)) < len(prints):
            twice = next(r.fields.number for r, p in zip(registrations, prints, strict=True) if prints.count(p) > 1)
            raise ConfigurationError(f"invoice {twice!r} appears twice in the batch")
        if len(registrations) == 1:
            _, result = supplier.register_invoice(registrations[0], key)
        else:
            _, result = supplier.register_invoices(registrations, key)
    for row, fingerprint in zip(rows, prints, strict=True):
        console.print(f"{row['number']} ({row['file']}): fingerprint 0x{fingerprint.hex()}", soft_wrap=True)
    console.print(f"{len(prints)} invoice(s) notarized (tx {result.tx_hash})")


def _notarize_rows(files: list[Path], table: Path | None, buyer: str | None, number: str | None,
                   amount: str | None, issued: str | None, currency: str) -> list[dict]:
    """The invoices to notarize: the --table rows, or FILE with the field options."""
    if table is not None:
        if any(v is not None for v in (buyer, number, amount, issued)):
            raise ConfigurationError("with --table, the fields come from the table: drop --buyer/--number/"
                                     "--amount/--issued")
        try:
            with table.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as exc:
            raise ConfigurationError(f"cannot read {table}: {exc.strerror}") from None
        missing = [c for c in TABLE_COLUMNS if rows and c not in rows[0]]
        if not rows or missing:
            raise ConfigurationError(f"{table} needs a header and rows with columns {', '.join(TABLE_COLUMNS)}"
                                     + (f" (missing: {', '.join(missing)})" if missing else ""))
        rows = [{**row, "file": table.parent / row["file"]} for row in rows]
        if not files:
            return rows
        by_path = {row["file"].resolve(): row for row in rows}
        unlisted = [str(f) for f in files if f.resolve() not in by_path]
        if unlisted:
            raise ConfigurationError(f"not in {table}: {', '.join(unlisted)}")
        return [by_path[f.resolve()] for f in files]
    if len(files) != 1:
        raise ConfigurationError("give one FILE with --buyer/--number/--amount/--issued, or --table for several")
    given = {"buyer": buyer, "number": number, "amount": amount, "issued": issued}
    absent = [f"--{name}" for name, value in given.items() if value is None]
    if absent:
        raise ConfigurationError(f"missing {', '.join(absent)}")
    return [{"file": files[0], "currency": currency, **given}]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"issue date {text!r} is not a YYYY-MM-DD date") from None


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
