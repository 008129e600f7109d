"""The append-only log of batch roots, RFC 9162 (Certificate Transparency v2) Merkle trees.

``EvidenceLedger`` appends every anchored batch root to a log whose tree is hashed exactly as
RFC 9162 §2.1.1 says: the leaf of ``d`` is ``SHA-256(0x00 || d)`` (``d`` = the 32-byte batch root),
an inner node ``SHA-256(0x01 || left || right)``, the tree of ``n`` leaves splits at the largest
power of two below ``n``. Batch ``id`` is log leaf ``id - 1``; after batch ``n`` the contract
records the head ``(n, MTH(D[0:n]))``.

This module computes tree heads, inclusion proofs (§2.1.3) and consistency proofs (§2.1.4) and
verifies them with the RFC's algorithms (§2.1.3.2 and §2.1.4.2). :class:`Frontier` mirrors the
contract's incremental tree (one stored word per level). Everything is pure and offline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from ledger.errors import LedgerError

EMPTY_ROOT = hashlib.sha256(b"").digest()


class LogProofError(LedgerError, ValueError):
    """A log proof or head is malformed or does not verify."""


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 leaf hash of a log entry (here a 32-byte batch root)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 inner node hash."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _levels(hashes: list[bytes]) -> list[list[bytes]]:
    """Bottom-up levels of perfect subtrees (level k holds roots of aligned 2^k-leaf ranges)."""
    levels = [hashes]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


class LogTree:
    """An in-memory RFC 9162 tree over log entries, answering heads and proofs in O(log n)."""

    def __init__(self, entries: Sequence[bytes] = ()) -> None:
        self._hashes: list[bytes] = [leaf_hash(bytes(e)) for e in entries]
        self._cache: list[list[bytes]] | None = None

    def append(self, entry: bytes) -> None:
        self._hashes.append(leaf_hash(bytes(entry)))
        self._cache = None

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def levels(self) -> list[list[bytes]]:
        if self._cache is None:
            self._cache = _levels(self._hashes)
        return self._cache

    def _range_root(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC's recursion produces."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and start % n == 0:  # aligned perfect subtree: read it off the levels
            return self.levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return node_hash(self._range_root(start, start + k), self._range_root(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` entries (all by default)."""
        size = len(self) if size is None else size
        if not 0 <= size <= len(self):
            raise LogProofError(f"size {size} out of range 0..{len(self)}")
        return self._range_root(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1)."""
        size = len(self) if size is None else size
        if not 0 <= index < size <= len(self):
            raise LogProofError(f"no leaf {index} in a tree of {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self._range_root(start + k, end))
                end = start + k
            else:
                proof.append(self._range_root(start, start + k))
                start += k
        return proof[::-1]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1)."""
        new_size = len(self) if new_size is None else new_size
        if not 0 <= old_size <= new_size <= len(self):
            raise LogProofError(f"no consistency proof from {old_size} to {new_size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self._range_root(start, end)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, complete), self._range_root(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._range_root(start, start + k)]


def root_of(entries: Sequence[bytes]) -> bytes:
    """MTH of ``entries``."""
    return LogTree(entries).root()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: whether ``proof`` proves the leaf hash ``leaf`` at ``index`` in the tree ``(size, root)``."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: whether ``proof`` shows the tree ``(new_size, new_root)`` extends ``(old_size, old_root)``."""
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node of the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


@dataclass
class Frontier:
    """The contract's append-only log store: ``nodes[n]`` is the root of the perfect subtree of log
    leaves ``(n - 2**k, n]`` (1-based, ``2**k`` the lowest set bit of ``n``), written once by anchor ``n``."""

    size: int = 0
    nodes: dict[int, bytes] = field(default_factory=dict)

    def append(self, entry: bytes) -> bytes:
        """Append ``entry`` as ``EvidenceLedger._appendToLog`` does; returns the new head root."""
        self.size += 1
        n, node, step = self.size, leaf_hash(entry), 1
        while not n & step:
            node = node_hash(self.nodes[n - step], node)
            step <<= 1
        self.nodes[n] = node
        return self._fold(n - step, node)

    def head(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves, as ``EvidenceLedger.headAt`` computes it."""
        size = self.size if size is None else size
        return EMPTY_ROOT if size == 0 else self._fold(size & (size - 1), self.nodes[size])

    def _fold(self, rest: int, node: bytes) -> bytes:
        while rest:
            node = node_hash(self.nodes[rest], node)
            rest &= rest - 1
        return node
