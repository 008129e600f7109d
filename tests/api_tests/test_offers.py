"""The offer book: lenders post signed offers, holders see them with the price now and take them through
/tx/build; every refusal (a forged signature, another firm's offer, an expired, taken or withdrawn offer)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from conftest import DAY, ONE, funded_desk, issue_claim, now, warp

from api_tests.conftest import sign_in
from indexer import Indexer
from ledger.financing import FinancingDesk, Offer, discount_price
from ledger.roles import Role


def _sync(client, settings, ledger) -> None:
    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0,
            engine=client.app.state.engine).sync()


def _send(client, headers, account, **action) -> dict:
    """Build ``action`` for ``account``, sign it locally, relay it; returns /tx/send's body."""
    built = client.post("/tx/build", json=action, headers=headers)
    assert built.status_code == 200, built.json()
    tx = {k: v for k, v in built.json()["transaction"].items() if k != "from"}
    raw = account.sign_transaction(tx).raw_transaction.to_0x_hex()
    sent = client.post("/tx/send", json={"raw_transaction": raw}, headers=headers)
    assert sent.status_code == 200, sent.json()
    return sent.json()


@pytest.fixture
def book(client, ledger, actors, settings):
    """A 1,000 claim of the supplier in the mirror, a funded lender that approved the desk, and signing."""
    slot, token = issue_claim(ledger, actors, 1000 * ONE, maturity_in=73 * DAY)
    desk = funded_desk(ledger, actors.lender, amount=10**6 * ONE)
    _sync(client, settings, ledger)
    base = Offer(lender=actors.lender.address, token_id=token, value=400 * ONE, rate_bps=1000, fee=ONE,
                 expiry=now(ledger.chain) + DAY, nonce=1)
    return {"slot": slot, "token": token, "desk": desk, "base": base, "lender": sign_in(client, actors.lender),
            "supplier": sign_in(client, actors.supplier)}


def _body(desk: FinancingDesk, account, offer: Offer, **overrides) -> dict:
    body = {"token_id": offer.token_id, "value": offer.value, "rate_bps": offer.rate_bps, "fee": offer.fee,
            "expiry": offer.expiry, "nonce": offer.nonce, "kind": int(offer.kind), "fixed_price": offer.fixed_price,
            "signature": "0x" + desk.sign(account, offer).hex()}
    body.update(overrides)
    return body


def test_a_lender_posts_the_holder_sees_the_price_and_takes_it(client, ledger, actors, settings, book):
    offer, desk = book["base"], book["desk"]
    posted = client.post("/offers", json=_body(desk, actors.lender, offer), headers=book["lender"])
    assert posted.status_code == 201, posted.json()
    maturity = ledger.payable(book["slot"]).maturity
    price = discount_price(400 * ONE, 1000, maturity - now(ledger.chain))
    assert posted.json()["status"] == "open" and posted.json()["price"] == str(price)
    offer_id = posted.json()["id"]

    seen = client.get("/offers", headers=book["supplier"]).json()
    assert seen["total"] == 1
    item = seen["items"][0]
    assert (item["id"], item["token_id"], item["slot"], item["value"], item["status"]) == (
        offer_id, book["token"], book["slot"], str(400 * ONE), "open")
    assert item["price"] == str(price) and item["net"] == str(price - ONE)
    assert client.get("/offers", headers=sign_in(client, actors.supplier2)).json()["total"] == 0  # not its token
    assert [o["id"] for o in client.get("/offers", headers=book["lender"]).json()["items"]] == [offer_id]
    assert client.get("/offers", headers=sign_in(client, actors.regulator)).json()["total"] == 1

    stranger = client.post("/tx/build", json={"action": "take_offer", "offer_id": offer_id},
                           headers=sign_in(client, actors.supplier2))
    assert (stranger.status_code, stranger.json()["error"]) == (403, "NotYourOffer")
    assert stranger.json()["details"] == {"offer_id": offer_id, "token_id": book["token"]}
    unknown = client.post("/tx/build", json={"action": "take_offer", "offer_id": 999}, headers=book["supplier"])
    assert (unknown.status_code, unknown.json()["error"]) == (404, "UnknownOffer")

    balance = ledger.asset_balance(actors.supplier.address)
    _send(client, book["supplier"], actors.supplier, action="approve_value", token_id=book["token"],
          operator=desk.contract.address, value=400 * ONE)
    sent = _send(client, book["supplier"], actors.supplier, action="take_offer", offer_id=offer_id)
    financed = next(e for e in sent["events"] if e["name"] == "Financed")
    taken_price = financed["args"]["terms"]["price"]
    assert financed["args"]["lender"] == actors.lender.address and financed["args"]["tokenId"] == book["token"]
    assert ledger.asset_balance(actors.supplier.address) == balance + taken_price - ONE
    assert ledger.holding(book["token"]).value == 600 * ONE

    _sync(client, settings, ledger)
    after = client.get("/offers", params={"status": "taken"}, headers=book["supplier"]).json()["items"]
    assert [(o["id"], o["status"], o["financing_id"], o["price"]) for o in after] == [
        (offer_id, "taken", financed["args"]["financingId"], None)]
    again = client.post("/tx/build", json={"action": "take_offer", "offer_id": offer_id}, headers=book["supplier"])
    assert again.status_code == 409 and again.json()["error"] == "OfferTaken", again.json()
    assert client.get("/offers", params={"status": "open"}, headers=book["supplier"]).json()["total"] == 0


def test_posting_refusals(client, ledger, actors, settings, book):
    offer, desk, headers = book["base"], book["desk"], book["lender"]
    cases = [
        ("forged: signed by another key", _body(desk, actors.supplier2, offer), 422, "OfferSignatureInvalid"),
        ("tampered terms", _body(desk, actors.lender, offer, value=900 * ONE), 422, "OfferSignatureInvalid"),
        ("garbage signature", _body(desk, actors.lender, offer, signature="0x" + "11" * 65), 422,
         "OfferSignatureInvalid"),
        ("unknown token", _body(desk, actors.lender, replace(offer, token_id=999_999)), 404, "UnknownToken"),
        ("expired", _body(desk, actors.lender, replace(offer, expiry=now(ledger.chain) - 1)), 422, "OfferExpired"),
        ("pledge without principal", _body(desk, actors.lender, replace(offer, kind=1)), 422,
         "OfferWithoutPrincipal"),
    ]
    for label, body, status, error in cases:
        response = client.post("/offers", json=body, headers=headers)
        assert (response.status_code, response.json()["error"]) == (status, error), (label, response.json())
        assert response.json()["message"], label
    supplier = client.post("/offers", json=_body(desk, actors.supplier, replace(offer, lender=actors.supplier.address)),
                           headers=book["supplier"])
    assert (supplier.status_code, supplier.json()["error"]) == (403, "RoleRequired")

    assert client.post("/offers", json=_body(desk, actors.lender, offer), headers=headers).status_code == 201
    twice = client.post("/offers", json=_body(desk, actors.lender, replace(offer, value=ONE)), headers=headers)
    assert (twice.status_code, twice.json()["error"]) == (409, "OfferNonceUsed")
    desk.cancel_nonce(actors.lender, 7)
    used = client.post("/offers", json=_body(desk, actors.lender, replace(offer, nonce=7)), headers=headers)
    assert (used.status_code, used.json()["error"]) == (409, "OfferNonceUsed")

    own_token, _ = ledger.as_member(actors.supplier).split(book["token"], actors.lender.address, 100 * ONE)
    _sync(client, settings, ledger)
    own = client.post("/offers", json=_body(desk, actors.lender, replace(offer, token_id=own_token, nonce=8)),
                      headers=headers)
    assert (own.status_code, own.json()["error"]) == (422, "OwnToken")
    assert client.get("/offers", headers=headers).json()["total"] == 1  # nothing refused was stored


def test_expired_withdrawn_and_cancelled_offers(client, ledger, actors, settings, book):
    offer, desk, lender, supplier = book["base"], book["desk"], book["lender"], book["supplier"]
    ids = []
    soon = now(ledger.chain) + 3600
    for nonce, expiry in ((1, soon), (2, now(ledger.chain) + DAY), (3, now(ledger.chain) + DAY)):
        body = _body(desk, actors.lender, replace(offer, nonce=nonce, expiry=expiry))
        ids.append(client.post("/offers", json=body, headers=lender).json()["id"])
    short, withdrawn, cancelled = ids

    other = ledger.as_registrar(actors.registrar)
    other.admit(actors.outsider.address, "other-bank", [Role.LENDER], int(time.time()) + 365 * DAY)
    foreign = client.delete(f"/offers/{withdrawn}", headers=sign_in(client, actors.outsider))
    assert (foreign.status_code, foreign.json()["error"]) == (403, "OtherFirmsOffer")
    assert client.get("/offers", headers=sign_in(client, actors.outsider)).json()["total"] == 0
    missing = client.delete("/offers/9999", headers=lender)
    assert (missing.status_code, missing.json()["error"]) == (404, "UnknownOffer")

    gone = client.delete(f"/offers/{withdrawn}", params={"cancel_nonce": "true"}, headers=lender)
    assert gone.status_code == 200, gone.json()
    assert gone.json()["offer"]["status"] == "withdrawn"
    cancel_tx = gone.json()["cancel_transaction"]
    assert cancel_tx["to"] == desk.contract.address and cancel_tx["from"] == actors.lender.address
    refused = client.post("/tx/build", json={"action": "take_offer", "offer_id": withdrawn}, headers=supplier)
    assert (refused.status_code, refused.json()["error"]) == (409, "OfferWithdrawn")
    assert client.delete(f"/offers/{withdrawn}", headers=lender).json()["error"] == "OfferWithdrawn"

    _send(client, lender, actors.lender, action="cancel_offer_nonce", nonce=3)
    assert ledger.chain.call(desk.contract.functions.isNonceUsed(actors.lender.address, 3)) is True
    _sync(client, settings, ledger)
    warp(ledger.chain, 2 * 3600)
    statuses = {o["id"]: o["status"] for o in client.get("/offers", headers=supplier).json()["items"]}
    assert statuses == {short: "expired", withdrawn: "withdrawn", cancelled: "cancelled"}
    expired = client.post("/tx/build", json={"action": "take_offer", "offer_id": short}, headers=supplier)
    assert (expired.status_code, expired.json()["error"]) == (409, "OfferExpired")
    assert expired.json()["details"] == {"offer_id": short, "expiry": soon, "financing_id": None}
    listed = client.get("/offers", params={"status": "cancelled", "token_id": book["token"]}, headers=supplier).json()
    assert [o["id"] for o in listed["items"]] == [cancelled]
    assert client.get("/offers", params={"status": "nonsense"}, headers=supplier).status_code == 422


def test_a_contract_wallet_lender_posts_with_erc1271(client, ledger, actors, settings, book):
    wallet, _ = ledger.chain.deploy(actors.admin, "ERC1271Wallet", actors.supplier3.address)
    ledger.as_registrar(actors.registrar).admit(wallet.address, "wallet-bank", [Role.LENDER], now(ledger.chain) + DAY)
    headers = sign_in(client, actors.supplier3, address=wallet.address)
    offer = replace(book["base"], lender=wallet.address)
    posted = client.post("/offers", json=_body(book["desk"], actors.supplier3, offer), headers=headers)
    assert posted.status_code == 201, posted.json()
    assert (posted.json()["lender"], posted.json()["status"]) == (wallet.address, "open")
    forged = client.post("/offers", json=_body(book["desk"], actors.supplier2, replace(offer, nonce=2)),
                         headers=headers)
    assert (forged.status_code, forged.json()["error"]) == (422, "OfferSignatureInvalid")
