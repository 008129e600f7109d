"""Poseidon over the BN254 scalar field, bit-for-bit the circomlib/circomlibjs construction
(x^5 S-box, 8 full rounds, partial rounds per width, state[0] = 0 capacity, output state[0]).

The constants are circomlibjs' own (``zk/poseidon_constants.json``, exported by
``zk/scripts/export_poseidon_constants.py``). Matches the published test vectors
``poseidon([1, 2])`` and ``poseidon([1, 2, 3, 4])`` of circomlib.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache

from zk import ZK_DIR

FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617
N_ROUNDS_F = 8
N_ROUNDS_P = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
MAX_INPUTS = 7


@cache
def _constants(t: int) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    data = json.loads((ZK_DIR / "poseidon_constants.json").read_text())
    c = tuple(int(x, 16) for x in data["C"][t - 2])
    m = tuple(tuple(int(x, 16) for x in row) for row in data["M"][t - 2])
    return c, m


def poseidon(inputs: Sequence[int]) -> int:
    """Poseidon hash of 1..7 field elements (each must already be < FIELD)."""
    n = len(inputs)
    if not 1 <= n <= MAX_INPUTS:
        raise ValueError(f"poseidon takes 1..{MAX_INPUTS} inputs, got {n}")
    for x in inputs:
        if not 0 <= int(x) < FIELD:
            raise ValueError("poseidon input is not a field element")
    t = n + 1
    c, m = _constants(t)
    n_p = N_ROUNDS_P[t - 2]
    half = N_ROUNDS_F // 2
    p = FIELD
    state = [0, *(int(x) for x in inputs)]
    for r in range(N_ROUNDS_F + n_p):
        base = r * t
        state = [(a + c[base + i]) % p for i, a in enumerate(state)]
        if r < half or r >= half + n_p:
            state = [pow(a, 5, p) for a in state]
        else:
            state[0] = pow(state[0], 5, p)
        state = [sum(mij * a for mij, a in zip(row, state, strict=True)) % p for row in m]
    return state[0]
