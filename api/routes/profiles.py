"""Off-chain facts about firms and the credit reports committed on-chain: firm profiles with provenance
(submitted by a CREDIT_BUREAU or REGULATOR through :func:`risk.profiles.submit_profile`, append-only), and
the mirror's record of CreditRegistry commitments (the reports themselves stay with the firms)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlmodel import SQLModel, col, func, or_, select

from api.deps import CurrentMember, SessionDep
from api.errors import ApiError
from api.routes.pages import DENIED, Page, Paging, fetch
from api.types import Address, Bytes32
from indexer.models import CreditReport
from ledger.roles import Role
from risk.models import FirmProfile
from risk.profiles import TAX_GRADES, ProfileError, submit_profile

router = APIRouter(tags=["profiles"])
PROFILE_READERS = frozenset({Role.LENDER, Role.AUDITOR, Role.REGULATOR, Role.CREDIT_BUREAU})  # besides the firm
REPORT_READERS = frozenset({Role.LENDER, Role.AUDITOR, Role.REGULATOR})  # all reports; a bureau: those it issued
Count = Annotated[int, Field(ge=0, lt=2**63)]


class ProfileBase(SQLModel):
    """A firm's off-chain facts (currency amounts in whole units)."""

    address: Address
    registered_on: Count = Field(description="registration date, unix seconds")
    registered_capital: Count
    shareholders: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=200)
    legal_representative: str = Field("", max_length=200)
    funding_address: Address | None = Field(None, description="the address that funded the firm's account (KYC)")
    tax_grade: str = Field("B", pattern="^(" + "|".join(TAX_GRADES) + ")$")
    court_judgments: Count = 0
    social_insurance_headcount: Count = 0
    patents: Count = 0
    rd_spend: Count = 0
    source: str = Field(min_length=1, max_length=200, description='where the facts come from, e.g. "SAMR registry"')


class ProfileCreate(ProfileBase):
    document_sha256: Bytes32 = Field(description="SHA-256 of the source document (0x hex); the document stays "
                                                 "with the submitter")


class ProfilePublic(ProfileBase):
    profile_id: int
    submitted_by: str
    submitted_at: int
    document_hash: str


def _public(row: FirmProfile) -> ProfilePublic:
    return ProfilePublic.model_validate(row, from_attributes=True)


@router.post("/profiles", status_code=201, responses=DENIED)
def submit(caller: CurrentMember, session: SessionDep, body: ProfileCreate) -> ProfilePublic:
    """Record a firm's profile as a credit bureau or regulator (the access table checks the on-chain role);
    a new submission supersedes the firm's earlier ones and keeps them."""
    facts = body.model_dump(exclude={"source", "document_sha256"})
    try:
        row = submit_profile(session.get_bind(), submitted_by=caller.address, submitted_at=int(time.time()),
                             source=body.source, document_sha256="0x" + body.document_sha256.hex(),
                             check_role=False, **facts)
    except ProfileError as exc:
        raise ApiError(422, "InvalidProfile", str(exc)) from None
    return _public(row)


@router.get("/profiles/{address}", responses=DENIED)
def profiles(caller: CurrentMember, session: SessionDep, paging: Paging,
             address: Annotated[Address, Path(description="the firm")]) -> Page[ProfilePublic]:
    """A firm's profile submissions, newest (the current one) first: for the firm, lenders, auditors,
    regulators and credit bureaus."""
    if caller.address.lower() != address.lower() and not caller.roles & PROFILE_READERS:
        raise ApiError(403, "OtherFirmsData", f"the profile of {address} is for that firm, lenders, auditors, "
                       "regulators and credit bureaus only")
    query = select(FirmProfile).where(func.lower(FirmProfile.address) == address.lower())
    rows, total = fetch(session, query, paging, col(FirmProfile.profile_id).desc())
    return Page(items=[_public(r) for r in rows], total=total, limit=paging.limit, offset=paging.offset)


class CreditReportPublic(BaseModel):
    root: str  # the report's Poseidon root (decimal string: a field element)
    report_id: int
    bureau: str
    subject: str
    document_hash: str
    expiry: int
    registered_at: int
    revoked: bool


@router.get("/credit/reports", responses=DENIED)
def credit_reports(
    caller: CurrentMember, session: SessionDep, paging: Paging,
    subject: Annotated[Address | None, Query(description="reports about this firm")] = None,
    bureau: Annotated[Address | None, Query(description="reports this bureau issued")] = None,
    include_revoked: bool = False,
) -> Page[CreditReportPublic]:
    """Credit-report commitments as the chain records them: a firm sees those about itself, a bureau those it
    issued, lenders, auditors and regulators all."""
    query = select(CreditReport)
    if not caller.roles & REPORT_READERS:
        mine = [func.lower(CreditReport.subject) == caller.address.lower()]
        if Role.CREDIT_BUREAU in caller.roles:
            mine.append(func.lower(CreditReport.bureau) == caller.address.lower())
        for asked in (subject, bureau):
            if asked is not None and asked.lower() != caller.address.lower():
                raise ApiError(403, "OtherFirmsData", f"reports of {asked} are for that firm, its bureau, lenders, "
                               "auditors and regulators only")
        query = query.where(or_(*mine))
    if subject is not None:
        query = query.where(func.lower(CreditReport.subject) == subject.lower())
    if bureau is not None:
        query = query.where(func.lower(CreditReport.bureau) == bureau.lower())
    if not include_revoked:
        query = query.where(col(CreditReport.revoked).is_(False))
    rows, total = fetch(session, query, paging, col(CreditReport.registered_at).desc(), col(CreditReport.report_id))
    items = [CreditReportPublic(root=str(r.root), report_id=r.report_id, bureau=r.bureau, subject=r.subject,
                                document_hash=r.document_hash, expiry=r.expiry, registered_at=r.registered_at,
                                revoked=r.revoked) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)
