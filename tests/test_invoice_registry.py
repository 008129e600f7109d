"""InvoiceRegistry: registration (single, batch, by delegate), uniqueness of fingerprints,
confirmation by the buyer, voiding, and linking/settling by system contracts."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import CONSORTIUM_KEY, DAY, ONE, Actors, confirmed_invoices, issue_claim, make_invoice, now, warp
from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from ledger.chain import TxResult
from ledger.client import InvoiceRegistration, Ledger
from ledger.errors import AccessDeniedError, ContractRevertError, InvalidInputError
from ledger.fingerprint import fingerprint
from ledger.records import InvoiceRecord, InvoiceStatus
from ledger.roles import Role

ZERO32 = "0x" + "00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
SLOT = 7


def hx(value: bytes) -> str:
    return "0x" + bytes(value).hex()


@contextmanager
def reverts(name: str, fields: dict[str, Any]) -> Iterator[pytest.ExceptionInfo[ContractRevertError]]:
    """The block raises the custom error ``name`` with exactly ``fields``."""
    with pytest.raises(ContractRevertError) as exc:
        yield exc
    assert exc.value.name == name, str(exc.value)
    assert exc.value.fields == fields, str(exc.value)


def registration(
    seller: LocalAccount | str,
    buyer: LocalAccount | str,
    amount: int = 100 * ONE,
    *,
    number: str | None = None,
    asset: str | None = None,
) -> InvoiceRegistration:
    seller = seller if isinstance(seller, str) else seller.address
    buyer = buyer if isinstance(buyer, str) else buyer.address
    return InvoiceRegistration(
        make_invoice(seller, buyer, amount, number=number), document_hash=os.urandom(32), asset=asset
    )


def block_time(ledger: Ledger, result: TxResult | TxReceipt) -> int:
    number = result.block_number if isinstance(result, TxResult) else result["blockNumber"]
    return int(ledger.chain.w3.eth.get_block(number)["timestamp"])


def registered_event(ledger: Ledger, reg: InvoiceRegistration) -> dict[str, Any]:
    """The InvoiceRegistered arguments ``reg`` must produce."""
    prints = fingerprint(reg.fields, CONSORTIUM_KEY)
    return {
        "fingerprint": hx(prints.full),
        "seller": reg.fields.seller,
        "buyer": reg.fields.buyer,
        "asset": reg.asset or ledger.deployment.settlement_asset,
        "amount": reg.fields.amount,
        "issueDate": reg.fields.issue_timestamp,
        "documentHash": hx(reg.document_hash),
        "partialFingerprints": [hx(p) for p in prints.partial],
    }


def manual_input(ledger: Ledger, actors: Actors, **overrides: Any) -> tuple:
    """An ``InvoiceInput`` tuple built by hand (bypassing the client's own checks)."""
    item = {
        "fingerprint": os.urandom(32),
        "seller": actors.supplier.address,
        "buyer": actors.core.address,
        "asset": ledger.deployment.settlement_asset,
        "amount": 100 * ONE,
        "issueDate": 1_790_000_000,
        "documentHash": os.urandom(32),
        "partialFingerprints": [os.urandom(32) for _ in range(3)],
    }
    item.update(overrides)
    return tuple(item.values())


def input_of(ledger: Ledger, reg: InvoiceRegistration) -> tuple:
    """The ``InvoiceInput`` tuple the client sends for ``reg``."""
    return tuple(registered_event(ledger, reg).values())


def send_unchecked(ledger: Ledger, account: LocalAccount, call: Any) -> TxReceipt:
    """Mine ``call`` without the client's simulation, so a revert happens on-chain."""
    w3 = ledger.chain.w3
    tx = call.build_transaction(
        {
            "from": account.address,
            "gas": 3_000_000,
            "chainId": ledger.chain.chain_id,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        }
    )
    return w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )


def status(ledger: Ledger, fp: bytes) -> InvoiceStatus:
    return ledger.invoice(fp).status


# ---------------------------------------------------------------------------------- registration


def test_register_emits_fingerprints_and_records_invoice(ledger: Ledger, actors: Actors) -> None:
    reg = registration(actors.supplier, actors.core, 1234 * ONE)
    fp, result = ledger.as_supplier(actors.supplier).register_invoice(reg, CONSORTIUM_KEY)

    assert fp == fingerprint(reg.fields, CONSORTIUM_KEY).full
    assert result.event("InvoiceRegistered").args == registered_event(ledger, reg)
    assert ledger.invoice(fp) == InvoiceRecord(
        fingerprint=fp,
        seller=actors.supplier.address,
        status=InvoiceStatus.REGISTERED,
        registered_at=block_time(ledger, result),
        buyer=actors.core.address,
        slot=0,
        asset=ledger.deployment.settlement_asset,
        amount=1234 * ONE,
        document_hash=reg.document_hash,
    )


def test_register_batch_emits_one_event_per_invoice_in_order(ledger: Ledger, actors: Actors) -> None:
    other_asset = ledger.deployment.address("ReceivableToken")  # any non-zero address is accepted as asset
    regs = [
        registration(actors.supplier, actors.core, 10 * ONE),
        registration(actors.supplier, actors.core2, 20 * ONE),
        registration(actors.supplier, actors.core, 30 * ONE, asset=other_asset),
    ]
    prints, result = ledger.as_supplier(actors.supplier).register_invoices(regs, CONSORTIUM_KEY)

    assert [e.args for e in result.events_named("InvoiceRegistered")] == [registered_event(ledger, r) for r in regs]
    records = [ledger.invoice(fp) for fp in prints]
    assert [(r.status, r.buyer, r.amount, r.asset) for r in records] == [
        (InvoiceStatus.REGISTERED, actors.core.address, 10 * ONE, ledger.deployment.settlement_asset),
        (InvoiceStatus.REGISTERED, actors.core2.address, 20 * ONE, ledger.deployment.settlement_asset),
        (InvoiceStatus.REGISTERED, actors.core.address, 30 * ONE, other_asset),
    ]
    assert {r.registered_at for r in records} == {block_time(ledger, result)}


def test_only_the_seller_registers(ledger: Ledger, actors: Actors) -> None:
    reg = registration(actors.supplier, actors.core)
    with reverts(
        "InvoiceUnauthorizedSeller", {"caller": actors.supplier2.address, "seller": actors.supplier.address}
    ) as exc:
        ledger.as_supplier(actors.supplier2).register_invoice(reg, CONSORTIUM_KEY)
    assert isinstance(exc.value, AccessDeniedError)
    # a batch with one foreign invoice is refused as a whole
    own = registration(actors.supplier2, actors.core)
    with reverts("InvoiceUnauthorizedSeller", {"caller": actors.supplier2.address, "seller": actors.supplier.address}):
        ledger.as_supplier(actors.supplier2).register_invoices([own, reg], CONSORTIUM_KEY)
    assert status(ledger, fingerprint(own.fields, CONSORTIUM_KEY).full) is InvoiceStatus.NONE


def test_delegate_registers_for_the_seller_until_revoked(ledger: Ledger, actors: Actors) -> None:
    seller, delegate = ledger.as_supplier(actors.supplier), ledger.as_supplier(actors.supplier2)
    is_delegate = ledger.invoices.functions.isDelegate
    assert not is_delegate(actors.supplier.address, actors.supplier2.address).call()

    granted = seller.set_delegate(actors.supplier2.address)
    assert granted.event("DelegateSet").args == {
        "seller": actors.supplier.address,
        "delegate": actors.supplier2.address,
        "allowed": True,
    }
    assert is_delegate(actors.supplier.address, actors.supplier2.address).call()

    reg = registration(actors.supplier, actors.core)
    fp, result = delegate.register_invoice(reg, CONSORTIUM_KEY)
    assert result.event("InvoiceRegistered").args == registered_event(ledger, reg)
    assert ledger.invoice(fp).seller == actors.supplier.address
    # the delegation is per seller: it does not extend to other sellers
    with reverts("InvoiceUnauthorizedSeller", {"caller": actors.supplier2.address, "seller": actors.supplier3.address}):
        delegate.register_invoice(registration(actors.supplier3, actors.core), CONSORTIUM_KEY)

    revoked = seller.set_delegate(actors.supplier2.address, False)
    assert revoked.event("DelegateSet").args == {
        "seller": actors.supplier.address,
        "delegate": actors.supplier2.address,
        "allowed": False,
    }
    assert not is_delegate(actors.supplier.address, actors.supplier2.address).call()
    with reverts("InvoiceUnauthorizedSeller", {"caller": actors.supplier2.address, "seller": actors.supplier.address}):
        delegate.register_invoice(registration(actors.supplier, actors.core), CONSORTIUM_KEY)


# ---------------------------------------------------------------------------------- uniqueness


def test_duplicate_names_the_existing_record(ledger: Ledger, actors: Actors) -> None:
    reg = registration(actors.supplier, actors.core)
    fp, first = ledger.as_supplier(actors.supplier).register_invoice(reg, CONSORTIUM_KEY)
    registered_at = block_time(ledger, first)
    warp(ledger.chain, DAY)
    expected = {"fingerprint": hx(fp), "seller": actors.supplier.address, "registeredAt": registered_at}

    with reverts("InvoiceAlreadyRegistered", expected) as exc:
        ledger.as_supplier(actors.supplier).register_invoice(reg, CONSORTIUM_KEY)
    assert isinstance(exc.value, InvalidInputError)
    # a delegate re-submitting the same invoice (another document scan) is refused just the same
    ledger.as_supplier(actors.supplier).set_delegate(actors.supplier2.address)
    rescan = InvoiceRegistration(reg.fields, document_hash=os.urandom(32))
    with reverts("InvoiceAlreadyRegistered", expected):
        ledger.as_supplier(actors.supplier2).register_invoice(rescan, CONSORTIUM_KEY)
    assert ledger.invoice(fp).document_hash == reg.document_hash


def test_duplicate_inside_a_batch_reverts_the_whole_batch(ledger: Ledger, actors: Actors) -> None:
    supplier = ledger.as_supplier(actors.supplier)
    old = registration(actors.supplier, actors.core)
    old_fp, first = supplier.register_invoice(old, CONSORTIUM_KEY)
    new = registration(actors.supplier, actors.core)
    new_fp = fingerprint(new.fields, CONSORTIUM_KEY).full

    expected = {"fingerprint": hx(old_fp), "seller": actors.supplier.address, "registeredAt": block_time(ledger, first)}
    with reverts("InvoiceAlreadyRegistered", expected):
        supplier.register_invoices([new, old], CONSORTIUM_KEY)

    # mined without simulation, the transaction reverts on-chain and writes nothing
    items = [input_of(ledger, r) for r in (new, old)]
    receipt = send_unchecked(ledger, actors.supplier, ledger.invoices.functions.registerBatch(items))
    assert receipt["status"] == 0
    assert receipt["logs"] == []
    assert status(ledger, new_fp) is InvoiceStatus.NONE
    assert ledger.invoice(old_fp).registered_at == block_time(ledger, first)


def test_same_invoice_twice_in_one_batch(ledger: Ledger, actors: Actors) -> None:
    reg = registration(actors.supplier, actors.core)
    fp = fingerprint(reg.fields, CONSORTIUM_KEY).full
    before = now(ledger.chain)
    with pytest.raises(ContractRevertError) as exc:
        ledger.as_supplier(actors.supplier).register_invoices([reg, reg], CONSORTIUM_KEY)
    assert exc.value.name == "InvoiceAlreadyRegistered"
    fields = dict(exc.value.fields)
    assert fields.pop("registeredAt") >= before  # the first copy, written moments before in the simulated block
    assert fields == {"fingerprint": hx(fp), "seller": actors.supplier.address}
    assert status(ledger, fp) is InvoiceStatus.NONE


def test_voided_fingerprint_cannot_be_registered_again(ledger: Ledger, actors: Actors) -> None:
    reg = registration(actors.supplier, actors.core)
    fp, first = ledger.as_supplier(actors.supplier).register_invoice(reg, CONSORTIUM_KEY)
    ledger.as_supplier(actors.supplier).void_invoice(fp, "typo")
    expected = {"fingerprint": hx(fp), "seller": actors.supplier.address, "registeredAt": block_time(ledger, first)}
    with reverts("InvoiceAlreadyRegistered", expected):
        ledger.as_supplier(actors.supplier).register_invoice(reg, CONSORTIUM_KEY)
    assert status(ledger, fp) is InvoiceStatus.VOIDED


def test_near_duplicates(ledger: Ledger, actors: Actors) -> None:
    supplier = ledger.as_supplier(actors.supplier)
    original = registration(actors.supplier, actors.core, 500 * ONE, number="INV-001")
    reformatted = registration(actors.supplier, actors.core, 500 * ONE, number="inv 001")
    altered = registration(actors.supplier, actors.core, 501 * ONE, number="INV-001")
    p_original, p_reformatted, p_altered = (
        fingerprint(r.fields, CONSORTIUM_KEY) for r in (original, reformatted, altered)
    )

    assert p_reformatted == p_original
    fp, first = supplier.register_invoice(original, CONSORTIUM_KEY)
    with reverts(
        "InvoiceAlreadyRegistered",
        {"fingerprint": hx(fp), "seller": actors.supplier.address, "registeredAt": block_time(ledger, first)},
    ):
        supplier.register_invoice(reformatted, CONSORTIUM_KEY)

    # the altered amount passes the on-chain check; the seller+number partial exposes it off-chain
    assert p_altered.full != p_original.full
    fp_altered, second = supplier.register_invoice(altered, CONSORTIUM_KEY)
    assert fp_altered == p_altered.full
    emitted = [e.event("InvoiceRegistered")["partialFingerprints"] for e in (first, second)]
    assert emitted[0][1] == emitted[1][1] == hx(p_original.partial[1])  # seller + number
    assert emitted[0][0] != emitted[1][0]  # seller + buyer + amount + date
    assert emitted[0][2] != emitted[1][2]  # buyer + number + amount


# ---------------------------------------------------------------------------------- invalid input


INVALID_INPUTS: dict[str, Callable[[Ledger, Actors], dict[str, Any]]] = {
    "zero-amount": lambda lg, a: {"amount": 0},
    "zero-asset": lambda lg, a: {"asset": ZERO_ADDRESS},
    "seller-is-buyer": lambda lg, a: {"buyer": a.supplier.address},
    "zero-fingerprint": lambda lg, a: {"fingerprint": b"\0" * 32},
}


@pytest.mark.parametrize("case", list(INVALID_INPUTS))
def test_invalid_input(ledger: Ledger, actors: Actors, case: str) -> None:
    item = manual_input(ledger, actors, **INVALID_INPUTS[case](ledger, actors))
    with reverts("InvoiceInvalidInput", {"fingerprint": hx(item[0])}) as exc:
        ledger.execute(actors.supplier, ledger.invoices.functions.register(item))
    assert isinstance(exc.value, InvalidInputError)
    assert status(ledger, item[0]) is InvoiceStatus.NONE


def test_zero_asset_through_the_client(ledger: Ledger, actors: Actors) -> None:
    reg = registration(actors.supplier, actors.core, asset=ZERO_ADDRESS)
    with reverts("InvoiceInvalidInput", {"fingerprint": hx(fingerprint(reg.fields, CONSORTIUM_KEY).full)}):
        ledger.as_supplier(actors.supplier).register_invoice(reg, CONSORTIUM_KEY)


@pytest.mark.parametrize(
    "seller, buyer, refused, role",
    [
        ("core", "core2", "core", Role.SUPPLIER),  # a member without SUPPLIER_ROLE
        ("lender", "core", "lender", Role.SUPPLIER),
        ("supplier", "outsider", "outsider", None),  # the buyer must be a member
    ],
    ids=["seller-is-core", "seller-is-lender", "buyer-not-member"],
)
def test_seller_must_be_active_supplier_and_buyer_a_member(
    ledger: Ledger, actors: Actors, seller: str, buyer: str, refused: str, role: Role | None
) -> None:
    account: LocalAccount = getattr(actors, seller)
    reg = registration(account, getattr(actors, buyer))
    expected = {"account": getattr(actors, refused).address, "role": hx(role.id) if role else ZERO32}
    with reverts("InvoiceUnauthorizedMember", expected):
        ledger.as_supplier(account).register_invoice(reg, CONSORTIUM_KEY)


def test_expired_buyer_gets_no_new_invoices_and_cannot_confirm(ledger: Ledger, actors: Actors) -> None:
    fp, _ = ledger.as_supplier(actors.supplier).register_invoice(
        registration(actors.supplier, actors.core), CONSORTIUM_KEY
    )
    ledger.as_registrar(actors.registrar).renew(actors.core.address, now(ledger.chain) + 60)
    warp(ledger.chain, 120)
    with reverts("InvoiceUnauthorizedMember", {"account": actors.core.address, "role": ZERO32}):
        ledger.as_supplier(actors.supplier).register_invoice(registration(actors.supplier, actors.core), CONSORTIUM_KEY)
    with reverts("InvoiceUnauthorizedMember", {"account": actors.core.address, "role": ZERO32}):
        ledger.as_member(actors.core).confirm_invoices([fp])
    assert status(ledger, fp) is InvoiceStatus.REGISTERED


# ---------------------------------------------------------------------------------- confirmation


def test_buyer_confirms(ledger: Ledger, actors: Actors) -> None:
    regs = [registration(actors.supplier, actors.core, a * ONE) for a in (1, 2)]
    prints, _ = ledger.as_supplier(actors.supplier).register_invoices(regs, CONSORTIUM_KEY)
    result = ledger.as_member(actors.core).confirm_invoices(prints)
    assert [e.args for e in result.events_named("InvoiceConfirmed")] == [
        {"fingerprint": hx(fp), "buyer": actors.core.address} for fp in prints
    ]
    assert [status(ledger, fp) for fp in prints] == [InvoiceStatus.CONFIRMED] * 2


def test_confirm_refusals(ledger: Ledger, actors: Actors) -> None:
    fp, _ = ledger.as_supplier(actors.supplier).register_invoice(
        registration(actors.supplier, actors.core), CONSORTIUM_KEY
    )
    with reverts("InvoiceUnauthorizedBuyer", {"caller": actors.core2.address, "buyer": actors.core.address}):
        ledger.as_member(actors.core2).confirm_invoices([fp])
    with reverts("InvoiceUnauthorizedBuyer", {"caller": actors.supplier.address, "buyer": actors.core.address}):
        ledger.as_member(actors.supplier).confirm_invoices([fp])
    with reverts("InvoiceUnauthorizedMember", {"account": actors.outsider.address, "role": ZERO32}):
        ledger.as_member(actors.outsider).confirm_invoices([fp])
    unknown = os.urandom(32)
    with reverts("InvoiceNotFound", {"fingerprint": hx(unknown)}):
        ledger.as_member(actors.core).confirm_invoices([fp, unknown])
    assert status(ledger, fp) is InvoiceStatus.REGISTERED

    ledger.as_member(actors.core).confirm_invoices([fp])
    with reverts("InvoiceInvalidStatus", {"fingerprint": hx(fp), "status": InvoiceStatus.CONFIRMED}):
        ledger.as_member(actors.core).confirm_invoices([fp])
    ledger.as_member(actors.core).void_invoice(fp)
    with reverts("InvoiceInvalidStatus", {"fingerprint": hx(fp), "status": InvoiceStatus.VOIDED}):
        ledger.as_member(actors.core).confirm_invoices([fp])


# ---------------------------------------------------------------------------------------- voiding


@pytest.mark.parametrize("confirmed", [False, True], ids=["registered", "confirmed"])
@pytest.mark.parametrize("by", ["seller", "delegate", "buyer"])
def test_void(ledger: Ledger, actors: Actors, by: str, confirmed: bool) -> None:
    ledger.as_supplier(actors.supplier).set_delegate(actors.supplier2.address)
    fp, _ = ledger.as_supplier(actors.supplier).register_invoice(
        registration(actors.supplier, actors.core), CONSORTIUM_KEY
    )
    if confirmed:
        ledger.as_member(actors.core).confirm_invoices([fp])
    caller = {"seller": actors.supplier, "delegate": actors.supplier2, "buyer": actors.core}[by]

    result = ledger.as_member(caller).void_invoice(fp, "duplicate-scan")

    assert result.event("InvoiceVoided").args == {
        "fingerprint": hx(fp),
        "by": caller.address,
        "reason": hx(b"duplicate-scan".ljust(32, b"\0")),
    }
    assert status(ledger, fp) is InvoiceStatus.VOIDED
    with reverts("InvoiceInvalidStatus", {"fingerprint": hx(fp), "status": InvoiceStatus.VOIDED}):
        ledger.as_member(caller).void_invoice(fp)


@pytest.mark.parametrize("caller", ["supplier2", "core2", "outsider", "system"])
def test_void_by_others(ledger: Ledger, actors: Actors, caller: str) -> None:
    fp, _ = ledger.as_supplier(actors.supplier).register_invoice(
        registration(actors.supplier, actors.core), CONSORTIUM_KEY
    )
    account: LocalAccount = getattr(actors, caller)
    with reverts("InvoiceUnauthorizedSeller", {"caller": account.address, "seller": actors.supplier.address}):
        ledger.as_member(account).void_invoice(fp)
    assert status(ledger, fp) is InvoiceStatus.REGISTERED


def test_void_unknown_invoice(ledger: Ledger, actors: Actors) -> None:
    unknown = os.urandom(32)
    with reverts("InvoiceNotFound", {"fingerprint": hx(unknown)}):
        ledger.as_member(actors.supplier).void_invoice(unknown)


def test_no_void_once_linked_to_a_claim(ledger: Ledger, actors: Actors) -> None:
    start = ledger.chain.w3.eth.block_number + 1
    slot, _ = issue_claim(ledger, actors, 1000 * ONE)
    logs = ledger.chain.w3.eth.get_logs({"fromBlock": start, "address": ledger.invoices.address})
    linked = [e for e in ledger.decoder.decode_all(logs) if e.name == "InvoiceLinked"]
    assert [e["slot"] for e in linked] == [slot]
    fp = bytes.fromhex(linked[0]["fingerprint"][2:])
    assert ledger.invoice(fp).slot == slot

    for caller in (actors.supplier, actors.core):
        with reverts("InvoiceInvalidStatus", {"fingerprint": hx(fp), "status": InvoiceStatus.LINKED}):
            ledger.as_member(caller).void_invoice(fp, "change of mind")
    assert status(ledger, fp) is InvoiceStatus.LINKED


# ------------------------------------------------------------------------- linking and settling


def link_call(ledger: Ledger, actors: Actors, prints: list[bytes], **overrides: Any) -> Any:
    args = {
        "seller": actors.supplier.address,
        "buyer": actors.core.address,
        "asset": ledger.deployment.settlement_asset,
        **overrides,
    }
    return ledger.invoices.functions.link(prints, SLOT, args["seller"], args["buyer"], args["asset"])


SYSTEM_ONLY = {
    "link": lambda lg, a, prints: link_call(lg, a, prints),
    "markSettled": lambda lg, a, prints: lg.invoices.functions.markSettled(prints, SLOT),
}


@pytest.mark.parametrize("caller", ["supplier", "core", "admin", "registrar", "outsider"])
@pytest.mark.parametrize("action", list(SYSTEM_ONLY))
def test_link_and_settle_only_by_system(ledger: Ledger, actors: Actors, action: str, caller: str) -> None:
    prints = confirmed_invoices(ledger, actors, [10 * ONE])
    account: LocalAccount = getattr(actors, caller)
    with reverts("InvoiceUnauthorizedSystem", {"caller": account.address}) as exc:
        ledger.execute(account, SYSTEM_ONLY[action](ledger, actors, prints))
    assert isinstance(exc.value, AccessDeniedError)
    assert status(ledger, prints[0]) is InvoiceStatus.CONFIRMED


def test_system_links_confirmed_invoices_and_settles_them(ledger: Ledger, actors: Actors) -> None:
    prints = confirmed_invoices(ledger, actors, [100 * ONE, 250 * ONE])
    call = link_call(ledger, actors, prints)
    assert ledger.chain.call(call, sender=actors.system.address) == 350 * ONE

    linked = ledger.execute(actors.system, call)
    assert [e.args for e in linked.events_named("InvoiceLinked")] == [
        {"fingerprint": hx(fp), "slot": SLOT} for fp in prints
    ]
    assert [(ledger.invoice(fp).status, ledger.invoice(fp).slot) for fp in prints] == [(InvoiceStatus.LINKED, SLOT)] * 2
    with reverts("InvoiceInvalidStatus", {"fingerprint": hx(prints[0]), "status": InvoiceStatus.LINKED}):
        ledger.execute(actors.system, call)  # never twice
    with reverts("InvoiceInvalidStatus", {"fingerprint": hx(prints[0]), "status": InvoiceStatus.LINKED}):
        ledger.execute(actors.system, ledger.invoices.functions.markSettled(prints, SLOT + 1))  # other slot

    settled = ledger.execute(actors.system, ledger.invoices.functions.markSettled(prints, SLOT))
    assert [e.args for e in settled.events_named("InvoiceSettled")] == [
        {"fingerprint": hx(fp), "slot": SLOT} for fp in prints
    ]
    assert [status(ledger, fp) for fp in prints] == [InvoiceStatus.SETTLED] * 2
    with reverts("InvoiceInvalidStatus", {"fingerprint": hx(prints[0]), "status": InvoiceStatus.SETTLED}):
        ledger.execute(actors.system, ledger.invoices.functions.markSettled(prints, SLOT))
    with reverts("InvoiceInvalidStatus", {"fingerprint": hx(prints[0]), "status": InvoiceStatus.SETTLED}):
        ledger.as_member(actors.supplier).void_invoice(prints[0])


def test_link_needs_confirmed_invoices(ledger: Ledger, actors: Actors) -> None:
    fp, _ = ledger.as_supplier(actors.supplier).register_invoice(
        registration(actors.supplier, actors.core), CONSORTIUM_KEY
    )
    with reverts("InvoiceInvalidStatus", {"fingerprint": hx(fp), "status": InvoiceStatus.REGISTERED}):
        ledger.execute(actors.system, link_call(ledger, actors, [fp]))
    with reverts("InvoiceInvalidStatus", {"fingerprint": hx(fp), "status": InvoiceStatus.REGISTERED}):
        ledger.execute(actors.system, ledger.invoices.functions.markSettled([fp], 0))
    unknown = os.urandom(32)
    with reverts("InvoiceNotFound", {"fingerprint": hx(unknown)}):
        ledger.execute(actors.system, link_call(ledger, actors, [unknown]))


@pytest.mark.parametrize("field", ["seller", "buyer", "asset"])
def test_link_mismatch(ledger: Ledger, actors: Actors, field: str) -> None:
    ok, other = (
        confirmed_invoices(ledger, actors, [10 * ONE]),
        confirmed_invoices(ledger, actors, [20 * ONE], seller=actors.supplier2, buyer=actors.core2),
    )
    wrong = {
        "seller": actors.supplier2.address,
        "buyer": actors.core2.address,
        "asset": ledger.deployment.address("ReceivableToken"),
    }[field]
    with reverts("InvoiceMismatch", {"fingerprint": hx(ok[0])}) as exc:
        ledger.execute(actors.system, link_call(ledger, actors, ok, **{field: wrong}))
    assert isinstance(exc.value, InvalidInputError)
    # one invoice of another payable spoils the whole batch
    with reverts("InvoiceMismatch", {"fingerprint": hx(other[0])}):
        ledger.execute(actors.system, link_call(ledger, actors, ok + other))
    assert status(ledger, ok[0]) is InvoiceStatus.CONFIRMED


def test_system_role_is_read_from_participants(ledger: Ledger, actors: Actors) -> None:
    prints = confirmed_invoices(ledger, actors, [10 * ONE])
    ledger.as_admin(actors.admin).revoke(Role.SYSTEM, actors.system.address)
    with reverts("InvoiceUnauthorizedSystem", {"caller": actors.system.address}):
        ledger.execute(actors.system, link_call(ledger, actors, prints))
    ledger.as_admin(actors.admin).grant(Role.SYSTEM, actors.outsider.address)
    assert ledger.execute(actors.outsider, link_call(ledger, actors, prints)).event("InvoiceLinked")["slot"] == SLOT
