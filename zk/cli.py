"""``python -m zk ...`` (to be mounted as ``scf zk ...``): trusted-setup ceremony and key checks."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated

import typer

from zk import ZK_DIR
from zk.ceremony import contribute as contribute_step
from zk.ceremony import run_ceremony
from zk.keys import circuit_hash, manifest
from zk.toolchain import compile_circuit

app = typer.Typer(help="Zero-knowledge credit proofs: ceremony and keys.", no_args_is_help=True)
TOY = ZK_DIR / "circuits" / "toy.circom"


@app.command()
def ceremony(
    circuit: Annotated[Path, typer.Argument(help="circom source")] = TOY,
    out: Annotated[Path, typer.Option(help="output directory")] = Path("zk-ceremony"),
    power: Annotated[int, typer.Option(help="powers of tau: 2^power constraints")] = 8,
    party: Annotated[list[str] | None, typer.Option(help="contributing parties, in order")] = None,
    beacon: Annotated[str, typer.Option(help="public beacon (hex), e.g. a future block hash")] = "",
    ptau: Annotated[Path | None, typer.Option(help="a prepared phase-1 ptau to reuse")] = None,
) -> None:
    """Multi-party Groth16 setup: each party contributes with its own entropy, the beacon last,
    every step verified; writes transcript.json."""
    r1cs = compile_circuit(circuit, out / "circuit")
    transcript = run_ceremony(r1cs, out, power=power, parties=party or ["bureau", "lender"],
                              beacon=beacon or secrets.token_hex(32), ptau=ptau)
    for step in transcript.steps:
        typer.echo(f"{step.phase:5} {step.action:24} {step.party:12} {step.sha256[:16]} verified={step.verified}")
    typer.echo(f"transcript: {out / 'transcript.json'}")


@app.command()
def contribute(
    phase: Annotated[str, typer.Argument(help="ptau or zkey")],
    src: Annotated[Path, typer.Argument(help="the previous party's file")],
    dst: Annotated[Path, typer.Argument(help="where to write this contribution")],
    name: Annotated[str, typer.Option(help="the contributing party")],
) -> None:
    """One party's contribution on its own machine (fresh entropy, never stored)."""
    typer.echo(contribute_step(phase, src, dst, name))


@app.command("check-keys")
def check_keys() -> None:
    """Fail unless the committed keys were made for the current circuit."""
    m = manifest()
    ok = m["circuit_sha256"] == circuit_hash()
    typer.echo(json.dumps({"label": m["label"], "constraints": m["constraints"], "keys_match_circuit": ok}))
    raise typer.Exit(0 if ok else 1)
