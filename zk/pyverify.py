"""Groth16 verification in pure Python (py_ecc), for machines without Node.

Slow (about half a second per proof) next to the snarkjs worker; the bench reports both. Same
checks as snarkjs: points on their curves, public signals below the scalar field, then
e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) == 1 with one final exponentiation.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from py_ecc.optimized_bn128 import (
    FQ,
    FQ2,
    FQ12,
    add,
    b,
    b2,
    curve_order,
    final_exponentiate,
    is_on_curve,
    multiply,
    neg,
    pairing,
)

from zk.prover import VKEY, Proof


def _g1(point: list[str]) -> tuple[FQ, FQ, FQ]:
    return FQ(int(point[0])), FQ(int(point[1])), FQ(int(point[2]))


def _g2(point: list[list[str]]) -> tuple[FQ2, FQ2, FQ2]:
    return tuple(FQ2([int(c[0]), int(c[1])]) for c in point)  # type: ignore[return-value]


@cache
def _verification_key(path: Path = VKEY) -> dict[str, Any]:
    vk = json.loads(path.read_text())
    return {
        "alpha": _g1(vk["vk_alpha_1"]),
        "beta": _g2(vk["vk_beta_2"]),
        "gamma": _g2(vk["vk_gamma_2"]),
        "delta": _g2(vk["vk_delta_2"]),
        "ic": [_g1(p) for p in vk["IC"]],
    }


def verify(proof: Proof, vkey: Path = VKEY) -> bool:
    """Whether ``proof`` verifies against the verification key (default: the committed one)."""
    vk = _verification_key(vkey)
    signals = proof.public_signals
    if len(signals) != len(vk["ic"]) - 1 or any(not 0 <= s < curve_order for s in signals):
        return False
    try:
        a, c = _g1(proof.proof["pi_a"]), _g1(proof.proof["pi_c"])
        b_point = _g2(proof.proof["pi_b"])
    except (KeyError, ValueError, TypeError, IndexError):
        return False
    if not (is_on_curve(a, b) and is_on_curve(c, b) and is_on_curve(b_point, b2)):
        return False
    vk_x = vk["ic"][0]
    for signal, base in zip(signals, vk["ic"][1:], strict=True):
        vk_x = add(vk_x, multiply(base, signal))
    product = FQ12.one()
    for g2, g1 in ((b_point, neg(a)), (vk["beta"], vk["alpha"]), (vk["gamma"], vk_x), (vk["delta"], c)):
        product = product * pairing(g2, g1, final_exponentiate=False)  # Miller loops; one exponentiation
    return final_exponentiate(product) == FQ12.one()
