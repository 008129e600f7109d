"""CreditRegistry and CreditGate on anvil: registration and revocation, passes earned by Groth16
proofs, single use through the FinancingDesk, and every way a submission is refused."""

from __future__ import annotations

import pytest
from zk_fixtures import *  # noqa: F403 - fixtures
from zk_fixtures import DAY, ONE, expect_revert, gated_desk, make_report, now, warp

from ledger.financing import Offer
from zk.policy import CreditPolicy
from zk.prover import day_number, prove_credit
from zk.schema import TaxGrade

POLICY = CreditPolicy(min_score=700, max_judgments=0, tax_mask=CreditPolicy.mask(TaxGrade.A, TaxGrade.B),
                      revenue_lo=1_000_000_00, revenue_hi=100_000_000_00, max_age_days=90)
GAS_GOAL = 300_000


def chain_day(ledger) -> int:
    return day_number(now(ledger.chain))


@pytest.fixture
def setup(ledger, actors, zk_actors, credit):
    """A report about the supplier registered by bureau 1, the lender's policy and a nonce."""
    day = chain_day(ledger)
    report = make_report(actors.supplier.address, day - 5)
    credit.register(zk_actors.bureau, report.root, actors.supplier.address, report.document_hash(),
                    now(ledger.chain) + 180 * DAY)
    credit.set_policy(actors.lender, POLICY.hash)
    nonce = credit.issue_nonce(actors.lender)
    return report, day, nonce


def prove_for(zk_worker, report, day, lender, nonce, policy=POLICY):
    return prove_credit(zk_worker, report, policy, today=day, lender=lender, nonce=nonce)


# ------------------------------------------------------------------ registry


def test_registry_roles_and_revocation(ledger, actors, zk_actors, credit):
    report = make_report(actors.supplier.address, chain_day(ledger))
    expiry = now(ledger.chain) + 30 * DAY
    with expect_revert("CreditUnauthorizedBureau", account=actors.lender.address):
        credit.register(actors.lender, report.root, actors.supplier.address, report.document_hash(), expiry)
    with expect_revert("CreditInvalidRoot"):
        credit.register(zk_actors.bureau, 2**256 - 1, actors.supplier.address, report.document_hash(), expiry)
    with expect_revert("CreditInvalidExpiry"):
        credit.register(zk_actors.bureau, report.root, actors.supplier.address, report.document_hash(), 1)
    receipt = credit.register(zk_actors.bureau, report.root, actors.supplier.address, report.document_hash(), expiry)
    (event,) = credit.registry.events.ReportRegistered().process_receipt(receipt)
    assert event["args"]["bureau"] == zk_actors.bureau.address
    assert credit.is_valid(report.root, actors.supplier.address)
    assert not credit.is_valid(report.root, actors.supplier2.address)
    with expect_revert("CreditAlreadyRegistered", root=report.root, bureau=zk_actors.bureau.address):
        credit.register(zk_actors.bureau2, report.root, actors.supplier2.address, report.document_hash(), expiry)
    with expect_revert("CreditNotIssuer", root=report.root, account=zk_actors.bureau2.address):
        credit.revoke(zk_actors.bureau2, report.root)
    credit.revoke(zk_actors.bureau, report.root)
    assert not credit.is_valid(report.root, actors.supplier.address)
    with expect_revert("CreditAlreadyRevoked", root=report.root):
        credit.revoke(zk_actors.bureau, report.root)
    with expect_revert("CreditUnknownRoot", root=123):
        credit.revoke(zk_actors.bureau, 123)


def test_registry_expiry(ledger, actors, zk_actors, credit):
    report = make_report(actors.supplier.address, chain_day(ledger))
    credit.register(zk_actors.bureau, report.root, actors.supplier.address, report.document_hash(),
                    now(ledger.chain) + DAY)
    assert credit.is_valid(report.root, actors.supplier.address)
    warp(ledger.chain, DAY + 1)
    assert not credit.is_valid(report.root, actors.supplier.address)


def test_root_of_a_removed_bureau_stops_counting(ledger, actors, zk_actors, credit):
    report = make_report(actors.supplier.address, chain_day(ledger))
    credit.register(zk_actors.bureau, report.root, actors.supplier.address, report.document_hash(),
                    now(ledger.chain) + 30 * DAY)
    assert credit.is_valid(report.root, actors.supplier.address)
    ledger.execute(actors.registrar, ledger.participants.functions.remove(zk_actors.bureau.address))
    assert not credit.is_valid(report.root, actors.supplier.address)
    with expect_revert("CreditUnauthorizedBureau", account=zk_actors.bureau.address):
        credit.register(zk_actors.bureau, report.root + 1, actors.supplier.address, report.document_hash(),
                        now(ledger.chain) + 30 * DAY)


# ---------------------------------------------------------------------- gate


def test_pass_then_single_financing(ledger, actors, credit, setup, zk_worker):
    """Without a pass the desk refuses; a proof earns one pass; it finances once."""
    report, day, nonce = setup
    desk, token = gated_desk(ledger, actors, credit)

    def offer(n: int) -> Offer:
        return Offer(lender=actors.lender.address, token_id=token, value=100 * ONE, rate_bps=800,
                     expiry=now(ledger.chain) + DAY, nonce=n)

    with expect_revert("FinancingPolicyRejected", policy=credit.gate.address):
        desk.take_offer(actors.supplier, offer(1), token, desk.sign(actors.lender, offer(1)))

    proof = prove_for(zk_worker, report, day, actors.lender.address, nonce)
    assert credit.verify_on_chain(proof)
    receipt = credit.submit_proof(actors.lender, actors.supplier.address, proof)
    assert receipt["gasUsed"] <= GAS_GOAL, receipt["gasUsed"]
    (granted,) = credit.gate.events.PassGranted().process_receipt(receipt)
    assert granted["args"]["root"] == report.root and granted["args"]["nonce"] == nonce
    assert credit.gate.functions.nonceState(nonce).call() == [actors.lender.address, True]
    report_id = credit.registry.functions.commitmentOf(report.root).call()[5]
    assert tuple(credit.gate.functions.passOf(actors.lender.address, actors.supplier.address).call()) == (
        report_id, granted["args"]["validUntil"])

    with expect_revert("CreditGateUnauthorizedCaller", account=actors.lender.address):
        ledger.execute(actors.lender, credit.gate.functions.check(actors.lender.address, actors.supplier.address,
                                                                  token, 1))
    desk.take_offer(actors.supplier, offer(1), token, desk.sign(actors.lender, offer(1)))
    assert tuple(credit.gate.functions.passOf(actors.lender.address, actors.supplier.address).call()) == (0, 0)
    with expect_revert("FinancingPolicyRejected", policy=credit.gate.address):
        desk.take_offer(actors.supplier, offer(2), token, desk.sign(actors.lender, offer(2)))


def test_reused_or_foreign_nonce_and_malleated_proof(ledger, actors, zk_actors, credit, setup, zk_worker):
    report, day, nonce = setup
    proof = prove_for(zk_worker, report, day, actors.lender.address, nonce)
    credit.submit_proof(actors.lender, actors.supplier.address, proof)
    with expect_revert("CreditGateInvalidNonce", lender=actors.lender.address, nonce=nonce):
        credit.submit_proof(actors.lender, actors.supplier.address, proof)
    twin = proof.malleated()
    assert credit.verify_on_chain(twin)  # a different, equally valid proof ...
    with expect_revert("CreditGateInvalidNonce", lender=actors.lender.address, nonce=nonce):
        credit.submit_proof(actors.lender, actors.supplier.address, twin)  # ... still stopped by the nonce
    # lender 2 replays the proof (its id is not in it) with lender 1's nonce, then with its own nonce
    credit.set_policy(zk_actors.lender2, POLICY.hash)
    with expect_revert("CreditGateInvalidNonce", lender=zk_actors.lender2.address, nonce=nonce):
        credit.submit_proof(zk_actors.lender2, actors.supplier.address, proof)
    nonce2 = credit.issue_nonce(zk_actors.lender2)
    replay = proof.with_signals((*proof.public_signals[:4], nonce2))
    with expect_revert("CreditGateInvalidProof"):
        credit.submit_proof(zk_actors.lender2, actors.supplier.address, replay)
    # a proof made for lender 2's nonce but naming lender 1 does not verify for lender 2
    forged = prove_for(zk_worker, report, day, actors.lender.address, nonce2)
    with expect_revert("CreditGateInvalidProof"):
        credit.submit_proof(zk_actors.lender2, actors.supplier.address, forged)


def test_root_must_be_registered_valid_and_about_the_holder(ledger, actors, zk_actors, credit, setup, zk_worker):
    report, day, nonce = setup
    proof = prove_for(zk_worker, report, day, actors.lender.address, nonce)
    with expect_revert("CreditGateInvalidRoot", root=report.root, holder=actors.supplier2.address):
        credit.submit_proof(actors.lender, actors.supplier2.address, proof)  # another subject
    unregistered = make_report(actors.supplier.address, day - 5)
    proof2 = prove_for(zk_worker, unregistered, day, actors.lender.address, nonce)
    with expect_revert("CreditGateInvalidRoot", root=unregistered.root, holder=actors.supplier.address):
        credit.submit_proof(actors.lender, actors.supplier.address, proof2)
    credit.revoke(zk_actors.bureau, report.root)
    with expect_revert("CreditGateInvalidRoot", root=report.root, holder=actors.supplier.address):
        credit.submit_proof(actors.lender, actors.supplier.address, proof)


def test_expired_root_and_stale_day(ledger, actors, zk_actors, credit, setup, zk_worker):
    report, day, nonce = setup
    proof = prove_for(zk_worker, report, day, actors.lender.address, nonce)
    warp(ledger.chain, 2 * DAY + 60)
    with expect_revert("CreditGateInvalidDay", day=day):
        credit.submit_proof(actors.lender, actors.supplier.address, proof)
    # a report of another subject registered by bureau 2 does not serve the supplier either
    other = make_report(actors.supplier2.address, chain_day(ledger))
    credit.register(zk_actors.bureau2, other.root, actors.supplier2.address, other.document_hash(),
                    now(ledger.chain) + DAY)
    proof3 = prove_for(zk_worker, other, chain_day(ledger), actors.lender.address, nonce)
    with expect_revert("CreditGateInvalidRoot", root=other.root, holder=actors.supplier.address):
        credit.submit_proof(actors.lender, actors.supplier.address, proof3)
    warp(ledger.chain, 180 * DAY)
    with expect_revert("CreditGateInvalidRoot", root=report.root, holder=actors.supplier.address):
        credit.submit_proof(actors.lender, actors.supplier.address, proof)


def test_policy_and_signal_mismatches(ledger, actors, credit, setup, zk_worker):
    report, day, nonce = setup
    proof = prove_for(zk_worker, report, day, actors.lender.address, nonce)
    mutated_root = proof.with_signals((proof.public_signals[0] ^ 1, *proof.public_signals[1:]))
    with expect_revert("CreditGateInvalidRoot"):
        credit.submit_proof(actors.lender, actors.supplier.address, mutated_root)
    far_day = proof.with_signals((*proof.public_signals[:2], 2**256 - 1, *proof.public_signals[3:]))
    with expect_revert("CreditGateInvalidDay", day=2**256 - 1):
        credit.submit_proof(actors.lender, actors.supplier.address, far_day)
    mutated_day = proof.with_signals((*proof.public_signals[:2], day + 1, *proof.public_signals[3:]))
    with expect_revert("CreditGateInvalidProof"):
        credit.submit_proof(actors.lender, actors.supplier.address, mutated_day)
    credit.set_policy(actors.lender, CreditPolicy(min_score=600).hash)  # the lender changed its policy
    with expect_revert("CreditGateInvalidProof"):
        credit.submit_proof(actors.lender, actors.supplier.address, proof)
    with expect_revert("CreditGateInvalidPolicy", policyHash=0):
        credit.set_policy(actors.lender, 0)
    with expect_revert("CreditGateUnauthorizedLender", account=actors.supplier.address):
        credit.issue_nonce(actors.supplier)


def test_gate_needs_a_desk(ledger, actors, credit):
    with expect_revert("CreditGateZeroDesk"):
        ledger.chain.deploy(actors.admin, "CreditGate", ledger.participants.address, credit.registry.address,
                            credit.verifier.address, "0x" + "00" * 20, DAY)


def test_revocation_after_the_pass_blocks_financing(ledger, actors, zk_actors, credit, setup, zk_worker):
    report, day, nonce = setup
    credit.submit_proof(actors.lender, actors.supplier.address,
                        prove_for(zk_worker, report, day, actors.lender.address, nonce))
    credit.revoke(zk_actors.bureau, report.root)
    desk_address = credit.gate.functions.desk().call()
    result = credit.gate.functions.check(actors.lender.address, actors.supplier.address, 1, 1).call(
        {"from": desk_address})
    assert result is False


def test_the_mirror_follows_reports_policies_and_passes(ledger, actors, zk_actors, credit, setup, zk_worker,
                                                        tmp_path):
    """The indexer mirrors the credit contracts: a report and its revocation, the lender's policy, a pass
    and the financing that used it."""
    from indexer import Indexer
    from indexer.engine import iter_rows
    from indexer.models import CreditPass, CreditPolicy, CreditReport

    report, day, nonce = setup
    desk, token = gated_desk(ledger, actors, credit)
    receipt = credit.submit_proof(actors.lender, actors.supplier.address,
                                  prove_for(zk_worker, report, day, actors.lender.address, nonce))
    (granted,) = credit.gate.events.PassGranted().process_receipt(receipt)
    offer = Offer(lender=actors.lender.address, token_id=token, value=100 * ONE, rate_bps=800,
                  expiry=now(ledger.chain) + DAY, nonce=1)
    financed = desk.take_offer(actors.supplier, offer, token, desk.sign(actors.lender, offer))
    other = make_report(actors.supplier2.address, day)
    credit.register(zk_actors.bureau2, other.root, actors.supplier2.address, other.document_hash(),
                    now(ledger.chain) + 30 * DAY)
    credit.revoke(zk_actors.bureau2, other.root)

    indexer = Indexer(ledger.chain.rpc_url, f"sqlite:///{tmp_path / 'mirror.db'}", ledger.deployment,
                      confirmations=0)
    indexer.sync()
    rows = iter_rows(indexer.engine, (CreditReport, CreditPolicy, CreditPass))
    indexer.close()
    reports = {r["root"]: r for r in rows["credit_report"]}
    assert set(reports) == {report.root, other.root}
    assert (reports[report.root]["subject"], reports[report.root]["bureau"], reports[report.root]["revoked"]) == (
        actors.supplier.address, zk_actors.bureau.address, False)
    assert (reports[other.root]["bureau"], reports[other.root]["revoked"]) == (zk_actors.bureau2.address, True)
    assert reports[report.root]["document_hash"] == "0x" + report.document_hash().hex()
    assert [(r["lender"], r["policy_hash"]) for r in rows["credit_policy"]] == [(actors.lender.address, POLICY.hash)]
    (used,) = rows["credit_pass"]
    assert (used["lender"], used["holder"], used["root"], used["nonce"], used["valid_until"]) == (
        actors.lender.address, actors.supplier.address, report.root, nonce, granted["args"]["validUntil"])
    assert (used["consumed_token_id"], used["consumed_value"]) == (financed.event("Financed")["tokenId"], 100 * ONE)
