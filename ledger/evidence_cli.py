"""``scf evidence``: anchor documents (one receipt each) and verify a document against its receipt.

Register on the main app with ``app.add_typer(evidence_app, name="evidence")``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ledger.errors import LedgerError

evidence_app = typer.Typer(no_args_is_help=True, help="Anchor documents on-chain and verify receipts.")
console = Console()
err_console = Console(stderr=True, soft_wrap=True)


@evidence_app.command("anchor")
def anchor(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (their files, recursively).")],
    rpc: Annotated[str, typer.Option(help="JSON-RPC endpoint of the chain.")],
    keystore: Annotated[Path, typer.Option(help="Encrypted keystore of the submitter (password: $SCF_KEY_PASSWORD).")],
    contract: Annotated[
        str | None, typer.Option(help="EvidenceLedger address; default: DATA_DIR/deployments.json.")
    ] = None,
    data_dir: Annotated[Path, typer.Option(help="Where manifests and the evidence journal live.")] = Path(".data"),
    receipts: Annotated[Path, typer.Option(help="Directory for the receipts (one JSON file per document).")] = Path(
        "receipts"
    ),
    journal: Annotated[Path | None, typer.Option(help="Journal directory; default DATA_DIR/evidence-journal.")] = None,
    doc_type: Annotated[str, typer.Option("--type", help="Document type (invoice, delivery-note, ...).")] = "document",
    party: Annotated[list[str] | None, typer.Option(help="A party of the documents (repeatable).")] = None,
    sign: Annotated[bool, typer.Option(help="The submitter also signs each document (EIP-712).")] = False,
    uri: Annotated[str, typer.Option(help="Where the batch is kept off-chain (emitted, not stored).")] = "",
    batch_size: Annotated[int, typer.Option(help="Documents per anchor transaction.", min=1)] = 10_000,
) -> None:
    """Anchor files as batches of one Merkle root each and write one receipt per file.

    Unfinished batches of an earlier run (see the journal) are finished first.
    """
    from ledger.chain import Chain
    from ledger.deployment import load_manifest
    from ledger.evidence_batcher import EvidenceBatcher
    from ledger.keys import PASSWORD_ENV, load_keystore

    with _errors():
        password = os.environ.get(PASSWORD_ENV) or typer.prompt("keystore password", hide_input=True)
        account = load_keystore(keystore, password)
        chain = Chain(rpc)
        address = contract or load_manifest(data_dir / "deployments.json", chain.chain_id).address("EvidenceLedger")
        batcher = EvidenceBatcher(chain, address, account, journal or data_dir / "evidence-journal", receipts)
        for result in batcher.recover():
            console.print(f"recovered batch {result.batch_id}: {len(result.receipts)} receipts (tx {result.tx_hash})")
        documents = batcher.documents_from_paths(
            paths, doc_type, parties=list(party or ()), signers=[account] if sign else []
        )
        for start in range(0, len(documents), batch_size):
            result = batcher.anchor(documents[start : start + batch_size], uri)
            console.print(
                f"batch {result.batch_id}: {len(result.receipts)} documents, root 0x{result.root.hex()}, "
                f"tx {result.tx_hash}, block {result.block_number}, gas {result.gas_used}"
            )
    console.print(f"receipts: {receipts}")


@evidence_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The document.")],
    receipt: Annotated[Path, typer.Option(help="Its receipt (scf-evidence-receipt/1).")],
    rpc: Annotated[list[str], typer.Option(help="JSON-RPC endpoint (repeat: all must agree).")],
    trusted_head: Annotated[
        str | None, typer.Option(help="SIZE:ROOT of a log head you trust; the chain's log must extend it.")
    ] = None,
    confirmations: Annotated[int, typer.Option(help="Blocks required, the anchor's included.", min=0)] = 1,
    contract: Annotated[str | None, typer.Option(help="The EvidenceLedger the receipt must be from.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as one JSON line.")] = False,
) -> None:
    """Check FILE against its receipt using only the chain; exit 0 when it holds, else the reason's code.

    Exit codes: 2 bad input, 3 malformed receipt, 4 endpoint unreachable, 10 file changed, 11 proof
    invalid, 12 signature invalid, 13 wrong chain, 14 wrong contract, 15 root not anchored, 16 anchor
    mismatch, 17 block time mismatch, 18 too few confirmations, 19 revoked, 20 endpoints disagree,
    21 inconsistent head.
    """
    from ledger.evidence_verify import TrustedHead, verify_receipt

    try:
        data = file.read_bytes()
        receipt_json = json.loads(receipt.read_text())
        head = TrustedHead.parse(trusted_head) if trusted_head else None
    except (OSError, ValueError) as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc
    outcome = verify_receipt(data, receipt_json, rpc, contract=contract, trusted_head=head, confirmations=confirmations)
    if as_json:
        typer.echo(json.dumps(outcome.to_json(), sort_keys=True))
    elif outcome.ok:
        facts = outcome.facts
        console.print(
            f"[green]ok[/]: {escape(str(file))} anchored unchanged in batch {facts['batchId']} at "
            f"{facts['anchoredAt']} (block {facts['blockNumber']}, {facts['confirmations']} confirmations)",
            highlight=False,
        )
    else:
        err_console.print(f"[red]{outcome.reason}[/]: {escape(outcome.detail)}", highlight=False)
    raise typer.Exit(outcome.exit_code)


class _errors:  # noqa: N801 - a context manager used like a function
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> bool:
        if isinstance(exc, LedgerError):
            err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from exc
        return False
