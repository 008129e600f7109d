"""Liveness, and readiness: the chain answers, our contracts are deployed, the mirror keeps up."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Authorized, LedgerDep, SessionDep, SettingsDep
from api.errors import ApiError
from indexer.models import Checkpoint

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    chain_id: int
    head: int
    indexed_block: int  # the newest block the SQL mirror covers
    indexer_lag: int  # head - indexed_block
    contracts: dict[str, str]


@router.get("/health")
def health(_: Authorized) -> Health:
    return Health(status="ok")


@router.get("/ready", responses={503: {"description": "chain unreachable, contracts missing, or the mirror not "
                                                     "indexed or too far behind the chain"}})
def ready(_: Authorized, ledger: LedgerDep, session: SessionDep, settings: SettingsDep) -> Ready:
    w3 = ledger.chain.w3
    try:
        head = w3.eth.block_number
        missing = [n for n, c in ledger.deployment.contracts.items() if not w3.eth.get_code(c.address)]
    except Exception as exc:  # any transport failure means "not ready"
        raise ApiError(503, "ChainUnavailable", f"cannot read the chain: {exc}") from None
    if missing:
        raise ApiError(503, "ContractsMissing", f"no code at the manifest's address of {', '.join(missing)}")
    checkpoint = session.get(Checkpoint, 1)
    if checkpoint is None or checkpoint.chain_id != ledger.chain.chain_id:
        raise ApiError(503, "IndexerNotStarted", "the SQL mirror has not indexed this chain yet (run `scf index`)")
    lag = max(0, head - checkpoint.block_number)
    if lag > settings.max_indexer_lag:
        raise ApiError(503, "IndexerBehind", f"the SQL mirror is {lag} blocks behind the chain head "
                       f"(at most {settings.max_indexer_lag})")
    return Ready(status="ready", chain_id=ledger.chain.chain_id, head=head, indexed_block=checkpoint.block_number,
                 indexer_lag=lag, contracts={n: c.address for n, c in ledger.deployment.contracts.items()})
