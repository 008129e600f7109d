"""``scf simulate`` and friends: a Typer app (register it on ``scf`` with ``app.add_typer`` or by
adding its commands)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Risk: the economy simulator, fraud detection and credit scoring.", no_args_is_help=True)


@app.command()
def simulate(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same economy.")] = 1,
    firms: Annotated[int, typer.Option(help="Number of firms (about).")] = 300,
    days: Annotated[int, typer.Option(help="Simulated days.")] = 360,
    mode: Annotated[str, typer.Option(help="bulk: write the SQL mirror directly; chain: drive the contracts on "
                                           "anvil and index them.")] = "bulk",
    db: Annotated[str, typer.Option(help="Database URL of the mirror to write.")] = "sqlite:///scf-sim.db",
    truth: Annotated[Path | None, typer.Option(help="Write the ground truth (labels, defaults) to this JSON.")] = None,
    rpc_url: Annotated[str | None, typer.Option(help="chain mode: an existing node (default: a fresh anvil).")] = None,
) -> None:
    """Generate a seeded supply-chain economy with labelled fraud."""
    from indexer.db import make_engine
    from risk.simulate import simulate as run
    from risk.simulate import write_bulk

    if mode == "bulk":
        economy = run(seed, firms, days=days)
        written = write_bulk(economy, make_engine(db))
        summary = {"mode": mode, "seed": seed, "firms": len(economy.firms), "transfers": economy.transfers,
                   "rows": written}
    elif mode == "chain":
        from risk.onchain import simulate_on_chain

        economy, stats = simulate_on_chain(seed, firms, db_url=db, rpc_url=rpc_url)
        summary = {"mode": mode, "seed": seed, "firms": len(economy.firms), **stats}
    else:
        raise typer.BadParameter("mode is bulk or chain")
    summary["fraud_labels"] = {k: len(v) for k, v in economy.truth.fraud.items()}
    if truth:
        truth.write_text(json.dumps({"fraud": {k: sorted(v) for k, v in economy.truth.fraud.items()},
                                     "default": economy.truth.default, "pd": economy.truth.pd,
                                     "defaulted_core": economy.truth.defaulted_core}, indent=1))
    typer.echo(json.dumps(summary))


@app.command()
def detect(db: Annotated[str, typer.Option(help="Database URL of the mirror.")] = "sqlite:///scf-sim.db") -> None:
    """Run every fraud rule over the mirror and store the alerts."""
    from indexer.db import make_engine
    from risk import data
    from risk.detect import run_rules, store_alerts

    engine = make_engine(db)
    alerts = run_rules(data.load(engine))
    counts = store_alerts(engine, alerts)
    by_rule: dict[str, int] = {}
    for alert in alerts:
        by_rule[alert.rule] = by_rule.get(alert.rule, 0) + 1
    typer.echo(json.dumps({"alerts": by_rule, **counts}))


@app.command()
def exposure(core: str,
             db: Annotated[str, typer.Option(help="Database URL of the mirror.")] = "sqlite:///scf-sim.db") -> None:
    """Scenario: ``core`` defaults; every lender's exposure through every tier."""
    from indexer.db import make_engine
    from risk import data
    from risk.exposure import core_default_exposure

    frame = core_default_exposure(data.load(make_engine(db)), core)
    typer.echo(frame.to_string(index=False))


if __name__ == "__main__":  # pragma: no cover
    app()
