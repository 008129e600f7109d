"""The evidence batcher: documents in, one anchor transaction per batch, one receipt per document out.

Crash safety. A batch is a journal file ``JOURNAL/<root>.json`` that moves through
``prepared -> signed -> mined -> done``, each state written to a temporary file, fsynced and
renamed over the old one (and the directory fsynced) before the next step runs:

``prepared``  the documents' leaves, the root: written before anything is signed or sent.
``signed``    the signed raw transaction and its hash: written before it is broadcast.
``mined``     batch id, transaction, block and log head as the chain reports them.
``done``      every receipt written (and synced).

:meth:`EvidenceBatcher.recover` finishes every batch not ``done``. A root is anchored at most once
because the contract refuses a second anchor of the same root (``EvidenceAlreadyAnchored``), so
recovery first asks the chain whether the root is anchored and, if it is, takes the anchoring
transaction from the chain's ``BatchAnchored`` log; only an unanchored root is (re)sent. Receipts
are rewritten whole on recovery (atomic renames), so a crash while writing them loses none.

Receipts follow the versioned schema ``scf-evidence-receipt/1`` (see :func:`build_receipt`).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError

from ledger import evidence
from ledger.chain import GAS_MARGIN, Chain
from ledger.errors import LedgerError, TransactionFailedError
from ledger.evidence import LEAF_ENCODING, LEAF_FIELDS, Document, DocumentSignature, EvidenceLeaf
from ledger.evidence_log import LogTree
from ledger.evidence_log import leaf_hash as log_leaf_hash
from ledger.merkle import StandardMerkleTree

RECEIPT_SCHEMA = "scf-evidence-receipt/1"
JOURNAL_SCHEMA = "scf-evidence-journal/1"
MAX_BATCH = 2**32 - 1
STATES = ("prepared", "signed", "mined", "done")

Stage = Callable[[str, int], None]  # (stage, detail) -> None; a test hook (crash injection)


class BatcherError(LedgerError):
    """A batch cannot be built, anchored or recovered."""


# --------------------------------------------------------------------------------- durable files


def write_durable(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Atomically replace ``path`` with ``data``; with ``sync`` the data and the rename survive power loss."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)
    if sync:
        _sync_dir(path.parent)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_filesystem(directory: Path) -> None:
    """Flush the file system holding ``directory`` (Linux ``syncfs``; elsewhere ``sync``)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(directory, os.O_RDONLY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


def _dumps(data: Any) -> bytes:
    return (json.dumps(data, sort_keys=True) + "\n").encode()  # no indent: json's C encoder


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


# ------------------------------------------------------------------------------------- receipts


def receipt_name(document: Document) -> str:
    """File name of a document's receipt: its name made safe, then the first 12 hex digits of its leaf."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(document.name).name or "document")[:80]
    return f"{stem}.{document.leaf.hash().hex()[:12]}.receipt.json"


def build_receipt(
    document: Document,
    proof: Sequence[bytes],
    batch: dict[str, Any],
    anchor: dict[str, Any],
    log: dict[str, Any],
) -> dict[str, Any]:
    """The receipt of one document (schema ``scf-evidence-receipt/1``)::

        schema        "scf-evidence-receipt/1"
        document      {name, type, hashAlgorithm}: what the leaf's documentHash hashes
        leafEncoding  the StandardMerkleTree leaf encoding; leafFields its field names
        leaf          the leaf's values by field name (JSON: 0x hex, checksummed addresses, ints)
        signatures    [{signer, signature}]: the parties' EIP-712 Document signatures (leaf.signaturesHash)
        leafHash      keccak256(keccak256(abi.encode(leaf)))
        proof         sibling hashes, leaf to root (OpenZeppelin MerkleProof)
        batch         {root, batchId, leafCount, submitter, uri}
        anchor        {chainId, contract, txHash, blockNumber, blockTime}
        log           {index, size, head, inclusion}: RFC 9162 inclusion of the batch root in the log
                      head recorded by this anchor (size = batchId, index = batchId - 1)

    Verifiers trust none of it: they recompute the leaf from the file and read the anchor from the chain.
    """
    return {
        "schema": RECEIPT_SCHEMA,
        "document": {"name": document.name, "type": document.type_name, "hashAlgorithm": "sha256"},
        "leafEncoding": list(LEAF_ENCODING),
        "leafFields": list(LEAF_FIELDS),
        "leaf": document.leaf.to_json(),
        "signatures": [s.to_json() for s in document.signatures],
        "leafHash": _hex(document.leaf.hash()),
        "proof": [_hex(p) for p in proof],
        "batch": batch,
        "anchor": anchor,
        "log": log,
    }


_HASH = {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}
_ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
_UINT = {"type": "integer", "minimum": 0}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties}


RECEIPT_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": RECEIPT_SCHEMA,
    "title": "scf-ledger evidence receipt, version 1",
    **_object(
        {
            "schema": {"const": RECEIPT_SCHEMA},
            "document": _object(
                {"name": {"type": "string"}, "type": {"type": "string"}, "hashAlgorithm": {"const": "sha256"}}
            ),
            "leafEncoding": {"const": list(LEAF_ENCODING)},
            "leafFields": {"const": list(LEAF_FIELDS)},
            "leaf": _object(
                {
                    "documentHash": _HASH,
                    "documentType": _HASH,
                    "submitter": _ADDRESS,
                    "parties": {"type": "array", "items": _ADDRESS},
                    "submittedAt": {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
                    "salt": _HASH,
                    "signaturesHash": _HASH,
                }
            ),
            "signatures": {
                "type": "array",
                "items": _object(
                    {"signer": _ADDRESS, "signature": {"type": "string", "pattern": "^0x([0-9a-f]{2})*$"}}
                ),
            },
            "leafHash": _HASH,
            "proof": {"type": "array", "items": _HASH},
            "batch": _object(
                {
                    "root": _HASH,
                    "batchId": _UINT,
                    "leafCount": _UINT,
                    "submitter": _ADDRESS,
                    "uri": {"type": "string"},
                }
            ),
            "anchor": _object(
                {
                    "chainId": _UINT,
                    "contract": _ADDRESS,
                    "txHash": _HASH,
                    "blockNumber": _UINT,
                    "blockTime": _UINT,
                }
            ),
            "log": _object(
                {"index": _UINT, "size": _UINT, "head": _HASH, "inclusion": {"type": "array", "items": _HASH}}
            ),
        }
    ),
}
"""JSON Schema (2020-12) of :func:`build_receipt`'s output."""


# -------------------------------------------------------------------------------------- batches


@dataclass
class BatchResult:
    root: bytes
    batch_id: int
    tx_hash: str
    block_number: int
    block_time: int
    receipts: list[Path]
    gas_used: int | None = None


def _document_json(document: Document) -> dict[str, Any]:
    return {
        "name": document.name,
        "type": document.type_name,
        "leaf": document.leaf.to_json(),
        "signatures": [s.to_json() for s in document.signatures],
    }


def _document_from_json(data: dict[str, Any]) -> Document:
    return Document(
        leaf=EvidenceLeaf.from_json(data["leaf"]),
        type_name=data["type"],
        name=data["name"],
        signatures=tuple(DocumentSignature.from_json(s) for s in data["signatures"]),
    )


class EvidenceBatcher:
    """Anchors batches of documents from ``account`` through the EvidenceLedger at ``contract``.

    ``journal_dir`` holds the crash journal, ``receipts_dir`` the receipts. ``on_stage`` is called
    at each step (``"prepared"``, ``"signed"``, ``"broadcast"``, ``"mined"``, ``"receipt"`` with the
    number written so far, ``"done"``): tests kill the process there.
    """

    def __init__(
        self,
        chain: Chain,
        contract: str,
        account: LocalAccount,
        journal_dir: Path,
        receipts_dir: Path,
        *,
        on_stage: Stage | None = None,
        receipt_timeout: float = 120.0,
    ) -> None:
        self.chain = chain
        self.contract = Web3.to_checksum_address(contract)
        self.account = account
        self.journal_dir = Path(journal_dir)
        self.receipts_dir = Path(receipts_dir)
        self.on_stage = on_stage or (lambda stage, detail: None)
        self.receipt_timeout = receipt_timeout
        self._ledger = evidence.evidence_contract(chain, self.contract)
        self.journal_dir.mkdir(parents=True, exist_ok=True)
        self.receipts_dir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------------------ documents

    def document(
        self,
        data: bytes,
        type_name: str,
        *,
        name: str = "",
        parties: Sequence[str] = (),
        signers: Sequence[LocalAccount] = (),
        submitted_at: int | None = None,
        salt: bytes | None = None,
    ) -> Document:
        """A document of ``data`` submitted by this batcher's account, signed by ``signers`` (EIP-712)."""
        draft = evidence.draft_leaf(
            data,
            type_name,
            self.account.address,
            parties,
            submitted_at=int(time.time()) if submitted_at is None else submitted_at,
            salt=salt,
        )
        signatures = tuple(evidence.sign_document(s, draft, self.chain.chain_id, self.contract) for s in signers)
        return Document(evidence.with_signatures(draft, signatures), type_name, name, signatures)

    def documents_from_paths(self, paths: Iterable[Path], type_name: str, **kwargs: Any) -> list[Document]:
        """Documents of the files ``paths`` (directories: their files, recursively, sorted)."""
        files: list[Path] = []
        for path in paths:
            path = Path(path)
            if path.is_dir():
                files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
            elif path.is_file():
                files.append(path)
            else:
                raise BatcherError(f"no such file or directory: {path}")
        return [self.document(f.read_bytes(), type_name, name=f.name, **kwargs) for f in files]

    # ------------------------------------------------------------------------------- batching

    def anchor(self, documents: Sequence[Document], uri: str = "") -> BatchResult:
        """Journal, sign, send and mine one batch of ``documents``, then write their receipts."""
        return self.process(self.prepare(documents, uri))

    def prepare(self, documents: Sequence[Document], uri: str = "") -> Path:
        """Write the batch to the journal (fsynced); returns the journal file."""
        if not documents:
            raise BatcherError("a batch holds at least one document")
        if len(documents) > MAX_BATCH:
            raise BatcherError(f"a batch holds at most {MAX_BATCH} documents")
        for document in documents:
            if document.leaf.submitter != self.account.address:
                raise BatcherError(f"{document.name or 'a document'} is submitted by {document.leaf.submitter}")
        tree = evidence.evidence_tree([d.leaf for d in documents])
        entry = {
            "schema": JOURNAL_SCHEMA,
            "state": "prepared",
            "chainId": self.chain.chain_id,
            "contract": self.contract,
            "submitter": self.account.address,
            "uri": uri,
            "root": _hex(tree.root),
            "leafCount": len(documents),
            "fromBlock": int(self.chain.w3.eth.block_number),  # the anchor cannot be older
            "documents": [_document_json(d) for d in documents],
        }
        path = self.journal_dir / f"{tree.root.hex()}.json"
        if path.exists():
            raise BatcherError(f"batch {path.name} is journaled already")
        write_durable(path, _dumps(entry))
        self.on_stage("prepared", 0)
        return path

    def pending(self) -> list[Path]:
        """Journal files of batches not done."""
        return [p for p in sorted(self.journal_dir.glob("*.json")) if self._load(p)["state"] != "done"]

    def recover(self) -> list[BatchResult]:
        """Finish every journaled batch that is not done (anchor it once, write all its receipts)."""
        return [self.process(path) for path in self.pending()]

    def process(self, path: Path) -> BatchResult:
        """Drive the journaled batch at ``path`` to ``done``."""
        entry = self._load(path)
        if entry["chainId"] != self.chain.chain_id or Web3.to_checksum_address(entry["contract"]) != self.contract:
            raise BatcherError(f"{path.name} belongs to chain {entry['chainId']}, contract {entry['contract']}")
        documents = [_document_from_json(d) for d in entry["documents"]]
        tree = evidence.evidence_tree([d.leaf for d in documents])
        if _hex(tree.root) != entry["root"]:
            raise BatcherError(f"{path.name}: the journaled documents do not give root {entry['root']}")
        gas_used = None
        if entry["state"] in ("prepared", "signed"):
            gas_used = self._anchor(path, entry, tree)
        if entry["state"] == "mined":
            self._write_receipts(entry, documents, tree)
            entry["state"] = "done"
            write_durable(path, _dumps(entry))
            self.on_stage("done", len(documents))
        anchor = entry["anchor"]
        return BatchResult(
            root=tree.root,
            batch_id=anchor["batchId"],
            tx_hash=anchor["txHash"],
            block_number=anchor["blockNumber"],
            block_time=anchor["blockTime"],
            receipts=[self.receipts_dir / receipt_name(d) for d in documents],
            gas_used=gas_used,
        )

    # ------------------------------------------------------------------------------ internals

    def _load(self, path: Path) -> dict[str, Any]:
        entry = json.loads(path.read_text())
        if entry.get("schema") != JOURNAL_SCHEMA or entry.get("state") not in STATES:
            raise BatcherError(f"{path} is not a {JOURNAL_SCHEMA} journal entry")
        return entry

    def _anchor(self, path: Path, entry: dict[str, Any], tree: StandardMerkleTree) -> int | None:
        """Bring a prepared or signed batch to mined; returns the gas used when this call mined it."""
        root = tree.root
        gas_used = None
        if evidence.batch_id_of(self.chain, self.contract, root) == 0:
            tx_hash = None
            if entry["state"] == "signed":
                tx_hash = self._rebroadcast(entry)
            if tx_hash is None:
                call = self._ledger.functions.anchor(root, entry["leafCount"], entry["uri"])
                self.chain.call(call, sender=self.account.address)  # decoded refusal before signing
                raw, tx_hash, nonce = self._sign(call)
                entry["state"] = "signed"
                entry["tx"] = {"hash": tx_hash, "raw": raw, "nonce": nonce}
                write_durable(path, _dumps(entry))
                self.on_stage("signed", 0)
                self._broadcast(raw)
                self.on_stage("broadcast", 0)
            receipt = self._wait(tx_hash)
            if receipt is not None:
                if receipt["status"] != 1:
                    raise TransactionFailedError(f"anchor transaction {tx_hash} reverted on-chain")
                gas_used = int(receipt["gasUsed"])
            elif evidence.batch_id_of(self.chain, self.contract, root) == 0:
                raise BatcherError(f"anchor transaction {tx_hash} was not mined within {self.receipt_timeout}s")
        entry["anchor"] = self._locate(root, int(entry.get("fromBlock", 0)))
        entry["state"] = "mined"
        write_durable(path, _dumps(entry))
        self.on_stage("mined", 0)
        return gas_used

    def _sign(self, call: Any) -> tuple[str, str, int]:
        w3 = self.chain.w3
        tx: dict[str, Any] = {"from": self.account.address, "chainId": self.chain.chain_id, "value": 0}
        tx = call.build_transaction(tx)
        tx["gas"] = int(w3.eth.estimate_gas(tx) * GAS_MARGIN)
        tx["nonce"] = w3.eth.get_transaction_count(self.account.address, "pending")
        if "baseFeePerGas" not in w3.eth.get_block("latest"):
            tx.pop("maxFeePerGas", None)
            tx.pop("maxPriorityFeePerGas", None)
            tx["gasPrice"] = w3.eth.gas_price
        signed = self.account.sign_transaction(tx)
        return _hex(signed.raw_transaction), _hex(signed.hash), int(tx["nonce"])

    def _broadcast(self, raw: str) -> None:
        try:
            self.chain.w3.eth.send_raw_transaction(HexBytes(raw))
        except Web3RPCError as exc:
            text = str(exc).lower()
            if "already known" in text or "already imported" in text:
                return
            raise TransactionFailedError(f"endpoint refused the anchor transaction: {exc}") from exc

    def _rebroadcast(self, entry: dict[str, Any]) -> str | None:
        """Re-send the journaled transaction; None when it can never be mined (its nonce is used)."""
        tx = entry["tx"]
        try:
            self.chain.w3.eth.get_transaction(tx["hash"])
            return str(tx["hash"])  # known to the node: wait for it
        except TransactionNotFound:
            pass
        if self.chain.w3.eth.get_transaction_count(self.account.address, "latest") > tx["nonce"]:
            return None  # the nonce went to another transaction: sign again
        try:
            self._broadcast(tx["raw"])
        except TransactionFailedError:
            return None
        return str(tx["hash"])

    def _wait(self, tx_hash: str) -> Any:
        try:
            return self.chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        except Exception:  # web3's TimeExhausted and friends: the caller checks the chain instead
            return None

    def _locate(self, root: bytes, from_block: int) -> dict[str, Any]:
        """The anchor of ``root`` as the chain reports it (its BatchAnchored log and block)."""
        batch_id = evidence.batch_id_of(self.chain, self.contract, root)
        record = evidence.batch(self.chain, self.contract, batch_id) if batch_id else None
        if record is None:
            raise BatcherError(f"root {_hex(root)} is not anchored")
        if record.submitter != self.account.address:
            raise BatcherError(f"root {_hex(root)} was anchored by {record.submitter}, not by us")
        logs = self._ledger.events.BatchAnchored.get_logs(argument_filters={"root": root}, from_block=from_block)
        if len(logs) != 1:
            raise BatcherError(f"expected one BatchAnchored log for {_hex(root)}, found {len(logs)}")
        log = logs[0]
        block = self.chain.w3.eth.get_block(log["blockNumber"])
        return {
            "batchId": batch_id,
            "txHash": _hex(log["transactionHash"]),
            "blockNumber": int(log["blockNumber"]),
            "blockTime": int(block["timestamp"]),
            "anchoredAt": record.anchored_at,
        }

    def _write_receipts(self, entry: dict[str, Any], documents: Sequence[Document], tree: StandardMerkleTree) -> None:
        anchor = entry["anchor"]
        batch_id = anchor["batchId"]
        log_tree = LogTree(evidence.batch_roots(self.chain, self.contract, 1, batch_id))
        head = log_tree.root(batch_id)
        if log_tree.levels[0][-1] != log_leaf_hash(tree.root) or head != evidence.head_at(
            self.chain, self.contract, batch_id
        ):
            raise BatcherError(f"the chain's log at size {batch_id} does not end with this batch")
        log = {
            "index": batch_id - 1,
            "size": batch_id,
            "head": _hex(head),
            "inclusion": [_hex(p) for p in log_tree.inclusion_proof(batch_id - 1, batch_id)],
        }
        batch = {
            "root": entry["root"],
            "batchId": batch_id,
            "leafCount": entry["leafCount"],
            "submitter": entry["submitter"],
            "uri": entry["uri"],
        }
        anchor_json = {
            "chainId": entry["chainId"],
            "contract": entry["contract"],
            "txHash": anchor["txHash"],
            "blockNumber": anchor["blockNumber"],
            "blockTime": anchor["blockTime"],
        }
        for i, document in enumerate(documents):
            receipt = build_receipt(document, tree.get_proof(i), batch, anchor_json, log)
            write_durable(self.receipts_dir / receipt_name(document), _dumps(receipt), sync=False)
            self.on_stage("receipt", i + 1)
        sync_filesystem(self.receipts_dir)  # one sync for all receipts before the journal says done
