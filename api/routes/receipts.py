"""Check a document against its evidence receipt, from the chain alone: ``ledger.evidence_verify`` run against
the service's own JSON-RPC endpoint and deployed EvidenceLedger (never the SQL mirror).

The verifier recomputes the leaf from the document's SHA-256 (the leaf's ``documentHash``): the caller sends
the document's bytes (hashed and dropped, never stored) or, having hashed it itself, only the SHA-256. A
receipt that does not parse is a 422; every other outcome is a 200 whose ``reason`` is a
:class:`ledger.evidence_verify.Reason` name.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, Field, model_validator

from api.deps import CurrentMember, LedgerDep, SettingsDep
from api.errors import ApiError, ErrorBody
from api.routes.evidence import Revocation
from api.types import Bytes32
from ledger import evidence
from ledger.evidence_verify import (
    Document,
    DocumentSha256,
    Reason,
    VerificationError,
    parse_receipt,
    verify_receipt,
)

router = APIRouter(tags=["evidence"])
BAD_INPUT = {422: {"model": ErrorBody, "description": "a receipt that does not parse, or a malformed body"},
             503: {"model": ErrorBody, "description": "the chain cannot be read"}}


def _base64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)  # binascii.Error is a ValueError: a 422


Base64 = Annotated[str, Field(json_schema_extra={"contentEncoding": "base64"}), AfterValidator(_base64)]


class ReceiptIn(BaseModel):
    """The receipt and the document: its bytes, or only its SHA-256 when the caller hashed it itself."""

    receipt: dict[str, Any] = Field(description="the receipt `scf evidence anchor` wrote (scf-evidence-receipt/1)")
    document: Base64 | None = Field(None, description="the document's bytes, base64 (hashed, never stored)")
    document_sha256: Bytes32 | None = Field(None, description="or only the document's SHA-256 (0x hex), computed "
                                                              "by the caller: the document never leaves it")

    @model_validator(mode="after")
    def _one_document(self) -> ReceiptIn:
        if (self.document is None) == (self.document_sha256 is None):
            raise ValueError("give the document (base64) or its document_sha256, exactly one")
        return self

    @property
    def given(self) -> Document:
        return self.document if self.document is not None else DocumentSha256(self.document_sha256)


class Signer(BaseModel):
    signer: str
    kind: str  # ecdsa | erc1271


class Countersignature(BaseModel):
    signer: str
    signed_at: int


class ReceiptCheck(BaseModel):
    """The outcome. The leaf's facts (submitter, parties) are only given once the proof holds."""

    ok: bool
    reason: str  # ledger.evidence_verify.Reason name: OK, FILE_CHANGED, PROOF_INVALID, REVOKED, ...
    detail: str  # the verifier's own sentence
    document_hash: str  # SHA-256 of the bytes sent, or the one given
    receipt_document_hash: str  # the documentHash the receipt's leaf names
    leaf: str | None = None
    root: str | None = None
    batch_id: int | None = None
    anchored_at: int | None = None
    block_number: int | None = None
    tx_hash: str | None = None
    confirmations: int | None = None
    submitter: str | None = None  # who anchored the batch, as the chain records it
    parties: list[str] = []
    signatures: list[Signer] = []  # parties' EIP-712 signatures carried by the receipt, each checked
    countersignatures: list[Countersignature] = []
    revocation: Revocation | None = None


@router.post("/evidence/verify", responses=BAD_INPUT)
def verify_evidence(_: CurrentMember, ledger: LedgerDep, settings: SettingsDep, body: ReceiptIn) -> ReceiptCheck:
    """Check a document and its receipt against the chain: anchored or not, in which batch, when and by whom,
    its parties' signatures, counter-signatures and revocation; on failure the first reason. Any member may ask."""
    try:
        parsed = parse_receipt(body.receipt)
        outcome = verify_receipt(body.given, body.receipt, [settings.rpc_url],
                                 contract=ledger.deployment.address(evidence.EVIDENCE_LEDGER))
    except VerificationError as exc:
        raise ApiError(422, "MalformedReceipt", exc.detail) from None
    except (ValueError, TypeError, OverflowError) as exc:  # fields that parse but cannot be encoded
        raise ApiError(422, "MalformedReceipt", f"receipt does not encode: {exc}") from None
    if outcome.reason is Reason.UNREACHABLE:
        raise ApiError(503, "ChainUnavailable", outcome.detail)
    facts = outcome.facts
    check = ReceiptCheck(
        ok=outcome.ok, reason=outcome.reason.name, detail=outcome.detail,
        document_hash="0x" + (evidence.document_hash(body.document) if body.document is not None
                              else body.document_sha256).hex(),
        receipt_document_hash="0x" + parsed.leaf.document_hash.hex(),
        leaf=facts.get("leafHash"), root=facts.get("root"), batch_id=facts.get("batchId"),
        anchored_at=facts.get("anchoredAt"), block_number=facts.get("blockNumber"), tx_hash=facts.get("txHash"),
        confirmations=facts.get("confirmations"),
        signatures=[Signer(**s) for s in facts.get("signatures", [])],
        countersignatures=[Countersignature(signer=s, signed_at=t)
                           for s, t in sorted(facts.get("countersignatures", {}).items())],
    )
    if "root" in facts:  # the proof holds: the leaf's fields are the anchored ones
        check.parties = list(parsed.leaf.parties)
    if "batchId" in facts:
        record = evidence.batch_of(ledger, ledger.deployment.address(evidence.EVIDENCE_LEDGER), parsed.root)
        check.submitter = record.submitter if record else None
    if revoked := facts.get("revocation"):
        check.revocation = Revocation(revoked_by=revoked["revokedBy"], revoked_at=revoked["revokedAt"],
                                      reason=revoked["reason"])
    return check
