"""OpenZeppelin's StandardMerkleTree in Python, byte for byte the tree of ``@openzeppelin/merkle-tree``.

A leaf is ``keccak256(keccak256(abi.encode(types, values)))``; an inner node is the keccak256 of
its two children in ascending order, so :mod:`MerkleProof` (Solidity) checks the proofs. As in the
npm library (``StandardMerkleTree.of`` with its default ``sortLeaves``), leaf hashes are sorted
ascending and the tree is a complete binary tree in one array: the root at index 0, the children of
``i`` at ``2i+1`` and ``2i+2``, the smallest leaf hash last. ``dump()``/``load()`` read and write
the library's ``"standard-v1"`` JSON, so a tree built here loads in JavaScript and vice versa.

The double hash of a leaf means no 64-byte value hashes like an inner node: an inner node never
passes as a leaf of a tree built from values. Verifiers must compute leaf hashes from values
themselves (:func:`leaf_hash`, :meth:`StandardMerkleTree.verify_value`): a 32-byte "leaf hash"
taken from someone else could be an inner node.

Proof checks (:func:`verify`, :func:`verify_multi`) are pure functions over bytes that mirror
``MerkleProof.processProof`` and ``processMultiProof``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from eth_abi import encode as abi_encode
from eth_abi.grammar import ABIType, TupleType, normalize, parse
from eth_hash.auto import keccak as _eth_keccak

from ledger.errors import LedgerError

FORMAT = "standard-v1"
HASH_BYTES = 32

Hash = bytes  # 32 bytes
HashLike = bytes | str  # bytes or a 0x-prefixed hex string


class MerkleTreeError(LedgerError, ValueError):
    """A tree, proof, dump or leaf value is malformed or does not belong to the tree."""


# ------------------------------------------------------------------------------------------ keccak


def _fast_keccak_factory() -> Callable[[bytes], bytes] | None:
    """keccak256 straight over pycryptodome's C library, one reusable state per thread.

    ``Crypto.Hash.keccak.new`` spends ~6 µs per call on argument handling and state allocation;
    this spends ~1 µs. Self-checked against eth_hash; None (use eth_hash) if anything differs.
    """
    try:
        from Crypto.Hash import keccak as pycryptodome_keccak
        from Crypto.Util._raw_api import SmartPointer, VoidPointer, c_size_t, create_string_buffer

        lib = pycryptodome_keccak._raw_keccak_lib
        reset, absorb, digest = lib.keccak_reset, lib.keccak_absorb, lib.keccak_digest
        local = threading.local()

        def new_state() -> tuple[Any, Any, Any]:
            pointer = VoidPointer()
            if lib.keccak_init(pointer.address_of(), c_size_t(2 * HASH_BYTES), 24):
                raise RuntimeError("keccak_init failed")
            state = SmartPointer(pointer.get(), lib.keccak_destroy)  # freed with the thread
            out = create_string_buffer(HASH_BYTES)
            return state, state.get(), out

        def keccak(data: bytes) -> bytes:
            try:
                _, raw, out = local.state
            except AttributeError:
                local.state = new_state()
                _, raw, out = local.state
            reset(raw)
            absorb(raw, data, len(data))
            digest(raw, out, HASH_BYTES, 0x01)  # 0x01: Keccak padding (SHA-3 would be 0x06)
            return bytes(out)

        for sample in (b"", b"abc", bytes(range(64)), bytes(200)):
            if keccak(sample) != _eth_keccak(sample):
                return None
        return keccak
    except Exception:  # another pycryptodome layout: fall back to the public API
        return None


keccak256: Callable[[bytes], bytes] = _fast_keccak_factory() or (lambda data: bytes(_eth_keccak(data)))


def node_hash(a: bytes, b: bytes) -> bytes:
    """The parent of ``a`` and ``b``: keccak256 of the two in ascending order (``Hashes.commutativeKeccak256``)."""
    return keccak256(a + b if a <= b else b + a)


# ------------------------------------------------------------------------------------ leaf values


def _abi_types(leaf_encoding: Sequence[str]) -> tuple[list[str], list[ABIType]]:
    try:
        canonical = [normalize(t) for t in leaf_encoding]
        return canonical, [parse(t) for t in canonical]
    except Exception as exc:
        raise MerkleTreeError(f"invalid leaf encoding {list(leaf_encoding)}: {exc}") from exc


def _to_abi(kind: ABIType, value: Any) -> Any:
    """``value`` (Python or JSON form) as eth_abi wants it for ``kind``."""
    if kind.is_array:
        return [_to_abi(kind.item_type, item) for item in value]
    if isinstance(kind, TupleType):
        return tuple(_to_abi(c, item) for c, item in zip(kind.components, value, strict=True))
    base = kind.base
    if base in ("uint", "int"):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise MerkleTreeError(f"{kind} value must be an int or a numeric string, not {value!r}")
        return _parse_int(value) if isinstance(value, str) else value
    if base in ("bytes", "address"):
        return _bytes(value) if isinstance(value, str) else bytes(value)
    return value


def _parse_int(text: str) -> int:
    text = text.strip()
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    number = int(digits[2:], 16) if digits[:2].lower() == "0x" else int(digits, 10)
    return -number if negative else number


def _to_json(value: Any) -> Any:
    """``value`` as the npm library takes and dumps it: ints as decimal strings, bytes as 0x hex."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    raise MerkleTreeError(f"cannot represent {value!r} in a tree dump")


def _bytes(value: HashLike) -> bytes:
    if isinstance(value, str):
        text = value[2:] if value[:2] in ("0x", "0X") else value
        try:
            return bytes.fromhex(text)
        except ValueError as exc:
            raise MerkleTreeError(f"not a hex string: {value!r}") from exc
    return bytes(value)


def _hash(value: HashLike) -> bytes:
    raw = _bytes(value)
    if len(raw) != HASH_BYTES:
        raise MerkleTreeError(f"a Merkle node has {HASH_BYTES} bytes, not {len(raw)}")
    return raw


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def as_bytes(value: HashLike) -> bytes:
    """``value`` as bytes (0x-prefixed or bare hex strings are decoded)."""
    return _bytes(value)


def as_hash(value: HashLike) -> bytes:
    """``value`` as a 32-byte hash; MerkleTreeError for any other length."""
    return _hash(value)


def encode_leaf(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """``abi.encode`` of the leaf ``value``: what is hashed twice into its leaf hash."""
    return _LeafHasher(leaf_encoding).encode(value)


def leaf_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """The standard leaf hash ``keccak256(keccak256(abi.encode(leaf_encoding, value)))``."""
    return _LeafHasher(leaf_encoding)(value)


class _LeafHasher:
    def __init__(self, leaf_encoding: Sequence[str]) -> None:
        self.canonical, self.kinds = _abi_types(leaf_encoding)

    def __call__(self, value: Sequence[Any]) -> bytes:
        return keccak256(keccak256(self.encode(value)))

    def encode(self, value: Sequence[Any]) -> bytes:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != len(self.kinds):
            raise MerkleTreeError(f"a leaf is a sequence of {len(self.kinds)} values, got {value!r}")
        try:
            return abi_encode(self.canonical, [_to_abi(k, v) for k, v in zip(self.kinds, value, strict=True)])
        except MerkleTreeError:
            raise
        except Exception as exc:
            raise MerkleTreeError(f"cannot encode {value!r} as {self.canonical}: {exc}") from exc


# -------------------------------------------------------------------------------- proof checking


def process_proof(leaf: HashLike, proof: Sequence[HashLike]) -> bytes:
    """The root that ``proof`` leads to from ``leaf`` (``MerkleProof.processProof``)."""
    computed = _hash(leaf)
    for element in proof:
        sibling = element if type(element) is bytes and len(element) == HASH_BYTES else _hash(element)
        computed = keccak256(computed + sibling if computed <= sibling else sibling + computed)
    return computed


def verify(root: HashLike, leaf: HashLike, proof: Sequence[HashLike]) -> bool:
    """Whether ``proof`` proves the leaf hash ``leaf`` in the tree of ``root``.

    False, never an exception, for malformed input (any node not exactly 32 bytes, such as a
    64-byte concatenation of two nodes).
    """
    try:
        return process_proof(leaf, proof) == _hash(root)
    except MerkleTreeError:
        return False


def process_multi_proof(proof: Sequence[HashLike], proof_flags: Sequence[bool], leaves: Sequence[HashLike]) -> bytes:
    """The root a multiproof leads to (``MerkleProof.processMultiProof``, the npm library's queue).

    Raises :class:`MerkleTreeError` for a malformed multiproof.
    """
    leaf_hashes = [_hash(leaf) for leaf in leaves]
    siblings = deque(_hash(p) for p in proof)
    flags = [bool(f) for f in proof_flags]
    if len(siblings) < flags.count(False):
        raise MerkleTreeError("invalid multiproof: fewer proof elements than false flags")
    if len(leaf_hashes) + len(siblings) != len(flags) + 1:
        raise MerkleTreeError("invalid multiproof: leaves + proof != flags + 1")
    queue = deque(leaf_hashes)
    for flag in flags:
        if not queue or (flag and len(queue) < 2):
            raise MerkleTreeError("invalid multiproof: the queue ran dry")
        a = queue.popleft()
        b = queue.popleft() if flag else siblings.popleft()
        queue.append(keccak256(a + b if a <= b else b + a))
    if len(queue) + len(siblings) != 1:
        raise MerkleTreeError("invalid multiproof: elements left over")
    return queue.pop() if queue else siblings.popleft()


def verify_multi(
    root: HashLike, proof: Sequence[HashLike], proof_flags: Sequence[bool], leaves: Sequence[HashLike]
) -> bool:
    """Whether the multiproof proves every leaf hash of ``leaves`` in the tree of ``root``.

    False for malformed input and for no leaves at all (the library would "prove" the empty set
    with ``proof == [root]``), as ``EvidenceLedger.verifyMulti`` does.
    """
    if not leaves:
        return False
    try:
        return process_multi_proof(proof, proof_flags, leaves) == _hash(root)
    except MerkleTreeError:
        return False


@dataclass(frozen=True)
class MultiProof:
    """A multiproof in the npm library's order: ``leaves`` (values) and ``leaf_hashes`` by
    descending tree index, as ``MerkleProof.multiProofVerify`` consumes them."""

    leaves: list[Any]
    leaf_hashes: list[bytes]
    proof: list[bytes]
    proof_flags: list[bool]

    def to_json(self) -> dict[str, Any]:
        """The library's ``getMultiProof`` result: ``{leaves, proof, proofFlags}``."""
        return {
            "leaves": [_to_json(v) for v in self.leaves],
            "proof": [_hex(p) for p in self.proof],
            "proofFlags": list(self.proof_flags),
        }


# ------------------------------------------------------------------------------------------ trees


def _make_tree(leaves: Sequence[bytes]) -> list[bytes]:
    if not leaves:
        raise MerkleTreeError("a tree needs at least one leaf")
    size = 2 * len(leaves) - 1
    tree: list[bytes] = [b""] * size
    for i, leaf in enumerate(leaves):
        tree[size - 1 - i] = leaf
    for i in range(size - 1 - len(leaves), -1, -1):
        tree[i] = node_hash(tree[2 * i + 1], tree[2 * i + 2])
    return tree


class StandardMerkleTree:
    """A tree of leaf values of types ``leaf_encoding`` (e.g. ``["bytes32", "uint256", "address"]``).

    Values are indexed in the order given (a "value index"); proofs are asked by value index or by
    value. Hashes are returned as bytes; :meth:`dump` gives the JSON form.
    """

    def __init__(
        self,
        tree: list[bytes],
        values: Sequence[Sequence[Any]],
        tree_indices: Sequence[int],
        leaf_encoding: Sequence[str],
        *,
        json_values: Sequence[Any] | None = None,
    ) -> None:
        self._tree = tree
        self._values = list(values)
        self._tree_indices = list(tree_indices)
        self.leaf_encoding = list(leaf_encoding)
        self._leaf_hash = _LeafHasher(leaf_encoding)
        self._json_values = list(json_values) if json_values is not None else [_to_json(v) for v in values]
        # Like the library: a hash maps to its last value index.
        self._lookup = {tree[t]: i for i, t in enumerate(self._tree_indices)}

    @classmethod
    def of(cls, values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str]) -> StandardMerkleTree:
        """Build the tree of ``values`` (``StandardMerkleTree.of(values, leafEncoding)``)."""
        hasher = _LeafHasher(leaf_encoding)
        hashed = sorted(((hasher(v), i) for i, v in enumerate(values)), key=lambda pair: pair[0])  # stable
        tree = _make_tree([h for h, _ in hashed])
        tree_indices = [0] * len(values)
        for leaf_index, (_, value_index) in enumerate(hashed):
            tree_indices[value_index] = len(tree) - 1 - leaf_index
        return cls(tree, values, tree_indices, leaf_encoding)

    @classmethod
    def of_leaf_hashes(
        cls, values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str], leaf_hashes: Sequence[bytes]
    ) -> StandardMerkleTree:
        """:meth:`of` with the leaf hashes of ``values`` computed by the caller (e.g. by an encoder
        specialised to one leaf encoding); the caller vouches that they are the standard leaf hashes."""
        if len(leaf_hashes) != len(values):
            raise MerkleTreeError(f"{len(values)} values but {len(leaf_hashes)} leaf hashes")
        hashed = sorted(((_hash(h), i) for i, h in enumerate(leaf_hashes)), key=lambda pair: pair[0])  # stable
        tree = _make_tree([h for h, _ in hashed])
        tree_indices = [0] * len(values)
        for leaf_index, (_, value_index) in enumerate(hashed):
            tree_indices[value_index] = len(tree) - 1 - leaf_index
        return cls(tree, values, tree_indices, leaf_encoding)

    @classmethod
    def load(cls, data: dict[str, Any]) -> StandardMerkleTree:
        """Load and validate a ``dump()`` of this class or of the npm library."""
        if data.get("format") != FORMAT:
            raise MerkleTreeError(f"unknown format {data.get('format')!r}")
        if data.get("leafEncoding") is None:
            raise MerkleTreeError("expected leaf encoding")
        tree = [_hash(node) for node in data["tree"]]
        entries = data["values"]
        values = [entry["value"] for entry in entries]
        indices = [int(entry["treeIndex"]) for entry in entries]
        loaded = cls(tree, values, indices, data["leafEncoding"], json_values=values)
        loaded.validate()
        return loaded

    def dump(self) -> dict[str, Any]:
        """The library's ``"standard-v1"`` dump: ``{format, leafEncoding, tree, values}``."""
        return {
            "format": FORMAT,
            "leafEncoding": list(self.leaf_encoding),
            "tree": [_hex(node) for node in self._tree],
            "values": [
                {"value": v, "treeIndex": t} for v, t in zip(self._json_values, self._tree_indices, strict=True)
            ],
        }

    # ------------------------------------------------------------------------------ reading

    @property
    def root(self) -> bytes:
        return self._tree[0]

    @property
    def tree(self) -> list[bytes]:
        """The node array (a copy)."""
        return list(self._tree)

    def __len__(self) -> int:
        return len(self._values)

    def at(self, index: int) -> Sequence[Any]:
        return self._values[index]

    def entries(self) -> Iterator[tuple[int, Sequence[Any]]]:
        yield from enumerate(self._values)

    def leaf_hash(self, value: Sequence[Any]) -> bytes:
        return self._leaf_hash(value)

    def leaf_hash_at(self, index: int) -> bytes:
        self._check_index(index)
        return self._tree[self._tree_indices[index]]

    def leaf_lookup(self, value: Sequence[Any]) -> int:
        """Value index of ``value``; MerkleTreeError when it is not a leaf of the tree."""
        index = self._lookup.get(self._leaf_hash(value))
        if index is None:
            raise MerkleTreeError("leaf is not in tree")
        return index

    # ------------------------------------------------------------------------------- proofs

    def get_proof(self, leaf: int | Sequence[Any]) -> list[bytes]:
        """Proof of the value at value index ``leaf`` (or of the value ``leaf``), leaf to root."""
        index = self._index(leaf)
        node = self._tree_indices[index]
        proof = []
        while node > 0:
            proof.append(self._tree[node - 1 if node % 2 == 0 else node + 1])
            node = (node - 1) // 2
        return proof

    def get_multi_proof(self, leaves: Sequence[int | Sequence[Any]]) -> MultiProof:
        """Multiproof of several values (by value index or value), as ``getMultiProof``."""
        indices = sorted((self._tree_indices[self._index(leaf)] for leaf in leaves), reverse=True)
        if any(a == b for a, b in pairwise(indices)):
            raise MerkleTreeError("cannot prove duplicated index")
        queue = deque(indices)
        proof: list[bytes] = []
        flags: list[bool] = []
        while queue and queue[0] > 0:
            node = queue.popleft()
            sibling = node - 1 if node % 2 == 0 else node + 1
            if queue and queue[0] == sibling:
                flags.append(True)
                queue.popleft()
            else:
                flags.append(False)
                proof.append(self._tree[sibling])
            queue.append((node - 1) // 2)
        if not indices:
            proof.append(self._tree[0])
        hashes = [self._tree[i] for i in indices]
        return MultiProof(
            leaves=[self._values[self._lookup[h]] for h in hashes],
            leaf_hashes=hashes,
            proof=proof,
            proof_flags=flags,
        )

    def verify_leaf(self, leaf: int | Sequence[Any], proof: Sequence[HashLike]) -> bool:
        """Whether ``proof`` proves the value (or value index) ``leaf`` against this tree's root."""
        value = self._values[self._index(leaf)] if isinstance(leaf, int) else leaf
        return verify(self.root, self._leaf_hash(value), proof)

    @staticmethod
    def verify_value(
        root: HashLike, leaf_encoding: Sequence[str], value: Sequence[Any], proof: Sequence[HashLike]
    ) -> bool:
        """``StandardMerkleTree.verify``: whether ``proof`` proves ``value`` (hashed here) under ``root``."""
        return verify(root, leaf_hash(leaf_encoding, value), proof)

    @staticmethod
    def verify_multi_values(
        root: HashLike,
        leaf_encoding: Sequence[str],
        values: Sequence[Sequence[Any]],
        proof: Sequence[HashLike],
        proof_flags: Sequence[bool],
    ) -> bool:
        """``StandardMerkleTree.verifyMultiProof``: ``values`` (hashed here) in multiproof order."""
        hasher = _LeafHasher(leaf_encoding)
        return verify_multi(root, proof, proof_flags, [hasher(v) for v in values])

    # --------------------------------------------------------------------------- validation

    def validate(self) -> None:
        """Check every node and every value's leaf (what the library's ``load`` checks, and that
        each value sits at a leaf position, never at an inner node)."""
        size = len(self._tree)
        if size == 0 or size % 2 == 0:
            raise MerkleTreeError(f"a tree of n leaves has 2n-1 nodes, not {size}")
        if len(self._values) != (size + 1) // 2 or len(self._tree_indices) != len(self._values):
            raise MerkleTreeError(f"{size} nodes hold {(size + 1) // 2} leaves, not {len(self._values)} values")
        first_leaf = size // 2
        for i, tree_index in enumerate(self._tree_indices):
            if not first_leaf <= tree_index < size:
                raise MerkleTreeError(f"value {i} is at {tree_index}, not at a leaf position")
            if self._tree[tree_index] != self._leaf_hash(self._values[i]):
                raise MerkleTreeError(f"merkle tree does not contain the expected value {i}")
        if len(set(self._tree_indices)) != len(self._tree_indices):
            raise MerkleTreeError("two values share a leaf position")
        for i in range(first_leaf):
            if self._tree[i] != node_hash(self._tree[2 * i + 1], self._tree[2 * i + 2]):
                raise MerkleTreeError(f"merkle tree is invalid at node {i}")

    def _index(self, leaf: int | Sequence[Any]) -> int:
        if isinstance(leaf, int) and not isinstance(leaf, bool):
            self._check_index(leaf)
            return leaf
        return self.leaf_lookup(leaf)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self._values):
            raise MerkleTreeError(f"index {index} out of bounds for {len(self._values)} values")
