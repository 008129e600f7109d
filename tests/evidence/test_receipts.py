"""The batcher writes one receipt per document; the verifier accepts each with nothing but RPC, and
rejects every kind of tampering with its own reason (and exit code, through the CLI)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from eth_account import Account
from evidence_helpers import flip_hex, load, lying_proxy, mutated, selector
from typer.testing import CliRunner

from ledger import evidence
from ledger.client import Ledger
from ledger.errors import ContractRevertError
from ledger.evidence import DocumentSignature
from ledger.evidence_batcher import RECEIPT_JSON_SCHEMA, RECEIPT_SCHEMA, BatcherError, EvidenceBatcher, build_receipt
from ledger.evidence_cli import evidence_app
from ledger.evidence_log import LogTree
from ledger.evidence_verify import EXIT_CODES, Reason, TrustedHead, check_offline, verify_receipt


@pytest.fixture
def ev(ledger: Ledger) -> str:
    return ledger.address("EvidenceLedger")


@pytest.fixture
def batcher(ledger: Ledger, actors: Any, ev: str, tmp_path: Path) -> EvidenceBatcher:
    return EvidenceBatcher(ledger.chain, ev, actors.supplier, tmp_path / "journal", tmp_path / "receipts")


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = []
    for i, name in enumerate(["invoice-1.pdf", "delivery note 2.txt", "contract.json", "receipt-4.bin", "x.csv"]):
        path = folder / name
        path.write_bytes(f"document {i}: ".encode() + os.urandom(200 + i))
        paths.append(path)
    return paths


@pytest.fixture
def anchored(ledger: Ledger, actors: Any, batcher: EvidenceBatcher, files: list[Path]) -> dict[str, Any]:
    """Five files, signed by the supplier (submitter) and the core enterprise (counterparty), anchored."""
    documents = [
        batcher.document(p.read_bytes(), "invoice", name=p.name, parties=[actors.supplier.address, actors.core.address],
                         signers=[actors.supplier, actors.core])
        for p in files
    ]
    result = batcher.anchor(documents, "s3://evidence/batch")
    receipts = {p.name: load(r) for p, r in zip(files, result.receipts, strict=True)}
    return {"result": result, "receipts": receipts, "documents": documents}


def check(ledger: Ledger, path: Path, receipt: dict[str, Any], **kwargs: Any) -> Any:
    return verify_receipt(path.read_bytes(), receipt, [ledger.chain.rpc_url], **kwargs)


def mine(ledger: Ledger, blocks: int) -> None:
    for _ in range(blocks):
        ledger.chain.w3.provider.make_request("evm_mine", [])


# ------------------------------------------------------------------------------------ the good path


def test_every_receipt_verifies_from_the_chain_alone(
    ledger: Ledger, actors: Any, ev: str, files: list[Path], anchored: dict[str, Any]
) -> None:
    result = anchored["result"]
    assert result.batch_id == 1 and result.gas_used and result.gas_used < 150_000
    assert len(list(result.receipts[0].parent.glob("*.receipt.json"))) == len(files)
    block = ledger.chain.w3.eth.get_block(result.block_number)
    for path in files:
        receipt = anchored["receipts"][path.name]
        assert receipt["schema"] == RECEIPT_SCHEMA
        assert receipt["anchor"] == {
            "chainId": ledger.chain.chain_id, "contract": ev, "txHash": result.tx_hash,
            "blockNumber": result.block_number, "blockTime": block["timestamp"],
        }
        assert receipt["batch"]["batchId"] == 1 and receipt["batch"]["leafCount"] == 5
        assert receipt["document"] == {"name": path.name, "type": "invoice", "hashAlgorithm": "sha256"}
        assert [s["signer"] for s in receipt["signatures"]] == [actors.supplier.address, actors.core.address]
        outcome = check(ledger, path, receipt, contract=ev)
        assert outcome.ok, outcome
        assert outcome.exit_code == 0
        assert outcome.facts["batchId"] == 1 and outcome.facts["anchoredAt"] == block["timestamp"]
        assert outcome.facts["signatures"] == [
            {"signer": actors.supplier.address, "kind": "ecdsa"}, {"signer": actors.core.address, "kind": "ecdsa"}
        ]
        assert outcome.facts["head"]["size"] == 1
        # the on-chain view agrees
        leaf = evidence.EvidenceLeaf.from_json(receipt["leaf"])
        assert evidence.verify_on_chain(ledger, ev, receipt["batch"]["root"], receipt["proof"], leaf.hash())


def conforms(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """The subset of JSON Schema that RECEIPT_JSON_SCHEMA uses."""
    if "const" in schema:
        assert value == schema["const"], where
        return
    kind = schema["type"]
    if kind == "object":
        assert isinstance(value, dict) and set(value) == set(schema["required"]) == set(schema["properties"]), where
        for key, sub in schema["properties"].items():
            conforms(value[key], sub, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            conforms(item, schema["items"], f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str) and re.fullmatch(schema.get("pattern", ".*"), value), where
    else:
        assert isinstance(value, int) and not isinstance(value, bool), where
        assert schema.get("minimum", value) <= value <= schema.get("maximum", value), where


def test_receipts_follow_the_published_schema(anchored: dict[str, Any]) -> None:
    json.dumps(RECEIPT_JSON_SCHEMA)
    for receipt in anchored["receipts"].values():
        conforms(receipt, RECEIPT_JSON_SCHEMA)


def test_countersignature_is_reported(
    ledger: Ledger, actors: Any, ev: str, files: list[Path], anchored: dict[str, Any]
) -> None:
    receipt = anchored["receipts"][files[1].name]
    result = evidence.countersign(ledger, ev, actors.core, receipt["batch"]["root"], receipt["leafHash"],
                                  receipt["proof"])
    outcome = check(ledger, files[1], receipt)
    assert outcome.ok
    at = int(ledger.chain.w3.eth.get_block(result.block_number)["timestamp"])
    assert outcome.facts["countersignatures"] == {actors.core.address: at}


def test_erc1271_wallet_signature(
    ledger: Ledger, actors: Any, ev: str, batcher: EvidenceBatcher, tmp_path: Path
) -> None:
    wallet, _ = ledger.chain.deploy(actors.admin, "ERC1271Wallet", actors.core2.address)
    data = b"warehouse receipt 77"
    path = tmp_path / "wr.txt"
    path.write_bytes(data)
    for owner, expected in ((actors.core2, Reason.OK), (actors.outsider, Reason.SIGNATURE_INVALID)):
        draft = evidence.draft_leaf(data, "warehouse-receipt", actors.supplier.address,
                                    [actors.supplier.address, wallet.address], submitted_at=1_750_000_000)
        signature = evidence.sign_document(owner, draft, ledger.chain.chain_id, ev).signature
        signed = DocumentSignature(wallet.address, signature)  # the wallet signs through its owner's key
        document = evidence.Document(evidence.with_signatures(draft, [signed]), "warehouse-receipt", "wr.txt",
                                     (signed,))
        outcome = check(ledger, path, load(batcher.anchor([document]).receipts[0]))
        assert outcome.reason is expected, outcome
        if expected is Reason.OK:
            assert outcome.facts["signatures"] == [{"signer": wallet.address, "kind": "erc1271"}]


# ------------------------------------------------------------------------------- each failure reason


def test_tampered_file(ledger: Ledger, files: list[Path], anchored: dict[str, Any]) -> None:
    receipt = anchored["receipts"][files[0].name]
    data = bytearray(files[0].read_bytes())
    data[17] ^= 0x20
    files[0].write_bytes(bytes(data))
    outcome = check(ledger, files[0], receipt)
    assert outcome.reason is Reason.FILE_CHANGED and outcome.exit_code == EXIT_CODES[Reason.FILE_CHANGED]


def test_tampered_proof_element(ledger: Ledger, files: list[Path], anchored: dict[str, Any]) -> None:
    receipt = anchored["receipts"][files[2].name]
    for i in range(len(receipt["proof"])):
        bad = mutated(receipt, lambda r, i=i: r["proof"].__setitem__(i, flip_hex(r["proof"][i], 77)))
        assert check(ledger, files[2], bad).reason is Reason.PROOF_INVALID
    bad = mutated(receipt, lambda r: r["proof"].pop())
    assert check(ledger, files[2], bad).reason is Reason.PROOF_INVALID
    bad = mutated(receipt, lambda r: r["leaf"].__setitem__("submittedAt", r["leaf"]["submittedAt"] + 1))
    assert check(ledger, files[2], bad).reason is Reason.PROOF_INVALID


def test_receipt_from_another_chain_or_contract(
    ledger: Ledger, actors: Any, ev: str, tmp_path: Path, files: list[Path], anchored: dict[str, Any]
) -> None:
    receipt = anchored["receipts"][files[0].name]
    other_chain = mutated(receipt, lambda r: r["anchor"].__setitem__("chainId", 1))
    outcome = check(ledger, files[0], other_chain)
    assert outcome.reason is Reason.WRONG_CHAIN and "chain 1" in outcome.detail

    # a genuine receipt of another EvidenceLedger is not one of the public contract's
    other, _ = ledger.chain.deploy(actors.admin, "EvidenceLedger", ledger.participants.address)
    own = EvidenceBatcher(ledger.chain, other.address, actors.supplier, tmp_path / "j2", tmp_path / "r2")
    doc = own.document(files[0].read_bytes(), "invoice", name=files[0].name)
    foreign = load(own.anchor([doc]).receipts[0])
    assert check(ledger, files[0], foreign).ok
    assert check(ledger, files[0], foreign, contract=ev).reason is Reason.WRONG_CONTRACT
    # ... and pointing it at the public contract finds no anchor there
    moved = mutated(foreign, lambda r: r["anchor"].__setitem__("contract", ev))
    assert check(ledger, files[0], moved).reason is Reason.ROOT_NOT_ANCHORED
    nowhere = mutated(receipt, lambda r: r["anchor"].__setitem__("contract", actors.outsider.address))
    assert check(ledger, files[0], nowhere).reason is Reason.WRONG_CONTRACT


def test_revoked_document(ledger: Ledger, actors: Any, ev: str, files: list[Path], anchored: dict[str, Any]) -> None:
    receipt = anchored["receipts"][files[3].name]
    evidence.revoke(ledger, ev, actors.regulator, receipt["batch"]["root"], receipt["leafHash"], receipt["proof"],
                    "forged delivery")
    outcome = check(ledger, files[3], receipt)
    assert outcome.reason is Reason.REVOKED
    assert "forged delivery" in outcome.detail and outcome.facts["revocation"]["revokedBy"] == actors.regulator.address
    assert check(ledger, files[4], anchored["receipts"][files[4].name]).ok  # only that leaf


def test_unanchored_root(ledger: Ledger, batcher: EvidenceBatcher, files: list[Path], anchored: dict[str, Any]) -> None:
    receipt = anchored["receipts"][files[0].name]
    document = batcher.document(files[0].read_bytes(), "invoice", name=files[0].name)
    tree = evidence.evidence_tree([document.leaf, batcher.document(b"other", "invoice").leaf])
    forged = build_receipt(document, tree.get_proof(0), {**receipt["batch"], "root": "0x" + tree.root.hex()},
                           receipt["anchor"], receipt["log"])
    check_offline(files[0].read_bytes(), forged)  # internally consistent ...
    assert check(ledger, files[0], forged).reason is Reason.ROOT_NOT_ANCHORED  # ... but never anchored


def test_forged_signature(
    ledger: Ledger, actors: Any, ev: str, batcher: EvidenceBatcher, files: list[Path]
) -> None:
    draft = evidence.draft_leaf(files[0].read_bytes(), "contract", actors.supplier.address,
                                [actors.supplier.address, actors.core.address], submitted_at=1_760_000_000)
    by_outsider = evidence.sign_document(actors.outsider, draft, ledger.chain.chain_id, ev).signature
    claimed = DocumentSignature(actors.core.address, by_outsider)  # claims the core enterprise signed
    document = evidence.Document(evidence.with_signatures(draft, [claimed]), "contract", files[0].name, (claimed,))
    receipt = load(batcher.anchor([document]).receipts[0])
    outcome = check(ledger, files[0], receipt)
    assert outcome.reason is Reason.SIGNATURE_INVALID and actors.core.address in outcome.detail
    # a signature swapped in the receipt no longer matches the leaf's signaturesHash
    honest = evidence.sign_document(actors.core, draft, ledger.chain.chain_id, ev).signature
    swapped = mutated(receipt, lambda r: r["signatures"][0].__setitem__("signature", "0x" + honest.hex()))
    assert check(ledger, files[0], swapped).reason is Reason.SIGNATURE_INVALID
    # a non-party's valid signature is refused as well
    stranger = evidence.sign_document(actors.outsider, draft, ledger.chain.chain_id, ev)
    document = evidence.Document(evidence.with_signatures(draft, [stranger]), "contract", files[0].name, (stranger,))
    receipt = load(batcher.anchor([document]).receipts[0])
    assert check(ledger, files[0], receipt).reason is Reason.SIGNATURE_INVALID


def test_trusted_head_consistency(
    ledger: Ledger, actors: Any, ev: str, files: list[Path], anchored: dict[str, Any]
) -> None:
    receipt = anchored["receipts"][files[0].name]
    roots = [bytes.fromhex(receipt["batch"]["root"][2:])]
    for i in range(6):
        root = os.urandom(32)
        evidence.anchor_root(ledger, ev, actors.core, root, i + 1, "")
        roots.append(root)
    log = LogTree(roots)
    for size in range(0, 8):
        assert check(ledger, files[0], receipt, trusted_head=TrustedHead(size, log.root(size))).ok
    forked = LogTree([*roots[:3], os.urandom(32)])  # someone's rewritten history
    outcome = check(ledger, files[0], receipt, trusted_head=TrustedHead(4, forked.root()))
    assert outcome.reason is Reason.INCONSISTENT_HEAD and "trusted head 4" in outcome.detail
    outcome = check(ledger, files[0], receipt, trusted_head=TrustedHead(9, log.root()))
    assert outcome.reason is Reason.INCONSISTENT_HEAD
    bad_log = mutated(receipt, lambda r: r["log"].__setitem__("head", flip_hex(r["log"]["head"])))
    assert check(ledger, files[0], bad_log).reason is Reason.INCONSISTENT_HEAD
    assert TrustedHead.parse(f"7:0x{log.root().hex()}") == TrustedHead(7, log.root())


def test_confirmations_and_anchor_facts(ledger: Ledger, files: list[Path], anchored: dict[str, Any]) -> None:
    receipt = anchored["receipts"][files[0].name]
    outcome = check(ledger, files[0], receipt, confirmations=4)
    assert outcome.reason is Reason.TOO_FEW_CONFIRMATIONS and "1 confirmations, 4 required" in outcome.detail
    mine(ledger, 3)
    assert check(ledger, files[0], receipt, confirmations=4).ok
    late = mutated(receipt, lambda r: r["anchor"].__setitem__("blockTime", r["anchor"]["blockTime"] + 60))
    assert check(ledger, files[0], late).reason is Reason.BLOCK_TIME_MISMATCH
    other_tx = mutated(receipt, lambda r: r["anchor"].__setitem__("txHash", flip_hex(r["anchor"]["txHash"])))
    assert check(ledger, files[0], other_tx).reason is Reason.ANCHOR_MISMATCH
    other_batch = mutated(receipt, lambda r: r["batch"].__setitem__("batchId", 2))
    assert check(ledger, files[0], other_batch).reason is Reason.ANCHOR_MISMATCH
    assert check(ledger, files[0], {**receipt, "schema": "v0"}).reason is Reason.MALFORMED_RECEIPT
    unreachable = verify_receipt(files[0].read_bytes(), receipt, ["http://127.0.0.1:9"])
    assert unreachable.reason is Reason.UNREACHABLE


def test_endpoints_must_agree(ledger: Ledger, files: list[Path], anchored: dict[str, Any]) -> None:
    receipt = anchored["receipts"][files[0].name]
    head, revocation = selector("head()"), selector("revocationOf(bytes32)")
    url = ledger.chain.rpc_url

    def lie_about(function: str) -> Any:
        def rewrite(request: dict[str, Any], response: dict[str, Any]) -> None:
            if request.get("method") == "eth_call" and request["params"][0].get("data", "").startswith(function):
                response["result"] = flip_hex(response["result"], 8 * 31 + 2 if function == head else 8 * 63)
        return rewrite

    with lying_proxy(url, lambda req, res: None) as honest:
        assert verify_receipt(files[0].read_bytes(), receipt, [url, honest]).ok
    for function in (head, revocation):
        with lying_proxy(url, lie_about(function)) as liar:
            outcome = verify_receipt(files[0].read_bytes(), receipt, [url, liar])
            assert outcome.reason is Reason.ENDPOINTS_DISAGREE, outcome
            assert ("head" if function == head else "revocation") in outcome.detail


# ------------------------------------------------------------------------------------------ the CLI


def test_cli_anchor_and_verify(
    ledger: Ledger, actors: Any, ev: str, tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = typer.Typer()
    app.add_typer(evidence_app, name="evidence")
    runner = CliRunner()
    keystore = tmp_path / "supplier.json"
    keystore.write_text(json.dumps(Account.encrypt(actors.supplier.key, "pw", kdf="pbkdf2", iterations=2)))
    monkeypatch.setenv("SCF_KEY_PASSWORD", "pw")
    out = tmp_path / "out"
    args = ["evidence", "anchor", str(files[0].parent), "--rpc", ledger.chain.rpc_url, "--keystore", str(keystore),
            "--contract", ev, "--receipts", str(out), "--journal", str(tmp_path / "journal"), "--type", "invoice",
            "--party", actors.core.address, "--sign", "--batch-size", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "batch 1: 3 documents" in result.output and "batch 2: 2 documents" in result.output
    receipts = sorted(out.glob("*.receipt.json"))
    assert len(receipts) == 5
    for path in files:
        (receipt,) = [r for r in receipts if r.name.startswith(path.name.replace(" ", "_"))]
        verify = ["evidence", "verify", str(path), "--receipt", str(receipt), "--rpc", ledger.chain.rpc_url,
                  "--rpc", ledger.chain.rpc_url, "--contract", ev, "--json"]
        result = runner.invoke(app, verify)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["ok"] is True
    path = files[0]
    (receipt,) = [r for r in receipts if r.name.startswith(path.name)]
    path.write_bytes(b"changed")
    result = runner.invoke(app, ["evidence", "verify", str(path), "--receipt", str(receipt),
                                 "--rpc", ledger.chain.rpc_url])
    assert result.exit_code == EXIT_CODES[Reason.FILE_CHANGED]
    assert "file changed" in result.output
    result = runner.invoke(app, ["evidence", "verify", str(files[1]), "--receipt", str(receipt),
                                 "--rpc", ledger.chain.rpc_url, "--trusted-head", "nonsense"])
    assert result.exit_code == 2

    outsider = tmp_path / "outsider.json"
    outsider.write_text(json.dumps(Account.encrypt(actors.outsider.key, "pw", kdf="pbkdf2", iterations=2)))
    result = runner.invoke(app, ["evidence", "anchor", str(files[1]), "--rpc", ledger.chain.rpc_url,
                                 "--keystore", str(outsider), "--contract", ev, "--receipts", str(tmp_path / "o"),
                                 "--journal", str(tmp_path / "oj")])
    assert result.exit_code == 1 and "EvidenceNotMember" in result.output


def test_batcher_refuses_bad_batches(ledger: Ledger, actors: Any, batcher: EvidenceBatcher) -> None:
    with pytest.raises(BatcherError):
        batcher.anchor([])
    foreign = evidence.Document(
        evidence.draft_leaf(b"x", "invoice", actors.core.address, submitted_at=1), "invoice", "x"
    )
    with pytest.raises(BatcherError, match="submitted by"):
        batcher.anchor([foreign])
    document = batcher.document(b"once", "invoice", name="once")
    first = batcher.anchor([document])
    with pytest.raises(BatcherError, match="journaled already"):
        batcher.anchor([document])
    # a second journal of the same batch finds it anchored and sends nothing: anchored exactly once
    ev = ledger.address("EvidenceLedger")
    again = EvidenceBatcher(ledger.chain, ev, actors.supplier, batcher.journal_dir.parent / "j3",
                            batcher.receipts_dir).anchor([document])
    assert (again.batch_id, again.tx_hash, again.gas_used) == (first.batch_id, first.tx_hash, None)
    assert evidence.batch_count(ledger, ev) == 1
    # a root someone else anchored is not ours to receipt
    evidence.anchor_root(ledger, ev, actors.core, evidence.evidence_tree([foreign.leaf]).root, 1)
    with pytest.raises(BatcherError, match="anchored by"):
        EvidenceBatcher(ledger.chain, ev, actors.supplier, batcher.journal_dir.parent / "j4",
                        batcher.receipts_dir).process(
            EvidenceBatcher(ledger.chain, ev, actors.core, batcher.journal_dir.parent / "j5",
                            batcher.receipts_dir).prepare([foreign])
        )
    with pytest.raises(ContractRevertError, match="EvidenceNotMember"):
        EvidenceBatcher(ledger.chain, ev, actors.outsider, batcher.journal_dir.parent / "j6",
                        batcher.receipts_dir).anchor([evidence.Document(
                            evidence.draft_leaf(b"y", "invoice", actors.outsider.address, submitted_at=1), "invoice")])
