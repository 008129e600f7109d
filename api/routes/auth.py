"""Sign-in with Ethereum."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth import issue_token, sign_in
from api.deps import Authorized, CurrentMember, LedgerDep, NoncesDep, SettingsDep

router = APIRouter(prefix="/auth", tags=["auth"])


class NonceOut(BaseModel):
    nonce: str
    domain: str
    chain_id: int


class LoginIn(BaseModel):
    message: str = Field(max_length=4096, description="the EIP-4361 message the wallet signed")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]*$", max_length=8192)


class LoginOut(BaseModel):
    token: str
    address: str
    expires_at: int


class MeOut(BaseModel):
    address: str
    roles: list[str]


@router.get("/nonce")
def nonce(_: Authorized, nonces: NoncesDep, settings: SettingsDep, ledger: LedgerDep) -> NonceOut:
    return NonceOut(nonce=nonces.issue(), domain=settings.domain, chain_id=ledger.chain.chain_id)


@router.post("/login", responses={401: {"description": "sign-in refused, with the reason"}})
def login(_: Authorized, body: LoginIn, settings: SettingsDep, ledger: LedgerDep, nonces: NoncesDep) -> LoginOut:
    session = sign_in(body.message, body.signature, settings, ledger, nonces)
    return LoginOut(token=issue_token(session, settings.secret), address=session.address,
                    expires_at=session.expires_at)


@router.get("/me")
def me(caller: CurrentMember) -> MeOut:
    return MeOut(address=caller.address, roles=sorted(r.name for r in caller.roles))
