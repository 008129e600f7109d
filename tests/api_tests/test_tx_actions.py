"""/tx/build's member actions beyond token moves: invoice registration (fingerprinted by the service, a
duplicate refused from the mirror or the chain), issuing a payable, the settlement asset's approval (relayed
to the asset), deposit and redemption, a pledge taken from the book and repaid."""

from __future__ import annotations

import hashlib
from datetime import date

from conftest import CONSORTIUM_KEY, DAY, ONE, confirmed_invoices, funded_desk, issue_claim, now, warp
from fastapi.testclient import TestClient

from api.main import create_app
from api_tests.conftest import sign_in
from api_tests.test_offers import _send, _sync
from ledger.financing import BPS_YEAR, Kind, Offer
from ledger.fingerprint import InvoiceFields, fingerprint

DOCUMENT = hashlib.sha256(b"invoice INV-7 as a PDF").digest()


def _invoice(actors, **changes) -> dict:
    body = {"action": "register_invoice", "buyer": actors.core.address, "number": "INV-7", "amount": 250 * ONE,
            "currency": "CNY", "issue_date": "2026-11-02", "document_hash": "0x" + DOCUMENT.hex()}
    body.update(changes)
    return body


def test_register_invoice_fingerprinted_by_the_service_and_duplicates_refused(client, ledger, actors, settings):
    headers = sign_in(client, actors.supplier)
    _sync(client, settings, ledger)
    sent = _send(client, headers, actors.supplier, **_invoice(actors))
    expected = fingerprint(InvoiceFields(actors.supplier.address, actors.core.address, "INV-7", 250 * ONE, "CNY",
                                         date(2026, 11, 2)), CONSORTIUM_KEY).full
    registered = next(e for e in sent["events"] if e["name"] == "InvoiceRegistered")
    assert registered["args"]["fingerprint"] == "0x" + expected.hex()
    record = ledger.invoice(expected)
    assert (record.seller, record.amount, record.document_hash) == (actors.supplier.address, 250 * ONE, DOCUMENT)

    # the same invoice, written differently: the chain has it, the mirror not yet
    again = client.post("/tx/build", json=_invoice(actors, number="inv 7", currency="cny"), headers=headers)
    assert (again.status_code, again.json()["error"]) == (409, "InvoiceAlreadyRegistered")
    assert again.json()["details"]["fingerprint"] == "0x" + expected.hex()
    assert again.json()["details"]["seller"] == actors.supplier.address
    _sync(client, settings, ledger)
    mirrored = client.post("/tx/build", json=_invoice(actors), headers=headers)
    assert (mirrored.status_code, mirrored.json()["error"]) == (409, "InvoiceAlreadyRegistered")
    details = mirrored.json()["details"]
    assert (details["invoiceStatus"], details["documentHash"], details["registeredAt"]) == (
        1, "0x" + DOCUMENT.hex(), record.registered_at)

    bad = client.post("/tx/build", json=_invoice(actors, currency="C1Y"), headers=headers)
    assert (bad.status_code, bad.json()["error"]) == (422, "InvalidRequest")
    foreign = client.post("/tx/build", json=_invoice(actors, number="INV-8", seller=actors.supplier2.address),
                          headers=headers)  # supplier2 did not name the supplier its delegate
    assert (foreign.status_code, foreign.json()["error"]) == (403, "InvoiceUnauthorizedSeller"), foreign.json()
    assert foreign.json()["details"] == {"caller": actors.supplier.address, "seller": actors.supplier2.address}


def test_register_invoice_without_a_consortium_key_is_a_503(ledger, actors, settings):
    keyless = TestClient(create_app(settings.__class__(**{**settings.__dict__, "consortium_key": None}),
                                    ledger=ledger))
    response = keyless.post("/tx/build", json=_invoice(actors), headers=sign_in(keyless, actors.supplier))
    assert (response.status_code, response.json()["error"]) == (503, "ConsortiumKeyMissing")
    assert "SCF_CONSORTIUM_KEY" in response.json()["message"]


def test_issue_deposit_and_redeem_through_the_relay(client, ledger, actors):
    core = sign_in(client, actors.core)
    prints = confirmed_invoices(ledger, actors, [500 * ONE])
    maturity = now(ledger.chain) + 30 * DAY
    sent = _send(client, core, actors.core, action="issue_payable", holder=actors.supplier.address,
                 face_value=500 * ONE, maturity=maturity, invoices=["0x" + p.hex() for p in prints])
    issued = next(e for e in sent["events"] if e["name"] == "SlotIssued")["args"]
    slot, token = issued["slot"], issued["tokenId"]
    assert ledger.payable(slot).face_value == 500 * ONE and ledger.holding(token).owner == actors.supplier.address
    ledger.as_member(actors.supplier).accept(token)

    ledger.execute(actors.core, ledger.asset.functions.mint(actors.core.address, 500 * ONE))
    vault = ledger.address("SettlementVault")
    short = client.post("/tx/build", json={"action": "deposit", "slot": slot, "amount": 500 * ONE}, headers=core)
    assert short.status_code == 409, short.json()  # no allowance yet: the asset refuses the vault's pull
    approved = _send(client, core, actors.core, action="approve_asset", spender="SettlementVault", amount=500 * ONE)
    assert approved["block_number"] > 0
    assert ledger.asset.functions.allowance(actors.core.address, vault).call() == 500 * ONE
    deposited = _send(client, core, actors.core, action="deposit", slot=slot, amount=500 * ONE)
    event = next(e for e in deposited["events"] if e["name"] == "Deposited")["args"]
    assert (event["slot"], event["amount"], event["cumulativePaid"]) == (slot, 500 * ONE, 500 * ONE)

    warp(ledger.chain, 31 * DAY)
    before = ledger.asset_balance(actors.supplier.address)
    redeemed = _send(client, sign_in(client, actors.supplier), actors.supplier, action="redeem", token_id=token)
    assert next(e for e in redeemed["events"] if e["name"] == "Redeemed")["args"]["paid"] == 500 * ONE
    assert ledger.asset_balance(actors.supplier.address) == before + 500 * ONE
    wrong = client.post("/tx/build", json={"action": "approve_asset", "spender": "0x" + "12" * 20, "amount": 1},
                        headers=core)
    assert (wrong.status_code, wrong.json()["error"]) == (422, "InvalidRequest")


def test_a_pledge_taken_from_the_book_and_repaid(client, ledger, actors, settings):
    _, token = issue_claim(ledger, actors, 1000 * ONE, maturity_in=60 * DAY)
    desk = funded_desk(ledger, actors.lender, amount=10**6 * ONE)
    _sync(client, settings, ledger)
    offer = Offer(lender=actors.lender.address, token_id=token, value=500 * ONE, kind=Kind.PLEDGE,
                  fixed_price=300 * ONE, rate_bps=800, expiry=now(ledger.chain) + DAY, nonce=11)
    lender, supplier = sign_in(client, actors.lender), sign_in(client, actors.supplier)
    body = {"token_id": token, "value": offer.value, "kind": 1, "fixed_price": offer.fixed_price, "rate_bps": 800,
            "expiry": offer.expiry, "nonce": 11, "signature": "0x" + desk.sign(actors.lender, offer).hex()}
    posted = client.post("/offers", json=body, headers=lender).json()
    assert (posted["price"], posted["net"]) == (str(300 * ONE), str(300 * ONE))
    taken = _send(client, supplier, actors.supplier, action="take_offer", offer_id=posted["id"])
    loan_id = next(e for e in taken["events"] if e["name"] == "Financed")["args"]["financingId"]
    assert ledger.holding(token).encumbered == 500 * ONE

    ledger.execute(actors.supplier, ledger.asset.functions.mint(actors.supplier.address, 10 * ONE))
    _send(client, supplier, actors.supplier, action="approve_asset", spender="FinancingDesk", amount=400 * ONE)
    repaid = _send(client, supplier, actors.supplier, action="repay", loan_id=loan_id)
    event = next(e for e in repaid["events"] if e["name"] == "LoanRepaid")["args"]
    elapsed = (ledger.chain.w3.eth.get_block(repaid["block_number"])["timestamp"]
               - ledger.chain.w3.eth.get_block(taken["block_number"])["timestamp"])
    assert (event["loanId"], event["principal"], event["interest"]) == (
        loan_id, 300 * ONE, 300 * ONE * 800 * elapsed // BPS_YEAR)
    assert ledger.holding(token).encumbered == 0
    again = client.post("/tx/build", json={"action": "repay", "loan_id": loan_id}, headers=supplier)
    assert (again.status_code, again.json()["error"]) == (409, "FinancingInvalidLoanStatus")
