"""Evidence anchoring through an ``EvidenceLedger``: members anchor the Merkle roots of document
batches (trees of :mod:`ledger.merkle`), anyone checks proofs against anchored roots.

Thin typed functions over the contract, in the style of :mod:`ledger.client`: an anchor simulates
first and raises a decoded :class:`~ledger.errors.ContractRevertError` (e.g.
``EvidenceAlreadyAnchored(root=..., batchId=..., submitter=...)``) on a refusal, and returns a
:class:`~ledger.chain.TxResult` with the decoded ``BatchAnchored`` event. The contract is not (yet)
part of the deployment manifest, so its address is passed explicitly, with either a
:class:`~ledger.client.Ledger` (events of the deployment's contracts decode too) or a bare
:class:`~ledger.chain.Chain`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from ledger.chain import Chain, TxResult
from ledger.client import Ledger
from ledger.events import EventDecoder
from ledger.merkle import HashLike, MultiProof, StandardMerkleTree, as_bytes, as_hash, encode_leaf

EVIDENCE_LEDGER = "EvidenceLedger"
UINT32_MAX = 2**32 - 1


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
    return _chain(target).contract(EVIDENCE_LEDGER, address)


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
    chain = _chain(target)
    receipt = chain.send(account, call)
    result = TxResult(receipt, _decoder(chain, _contracts(target, address)).decode_all(receipt["logs"]))
    return int(result.event("BatchAnchored")["batchId"]), result


# ------------------------------------------------------------------- reads


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


def _call(target: Ledger | Chain, address: str, function: str, *args: Any) -> Any:
    contract = evidence_contract(target, address)
    return _chain(target).call(getattr(contract.functions, function)(*args))


def _record(batch_id: int, raw: Sequence[Any]) -> BatchRecord | None:
    root, submitter, leaf_count, anchored_at = raw
    if anchored_at == 0 or batch_id == 0:
        return None
    return BatchRecord(int(batch_id), bytes(root), Web3.to_checksum_address(submitter), leaf_count, anchored_at)


def _contracts(target: Ledger | Chain, address: str) -> tuple[tuple[str, str], ...]:
    named = {c.address: name for name, c in target.deployment.contracts.items()} if isinstance(target, Ledger) else {}
    named[Web3.to_checksum_address(address)] = EVIDENCE_LEDGER
    return tuple(sorted(named.items()))


@cache
def _decoder(chain: Chain, contracts: tuple[tuple[str, str], ...]) -> EventDecoder:
    return EventDecoder(chain.w3, dict(contracts))
