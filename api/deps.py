"""FastAPI dependencies as typed aliases (settings, ledger, nonce store, the authorized caller)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from api.access import rule_for
from api.auth import NonceStore, read_token
from api.config import Settings
from api.errors import ApiError
from api.observe import CALLER_KEY
from ledger.client import Ledger
from ledger.roles import Role

# Dependencies that do no I/O are ``async def``: FastAPI runs a sync dependency in the thread pool, and
# those hops cost more than the rest of a cached read (bench/api.py).


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger


async def get_nonces(request: Request) -> NonceStore:
    return request.app.state.nonces


async def get_engine(request: Request) -> Engine:
    """The mirror's engine, for reads that take a connection only while they read."""
    return request.app.state.engine


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A read session on the indexer's SQL mirror (it connects lazily, in the endpoint's thread)."""
    with Session(request.app.state.engine) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
EngineDep = Annotated[Engine, Depends(get_engine)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]
NoncesDep = Annotated[NonceStore, Depends(get_nonces)]
_bearer = HTTPBearer(auto_error=False)


OVERSEERS = frozenset({Role.REGULATOR, Role.AUDITOR})  # may read every firm's records


@dataclass(frozen=True)
class Caller:
    """A signed-in, current member and its roles as the chain says now."""

    address: str
    roles: frozenset[Role]

    @property
    def overseer(self) -> bool:
        return bool(self.roles & OVERSEERS)

    def may_see(self, *addresses: str) -> bool:
        """Whether the caller may read records of a firm among ``addresses``: its own, or any as an overseer."""
        return bool(self.roles & OVERSEERS) or self.address.lower() in {a.lower() for a in addresses}

    def require_sight(self, *addresses: str, what: str) -> None:
        if not self.may_see(*addresses):
            raise ApiError(403, "OtherFirmsData", f"{what} belongs to other firms; only they, auditors and "
                           "regulators may read it")

    def scope_to(self, party: str | None, *, what: str) -> str | None:
        """The firm a listing is about: ``party`` if the caller may see it (403 if not); by default the
        caller itself, or everyone (None) for an overseer."""
        if party is None:
            return None if self.overseer else self.address
        self.require_sight(party, what=f"{what} of {party}")
        return party


async def authorize(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    """Apply the access table to this request: None for public endpoints, else the caller."""
    route = request.scope.get("route")
    rule = rule_for(request.method, getattr(route, "path", request.url.path))
    if rule is None:
        raise ApiError(403, "NoAccessRule", f"{request.method} {request.url.path} has no access rule")
    if rule.public:
        return None
    if credentials is None:
        raise ApiError(401, "NotSignedIn", "sign in with Ethereum (GET /auth/nonce, POST /auth/login) first")
    session = read_token(credentials.credentials, settings.secret)
    request.scope[CALLER_KEY] = session.address  # for the audit log, denials included
    members = request.app.state.members
    member = members.cached(session.address) or await run_in_threadpool(members.get, session.address)
    if not member.is_member:
        raise ApiError(403, "NotAMember", f"{session.address} is not a current member of the consortium")
    if rule.roles and not rule.roles & member.roles:
        needed = ", ".join(sorted(r.name for r in rule.roles))
        raise ApiError(403, "RoleRequired", f"{request.method} {rule.path} needs one of: {needed}")
    return Caller(session.address, member.roles)


async def _member(caller: Annotated[Caller | None, Depends(authorize)]) -> Caller:
    if caller is None:  # a public rule on an endpoint that needs a caller: a table mistake
        raise ApiError(500, "AccessMisconfigured", "this endpoint needs a signed-in caller")
    return caller


Authorized = Annotated[Caller | None, Depends(authorize)]
CurrentMember = Annotated[Caller, Depends(_member)]
