"""Groth16 trusted setup as a multi-party ceremony (snarkjs), with a verified transcript.

Phase 1 (powers of tau, circuit-independent) and phase 2 (per circuit) each take one
contribution per party, every party in its own ``snarkjs ... contribute`` process with entropy
drawn inside that step (never written anywhere), then a public random beacon goes last. Every
intermediate file is verified (``powersoftau verify`` / ``zkey verify``) before the next party
builds on it, and ``transcript.json`` records each step's party, output and sha256, so anyone can
re-run the verification on the published files.

A real deployment runs :func:`contribute` on each party's own machine, passing files along; the
orchestrating :func:`run_ceremony` is what the tests and the development keys use.

Never run this in the test suite at full size: phase 1 + ``prepare phase2`` of 2^13 take minutes.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from zk.toolchain import ToolchainError, sha256_file, snarkjs


@dataclass
class Step:
    phase: str
    action: str
    party: str
    output: str
    sha256: str
    seconds: float
    verified: bool = False
    contribution_hash: str = ""  # what snarkjs prints for the party to publish


@dataclass
class Transcript:
    power: int
    circuit: str = ""
    r1cs_sha256: str = ""
    beacon: str = ""
    steps: list[Step] = field(default_factory=list)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def contribute(phase: str, src: Path, dst: Path, party: str) -> str:
    """One party's contribution (``phase`` is "ptau" or "zkey"), with fresh entropy of its own.
    Returns snarkjs' output (it prints the contribution hash)."""
    entropy = secrets.token_hex(64)
    cmd = "powersoftau" if phase == "ptau" else "zkey"
    return snarkjs(cmd, "contribute", src, dst, f"--name={party}", f"-e={entropy}")


_HASH = re.compile(
    r"(Contribution Hash|Contribution Response Hash imported|Next Challenge Hash):\s*\n"
    r"((?:\s*[0-9a-f]{8}(?: [0-9a-f]{8}){3}\n?){4})"
)


def contribution_hash(output: str) -> str:
    """The contribution hash snarkjs printed (zkey: Contribution Hash; ptau: response hash)."""
    for label, block in _HASH.findall(re.sub(r"\x1b\[[0-9;]*m", "", output)):
        if label != "Next Challenge Hash":
            return "".join(block.split())
    return ""


def _record(
    transcript: Transcript, phase: str, action: str, party: str, out: Path, t0: float, output: str = ""
) -> Step:
    step = Step(phase, action, party, out.name, sha256_file(out), round(time.perf_counter() - t0, 2))
    step.contribution_hash = contribution_hash(output)
    transcript.steps.append(step)
    return step


def phase1(out_dir: Path, power: int, parties: Sequence[str], beacon: str, transcript: Transcript) -> Path:
    """Powers of tau for 2^power constraints; returns the phase-2-prepared ptau."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    current = out_dir / "pot_0000.ptau"
    snarkjs("powersoftau", "new", "bn128", str(power), current)
    _record(transcript, "ptau", "new", "coordinator", current, t0)
    for i, party in enumerate(parties, start=1):
        t0 = time.perf_counter()
        nxt = out_dir / f"pot_{i:04d}.ptau"
        output = contribute("ptau", current, nxt, party)
        step = _record(transcript, "ptau", "contribute", party, nxt, t0, output)
        snarkjs("powersoftau", "verify", nxt)
        step.verified = True
        current = nxt
    t0 = time.perf_counter()
    beaconed = out_dir / "pot_beacon.ptau"
    output = snarkjs("powersoftau", "beacon", current, beaconed, beacon, "10", "-n=beacon")
    beacon_step = _record(transcript, "ptau", "beacon", "beacon", beaconed, t0, output)
    t0 = time.perf_counter()
    final = out_dir / "pot_final.ptau"
    snarkjs("powersoftau", "prepare", "phase2", beaconed, final)
    step = _record(transcript, "ptau", "prepare phase2", "coordinator", final, t0)
    snarkjs("powersoftau", "verify", final)  # checks every contribution and the beacon
    step.verified = beacon_step.verified = True
    return final


def phase2(
    r1cs: Path, ptau: Path, out_dir: Path, parties: Sequence[str], beacon: str, transcript: Transcript
) -> tuple[Path, Path]:
    """Circuit-specific setup; returns (final zkey, verification key json)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    current = out_dir / f"{r1cs.stem}_0000.zkey"
    snarkjs("groth16", "setup", r1cs, ptau, current)
    _record(transcript, "zkey", "setup", "coordinator", current, t0)
    for i, party in enumerate(parties, start=1):
        t0 = time.perf_counter()
        nxt = out_dir / f"{r1cs.stem}_{i:04d}.zkey"
        output = contribute("zkey", current, nxt, party)
        step = _record(transcript, "zkey", "contribute", party, nxt, t0, output)
        snarkjs("zkey", "verify", r1cs, ptau, nxt)
        step.verified = True
        current = nxt
    t0 = time.perf_counter()
    final = out_dir / f"{r1cs.stem}_final.zkey"
    output = snarkjs("zkey", "beacon", current, final, beacon, "10", "-n=beacon")
    step = _record(transcript, "zkey", "beacon", "beacon", final, t0, output)
    snarkjs("zkey", "verify", r1cs, ptau, final)
    step.verified = True
    vkey = out_dir / "verification_key.json"
    snarkjs("zkey", "export", "verificationkey", final, vkey)
    _record(transcript, "zkey", "export verificationkey", "coordinator", vkey, time.perf_counter())
    return final, vkey


def run_ceremony(
    r1cs: Path,
    out_dir: Path,
    *,
    power: int,
    parties: Sequence[str],
    beacon: str,
    ptau: Path | None = None,
) -> Transcript:
    """The whole ceremony for ``r1cs``: phase 1 (unless a prepared ``ptau`` is given), phase 2,
    both with one contribution per party and ``beacon`` (hex, e.g. a future block hash) last.
    Writes ``transcript.json`` into ``out_dir``."""
    if len(parties) < 1:
        raise ValueError("a ceremony needs at least one party besides the beacon")
    if len(set(parties)) != len(parties):
        raise ValueError("party names must be distinct")
    int(beacon, 16)  # must be hex
    transcript = Transcript(power=power, circuit=r1cs.name, r1cs_sha256=sha256_file(r1cs), beacon=beacon)
    if ptau is None:
        ptau = phase1(out_dir / "phase1", power, parties, beacon, transcript)
    else:
        t0 = time.perf_counter()
        snarkjs("powersoftau", "verify", ptau)
        _record(transcript, "ptau", "given (verified)", "coordinator", ptau, t0).verified = True
    phase2(r1cs, ptau, out_dir, parties, beacon, transcript)
    transcript.write(out_dir / "transcript.json")
    return transcript


__all__ = ["Step", "ToolchainError", "Transcript", "contribute", "run_ceremony"]
