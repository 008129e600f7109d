"""FinancingDesk behaviour: signed offers and requests, DvP discounting, pledges and loans,
bank-attested settlement, lender policies; each refusal with its exact custom error."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import DAY, ONE, expect_revert, issue_claim, now, warp
from eth_account.messages import encode_typed_data

from ledger.financing import OFFER_TYPES, FinancingDesk, Kind, Offer, Settlement, discount_price
from ledger.roles import Role
from ledger.settlement import deposit, mark_defaulted, redeem

BANK_REF = bytes.fromhex("ab" * 32)


@pytest.fixture
def desk(ledger, actors) -> FinancingDesk:
    contract, _ = ledger.chain.deploy(actors.admin, "FinancingDesk", ledger.participants.address,
                                      ledger.receivables.address, ledger.address("SettlementVault"))
    ledger.as_admin(actors.admin).grant(Role.SYSTEM, contract.address)
    client = FinancingDesk(ledger, contract.address)
    ledger.execute(actors.lender, ledger.asset.functions.mint(actors.lender.address, 10**6 * ONE))
    ledger.execute(actors.lender, ledger.asset.functions.approve(contract.address, 2**256 - 1))
    return client


@pytest.fixture
def claim(ledger, actors, desk) -> tuple[int, int]:
    slot, token = issue_claim(ledger, actors, 1000 * ONE, maturity_in=73 * DAY)
    ledger.as_member(actors.supplier).set_approval_for_all(desk.contract.address, True)
    return slot, token


def offer_for(ledger, actors, token: int, **changes) -> Offer:
    base = Offer(lender=actors.lender.address, token_id=token, value=400 * ONE, rate_bps=1000, fee=1 * ONE,
                 expiry=now(ledger.chain) + DAY, nonce=1)
    return replace(base, **changes)


def test_discount_is_delivery_versus_payment(ledger, actors, desk, claim):
    slot, token = claim
    offer = offer_for(ledger, actors, token)
    signature = desk.sign(actors.lender, offer)
    cash_before = ledger.asset_balance(actors.supplier.address)
    result = desk.take_offer(actors.supplier, offer, token, signature)
    remaining = ledger.payable(slot).maturity - int(ledger.chain.w3.eth.get_block(result.block_number)["timestamp"])
    price = discount_price(400 * ONE, 1000, remaining)
    assert 400 * ONE - price == 400 * ONE * 1000 * remaining // (10_000 * 365 * DAY)
    financed = result.event("Financed")
    lender_token = financed["lenderTokenId"]
    assert financed.args == {
        "financingId": 1, "lender": actors.lender.address, "holder": actors.supplier.address, "tokenId": token,
        "lenderTokenId": lender_token,
        "terms": {"value": 400 * ONE, "price": price, "fee": 1 * ONE, "kind": Kind.DISCOUNT,
                  "settlement": Settlement.TOKEN, "recourse": False, "bankReference": "0x" + "00" * 32},
    }
    assert ledger.asset_balance(actors.supplier.address) - cash_before == price - 1 * ONE
    assert ledger.holding(lender_token).owner == actors.lender.address
    assert ledger.holding(lender_token).value == 400 * ONE
    assert ledger.holding(token).value == 600 * ONE


def test_offer_cannot_be_taken_twice(ledger, actors, desk, claim):
    _, token = claim
    offer = offer_for(ledger, actors, token, value=100 * ONE)
    signature = desk.sign(actors.lender, offer)
    desk.take_offer(actors.supplier, offer, token, signature)
    with expect_revert("FinancingNonceUsed", signer=actors.lender.address, nonce=1):
        desk.take_offer(actors.supplier, offer, token, signature)


def test_offer_expires(ledger, actors, desk, claim):
    _, token = claim
    offer = offer_for(ledger, actors, token)
    signature = desk.sign(actors.lender, offer)
    warp(ledger.chain, 2 * DAY)
    with expect_revert("FinancingOfferExpired", expiry=offer.expiry):
        desk.take_offer(actors.supplier, offer, token, signature)


def test_offer_signed_by_someone_else_or_altered_is_refused(ledger, actors, desk, claim):
    _, token = claim
    offer = offer_for(ledger, actors, token)
    forged = desk.sign(actors.supplier2, offer)
    with expect_revert("FinancingInvalidSignature", signer=actors.lender.address):
        desk.take_offer(actors.supplier, offer, token, forged)
    signature = desk.sign(actors.lender, offer)
    with expect_revert("FinancingInvalidSignature", signer=actors.lender.address):
        desk.take_offer(actors.supplier, replace(offer, rate_bps=1), token, signature)


def test_offer_for_another_holder_or_token(ledger, actors, desk, claim):
    slot, token = claim
    offer = offer_for(ledger, actors, token, holder=actors.supplier2.address)
    with expect_revert("FinancingUnauthorizedCaller", caller=actors.supplier.address):
        desk.take_offer(actors.supplier, offer, token, desk.sign(actors.lender, offer))
    other_slot, other = issue_claim(ledger, actors, 10 * ONE)
    offer = offer_for(ledger, actors, 0, slot=slot, nonce=2)
    with expect_revert("FinancingTokenMismatch", tokenId=other):
        desk.take_offer(actors.supplier, offer, other, desk.sign(actors.lender, offer))
    assert other_slot != slot


def test_offer_above_the_free_value_is_refused(ledger, actors, desk, claim):
    _, token = claim
    offer = offer_for(ledger, actors, token, value=1001 * ONE)
    with expect_revert("ReceivableInvalidValue", tokenId=token, balance=1000 * ONE, value=1001 * ONE):
        desk.take_offer(actors.supplier, offer, token, desk.sign(actors.lender, offer))


def test_dvp_is_atomic_when_payment_fails(ledger, actors, desk, claim):
    _, token = claim
    ledger.execute(actors.lender, ledger.asset.functions.approve(desk.contract.address, 0))
    offer = offer_for(ledger, actors, token)
    with expect_revert("ERC20InsufficientAllowance"):
        desk.take_offer(actors.supplier, offer, token, desk.sign(actors.lender, offer))
    assert ledger.holding(token).value == 1000 * ONE
    assert not desk.contract.functions.isNonceUsed(actors.lender.address, 1).call()


def test_no_double_financing_of_pledged_value(ledger, actors, desk, claim):
    _, token = claim
    pledge = offer_for(ledger, actors, token, value=1000 * ONE, kind=Kind.PLEDGE, fixed_price=800 * ONE)
    desk.take_offer(actors.supplier, pledge, token, desk.sign(actors.lender, pledge))
    discount = offer_for(ledger, actors, token, value=1 * ONE, fee=0, nonce=2)
    with expect_revert("ReceivableValueLocked", tokenId=token, available=0, value=1 * ONE):
        desk.take_offer(actors.supplier, discount, token, desk.sign(actors.lender, discount))
    with expect_revert("ReceivableValueLocked", tokenId=token, available=0, value=1 * ONE):
        ledger.as_member(actors.supplier).split(token, actors.supplier2.address, 1 * ONE)


def test_pledge_repaid_with_interest_releases_value(ledger, actors, desk, claim):
    _, token = claim
    pledge = offer_for(ledger, actors, token, value=500 * ONE, kind=Kind.PLEDGE, fixed_price=400 * ONE,
                       rate_bps=730, penalty_bps=1000, fee=0)
    result = desk.take_offer(actors.supplier, pledge, token, desk.sign(actors.lender, pledge))
    loan_id = result.event("Financed")["financingId"]
    assert ledger.holding(token).encumbered == 500 * ONE
    warp(ledger.chain, 10 * DAY)
    ledger.execute(actors.supplier, ledger.asset.functions.approve(desk.contract.address, 2**256 - 1))
    ledger.execute(actors.supplier, ledger.asset.functions.mint(actors.supplier.address, 10 * ONE))  # the interest
    lender_before = ledger.asset_balance(actors.lender.address)
    repaid = desk.repay(actors.supplier, loan_id)
    event = repaid.event("LoanRepaid")
    elapsed = int(ledger.chain.w3.eth.get_block(repaid.block_number)["timestamp"]) - desk.loan(loan_id)["start"]
    assert event["interest"] == 400 * ONE * 730 * elapsed // (10_000 * 365 * DAY)
    assert ledger.asset_balance(actors.lender.address) - lender_before == 400 * ONE + event["interest"]
    assert ledger.holding(token).encumbered == 0
    with expect_revert("FinancingInvalidLoanStatus", loanId=loan_id, status=2):
        desk.repay(actors.supplier, loan_id)


def test_unpaid_pledge_is_seized_after_maturity_only(ledger, actors, desk, claim):
    slot, token = claim
    pledge = offer_for(ledger, actors, token, value=300 * ONE, kind=Kind.PLEDGE, fixed_price=250 * ONE)
    loan_id = desk.take_offer(actors.supplier, pledge, token, desk.sign(actors.lender, pledge)).event(
        "Financed")["financingId"]
    maturity = ledger.payable(slot).maturity
    with expect_revert("FinancingNotDue", loanId=loan_id, maturity=maturity):
        desk.seize(actors.lender, loan_id)
    with expect_revert("FinancingUnauthorizedCaller", caller=actors.supplier2.address):
        desk.seize(actors.supplier2, loan_id)
    warp(ledger.chain, maturity - now(ledger.chain) + DAY)
    result = desk.seize(actors.lender, loan_id)
    seized = result.event("LoanSeized")
    assert ledger.holding(seized["lenderTokenId"]).owner == actors.lender.address
    assert ledger.holding(seized["lenderTokenId"]).value == 300 * ONE
    assert ledger.holding(token).value == 700 * ONE
    assert ledger.holding(token).encumbered == 0


def test_bank_attested_discount_needs_holder_consent(ledger, actors, desk, claim):
    _, token = claim
    request = offer_for(ledger, actors, token, holder=actors.supplier.address, settlement=Settlement.BANK_ATTESTED,
                        fixed_price=390 * ONE, fee=0)
    consent = desk.sign(actors.supplier, request)
    cash_before = ledger.asset_balance(actors.supplier.address)
    with expect_revert("FinancingInvalidTerms", reason="0x" + b"bankReference".ljust(32, b"\0").hex()):
        desk.execute_request(actors.lender, request, token, consent)
    with expect_revert("FinancingUnauthorizedCaller", caller=actors.supplier2.address):
        desk.execute_request(actors.supplier2, request, token, consent, BANK_REF)
    result = desk.execute_request(actors.lender, request, token, consent, BANK_REF)
    terms = result.event("Financed")["terms"]
    assert terms == {"value": 400 * ONE, "price": 390 * ONE, "fee": 0, "kind": Kind.DISCOUNT,
                     "settlement": Settlement.BANK_ATTESTED, "recourse": False, "bankReference": "0x" + BANK_REF.hex()}
    assert ledger.asset_balance(actors.supplier.address) == cash_before
    assert ledger.holding(result.event("Financed")["lenderTokenId"]).owner == actors.lender.address
    forged = desk.sign(actors.supplier2, replace(request, nonce=9))
    with expect_revert("FinancingInvalidSignature", signer=actors.supplier.address):
        desk.execute_request(actors.lender, replace(request, nonce=9), token, forged, BANK_REF)


def test_lender_policy_can_refuse(ledger, actors, desk, claim):
    _, token = claim
    policy, _ = ledger.chain.deploy(actors.admin, "AllowListPolicy", 500 * ONE)
    desk.set_policy(actors.lender, policy.address)
    offer = offer_for(ledger, actors, token)
    with expect_revert("FinancingPolicyRejected", policy=policy.address):
        desk.take_offer(actors.supplier, offer, token, desk.sign(actors.lender, offer))
    ledger.execute(actors.admin, policy.functions.setAllowed(actors.supplier.address, True))
    desk.take_offer(actors.supplier, offer, token, desk.sign(actors.lender, offer))
    assert policy.functions.checks().call() == 1
    with expect_revert("FinancingUnauthorizedAccount", account=actors.supplier.address,
                       role="0x" + Role.LENDER.id.hex()):
        desk.set_policy(actors.supplier, policy.address)


def test_erc1271_lender_wallet(ledger, actors, desk, claim):
    _, token = claim
    wallet, _ = ledger.chain.deploy(actors.admin, "ERC1271Wallet", actors.auditor.address)
    ledger.as_registrar(actors.registrar).admit(wallet.address, "bank-wallet", [Role.LENDER],
                                                now(ledger.chain) + 365 * DAY)
    ledger.execute(actors.admin, ledger.asset.functions.mint(wallet.address, 1000 * ONE))
    approve = ledger.asset.functions.approve(desk.contract.address, 2**256 - 1)._encode_transaction_data()
    ledger.execute(actors.auditor, wallet.functions.execute(ledger.asset.address, approve))
    offer = offer_for(ledger, actors, token, lender=wallet.address)
    signature = desk.sign(actors.auditor, offer)  # the wallet's owner key signs for it
    result = desk.take_offer(actors.supplier, offer, token, signature)
    assert ledger.holding(result.event("Financed")["lenderTokenId"]).owner == wallet.address


def test_cancelled_nonce_blocks_offer(ledger, actors, desk, claim):
    _, token = claim
    offer = offer_for(ledger, actors, token)
    signature = desk.sign(actors.lender, offer)
    desk.cancel_nonce(actors.lender, 1)
    with expect_revert("FinancingNonceUsed", signer=actors.lender.address, nonce=1):
        desk.take_offer(actors.supplier, offer, token, signature)


# -------------------------------------------------------------------- recourse


def _default(ledger, actors, slot: int, paid: int) -> None:
    """Pay ``paid`` toward ``slot`` and let it default."""
    vault = ledger.address("SettlementVault")
    ledger.execute(actors.core, ledger.asset.functions.mint(actors.core.address, paid))
    deposit(ledger, vault, actors.core, slot, paid)
    payable = ledger.payable(slot)
    warp(ledger.chain, payable.maturity + payable.default_period - now(ledger.chain) + 1)
    mark_defaulted(ledger, vault, actors.outsider, slot)


def test_recourse_on_default_becomes_a_payable_of_the_seller(ledger, actors, desk, claim):
    slot, token = claim
    offer = offer_for(ledger, actors, token, value=500 * ONE, recourse=True)
    financed = desk.take_offer(actors.supplier, offer, token, desk.sign(actors.lender, offer)).event("Financed")
    bank_token = financed["lenderTokenId"]
    with expect_revert("FinancingNotDefaulted", slot=slot):
        desk.exercise_recourse(actors.lender, financed["financingId"])
    _default(ledger, actors, slot, 400 * ONE)  # 40% paid, then default
    vault = ledger.address("SettlementVault")
    assert redeem(ledger, vault, actors.lender, bank_token)[0] == 200 * ONE  # 40% of the 500 bought
    with expect_revert("FinancingUnauthorizedCaller", caller=actors.supplier.address):
        desk.exercise_recourse(actors.supplier, financed["financingId"])

    recourse_slot, recourse_token, result = desk.exercise_recourse(actors.lender, financed["financingId"])
    assert result.event("RecourseExercised").args == {
        "financingId": financed["financingId"], "lender": actors.lender.address, "seller": actors.supplier.address,
        "lenderTokenId": bank_token, "recourseSlot": recourse_slot, "recourseTokenId": recourse_token,
        "unpaid": 300 * ONE,
    }
    assert ledger.holding(bank_token).owner == actors.supplier.address  # the defaulted claim went back
    owed = ledger.payable(recourse_slot)
    assert (owed.debtor, owed.face_value) == (actors.supplier.address, 300 * ONE)
    assert ledger.holding(recourse_token).owner == actors.lender.address and ledger.holding(recourse_token).accepted
    with expect_revert("FinancingNoRecourse", financingId=financed["financingId"]):
        desk.exercise_recourse(actors.lender, financed["financingId"])

    # The seller settles the recourse payable through the vault; the lender redeems at its maturity.
    ledger.execute(actors.supplier, ledger.asset.functions.mint(actors.supplier.address, 300 * ONE))
    deposit(ledger, vault, actors.supplier, recourse_slot, 300 * ONE)
    warp(ledger.chain, owed.maturity - now(ledger.chain) + 1)
    lender_before = ledger.asset_balance(actors.lender.address)
    assert redeem(ledger, vault, actors.lender, recourse_token)[0] == 300 * ONE
    assert ledger.asset_balance(actors.lender.address) - lender_before == 300 * ONE
    # A late payment by the defaulted debtor now reaches the seller, who holds the claim again.
    ledger.execute(actors.core, ledger.asset.functions.mint(actors.core.address, 600 * ONE))
    deposit(ledger, vault, actors.core, slot, 600 * ONE)
    assert redeem(ledger, vault, actors.supplier, bank_token)[0] == 300 * ONE


def test_no_recourse_where_not_flagged(ledger, actors, desk, claim):
    slot, token = claim
    offer = offer_for(ledger, actors, token, value=500 * ONE, recourse=False)
    financing_id = desk.take_offer(actors.supplier, offer, token, desk.sign(actors.lender, offer)).event(
        "Financed")["financingId"]
    _default(ledger, actors, slot, 1)
    with expect_revert("FinancingNoRecourse", financingId=financing_id):
        desk.exercise_recourse(actors.lender, financing_id)


def test_offer_signed_for_another_chain_is_refused(ledger, actors, desk, claim):
    _, token = claim
    offer = offer_for(ledger, actors, token)
    domain = {"name": "scf-ledger FinancingDesk", "version": "1", "chainId": 1,
              "verifyingContract": desk.contract.address}
    signable = encode_typed_data(domain_data=domain, message_types=OFFER_TYPES, message_data=offer.as_message())
    signature = bytes(actors.lender.sign_message(signable).signature)
    with expect_revert("FinancingInvalidSignature", signer=actors.lender.address):
        desk.take_offer(actors.supplier, offer, token, signature)


@pytest.mark.parametrize("bubble", [False, True])
def test_reentrant_lender_cannot_take_an_offer_twice(ledger, actors, desk, claim, bubble):
    """A lender contract (ERC-1271 signer) that, on receiving the claim, re-enters the desk with the
    same signed terms: the guard stops it; the offer is executed once or not at all."""
    _, token = claim
    receiver, _ = ledger.chain.deploy(actors.admin, "ReentrantReceiver")
    ledger.execute(actors.admin, receiver.functions.setSigner(actors.auditor.address))
    ledger.as_registrar(actors.registrar).admit(receiver.address, "hostile-bank", [Role.LENDER],
                                                now(ledger.chain) + 365 * DAY)
    ledger.execute(actors.admin, ledger.asset.functions.mint(receiver.address, 1000 * ONE))
    approve = ledger.asset.functions.approve(desk.contract.address, 2**256 - 1)._encode_transaction_data()
    ledger.execute(actors.admin, receiver.functions.execute(ledger.asset.address, approve))
    offer = offer_for(ledger, actors, token, lender=receiver.address, value=100 * ONE)
    signature = desk.sign(actors.auditor, offer)
    again = desk.contract.functions.takeOffer(offer.as_tuple(), token, signature)._encode_transaction_data()
    ledger.execute(actors.admin, receiver.functions.arm(desk.contract.address, again, bubble))
    if bubble:
        with expect_revert("ReentrancyGuardReentrantCall"):
            desk.take_offer(actors.supplier, offer, token, signature)
        assert ledger.holding(token).value == 1000 * ONE
        assert not desk.contract.functions.isNonceUsed(receiver.address, 1).call()
    else:
        financed = desk.take_offer(actors.supplier, offer, token, signature).event("Financed")
        assert receiver.functions.reentered().call() and not receiver.functions.reentrySucceeded().call()
        assert ledger.holding(token).value == 900 * ONE
        assert ledger.holding(financed["lenderTokenId"]).owner == receiver.address
        terms = financed["terms"]
        assert ledger.asset_balance(receiver.address) == 1000 * ONE - (terms["price"] - terms["fee"])
