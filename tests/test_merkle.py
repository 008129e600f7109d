"""ledger.merkle against @openzeppelin/merkle-tree: roots, leaf hashes, proofs, multiproofs and dumps
equal byte for byte (scripts/oz_merkle.js builds the reference trees); proof checks refuse tampered
proofs and leaves, and an inner node never passes as a leaf of values."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.merkle import (
    MerkleTreeError,
    StandardMerkleTree,
    encode_leaf,
    keccak256,
    leaf_hash,
    node_hash,
    process_multi_proof,
    process_proof,
    verify,
    verify_multi,
)

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ["bytes32", "uint256", "address"]  # document hash, sequence number, submitter
AIRDROP = ["address", "uint256"]
MIXED = ["string", "bytes", "bool", "int256", "uint8[]", "(uint64,bytes32)"]
SIZES = [1, 2, 3, 7, 8, 100, 1000]

Oz = Callable[[dict[str, Any]], dict[str, Any]]


def compact(data: Any) -> str:
    """JSON.stringify's output for our ASCII data."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def hx(value: bytes) -> str:
    return "0x" + value.hex()


@pytest.fixture(scope="module")
def oz() -> Iterator[Oz]:
    """One `node scripts/oz_merkle.js --lines` for the module: a request per line, an answer per line."""
    node = shutil.which("node")
    assert node, "node not found on PATH"
    proc = subprocess.Popen(
        [node, "scripts/oz_merkle.js", "--lines"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert proc.stdin is not None and proc.stdout is not None

    def ask(request: dict[str, Any]) -> dict[str, Any]:
        proc.stdin.write(compact(request) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line, f"oz_merkle.js exited with {proc.poll()}"
        return json.loads(line)

    yield ask
    proc.stdin.close()
    proc.wait(timeout=10)


# -------------------------------------------------------------------------------------- values


def document_values(rnd: random.Random, n: int) -> list[list[Any]]:
    return [[rnd.randbytes(32), rnd.getrandbits(256), "0x" + rnd.randbytes(20).hex()] for _ in range(n)]


def airdrop_values(rnd: random.Random, n: int) -> list[list[Any]]:
    # checksummed and lower-case addresses, amounts as ints and as decimal strings
    values: list[list[Any]] = []
    for i in range(n):
        address = "0x" + rnd.randbytes(20).hex()
        amount = rnd.getrandbits(rnd.choice([8, 64, 256]))
        values.append([address.upper().replace("0X", "0x") if i % 3 == 0 else address, amount])
    return values


def mixed_values(rnd: random.Random, n: int) -> list[list[Any]]:
    return [
        [
            f"doc-{i}-" + "é" * rnd.randrange(3) + "x" * rnd.randrange(40),
            rnd.randbytes(rnd.randrange(70)),
            rnd.random() < 0.5,
            rnd.randrange(-(2**255), 2**255),
            [rnd.randrange(256) for _ in range(rnd.randrange(4))],
            (rnd.getrandbits(64), rnd.randbytes(32)),
        ]
        for i in range(n)
    ]


GENERATORS = {
    "document": (DOCUMENT, document_values),
    "airdrop": (AIRDROP, airdrop_values),
    "mixed": (MIXED, mixed_values),
}


def multi_indices(rnd: random.Random, n: int) -> list[int]:
    return rnd.sample(range(n), rnd.randint(1, min(n, 12)))


def assert_same_as_oz(tree: StandardMerkleTree, answer: dict[str, Any], indices: list[int] | None) -> None:
    assert "error" not in answer, answer
    assert answer["root"] == hx(tree.root)
    assert answer["leafHashes"] == [hx(tree.leaf_hash_at(i)) for i in range(len(tree))]
    assert answer["proofs"] == [[hx(p) for p in tree.get_proof(i)] for i in range(len(tree))]
    assert compact(answer["dump"]) == compact(tree.dump())
    if indices is not None:
        assert answer["multiProof"] == tree.get_multi_proof(indices).to_json()


# ------------------------------------------------------------------------------ byte for byte


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_tree_matches_openzeppelin_library(oz: Oz, kind: str, size: int) -> None:
    types, generate = GENERATORS[kind]
    rnd = random.Random(f"{kind}-{size}")
    values = generate(rnd, size)
    tree = StandardMerkleTree.of(values, types)
    indices = multi_indices(rnd, size)
    json_values = [entry["value"] for entry in tree.dump()["values"]]

    answer = oz({"types": types, "values": json_values, "multiIndices": indices})

    assert_same_as_oz(tree, answer, indices)
    multiproof = tree.get_multi_proof(indices)
    assert verify_multi(tree.root, multiproof.proof, multiproof.proof_flags, multiproof.leaf_hashes)
    assert StandardMerkleTree.verify_multi_values(
        tree.root, types, multiproof.leaves, multiproof.proof, multiproof.proof_flags
    )
    for i in range(len(tree)):
        assert verify(tree.root, tree.leaf_hash(values[i]), tree.get_proof(i))
        assert tree.leaf_hash_at(tree.leaf_lookup(values[i])) == tree.leaf_hash_at(i)


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_dumps_load_both_ways(oz: Oz, kind: str) -> None:
    types, generate = GENERATORS[kind]
    tree = StandardMerkleTree.of(generate(random.Random(kind), 37), types)

    # JavaScript loads (and validates) the Python dump and dumps it again unchanged ...
    answer = oz({"dump": tree.dump(), "multiIndices": [0, 5, 36]})
    assert_same_as_oz(tree, answer, [0, 5, 36])

    # ... and Python loads the JavaScript dump of a tree JavaScript built.
    built = oz({"types": types, "values": [v["value"] for v in tree.dump()["values"]]})
    loaded = StandardMerkleTree.load(built["dump"])
    assert loaded.root == tree.root
    assert compact(loaded.dump()) == compact(built["dump"])
    assert [loaded.get_proof(i) for i in range(len(loaded))] == [tree.get_proof(i) for i in range(len(tree))]


def test_load_keeps_javascript_value_forms(oz: Oz) -> None:
    """Numbers given to the library as JSON numbers or hex strings dump back as given."""
    values = [["0x" + "11" * 20, 5], ["0x" + "22" * 20, "0x10"], ["0x" + "33" * 20, "12345678901234567890"]]
    built = oz({"types": AIRDROP, "values": values})
    loaded = StandardMerkleTree.load(built["dump"])
    assert compact(loaded.dump()) == compact(built["dump"])
    assert loaded.root.hex() == built["root"][2:]
    assert loaded.leaf_lookup(["0x" + "22" * 20, 16]) == 1


def test_duplicate_values_and_empty_multiproof_match(oz: Oz) -> None:
    rnd = random.Random(7)
    values = document_values(rnd, 5)
    values += [values[1], values[3], values[1]]
    tree = StandardMerkleTree.of(values, DOCUMENT)
    answer = oz({"types": DOCUMENT, "values": [v["value"] for v in tree.dump()["values"]], "multiIndices": []})
    assert_same_as_oz(tree, answer, [])
    empty = tree.get_multi_proof([])
    assert empty.proof == [tree.root] and empty.proof_flags == [] and empty.leaves == []
    assert process_multi_proof(empty.proof, [], []) == tree.root  # the library's "empty set" no-op ...
    assert not verify_multi(tree.root, empty.proof, [], [])  # ... which proves nothing here
    with pytest.raises(MerkleTreeError, match="duplicated"):
        tree.get_multi_proof([2, 2])


@given(
    leaves=st.lists(
        st.tuples(st.binary(min_size=32, max_size=32), st.integers(0, 2**256 - 1), st.binary(min_size=20, max_size=20)),
        min_size=1,
        max_size=70,
    ),
    data=st.data(),
)
def test_random_trees_match_openzeppelin_library(oz: Oz, leaves: list[tuple[bytes, int, bytes]], data: Any) -> None:
    values = [[doc, n, "0x" + addr.hex()] for doc, n, addr in leaves]
    indices = data.draw(st.lists(st.integers(0, len(values) - 1), unique=True, max_size=len(values)))
    tree = StandardMerkleTree.of(values, DOCUMENT)

    answer = oz({"types": DOCUMENT, "values": [v["value"] for v in tree.dump()["values"]], "multiIndices": indices})

    assert_same_as_oz(tree, answer, indices)
    multiproof = tree.get_multi_proof(indices)
    assert verify_multi(tree.root, multiproof.proof, multiproof.proof_flags, multiproof.leaf_hashes) == bool(indices)
    assert all(tree.verify_leaf(i, tree.get_proof(i)) for i in range(len(tree)))


# ------------------------------------------------------------------------------ verification


@pytest.fixture(scope="module")
def tree() -> StandardMerkleTree:
    return StandardMerkleTree.of(document_values(random.Random("verify"), 300), DOCUMENT)


def flip(node: bytes, bit: int = 0) -> bytes:
    raw = bytearray(node)
    raw[bit // 8] ^= 1 << (bit % 8)
    return bytes(raw)


def test_every_proof_verifies_and_hex_is_accepted(tree: StandardMerkleTree) -> None:
    for i in range(len(tree)):
        proof = tree.get_proof(i)
        leaf = tree.leaf_hash_at(i)
        assert process_proof(leaf, proof) == tree.root
        assert verify(hx(tree.root), hx(leaf), [hx(p) for p in proof])
        assert StandardMerkleTree.verify_value(tree.root, DOCUMENT, tree.at(i), proof)


@pytest.mark.parametrize("bit", [0, 7, 128, 255])
def test_tampered_proof_element_fails(tree: StandardMerkleTree, bit: int) -> None:
    for i in (0, 1, 150, 299):
        proof = tree.get_proof(i)
        leaf = tree.leaf_hash_at(i)
        for position in range(len(proof)):
            tampered = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
            assert not verify(tree.root, leaf, tampered)
        assert not verify(tree.root, flip(leaf, bit), proof)
        assert not verify(flip(tree.root, bit), leaf, proof)


def test_reordered_truncated_or_extended_proof_fails(tree: StandardMerkleTree) -> None:
    proof = tree.get_proof(42)
    leaf = tree.leaf_hash_at(42)
    assert not verify(tree.root, leaf, proof[::-1])
    assert not verify(tree.root, leaf, proof[:-1])
    assert not verify(tree.root, leaf, [*proof, tree.root])
    assert not verify(tree.root, leaf, [])
    assert not verify(tree.root, leaf, [*proof[:1], *proof])


def test_tampered_leaf_value_fails(tree: StandardMerkleTree) -> None:
    doc, number, submitter = tree.at(10)
    proof = tree.get_proof(10)
    assert StandardMerkleTree.verify_value(tree.root, DOCUMENT, [doc, number, submitter], proof)
    assert not StandardMerkleTree.verify_value(tree.root, DOCUMENT, [flip(doc), number, submitter], proof)
    assert not StandardMerkleTree.verify_value(tree.root, DOCUMENT, [doc, number + 1, submitter], proof)
    assert not StandardMerkleTree.verify_value(tree.root, ["bytes32", "uint256", "bytes20"], tree.at(10), proof)
    with pytest.raises(MerkleTreeError, match="cannot encode"):
        StandardMerkleTree.verify_value(tree.root, DOCUMENT, [doc, -1, submitter], proof)
    with pytest.raises(MerkleTreeError, match="not in tree"):
        tree.get_proof([flip(doc), number, submitter])


def test_inner_node_does_not_verify_as_a_leaf(tree: StandardMerkleTree) -> None:
    """The 64 bytes under an inner node, offered as a leaf, never prove: hashed twice as a value
    they do not give the node, and as a raw 64-byte "leaf hash" they are refused."""
    nodes = tree.tree
    for parent in (0, 1, 2, 50, len(nodes) // 2 - 1):  # the root, high and low inner nodes
        left, right = sorted((nodes[2 * parent + 1], nodes[2 * parent + 2]))
        assert keccak256(left + right) == nodes[parent] == node_hash(left, right)
        proof = _proof_of_node(nodes, parent)
        assert process_proof(nodes[parent], proof) == tree.root

        assert leaf_hash(["bytes32", "bytes32"], [left, right]) != nodes[parent]
        assert encode_leaf(["bytes32", "bytes32"], [left, right]) == left + right
        assert not StandardMerkleTree.verify_value(tree.root, ["bytes32", "bytes32"], [left, right], proof)
        assert not StandardMerkleTree.verify_value(tree.root, ["bytes"], [left + right], proof)
        assert not verify(tree.root, left + right, proof)  # 64 bytes is not a node
        with pytest.raises(MerkleTreeError):
            process_proof(left + right, proof)
        # A 32-byte inner node hash does prove, which is why verifiers hash leaf values themselves.
        assert verify(tree.root, nodes[parent], proof)


def test_load_refuses_a_value_placed_at_an_inner_node() -> None:
    a, b = [b"\xaa" * 32, 1, "0x" + "11" * 20], [b"\xbb" * 32, 2, "0x" + "22" * 20]
    small = StandardMerkleTree.of([a, b], DOCUMENT)
    dump = small.dump()
    # Tree [root, l1, l2]; claim a value whose leaf hash is the root itself sits at index 0:
    forged = {**dump, "tree": [hx(leaf_hash(DOCUMENT, a)), *dump["tree"][1:]]}
    forged["values"] = [{"value": dump["values"][0]["value"], "treeIndex": 0}, dump["values"][1]]
    with pytest.raises(MerkleTreeError):
        StandardMerkleTree.load(forged)


def _proof_of_node(nodes: list[bytes], index: int) -> list[bytes]:
    proof = []
    while index > 0:
        proof.append(nodes[index - 1 if index % 2 == 0 else index + 1])
        index = (index - 1) // 2
    return proof


def test_tampered_multiproofs_fail(tree: StandardMerkleTree) -> None:
    rnd = random.Random(3)
    for _ in range(20):
        indices = rnd.sample(range(len(tree)), rnd.randint(1, 20))
        mp = tree.get_multi_proof(indices)
        assert verify_multi(tree.root, mp.proof, mp.proof_flags, mp.leaf_hashes)
        if mp.proof:
            k = rnd.randrange(len(mp.proof))
            bad_proof = [*mp.proof[:k], flip(mp.proof[k]), *mp.proof[k + 1 :]]
            assert not verify_multi(tree.root, bad_proof, mp.proof_flags, mp.leaf_hashes)
        k = rnd.randrange(len(mp.leaf_hashes))
        bad_leaves = [*mp.leaf_hashes[:k], flip(mp.leaf_hashes[k]), *mp.leaf_hashes[k + 1 :]]
        assert not verify_multi(tree.root, mp.proof, mp.proof_flags, bad_leaves)
        if len(mp.leaf_hashes) > 1:
            assert not verify_multi(tree.root, mp.proof, mp.proof_flags, mp.leaf_hashes[::-1])
        assert not verify_multi(tree.root, mp.proof, [not f for f in mp.proof_flags], mp.leaf_hashes)
        assert not verify_multi(tree.root, mp.proof[:-1], mp.proof_flags, mp.leaf_hashes)
        assert not verify_multi(tree.root, mp.proof, mp.proof_flags[:-1], mp.leaf_hashes)


def test_load_refuses_tampered_dumps(tree: StandardMerkleTree) -> None:
    dump = tree.dump()
    assert StandardMerkleTree.load(dump).root == tree.root
    with pytest.raises(MerkleTreeError, match="format"):
        StandardMerkleTree.load({**dump, "format": "simple-v1"})
    with pytest.raises(MerkleTreeError, match="invalid at node"):
        StandardMerkleTree.load({**dump, "tree": [hx(flip(bytes.fromhex(dump["tree"][0][2:]))), *dump["tree"][1:]]})
    values = [dict(v) for v in dump["values"]]
    values[3] = {**values[3], "value": [values[3]["value"][0], "1", values[3]["value"][2]]}
    with pytest.raises(MerkleTreeError, match="expected value"):
        StandardMerkleTree.load({**dump, "values": values})
    with pytest.raises(MerkleTreeError):
        StandardMerkleTree.of([], DOCUMENT)


def test_offline_proof_checks_exceed_5000_per_second() -> None:
    """Depth-14 proofs (16,384 leaves): best of three rounds of 2,000 checks."""
    leaves = [keccak256(i.to_bytes(32, "big")) for i in range(2**14)]
    levels = [sorted(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        levels.append([node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)])
    root = levels[-1][0]

    def proof(index: int) -> list[bytes]:
        out = []
        for level in levels[:-1]:
            out.append(level[index ^ 1])
            index //= 2
        return out

    checks = [(levels[0][i], proof(i)) for i in range(0, 2**14, 8)][:2000]
    assert len(checks[0][1]) == 14
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        assert all(verify(root, leaf, p) for leaf, p in checks)
        best = max(best, len(checks) / (time.perf_counter() - start))
    print(f"\noffline proof checks (depth 14): {best:,.0f}/s")
    assert best > 5000
