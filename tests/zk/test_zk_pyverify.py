"""The pure-Python Groth16 verifier agrees with the snarkjs worker."""

from __future__ import annotations

import time

import pytest
from zk_fixtures import *  # noqa: F403 - fixtures
from zk_fixtures import make_report

from zk import pyverify
from zk.policy import CreditPolicy
from zk.prover import Proof, day_number, prove_credit


@pytest.fixture(scope="module")
def proof(zk_worker) -> Proof:
    day = day_number(time.time())
    report = make_report("0x" + "ab" * 20, day - 5)
    return prove_credit(zk_worker, report, CreditPolicy(), today=day, lender="0x" + "cd" * 20, nonce=99)


def test_valid_and_malleated_proofs_verify_as_in_snarkjs(zk_worker, proof):
    assert pyverify.verify(proof) and zk_worker.verify(proof)
    twin = proof.malleated()
    assert pyverify.verify(twin) == zk_worker.verify(twin) is True  # malleable; the nonce stops replays


@pytest.mark.parametrize("index", range(5))
def test_each_mutated_public_signal_fails(proof, index):
    signals = list(proof.public_signals)
    signals[index] = (signals[index] + 1) % pyverify.curve_order
    assert not pyverify.verify(proof.with_signals(tuple(signals)))


def test_malformed_proofs_fail(proof):
    off_curve = {**proof.proof, "pi_a": [proof.proof["pi_a"][0], "1", "1"]}
    assert not pyverify.verify(Proof(off_curve, proof.public_signals))
    assert not pyverify.verify(proof.with_signals(proof.public_signals[:4]))
    assert not pyverify.verify(proof.with_signals((pyverify.curve_order, *proof.public_signals[1:])))
