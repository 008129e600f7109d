"""Evidence proofs: is a document's leaf in an anchored batch? Checked by the chain itself
(``EvidenceLedger.verify``, through :mod:`ledger.evidence`), with the batch as the mirror has it.

The leaf hash comes from whoever holds the document (see :func:`ledger.evidence.verify_on_chain`):
this endpoint answers "is this leaf, with this proof, under an anchored root, and was it revoked",
not "is this document genuine" (``scf evidence verify`` checks a document against its receipt).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.deps import CurrentMember, EngineDep, LedgerDep
from api.routes.pages import DENIED
from api.types import Bytes32
from indexer.models import EvidenceBatch
from ledger import evidence
from ledger.client import Ledger
from ledger.merkle import process_proof

router = APIRouter(tags=["evidence"])
MAX_PROOF = 64  # proof elements: a tree of up to 2^64 leaves


def _short(proof: list[bytes]) -> list[bytes]:
    if len(proof) > MAX_PROOF:
        raise ValueError(f"at most {MAX_PROOF} proof elements")
    return proof


Proof = Annotated[list[Bytes32], AfterValidator(_short)]


class Revocation(BaseModel):
    revoked_by: str
    revoked_at: int
    reason: str


class ProofCheck(BaseModel):
    root: str
    leaf: str
    valid: bool  # the chain says: the root is anchored, the leaf not revoked, and the proof folds it into the root
    reason: str  # ok | not_anchored | proof_mismatch | revoked
    batch_id: int | None  # the batch as the mirror has it (None: not indexed yet, or not anchored)
    submitter: str | None
    leaf_count: int | None
    anchored_at: int | None
    uri: str | None
    revocation: Revocation | None  # the leaf's revocation by its submitter or a regulator (the anchor stays)


def _check(ledger: Ledger, engine: Engine, root: bytes, leaf: bytes, proof: list[bytes]) -> ProofCheck:
    address = ledger.deployment.address(evidence.EVIDENCE_LEDGER)
    valid = evidence.verify_on_chain(ledger, address, root, proof, leaf)  # anchored, not revoked, proof folds
    reason, revoked = "ok", None
    if not valid:  # which condition failed: more reads, on this path only
        revoked = evidence.revocation_of(ledger, address, leaf)
        if not evidence.is_anchored(ledger, address, root):
            reason = "not_anchored"
        elif process_proof(leaf, proof) != root:
            reason = "proof_mismatch"
        else:
            reason = "revoked" if revoked else "proof_mismatch"
    with Session(engine) as own:  # holds a connection only while it reads
        row = own.exec(select(EvidenceBatch).where(EvidenceBatch.root == "0x" + root.hex())).first()
    return ProofCheck(
        root="0x" + root.hex(), leaf="0x" + leaf.hex(), valid=valid, reason=reason,
        batch_id=row.batch_id if row else None, submitter=row.submitter if row else None,
        leaf_count=row.leaf_count if row else None, anchored_at=row.anchored_at if row else None,
        uri=row.uri if row else None,
        revocation=Revocation(revoked_by=revoked.revoked_by, revoked_at=revoked.revoked_at, reason=revoked.reason)
        if revoked else None,
    )


@router.get("/evidence/proof", responses=DENIED)
async def evidence_proof(
    _: CurrentMember, engine: EngineDep, ledger: LedgerDep,
    root: Annotated[Bytes32, Query(description="the batch's Merkle root (bytes32)")],
    leaf: Annotated[Bytes32, Query(description="the document's leaf hash (bytes32)")],
    proof: Annotated[Proof, Query(description="the Merkle proof, leaf to root, one bytes32 per element")] = [],  # noqa: B006
) -> ProofCheck:
    """Verify a leaf and its Merkle proof against the chain's anchored roots; any member may ask."""
    # Bytes32 validated root, leaf and the proof's elements into bytes; one thread-pool hop for the reads
    return await run_in_threadpool(_check, ledger, engine, root, leaf, proof)  # type: ignore[arg-type]
