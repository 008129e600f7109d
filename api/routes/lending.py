"""Lenders' reads: exposure to each core enterprise's default by supplier tier (``risk.exposure`` over the
mirror), and the check of a credit proof or disclosure a firm handed over (``zk.check`` against the chain)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel

from api.deps import CurrentMember, LedgerDep, SessionDep
from api.errors import ApiError, ErrorBody
from api.routes.pages import DENIED, Page, Paging
from api.types import Address
from risk import data
from risk.exposure import core_default_exposure
from zk.check import REASONS, MalformedUploadError, check, parse_upload
from zk.onchain import CreditContracts

router = APIRouter(tags=["lending"])
LENDER_CHANNELS = ("discounted", "pledged")  # risk.exposure also reports the suppliers' own ("held") claims


class ExposureRow(BaseModel):
    core: str  # the core enterprise whose default is the scenario
    lender: str
    tier: int  # supplier tier the claim came from (1: the core's direct supplier; -1: not on the invoice graph)
    channel: str  # discounted (the lender holds part of the payable) | pledged (a loan secured by it)
    exposure: str  # smallest units of the settlement asset, unpaid share of the payable


class Exposure(Page[ExposureRow]):
    as_of_block: int  # the mirror's block


@router.get("/exposure", responses={**DENIED, 503: {"model": ErrorBody, "description": "mirror not readable"}})
def exposure(
    caller: CurrentMember, session: SessionDep, paging: Paging,
    lender: Annotated[Address | None, Query(description="whose exposure (default: yours; overseers: every "
                                                          "lender's)")] = None,
    core: Annotated[Address | None, Query(description="only this core enterprise's default")] = None,
) -> Exposure:
    """What each lender loses if a core enterprise defaults, per core and supplier tier, by core then lender."""
    if not caller.overseer:
        if lender is not None and lender.lower() != caller.address.lower():
            raise ApiError(403, "OtherFirmsData", f"the exposure of {lender} is for that lender, auditors and "
                           "regulators only")
        lender = caller.address
    try:
        mirror = data.load(session.get_bind(), with_history=False)  # type: ignore[arg-type]
    except data.MirrorError as exc:
        raise ApiError(503, "MirrorUnavailable", str(exc)) from None
    rows: list[ExposureRow] = []
    for debtor in sorted(set(mirror.payables["debtor"]), key=str.lower):
        if core is not None and debtor.lower() != core.lower():
            continue
        for r in core_default_exposure(mirror, debtor).itertuples():
            if r.channel in LENDER_CHANNELS and (lender is None or r.lender.lower() == lender.lower()):
                rows.append(ExposureRow(core=debtor, lender=r.lender, tier=r.tier, channel=r.channel,
                                        exposure=str(round(r.exposure))))
    return Exposure(items=rows[paging.offset:paging.offset + paging.limit], total=len(rows), limit=paging.limit,
                    offset=paging.offset, as_of_block=mirror.as_of_block)


class PredicateOut(BaseModel):
    field: str  # a report field (zk/schema.py)
    op: str  # ge | le | in | between | age_le (report at most N days old on the proof's day)
    operands: list[str]  # integers as decimal strings; tax grades by letter


class ProofCheck(BaseModel):
    kind: str  # groth16 | disclosure
    valid: bool
    reason: str | None  # why not (zk.check.REASONS), set exactly when valid is false
    message: str  # the reason in words, or what was verified
    root: str  # the report root, 0x-hex
    subject: str | None  # the firm the registered report is about
    bureau: str | None
    registered_at: int | None
    expiry: int | None
    lender: str | None  # a proof's addressee
    today: int | None  # the day (since 1970-01-01, UTC) a proof speaks of
    nonce: str | None
    policy_current: bool | None  # the proven policy is the lender's policy on the CreditGate now
    predicates: list[PredicateOut]  # what a proof establishes
    fields: dict[str, str]  # what a disclosure reveals, verified (integers as decimal strings)


UPLOAD = Body(description="the uploaded file: a Groth16 proof (proof, publicSignals, and policy, subject as "
                          "`scf zk prove` writes them) or a disclosure (root, fields; `scf zk disclose`)")


@router.post("/proofs/verify", responses={**DENIED, 422: {"model": ErrorBody, "description": "not a proof"}})
def verify_proof(caller: CurrentMember, ledger: LedgerDep, upload: Annotated[dict[str, Any], UPLOAD]) -> ProofCheck:
    """Verify a credit proof or field disclosure against the CreditRegistry and CreditGate: 200 with ``valid``
    and the verified predicates or fields, or ``valid: false`` and the reason; 422 when it is neither."""
    try:
        parsed = parse_upload(upload)
    except MalformedUploadError as exc:
        raise ApiError(422, "MalformedProof", str(exc)) from None
    if parsed.lender is not None and not caller.overseer and parsed.lender.lower() != caller.address.lower():
        raise ApiError(403, "NotYourProof", f"this proof is addressed to lender {parsed.lender}; only that lender, "
                       "auditors and regulators may check it", lender=parsed.lender)
    found = check(parsed, CreditContracts.of(ledger))
    message = REASONS[found.reason] if found.reason else (
        f"{len(found.predicates)} predicate(s) proven" if found.kind == "groth16"
        else f"{len(found.fields)} field(s) disclosed")
    return ProofCheck(
        kind=found.kind, valid=found.valid, reason=found.reason, message=message, root=hex(found.root),
        subject=found.subject, bureau=found.bureau, registered_at=found.registered_at, expiry=found.expiry,
        lender=found.lender, today=found.today, nonce=None if found.nonce is None else str(found.nonce),
        policy_current=found.policy_current,
        predicates=[PredicateOut(field=p.field, op=p.op, operands=[str(o) for o in p.operands])
                    for p in found.predicates],
        fields={k: str(v) for k, v in found.fields.items()})
