"""The page script's side of a transaction: the API's own build and relay, for the cookie's caller.

``/tx/build`` and ``/tx/send`` take a bearer token, which the portal keeps out of page scripts (an
HttpOnly cookie), so these endpoints call the same route functions with the cookie's caller. The
wallet signs with ``eth_signTransaction`` and the server relays through ``/tx/send``'s checks; wallets
that refuse to sign without sending (MetaMask) send with ``eth_sendTransaction``, and the page then asks
``/portal/api/tx/receipt`` for the decoded events.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from web3.exceptions import TimeExhausted, TransactionNotFound

from api.deps import Caller, LedgerDep, SessionDep, SettingsDep
from api.errors import ApiError, jsonable
from api.portal.web import PortalError, caller_of
from api.routes import tx
from api.routes.offers import BookDep

router = APIRouter()


def _member(request: Request) -> Caller:
    try:
        caller = caller_of(request)
    except PortalError:
        caller = None
    if caller is None:
        raise ApiError(401, "NotSignedIn", "sign in to the portal first")
    return caller


Member = Annotated[Caller, Depends(_member)]


@router.post("/portal/api/tx/build")
def build(caller: Member, ledger: LedgerDep, action: tx.Action, settings: SettingsDep, session: SessionDep,
          book: BookDep) -> tx.UnsignedTx:
    return tx.build(caller, ledger, action, settings, session, book)


@router.post("/portal/api/tx/send")
def send(caller: Member, ledger: LedgerDep, body: tx.SendIn) -> tx.SentOut:
    return tx.send(caller, ledger, body)


class ReceiptIn(BaseModel):
    tx_hash: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")


@router.post("/portal/api/tx/receipt")
def receipt(caller: Member, ledger: LedgerDep, body: ReceiptIn) -> tx.SentOut:
    """The decoded events of a transaction the caller's wallet sent itself."""
    try:
        mined = ledger.chain.w3.eth.wait_for_transaction_receipt(body.tx_hash, timeout=30)
    except (TimeExhausted, TransactionNotFound):
        raise ApiError(404, "UnknownTransaction", f"{body.tx_hash} was not mined within 30 s") from None
    if mined["from"].lower() != caller.address.lower():
        raise ApiError(403, "NotYourTransaction", f"{body.tx_hash} was sent by {mined['from']}")
    if mined["status"] != 1:
        raise ApiError(409, "TransactionReverted", f"{body.tx_hash} reverted on-chain")
    return tx.SentOut(tx_hash=body.tx_hash, block_number=mined["blockNumber"], gas_used=mined["gasUsed"],
                      events=[tx.EventOut(contract=e.contract, name=e.name,
                                          args={k: jsonable(v) for k, v in e.args.items()}, log_index=e.log_index)
                              for e in ledger.decoder.decode_all(mined["logs"])])
