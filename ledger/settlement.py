"""Settlement of payables through a ``SettlementVault``: debtors' deposits, holders' redemptions
and write-offs, and the time-driven overdue/default marks.

Thin typed functions over the contract, in the style of :mod:`ledger.client`: every action
simulates first and raises a decoded :class:`~ledger.errors.ContractRevertError` (e.g.
``SettlementNothingDue(tokenId=...)``) on a refusal, and returns a :class:`~ledger.chain.TxResult`
whose events include the vault's. The vault is not (yet) part of the deployment manifest, so its
address is passed explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from ledger import actions
from ledger.chain import TxResult
from ledger.client import Ledger

VAULT = "SettlementVault"


class SlotStatus(IntEnum):
    """``ISettlementVault.Status``."""

    CURRENT = 0
    OVERDUE = 1
    DEFAULTED = 2
    PAID = 3


@dataclass(frozen=True)
class SlotSettlement:
    """Where the settlement of one payable stands."""

    slot: int
    status: SlotStatus
    face_value: int
    cumulative_paid: int
    paid_out: int
    written_off: int
    outstanding: int


def deploy_vault(ledger: Ledger, deployer: LocalAccount) -> str:
    """Deploy a vault for ``ledger``'s contracts; returns its address. The consortium's default
    admin must then grant it SYSTEM_ROLE (``ledger.as_admin(admin).grant(Role.SYSTEM, address)``)."""
    contract, _ = ledger.chain.deploy(
        deployer,
        VAULT,
        ledger.participants.address,
        ledger.receivables.address,
        ledger.invoices.address,
    )
    return str(contract.address)


def vault_contract(ledger: Ledger, vault: str) -> Contract:
    return ledger.chain.contract(VAULT, vault)


# ----------------------------------------------------------------- actions


def deposit(ledger: Ledger, vault: str, payer: LocalAccount, slot: int, amount: int) -> TxResult:
    """Pay ``amount`` of the slot's settlement asset toward ``slot``, approving the vault for it
    first when the payer's allowance is short (the approval is a separate transaction)."""
    asset_address = ledger.payable(slot).asset
    address = Web3.to_checksum_address(vault)
    if int(asset_address, 16):  # an unknown slot has no asset: let the vault refuse it
        asset = ledger.chain.contract("TestStablecoin", asset_address)  # any ERC-20: the same calls
        if ledger.chain.call(asset.functions.allowance(payer.address, address)) < amount:
            ledger.chain.send(payer, actions.approve_asset(ledger, address, amount, asset_address))
    return _execute(ledger, vault, payer, actions.deposit(ledger, vault, slot, amount))


def redeem(ledger: Ledger, vault: str, sender: LocalAccount, token_id: int) -> tuple[int, TxResult]:
    """Pay the holder of ``token_id`` what is due on it (anyone may send); returns the amount paid.
    On the slot's full payment this is the token's final payment and the token is burned."""
    result = _execute(ledger, vault, sender, actions.redeem(ledger, vault, token_id))
    return int(result.event("Redeemed")["paid"]), result


def write_off(ledger: Ledger, vault: str, holder: LocalAccount, token_id: int) -> tuple[int, TxResult]:
    """The holder of ``token_id`` of a defaulted slot collects what is due and writes off the rest
    (the token is burned); returns the written-off value."""
    result = _execute(ledger, vault, holder, vault_contract(ledger, vault).functions.writeOff(token_id))
    return int(result.event("WrittenOff")["unpaidValue"]), result


def mark_overdue(ledger: Ledger, vault: str, sender: LocalAccount, slot: int) -> TxResult:
    return _execute(ledger, vault, sender, vault_contract(ledger, vault).functions.markOverdue(slot))


def mark_defaulted(ledger: Ledger, vault: str, sender: LocalAccount, slot: int) -> TxResult:
    return _execute(ledger, vault, sender, vault_contract(ledger, vault).functions.markDefaulted(slot))


def settle_invoices(
    ledger: Ledger, vault: str, sender: LocalAccount, slot: int, fingerprints: Sequence[bytes]
) -> TxResult:
    """Mark the invoices of a fully paid ``slot`` Settled in the registry."""
    call = vault_contract(ledger, vault).functions.settleInvoices(slot, list(fingerprints))
    return _execute(ledger, vault, sender, call)


# ------------------------------------------------------------------- reads


def status(ledger: Ledger, vault: str, slot: int) -> SlotStatus:
    return SlotStatus(ledger.chain.call(vault_contract(ledger, vault).functions.statusOf(slot)))


def redeemable(ledger: Ledger, vault: str, token_id: int) -> int:
    """What a redemption of ``token_id`` would pay now (zero where the vault would refuse)."""
    return int(ledger.chain.call(vault_contract(ledger, vault).functions.redeemable(token_id)))


def paid_to_token(ledger: Ledger, vault: str, token_id: int) -> int:
    return int(vault_contract(ledger, vault).functions.paidToToken(token_id).call())


def settlement(ledger: Ledger, vault: str, slot: int) -> SlotSettlement:
    """The settlement state of ``slot`` (raises ``SettlementUnknownSlot`` for an unknown slot)."""
    fn = vault_contract(ledger, vault).functions
    slot_status = status(ledger, vault, slot)
    paid = int(fn.cumulativePaid(slot).call())
    face = ledger.payable(slot).face_value
    return SlotSettlement(
        slot=slot,
        status=slot_status,
        face_value=face,
        cumulative_paid=paid,
        paid_out=int(fn.paidOut(slot).call()),
        written_off=int(fn.writtenOff(slot).call()),
        outstanding=face - paid,
    )


# --------------------------------------------------------------- plumbing


def _execute(ledger: Ledger, vault: str, account: LocalAccount, call: Any) -> TxResult:
    ledger.decoder.add(vault, VAULT)  # a vault outside the manifest (tests deploy their own)
    return ledger.execute(account, call)
