"""A supply-chain flow driven on anvil through ``ledger`` and indexed by the indexer library, scored and
screened by ``risk`` (import the fixtures: a conftest.py here would shadow tests/conftest.py).

The flow: the core enterprise issues a 1,000 payable to the supplier, who accepts it; the supplier splits
300 to supplier2; the lender discounts 400 of the supplier's token through the deployment's FinancingDesk;
value then hops supplier2 -> supplier3 -> supplier -> supplier2 within minutes (a split chain the fraud
rule flags); the core deposits the face value, the payable matures, and supplier2 and the lender redeem;
the auditor anchors a batch of four documents on the EvidenceLedger. A scorecard fitted on a simulated
economy scores the mirror's firms.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd
import pytest
from conftest import DAY, ONE, funded_desk, issue_claim, now, warp

from indexer import Indexer
from ledger import evidence
from ledger import settlement as sv
from ledger.financing import Offer, discount_price
from ledger.merkle import StandardMerkleTree
from risk import data, detect, score
from risk.models import upgrade as upgrade_risk_tables
from risk.simulate import simulate, write_bulk

FACE = 1000 * ONE


@dataclass
class Flow:
    slot: int
    token: int  # the supplier's token (issued to it)
    t2: int  # split to supplier2, redeemed
    lender_token: int  # the discounted part, redeemed by the lender
    hops: list[int]  # the split chain's tokens: supplier3's, the supplier's, supplier2's
    financing_id: int
    price: int
    fee: int
    deposit: int
    paid: dict[int, int]  # token -> redeemed amount
    tree: StandardMerkleTree
    batch_id: int
    scored: score.Scored


@pytest.fixture(scope="module")
def scorecard(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A scorecard fitted on a small simulated economy (as the risk job would, before scoring the chain)."""
    from indexer.db import make_engine

    economy = simulate(5, 300)
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('scorecard')}/sim.db")
    write_bulk(economy, engine)
    x = score.features(data.load(engine))
    return score.fit(x, pd.Series([economy.truth.default.get(a, 0) for a in x.index], index=x.index))


@pytest.fixture
def flow(client, ledger, actors, settings, scorecard) -> Flow:
    a = actors
    slot, token = issue_claim(ledger, a, FACE, maturity_in=60 * DAY)
    t2, _ = ledger.as_member(a.supplier).split(token, a.supplier2.address, 300 * ONE)

    desk = funded_desk(ledger, a.lender, amount=10_000 * ONE)
    ledger.as_member(a.supplier).set_approval_for_all(desk.contract.address, True)
    offer = Offer(lender=a.lender.address, token_id=token, value=400 * ONE, rate_bps=1000, fee=ONE,
                  expiry=now(ledger.chain) + DAY, nonce=1)
    financed = desk.take_offer(a.supplier, offer, token, desk.sign(a.lender, offer))
    event = financed.event("Financed")
    remaining = ledger.payable(slot).maturity - int(ledger.chain.w3.eth.get_block(financed.block_number)["timestamp"])

    hop3, _ = ledger.as_member(a.supplier2).split(t2, a.supplier3.address, 50 * ONE)
    hop4, _ = ledger.as_member(a.supplier3).split(hop3, a.supplier.address, 20 * ONE)
    hop5, _ = ledger.as_member(a.supplier).split(hop4, a.supplier2.address, 5 * ONE)

    vault = ledger.address("SettlementVault")
    ledger.execute(a.core, ledger.asset.functions.mint(a.core.address, FACE))
    sv.deposit(ledger, vault, a.core, slot, FACE)
    warp(ledger.chain, ledger.payable(slot).maturity - now(ledger.chain) + 1)
    paid = {t: sv.redeem(ledger, vault, a.outsider, t)[0] for t in (t2, event["lenderTokenId"])}

    leaves = [evidence.draft_leaf(os.urandom(64), "invoice", a.auditor.address, [a.supplier.address, a.core.address],
                                  submitted_at=now(ledger.chain)) for _ in range(4)]
    tree = evidence.evidence_tree(leaves)
    batch_id, _ = evidence.anchor_batch(ledger, ledger.address(evidence.EVIDENCE_LEDGER), a.auditor, tree,
                                        "ipfs://batch-1")

    engine = client.app.state.engine
    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0, engine=engine).sync()
    upgrade_risk_tables(engine)  # as the risk jobs do before they read the mirror
    mirror = data.load(engine)
    detect.store_alerts(engine, detect.run_rules(mirror))
    scored = score.score_firms(scorecard, mirror, alerts=score.active_alerts(engine))
    score.store_scores(engine, scorecard, scored, mirror.as_of_block)
    return Flow(slot=slot, token=token, t2=t2, lender_token=event["lenderTokenId"], hops=[hop3, hop4, hop5],
                financing_id=event["financingId"], price=discount_price(400 * ONE, 1000, remaining), fee=ONE,
                deposit=FACE, paid=paid, tree=tree, batch_id=batch_id, scored=scored)
