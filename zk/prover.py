"""Proving and verifying credit predicates through a persistent Node worker (``zk/worker.js``).

One worker process loads snarkjs and the bn128 curve once and then answers requests line by line,
so a verification costs milliseconds instead of a Node start-up per proof.

- :func:`circuit_input` builds the witness input from a :class:`~zk.report.CreditReport`.
- :class:`ZkWorker` proves (``fullProve``) and verifies (``groth16.verify``).
- :class:`CreditVerifier` is the lender's off-chain check: root registered for the subject,
  the lender's own policy and id, a nonce it issued and has not seen used, today's day, then the
  proof. Groth16 proofs are malleable, so nothing is keyed on proof bytes: the nonce is.
"""

from __future__ import annotations

import itertools
import json
import secrets
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zk import ZK_DIR
from zk.keys import VKEY, WASM, ZKEY
from zk.policy import CreditPolicy
from zk.poseidon import FIELD
from zk.report import CreditReport
from zk.schema import BY_NAME, CIRCUIT_FIELDS, DECOY_SLOTS
from zk.toolchain import ToolchainError, node, require_installed

PUBLIC_SIGNALS = ("root", "policyHash", "today", "lenderId", "nonce")
BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583  # BN254 Fq
_CAMEL = {
    "credit_score": "score",
    "court_judgments": "judgments",
    "tax_grade": "taxGrade",
    "annual_revenue_cents": "revenue",
    "report_day": "reportDate",
}


class ProofError(Exception):
    """No proof can be made (the statement is false or the input is malformed)."""


class VerificationError(Exception):
    """A presented proof is rejected; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def day_number(timestamp: float) -> int:
    return int(timestamp) // 86400


def circuit_input(report: CreditReport, policy: CreditPolicy, *, today: int, lender: int | str, nonce: int) -> dict:
    """The circuit's input (all numbers as decimal strings)."""
    used_slots = {BY_NAME[name].slot for name in CIRCUIT_FIELDS}
    leaves = report.leaves()
    other = [leaves[s] for s in range(len(leaves)) if s not in used_slots]
    assert len(other) == 11 and set(DECOY_SLOTS) <= {s for s in range(16) if s not in used_slots}
    lender_id = int(lender, 16) if isinstance(lender, str) else int(lender)
    inp: dict[str, Any] = {
        "root": report.root,
        "policyHash": policy.hash,
        "today": today,
        "lenderId": lender_id,
        "nonce": nonce,
        "otherLeaves": other,
        "minScore": policy.min_score,
        "maxJudgments": policy.max_judgments,
        "taxMask": policy.tax_mask,
        "revenueLo": policy.revenue_lo,
        "revenueHi": policy.revenue_hi,
        "maxAgeDays": policy.max_age_days,
    }
    for name in CIRCUIT_FIELDS:
        inp[_CAMEL[name]] = report.values[name]
        inp[_CAMEL[name] + "Salt"] = report.salts[name]
    return _stringify(inp)


def _stringify(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _stringify(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_stringify(v) for v in obj]
    return str(int(obj))


@dataclass(frozen=True)
class Proof:
    """A Groth16 proof with its public signals (root, policyHash, today, lenderId, nonce)."""

    proof: dict
    public_signals: tuple[int, ...]

    @property
    def signals(self) -> dict[str, int]:
        return dict(zip(PUBLIC_SIGNALS, self.public_signals, strict=True))

    def calldata(self) -> tuple[list[int], list[list[int]], list[int]]:
        """(pA, pB, pC) for the snarkjs Solidity verifier (pB's coordinates swapped)."""
        a, b, c = self.proof["pi_a"], self.proof["pi_b"], self.proof["pi_c"]
        return (
            [int(a[0]), int(a[1])],
            [[int(b[0][1]), int(b[0][0])], [int(b[1][1]), int(b[1][0])]],
            [int(c[0]), int(c[1])],
        )

    def size_bytes(self) -> int:
        """ABI size of (pA, pB, pC): 8 words."""
        return 8 * 32

    def with_signals(self, signals: tuple[int, ...]) -> Proof:
        return Proof(self.proof, tuple(signals))

    def malleated(self) -> Proof:
        """The same statement with different proof bytes: (-A, -B, C) pairs identically."""
        q = BASE_FIELD
        a, b = self.proof["pi_a"], self.proof["pi_b"]
        neg_a = [a[0], str((q - int(a[1])) % q), a[2]]
        neg_b = [b[0], [str((q - int(b[1][0])) % q), str((q - int(b[1][1])) % q)], b[2]]
        return Proof({**self.proof, "pi_a": neg_a, "pi_b": neg_b}, self.public_signals)

    def to_json(self) -> dict:
        return {"proof": self.proof, "publicSignals": [str(s) for s in self.public_signals]}

    @classmethod
    def from_json(cls, data: dict) -> Proof:
        return cls(data["proof"], tuple(int(s) for s in data["publicSignals"]))


class ZkWorker:
    """A persistent ``node zk/worker.js`` process; thread-safe, one request at a time."""

    def __init__(self, *, wasm: Path = WASM, zkey: Path = ZKEY, vkey: Path = VKEY) -> None:
        require_installed()
        self.wasm, self.zkey, self.vkey = wasm, zkey, vkey
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [node(), str(ZK_DIR / "worker.js")],
            cwd=ZK_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.request("ping")

    def request(self, op: str, **payload: Any) -> dict:
        with self._lock:
            if self._proc.poll() is not None:
                raise ToolchainError("zk worker exited")
            rid = next(self._ids)
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps({"id": rid, "op": op, **payload}) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise ToolchainError("zk worker closed its output")
        answer = json.loads(line)
        if answer.get("id") != rid:
            raise ToolchainError(f"zk worker answered request {answer.get('id')} for {rid}")
        if not answer["ok"]:
            raise ProofError(answer["error"])
        return answer

    def prove(self, inp: dict) -> Proof:
        """A proof for circuit input ``inp``; raises ProofError when the witness fails."""
        answer = self.request("prove", input=inp, wasm=str(self.wasm), zkey=str(self.zkey))
        return Proof(answer["proof"], tuple(int(s) for s in answer["publicSignals"]))

    def verify(self, proof: Proof) -> bool:
        """The bare Groth16 check (no policy, root or nonce checks: see CreditVerifier)."""
        try:
            answer = self.request(
                "verify", vkey=str(self.vkey), proof=proof.proof, publicSignals=[str(s) for s in proof.public_signals]
            )
        except ProofError:
            return False
        return bool(answer["valid"])

    def poseidon(self, inputs: list[int]) -> int:
        return int(self.request("poseidon", inputs=[str(x) for x in inputs])["hash"])

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> ZkWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prove_credit(
    worker: ZkWorker, report: CreditReport, policy: CreditPolicy, *, today: int, lender: int | str, nonce: int
) -> Proof:
    """The firm's step: prove that ``report`` satisfies ``policy`` for ``lender``'s ``nonce``."""
    return worker.prove(circuit_input(report, policy, today=today, lender=lender, nonce=nonce))


# (root, subject) -> registered, unexpired, unrevoked, bureau still active
RootCheck = Callable[[int, str], bool]


@dataclass
class CreditVerifier:
    """A lender's off-chain verifier: its id, its policy, the nonces it issued, a root check."""

    worker: ZkWorker
    lender: str
    policy: CreditPolicy
    root_is_valid: RootCheck
    issued: set[int] = field(default_factory=set)
    used: set[int] = field(default_factory=set)
    clock: Callable[[], float] = time.time

    def issue_nonce(self) -> int:
        nonce = secrets.randbelow(FIELD)
        self.issued.add(nonce)
        return nonce

    def verify(self, proof: Proof, subject: str) -> None:
        """Accept ``proof`` about ``subject`` once, or raise VerificationError(reason)."""
        s = proof.signals
        if len(proof.public_signals) != len(PUBLIC_SIGNALS):
            raise VerificationError("signals")
        if s["lenderId"] != int(self.lender, 16):
            raise VerificationError("lender")
        if s["nonce"] not in self.issued:
            raise VerificationError("nonce")
        if s["nonce"] in self.used:
            raise VerificationError("nonce used")
        if s["policyHash"] != self.policy.hash:
            raise VerificationError("policy")
        if abs(s["today"] - day_number(self.clock())) > 1:
            raise VerificationError("day")
        if not self.root_is_valid(s["root"], subject):
            raise VerificationError("root")
        if not self.worker.verify(proof):
            raise VerificationError("proof")
        self.used.add(s["nonce"])
