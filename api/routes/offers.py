"""The offer book: lenders post the EIP-712 offers they signed; holders see the open ones on their tokens
with the price the desk would pay now, and take one with ``/tx/build``'s ``take_offer`` (the server
supplies the stored signature).

Offers live in the API's own table ``api_offer`` (api/migrations, next to the audit log). Their status
comes from the mirror and the clock: ``taken`` when the mirror has a ``Financed`` row of that lender on
that token with the offer's terms, mined at or after the offer was posted (the event carries no nonce;
each row accounts for one offer, the oldest first); ``cancelled`` when the lender's nonce is in the
mirror's cancelled-nonce table; ``expired`` past its expiry (chain time); ``withdrawn`` when the lender
took it off the book; else ``open``. Amounts are decimal strings in the asset's smallest unit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Float,
    Integer,
    String,
    Table,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, or_
from sqlmodel import select as sql_select

from api.audit import metadata
from api.deps import Caller, CurrentMember, LedgerDep, SessionDep
from api.errors import ApiError, ErrorBody, jsonable
from api.routes.pages import DENIED, NOT_FOUND, Page, PageParams, Paging
from api.types import Address, HexBytes, Uint256
from indexer.models import CancelledNonce, Financing, Holding, Payable
from ledger import actions
from ledger.client import Ledger
from ledger.financing import ZERO_ADDRESS, Kind, Offer, Settlement, offer_price, signed_by

router = APIRouter(tags=["offers"])
DESK = "FinancingDesk"
UINT = 78  # decimal digits of a uint256

api_offer = Table(
    "api_offer", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("desk", String(42), nullable=False),  # the FinancingDesk the offer was signed for
    Column("lender", String(42), nullable=False, index=True),
    Column("holder", String(42), nullable=False),  # as signed; the zero address: any holder of the token
    Column("token_id", BigInteger, nullable=False, index=True),
    Column("slot", String(UINT), nullable=False),  # as signed (the desk ignores it when token_id is set)
    Column("value", String(UINT), nullable=False),
    Column("kind", Integer, nullable=False),
    Column("rate_bps", BigInteger, nullable=False),
    Column("penalty_bps", BigInteger, nullable=False),
    Column("fixed_price", String(UINT), nullable=False),
    Column("fee", String(UINT), nullable=False),
    Column("recourse", Boolean, nullable=False),
    Column("expiry", BigInteger, nullable=False),
    Column("nonce", String(UINT), nullable=False),
    Column("signature", String(300), nullable=False),  # 0x-hex
    Column("posted_at", Float, nullable=False),
    Column("posted_block", BigInteger, nullable=False),  # chain head when posted: a take is mined after it
    Column("withdrawn_at", Float, nullable=True),
    UniqueConstraint("desk", "lender", "nonce", name="uq_api_offer_nonce"),
)


class Side(StrEnum):
    LENDER = "lender"
    HOLDER = "holder"


class OfferStatus(StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


async def get_book(request: Request) -> Engine:
    """The engine of the API's own tables (the audit log's database), where ``api_offer`` lives."""
    return request.app.state.audit.engine


BookDep = Annotated[Engine, Depends(get_book)]


# ------------------------------------------------------------------------ models


class OfferIn(BaseModel):
    """An offer as the caller (the lender) signed it for the deployment's FinancingDesk (EIP-712 ``Offer``
    with ``lender`` = the caller and ``settlement`` = 0, token settlement)."""

    token_id: Annotated[int, Field(gt=0, le=2**63 - 1)]
    value: Annotated[int, Field(gt=0, lt=2**128)]
    expiry: Annotated[int, Field(gt=0, lt=2**64)]
    nonce: Uint256
    signature: HexBytes
    holder: Address = ZERO_ADDRESS
    slot: Uint256 = 0
    kind: Literal[0, 1] = 0
    rate_bps: Annotated[int, Field(ge=0, lt=2**32)] = 0
    penalty_bps: Annotated[int, Field(ge=0, lt=2**32)] = 0
    fixed_price: Uint256 = 0
    fee: Uint256 = 0
    recourse: bool = False


class OfferOut(BaseModel):
    id: int
    lender: str
    holder: str
    token_id: int
    slot: int | None  # the token's payable (from the mirror)
    value: str
    kind: int  # 0 discount, 1 pledge
    rate_bps: int
    penalty_bps: int
    fixed_price: str
    fee: str
    recourse: bool
    expiry: int
    nonce: str
    status: OfferStatus
    price: str | None  # open offers: what the desk would pay (discount) or lend (pledge) now
    net: str | None  # price less the lender's fee: what the holder receives
    financing_id: int | None  # taken offers: the financing in the mirror
    posted_at: float


class WithdrawnOut(BaseModel):
    offer: OfferOut
    cancel_transaction: dict[str, Any] | None  # with ?cancel_nonce=true: cancelNonce unsigned, for the wallet


# ---------------------------------------------------------------------- the book


@dataclass(frozen=True)
class StoredOffer:
    id: int
    desk: str
    offer: Offer
    signature: bytes
    posted_at: float
    posted_block: int
    withdrawn_at: float | None


def _stored(row: Any) -> StoredOffer:
    offer = Offer(lender=row.lender, holder=row.holder, token_id=row.token_id, slot=int(row.slot),
                  value=int(row.value), kind=Kind(row.kind), settlement=Settlement.TOKEN, rate_bps=row.rate_bps,
                  penalty_bps=row.penalty_bps, fixed_price=int(row.fixed_price), fee=int(row.fee),
                  recourse=row.recourse, expiry=row.expiry, nonce=int(row.nonce))
    return StoredOffer(row.id, row.desk, offer, bytes.fromhex(row.signature[2:]), row.posted_at, row.posted_block,
                       row.withdrawn_at)


def load(book: Engine, offer_id: int) -> StoredOffer:
    with book.connect() as conn:
        row = conn.execute(select(api_offer).where(api_offer.c.id == offer_id)).first()
    if row is None:
        raise ApiError(404, "UnknownOffer", f"no offer {offer_id} in the book")
    return _stored(row)


def chain_now(ledger: Ledger) -> int:
    return int(ledger.chain.w3.eth.get_block("latest")["timestamp"])


def statuses(session: Session, offers: list[StoredOffer], now: int) -> dict[int, tuple[OfferStatus, int | None]]:
    """Each offer's status and, when taken, its financing id (see the module's docstring)."""
    if not offers:
        return {}
    lenders = {o.offer.lender.lower() for o in offers}
    cancelled = {(c.signer.lower(), int(c.nonce)) for c in session.exec(
        sql_select(CancelledNonce).where(func.lower(CancelledNonce.signer).in_(lenders)))}
    financed = list(session.exec(sql_select(Financing).where(
        func.lower(Financing.lender).in_(lenders),
        Financing.token_id.in_({o.offer.token_id for o in offers})).order_by(Financing.financing_id)))  # type: ignore[union-attr]
    used: set[int] = set()
    found: dict[int, tuple[OfferStatus, int | None]] = {}
    for stored in sorted(offers, key=lambda s: s.id):
        o = stored.offer
        match = next((f for f in financed if f.financing_id not in used and f.lender.lower() == o.lender.lower()
                      and f.token_id == o.token_id and int(f.value) == o.value and int(f.fee) == o.fee
                      and f.kind == o.kind and f.settlement == Settlement.TOKEN and f.recourse == o.recourse
                      and f.block_number >= stored.posted_block
                      and (not o.fixed_price or int(f.price) == o.fixed_price)), None)
        if match is not None:
            used.add(match.financing_id)
            found[stored.id] = (OfferStatus.TAKEN, match.financing_id)
        elif stored.withdrawn_at is not None:
            found[stored.id] = (OfferStatus.WITHDRAWN, None)
        elif (o.lender.lower(), o.nonce) in cancelled:
            found[stored.id] = (OfferStatus.CANCELLED, None)
        elif now > o.expiry:  # the desk refuses after expiry, not at it
            found[stored.id] = (OfferStatus.EXPIRED, None)
        else:
            found[stored.id] = (OfferStatus.OPEN, None)
    return found


def require_open(session: Session, stored: StoredOffer, now: int) -> None:
    """409 with the reason when ``stored`` can no longer be taken or withdrawn."""
    status, financing = statuses(session, [stored], now)[stored.id]
    reasons = {
        OfferStatus.TAKEN: ("OfferTaken", f"offer {stored.id} was taken already (financing {financing})"),
        OfferStatus.WITHDRAWN: ("OfferWithdrawn", f"offer {stored.id} was withdrawn by its lender"),
        OfferStatus.CANCELLED: ("OfferCancelled", f"the lender cancelled offer {stored.id}'s nonce on-chain"),
        OfferStatus.EXPIRED: ("OfferExpired", f"offer {stored.id} expired at {stored.offer.expiry}"),
    }
    if status in reasons:
        error, message = reasons[status]
        raise ApiError(409, error, message, offer_id=stored.id, expiry=stored.offer.expiry, financing_id=financing)


def _out(stored: StoredOffer, status: OfferStatus, financing: int | None, now: int,
         slots: dict[int, int], maturities: dict[int, int]) -> OfferOut:
    o = stored.offer
    slot = slots.get(o.token_id)
    price = None
    if status is OfferStatus.OPEN and slot is not None and slot in maturities:
        price = offer_price(o, maturities[slot], now)
    return OfferOut(
        id=stored.id, lender=o.lender, holder=o.holder, token_id=o.token_id, slot=slot, value=str(o.value),
        kind=int(o.kind), rate_bps=o.rate_bps, penalty_bps=o.penalty_bps, fixed_price=str(o.fixed_price),
        fee=str(o.fee), recourse=o.recourse, expiry=o.expiry, nonce=str(o.nonce), status=status,
        price=None if price is None else str(price), net=None if price is None else str(max(0, price - o.fee)),
        financing_id=financing, posted_at=stored.posted_at)


def _describe(session: Session, offers: list[StoredOffer], now: int) -> list[OfferOut]:
    found = statuses(session, offers, now)
    tokens = {o.offer.token_id for o in offers}
    slots = {h.token_id: h.slot for h in session.exec(
        sql_select(Holding).where(Holding.token_id.in_(tokens)))} if tokens else {}  # type: ignore[union-attr]
    maturities = {p.slot: p.maturity for p in session.exec(
        sql_select(Payable).where(Payable.slot.in_(set(slots.values()))))} if slots else {}  # type: ignore[union-attr]
    return [_out(s, *found[s.id], now, slots, maturities) for s in offers]


# ----------------------------------------------------------------------- routes


@router.post("/offers", status_code=201, responses={
    **DENIED, 404: {"model": ErrorBody, "description": "the token is not in the mirror"},
    409: {"model": ErrorBody, "description": "the nonce is used on-chain or in the book already"},
    422: {"model": ErrorBody, "description": "a malformed offer, a signature not the caller's, or an expired offer"}})
def post_offer(caller: CurrentMember, ledger: LedgerDep, session: SessionDep, book: BookDep,
               body: OfferIn) -> OfferOut:
    """Put an offer the caller signed on the book (lenders). The signature must recover to the caller; the
    token must be in the mirror and not the caller's own; the offer unexpired and its nonce unused."""
    desk = ledger.address(DESK)
    offer = Offer(lender=caller.address, holder=body.holder, token_id=body.token_id, slot=body.slot,
                  value=body.value, kind=Kind(body.kind), settlement=Settlement.TOKEN, rate_bps=body.rate_bps,
                  penalty_bps=body.penalty_bps, fixed_price=body.fixed_price, fee=body.fee, recourse=body.recourse,
                  expiry=body.expiry, nonce=body.nonce)
    signature = bytes(body.signature)  # type: ignore[arg-type]  # HexBytes validates into bytes
    if not signed_by(ledger, desk, offer, signature, caller.address):
        raise ApiError(422, "OfferSignatureInvalid", f"the signature is not {caller.address}'s over these terms for "
                       f"the FinancingDesk at {desk} on chain {ledger.chain.chain_id} (ECDSA, or ERC-1271 for a "
                       "contract wallet)")
    if offer.kind == Kind.PLEDGE and not offer.fixed_price:
        raise ApiError(422, "OfferWithoutPrincipal", "a pledge offer names its principal in fixed_price")
    token = session.get(Holding, body.token_id)
    if token is None or token.burned:
        raise ApiError(404, "UnknownToken", f"token {body.token_id} is not in the mirror (or was burned)",
                       token_id=body.token_id)
    if token.owner.lower() == caller.address.lower():
        raise ApiError(422, "OwnToken", f"token {body.token_id} is yours: offers are for other holders' claims",
                       token_id=body.token_id)
    now = chain_now(ledger)
    if now >= offer.expiry:
        raise ApiError(422, "OfferExpired", f"the offer expires at {offer.expiry}, not after the chain's time {now}",
                       expiry=offer.expiry, now=now)
    if ledger.chain.call(ledger.chain.contract(DESK, desk).functions.isNonceUsed(caller.address, offer.nonce)):
        raise ApiError(409, "OfferNonceUsed", f"your nonce {offer.nonce} is used or cancelled on the desk already",
                       nonce=str(offer.nonce))
    row = {"desk": desk, "lender": caller.address, "holder": offer.holder, "token_id": offer.token_id,
           "slot": str(offer.slot), "value": str(offer.value), "kind": int(offer.kind), "rate_bps": offer.rate_bps,
           "penalty_bps": offer.penalty_bps, "fixed_price": str(offer.fixed_price), "fee": str(offer.fee),
           "recourse": offer.recourse, "expiry": offer.expiry, "nonce": str(offer.nonce),
           "signature": "0x" + signature.hex(), "posted_at": time.time(),
           "posted_block": ledger.chain.w3.eth.block_number, "withdrawn_at": None}
    try:
        with book.begin() as conn:
            offer_id = conn.execute(insert(api_offer).values(**row)).inserted_primary_key[0]
    except IntegrityError:
        raise ApiError(409, "OfferNonceUsed", f"an offer with your nonce {offer.nonce} is in the book already",
                       nonce=str(offer.nonce)) from None
    return _describe(session, [load(book, offer_id)], now)[0]


@router.get("/offers", responses=DENIED)
def list_offers(
    caller: CurrentMember, ledger: LedgerDep, session: SessionDep, book: BookDep, paging: Paging,
    token_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="offers on this token")] = None,
    status: Annotated[OfferStatus | None, Query(description="only offers in this status")] = None,
    side: Annotated[Side | None, Query(description="lender: only offers the caller made; holder: only offers on "
                                                   "the tokens it holds (default: both; overseers: all)")] = None,
) -> Page[OfferOut]:
    """Offers, newest first: a lender its own; a holder those on the tokens it holds (for any holder, or for
    it by name); auditors and regulators every offer. Open offers carry the price the desk would pay now."""
    found = visible(caller, session, book, token_id, side)
    now = chain_now(ledger)
    described = _describe(session, found, now)
    if status is not None:
        described = [o for o in described if o.status is status]
    return _page(described, paging)


def visible(caller: Caller, session: Session, book: Engine, token_id: int | None,
            side: Side | None = None) -> list[StoredOffer]:
    """The offers ``caller`` may see (optionally on one token, or one side of the book), newest first."""
    query = select(api_offer).order_by(api_offer.c.id.desc())
    if token_id is not None:
        query = query.where(api_offer.c.token_id == token_id)
    me = caller.address.lower()
    made = func.lower(api_offer.c.lender) == me
    if side is not Side.LENDER and (side is Side.HOLDER or not caller.overseer):
        held = [h.token_id for h in session.exec(sql_select(Holding).where(
            func.lower(Holding.owner) == me, Holding.burned == False))]  # noqa: E712 - SQL comparison
        for_me = (api_offer.c.token_id.in_(held) & or_(func.lower(api_offer.c.holder) == me,
                                                        api_offer.c.holder == ZERO_ADDRESS))
        query = query.where(for_me if side is Side.HOLDER else or_(made, for_me))
    elif side is Side.LENDER:
        query = query.where(made)
    with book.connect() as conn:
        return [_stored(r) for r in conn.execute(query)]


def _page(items: list[OfferOut], paging: PageParams) -> Page[OfferOut]:
    return Page(items=items[paging.offset:paging.offset + paging.limit], total=len(items), limit=paging.limit,
                offset=paging.offset)


@router.delete("/offers/{offer_id}", responses={**DENIED, **NOT_FOUND,
               409: {"model": ErrorBody, "description": "the offer was taken, withdrawn, cancelled or expired"}})
def withdraw_offer(
    caller: CurrentMember, ledger: LedgerDep, session: SessionDep, book: BookDep,
    offer_id: Annotated[int, Path(ge=1, le=2**62)],
    cancel_nonce: Annotated[bool, Query(description="also return the unsigned cancelNonce transaction, so the "
                                              "signed offer is void on-chain too")] = False,
) -> WithdrawnOut:
    """The lender takes its open offer off the book (holders no longer see it as open). The signature stays
    valid on-chain until its nonce is cancelled: sign ``cancel_transaction`` (or build ``cancel_offer_nonce``)."""
    stored = load(book, offer_id)
    if stored.offer.lender.lower() != caller.address.lower():
        raise ApiError(403, "OtherFirmsOffer", f"offer {offer_id} is {stored.offer.lender}'s; only it may withdraw "
                       "it")
    now = chain_now(ledger)
    require_open(session, stored, now)
    cancel = None
    if cancel_nonce:
        tx = ledger.chain.build(caller.address, actions.cancel_nonce(ledger, stored.desk, stored.offer.nonce))
        cancel = {k: jsonable(v) for k, v in tx.items()}
    with book.begin() as conn:
        conn.execute(update(api_offer).where(api_offer.c.id == offer_id).values(withdrawn_at=time.time()))
    return WithdrawnOut(offer=_describe(session, [load(book, offer_id)], now)[0], cancel_transaction=cancel)
