"""Per-contract event handlers: a registry mapping (contract, event name) to a function that writes
rows through the :class:`~indexer.store.Overlay`. The engine knows nothing of the business; a
contract added to the manifest later is mirrored by registering its handlers here (events without a
handler are still kept in ``raw_log``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from indexer.models import (
    CancelledNonce,
    ContractFlag,
    CreditPass,
    CreditPolicy,
    CreditReport,
    Deposit,
    EvidenceBatch,
    EvidenceCountersignature,
    EvidenceHead,
    EvidenceRevocation,
    Financing,
    Holding,
    Invoice,
    LenderPolicy,
    OperatorApproval,
    Organization,
    Payable,
    Redemption,
    RoleMember,
    SellerDelegate,
    SlotMark,
    TokenTransfer,
    ValueMove,
    WriteOff,
)
from indexer.store import Overlay
from ledger.events import DecodedEvent
from ledger.records import MoveKind
from ledger.roles import Role

ZERO_ADDRESS = "0x" + "0" * 40
SLOT_BASE = 10**9  # ReceivableToken.SLOT_BASE: token id = slot * SLOT_BASE + serial


@dataclass
class Context:
    """What a handler gets besides the event: the overlay and the event's block timestamp."""

    store: Overlay
    timestamp: int


Handler = Callable[[Context, DecodedEvent], None]


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}

    def on(self, contract: str, event: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self._handlers[(contract, event)] = fn
            return fn

        return register

    def get(self, contract: str, event: str) -> Handler | None:
        return self._handlers.get((contract, event))

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._handlers

    def keys(self) -> list[tuple[str, str]]:
        return sorted(self._handlers)


registry = HandlerRegistry()
on = registry.on
_ROLE_NAMES = {"0x" + r.id.hex(): r.name for r in Role}


def _hist(ctx: Context, event: DecodedEvent) -> dict[str, Any]:
    return {"block_number": event.block_number, "log_index": event.log_index, "tx_hash": event.tx_hash,
            "block_timestamp": ctx.timestamp}


# ------------------------------------------------------------------ Participants


@on("Participants", "MemberAdmitted")
def member_admitted(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(Organization, {"address": ev["account"], "name_hash": ev["nameHash"],
                                 "valid_until": ev["validUntil"], "admitted_at": ctx.timestamp})


@on("Participants", "MemberRenewed")
def member_renewed(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Organization, ev["account"], valid_until=ev["validUntil"])


@on("Participants", "MemberRemoved")
def member_removed(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.delete(Organization, ev["account"])


@on("Participants", "RoleGranted")
def role_granted(ctx: Context, ev: DecodedEvent) -> None:
    role = ev["role"]
    ctx.store.put(RoleMember, {"role": role, "account": ev["account"], "role_name": _ROLE_NAMES.get(role, role)})


@on("Participants", "RoleRevoked")
def role_revoked(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.delete(RoleMember, ev["role"], ev["account"])


# --------------------------------------------------------------- InvoiceRegistry


@on("InvoiceRegistry", "InvoiceRegistered")
def invoice_registered(ctx: Context, ev: DecodedEvent) -> None:
    partial = ev["partialFingerprints"]
    ctx.store.put(Invoice, {
        "fingerprint": ev["fingerprint"], "seller": ev["seller"], "buyer": ev["buyer"], "asset": ev["asset"],
        "amount": ev["amount"], "issue_date": ev["issueDate"], "document_hash": ev["documentHash"],
        "partial_fingerprint_1": partial[0], "partial_fingerprint_2": partial[1], "partial_fingerprint_3": partial[2],
        "status": 1, "registered_at": ctx.timestamp, "slot": 0, "voided_by": None, "void_reason": None,
    })


@on("InvoiceRegistry", "InvoiceConfirmed")
def invoice_confirmed(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Invoice, ev["fingerprint"], status=2)


@on("InvoiceRegistry", "InvoiceLinked")
def invoice_linked(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Invoice, ev["fingerprint"], status=3, slot=ev["slot"])


@on("InvoiceRegistry", "InvoiceSettled")
def invoice_settled(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Invoice, ev["fingerprint"], status=4)


@on("InvoiceRegistry", "InvoiceVoided")
def invoice_voided(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Invoice, ev["fingerprint"], status=5, voided_by=ev["by"], void_reason=ev["reason"])


@on("InvoiceRegistry", "DelegateSet")
def delegate_set(ctx: Context, ev: DecodedEvent) -> None:
    if ev["allowed"]:
        ctx.store.put(SellerDelegate, {"seller": ev["seller"], "delegate": ev["delegate"]})
    else:
        ctx.store.delete(SellerDelegate, ev["seller"], ev["delegate"])


# --------------------------------------------------------------- ReceivableToken


@on("ReceivableToken", "SlotIssued")
def slot_issued(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(Payable, {
        "slot": ev["slot"], "debtor": ev["debtor"], "first_holder": ev["holder"], "first_token_id": ev["tokenId"],
        "asset": ev["asset"], "face_value": ev["faceValue"], "maturity": ev["maturity"],
        "grace_period": ev["gracePeriod"], "default_period": ev["defaultPeriod"], "issued_at": ctx.timestamp,
        "redeemed_value": 0, "accepted": False, "status": 0, "marked": 0, "cumulative_paid": 0, "paid_out": 0,
        "written_off": 0,
    })


@on("ReceivableToken", "ReceivableAccepted")
def receivable_accepted(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Payable, ev["tokenId"] // SLOT_BASE, accepted=True)


@on("ReceivableToken", "Transfer")
def token_transfer(ctx: Context, ev: DecodedEvent) -> None:
    token_id, sender, receiver = ev["tokenId"], ev["from"], ev["to"]
    store = ctx.store
    store.put(TokenTransfer, {**_hist(ctx, ev), "token_id": token_id, "from_address": sender, "to_address": receiver})
    if sender == ZERO_ADDRESS:
        store.put(Holding, {"token_id": token_id, "slot": token_id // SLOT_BASE, "owner": receiver, "value": 0,
                            "frozen": 0, "encumbered": 0, "paid": 0, "approved": None, "burned": False})
    elif receiver == ZERO_ADDRESS:
        store.update(Holding, token_id, burned=True, approved=None, paid=0)
    else:
        store.update(Holding, token_id, owner=receiver, approved=None)


@on("ReceivableToken", "ValueMoved")
def value_moved(ctx: Context, ev: DecodedEvent) -> None:
    store = ctx.store
    source, target, value, kind = ev["fromTokenId"], ev["toTokenId"], ev["value"], ev["kind"]
    store.put(ValueMove, {**_hist(ctx, ev), "slot": ev["slot"], "from_token_id": source, "to_token_id": target,
                          "value": value, "kind": kind})
    if source:
        row = store.get(Holding, source)
        store.update(Holding, source, value=row["value"] - value)  # type: ignore[index]
    if target:
        row = store.get(Holding, target)
        store.update(Holding, target, value=row["value"] + value)  # type: ignore[index]
    if kind == MoveKind.REDEEM:
        payable = store.get(Payable, ev["slot"])
        store.update(Payable, ev["slot"], redeemed_value=payable["redeemed_value"] + value)  # type: ignore[index]


@on("ReceivableToken", "ValueFrozen")
def value_frozen(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Holding, ev["tokenId"], frozen=ev["frozen"])


@on("ReceivableToken", "ValueEncumbered")
def value_encumbered(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Holding, ev["tokenId"], encumbered=ev["encumbered"])


@on("ReceivableToken", "Approval")
def token_approval(ctx: Context, ev: DecodedEvent) -> None:
    approved = None if ev["approved"] == ZERO_ADDRESS else ev["approved"]
    ctx.store.update(Holding, ev["tokenId"], approved=approved)


@on("ReceivableToken", "ApprovalForAll")
def approval_for_all(ctx: Context, ev: DecodedEvent) -> None:
    if ev["approved"]:
        ctx.store.put(OperatorApproval, {"owner": ev["owner"], "operator": ev["operator"]})
    else:
        ctx.store.delete(OperatorApproval, ev["owner"], ev["operator"])


@on("ReceivableToken", "Paused")
def paused(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(ContractFlag, {"contract": "ReceivableToken", "name": "paused", "value": True})


@on("ReceivableToken", "Unpaused")
def unpaused(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(ContractFlag, {"contract": "ReceivableToken", "name": "paused", "value": False})


# ----------------------------------------------------------------- FinancingDesk


@on("FinancingDesk", "Financed")
def financed(ctx: Context, ev: DecodedEvent) -> None:
    terms = ev["terms"]
    pledge = terms["kind"] == 1
    ctx.store.put(Financing, {
        "financing_id": ev["financingId"], "lender": ev["lender"], "holder": ev["holder"], "token_id": ev["tokenId"],
        "lender_token_id": ev["lenderTokenId"], "value": terms["value"], "price": terms["price"], "fee": terms["fee"],
        "kind": terms["kind"], "settlement": terms["settlement"], "recourse": terms["recourse"],
        "bank_reference": terms["bankReference"], "status": 1 if pledge else 0,
        "start": ctx.timestamp if pledge else 0, "repaid_by": None, "repaid_principal": None,
        "repaid_interest": None, "seized_token_id": None, "recourse_slot": None, "recourse_token_id": None,
        "recourse_unpaid": None,
    })


@on("FinancingDesk", "LoanRepaid")
def loan_repaid(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Financing, ev["loanId"], status=2, repaid_by=ev["payer"], repaid_principal=ev["principal"],
                     repaid_interest=ev["interest"])


@on("FinancingDesk", "LoanSeized")
def loan_seized(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Financing, ev["loanId"], status=3, seized_token_id=ev["lenderTokenId"])


@on("FinancingDesk", "RecourseExercised")
def recourse_exercised(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(Financing, ev["financingId"], recourse_slot=ev["recourseSlot"],
                     recourse_token_id=ev["recourseTokenId"], recourse_unpaid=ev["unpaid"])


@on("FinancingDesk", "PolicySet")
def policy_set(ctx: Context, ev: DecodedEvent) -> None:
    if ev["policy"] == ZERO_ADDRESS:
        ctx.store.delete(LenderPolicy, ev["lender"])
    else:
        ctx.store.put(LenderPolicy, {"lender": ev["lender"], "policy": ev["policy"]})


@on("FinancingDesk", "NonceCancelled")
def nonce_cancelled(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(CancelledNonce, {"signer": ev["signer"], "nonce": ev["nonce"]})


# --------------------------------------------------------------- SettlementVault


def _slot_status(payable: dict) -> int:
    return 3 if payable["cumulative_paid"] == payable["face_value"] else payable["marked"]


@on("SettlementVault", "Deposited")
def deposited(ctx: Context, ev: DecodedEvent) -> None:
    store = ctx.store
    store.put(Deposit, {**_hist(ctx, ev), "slot": ev["slot"], "payer": ev["payer"], "amount": ev["amount"],
                        "cumulative_paid": ev["cumulativePaid"]})
    payable = store.get(Payable, ev["slot"])
    payable["cumulative_paid"] = ev["cumulativePaid"]  # type: ignore[index]
    store.update(Payable, ev["slot"], cumulative_paid=ev["cumulativePaid"], status=_slot_status(payable))  # type: ignore[arg-type]


@on("SettlementVault", "Redeemed")
def redeemed(ctx: Context, ev: DecodedEvent) -> None:
    store = ctx.store
    store.put(Redemption, {**_hist(ctx, ev), "token_id": ev["tokenId"], "slot": ev["slot"], "holder": ev["holder"],
                           "paid": ev["paid"], "total_paid_to_token": ev["totalPaidToToken"]})
    store.update(Holding, ev["tokenId"], paid=ev["totalPaidToToken"])
    payable = store.get(Payable, ev["slot"])
    store.update(Payable, ev["slot"], paid_out=payable["paid_out"] + ev["paid"])  # type: ignore[index]


@on("SettlementVault", "WrittenOff")
def written_off(ctx: Context, ev: DecodedEvent) -> None:
    store = ctx.store
    store.put(WriteOff, {**_hist(ctx, ev), "token_id": ev["tokenId"], "slot": ev["slot"], "holder": ev["holder"],
                         "unpaid_value": ev["unpaidValue"]})
    store.update(Holding, ev["tokenId"], paid=0)
    payable = store.get(Payable, ev["slot"])
    store.update(Payable, ev["slot"], written_off=payable["written_off"] + ev["unpaidValue"])  # type: ignore[index]


def _mark(ctx: Context, ev: DecodedEvent, mark: str, code: int) -> None:
    store = ctx.store
    store.put(SlotMark, {**_hist(ctx, ev), "slot": ev["slot"], "mark": mark, "outstanding": ev["outstanding"]})
    payable = store.get(Payable, ev["slot"])
    payable["marked"] = code  # type: ignore[index]
    store.update(Payable, ev["slot"], marked=code, status=_slot_status(payable))  # type: ignore[arg-type]


@on("SettlementVault", "SlotOverdue")
def slot_overdue(ctx: Context, ev: DecodedEvent) -> None:
    _mark(ctx, ev, "overdue", 1)


@on("SettlementVault", "SlotDefaulted")
def slot_defaulted(ctx: Context, ev: DecodedEvent) -> None:
    _mark(ctx, ev, "defaulted", 2)


# ---------------------------------------------------------------- EvidenceLedger


@on("EvidenceLedger", "BatchAnchored")
def batch_anchored(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(EvidenceBatch, {"batch_id": ev["batchId"], "root": ev["root"], "submitter": ev["submitter"],
                                  "leaf_count": ev["leafCount"], "anchored_at": ev["anchoredAt"], "uri": ev["uri"]})


@on("EvidenceLedger", "HeadRecorded")
def head_recorded(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(EvidenceHead, {"size": ev["size"], "root": ev["root"]})


@on("EvidenceLedger", "Countersigned")
def countersigned(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(EvidenceCountersignature, {"leaf": ev["leaf"], "signer": ev["signer"], "root": ev["root"],
                                             "signed_at": ev["at"], "relayed": ev["relayed"]})


@on("EvidenceLedger", "Revoked")
def revoked(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(EvidenceRevocation, {"leaf": ev["leaf"], "root": ev["root"], "revoked_by": ev["revokedBy"],
                                       "revoked_at": ev["at"], "reason": ev["reason"]})


# ---------------------------------------------------------------- CreditRegistry, CreditGate


@on("CreditRegistry", "ReportRegistered")
def report_registered(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(CreditReport, {"root": ev["root"], "report_id": ev["id"], "bureau": ev["bureau"],
                                 "subject": ev["subject"], "document_hash": ev["documentHash"],
                                 "expiry": ev["expiry"], "registered_at": ctx.timestamp, "revoked": False})


@on("CreditRegistry", "ReportRevoked")
def report_revoked(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(CreditReport, ev["root"], revoked=True)


@on("CreditGate", "CreditPolicySet")
def credit_policy_set(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(CreditPolicy, {"lender": ev["lender"], "policy_hash": ev["policyHash"]})


@on("CreditGate", "PassGranted")
def pass_granted(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.put(CreditPass, {"lender": ev["lender"], "holder": ev["holder"], "root": ev["root"],
                               "nonce": ev["nonce"], "valid_until": ev["validUntil"], "consumed_token_id": None,
                               "consumed_value": None})


@on("CreditGate", "PassConsumed")
def pass_consumed(ctx: Context, ev: DecodedEvent) -> None:
    ctx.store.update(CreditPass, ev["lender"], ev["holder"], consumed_token_id=ev["tokenId"],
                     consumed_value=ev["value"])
