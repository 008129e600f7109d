"""Properties over random batches of 1..5,000 documents: every receipt verifies; for up to 20
sampled receipts per batch, 32 random single-bit flips across the file, the leaf fields and the
proof each make verification fail, each for the reason the flipped part implies."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
from evidence_helpers import load
from hypothesis import example, given, settings
from hypothesis import strategies as st
from web3 import Web3

from ledger import evidence
from ledger.client import Ledger
from ledger.evidence import Document
from ledger.evidence_batcher import EvidenceBatcher, build_receipt
from ledger.evidence_verify import Reason, VerificationError, check_offline, parse_receipt, verify_receipt
from ledger.merkle import StandardMerkleTree, encode_leaf, leaf_hash

SUBMITTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
COUNTERPARTY = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
ANCHOR = {"chainId": 31337, "contract": "0x5FbDB2315678afecb367f032d93F642f64180aa3", "txHash": "0x" + "ab" * 32,
          "blockNumber": 7, "blockTime": 1_760_000_000}
FLIPS = 32
SAMPLES = 20


def batch(size: int, rnd: random.Random) -> tuple[list[bytes], list[Document], list[dict[str, Any]]]:
    """``size`` random documents and their receipts (anchor fields made up: offline checks only)."""
    files = [rnd.randbytes(rnd.randint(0, 300)) for _ in range(size)]
    documents = [
        Document(
            evidence.draft_leaf(data, "invoice", SUBMITTER, [SUBMITTER, COUNTERPARTY],
                                submitted_at=1_750_000_000 + i, salt=rnd.randbytes(32)),
            "invoice",
            f"doc-{i}",
        )
        for i, data in enumerate(files)
    ]
    tree = evidence.evidence_tree([d.leaf for d in documents])
    head = {"index": 0, "size": 1, "head": "0x" + "00" * 32, "inclusion": []}
    info = {"root": "0x" + tree.root.hex(), "batchId": 1, "leafCount": size, "submitter": SUBMITTER, "uri": ""}
    receipts = [build_receipt(d, tree.get_proof(i), info, ANCHOR, head) for i, d in enumerate(documents)]
    return files, documents, receipts


def flip_bit(raw: bytes, rnd: random.Random) -> bytes:
    out = bytearray(raw)
    bit = rnd.randrange(8 * len(out))
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def flip_hex(text: str, rnd: random.Random) -> str:
    return "0x" + flip_bit(bytes.fromhex(text[2:]), rnd).hex()


def tamper(data: bytes, receipt: dict[str, Any], rnd: random.Random) -> tuple[bytes, dict[str, Any], set[Reason]]:
    """One random bit flip in the file, a leaf field or a proof element, and the reasons it may fail with."""
    targets = ["file", "documentHash", "documentType", "submitter", "parties", "submittedAt", "salt",
               "signaturesHash"]
    if receipt["proof"]:
        targets.append("proof")
    target = rnd.choice(targets)
    receipt = {**receipt, "leaf": dict(receipt["leaf"]), "proof": list(receipt["proof"])}
    leaf = receipt["leaf"]
    if target == "file":
        if not data:
            return b"\0", receipt, {Reason.FILE_CHANGED}
        return flip_bit(data, rnd), receipt, {Reason.FILE_CHANGED}
    if target == "proof":
        i = rnd.randrange(len(receipt["proof"]))
        receipt["proof"][i] = flip_hex(receipt["proof"][i], rnd)
        return data, receipt, {Reason.PROOF_INVALID}
    if target == "submittedAt":
        leaf["submittedAt"] ^= 1 << rnd.randrange(64)
    elif target in ("submitter",):
        leaf["submitter"] = Web3.to_checksum_address(flip_hex(leaf["submitter"], rnd))
    elif target == "parties":
        parties = list(leaf["parties"])
        i = rnd.randrange(len(parties))
        parties[i] = Web3.to_checksum_address(flip_hex(parties[i], rnd))
        leaf["parties"] = parties
    else:
        leaf[target] = flip_hex(leaf[target], rnd)
    expected = {"documentHash": Reason.FILE_CHANGED, "signaturesHash": Reason.SIGNATURE_INVALID}
    return data, receipt, {expected.get(target, Reason.PROOF_INVALID)}


def check_batch(files: list[bytes], receipts: list[dict[str, Any]], rnd: random.Random) -> None:
    for data, receipt in zip(files, receipts, strict=True):
        check_offline(data, receipt)  # every receipt verifies
    for i in rnd.sample(range(len(receipts)), min(SAMPLES, len(receipts))):
        for _ in range(FLIPS):
            data, bad, reasons = tamper(files[i], receipts[i], rnd)
            with pytest.raises(VerificationError) as failed:
                check_offline(data, bad)
            assert failed.value.reason in reasons, (failed.value, reasons)


@settings(max_examples=4, deadline=None)
@given(size=st.integers(1, 5000), seed=st.integers(0, 2**32))
@example(size=1, seed=1)
@example(size=2, seed=2)
@example(size=5000, seed=3)
def test_every_receipt_verifies_and_every_bit_flip_fails(size: int, seed: int) -> None:
    rnd = random.Random(seed)
    files, _, receipts = batch(size, rnd)
    check_batch(files, receipts, rnd)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 5000), seed=st.integers(0, 2**32))
def test_every_receipt_verifies_and_every_bit_flip_fails_many(size: int, seed: int) -> None:
    rnd = random.Random(seed)
    files, _, receipts = batch(size, rnd)
    check_batch(files, receipts, rnd)


@given(
    st.binary(min_size=32, max_size=32), st.integers(0, 2**64 - 1), st.lists(st.binary(min_size=20, max_size=20),
                                                                              max_size=6),
)
def test_fast_leaf_encoding_is_abi_encode(salt: bytes, submitted_at: int, parties: list[bytes]) -> None:
    leaf = evidence.EvidenceLeaf(
        os.urandom(32), evidence.document_type_id("invoice"), evidence.checksum("0x" + os.urandom(20).hex()),
        tuple(evidence.checksum("0x" + p.hex()) for p in parties), submitted_at, salt, os.urandom(32),
    )
    assert leaf.encode() == encode_leaf(evidence.LEAF_ENCODING, leaf.values())
    assert leaf.hash() == leaf_hash(evidence.LEAF_ENCODING, leaf.values())
    tree = evidence.evidence_tree([leaf, evidence.EvidenceLeaf(*leaf.values()[:3], (), 0, salt, bytes(32))])
    assert tree.root == StandardMerkleTree.of([v.values() for v in (leaf,)] + [tree.at(1)], evidence.LEAF_ENCODING).root


def test_parse_is_strict_about_the_format() -> None:
    _, _, (receipt,) = batch(1, random.Random(0))
    parse_receipt(receipt)
    for broken in ({**receipt, "leafEncoding": ["bytes32"]}, {**receipt, "proof": ["0x12"]},
                   {k: v for k, v in receipt.items() if k != "batch"}):
        with pytest.raises(VerificationError) as failed:
            parse_receipt(broken)
        assert failed.value.reason is Reason.MALFORMED_RECEIPT


def anchored_batches(ledger: Ledger, actors: Any, tmp_path: Path, sizes: list[int], seed: int) -> None:
    rnd = random.Random(seed)
    ev = ledger.address("EvidenceLedger")
    batcher = EvidenceBatcher(ledger.chain, ev, actors.supplier, tmp_path / "journal", tmp_path / "receipts")
    for size in sizes:
        files = [rnd.randbytes(rnd.randint(1, 100)) + os.urandom(8) for _ in range(size)]
        documents = [batcher.document(data, "delivery-note", name=f"{size}-{i}", parties=[actors.core.address])
                     for i, data in enumerate(files)]
        result = batcher.anchor(documents)
        receipts = [load(path) for path in result.receipts]
        check_batch(files, receipts, rnd)
        for i in rnd.sample(range(size), min(3, size)):
            outcome = verify_receipt(files[i], receipts[i], [ledger.chain.rpc_url], contract=ev)
            assert outcome.ok, outcome


def test_anchored_random_batches_verify_on_chain(ledger: Ledger, actors: Any, tmp_path: Path) -> None:
    rnd = random.Random()
    anchored_batches(ledger, actors, tmp_path, [1, rnd.randint(2, 5000)], rnd.randrange(2**32))


@pytest.mark.slow
def test_anchored_random_batches_verify_on_chain_many(ledger: Ledger, actors: Any, tmp_path: Path) -> None:
    rnd = random.Random()
    anchored_batches(ledger, actors, tmp_path, [rnd.randint(1, 5000) for _ in range(8)] + [5000],
                     rnd.randrange(2**32))
