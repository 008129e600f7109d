"""Verify an evidence receipt with nothing but the document, the receipt and JSON-RPC endpoints.

Nothing in the receipt is trusted. The leaf is recomputed from the file and the receipt's leaf
fields, the proof folded to a root, and everything else is read from the chain through the public
ABI of ``EvidenceLedger`` (never from our database or API): that the root is anchored (contract
storage), its batch id and time, the anchoring ``BatchAnchored`` log and its block (block time,
confirmations), revocations and counter-signatures (storage), the log of batch roots and its head
(storage). Every given endpoint must report the same at one pinned block. Parties' EIP-712
``Document`` signatures are checked by ``ecrecover``, or by ERC-1271 ``isValidSignature`` when the
signer is a contract. With a trusted head ``(size, root)`` the chain's log must extend it
(RFC 9162 consistency proof); the receipt's own head must be in the chain's log too.

The first failure decides :class:`Reason`; each reason has its own exit code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from ledger import evidence
from ledger.artifacts import load_artifact
from ledger.errors import LedgerError
from ledger.evidence import LEAF_ENCODING, DocumentSignature, EvidenceLeaf
from ledger.evidence_log import LogTree, verify_consistency, verify_inclusion
from ledger.evidence_log import leaf_hash as log_leaf_hash
from ledger.merkle import as_hash, process_proof

ERC1271_MAGIC = bytes.fromhex("1626ba7e")
ERC1271_ABI = [
    {
        "name": "isValidSignature",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
        "outputs": [{"name": "", "type": "bytes4"}],
    }
]


class Reason(StrEnum):
    OK = "ok"
    MALFORMED_RECEIPT = "malformed receipt"
    FILE_CHANGED = "file changed"
    PROOF_INVALID = "proof invalid"
    SIGNATURE_INVALID = "signature invalid"
    UNREACHABLE = "endpoint unreachable"
    WRONG_CHAIN = "wrong chain"
    WRONG_CONTRACT = "wrong contract"
    ENDPOINTS_DISAGREE = "endpoints disagree"
    ROOT_NOT_ANCHORED = "root not anchored"
    ANCHOR_MISMATCH = "anchor mismatch"
    BLOCK_TIME_MISMATCH = "block time mismatch"
    TOO_FEW_CONFIRMATIONS = "too few confirmations"
    REVOKED = "revoked"
    INCONSISTENT_HEAD = "inconsistent head"


EXIT_CODES = {
    Reason.OK: 0,
    Reason.MALFORMED_RECEIPT: 3,
    Reason.UNREACHABLE: 4,
    Reason.FILE_CHANGED: 10,
    Reason.PROOF_INVALID: 11,
    Reason.SIGNATURE_INVALID: 12,
    Reason.WRONG_CHAIN: 13,
    Reason.WRONG_CONTRACT: 14,
    Reason.ROOT_NOT_ANCHORED: 15,
    Reason.ANCHOR_MISMATCH: 16,
    Reason.BLOCK_TIME_MISMATCH: 17,
    Reason.TOO_FEW_CONFIRMATIONS: 18,
    Reason.REVOKED: 19,
    Reason.ENDPOINTS_DISAGREE: 20,
    Reason.INCONSISTENT_HEAD: 21,
}


@dataclass
class Verification:
    """The outcome: ``reason`` (``Reason.OK`` when everything holds), a sentence, and what was found."""

    reason: Reason
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.reason is Reason.OK

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.reason]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": str(self.reason), "detail": self.detail, **self.facts}


class VerificationError(LedgerError):
    """A check failed: ``reason`` and a sentence saying what exactly."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class TrustedHead:
    size: int
    root: bytes

    @classmethod
    def parse(cls, text: str) -> TrustedHead:
        """``SIZE:ROOT`` (ROOT 0x-prefixed hex)."""
        size, _, root = text.partition(":")
        try:
            return cls(int(size), as_hash(root))
        except Exception as exc:
            raise ValueError(f"a trusted head is SIZE:0xROOT, not {text!r}") from exc


# --------------------------------------------------------------------------------------- offline


@dataclass(frozen=True)
class ParsedReceipt:
    leaf: EvidenceLeaf
    leaf_hash: bytes
    signatures: tuple[DocumentSignature, ...]
    proof: tuple[bytes, ...]
    root: bytes
    batch_id: int
    chain_id: int
    contract: str
    tx_hash: str
    block_number: int
    block_time: int
    log_size: int
    log_head: bytes
    log_inclusion: tuple[bytes, ...]


def parse_receipt(receipt: dict[str, Any]) -> ParsedReceipt:
    try:
        if receipt.get("schema") != "scf-evidence-receipt/1":
            raise ValueError(f"unknown schema {receipt.get('schema')!r}")
        if list(receipt["leafEncoding"]) != LEAF_ENCODING:
            raise ValueError(f"unknown leaf encoding {receipt['leafEncoding']}")
        batch, anchor, log = receipt["batch"], receipt["anchor"], receipt["log"]
        return ParsedReceipt(
            leaf=EvidenceLeaf.from_json(receipt["leaf"]),
            leaf_hash=as_hash(receipt["leafHash"]),
            signatures=tuple(DocumentSignature.from_json(s) for s in receipt["signatures"]),
            proof=tuple(as_hash(p) for p in receipt["proof"]),
            root=as_hash(batch["root"]),
            batch_id=int(batch["batchId"]),
            chain_id=int(anchor["chainId"]),
            contract=Web3.to_checksum_address(anchor["contract"]),
            tx_hash=str(anchor["txHash"]).lower(),
            block_number=int(anchor["blockNumber"]),
            block_time=int(anchor["blockTime"]),
            log_size=int(log["size"]),
            log_head=as_hash(log["head"]),
            log_inclusion=tuple(as_hash(p) for p in log["inclusion"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(Reason.MALFORMED_RECEIPT, f"receipt does not parse: {exc}") from exc


def check_offline(data: Document, receipt: dict[str, Any] | ParsedReceipt) -> ParsedReceipt:
    """The checks that need no chain: file hash, signatures hash, leaf hash, proof fold.

    Raises :class:`VerificationError` on the first failure; returns the parsed receipt.
    """
    parsed = receipt if isinstance(receipt, ParsedReceipt) else parse_receipt(receipt)
    _offline(data, parsed)
    return parsed


@dataclass(frozen=True)
class DocumentSha256:
    """A document given by its SHA-256 alone, for a verifier that hashed the file itself (a browser):
    everything but the hashing is checked the same way."""

    digest: bytes


Document = bytes | DocumentSha256


def _sha256(document: Document) -> bytes:
    return document.digest if isinstance(document, DocumentSha256) else hashlib.sha256(document).digest()


def _offline(data: Document, r: ParsedReceipt) -> None:
    if _sha256(data) != r.leaf.document_hash:
        raise VerificationError(Reason.FILE_CHANGED, "the file's SHA-256 is not the receipt's documentHash")
    if evidence.signatures_hash(r.signatures) != r.leaf.signatures_hash:
        raise VerificationError(Reason.SIGNATURE_INVALID, "the receipt's signatures are not the ones the leaf binds")
    leaf = r.leaf.hash()
    if leaf != r.leaf_hash:
        raise VerificationError(Reason.PROOF_INVALID, "the leaf fields do not hash to the receipt's leafHash")
    if process_proof(leaf, r.proof) != r.root:
        raise VerificationError(Reason.PROOF_INVALID, "the proof does not lead from the leaf to the batch root")


# ---------------------------------------------------------------------------------------- online


def _contract(w3: Web3, address: str) -> Contract:
    return w3.eth.contract(address=address, abi=load_artifact("EvidenceLedger").abi)


def _snapshot(w3: Web3, r: ParsedReceipt, block: int) -> dict[str, Any]:
    """What one endpoint reports at ``block`` about this receipt (all from chain state and logs)."""
    ledger = _contract(w3, r.contract)
    at = {"block_identifier": block}
    fn = ledger.functions
    batch_id = int(fn.batchIdOf(r.root).call(**at))
    size, head = fn.head().call(**at)
    revoked_by, revoked_at, reason = fn.revocationOf(r.leaf_hash).call(**at)
    parties = sorted({*r.leaf.parties, r.leaf.submitter})
    snap: dict[str, Any] = {
        "blockHash": "0x" + bytes(w3.eth.get_block(block)["hash"]).hex(),
        "batchId": batch_id,
        "batch": [v.hex() if isinstance(v, bytes) else v for v in fn.batchOf(r.root).call(**at)],
        "head": [int(size), "0x" + bytes(head).hex()],
        "revocation": [revoked_by, int(revoked_at), reason],
        "countersignatures": {p: int(fn.countersignedAt(r.leaf_hash, p).call(**at)) for p in parties},
        "anchorLogs": [],
    }
    if batch_id:
        # the receipt names the block; a root anchored elsewhere leaves it empty (ANCHOR_MISMATCH)
        where = min(max(r.block_number, 0), block)
        logs = ledger.events.BatchAnchored.get_logs(argument_filters={"root": r.root}, from_block=where, to_block=where)
        snap["anchorLogs"] = [
            {
                "txHash": "0x" + bytes(log["transactionHash"]).hex(),
                "blockNumber": int(log["blockNumber"]),
                "blockHash": "0x" + bytes(log["blockHash"]).hex(),
                "batchId": int(log["args"]["batchId"]),
                "anchoredAt": int(log["args"]["anchoredAt"]),
            }
            for log in logs
        ]
        for log in snap["anchorLogs"]:
            log["blockTime"] = int(w3.eth.get_block(log["blockNumber"])["timestamp"])
    return snap


def verify_receipt(
    data: Document,
    receipt: dict[str, Any],
    rpc_urls: Sequence[str],
    *,
    contract: str | None = None,
    trusted_head: TrustedHead | None = None,
    confirmations: int = 1,
    timeout: float = 30.0,
) -> Verification:
    """Verify ``receipt`` for the document ``data`` (its bytes, or its :class:`DocumentSha256`) against every
    endpoint of ``rpc_urls``.

    ``contract``: the public EvidenceLedger address the receipt must be from (default: the
    receipt's, which must then hold the anchor). ``confirmations``: blocks, the anchor's included.
    """
    facts: dict[str, Any] = {}
    try:
        _verify(data, receipt, rpc_urls, contract, trusted_head, confirmations, timeout, facts)
    except VerificationError as fail:
        return Verification(fail.reason, fail.detail, facts)
    return Verification(Reason.OK, "the document is anchored unchanged", facts)


def _verify(
    data: Document,
    receipt: dict[str, Any],
    rpc_urls: Sequence[str],
    expected_contract: str | None,
    trusted_head: TrustedHead | None,
    confirmations: int,
    timeout: float,
    facts: dict[str, Any],
) -> None:
    r = parse_receipt(receipt)
    _offline(data, r)
    facts.update(leafHash="0x" + r.leaf_hash.hex(), root="0x" + r.root.hex())
    if not rpc_urls:
        raise VerificationError(Reason.UNREACHABLE, "no JSON-RPC endpoint given")
    if expected_contract is not None and Web3.to_checksum_address(expected_contract) != r.contract:
        raise VerificationError(
            Reason.WRONG_CONTRACT, f"the receipt is from contract {r.contract}, not {expected_contract}"
        )

    endpoints: list[Web3] = []
    for url in rpc_urls:
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        try:
            chain_id = w3.eth.chain_id
        except Exception as exc:
            raise VerificationError(Reason.UNREACHABLE, f"cannot reach {url}: {exc}") from exc
        if chain_id != r.chain_id:
            raise VerificationError(
                Reason.WRONG_CHAIN, f"{url} serves chain {chain_id}; the receipt is from chain {r.chain_id}"
            )
        endpoints.append(w3)
    w3 = endpoints[0]
    try:
        pinned = min(int(e.eth.block_number) for e in endpoints)
        if not w3.eth.get_code(r.contract, block_identifier=pinned):
            raise VerificationError(
                Reason.WRONG_CONTRACT, f"there is no contract at {r.contract} on chain {r.chain_id}"
            )
        snapshots = [_snapshot(e, r, pinned) for e in endpoints]
    except VerificationError:
        raise
    except Exception as exc:
        raise VerificationError(Reason.UNREACHABLE, f"reading the chain failed: {exc}") from exc
    snap = snapshots[0]
    for url, other in zip(rpc_urls[1:], snapshots[1:], strict=True):
        differing = sorted(k for k in snap if snap[k] != other[k])
        if differing:
            raise VerificationError(
                Reason.ENDPOINTS_DISAGREE,
                f"{rpc_urls[0]} and {url} disagree at block {pinned} on {', '.join(differing)}",
            )
    facts["pinnedBlock"] = pinned

    # the anchor, from storage and the BatchAnchored log
    if snap["batchId"] == 0:
        raise VerificationError(Reason.ROOT_NOT_ANCHORED, f"root 0x{r.root.hex()} is not anchored at {r.contract}")
    if snap["batchId"] != r.batch_id:
        raise VerificationError(Reason.ANCHOR_MISMATCH, f"the root is batch {snap['batchId']}, not batch {r.batch_id}")
    if len(snap["anchorLogs"]) != 1:
        raise VerificationError(Reason.ANCHOR_MISMATCH, f"block {r.block_number} holds no anchor of this root")
    log = snap["anchorLogs"][0]
    anchored_at = int(snap["batch"][3])
    facts.update(batchId=r.batch_id, anchoredAt=anchored_at, txHash=log["txHash"], blockNumber=log["blockNumber"])
    if log["txHash"] != r.tx_hash or log["blockNumber"] != r.block_number:
        raise VerificationError(
            Reason.ANCHOR_MISMATCH,
            f"the root was anchored by {log['txHash']} in block {log['blockNumber']}, "
            f"not by {r.tx_hash} in block {r.block_number}",
        )
    if not anchored_at == log["anchoredAt"] == log["blockTime"] == r.block_time:
        raise VerificationError(
            Reason.BLOCK_TIME_MISMATCH,
            f"anchored at {anchored_at} (storage), block time {log['blockTime']}; the receipt says {r.block_time}",
        )
    depth = pinned - log["blockNumber"] + 1
    facts["confirmations"] = depth
    if depth < confirmations:
        raise VerificationError(Reason.TOO_FEW_CONFIRMATIONS, f"{depth} confirmations, {confirmations} required")

    revoked_by, revoked_at, reason = snap["revocation"]
    if revoked_at:
        facts["revocation"] = {"revokedBy": revoked_by, "revokedAt": revoked_at, "reason": reason}
        raise VerificationError(Reason.REVOKED, f"revoked by {revoked_by} at {revoked_at}: {reason}")

    _check_signatures(w3, r, pinned, facts)
    facts["countersignatures"] = {p: t for p, t in snap["countersignatures"].items() if t}
    _check_log(w3, r, pinned, snap, trusted_head, facts)


def _check_signatures(w3: Web3, r: ParsedReceipt, block: int, facts: dict[str, Any]) -> None:
    allowed = {*r.leaf.parties, r.leaf.submitter}
    digest = evidence.document_digest(r.leaf, r.chain_id, r.contract)
    signed = []
    for sig in r.signatures:
        if sig.signer not in allowed:
            raise VerificationError(Reason.SIGNATURE_INVALID, f"{sig.signer} signed but is no party of the document")
        if w3.eth.get_code(sig.signer, block_identifier=block):
            wallet = w3.eth.contract(address=sig.signer, abi=ERC1271_ABI)
            try:
                magic = bytes(wallet.functions.isValidSignature(digest, sig.signature).call(block_identifier=block))
            except Exception:
                magic = b""
            if magic != ERC1271_MAGIC:
                raise VerificationError(
                    Reason.SIGNATURE_INVALID, f"wallet {sig.signer} does not accept its signature (ERC-1271)"
                )
            signed.append({"signer": sig.signer, "kind": "erc1271"})
        else:
            try:
                recovered = Account._recover_hash(digest, signature=sig.signature)
            except Exception:
                recovered = None
            if recovered != sig.signer:
                raise VerificationError(
                    Reason.SIGNATURE_INVALID, f"the signature of {sig.signer} recovers to {recovered}"
                )
            signed.append({"signer": sig.signer, "kind": "ecdsa"})
    facts["signatures"] = signed


def _check_log(
    w3: Web3,
    r: ParsedReceipt,
    block: int,
    snap: dict[str, Any],
    trusted: TrustedHead | None,
    facts: dict[str, Any],
) -> None:
    size, head_hex = snap["head"]
    head = as_hash(head_hex)
    ledger = _contract(w3, r.contract)
    roots: list[bytes] = []
    while len(roots) < size:
        chunk = ledger.functions.batchRoots(len(roots) + 1, min(4096, size - len(roots))).call(block_identifier=block)
        if not chunk:
            break
        roots.extend(bytes(x) for x in chunk)
    tree = LogTree(roots)
    facts["head"] = {"size": size, "root": head_hex}
    if len(tree) != size or tree.root() != head:
        raise VerificationError(
            Reason.INCONSISTENT_HEAD, f"the contract's head {size}:{head_hex} is not the root of its batches"
        )
    index = r.batch_id - 1
    if roots[index] != r.root or not verify_inclusion(
        index, size, log_leaf_hash(r.root), tree.inclusion_proof(index), head
    ):
        raise VerificationError(Reason.INCONSISTENT_HEAD, f"batch {r.batch_id} is not in the log head {size}")
    # the receipt's head (recorded by its anchor) is a prefix of the current head
    if r.log_size != r.batch_id or not verify_inclusion(
        index, r.log_size, log_leaf_hash(r.root), r.log_inclusion, r.log_head
    ):
        raise VerificationError(Reason.INCONSISTENT_HEAD, "the receipt's log head does not include its batch")
    if not verify_consistency(r.log_size, size, r.log_head, head, tree.consistency_proof(r.log_size)):
        raise VerificationError(
            Reason.INCONSISTENT_HEAD, f"the receipt's head {r.log_size} is not a prefix of the chain's log"
        )
    if trusted is not None:
        facts["trustedHead"] = {"size": trusted.size, "root": "0x" + trusted.root.hex()}
        if trusted.size > size:
            raise VerificationError(
                Reason.INCONSISTENT_HEAD, f"the trusted head has {trusted.size} batches, the chain's log only {size}"
            )
        if not verify_consistency(trusted.size, size, trusted.root, head, tree.consistency_proof(trusted.size)):
            raise VerificationError(
                Reason.INCONSISTENT_HEAD,
                f"the chain's log {size}:{head_hex} does not extend the trusted head "
                f"{trusted.size}:0x{trusted.root.hex()}",
            )
