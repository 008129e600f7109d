"""The ``scf`` command line: a thin shell over the ledger library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.commands.common import console, errors, password

app = typer.Typer(no_args_is_help=True, help="scf-ledger: supply-chain finance on an EVM chain.")
DataDir = Annotated[Path, typer.Option(help="Where manifests and local databases live.")]


@app.callback()
def main() -> None:
    """scf-ledger: supply-chain finance on an EVM chain."""


@app.command()
def demo(
    data_dir: DataDir = Path(".data"),
    rpc: Annotated[str | None, typer.Option(help="Use this JSON-RPC endpoint instead of a local anvil.")] = None,
    serve: Annotated[bool, typer.Option(help="Serve the API afterwards, until Ctrl-C.")] = True,
    host: Annotated[str, typer.Option(help="Interface the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="API port (a free one if it is taken).")] = 8000,
) -> None:
    """The main job: a supply chain on a local anvil (or --rpc) through every contract, indexed into
    SQLite, scored and screened for fraud, summarised, then served over the API until Ctrl-C."""
    from ledger.demo import run_demo

    with errors():
        run_demo(data_dir, console, rpc, serve=serve, host=host, port=port)


key_app = typer.Typer(no_args_is_help=True, help="Encrypted keystores.")
app.add_typer(key_app, name="key")


@key_app.command("new")
def key_new(path: Annotated[Path, typer.Argument(help="Keystore file to create.")]) -> None:
    """Create a new key in an encrypted keystore file and print its address."""
    from ledger.keys import create_keystore

    with errors():
        account = create_keystore(path, password(confirm=True))
    console.print(account.address)


@app.command()
def deploy(
    rpc: Annotated[str, typer.Option(help="JSON-RPC endpoint of the chain.")],
    keystore: Annotated[Path, typer.Option(help="Encrypted keystore of the deployer (password: $SCF_KEY_PASSWORD).")],
    data_dir: DataDir = Path(".data"),
    settlement_asset: Annotated[str | None, typer.Option(help="ERC-20 that settles payables; "
                                                         "default: deploy a test stablecoin.")] = None,
    kyc_registrar: Annotated[list[str] | None, typer.Option(help="Address to appoint KYC registrar.")] = None,
    admin: Annotated[str | None, typer.Option(help="Hand the default admin over to this address.")] = None,
) -> None:
    """Deploy the contracts and record them in DATA_DIR/deployments.json under the chain id."""
    from ledger.chain import Chain
    from ledger.deployment import deploy_system, save_manifest
    from ledger.keys import load_keystore

    with errors():
        account = load_keystore(keystore, password())
        chain = Chain(rpc)
        deployment = deploy_system(chain, account, admin=admin, settlement_asset=settlement_asset,
                                   kyc_registrars=tuple(kyc_registrar or ()))
        data_dir.mkdir(parents=True, exist_ok=True)
        save_manifest(data_dir / "deployments.json", deployment)
    for name, record in deployment.contracts.items():
        console.print(f"{name:16} {record.address}  block {record.block_number}")
    console.print(f"manifest: {data_dir / 'deployments.json'} (chain id {deployment.chain_id})")


chain_app = typer.Typer(no_args_is_help=True, help="A local development chain.")
app.add_typer(chain_app, name="chain")


@chain_app.command("up")
def chain_up(
    port: Annotated[int, typer.Option(help="Loopback port.")] = 8545,
    block_time: Annotated[float | None, typer.Option(help="Mine every N seconds (default: on each tx).")] = None,
) -> None:
    """Run anvil (from node_modules) on 127.0.0.1 until Ctrl-C; prints its funded dev accounts."""
    import time

    from ledger.anvil import Anvil, dev_accounts

    with errors(), Anvil(port=port, block_time=block_time) as node:
        console.print(f"anvil on {node.url} (chain id 31337). Dev accounts (local use only):")
        for i, account in enumerate(dev_accounts(10)):
            console.print(f"  {i}: {account.address}")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("stopping anvil")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (they share $SCF_API_SECRET; one is "
                                                     "made up for the run when it is unset).")] = 1,
) -> None:
    """Serve the HTTP API and the portal (settings from SCF_RPC_URL, SCF_MANIFEST, SCF_DB_URL, SCF_API_DOMAIN,
    SCF_API_SECRET, SCF_CONSORTIUM_KEY)."""
    import os
    import secrets

    import uvicorn

    from api.main import create_app

    if workers > 1:  # tokens signed by one worker must verify in the others
        os.environ.setdefault("SCF_API_SECRET", secrets.token_hex(32))
    with errors():
        app_ = create_app()  # fails here, in one line, on a bad manifest or an unreachable chain
    console.print(f"API on http://{host}:{port} (docs: http://{host}:{port}/docs, portal: "
                  f"http://{host}:{port}/portal/), {workers} worker(s)")
    if workers == 1:
        uvicorn.run(app_, host=host, port=port, log_level="warning")
    else:  # each worker process builds its own app
        uvicorn.run("api.main:create_app", factory=True, host=host, port=port, workers=workers, log_level="warning")


def _register_business_commands() -> None:
    from api import cli as api_cli
    from indexer import cli as indexer_cli
    from ledger.commands import claims, invoices, members
    from ledger.evidence_cli import evidence_app
    from risk import cli as risk_cli
    from risk.cli import app as risk_app
    from zk.cli import app as zk_app

    app.add_typer(evidence_app, name="evidence")
    app.command("audit-purge")(api_cli.audit_purge)
    app.command("index")(indexer_cli.index)
    app.add_typer(risk_app, name="risk")
    app.command("simulate")(risk_cli.simulate)
    app.add_typer(zk_app, name="zk")
    app.add_typer(members.app, name="org")
    app.add_typer(invoices.app, name="invoice")
    app.add_typer(claims.app, name="claim")


_register_business_commands()

if __name__ == "__main__":
    app()
