"""ledger.evidence_log against a literal recursive transcription of RFC 9162 §2.1: heads,
inclusion and consistency proofs agree; every proof verifies; tampered proofs, roots, sizes fail."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.evidence_log import (
    EMPTY_ROOT,
    Frontier,
    LogTree,
    verify_consistency,
    verify_inclusion,
)
from ledger.evidence_log import (
    leaf_hash as log_leaf,
)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, word for word."""
    n = len(d)
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + d[0])
    k = k_of(n)
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH."""
    n = len(d)
    if n == 1:
        return []
    k = k_of(n)
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = k_of(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return [] if m in (0, len(d)) else subproof(m, d, True)


def entries(n: int, seed: int = 0) -> list[bytes]:
    rnd = random.Random(seed)
    return [rnd.randbytes(32) for _ in range(n)]


def flip(node: bytes, bit: int = 0) -> bytes:
    return bytes([node[0] ^ (1 << bit)]) + node[1:]


def test_empty_tree_and_single_leaf() -> None:
    assert LogTree().root() == EMPTY_ROOT == sha(b"")
    d = entries(1)
    assert LogTree(d).root() == sha(b"\x00" + d[0]) == log_leaf(d[0])
    assert verify_consistency(0, 1, EMPTY_ROOT, LogTree(d).root(), [])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33])
def test_against_reference_exhaustively(n: int) -> None:
    d = entries(n, n)
    tree = LogTree(d)
    frontier = Frontier()
    for size in range(1, n + 1):
        assert frontier.append(d[size - 1]) == tree.root(size) == mth(d[:size])
    for size in range(0, n + 1):
        assert frontier.head(size) == tree.root(size) == mth(d[:size])
    for size in range(1, n + 1):
        root = tree.root(size)
        for i in range(size):
            p = tree.inclusion_proof(i, size)
            assert p == path(i, d[:size])
            assert verify_inclusion(i, size, log_leaf(d[i]), p, root)
            assert not verify_inclusion(i, size, log_leaf(flip(d[i])), p, root)
            if p:
                assert not verify_inclusion(i, size, log_leaf(d[i]), [*p[:-1], flip(p[-1])], root)
                assert not verify_inclusion(i, size, log_leaf(d[i]), p[:-1], root)
            if size > 1:
                assert not verify_inclusion(i ^ 1 if i ^ 1 < size else i - 1, size, log_leaf(d[i]), p, root)
            assert not verify_inclusion(size, size, log_leaf(d[i]), p, root)
        for m in range(0, size + 1):
            c = tree.consistency_proof(m, size)
            assert c == proof(m, d[:size])
            assert verify_consistency(m, size, tree.root(m), root, c)
            if 0 < m < size:
                assert not verify_consistency(m, size, flip(tree.root(m)), root, c)
                assert not verify_consistency(m, size, tree.root(m), flip(root), c)
                assert not verify_consistency(m, size, tree.root(m), root, [*c[:-1], flip(c[-1])])
                assert not verify_consistency(m, size, tree.root(m), root, c[:-1])
                assert not verify_consistency(m, size, tree.root(m), root, [])


def test_rewritten_history_is_inconsistent() -> None:
    d = entries(40, 1)
    honest = LogTree(d)
    forked = list(d)
    forked[10] = flip(forked[10])
    fork = LogTree(forked)
    for m in (11, 16, 25):
        c = fork.consistency_proof(m, 40)
        assert not verify_consistency(m, 40, honest.root(m), fork.root(40), c)
        assert verify_consistency(m, 40, fork.root(m), fork.root(40), c)
    for m in (1, 5, 10):  # before the fork both agree
        assert verify_consistency(m, 40, honest.root(m), fork.root(40), fork.consistency_proof(m, 40))


@given(st.integers(1, 300), st.data())
def test_random_sizes(n: int, data: st.DataObject) -> None:
    d = entries(n, n)
    tree = LogTree(d)
    size = data.draw(st.integers(1, n))
    i = data.draw(st.integers(0, size - 1))
    m = data.draw(st.integers(0, size))
    assert tree.root(size) == mth(d[:size])
    assert verify_inclusion(i, size, log_leaf(d[i]), tree.inclusion_proof(i, size), tree.root(size))
    c = tree.consistency_proof(m, size)
    assert c == proof(m, d[:size])
    assert verify_consistency(m, size, tree.root(m), tree.root(size), c)
