"""``scf zk ...``: the trusted-setup ceremony and key checks, and the credit-proof flow (bureau issues,
firm proves or discloses, lender verifies and submits)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from ledger.commands.common import (
    DEFAULT_DATA_DIR,
    DEFAULT_RPC,
    DataDir,
    Keystore,
    Rpc,
    address,
    connect,
    console,
    open_session,
)
from zk import ZK_DIR
from zk.ceremony import contribute as contribute_step
from zk.ceremony import run_ceremony
from zk.keys import circuit_hash, manifest
from zk.prover import ProofError
from zk.toolchain import compile_circuit

app = typer.Typer(help="Zero-knowledge credit proofs: reports, proofs, disclosures, ceremony and keys.",
                  no_args_is_help=True)
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


# ------------------------------------------------------------------ the credit-proof flow
# bureau: issue (and register) a report -> firm: disclose fields, or prove a lender's policy for its
# nonce -> lender: policy, nonce, verify, submit (a CreditGate pass for the FinancingDesk).

ProofFile = Annotated[Path, typer.Option(help="Where to write the JSON.")]


def _chain_day(ledger) -> int:  # type: ignore[no-untyped-def]
    from zk.prover import day_number

    return day_number(ledger.chain.w3.eth.get_block("latest")["timestamp"])


def _read_json(path: Path) -> dict:
    from ledger.errors import ConfigurationError

    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not JSON: {exc}") from None


@contextmanager
def _zk_errors() -> Iterator[None]:
    """Library errors as one line and exit code 1 (the ledger's, and the report/proof checks')."""
    from ledger.commands.common import errors
    from ledger.errors import ConfigurationError

    with errors():
        try:
            yield
        except (ValueError, KeyError, ProofError) as exc:
            raise ConfigurationError(str(exc).strip("'\"")) from None


@app.command("issue")
def issue(
    fields: Annotated[Path, typer.Argument(help="JSON of the report's fields (name: integer; see zk/schema.py).")],
    subject: Annotated[str, typer.Option(help="The firm the report is about.")],
    out: ProofFile,
    keystore: Keystore,
    valid_days: Annotated[int, typer.Option(help="Days the registered root stays valid.")] = 180,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Bureau: issue a credit report (salted Poseidon tree) and register its root on-chain; OUT (with the
    salts) goes to the firm privately."""
    from zk.onchain import CreditContracts
    from zk.report import CreditReport

    with _zk_errors():
        values = {str(k): int(v) for k, v in _read_json(fields).items()}
        session = open_session(rpc, data_dir, keystore)
        holder = address(subject)
        values["subject_address"] = int(holder, 16)
        values.setdefault("report_day", _chain_day(session.ledger))
        report = CreditReport.issue(values)  # refuses missing, unknown or out-of-range fields
        now = int(session.ledger.chain.w3.eth.get_block("latest")["timestamp"])
        CreditContracts.of(session.ledger).register(session.account, report.root, holder, report.document_hash(),
                                                    now + valid_days * 86400)
        out.write_text(json.dumps(report.to_json(), indent=1))
    console.print(f"report root {hex(report.root)} registered for {holder}; report with salts in {out}", soft_wrap=True)


@app.command("policy")
def policy(
    out: ProofFile,
    min_score: Annotated[int, typer.Option(help="Lowest credit score (0..1000).")] = 0,
    max_judgments: Annotated[int | None, typer.Option(help="Most court judgments (default: any).")] = None,
    tax: Annotated[list[str] | None, typer.Option(help="Accepted tax grades, e.g. --tax A --tax B.")] = None,
    revenue_min: Annotated[int, typer.Option(help="Lowest annual revenue, in cents.")] = 0,
    revenue_max: Annotated[int | None, typer.Option(help="Highest annual revenue, in cents.")] = None,
    max_age_days: Annotated[int, typer.Option(help="Oldest report accepted, in days.")] = 365,
    keystore: Annotated[Path | None, typer.Option(help="A lender's keystore: also make it the lender's "
                                                       "policy on-chain.")] = None,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Lender: write a credit policy (the predicates firms must prove) and optionally set it on-chain."""
    from zk.onchain import CreditContracts
    from zk.policy import CreditPolicy
    from zk.schema import U64, TaxGrade

    with _zk_errors():
        try:
            grades = [TaxGrade[g.upper()] for g in tax] if tax else list(TaxGrade)
        except KeyError as exc:
            raise ValueError(f"tax grade {exc.args[0]} is not one of {', '.join(g.name for g in TaxGrade)}") from None
        chosen = CreditPolicy(min_score, U64 if max_judgments is None else max_judgments, CreditPolicy.mask(*grades),
                              revenue_min, U64 if revenue_max is None else revenue_max, max_age_days)
        if keystore is not None:
            session = open_session(rpc, data_dir, keystore)
            CreditContracts.of(session.ledger).set_policy(session.account, chosen.hash)
        out.write_text(json.dumps(chosen.to_json(), indent=1))
    console.print(f"policy {hex(chosen.hash)} in {out}" + (" (set on-chain)" if keystore else ""), soft_wrap=True)


@app.command("nonce")
def nonce(keystore: Keystore, rpc: Rpc = DEFAULT_RPC, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Lender: issue a single-use nonce on-chain for a firm to prove against."""
    from zk.onchain import CreditContracts

    with _zk_errors():
        session = open_session(rpc, data_dir, keystore)
        issued = CreditContracts.of(session.ledger).issue_nonce(session.account)
    console.print(str(issued), soft_wrap=True)


@app.command("prove")
def prove(
    report: Annotated[Path, typer.Argument(help="The report JSON the bureau gave you.")],
    policy_file: Annotated[Path, typer.Option("--policy", help="The lender's policy JSON.")],
    lender: Annotated[str, typer.Option(help="The lender the proof is for.")],
    nonce_: Annotated[int, typer.Option("--nonce", help="The lender's nonce.")],
    out: ProofFile,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Firm: prove, without revealing the report, that it meets the lender's policy (Groth16, local)."""
    from zk.policy import CreditPolicy
    from zk.prover import ZkWorker, prove_credit
    from zk.report import CreditReport

    with _zk_errors():
        held = CreditReport.from_json(_read_json(report))
        wanted = CreditPolicy(**{k: int(v) for k, v in _read_json(policy_file).items()})
        today = _chain_day(connect(rpc, data_dir))
        if not wanted.allows(held.values, today):
            raise ValueError("the report does not meet this policy: no proof can exist")
        with ZkWorker() as worker:
            proof = prove_credit(worker, held, wanted, today=today, lender=address(lender), nonce=nonce_)
        subject = "0x" + format(held.values["subject_address"], "040x")
        out.write_text(json.dumps({**proof.to_json(), "policy": wanted.to_json(),
                                   "subject": address(subject)}, indent=1))
    console.print(f"proof for {lender} (nonce {nonce_}) in {out}", soft_wrap=True)


@app.command("disclose")
def disclose(
    report: Annotated[Path, typer.Argument(help="The report JSON the bureau gave you.")],
    field: Annotated[list[str], typer.Option(help="A field to reveal (repeat for several).")],
    out: ProofFile,
) -> None:
    """Firm: reveal chosen fields of the report, each with its Merkle opening to the registered root."""
    from zk.report import CreditReport

    with _zk_errors():
        disclosure = CreditReport.from_json(_read_json(report)).disclose(field)
        out.write_text(json.dumps(disclosure.to_json(), indent=1))
    console.print(f"{len(disclosure.fields)} field(s) disclosed in {out}", soft_wrap=True)


@app.command("submit")
def submit(
    proof_file: Annotated[Path, typer.Argument(help="The firm's proof JSON (from `scf zk prove`).")],
    keystore: Keystore,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Lender: submit a firm's proof to CreditGate; a valid one grants the firm a single-use pass for the
    lender's next financing of it on the FinancingDesk."""
    from zk.onchain import CreditContracts
    from zk.prover import Proof

    with _zk_errors():
        data = _read_json(proof_file)
        session = open_session(rpc, data_dir, keystore)
        result = CreditContracts.of(session.ledger).submit_proof(session.account, address(data["subject"]),
                                                                 Proof.from_json(data))
    console.print(f"pass granted to {data['subject']} (tx {result['transactionHash'].to_0x_hex()})", soft_wrap=True)


@app.command("verify")
def verify(
    upload: Annotated[Path, typer.Argument(help="A firm's proof (`scf zk prove`) or disclosure (`scf zk disclose`).")],
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Lender: check a proof or disclosure against the chain (registered report, nonce, day, Groth16) and
    print what it establishes; exit code 1 with the reason when it does not hold."""
    from zk.check import REASONS, check, parse_upload
    from zk.onchain import CreditContracts

    with _zk_errors():
        checked = check(parse_upload(_read_json(upload)), CreditContracts.of(connect(rpc, data_dir)))
        if not checked.valid:
            raise ValueError(f"{checked.kind} does not hold: {checked.reason}: {REASONS[checked.reason]}")
    facts = [f"{p.field} {p.op} {', '.join(map(str, p.operands))}" for p in checked.predicates]
    facts += [f"{name} = {value}" for name, value in checked.fields.items()]
    console.print(f"valid {checked.kind} about {checked.subject}, report of bureau {checked.bureau}: "
                  + "; ".join(facts), soft_wrap=True)
