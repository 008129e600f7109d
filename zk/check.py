"""Checking a credit proof a firm handed to a lender, against the chain, without Node.

Two kinds of upload, told apart by their keys:

- a Groth16 proof as :meth:`zk.prover.Proof.to_json` writes it (``proof``, ``publicSignals``), optionally
  with the ``policy`` it proves and its ``subject`` (``scf zk prove`` writes both);
- a field disclosure as :meth:`zk.report.Disclosure.to_json` writes it (``root``, ``fields``).

:func:`parse_upload` reads one (raising :class:`MalformedUploadError` on anything else) and
:func:`check` verifies it: the report root registered, unrevoked and unexpired for its subject in the
CreditRegistry; for a proof also the policy operands against the signal's hash, the nonce as the
CreditGate issued it, the day, and the Groth16 pairing check (:mod:`zk.pyverify`, pure Python, last since
it is the slow step); the public signals decoded into the predicates they prove. A failed check is a
result with ``valid=False`` and a ``reason`` code (see :data:`REASONS`), not an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from zk import pyverify
from zk.onchain import CreditContracts
from zk.policy import CreditPolicy
from zk.poseidon import FIELD
from zk.prover import PUBLIC_SIGNALS, Proof
from zk.report import Disclosure
from zk.schema import U64, TaxGrade

ZERO_ADDRESS = "0x" + "0" * 40
ALL_GRADES = CreditPolicy.mask(*TaxGrade)
REASONS = {
    "policy_missing": "the upload does not carry the policy it proves, so its predicates cannot be read",
    "policy_mismatch": "the policy operands do not hash to the proof's policy signal",
    "root_unknown": "no credit report with this root is registered",
    "root_revoked": "the bureau revoked this credit report",
    "root_expired": "this credit report has expired",
    "root_invalid": "this credit report is not valid (its bureau is no longer active)",
    "subject": "the report is registered about another firm than the upload names",
    "nonce_unknown": "the nonce was not issued to this lender by the CreditGate",
    "nonce_used": "the nonce was already used: this proof was submitted before",
    "stale_day": "the proof was made for another day (more than one day from the chain's)",
    "proof": "the Groth16 proof does not verify for these public signals",
    "disclosure": "a disclosed field does not open to the registered root",
}


class MalformedUploadError(ValueError):
    """Neither a proof nor a disclosure, or one with malformed values."""


@dataclass(frozen=True)
class Predicate:
    """One fact a proof establishes: ``field`` ``op`` ``operands`` (op: ge, le, in, between, age_le)."""

    field: str
    op: str
    operands: tuple[int | str, ...]


@dataclass(frozen=True)
class Upload:
    """A parsed upload: exactly one of ``proof`` (with optional ``policy``) and ``disclosure``."""

    proof: Proof | None = None
    policy: CreditPolicy | None = None
    disclosure: Disclosure | None = None
    subject: str | None = None

    @property
    def kind(self) -> str:
        return "groth16" if self.proof is not None else "disclosure"

    @property
    def lender(self) -> str | None:
        """The lender a proof is addressed to (its lenderId signal); None for a disclosure."""
        if self.proof is None:
            return None
        return Web3.to_checksum_address(f"0x{self.proof.signals['lenderId']:040x}")


@dataclass
class Checked:
    """What :func:`check` found. ``reason`` (a :data:`REASONS` key) is set exactly when ``valid`` is False."""

    kind: str
    valid: bool
    root: int
    reason: str | None = None
    subject: str | None = None
    bureau: str | None = None
    registered_at: int | None = None
    expiry: int | None = None
    lender: str | None = None
    today: int | None = None  # the day (since 1970-01-01) the proof speaks of
    nonce: int | None = None
    policy_current: bool | None = None  # the lender's policy on the CreditGate now is the proven one
    predicates: list[Predicate] = field(default_factory=list)
    fields: dict[str, int] = field(default_factory=dict)

    def fail(self, reason: str) -> Checked:
        self.valid, self.reason = False, reason
        return self


def parse_upload(data: Any) -> Upload:
    """The upload in ``data`` (a JSON object), or :class:`MalformedUploadError` saying what is wrong."""
    if not isinstance(data, Mapping):
        raise MalformedUploadError("expected a JSON object: a proof (proof, publicSignals) or a disclosure "
                                   "(root, fields)")
    try:
        subject = Web3.to_checksum_address(data["subject"]) if data.get("subject") is not None else None
        if "proof" in data and "publicSignals" in data:
            proof = Proof.from_json(data)
            if not isinstance(proof.proof, Mapping) or len(proof.public_signals) != len(PUBLIC_SIGNALS):
                raise MalformedUploadError(f"a proof has {len(PUBLIC_SIGNALS)} public signals "
                                           f"({', '.join(PUBLIC_SIGNALS)})")
            if any(not 0 <= s < FIELD for s in proof.public_signals):
                raise MalformedUploadError("a public signal is not a field element")
            policy = None
            if data.get("policy") is not None:
                policy = CreditPolicy(**{k: int(v) for k, v in data["policy"].items()})
                if any(not 0 <= v <= U64 for v in policy.operands()):
                    raise MalformedUploadError("policy operands are integers from 0 to 2^64 - 1")
            return Upload(proof=proof, policy=policy, subject=subject)
        if "root" in data and "fields" in data:
            return Upload(disclosure=Disclosure.from_json(data), subject=subject)
    except MalformedUploadError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedUploadError(f"malformed upload: {type(exc).__name__}: {exc}") from None
    raise MalformedUploadError("neither a proof (proof, publicSignals) nor a disclosure (root, fields)")


def predicates_of(policy: CreditPolicy) -> list[Predicate]:
    """What a proof of ``policy`` establishes; operands at their neutral value restrict nothing and are left out."""
    found: list[Predicate] = []
    if policy.min_score > 0:
        found.append(Predicate("credit_score", "ge", (policy.min_score,)))
    if policy.max_judgments < U64:
        found.append(Predicate("court_judgments", "le", (policy.max_judgments,)))
    if policy.tax_mask & ALL_GRADES != ALL_GRADES:
        found.append(Predicate("tax_grade", "in", tuple(g.name for g in TaxGrade if policy.tax_mask >> g & 1)))
    if policy.revenue_lo > 0 or policy.revenue_hi < U64:
        found.append(Predicate("annual_revenue_cents", "between", (policy.revenue_lo, policy.revenue_hi)))
    found.append(Predicate("report_day", "age_le", (policy.max_age_days,)))
    return found


def check(upload: Upload, contracts: CreditContracts, *,
          groth16: Callable[[Proof], bool] = pyverify.verify) -> Checked:
    """Verify ``upload`` against the chain of ``contracts`` (cheap checks first, the pairing check last)."""
    w3 = contracts.chain.w3
    now = int(w3.eth.get_block("latest")["timestamp"])
    root = upload.proof.signals["root"] if upload.proof is not None else upload.disclosure.root  # type: ignore[union-attr]
    result = Checked(kind=upload.kind, valid=True, root=root)
    if not 0 < root < FIELD:
        return result.fail("root_unknown")
    bureau, expiry, registered_at, revoked, subject, _, _ = contracts.registry.functions.commitmentOf(root).call()
    if bureau == ZERO_ADDRESS:
        return result.fail("root_unknown")
    result.subject, result.bureau, result.registered_at, result.expiry = subject, bureau, registered_at, expiry
    if upload.proof is not None:
        s = upload.proof.signals
        result.lender, result.today, result.nonce = upload.lender, s["today"], s["nonce"]
        if upload.policy is None:
            return result.fail("policy_missing")
        result.predicates = predicates_of(upload.policy)
        if upload.policy.hash != s["policyHash"]:
            return result.fail("policy_mismatch")
        result.policy_current = int(contracts.gate.functions.policyOf(result.lender).call()) == s["policyHash"]
    if upload.subject is not None and upload.subject != subject:
        return result.fail("subject")
    if revoked:
        return result.fail("root_revoked")
    if expiry <= now:
        return result.fail("root_expired")
    if not contracts.is_valid(root, subject):
        return result.fail("root_invalid")
    if upload.disclosure is not None:
        try:
            result.fields = upload.disclosure.verify(root)
        except ValueError:
            return result.fail("disclosure")
        disclosed = result.fields.get("subject_address")
        if disclosed is not None and Web3.to_checksum_address(f"0x{disclosed:040x}") != subject:
            return result.fail("subject")
        return result
    assert upload.proof is not None
    issued_to, used = contracts.gate.functions.nonceState(result.nonce).call()
    if issued_to != result.lender:
        return result.fail("nonce_unknown")
    if used:
        return result.fail("nonce_used")
    if abs(result.today - now // 86400) > 1:  # type: ignore[operator]
        return result.fail("stale_day")
    if not groth16(upload.proof):
        return result.fail("proof")
    return result
