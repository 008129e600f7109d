"""ReceivableToken behaviour: ERC-165/3525/721 surface, issuance, moves, the one move gate,
EIP-712 acceptance, privileged functions and hostile receivers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import (
    CONSORTIUM_KEY,
    DAY,
    ONE,
    confirmed_invoices,
    expect_revert,
    issue_claim,
    make_invoice,
    now,
    warp,
)
from eth_account.messages import encode_typed_data
from web3 import Web3

from ledger.client import ACCEPT_TYPES, InvoiceRegistration, IssueRequest, Ledger
from ledger.records import MoveKind
from ledger.roles import Role

SLOT_BASE = 10**9


def role_hex(role: Role) -> str:
    return "0x" + role.id.hex()


def fn(ledger: Ledger, signature: str):
    return ledger.receivables.get_function_by_signature(signature)


# --------------------------------------------------------------------- ERC-165


@pytest.mark.parametrize(
    ("interface_id", "supported"),
    [("0xd5358140", True), ("0x80ac58cd", True), ("0x01ffc9a7", True), ("0xffffffff", False), ("0x5b5e139f", False)],
)
def test_supports_interface(ledger, interface_id, supported):
    assert ledger.receivables.functions.supportsInterface(bytes.fromhex(interface_id[2:])).call() is supported


def test_value_decimals_match_settlement_asset(ledger):
    assert ledger.receivables.functions.valueDecimals().call() == ledger.asset.functions.decimals().call() == 6


# -------------------------------------------------------------------- issuance


def test_issue_creates_slot_and_unaccepted_token(ledger, actors):
    prints = confirmed_invoices(ledger, actors, [600 * ONE, 500 * ONE])
    maturity = now(ledger.chain) + 30 * DAY
    request = IssueRequest(
        actors.supplier.address, 1000 * ONE, maturity, prints, grace_period=DAY, default_period=DAY * 9
    )
    slot, token, result = ledger.as_core(actors.core).issue(request)
    assert token == slot * SLOT_BASE + 1
    assert result.event("SlotIssued").args == {
        "slot": slot, "debtor": actors.core.address, "tokenId": token, "holder": actors.supplier.address,
        "asset": ledger.deployment.settlement_asset, "faceValue": 1000 * ONE, "maturity": maturity,
        "gracePeriod": DAY, "defaultPeriod": 9 * DAY, "invoices": ["0x" + p.hex() for p in prints],
    }
    assert result.event("Transfer").args == {"from": "0x" + "0" * 40, "to": actors.supplier.address, "tokenId": token}
    assert result.event("SlotChanged").args == {"_tokenId": token, "_oldSlot": 0, "_newSlot": slot}
    assert result.event("TransferValue").args == {"_fromTokenId": 0, "_toTokenId": token, "_value": 1000 * ONE}
    assert result.event("ValueMoved").args == {
        "slot": slot, "fromTokenId": 0, "toTokenId": token, "value": 1000 * ONE, "kind": MoveKind.ISSUE,
    }
    assert [e["slot"] for e in result.events_named("InvoiceLinked")] == [slot, slot]
    held = ledger.holding(token)
    assert (held.owner, held.slot, held.value, held.accepted) == (actors.supplier.address, slot, 1000 * ONE, False)
    payable = ledger.payable(slot)
    assert (payable.debtor, payable.face_value, payable.redeemed_value) == (actors.core.address, 1000 * ONE, 0)
    assert all(ledger.invoice(p).slot == slot for p in prints)


def test_only_a_core_enterprise_issues(ledger, actors):
    prints = confirmed_invoices(ledger, actors, [100 * ONE])
    request = IssueRequest(actors.supplier.address, 100 * ONE, now(ledger.chain) + DAY, prints)
    for account in (actors.supplier2, actors.lender, actors.outsider):
        expected = {"account": account.address, "role": role_hex(Role.CORE_ENTERPRISE)}
        with expect_revert("ReceivableUnauthorizedAccount", **expected):
            ledger.as_core(account).issue(request)


def test_invoice_backs_at_most_one_slot(ledger, actors):
    prints = confirmed_invoices(ledger, actors, [100 * ONE])
    request = IssueRequest(actors.supplier.address, 100 * ONE, now(ledger.chain) + DAY, prints)
    ledger.as_core(actors.core).issue(request)
    with expect_revert("InvoiceInvalidStatus", fingerprint="0x" + prints[0].hex(), status=3):
        ledger.as_core(actors.core).issue(request)


def test_only_the_invoices_debtor_issues(ledger, actors):
    prints = confirmed_invoices(ledger, actors, [100 * ONE])  # sold to actors.core
    request = IssueRequest(actors.supplier.address, 100 * ONE, now(ledger.chain) + DAY, prints)
    with expect_revert("InvoiceMismatch", fingerprint="0x" + prints[0].hex()):
        ledger.as_core(actors.core2).issue(request)


def test_face_value_must_be_covered_by_invoices(ledger, actors):
    prints = confirmed_invoices(ledger, actors, [60 * ONE, 39 * ONE])
    request = IssueRequest(actors.supplier.address, 100 * ONE, now(ledger.chain) + DAY, prints)
    with expect_revert("ReceivableFaceNotCovered", faceValue=100 * ONE, covered=99 * ONE):
        ledger.as_core(actors.core).issue(request)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"face_value": 0}, "faceValue"),
        ({"face_value": 2**96}, "faceValue"),
        ({"maturity": 0}, "maturity"),
        ({"invoices": []}, "invoices"),
        ({"grace_period": 10 * DAY, "default_period": 9 * DAY}, "periods"),
    ],
)
def test_issue_rejects_bad_parameters(ledger, actors, change, reason):
    prints = confirmed_invoices(ledger, actors, [100 * ONE])
    fields: dict[str, Any] = {"holder": actors.supplier.address, "face_value": 100 * ONE,
                              "maturity": now(ledger.chain) + DAY, "invoices": prints}
    fields.update(change)
    expected = reason.encode().ljust(32, b"\0")
    with expect_revert("ReceivableInvalidIssue", reason="0x" + expected.hex()):
        ledger.as_core(actors.core).issue(IssueRequest(**fields))


def test_issue_rejects_asset_with_other_decimals(ledger, actors):
    other, _ = ledger.chain.deploy(actors.admin, "MockERC20", 18)
    prints = confirmed_invoices(ledger, actors, [100 * ONE])
    request = IssueRequest(actors.supplier.address, 100 * ONE, now(ledger.chain) + DAY, prints, asset=other.address)
    with expect_revert("ReceivableDecimalsMismatch", assetDecimals=18, valueDecimals=6):
        ledger.as_core(actors.core).issue(request)


def test_issue_to_non_member_or_self_is_refused(ledger, actors):
    prints = confirmed_invoices(ledger, actors, [100 * ONE])
    deadline = now(ledger.chain) + DAY
    with expect_revert("ReceivableNotMember", account=actors.outsider.address):
        ledger.as_core(actors.core).issue(IssueRequest(actors.outsider.address, 100 * ONE, deadline, prints))
    with expect_revert("ReceivableInvalidReceiver", to=actors.core.address):
        ledger.as_core(actors.core).issue(IssueRequest(actors.core.address, 100 * ONE, deadline, prints))


# ------------------------------------------------------------------ acceptance


def test_accept_directly(ledger, actors):
    _, token = issue_claim(ledger, actors, accept=False)
    with expect_revert("ReceivableUnauthorizedOperator", operator=actors.supplier2.address, tokenId=token):
        ledger.as_member(actors.supplier2).accept(token)
    result = ledger.as_member(actors.supplier).accept(token)
    assert result.event("ReceivableAccepted").args == {"tokenId": token, "holder": actors.supplier.address}
    assert ledger.holding(token).accepted
    with expect_revert("ReceivableAlreadyAccepted", tokenId=token):
        ledger.as_member(actors.supplier).accept(token)


def _sign(ledger: Ledger, account, token: int, deadline: int, *, holder: str, nonce: int | None = None,
          chain_id: int | None = None, contract: str | None = None) -> bytes:
    domain = {"name": "scf-ledger ReceivableToken", "version": "1", "chainId": chain_id or ledger.chain.chain_id,
              "verifyingContract": contract or ledger.receivables.address}
    if nonce is None:
        nonce = ledger.receivables.functions.nonces(holder).call()
    message = {"tokenId": token, "holder": holder, "nonce": nonce, "deadline": deadline}
    signable = encode_typed_data(domain_data=domain, message_types=ACCEPT_TYPES, message_data=message)
    return bytes(account.sign_message(signable).signature)


def test_accept_with_signature_relayed_by_anyone(ledger, actors):
    _, token = issue_claim(ledger, actors, accept=False)
    deadline = now(ledger.chain) + DAY
    signature = ledger.as_member(actors.supplier).sign_acceptance(token, deadline)
    result = ledger.as_member(actors.outsider).accept_with_signature(token, deadline, signature)
    assert result.event("ReceivableAccepted").args == {"tokenId": token, "holder": actors.supplier.address}
    assert ledger.receivables.functions.nonces(actors.supplier.address).call() == 1


@pytest.mark.parametrize("tamper", ["wrong_signer", "other_chain", "other_contract", "wrong_nonce", "other_token"])
def test_accept_signature_bound_to_signer_domain_nonce_and_token(ledger, actors, tamper):
    _, token = issue_claim(ledger, actors, accept=False)
    holder = actors.supplier.address
    deadline = now(ledger.chain) + DAY
    kwargs: dict[str, Any] = {"holder": holder}
    signer = actors.supplier
    signed_token = token
    if tamper == "wrong_signer":
        signer = actors.supplier2
    elif tamper == "other_chain":
        kwargs["chain_id"] = 1
    elif tamper == "other_contract":
        kwargs["contract"] = ledger.invoices.address
    elif tamper == "wrong_nonce":
        kwargs["nonce"] = 1
    elif tamper == "other_token":
        signed_token = token + 1
    signature = _sign(ledger, signer, signed_token, deadline, **kwargs)
    with expect_revert("ReceivableInvalidSignature", holder=holder):
        ledger.as_member(actors.outsider).accept_with_signature(token, deadline, signature)
    assert not ledger.holding(token).accepted


def test_accept_signature_cannot_be_replayed(ledger, actors):
    # Two signatures made for the same nonce: the first consumes it, the second is a replay.
    _, token_a = issue_claim(ledger, actors, accept=False)
    _, token_b = issue_claim(ledger, actors, accept=False)
    deadline = now(ledger.chain) + DAY
    sig_a = _sign(ledger, actors.supplier, token_a, deadline, holder=actors.supplier.address, nonce=0)
    sig_b = _sign(ledger, actors.supplier, token_b, deadline, holder=actors.supplier.address, nonce=0)
    ledger.as_member(actors.outsider).accept_with_signature(token_a, deadline, sig_a)
    with expect_revert("ReceivableInvalidSignature", holder=actors.supplier.address):
        ledger.as_member(actors.outsider).accept_with_signature(token_b, deadline, sig_b)


def test_accept_signature_expires(ledger, actors):
    _, token = issue_claim(ledger, actors, accept=False)
    deadline = now(ledger.chain) + 60
    signature = ledger.as_member(actors.supplier).sign_acceptance(token, deadline)
    warp(ledger.chain, 120)
    with expect_revert("ReceivableExpiredSignature", deadline=deadline):
        ledger.as_member(actors.outsider).accept_with_signature(token, deadline, signature)


def test_erc1271_wallet_accepts(ledger, actors):
    """A contract wallet holds the claim; only its owner key signs for it (ERC-1271)."""
    wallet, _ = ledger.chain.deploy(actors.admin, "ERC1271Wallet", actors.supplier3.address)
    until = now(ledger.chain) + 365 * DAY
    ledger.as_registrar(actors.registrar).admit(wallet.address, "wallet-co", [Role.SUPPLIER], until)
    delegate_call = ledger.invoices.functions.setDelegate(actors.supplier3.address, True)._encode_transaction_data()
    ledger.execute(actors.supplier3, wallet.functions.execute(ledger.invoices.address, delegate_call))
    registrations = [
        InvoiceRegistration(make_invoice(wallet.address, actors.core.address, 100 * ONE), os.urandom(32))
        for _ in range(2)
    ]
    prints, _ = ledger.as_supplier(actors.supplier3).register_invoices(registrations, CONSORTIUM_KEY)
    ledger.as_member(actors.core).confirm_invoices(prints)
    tokens = [
        ledger.as_core(actors.core).issue(IssueRequest(wallet.address, 100 * ONE, now(ledger.chain) + DAY, [p]))[1]
        for p in prints
    ]
    deadline = now(ledger.chain) + DAY
    forged = ledger.as_member(actors.supplier2).sign_acceptance(tokens[0], deadline, holder=wallet.address)
    with expect_revert("ReceivableInvalidSignature", holder=wallet.address):
        ledger.as_member(actors.outsider).accept_with_signature(tokens[0], deadline, forged)
    signature = ledger.as_member(actors.supplier3).sign_acceptance(tokens[0], deadline, holder=wallet.address)
    result = ledger.as_member(actors.outsider).accept_with_signature(tokens[0], deadline, signature)
    assert result.event("ReceivableAccepted").args == {"tokenId": tokens[0], "holder": wallet.address}
    assert not ledger.holding(tokens[1]).accepted


# ----------------------------------------------------------------------- moves


def test_split_debits_exactly_and_creates_token_in_same_slot(ledger, actors):
    slot, token = issue_claim(ledger, actors, 1000 * ONE)
    new, result = ledger.as_member(actors.supplier).split(token, actors.supplier2.address, 250 * ONE)
    assert new == slot * SLOT_BASE + 2
    assert [e.name for e in result.events] == ["Transfer", "SlotChanged", "TransferValue", "ValueMoved"]
    assert result.event("Transfer").args == {"from": "0x" + "0" * 40, "to": actors.supplier2.address, "tokenId": new}
    assert result.event("SlotChanged").args == {"_tokenId": new, "_oldSlot": 0, "_newSlot": slot}
    assert result.event("TransferValue").args == {"_fromTokenId": token, "_toTokenId": new, "_value": 250 * ONE}
    assert result.event("ValueMoved").args == {
        "slot": slot, "fromTokenId": token, "toTokenId": new, "value": 250 * ONE, "kind": MoveKind.SPLIT,
    }
    assert ledger.holding(token).value == 750 * ONE
    assert (ledger.holding(new).value, ledger.holding(new).slot) == (250 * ONE, slot)
    assert ledger.receivables.functions.balanceOf(actors.supplier2.address).call() == 1


@pytest.mark.parametrize("value", [0, 1000 * ONE + 1])
def test_split_of_zero_or_excess_reverts(ledger, actors, value):
    _, token = issue_claim(ledger, actors, 1000 * ONE)
    with expect_revert("ReceivableInvalidValue", tokenId=token, balance=1000 * ONE, value=value):
        ledger.as_member(actors.supplier).split(token, actors.supplier2.address, value)


def test_split_whole_value_leaves_empty_token(ledger, actors):
    _, token = issue_claim(ledger, actors, 10 * ONE)
    new, _ = ledger.as_member(actors.supplier).split(token, actors.supplier2.address, 10 * ONE)
    assert (ledger.holding(token).value, ledger.holding(new).value) == (0, 10 * ONE)


def test_value_allowance_is_spent_and_voided_by_token_transfer(ledger, actors):
    _, token = issue_claim(ledger, actors, 1000 * ONE)
    supplier, operator = ledger.as_member(actors.supplier), ledger.as_member(actors.lender)
    result = supplier.approve_value(token, actors.lender.address, 300 * ONE)
    assert result.event("ApprovalValue").args == {"_tokenId": token, "_operator": actors.lender.address,
                                                  "_value": 300 * ONE}
    operator.split(token, actors.supplier2.address, 200 * ONE)
    assert ledger.receivables.functions.allowance(token, actors.lender.address).call() == 100 * ONE
    with expect_revert("ReceivableInsufficientAllowance", operator=actors.lender.address, tokenId=token,
                       allowance=100 * ONE, value=101 * ONE):
        operator.split(token, actors.supplier2.address, 101 * ONE)
    supplier.transfer_token(token, actors.supplier3.address)
    assert ledger.receivables.functions.allowance(token, actors.lender.address).call() == 0
    with expect_revert("ReceivableInsufficientAllowance", operator=actors.lender.address, tokenId=token,
                       allowance=0, value=1):
        operator.split(token, actors.supplier2.address, 1)


def test_value_transfer_between_tokens(ledger, actors):
    slot, token = issue_claim(ledger, actors, 1000 * ONE)
    other, _ = ledger.as_member(actors.supplier).split(token, actors.supplier2.address, 100 * ONE)
    result = ledger.as_member(actors.supplier).transfer_value(token, other, 50 * ONE)
    assert result.event("ValueMoved").args == {
        "slot": slot, "fromTokenId": token, "toTokenId": other, "value": 50 * ONE, "kind": MoveKind.TRANSFER,
    }
    assert (ledger.holding(token).value, ledger.holding(other).value) == (850 * ONE, 150 * ONE)
    with expect_revert("ReceivableSameToken", tokenId=token):
        ledger.as_member(actors.supplier).transfer_value(token, token, 1)
    slot2, foreign = issue_claim(ledger, actors, 10 * ONE)
    with expect_revert("ReceivableSlotMismatch", fromSlot=slot, toSlot=slot2):
        ledger.as_member(actors.supplier).transfer_value(token, foreign, 1)


def test_whole_token_transfer_and_erc721_balances(ledger, actors):
    _, token = issue_claim(ledger, actors, 1000 * ONE)
    balance = ledger.receivables.functions.balanceOf
    before = (balance(actors.supplier.address).call(), balance(actors.supplier2.address).call())
    result = ledger.as_member(actors.supplier).transfer_token(token, actors.supplier2.address)
    assert result.event("Transfer").args == {"from": actors.supplier.address, "to": actors.supplier2.address,
                                             "tokenId": token}
    assert (balance(actors.supplier.address).call(), balance(actors.supplier2.address).call()) == (
        before[0] - 1, before[1] + 1)
    assert ledger.holding(token).owner == actors.supplier2.address


def test_safe_transfer_to_non_receiver_contract_reverts(ledger, actors):
    _, token = issue_claim(ledger, actors, 1000 * ONE)
    wallet, _ = ledger.chain.deploy(actors.admin, "ERC1271Wallet", actors.supplier3.address)
    ledger.as_registrar(actors.registrar).admit(wallet.address, "w", [Role.SUPPLIER], now(ledger.chain) + DAY * 30)
    with expect_revert("ERC721InvalidReceiver", receiver=wallet.address):
        ledger.as_member(actors.supplier).transfer_token(token, wallet.address, safe=True)
    assert ledger.holding(token).owner == actors.supplier.address


def test_merge_moves_all_value_and_burns(ledger, actors):
    slot, token = issue_claim(ledger, actors, 1000 * ONE)
    extra, _ = ledger.as_member(actors.supplier).split(token, actors.supplier.address, 400 * ONE)
    result = ledger.as_member(actors.supplier).merge(extra, token)
    assert result.event("ValueMoved").args == {
        "slot": slot, "fromTokenId": extra, "toTokenId": token, "value": 400 * ONE, "kind": MoveKind.MERGE,
    }
    assert result.event("SlotChanged").args == {"_tokenId": extra, "_oldSlot": slot, "_newSlot": 0}
    assert ledger.holding(token).value == 1000 * ONE
    assert not ledger.token_exists(extra)
    other, _ = ledger.as_member(actors.supplier).split(token, actors.supplier2.address, 1 * ONE)
    with expect_revert("ReceivableUnauthorizedOperator", operator=actors.supplier.address, tokenId=other):
        ledger.as_member(actors.supplier).merge(token, other)


def test_ether_is_refused(ledger, actors):
    _, token = issue_claim(ledger, actors, 10 * ONE)
    call = fn(ledger, "transferFrom(uint256,address,uint256)")(token, actors.supplier2.address, ONE)
    with expect_revert("ReceivableNoEther"):
        ledger.chain.send(actors.supplier, call, value=1)


# ------------------------------------------------ the move gate, walked over the ABI

# Every state-changing function of ReceivableToken, by kind. A function missing here fails
# test_every_state_changing_function_is_classified, so a new entry point cannot skip the gate.
HOLDER_MOVES = {
    "transferFrom(uint256,address,uint256)",
    "transferFrom(uint256,uint256,uint256)",
    "transferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256,bytes)",
    "merge(uint256,uint256)",
}
SYSTEM_FUNCTIONS = {"encumber(uint256,uint256)", "release(uint256,uint256)", "seize(uint256,uint256,address)",
                    "burnSettled(uint256)", "reassign(uint256,address)",
                    "issueRecourse(address,address,address,uint256,uint40,uint32,uint32)"}
REGULATOR_FUNCTIONS = {"setFrozen(uint256,uint256,bytes32)", "pause()", "unpause()"}
OTHER_FUNCTIONS = {
    "issue((address,address,uint256,uint40,uint32,uint32,bytes32[]))",
    "accept(uint256)",
    "acceptWithSig(uint256,uint256,bytes)",
    "approve(address,uint256)",
    "approve(uint256,address,uint256)",
    "setApprovalForAll(address,bool)",
}


def _signature(entry: dict) -> str:
    def kind(p: dict) -> str:
        if p["type"].startswith("tuple"):
            return "(" + ",".join(kind(c) for c in p["components"]) + ")" + p["type"][5:]
        return p["type"]

    return f"{entry['name']}({','.join(kind(p) for p in entry['inputs'])})"


def test_every_state_changing_function_is_classified(ledger):
    state_changing = {
        _signature(e) for e in ledger.receivables.abi
        if e["type"] == "function" and e["stateMutability"] in ("nonpayable", "payable")
    }
    assert state_changing == HOLDER_MOVES | SYSTEM_FUNCTIONS | REGULATOR_FUNCTIONS | OTHER_FUNCTIONS


@dataclass
class MoveSetup:
    slot: int
    token: int  # 1000, supplier's, the token every move starts from
    sibling: int  # supplier2's token in the same slot
    own_sibling: int  # supplier's second token in the same slot
    maturity: int


@pytest.fixture
def moves(ledger, actors) -> MoveSetup:
    slot, token = issue_claim(ledger, actors, 1200 * ONE)
    supplier = ledger.as_member(actors.supplier)
    sibling, _ = supplier.split(token, actors.supplier2.address, 100 * ONE)
    own, _ = supplier.split(token, actors.supplier.address, 100 * ONE)
    supplier.approve_value(token, actors.lender.address, 10**30)
    supplier.set_approval_for_all(actors.auditor.address, True)
    return MoveSetup(slot, token, sibling, own, ledger.payable(slot).maturity)


def _move(ledger: Ledger, actors, setup: MoveSetup, name: str) -> tuple[Any, int]:
    """(sender actor, call) for move ``name`` of ``setup.token``; returns value moved."""
    t, owner, to = setup.token, actors.supplier.address, actors.supplier2.address
    value = 10 * ONE
    whole = ledger.receivables.functions.balanceOf(t).call()
    member, operator, approved = (ledger.as_member(actors.supplier), ledger.as_member(actors.lender),
                                  ledger.as_member(actors.auditor))
    runs = {
        "split": (lambda: member.split(t, to, value), value),
        "split_by_value_allowance": (lambda: operator.split(t, to, value), value),
        "value_transfer": (lambda: member.transfer_value(t, setup.sibling, value), value),
        "value_transfer_by_allowance": (lambda: operator.transfer_value(t, setup.sibling, value), value),
        "transfer_token": (lambda: member.transfer_token(t, to), whole),
        "transfer_token_by_operator": (lambda: approved.transfer_token(t, to, owner=owner), whole),
        "safe_transfer_token": (lambda: member.transfer_token(t, to, safe=True), whole),
        "safe_transfer_token_with_data": (lambda: member._run(
            fn(ledger, "safeTransferFrom(address,address,uint256,bytes)")(owner, to, t, b"x")), whole),
        "merge": (lambda: member.merge(t, setup.own_sibling), whole),
    }
    return runs[name]


MOVE_NAMES = ["split", "split_by_value_allowance", "value_transfer", "value_transfer_by_allowance",
              "transfer_token", "transfer_token_by_operator", "safe_transfer_token",
              "safe_transfer_token_with_data", "merge"]
# Which ABI function each move exercises: together they cover HOLDER_MOVES.
MOVE_FUNCTIONS = {
    "split": "transferFrom(uint256,address,uint256)",
    "split_by_value_allowance": "transferFrom(uint256,address,uint256)",
    "value_transfer": "transferFrom(uint256,uint256,uint256)",
    "value_transfer_by_allowance": "transferFrom(uint256,uint256,uint256)",
    "transfer_token": "transferFrom(address,address,uint256)",
    "transfer_token_by_operator": "transferFrom(address,address,uint256)",
    "safe_transfer_token": "safeTransferFrom(address,address,uint256)",
    "safe_transfer_token_with_data": "safeTransferFrom(address,address,uint256,bytes)",
    "merge": "merge(uint256,uint256)",
}


def test_move_table_covers_every_holder_move():
    assert set(MOVE_FUNCTIONS) == set(MOVE_NAMES)
    assert set(MOVE_FUNCTIONS.values()) == HOLDER_MOVES


@pytest.mark.parametrize("name", MOVE_NAMES)
def test_each_move_succeeds_when_nothing_blocks_it(ledger, actors, moves, name):
    run, _value = _move(ledger, actors, moves, name)
    before = _slot_total(ledger, moves)
    run()
    assert _slot_total(ledger, moves) == before


def _slot_total(ledger: Ledger, setup: MoveSetup) -> int:
    last = ledger.receivables.functions.slotData(setup.slot).call()
    total = 0
    for serial in range(1, 10):
        token_id = setup.slot * SLOT_BASE + serial
        if ledger.token_exists(token_id):
            total += ledger.receivables.functions.balanceOf(token_id).call()
    return total + last[7]


BLOCKED_STATES = ["paused", "frozen", "encumbered", "matured", "owner_not_member", "owner_expired",
                  "receiver_not_member"]


# A merge never changes the owner, so it has no other receiver to be a non-member.
BLOCKED_CASES = [(name, state) for state in BLOCKED_STATES for name in MOVE_NAMES
                 if (name, state) != ("merge", "receiver_not_member")]


@pytest.mark.parametrize(("name", "state"), BLOCKED_CASES)
def test_each_move_is_refused_in_each_blocked_state(ledger, actors, moves, name, state):
    token = moves.token
    balance = ledger.receivables.functions.balanceOf(token).call()
    expected: tuple[str, dict[str, Any]]
    if state == "paused":
        ledger.as_regulator(actors.regulator).pause()
        expected = ("ReceivablePaused", {})
    elif state == "frozen":
        ledger.as_regulator(actors.regulator).set_frozen(token, balance - 5 * ONE)
        expected = ("ReceivableValueLocked", {"tokenId": token, "available": 5 * ONE})
    elif state == "encumbered":
        ledger.execute(actors.system, ledger.receivables.functions.encumber(token, balance - 5 * ONE))
        expected = ("ReceivableValueLocked", {"tokenId": token, "available": 5 * ONE})
    elif state == "matured":
        warp(ledger.chain, moves.maturity - now(ledger.chain))
        expected = ("ReceivableMatured", {"slot": moves.slot, "maturity": moves.maturity})
    elif state == "owner_not_member":
        ledger.as_registrar(actors.registrar).remove(actors.supplier.address)
        expected = ("ReceivableNotMember", {"account": actors.supplier.address})
    elif state == "owner_expired":
        ledger.as_registrar(actors.registrar).renew(actors.supplier.address, now(ledger.chain) + DAY)
        warp(ledger.chain, 2 * DAY)
        expected = ("ReceivableNotMember", {"account": actors.supplier.address})
    else:  # receiver_not_member
        ledger.as_registrar(actors.registrar).remove(actors.supplier2.address)
        expected = ("ReceivableNotMember", {"account": actors.supplier2.address})
    run, value = _move(ledger, actors, moves, name)
    fields = dict(expected[1])
    if expected[0] == "ReceivableValueLocked":
        fields["value"] = value
    with expect_revert(expected[0], **fields):
        run()


@pytest.mark.parametrize("name", ["split", "split_by_value_allowance", "transfer_token", "transfer_token_by_operator",
                                  "safe_transfer_token", "safe_transfer_token_with_data"])
def test_each_move_of_an_unaccepted_token_is_refused(ledger, actors, name):
    # An unaccepted token is alone in its slot (nothing can split off it), so value transfers and
    # merges have no sibling to aim at; every other move must name the missing acceptance.
    slot, token = issue_claim(ledger, actors, 100 * ONE, accept=False)
    ledger.as_member(actors.supplier).approve_value(token, actors.lender.address, 10**30)
    ledger.as_member(actors.supplier).set_approval_for_all(actors.auditor.address, True)
    setup = MoveSetup(slot, token, 0, 0, ledger.payable(slot).maturity)
    run, _ = _move(ledger, actors, setup, name)
    with expect_revert("ReceivableNotAccepted", tokenId=token):
        run()


# ------------------------------------------------------------- privileged calls


def _privileged_calls(ledger: Ledger, token: int, to: str) -> dict[str, tuple[Any, Role]]:
    f = ledger.receivables.functions
    return {
        "setFrozen(uint256,uint256,bytes32)": (f.setFrozen(token, 1, b"\0" * 32), Role.REGULATOR),
        "pause()": (f.pause(), Role.REGULATOR),
        "unpause()": (f.unpause(), Role.REGULATOR),
        "encumber(uint256,uint256)": (f.encumber(token, 1), Role.SYSTEM),
        "release(uint256,uint256)": (f.release(token, 1), Role.SYSTEM),
        "seize(uint256,uint256,address)": (f.seize(token, 1, to), Role.SYSTEM),
        "burnSettled(uint256)": (f.burnSettled(token), Role.SYSTEM),
        "reassign(uint256,address)": (f.reassign(token, to), Role.SYSTEM),
        "issueRecourse(address,address,address,uint256,uint40,uint32,uint32)": (
            f.issueRecourse(to, to, ledger.asset.address, 1, 2**39, 0, 0), Role.SYSTEM),
    }


def test_privileged_table_covers_regulator_and_system_functions(ledger, actors):
    assert set(_privileged_calls(ledger, 1, actors.outsider.address)) == SYSTEM_FUNCTIONS | REGULATOR_FUNCTIONS


@pytest.mark.parametrize("caller", ["outsider", "supplier", "lender", "admin"])
def test_privileged_functions_refuse_unauthorized_callers(ledger, actors, caller):
    _, token = issue_claim(ledger, actors, 100 * ONE)
    account = getattr(actors, caller)
    for call, role in _privileged_calls(ledger, token, actors.lender.address).values():
        with expect_revert("ReceivableUnauthorizedAccount", account=account.address, role=role_hex(role)):
            ledger.execute(account, call)


def test_regulator_freeze_events_and_limits(ledger, actors):
    _, token = issue_claim(ledger, actors, 100 * ONE)
    regulator = ledger.as_regulator(actors.regulator)
    result = regulator.set_frozen(token, 40 * ONE, "court order")
    assert result.event("ValueFrozen").args == {
        "tokenId": token, "frozen": 40 * ONE, "regulator": actors.regulator.address,
        "reason": "0x" + b"court order".ljust(32, b"\0").hex(),
    }
    ledger.execute(actors.system, ledger.receivables.functions.encumber(token, 50 * ONE))
    with expect_revert("ReceivableInvalidLock", tokenId=token, current=40 * ONE, amount=51 * ONE):
        regulator.set_frozen(token, 51 * ONE)
    regulator.set_frozen(token, 0)
    assert ledger.holding(token).free_value == 50 * ONE


def test_nothing_is_encumbered_after_maturity(ledger, actors):
    slot, token = issue_claim(ledger, actors, 100 * ONE)
    warp(ledger.chain, 91 * DAY)
    with expect_revert("ReceivableMatured", slot=slot, maturity=ledger.payable(slot).maturity):
        ledger.execute(actors.system, ledger.receivables.functions.encumber(token, 1))


def test_system_seize_and_burn_settled(ledger, actors):
    slot, token = issue_claim(ledger, actors, 100 * ONE)
    system = actors.system
    f = ledger.receivables.functions
    ledger.execute(system, f.encumber(token, 30 * ONE))
    with expect_revert("ReceivableNotMatured", slot=slot, maturity=ledger.payable(slot).maturity):
        ledger.execute(system, f.burnSettled(token))
    warp(ledger.chain, 91 * DAY)  # past maturity: seizing pledged value still works
    result = ledger.execute(system, f.seize(token, 30 * ONE, actors.lender.address))
    seized = result.event("ValueMoved")["toTokenId"]
    assert result.event("ValueMoved")["kind"] == MoveKind.SEIZE
    assert ledger.holding(seized).owner == actors.lender.address
    burn = ledger.execute(system, f.burnSettled(token))
    assert burn.event("ValueMoved").args == {"slot": slot, "fromTokenId": token, "toTokenId": 0, "value": 70 * ONE,
                                             "kind": MoveKind.REDEEM}
    assert ledger.payable(slot).redeemed_value == 70 * ONE


def test_system_reassign_only_matured_unlocked_tokens(ledger, actors):
    slot, token = issue_claim(ledger, actors, 100 * ONE)
    f = ledger.receivables.functions
    maturity = ledger.payable(slot).maturity
    with expect_revert("ReceivableNotMatured", slot=slot, maturity=maturity):
        ledger.execute(actors.system, f.reassign(token, actors.supplier2.address))
    ledger.as_regulator(actors.regulator).set_frozen(token, 1)
    warp(ledger.chain, maturity - now(ledger.chain))
    with expect_revert("ReceivableValueLocked", tokenId=token, available=100 * ONE - 1, value=100 * ONE):
        ledger.execute(actors.system, f.reassign(token, actors.supplier2.address))
    ledger.as_regulator(actors.regulator).set_frozen(token, 0)
    result = ledger.execute(actors.system, f.reassign(token, actors.supplier2.address))
    assert result.event("Transfer").args == {"from": actors.supplier.address, "to": actors.supplier2.address,
                                             "tokenId": token}
    assert ledger.receivables.functions.balanceOf(actors.supplier2.address).call() == 1


def test_system_issues_accepted_recourse_payable(ledger, actors):
    f = ledger.receivables.functions
    maturity = now(ledger.chain) + 30 * DAY
    call = f.issueRecourse(actors.supplier.address, actors.lender.address, ledger.asset.address, 70 * ONE, maturity,
                           DAY, 2 * DAY)
    result = ledger.execute(actors.system, call)
    issued = result.event("SlotIssued")
    assert (issued["debtor"], issued["holder"], issued["faceValue"], issued["invoices"]) == (
        actors.supplier.address, actors.lender.address, 70 * ONE, [])
    assert result.event("ReceivableAccepted")["holder"] == actors.lender.address
    assert ledger.holding(issued["tokenId"]).accepted
    bad = f.issueRecourse(actors.supplier.address, actors.lender.address, ledger.asset.address, 1, maturity, 2, 1)
    with expect_revert("ReceivableInvalidIssue", reason="0x" + b"periods".ljust(32, b"\0").hex()):
        ledger.execute(actors.system, bad)


# ------------------------------------------------------------- hostile receivers


@pytest.fixture
def receiver(ledger, actors):
    contract, _ = ledger.chain.deploy(actors.admin, "ReentrantReceiver")
    ledger.as_registrar(actors.registrar).admit(contract.address, "hostile", [Role.SUPPLIER],
                                                now(ledger.chain) + 365 * DAY)
    return contract


def _assert_slot_conserved(ledger: Ledger, slot: int) -> None:
    face = ledger.payable(slot).face_value
    setup = MoveSetup(slot, 0, 0, 0, 0)
    assert _slot_total(ledger, setup) == face


@pytest.mark.parametrize("bubble", [False, True])
def test_reentrant_erc3525_receiver_cannot_break_conservation(ledger, actors, receiver, bubble):
    slot, token = issue_claim(ledger, actors, 100 * ONE)
    new_token = slot * SLOT_BASE + 2
    split_fn = fn(ledger, "transferFrom(uint256,address,uint256)")
    # On receipt it tries to take more from the sender's token (it has no allowance) ...
    steal = split_fn(token, receiver.address, 50 * ONE)._encode_transaction_data()
    ledger.execute(actors.admin, receiver.functions.arm(ledger.receivables.address, steal, bubble))
    if bubble:
        with expect_revert("ReceivableInsufficientAllowance"):
            ledger.as_member(actors.supplier).split(token, receiver.address, 10 * ONE)
        assert not ledger.token_exists(new_token)
    else:
        ledger.as_member(actors.supplier).split(token, receiver.address, 10 * ONE)
        assert receiver.functions.reentered().call() and not receiver.functions.reentrySucceeded().call()
        assert ledger.holding(new_token).value == 10 * ONE
    _assert_slot_conserved(ledger, slot)


def test_reentrant_receiver_moving_what_it_got_keeps_books_straight(ledger, actors, receiver):
    slot, token = issue_claim(ledger, actors, 100 * ONE)
    new_token = slot * SLOT_BASE + 2
    # ... or re-splits the value it just received to another member, twice the amount it has.
    split_fn = fn(ledger, "transferFrom(uint256,address,uint256)")
    onward = split_fn(new_token, actors.supplier2.address, 10 * ONE)._encode_transaction_data()
    ledger.execute(actors.admin, receiver.functions.arm(ledger.receivables.address, onward, False))
    ledger.as_member(actors.supplier).split(token, receiver.address, 10 * ONE)
    assert receiver.functions.reentrySucceeded().call()
    assert ledger.holding(new_token).value == 0
    assert ledger.holding(slot * SLOT_BASE + 3).value == 10 * ONE
    _assert_slot_conserved(ledger, slot)


def test_reentrant_erc721_receiver_on_safe_transfer(ledger, actors, receiver):
    slot, token = issue_claim(ledger, actors, 100 * ONE)
    other, _ = ledger.as_member(actors.supplier).split(token, actors.supplier.address, 40 * ONE)
    # On receipt of `token` it tries to pull the supplier's other token as well.
    pull = fn(ledger, "transferFrom(address,address,uint256)")(actors.supplier.address, receiver.address, other)
    ledger.execute(actors.admin, receiver.functions.arm(ledger.receivables.address, pull._encode_transaction_data(),
                                                       False))
    ledger.as_member(actors.supplier).transfer_token(token, receiver.address, safe=True)
    assert not receiver.functions.reentrySucceeded().call()
    assert ledger.holding(other).owner == actors.supplier.address
    assert ledger.holding(token).owner == receiver.address
    _assert_slot_conserved(ledger, slot)


def test_checksummed_addresses_everywhere(ledger, actors):
    _, token = issue_claim(ledger, actors, 1 * ONE)
    assert ledger.holding(token).owner == Web3.to_checksum_address(actors.supplier.address)
