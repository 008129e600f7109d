"""``scf index``: backfill the SQL mirror, then follow the head (register with ``app.add_typer``)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

app = typer.Typer(no_args_is_help=True, help="The SQL mirror of the ledger's events.")
console = Console(stderr=True)


@app.callback()
def main() -> None:
    """The SQL mirror of the ledger's events."""


@app.command()
def index(
    rpc: Annotated[str, typer.Option(help="JSON-RPC endpoint of the chain.")],
    db: Annotated[str, typer.Option(help="Database URL: sqlite:///PATH or postgresql+psycopg://...")] = (
        "sqlite:///.data/index.db"
    ),
    manifest: Annotated[Path, typer.Option(help="Deployment manifest (written by `scf deploy`).")] = Path(
        ".data/deployments.json"
    ),
    confirmations: Annotated[int, typer.Option(help="Blocks below head - confirmations are final.")] = 12,
    follow: Annotated[bool, typer.Option(help="Keep following the head after the backfill.")] = True,
    poll_interval: Annotated[float, typer.Option(help="Seconds between polls for new heads.")] = 1.0,
    initial_range: Annotated[int, typer.Option(help="First eth_getLogs block range of the backfill.")] = 2_000,
    max_range: Annotated[int, typer.Option(help="Largest eth_getLogs block range.")] = 50_000,
) -> None:
    """Backfill the mirror of every contract in the manifest, then follow the head (Ctrl-C stops)."""
    from indexer.engine import Indexer, IndexerError
    from indexer.engine import Progress as Step
    from indexer.rpc import JsonRpc, TransportError
    from ledger.deployment import load_manifest
    from ledger.errors import LedgerError

    try:
        client = JsonRpc(rpc)
        deployment = load_manifest(manifest, client.chain_id())
        indexer = Indexer(rpc, db, deployment, confirmations=confirmations, poll_interval=poll_interval,
                          initial_range=initial_range, max_range=max_range, rpc=client)
    except (LedgerError, IndexerError, TransportError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from exc
    signal.signal(signal.SIGTERM, lambda *_: indexer.stop())
    start = (indexer.state().block_number if indexer.state() else deployment.start_block - 1)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[events]} events"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("backfill", total=None, events=0)

        def on_progress(step: Step) -> None:
            if step.phase == "backfill":
                bar.update(task, total=step.target - start, completed=step.block - start, events=step.events)
            else:
                bar.update(task, description=f"head {step.head}", total=step.target - start,
                           completed=step.block - start, events=step.events)

        try:
            indexer.run(on_progress) if follow else indexer.sync(on_progress)
        except KeyboardInterrupt:
            indexer.stop()
        except (IndexerError, TransportError) as exc:
            console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from exc
        finally:
            indexer.close()
    state = indexer.state()
    if state:
        console.print(f"indexed to block {state.block_number} (safe {state.safe_block}), "
                      f"{indexer.events_applied} events applied")


if __name__ == "__main__":
    app()
