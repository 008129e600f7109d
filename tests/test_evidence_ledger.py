"""EvidenceLedger: members anchor Merkle roots of document batches write-once; on-chain proof checks
agree with ledger.merkle; the cost of an anchor."""

from __future__ import annotations

import os
import random
from hashlib import sha256
from typing import Any

import pytest
from conftest import DAY, Actors, expect_revert, now, warp
from eth_account.messages import encode_typed_data
from web3 import Web3

from ledger import evidence
from ledger.chain import TxResult
from ledger.client import Ledger
from ledger.errors import AccessDeniedError, InvalidInputError
from ledger.evidence_log import LogTree, verify_consistency
from ledger.merkle import StandardMerkleTree, encode_leaf, leaf_hash, verify, verify_multi

DOCUMENT = ["bytes32", "uint256", "address"]  # document hash, sequence number, submitter
URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
ZERO32 = b"\0" * 32


def hx(value: bytes) -> str:
    return "0x" + value.hex()


def documents(n: int, submitter: str, seed: object = 0) -> StandardMerkleTree:
    rnd = random.Random(seed)
    return StandardMerkleTree.of([[rnd.randbytes(32), i, submitter] for i in range(n)], DOCUMENT)


def block_time(ledger: Ledger, result: TxResult) -> int:
    return int(ledger.chain.w3.eth.get_block(result.block_number)["timestamp"])


def flip(node: bytes) -> bytes:
    return bytes([node[0] ^ 1]) + node[1:]


@pytest.fixture
def ev(ledger: Ledger, actors: Actors) -> str:
    """A fresh EvidenceLedger over the session's Participants (rolled back with the test)."""
    contract, _ = ledger.chain.deploy(actors.admin, "EvidenceLedger", ledger.participants.address)
    return str(contract.address)


@pytest.fixture
def anchored(ledger: Ledger, actors: Actors, ev: str) -> StandardMerkleTree:
    tree = documents(200, actors.auditor.address, "anchored")
    evidence.anchor_batch(ledger, ev, actors.auditor, tree, URI)
    return tree


# ---------------------------------------------------------------------------------- anchoring


def test_anchor_records_batch_and_emits_event(ledger: Ledger, actors: Actors, ev: str) -> None:
    tree = documents(10, actors.supplier.address)
    assert not evidence.is_anchored(ledger, ev, tree.root)
    assert evidence.batch_count(ledger, ev) == 0

    batch_id, result = evidence.anchor_batch(ledger, ev, actors.supplier, tree, URI)

    anchored_at = block_time(ledger, result)
    assert batch_id == 1
    event = result.event("BatchAnchored")
    assert event.contract == "EvidenceLedger"
    assert event.args == {
        "batchId": 1,
        "root": hx(tree.root),
        "submitter": actors.supplier.address,
        "leafCount": 10,
        "anchoredAt": anchored_at,
        "uri": URI,
    }
    assert [e.name for e in result.events] == ["BatchAnchored", "HeadRecorded"]
    assert result.event("HeadRecorded").args == {"size": 1, "root": hx(sha256(b"\0" + tree.root).digest())}
    record = evidence.BatchRecord(1, tree.root, actors.supplier.address, 10, anchored_at)
    assert evidence.batch_of(ledger, ev, tree.root) == record
    assert evidence.batch(ledger, ev, 1) == record
    assert evidence.is_anchored(ledger, ev, hx(tree.root))
    assert evidence.batch_id_of(ledger, ev, tree.root) == 1
    assert evidence.batch_count(ledger, ev) == 1
    contract = evidence.evidence_contract(ledger, ev)
    assert contract.functions.participants().call() == ledger.participants.address


def test_batches_are_numbered_in_order_and_timestamped_by_their_block(ledger: Ledger, actors: Actors, ev: str) -> None:
    first = documents(1, actors.core.address, 1)
    second = documents(3, actors.lender.address, 2)
    id1, r1 = evidence.anchor_batch(ledger, ev, actors.core, first, "")
    warp(ledger.chain, 5 * DAY)
    id2, r2 = evidence.anchor_batch(ledger.chain, ev, actors.lender, second, "s3://evidence/2")  # a bare Chain

    assert (id1, id2) == (1, 2)
    assert r2.event("BatchAnchored")["uri"] == "s3://evidence/2"
    assert r2.event("BatchAnchored")["anchoredAt"] == block_time(ledger, r2) >= block_time(ledger, r1) + 5 * DAY
    assert evidence.batch(ledger, ev, 2) == evidence.BatchRecord(
        2, second.root, actors.lender.address, 3, block_time(ledger, r2)
    )
    assert evidence.batch(ledger, ev, 1).anchored_at == block_time(ledger, r1)
    assert evidence.batch(ledger, ev, 3) is None
    assert evidence.batch(ledger, ev, 0) is None
    assert evidence.batch_count(ledger, ev) == 2
    # a one-document batch: the root is the document's leaf hash and the proof is empty
    assert first.root == first.leaf_hash_at(0) and first.get_proof(0) == []
    assert evidence.verify_on_chain(ledger, ev, first.root, [], first.leaf_hash_at(0))


def test_anchor_is_write_once(ledger: Ledger, actors: Actors, ev: str, anchored: StandardMerkleTree) -> None:
    for account, count in ((actors.supplier, len(anchored)), (actors.auditor, 1)):
        with expect_revert(
            "EvidenceAlreadyAnchored", root=hx(anchored.root), batchId=1, submitter=actors.auditor.address
        ):
            evidence.anchor_root(ledger, ev, account, anchored.root, count, "again")
    with pytest.raises(InvalidInputError):
        evidence.anchor_batch(ledger, ev, actors.auditor, anchored, URI)
    assert evidence.batch_count(ledger, ev) == 1
    assert evidence.batch_of(ledger, ev, anchored.root).submitter == actors.auditor.address


def test_non_member_is_refused(ledger: Ledger, actors: Actors, ev: str) -> None:
    tree = documents(4, actors.outsider.address)
    with expect_revert("EvidenceNotMember", account=actors.outsider.address):
        evidence.anchor_batch(ledger, ev, actors.outsider, tree, URI)
    with pytest.raises(AccessDeniedError):  # classified as an access refusal
        evidence.anchor_batch(ledger, ev, actors.admin, tree, URI)  # the default admin is no member either
    assert not evidence.is_anchored(ledger, ev, tree.root)


def test_removed_or_expired_member_is_refused(ledger: Ledger, actors: Actors, ev: str) -> None:
    registrar = ledger.as_registrar(actors.registrar)
    registrar.remove(actors.supplier3.address)
    with expect_revert("EvidenceNotMember", account=actors.supplier3.address):
        evidence.anchor_batch(ledger, ev, actors.supplier3, documents(2, actors.supplier3.address), URI)

    registrar.renew(actors.supplier2.address, now(ledger.chain) + DAY)
    evidence.anchor_batch(ledger, ev, actors.supplier2, documents(2, actors.supplier2.address, "before"), URI)
    warp(ledger.chain, 2 * DAY)
    with expect_revert("EvidenceNotMember", account=actors.supplier2.address):
        evidence.anchor_batch(ledger, ev, actors.supplier2, documents(2, actors.supplier2.address, "after"), URI)


def test_zero_root_and_empty_batch_are_refused(ledger: Ledger, actors: Actors, ev: str) -> None:
    with expect_revert("EvidenceZeroRoot"):
        evidence.anchor_root(ledger, ev, actors.supplier, ZERO32, 1, URI)
    with expect_revert("EvidenceEmptyBatch"):
        evidence.anchor_root(ledger, ev, actors.supplier, os.urandom(32), 0, URI)
    with pytest.raises(ValueError, match="uint32"):
        evidence.anchor_root(ledger, ev, actors.supplier, os.urandom(32), 2**32, URI)
    assert evidence.batch_count(ledger, ev) == 0


# ------------------------------------------------------------------------------- verification


def test_on_chain_verify_agrees_with_python(
    ledger: Ledger, actors: Actors, ev: str, anchored: StandardMerkleTree
) -> None:
    root = anchored.root
    for i in range(0, len(anchored), 7):
        leaf, proof = anchored.leaf_hash_at(i), anchored.get_proof(i)
        cases = [
            (leaf, proof),
            (flip(leaf), proof),
            (leaf, [*proof[:-1], flip(proof[-1])]),
            (leaf, proof[:-1]),
            (leaf, proof[::-1]),
        ]
        for case_leaf, case_proof in cases:
            assert evidence.verify_on_chain(ledger, ev, root, case_proof, case_leaf) == verify(
                root, case_leaf, case_proof
            )
        assert evidence.verify_on_chain(ledger, ev, root, proof, leaf)
        assert evidence.verify_value_on_chain(ledger, ev, root, proof, DOCUMENT, anchored.at(i))


def test_inner_node_leaf_data_does_not_verify(
    ledger: Ledger, actors: Actors, ev: str, anchored: StandardMerkleTree
) -> None:
    nodes = anchored.tree
    parent = 5
    left, right = sorted((nodes[2 * parent + 1], nodes[2 * parent + 2]))
    proof = []
    index = parent
    while index > 0:
        proof.append(nodes[index - 1 if index % 2 == 0 else index + 1])
        index = (index - 1) // 2
    assert verify(anchored.root, nodes[parent], proof)  # a 32-byte inner node passes verify(leaf hash) ...
    data = encode_leaf(["bytes32", "bytes32"], [left, right])
    assert data == left + right
    contract = evidence.evidence_contract(ledger, ev)
    # ... but the 64 bytes under it, hashed on-chain as leaf data, do not
    assert not contract.functions.verifyLeafData(anchored.root, proof, data).call()
    assert not evidence.verify_value_on_chain(ledger, ev, anchored.root, proof, ["bytes32", "bytes32"], [left, right])
    assert leaf_hash(["bytes32", "bytes32"], [left, right]) != nodes[parent]


def multiproof_cases(tree: StandardMerkleTree, rnd: random.Random) -> list[tuple[list[bytes], list[bool], list[bytes]]]:
    cases = []
    for size in (1, 2, 3, 8, 25, len(tree)):
        mp = tree.get_multi_proof(rnd.sample(range(len(tree)), size))
        proof, flags, leaves = mp.proof, mp.proof_flags, mp.leaf_hashes
        cases.append((proof, flags, leaves))
        if proof:
            cases.append(([flip(proof[0]), *proof[1:]], flags, leaves))
            cases.append((proof[:-1], flags, leaves))  # malformed: too few proof elements
        cases.append((proof, flags, [flip(leaves[0]), *leaves[1:]]))
        cases.append((proof, [not f for f in flags], leaves))
        cases.append((proof, flags[:-1], leaves))  # malformed: too few flags
        cases.append(([*proof, tree.root], flags, leaves))  # malformed: one proof element too many
        if len(leaves) > 1:
            cases.append((proof, flags, leaves[::-1]))
    cases.append(([tree.root], [], []))  # the "empty set": proves nothing
    return cases


def test_on_chain_verify_multi_agrees_with_python(
    ledger: Ledger, actors: Actors, ev: str, anchored: StandardMerkleTree
) -> None:
    outcomes = []
    for proof, flags, leaves in multiproof_cases(anchored, random.Random(11)):
        expected = verify_multi(anchored.root, proof, flags, leaves)
        assert evidence.verify_multi_hashes_on_chain(ledger, ev, anchored.root, proof, flags, leaves) == expected
        outcomes.append(expected)
    assert True in outcomes and False in outcomes
    mp = anchored.get_multi_proof([0, 17, 99, 150])
    assert evidence.verify_multi_on_chain(ledger, ev, anchored.root, mp)


def test_unanchored_root_never_verifies(ledger: Ledger, actors: Actors, ev: str, anchored: StandardMerkleTree) -> None:
    other = documents(50, actors.core.address, "not anchored")
    leaf, proof = other.leaf_hash_at(3), other.get_proof(3)
    mp = other.get_multi_proof([1, 2, 3])
    assert verify(other.root, leaf, proof) and verify_multi(other.root, mp.proof, mp.proof_flags, mp.leaf_hashes)

    assert not evidence.verify_on_chain(ledger, ev, other.root, proof, leaf)
    assert not evidence.verify_multi_on_chain(ledger, ev, other.root, mp)
    assert not evidence.verify_value_on_chain(ledger, ev, other.root, proof, DOCUMENT, other.at(3))
    assert evidence.batch_of(ledger, ev, other.root) is None
    assert evidence.batch_id_of(ledger, ev, other.root) == 0
    # the zero root: a one-leaf "tree" whose leaf is zero would otherwise prove itself
    assert not evidence.verify_on_chain(ledger, ev, ZERO32, [], ZERO32)
    contract = evidence.evidence_contract(ledger, ev)
    assert contract.functions.batchOf(other.root).call() == (ZERO32, "0x" + "00" * 20, 0, 0)

    evidence.anchor_batch(ledger, ev, actors.core, other, URI)
    assert evidence.verify_on_chain(ledger, ev, other.root, proof, leaf)
    assert evidence.verify_multi_on_chain(ledger, ev, other.root, mp)


# ----------------------------------------------------------------------------------------- gas


def test_anchor_gas_per_batch_and_per_document(ledger: Ledger, actors: Actors, ev: str) -> None:
    """An anchor costs about the same for 1 or 1,000,000 documents, log head included: three fresh
    words and popcount(batch id - 1) cold reads; at most 150 gas a document at 1,000."""
    used: dict[str, Any] = {}
    for n, label in ((1000, "first"), (1000, "second"), (1, "one document")):
        tree = documents(n, actors.auditor.address, label)
        _, result = evidence.anchor_batch(ledger, ev, actors.auditor, tree, URI)
        used[label] = result.gas_used
    _, result = evidence.anchor_root(ledger, ev, actors.auditor, os.urandom(32), 1_000_000, "")
    used["no uri"] = result.gas_used
    print(f"\nanchor gas ({len(URI)}-byte uri): {used}; per document at 1,000: {used['second'] / 1000:.1f}")
    # batch 2 reads one log node and hashes once more than batch 1; batch 4 two more than batch 3
    assert 0 < used["second"] - used["first"] < 3_500
    assert all(gas <= 115_000 for gas in used.values())
    assert used["second"] / 1000 <= 150
    assert Web3.is_checksum_address(ev)


# --------------------------------------------------------------------------- log of batch roots


def test_log_heads_match_rfc9162_and_every_past_head_stays(ledger: Ledger, actors: Actors, ev: str) -> None:
    assert evidence.head(ledger, ev) == (0, sha256(b"").digest())
    assert evidence.head_at(ledger, ev, 1) == ZERO32
    roots: list[bytes] = []
    heads: list[bytes] = [sha256(b"").digest()]
    for i in range(19):
        root = os.urandom(32)
        _, result = evidence.anchor_root(ledger, ev, actors.core, root, i + 1, "")
        roots.append(root)
        expected = LogTree(roots).root()
        assert result.event("HeadRecorded").args == {"size": i + 1, "root": hx(expected)}
        heads.append(expected)
        assert evidence.head(ledger, ev) == (i + 1, expected)
        assert result.gas_used <= 107_000 + 3_000 * bin(i).count("1")  # popcount(size - 1) node reads
    tree = LogTree(roots)
    for size, root in enumerate(heads):
        assert evidence.head_at(ledger, ev, size) == root == tree.root(size)
    assert evidence.head_at(ledger, ev, 20) == ZERO32
    assert evidence.batch_roots(ledger, ev) == roots
    assert evidence.batch_roots(ledger, ev, 5, 3) == roots[4:7]
    contract = evidence.evidence_contract(ledger, ev)
    assert contract.functions.batchRoots(18, 100).call() == roots[17:]
    assert contract.functions.batchRoots(0, 5).call() == [] == contract.functions.batchRoots(20, 5).call()
    for m in (1, 4, 7, 16):
        assert verify_consistency(m, 19, heads[m], heads[19], tree.consistency_proof(m))


# ----------------------------------------------------------------- signatures and digests


def test_document_and_countersign_digests_agree_with_eth_account(ledger: Ledger, actors: Actors, ev: str) -> None:
    chain_id = ledger.chain.chain_id
    leaf = evidence.draft_leaf(
        b"invoice 42", "invoice", actors.supplier.address, [actors.core.address, actors.lender.address],
        submitted_at=1_700_000_000,
    )
    contract = evidence.evidence_contract(ledger, ev)
    digest = evidence.document_digest(leaf, chain_id, ev)
    assert contract.functions.documentDigest(
        leaf.document_hash, leaf.document_type, leaf.submitter, list(leaf.parties), leaf.submitted_at, leaf.salt
    ).call() == digest
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Document": [
                {"name": "documentHash", "type": "bytes32"},
                {"name": "documentType", "type": "bytes32"},
                {"name": "submitter", "type": "address"},
                {"name": "parties", "type": "address[]"},
                {"name": "submittedAt", "type": "uint64"},
                {"name": "salt", "type": "bytes32"},
            ],
        },
        "primaryType": "Document",
        "domain": {"name": "scf-ledger EvidenceLedger", "version": "1", "chainId": chain_id, "verifyingContract": ev},
        "message": {
            "documentHash": leaf.document_hash,
            "documentType": leaf.document_type,
            "submitter": leaf.submitter,
            "parties": list(leaf.parties),
            "submittedAt": leaf.submitted_at,
            "salt": leaf.salt,
        },
    }
    signed = actors.core.sign_message(encode_typed_data(full_message=typed))
    assert evidence.sign_document(actors.core, leaf, chain_id, ev).signature == bytes(signed.signature)
    root, leaf_hash_ = os.urandom(32), os.urandom(32)
    assert contract.functions.countersignDigest(root, leaf_hash_).call() == evidence.countersign_digest(
        root, leaf_hash_, chain_id, ev
    )
    domain = contract.functions.eip712Domain().call()  # ERC-5267
    assert list(domain[1:5]) == ["scf-ledger EvidenceLedger", "1", chain_id, ev]


# ------------------------------------------------------------- counter-signing and revocation


@pytest.fixture
def docs(ledger: Ledger, actors: Actors, ev: str) -> StandardMerkleTree:
    """A batch of evidence leaves by the supplier with the core enterprise as counterparty, anchored."""
    leaves = [
        evidence.draft_leaf(f"delivery note {i}".encode(), "delivery-note", actors.supplier.address,
                            [actors.supplier.address, actors.core.address], submitted_at=1_700_000_000 + i)
        for i in range(12)
    ]
    tree = evidence.evidence_tree(leaves)
    evidence.anchor_batch(ledger, ev, actors.supplier, tree, URI)
    return tree


def test_party_countersigns_an_anchored_leaf_once(
    ledger: Ledger, actors: Actors, ev: str, docs: StandardMerkleTree
) -> None:
    leaf, proof = docs.leaf_hash_at(3), docs.get_proof(3)
    result = evidence.countersign(ledger, ev, actors.core, docs.root, leaf, proof)
    at = block_time(ledger, result)
    assert result.event("Countersigned").args == {
        "root": hx(docs.root), "leaf": hx(leaf), "signer": actors.core.address, "at": at, "relayed": False
    }
    assert evidence.countersigned_at(ledger, ev, leaf, actors.core.address) == at
    assert evidence.countersigned_at(ledger, ev, leaf, actors.supplier.address) == 0
    with expect_revert("EvidenceAlreadyCountersigned", leaf=hx(leaf), signer=actors.core.address, countersignedAt=at):
        evidence.countersign(ledger, ev, actors.core, docs.root, leaf, proof)
    with expect_revert("EvidenceInvalidProof", root=hx(docs.root), leaf=hx(docs.leaf_hash_at(4))):
        evidence.countersign(ledger, ev, actors.core, docs.root, docs.leaf_hash_at(4), proof)
    other = os.urandom(32)
    with expect_revert("EvidenceRootNotAnchored", root=hx(other)):
        evidence.countersign(ledger, ev, actors.core, other, leaf, proof)


def test_countersign_by_signature_eoa_and_erc1271(
    ledger: Ledger, actors: Actors, ev: str, docs: StandardMerkleTree
) -> None:
    chain_id = ledger.chain.chain_id
    leaf, proof = docs.leaf_hash_at(0), docs.get_proof(0)
    signature = evidence.sign_countersign(actors.core, docs.root, leaf, chain_id, ev)
    with expect_revert("EvidenceInvalidSignature", signer=actors.lender.address):
        evidence.countersign_with_sig(ledger, ev, actors.outsider, docs.root, leaf, proof, actors.lender.address,
                                      signature)
    result = evidence.countersign_with_sig(ledger, ev, actors.outsider, docs.root, leaf, proof,
                                           actors.core.address, signature)
    assert result.event("Countersigned")["relayed"] is True
    assert evidence.countersigned_at(ledger, ev, leaf, actors.core.address) == block_time(ledger, result)

    wallet, _ = ledger.chain.deploy(actors.admin, "ERC1271Wallet", actors.core2.address)
    by_owner = evidence.sign_countersign(actors.core2, docs.root, leaf, chain_id, ev)
    evidence.countersign_with_sig(ledger, ev, actors.outsider, docs.root, leaf, proof, wallet.address, by_owner)
    assert evidence.countersigned_at(ledger, ev, leaf, wallet.address) > 0
    forged = evidence.sign_countersign(actors.outsider, docs.root, docs.leaf_hash_at(1), chain_id, ev)
    with expect_revert("EvidenceInvalidSignature", signer=wallet.address):
        evidence.countersign_with_sig(ledger, ev, actors.outsider, docs.root, docs.leaf_hash_at(1),
                                      docs.get_proof(1), wallet.address, forged)


def test_revocation_by_submitter_or_regulator_is_recorded_never_deleted(
    ledger: Ledger, actors: Actors, ev: str, docs: StandardMerkleTree
) -> None:
    leaf, proof = docs.leaf_hash_at(5), docs.get_proof(5)
    assert evidence.verify_on_chain(ledger, ev, docs.root, proof, leaf)
    assert evidence.revocation_of(ledger, ev, leaf) is None
    for account in (actors.core, actors.auditor, actors.outsider):
        with expect_revert("EvidenceUnauthorized", account=account.address):
            evidence.revoke(ledger, ev, account, docs.root, leaf, proof, "nope")
    result = evidence.revoke(ledger, ev, actors.supplier, docs.root, leaf, proof, "issued in error")
    at = block_time(ledger, result)
    assert result.event("Revoked").args == {
        "root": hx(docs.root), "leaf": hx(leaf), "revokedBy": actors.supplier.address, "at": at,
        "reason": "issued in error",
    }
    assert evidence.revocation_of(ledger, ev, leaf) == evidence.Revocation(actors.supplier.address, at,
                                                                           "issued in error")
    assert not evidence.verify_on_chain(ledger, ev, docs.root, proof, leaf)
    assert not evidence.verify_value_on_chain(ledger, ev, docs.root, proof, evidence.LEAF_ENCODING, docs.at(5))
    mp = docs.get_multi_proof([5, 6])
    assert not evidence.verify_multi_on_chain(ledger, ev, docs.root, mp)
    assert evidence.verify_multi_on_chain(ledger, ev, docs.root, docs.get_multi_proof([6, 7]))
    assert evidence.is_anchored(ledger, ev, docs.root)  # the anchor stays
    with expect_revert("EvidenceLeafRevoked", leaf=hx(leaf), revokedBy=actors.supplier.address, revokedAt=at):
        evidence.revoke(ledger, ev, actors.regulator, docs.root, leaf, proof, "again")
    with expect_revert("EvidenceLeafRevoked", leaf=hx(leaf), revokedBy=actors.supplier.address, revokedAt=at):
        evidence.countersign(ledger, ev, actors.core, docs.root, leaf, proof)

    other, other_proof = docs.leaf_hash_at(6), docs.get_proof(6)
    evidence.revoke(ledger, ev, actors.regulator, docs.root, other, other_proof, "court order 7/2026")
    assert evidence.revocation_of(ledger, ev, other).revoked_by == actors.regulator.address
    ledger.as_registrar(actors.registrar).remove(actors.regulator.address)  # a former regulator may not
    with expect_revert("EvidenceUnauthorized", account=actors.regulator.address):
        evidence.revoke(ledger, ev, actors.regulator, docs.root, docs.leaf_hash_at(7), docs.get_proof(7), "x")
