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
        labels = economy.truth
    elif mode == "chain":
        from risk.onchain import simulate_on_chain

        if firms > 400:
            raise typer.BadParameter("chain mode replays every action as a transaction: at most 400 firms",
                                     param_hint="--firms")
        replay, stats = simulate_on_chain(seed, firms, db_url=db, rpc_url=rpc_url, days=days)
        summary = {"mode": mode, "seed": seed, "firms": len(replay.economy.firms), **stats}
        labels = replay.truth()
    else:
        raise typer.BadParameter("mode is bulk or chain")
    summary["fraud_labels"] = {k: len(v) for k, v in labels.fraud.items()}
    if truth:
        truth.write_text(json.dumps({"fraud": {k: sorted(v) for k, v in labels.fraud.items()},
                                     "default": labels.default, "pd": labels.pd,
                                     "defaulted_core": labels.defaulted_core}, indent=1))
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


@app.command()
def fit(
    out: Annotated[Path, typer.Option(help="Write the fitted scorecard (JSON) here.")] = Path("data/risk-model.json"),
    seed: Annotated[int, typer.Option(help="Seed of the simulated economy it learns from.")] = 1,
    firms: Annotated[int, typer.Option(help="Firms in that economy.")] = 1500,
) -> None:
    """Fit the scorecard on a simulated economy's realized defaults and save it with its version."""
    from risk.score import save_model
    from risk.service import fit_simulated

    if firms < 200:
        raise typer.BadParameter("a scorecard needs at least 200 firms to learn from", param_hint="--firms")
    model = fit_simulated(seed, firms)
    save_model(model, out)
    typer.echo(json.dumps({"model_version": model.version, "path": str(out)}))


@app.command()
def score(
    db: Annotated[str, typer.Option(help="Database URL of the mirror.")] = "sqlite:///scf-sim.db",
    model: Annotated[Path | None, typer.Option(help="A saved scorecard (scf risk fit); default: fit one on a "
                                                    "simulated economy.")] = None,
    save_model: Annotated[Path | None, typer.Option(help="Also save the model used here.")] = None,
    top: Annotated[int, typer.Option(help="Rows of the table (lowest scores first).")] = 20,
) -> None:
    """Run the fraud rules and score every firm of the mirror; store alerts, scores, warnings and credit
    lines; print the lowest scores."""
    from rich.console import Console
    from rich.table import Table

    from risk import score as scoring
    from risk.data import MirrorError
    from risk.service import fit_simulated, score_mirror

    try:
        fitted = scoring.load_model(model) if model is not None else fit_simulated()
        summary = score_mirror(db, model=fitted, top=top)
    except (scoring.ModelError, MirrorError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if save_model is not None:
        scoring.save_model(fitted, save_model)
    table = Table(title=f"{summary.firms} firms scored with {summary.model_version} at block {summary.as_of_block}")
    for column in ("firm", "score", "warning", "credit line", "reasons"):
        table.add_column(column, justify="right" if column in ("score", "credit line") else "left")
    for row in summary.lowest:
        table.add_row(row["firm"], str(row["score"]), row["warning"], f"{row['credit_line']:,}",
                      "; ".join(row["reasons"][:2]))
    Console(width=160).print(table)
    typer.echo(json.dumps({k: v for k, v in summary.as_dict().items() if k != "lowest"}))


if __name__ == "__main__":  # pragma: no cover
    app()
