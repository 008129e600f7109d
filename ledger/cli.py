"""The ``scf`` command line: a thin shell over the ledger library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ledger.errors import LedgerError

app = typer.Typer(no_args_is_help=True, help="scf-ledger: supply-chain finance on an EVM chain.")
console = Console()
DataDir = Annotated[Path, typer.Option(help="Where manifests and local databases live.")]


@app.callback()
def main() -> None:
    """scf-ledger: supply-chain finance on an EVM chain."""


@app.command()
def demo(
    data_dir: DataDir = Path(".data"),
    rpc: Annotated[str | None, typer.Option(help="Use this JSON-RPC endpoint instead of a local anvil.")] = None,
) -> None:
    """Run the scripted supply-chain scenario on a local anvil (or --rpc) and print each step."""
    try:
        from ledger.demo import run_demo

        run_demo(data_dir, console, rpc)
    except LedgerError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


if __name__ == "__main__":
    app()
