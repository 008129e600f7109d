"""Regenerate the committed development keys of the credit circuit.

    python zk/scripts/build_keys.py [--ptau a-prepared-2^12.ptau]

Compiles ``zk/circuits/credit.circom`` (4,015 constraints: fits 2^12), runs
:func:`zk.ceremony.run_ceremony`: phase 1 of 2^12 (unless a prepared ptau is given) and phase 2,
each with two local parties and a beacon, every step verified (a few minutes here), and writes
``zk/keys/`` (wasm, zkey, verification key, transcript, manifest with the circuit hash) and
``contracts/zk/CreditVerifier.sol``. DEVELOPMENT ONLY: every party ran on one machine.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
from pathlib import Path

from zk import ZK_DIR
from zk.ceremony import run_ceremony
from zk.keys import KEYS_DIR, VERIFIER_SOL, circuit_hash, render_verifier
from zk.toolchain import compile_circuit, sha256_file, snarkjs

POWER = 12


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ptau", type=Path, default=None, help="a prepared phase-1 ptau to reuse")
    parser.add_argument("--beacon", default=None, help="hex beacon (default: random; use a block hash)")
    args = parser.parse_args()
    build = ZK_DIR / "build" / "credit"
    r1cs = compile_circuit(ZK_DIR / "circuits" / "credit.circom", build)
    info = snarkjs("r1cs", "info", r1cs)
    constraints = int(re.search(r"# of Constraints: (\d+)", info).group(1))
    beacon = args.beacon or secrets.token_hex(32)
    transcript = run_ceremony(
        r1cs, build / "ceremony", power=POWER, parties=["dev-bureau", "dev-lender"], beacon=beacon, ptau=args.ptau
    )
    KEYS_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(build / "credit_js" / "credit.wasm", KEYS_DIR / "credit.wasm")
    shutil.copy(build / "ceremony" / "credit_final.zkey", KEYS_DIR / "credit.zkey")
    shutil.copy(build / "ceremony" / "verification_key.json", KEYS_DIR / "verification_key.json")
    shutil.copy(build / "ceremony" / "transcript.json", KEYS_DIR / "transcript.json")
    VERIFIER_SOL.parent.mkdir(parents=True, exist_ok=True)
    snarkjs("zkey", "export", "solidityverifier", KEYS_DIR / "credit.zkey", VERIFIER_SOL)
    VERIFIER_SOL.write_text(render_verifier(VERIFIER_SOL.read_text()))
    manifest = {
        "label": "DEVELOPMENT ONLY: local single-machine ceremony; never use these keys in production",
        "circuit": "zk/circuits/credit.circom",
        "circuit_sha256": circuit_hash(),
        "r1cs_sha256": sha256_file(r1cs),
        "constraints": constraints,
        "power": POWER,
        "zkey_sha256": sha256_file(KEYS_DIR / "credit.zkey"),
        "wasm_sha256": sha256_file(KEYS_DIR / "credit.wasm"),
        "vkey_sha256": sha256_file(KEYS_DIR / "verification_key.json"),
        "beacon": transcript.beacon,
    }
    (KEYS_DIR / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
