"""Groth16 credit predicates off-chain: what proves, what cannot be proven, and what the lender's
verifier (persistent snarkjs worker) refuses."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from zk_fixtures import *  # noqa: F403 - fixtures
from zk_fixtures import make_report

from zk.policy import CreditPolicy
from zk.poseidon import FIELD
from zk.prover import (
    PUBLIC_SIGNALS,
    CreditVerifier,
    ProofError,
    VerificationError,
    circuit_input,
    day_number,
    prove_credit,
)
from zk.report import CreditReport, leaf_hash
from zk.schema import BY_NAME, TaxGrade

SUBJECT = "0x" + "ab" * 20
LENDER = "0x" + "cd" * 20
OTHER_LENDER = "0x" + "ef" * 20
POLICY = CreditPolicy(
    min_score=700, max_judgments=0, tax_mask=CreditPolicy.mask(TaxGrade.A, TaxGrade.B),
    revenue_lo=1_000_000_00, revenue_hi=100_000_000_00, max_age_days=90,
)


@pytest.fixture(scope="module")
def day() -> int:
    return day_number(time.time())


@pytest.fixture(scope="module")
def report(day) -> CreditReport:
    return make_report(SUBJECT, day - 10)


@pytest.fixture
def verifier(zk_worker, report) -> CreditVerifier:
    return CreditVerifier(zk_worker, LENDER, POLICY, lambda root, subject: root == report.root and subject == SUBJECT)


@pytest.fixture(scope="module")
def issued(zk_worker, report, day):
    """One valid proof for a nonce the verifier will have issued (nonce fixed for reuse)."""
    nonce = 424242
    return nonce, prove_credit(zk_worker, report, POLICY, today=day, lender=LENDER, nonce=nonce)


def _accepting(verifier: CreditVerifier, nonce: int) -> CreditVerifier:
    verifier.issued.add(nonce)
    return verifier


def test_valid_proof_is_accepted_once(verifier, issued, report, day):
    nonce, proof = issued
    assert proof.signals == {"root": report.root, "policyHash": POLICY.hash, "today": day,
                             "lenderId": int(LENDER, 16), "nonce": nonce}
    _accepting(verifier, nonce).verify(proof, SUBJECT)
    with pytest.raises(VerificationError, match="nonce used"):
        verifier.verify(proof, SUBJECT)


def test_malleated_proof_verifies_but_is_stopped_by_the_nonce(zk_worker, verifier, issued):
    nonce, proof = issued
    twin = proof.malleated()
    assert twin.proof != proof.proof and zk_worker.verify(twin)  # Groth16 malleability is real
    _accepting(verifier, nonce).verify(proof, SUBJECT)
    with pytest.raises(VerificationError, match="nonce used"):
        verifier.verify(twin, SUBJECT)


def test_each_public_signal_mutated_fails(zk_worker, verifier, issued):
    _, proof = issued
    assert zk_worker.verify(proof)
    for i, name in enumerate(PUBLIC_SIGNALS):
        signals = list(proof.public_signals)
        signals[i] += 1
        mutated = proof.with_signals(tuple(signals))
        assert not zk_worker.verify(mutated), name
        lenient = CreditVerifier(zk_worker, hex(signals[3]), replace(POLICY), lambda r, s: True)
        lenient.issued.add(signals[4])
        with pytest.raises(VerificationError):
            lenient.verify(mutated, SUBJECT)


def test_another_lenders_id_or_nonce_is_refused(zk_worker, verifier, issued, report, day):
    nonce, proof = issued
    other = CreditVerifier(zk_worker, OTHER_LENDER, POLICY, lambda r, s: True)
    other.issued.add(nonce)
    with pytest.raises(VerificationError, match="lender"):
        other.verify(proof, SUBJECT)
    with pytest.raises(VerificationError, match="nonce"):
        verifier.verify(proof, SUBJECT)  # never issued by this verifier
    another_policy = CreditVerifier(zk_worker, LENDER, replace(POLICY, min_score=600), lambda r, s: True)
    another_policy.issued.add(nonce)
    with pytest.raises(VerificationError, match="policy"):
        another_policy.verify(proof, SUBJECT)


def test_other_subject_or_unknown_root_is_refused(verifier, issued):
    nonce, proof = issued
    _accepting(verifier, nonce)
    with pytest.raises(VerificationError, match="root"):
        verifier.verify(proof, "0x" + "12" * 20)


def test_stale_day_is_refused(zk_worker, issued, report):
    nonce, proof = issued
    later = CreditVerifier(zk_worker, LENDER, POLICY, lambda r, s: True, clock=lambda: time.time() + 3 * 86400)
    later.issued.add(nonce)
    with pytest.raises(VerificationError, match="day"):
        later.verify(proof, SUBJECT)


def _cannot_prove(zk_worker, report, policy, day, **kw):
    with pytest.raises(ProofError):
        prove_credit(zk_worker, report, policy, today=kw.get("today", day), lender=LENDER, nonce=7)


def test_tampered_value_or_salt_cannot_prove(zk_worker, report, day):
    # claim a higher score than committed: the tree no longer hashes to the root
    inp = circuit_input(report, POLICY, today=day, lender=LENDER, nonce=7)
    for name, fake in (("score", "999"), ("scoreSalt", str(report.salts["credit_score"] + 1)),
                       ("judgmentsSalt", "1"), ("revenue", str(report.values["annual_revenue_cents"] + 1))):
        with pytest.raises(ProofError):
            zk_worker.prove({**inp, name: fake})


def test_field_under_another_key_cannot_prove(zk_worker, day):
    """The bureau committed 950 as *patents* in slot 0; it cannot pass as the credit score."""
    report = make_report(SUBJECT, day - 10)

    class Rekeyed(CreditReport):
        def leaves(self):
            leaves = super().leaves()
            leaves[BY_NAME["credit_score"].slot] = leaf_hash(BY_NAME["patents"].key, 950, self.salts["credit_score"])
            return leaves

    forged = Rekeyed({**report.values, "credit_score": 950}, report.salts, report.decoys)
    _cannot_prove(zk_worker, forged, POLICY, day)


def test_unmet_predicates_cannot_prove(zk_worker, day):
    cases = {
        "score": make_report(SUBJECT, day - 10, credit_score=699),
        "judgments": make_report(SUBJECT, day - 10, court_judgments=1),
        "tax grade": make_report(SUBJECT, day - 10, tax_grade=int(TaxGrade.C)),
        "revenue low": make_report(SUBJECT, day - 10, annual_revenue_cents=1_000_000_00 - 1),
        "revenue high": make_report(SUBJECT, day - 10, annual_revenue_cents=100_000_000_00 + 1),
        "stale": make_report(SUBJECT, day - 91),
        "future": make_report(SUBJECT, day + 1),
    }
    for label, report in cases.items():
        assert not POLICY.allows(report.values, day), label
        with pytest.raises(ProofError):
            prove_credit(zk_worker, report, POLICY, today=day, lender=LENDER, nonce=7)
            pytest.fail(label)


def test_operand_over_2_64_cannot_prove(zk_worker, report, day):
    """Wrap-around tricks fail the Num2Bits range checks before the comparators."""
    huge = CreditPolicy(min_score=0, max_judgments=2**64, revenue_hi=2**64 - 1)
    _cannot_prove(zk_worker, report, huge, day)
    # a field value beyond 2^64 (not issuable by CreditReport.issue, so built by hand)
    big = CreditReport({**report.values, "annual_revenue_cents": 2**64 + 5}, report.salts, report.decoys)
    _cannot_prove(zk_worker, big, CreditPolicy(revenue_hi=2**64 - 1), day)
    _cannot_prove(zk_worker, report, CreditPolicy(max_age_days=2**32), day)  # days are 32-bit
    # a negative operand is p - 1 in the field
    _cannot_prove(zk_worker, report, CreditPolicy(min_score=FIELD - 1), day)


def test_neutral_policy_proves_any_fresh_report(zk_worker, day):
    report = make_report(SUBJECT, day, credit_score=0, court_judgments=3, tax_grade=int(TaxGrade.D))
    proof = prove_credit(zk_worker, report, CreditPolicy(), today=day, lender=LENDER, nonce=9)
    assert zk_worker.verify(proof)


def test_worker_survives_bad_requests(zk_worker, issued):
    _, proof = issued
    with pytest.raises(ProofError):
        zk_worker.request("no-such-op")
    with pytest.raises(ProofError):
        zk_worker.prove({"root": "1"})
    assert not zk_worker.verify(proof.with_signals(proof.public_signals[:4]))  # wrong arity
    assert zk_worker.verify(proof)
