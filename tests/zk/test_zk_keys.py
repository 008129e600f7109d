"""The committed development keys belong to the current circuit; circuit hygiene; the ceremony
runs end to end (toy circuit, 2^8) with every step verified."""

from __future__ import annotations

import json
import re

import _zk_path  # noqa: F401 - first: the repository's zk package, not this folder
import pytest

from zk import ZK_DIR
from zk.ceremony import run_ceremony
from zk.keys import VERIFIER_SOL, VKEY, ZKEY, circuit_hash, keys_match_circuit, manifest, render_verifier
from zk.schema import BY_NAME, CIRCUIT_FIELDS, key_of
from zk.toolchain import ToolchainError, compile_circuit, sha256_file, snarkjs

CIRCUITS = sorted((ZK_DIR / "circuits").glob("*.circom"))


def test_keys_match_the_circuit():
    assert keys_match_circuit(), "circuit changed: run `python zk/scripts/build_keys.py` and commit zk/keys"


def test_keys_are_labelled_and_hashed():
    m = manifest()
    assert "DEVELOPMENT ONLY" in m["label"]
    assert m["constraints"] + 5 + 1 <= 2 ** m["power"] <= 2**12  # snarkjs domain: constraints + public + 1
    for name, key in (("credit.zkey", "zkey_sha256"), ("credit.wasm", "wasm_sha256"),
                      ("verification_key.json", "vkey_sha256")):
        assert sha256_file(ZK_DIR / "keys" / name) == m[key], name
    vkey = json.loads(VKEY.read_text())
    assert vkey["protocol"] == "groth16" and vkey["curve"] == "bn128" and vkey["nPublic"] == 5
    assert "DEVELOPMENT KEYS ONLY" in VERIFIER_SOL.read_text()


def test_verifier_and_vkey_are_those_of_the_committed_key(tmp_path):
    out = tmp_path / "verifier.sol"
    snarkjs("zkey", "export", "solidityverifier", ZKEY, out)
    assert render_verifier(out.read_text()) == VERIFIER_SOL.read_text()
    vkey = tmp_path / "vkey.json"
    snarkjs("zkey", "export", "verificationkey", ZKEY, vkey)
    assert json.loads(vkey.read_text()) == json.loads(VKEY.read_text())


def test_circuit_hash_changes_with_the_source(tmp_path, monkeypatch):
    import zk.keys as keys

    copy = tmp_path / "credit.circom"
    copy.write_text((ZK_DIR / "circuits" / "credit.circom").read_text() + "\n// changed\n")
    monkeypatch.setattr(keys, "CIRCUIT_SOURCES", (copy,))
    assert circuit_hash() != manifest()["circuit_sha256"]
    assert not keys_match_circuit()


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda p: p.name)
def test_no_unconstrained_assignment(path):
    code = re.sub(r"//.*", "", path.read_text())
    assert "<--" not in code and "-->" not in code


def test_circuit_keys_match_the_schema():
    source = (ZK_DIR / "circuits" / "credit.circom").read_text()
    found = dict(re.findall(r'var KEY_\w+ = (0x[0-9a-f]+);\s*// "(\w+)"', source)[i][::-1] for i in range(5))
    assert {name: int(v, 16) for name, v in found.items()} == {n: key_of(n) for n in CIRCUIT_FIELDS}
    assert [BY_NAME[n].slot for n in CIRCUIT_FIELDS] == [0, 1, 2, 3, 8]  # the circuit's slot layout


def test_ceremony_end_to_end_on_a_toy_circuit(tmp_path):
    r1cs = compile_circuit(ZK_DIR / "circuits" / "toy.circom", tmp_path / "toy")
    transcript = run_ceremony(r1cs, tmp_path / "ceremony", power=8, parties=["bureau", "lender"],
                              beacon="5e" * 32)
    steps = [(s.phase, s.action, s.party) for s in transcript.steps]
    contributions = [s for s in transcript.steps if s.action == "contribute"]
    assert [s.party for s in contributions] == ["bureau", "lender"] * 2
    assert all(s.verified for s in contributions)
    assert all(len(s.contribution_hash) == 128 for s in contributions)  # published by each party
    assert len({s.contribution_hash for s in contributions}) == len(contributions)
    assert steps[-2][1:] == ("beacon", "beacon") and transcript.steps[-2].verified
    assert len({s.sha256 for s in transcript.steps}) == len(transcript.steps)  # every step changed the file
    written = json.loads((tmp_path / "ceremony" / "transcript.json").read_text())
    assert written["r1cs_sha256"] == sha256_file(r1cs) and len(written["steps"]) == len(steps)
    # the final key proves and verifies the toy statement: x = 6, y = 42
    zkey = tmp_path / "ceremony" / "toy_final.zkey"
    (tmp_path / "in.json").write_text(json.dumps({"x": "6", "y": "42"}))
    snarkjs("groth16", "fullprove", tmp_path / "in.json", tmp_path / "toy" / "toy_js" / "toy.wasm", zkey,
            tmp_path / "proof.json", tmp_path / "public.json")
    out = snarkjs("groth16", "verify", tmp_path / "ceremony" / "verification_key.json", tmp_path / "public.json",
                  tmp_path / "proof.json")
    assert "OK" in out
    # a tampered intermediate contribution fails verification
    bad = tmp_path / "ceremony" / "toy_0001.zkey"
    data = bytearray(bad.read_bytes())
    data[-40] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ToolchainError):
        snarkjs("zkey", "verify", r1cs, tmp_path / "ceremony" / "phase1" / "pot_final.ptau", bad)


def test_ceremony_refuses_bad_parameters(tmp_path):
    fake = tmp_path / "x.r1cs"
    fake.write_bytes(b"")
    with pytest.raises(ValueError):
        run_ceremony(fake, tmp_path, power=8, parties=[], beacon="00")
    with pytest.raises(ValueError):
        run_ceremony(fake, tmp_path, power=8, parties=["a", "a"], beacon="00")


@pytest.mark.slow
def test_recompiled_circuit_matches_the_keys(tmp_path):
    r1cs = compile_circuit(ZK_DIR / "circuits" / "credit.circom", tmp_path)
    assert sha256_file(r1cs) == manifest()["r1cs_sha256"]
