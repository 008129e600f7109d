"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Authorized, LedgerDep
from api.errors import ApiError

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    chain_id: int
    head: int
    contracts: dict[str, str]


@router.get("/health")
def health(_: Authorized) -> Health:
    return Health(status="ok")


@router.get("/ready", responses={503: {"description": "chain unreachable or contracts missing"}})
def ready(_: Authorized, ledger: LedgerDep) -> Ready:
    w3 = ledger.chain.w3
    try:
        head = w3.eth.block_number
        missing = [n for n, c in ledger.deployment.contracts.items() if not w3.eth.get_code(c.address)]
    except Exception as exc:  # any transport failure means "not ready"
        raise ApiError(503, "ChainUnavailable", f"cannot read the chain: {exc}") from None
    if missing:
        raise ApiError(503, "ContractsMissing", f"no code at the manifest's address of {', '.join(missing)}")
    return Ready(status="ready", chain_id=ledger.chain.chain_id, head=head,
                 contracts={n: c.address for n, c in ledger.deployment.contracts.items()})
