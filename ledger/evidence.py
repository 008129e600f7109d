"""Evidence anchoring through an ``EvidenceLedger``: members anchor the Merkle roots of document
batches (trees of :mod:`ledger.merkle`), anyone checks proofs against anchored roots.

Evidence leaves (:class:`EvidenceLeaf`, :data:`LEAF_ENCODING`) are StandardMerkleTree values of

====================  ==========  =============================================================
field                 ABI type    meaning
====================  ==========  =============================================================
``documentHash``      bytes32     SHA-256 of the document's bytes
``documentType``      bytes32     keccak256 of the type name (``invoice``, ``delivery-note`` ...)
``submitter``         address     who anchors the batch
``parties``           address[]   the document's parties (who may sign and counter-sign it)
``submittedAt``       uint64      unix time the submitter took the document in
``salt``              bytes32     32 random bytes per document: guessable documents do not leak
``signaturesHash``    bytes32     keccak256(abi.encode(address[] signers, bytes[] signatures))
                                  of the parties' EIP-712 ``Document`` signatures; zero if none
====================  ==========  =============================================================

A party signs the EIP-712 struct ``Document(bytes32 documentHash,bytes32 documentType,address
submitter,address[] parties,uint64 submittedAt,bytes32 salt)`` in the domain ``("scf-ledger
EvidenceLedger", "1", chainId, ledger address)`` (:func:`document_digest`, the contract's
``documentDigest``); a contract wallet signs through ERC-1271. After anchoring, parties counter-sign
a leaf on-chain (:func:`countersign`, :func:`countersign_with_sig`), and the submitter or a
regulator revokes it with a reason (:func:`revoke`). Receipts are :mod:`ledger.evidence_batcher`'s,
verification :mod:`ledger.evidence_verify`'s.

Thin typed functions over the contract, in the style of :mod:`ledger.client`: an anchor simulates
first and raises a decoded :class:`~ledger.errors.ContractRevertError` (e.g.
``EvidenceAlreadyAnchored(root=..., batchId=..., submitter=...)``) on a refusal, and returns a
:class:`~ledger.chain.TxResult` with the decoded ``BatchAnchored`` event. The contract is not (yet)
part of the deployment manifest, so its address is passed explicitly, with either a
:class:`~ledger.client.Ledger` (events of the deployment's contracts decode too) or a bare
:class:`~ledger.chain.Chain`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from ledger.chain import Chain, TxResult
from ledger.client import Ledger
from ledger.events import EventDecoder
from ledger.merkle import (
    HashLike,
    MultiProof,
    StandardMerkleTree,
    as_bytes,
    as_hash,
    encode_leaf,
    keccak256,
)

EVIDENCE_LEDGER = "EvidenceLedger"
UINT32_MAX = 2**32 - 1
ZERO_HASH = b"\0" * 32

LEAF_FIELDS = ("documentHash", "documentType", "submitter", "parties", "submittedAt", "salt", "signaturesHash")
LEAF_ENCODING = ["bytes32", "bytes32", "address", "address[]", "uint64", "bytes32", "bytes32"]
DOCUMENT_HASH_ALGORITHM = "sha256"
EIP712_NAME = "scf-ledger EvidenceLedger"
EIP712_VERSION = "1"
DOCUMENT_TYPE = (
    "Document(bytes32 documentHash,bytes32 documentType,address submitter,address[] parties,"
    "uint64 submittedAt,bytes32 salt)"
)
COUNTERSIGN_TYPE = "Countersign(bytes32 root,bytes32 leaf)"
_DOMAIN_TYPEHASH = keccak256(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_DOCUMENT_TYPEHASH = keccak256(DOCUMENT_TYPE.encode())
_COUNTERSIGN_TYPEHASH = keccak256(COUNTERSIGN_TYPE.encode())


# ----------------------------------------------------------------- leaves


def document_hash(data: bytes) -> bytes:
    """The ``documentHash`` of a document's bytes (SHA-256)."""
    return hashlib.sha256(data).digest()


def document_type_id(name: str) -> bytes:
    """The ``documentType`` of a type name: keccak256 of its UTF-8 bytes."""
    return keccak256(name.encode())


@dataclass(frozen=True)
class DocumentSignature:
    """A party's EIP-712 ``Document`` signature (65-byte ECDSA, or whatever its ERC-1271 wallet takes)."""

    signer: str
    signature: bytes

    def to_json(self) -> dict[str, str]:
        return {"signer": checksum(self.signer), "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentSignature:
        return cls(checksum(data["signer"]), as_bytes(data["signature"]))


def signatures_hash(signatures: Sequence[DocumentSignature]) -> bytes:
    """``keccak256(abi.encode(address[] signers, bytes[] signatures))``; zero for no signatures."""
    if not signatures:
        return ZERO_HASH
    signers = [checksum(s.signer) for s in signatures]
    return keccak256(abi_encode(["address[]", "bytes[]"], [signers, [bytes(s.signature) for s in signatures]]))


@lru_cache(maxsize=65536)
def checksum(address: str) -> str:
    """``address`` checksummed (cached: the same few parties recur in every batch)."""
    return str(Web3.to_checksum_address(address))


def _word(address: str) -> bytes:
    raw = bytes.fromhex(address[2:])
    if len(raw) != 20:
        raise ValueError(f"not an address: {address!r}")
    return bytes(12) + raw


@dataclass(frozen=True)
class EvidenceLeaf:
    """The values of one evidence leaf (see the module docstring); addresses checksummed."""

    document_hash: bytes
    document_type: bytes
    submitter: str
    parties: tuple[str, ...]
    submitted_at: int
    salt: bytes
    signatures_hash: bytes = ZERO_HASH

    def values(self) -> list[Any]:
        return [
            self.document_hash,
            self.document_type,
            self.submitter,
            list(self.parties),
            self.submitted_at,
            self.salt,
            self.signatures_hash,
        ]

    def encode(self) -> bytes:
        """``abi.encode`` of the values (what :data:`LEAF_ENCODING` gives, without eth_abi's overhead)."""
        if not 0 <= self.submitted_at < 2**64:
            raise ValueError(f"submittedAt {self.submitted_at} does not fit in uint64")
        for value in (self.document_hash, self.document_type, self.salt, self.signatures_hash):
            if len(value) != 32:
                raise ValueError(f"a bytes32 field has {len(value)} bytes")
        return b"".join(
            (
                self.document_hash,
                self.document_type,
                _word(self.submitter),
                (7 * 32).to_bytes(32, "big"),  # offset of the parties array
                self.submitted_at.to_bytes(32, "big"),
                self.salt,
                self.signatures_hash,
                len(self.parties).to_bytes(32, "big"),
                *(_word(p) for p in self.parties),
            )
        )

    @cached_property
    def leaf_hash(self) -> bytes:
        """The StandardMerkleTree leaf hash of these values (computed once)."""
        return keccak256(keccak256(self.encode()))

    def hash(self) -> bytes:
        """The StandardMerkleTree leaf hash of these values."""
        return self.leaf_hash

    def to_json(self) -> dict[str, Any]:
        return {
            "documentHash": "0x" + self.document_hash.hex(),
            "documentType": "0x" + self.document_type.hex(),
            "submitter": self.submitter,
            "parties": list(self.parties),
            "submittedAt": self.submitted_at,
            "salt": "0x" + self.salt.hex(),
            "signaturesHash": "0x" + self.signatures_hash.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvidenceLeaf:
        return cls(
            document_hash=as_hash(data["documentHash"]),
            document_type=as_hash(data["documentType"]),
            submitter=checksum(data["submitter"]),
            parties=tuple(checksum(p) for p in data["parties"]),
            submitted_at=int(data["submittedAt"]),
            salt=as_hash(data["salt"]),
            signatures_hash=as_hash(data["signaturesHash"]),
        )


@dataclass(frozen=True)
class Document:
    """A document ready for a batch: its leaf and the signatures whose hash the leaf holds."""

    leaf: EvidenceLeaf
    type_name: str
    name: str = ""
    signatures: tuple[DocumentSignature, ...] = field(default_factory=tuple)


def draft_leaf(
    data: bytes,
    type_name: str,
    submitter: str,
    parties: Sequence[str] = (),
    *,
    submitted_at: int,
    salt: bytes | None = None,
) -> EvidenceLeaf:
    """The leaf of ``data`` before signatures (``signaturesHash`` zero): what parties sign."""
    return EvidenceLeaf(
        document_hash=document_hash(data),
        document_type=document_type_id(type_name),
        submitter=checksum(submitter),
        parties=tuple(checksum(p) for p in parties),
        submitted_at=int(submitted_at),
        salt=os.urandom(32) if salt is None else as_hash(salt),
    )


def with_signatures(leaf: EvidenceLeaf, signatures: Sequence[DocumentSignature]) -> EvidenceLeaf:
    return EvidenceLeaf(
        leaf.document_hash,
        leaf.document_type,
        leaf.submitter,
        leaf.parties,
        leaf.submitted_at,
        leaf.salt,
        signatures_hash(signatures),
    )


def domain_separator(chain_id: int, contract: str) -> bytes:
    return keccak256(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPEHASH,
                keccak256(EIP712_NAME.encode()),
                keccak256(EIP712_VERSION.encode()),
                chain_id,
                Web3.to_checksum_address(contract),
            ],
        )
    )


def document_digest(leaf: EvidenceLeaf, chain_id: int, contract: str) -> bytes:
    """The EIP-712 digest of the ``Document`` struct of ``leaf`` (``EvidenceLedger.documentDigest``)."""
    parties = b"".join(bytes(12) + as_bytes(p) for p in leaf.parties)
    struct_hash = keccak256(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "address", "bytes32", "uint64", "bytes32"],
            [
                _DOCUMENT_TYPEHASH,
                leaf.document_hash,
                leaf.document_type,
                leaf.submitter,
                keccak256(parties),
                leaf.submitted_at,
                leaf.salt,
            ],
        )
    )
    return keccak256(b"\x19\x01" + domain_separator(chain_id, contract) + struct_hash)


def countersign_digest(root: HashLike, leaf: HashLike, chain_id: int, contract: str) -> bytes:
    """The EIP-712 digest of ``Countersign(root, leaf)`` (``EvidenceLedger.countersignDigest``)."""
    struct_hash = keccak256(_COUNTERSIGN_TYPEHASH + as_hash(root) + as_hash(leaf))
    return keccak256(b"\x19\x01" + domain_separator(chain_id, contract) + struct_hash)


def sign_document(account: LocalAccount, leaf: EvidenceLeaf, chain_id: int, contract: str) -> DocumentSignature:
    """``account``'s EIP-712 signature of the ``Document`` struct of ``leaf`` (signaturesHash ignored)."""
    signed = account.unsafe_sign_hash(document_digest(leaf, chain_id, contract))
    return DocumentSignature(account.address, bytes(signed.signature))


def sign_countersign(account: LocalAccount, root: HashLike, leaf: HashLike, chain_id: int, contract: str) -> bytes:
    """``account``'s EIP-712 counter-signature of ``leaf`` in ``root``, for :func:`countersign_with_sig`."""
    return bytes(account.unsafe_sign_hash(countersign_digest(root, leaf, chain_id, contract)).signature)


def evidence_tree(leaves: Sequence[EvidenceLeaf]) -> StandardMerkleTree:
    """The StandardMerkleTree of ``leaves`` (value index = position in ``leaves``)."""
    return StandardMerkleTree.of_leaf_hashes([leaf.values() for leaf in leaves], LEAF_ENCODING,
                                             [leaf.leaf_hash for leaf in leaves])


@dataclass(frozen=True)
class BatchRecord:
    """An anchored batch, as ``EvidenceLedger.batchOf`` reports it."""

    batch_id: int
    root: bytes
    submitter: str
    leaf_count: int
    anchored_at: int


def deploy_evidence_ledger(ledger: Ledger, deployer: LocalAccount) -> str:
    """Deploy an EvidenceLedger over ``ledger``'s Participants; returns its address."""
    contract, _ = ledger.chain.deploy(deployer, EVIDENCE_LEDGER, ledger.participants.address)
    return str(contract.address)


def evidence_contract(target: Ledger | Chain, address: str) -> Contract:
    return _contract(_chain(target), address)


@lru_cache(maxsize=64)
def _contract(chain: Chain, address: str) -> Contract:  # building it from the ABI costs more than a call
    return chain.contract(EVIDENCE_LEDGER, address)


# ----------------------------------------------------------------- actions


def anchor_batch(
    target: Ledger | Chain, address: str, account: LocalAccount, tree: StandardMerkleTree, uri: str = ""
) -> tuple[int, TxResult]:
    """Anchor the root of ``tree`` from ``account`` (a current member); returns the batch id.

    ``uri`` says where the batch lives off-chain (e.g. where ``tree.dump()`` is stored); it is
    emitted, not stored.
    """
    return anchor_root(target, address, account, tree.root, len(tree), uri)


def anchor_root(
    target: Ledger | Chain, address: str, account: LocalAccount, root: HashLike, leaf_count: int, uri: str = ""
) -> tuple[int, TxResult]:
    """Anchor ``root``, the root of a tree of ``leaf_count`` documents; returns the batch id."""
    if not 0 <= leaf_count <= UINT32_MAX:
        raise ValueError(f"leaf count {leaf_count} does not fit in uint32")
    call = evidence_contract(target, address).functions.anchor(as_bytes(root), leaf_count, uri)
    result = _send(target, address, account, call)
    return int(result.event("BatchAnchored")["batchId"]), result


def countersign(
    target: Ledger | Chain, address: str, account: LocalAccount, root: HashLike, leaf: HashLike,
    proof: Sequence[HashLike],
) -> TxResult:
    """``account`` counter-signs the leaf hash ``leaf`` (proven by ``proof`` in the anchored ``root``)."""
    call = evidence_contract(target, address).functions.countersign(
        as_hash(root), as_hash(leaf), [as_hash(p) for p in proof]
    )
    return _send(target, address, account, call)


def countersign_with_sig(
    target: Ledger | Chain,
    address: str,
    relayer: LocalAccount,
    root: HashLike,
    leaf: HashLike,
    proof: Sequence[HashLike],
    signer: str,
    signature: bytes,
) -> TxResult:
    """``relayer`` records ``signer``'s counter-signature (:func:`sign_countersign`, or ERC-1271)."""
    call = evidence_contract(target, address).functions.countersignWithSig(
        as_hash(root), as_hash(leaf), [as_hash(p) for p in proof], Web3.to_checksum_address(signer), bytes(signature)
    )
    return _send(target, address, relayer, call)


def revoke(
    target: Ledger | Chain, address: str, account: LocalAccount, root: HashLike, leaf: HashLike,
    proof: Sequence[HashLike], reason: str,
) -> TxResult:
    """Revoke a leaf (by the batch's submitter or a current regulator); the anchor stays."""
    call = evidence_contract(target, address).functions.revoke(
        as_hash(root), as_hash(leaf), [as_hash(p) for p in proof], reason
    )
    return _send(target, address, account, call)


# ------------------------------------------------------------------- reads


@dataclass(frozen=True)
class Revocation:
    revoked_by: str
    revoked_at: int
    reason: str


def head(target: Ledger | Chain, address: str) -> tuple[int, bytes]:
    """The log's current head ``(size, root)``."""
    size, root = _call(target, address, "head")
    return int(size), bytes(root)


def head_at(target: Ledger | Chain, address: str, size: int) -> bytes:
    return bytes(_call(target, address, "headAt", size))


def batch_roots(target: Ledger | Chain, address: str, from_id: int = 1, count: int | None = None) -> list[bytes]:
    """Batch roots ``from_id ..`` (all remaining by default), fetched in chunks: the log's entries."""
    total = batch_count(target, address) if count is None else from_id - 1 + count
    roots: list[bytes] = []
    while from_id <= total:
        chunk = _call(target, address, "batchRoots", from_id, min(4096, total - from_id + 1))
        if not chunk:
            break
        roots.extend(bytes(r) for r in chunk)
        from_id += len(chunk)
    return roots


def countersigned_at(target: Ledger | Chain, address: str, leaf: HashLike, signer: str) -> int:
    return int(_call(target, address, "countersignedAt", as_hash(leaf), Web3.to_checksum_address(signer)))


def revocation_of(target: Ledger | Chain, address: str, leaf: HashLike) -> Revocation | None:
    revoked_by, revoked_at, reason = _call(target, address, "revocationOf", as_hash(leaf))
    if int(revoked_at) == 0 and int(revoked_by, 16) == 0:
        return None
    return Revocation(Web3.to_checksum_address(revoked_by), int(revoked_at), reason)



def is_anchored(target: Ledger | Chain, address: str, root: HashLike) -> bool:
    return batch_id_of(target, address, root) != 0


def batch_id_of(target: Ledger | Chain, address: str, root: HashLike) -> int:
    """Id of the batch anchoring ``root``; 0 when it is not anchored."""
    return int(_call(target, address, "batchIdOf", as_bytes(root)))


def batch_count(target: Ledger | Chain, address: str) -> int:
    return int(_call(target, address, "batchCount"))


def batch_of(target: Ledger | Chain, address: str, root: HashLike) -> BatchRecord | None:
    """The batch anchoring ``root``; None when it is not anchored."""
    root = as_bytes(root)
    return _record(batch_id_of(target, address, root), _call(target, address, "batchOf", root))


def batch(target: Ledger | Chain, address: str, batch_id: int) -> BatchRecord | None:
    """Batch ``batch_id``; None when there is no such batch."""
    return _record(batch_id, _call(target, address, "batch", batch_id))


def verify_on_chain(
    target: Ledger | Chain, address: str, root: HashLike, proof: Sequence[HashLike], leaf: HashLike
) -> bool:
    """``EvidenceLedger.verify``: ``root`` is anchored and ``proof`` proves the leaf hash ``leaf``.

    Compute ``leaf`` from the document's values (:func:`ledger.merkle.leaf_hash`); never take a
    leaf hash from the party whose document is checked (see :func:`verify_value_on_chain`).
    """
    return bool(_call(target, address, "verify", as_bytes(root), [as_hash(p) for p in proof], as_hash(leaf)))


def verify_value_on_chain(
    target: Ledger | Chain,
    address: str,
    root: HashLike,
    proof: Sequence[HashLike],
    leaf_encoding: Sequence[str],
    value: Sequence[Any],
) -> bool:
    """``EvidenceLedger.verifyLeafData``: the contract hashes the ABI-encoded ``value`` itself."""
    data = encode_leaf(leaf_encoding, value)
    return bool(_call(target, address, "verifyLeafData", as_bytes(root), [as_hash(p) for p in proof], data))


def verify_multi_on_chain(target: Ledger | Chain, address: str, root: HashLike, multiproof: MultiProof) -> bool:
    """``EvidenceLedger.verifyMulti`` for a multiproof of :meth:`StandardMerkleTree.get_multi_proof`."""
    return verify_multi_hashes_on_chain(
        target, address, root, multiproof.proof, multiproof.proof_flags, multiproof.leaf_hashes
    )


def verify_multi_hashes_on_chain(
    target: Ledger | Chain,
    address: str,
    root: HashLike,
    proof: Sequence[HashLike],
    proof_flags: Sequence[bool],
    leaves: Sequence[HashLike],
) -> bool:
    """``EvidenceLedger.verifyMulti`` over raw proof elements, flags and leaf hashes."""
    return bool(
        _call(
            target,
            address,
            "verifyMulti",
            as_bytes(root),
            [as_hash(p) for p in proof],
            [bool(f) for f in proof_flags],
            [as_hash(leaf) for leaf in leaves],
        )
    )


# ---------------------------------------------------------------- plumbing


def _chain(target: Ledger | Chain) -> Chain:
    return target.chain if isinstance(target, Ledger) else target


def _send(target: Ledger | Chain, address: str, account: LocalAccount, call: Any) -> TxResult:
    receipt = _chain(target).send(account, call)
    return TxResult(receipt, _decoder(target, address).decode_all(receipt["logs"]))


def decode_logs(target: Ledger | Chain, address: str, logs: Sequence[Any]) -> list[Any]:
    """Decode the events of ``logs`` (EvidenceLedger's and the deployment's)."""
    return _decoder(target, address).decode_all(logs)


def _call(target: Ledger | Chain, address: str, function: str, *args: Any) -> Any:
    contract = evidence_contract(target, address)
    return _chain(target).call(getattr(contract.functions, function)(*args))


def _record(batch_id: int, raw: Sequence[Any]) -> BatchRecord | None:
    root, submitter, leaf_count, anchored_at = raw
    if anchored_at == 0 or batch_id == 0:
        return None
    return BatchRecord(int(batch_id), bytes(root), Web3.to_checksum_address(submitter), leaf_count, anchored_at)


def _decoder(target: Ledger | Chain, address: str) -> EventDecoder:
    """The deployment's decoder (knowing ``address`` too) or, with a bare chain, one for ``address``."""
    if isinstance(target, Ledger):
        target.decoder.add(address, EVIDENCE_LEDGER)
        return target.decoder
    return _bare_decoder(Web3.to_checksum_address(address))


@cache
def _bare_decoder(address: str) -> EventDecoder:
    return EventDecoder({address: EVIDENCE_LEDGER})
