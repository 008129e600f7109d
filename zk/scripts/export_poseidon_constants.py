"""Extract circomlibjs' Poseidon round constants and MDS matrices for t = 2..8 (1..7 inputs)
into zk/poseidon_constants.json (committed; the Python Poseidon reads it).

Usage: python zk/scripts/export_poseidon_constants.py  (after `npm ci --prefix zk`)
"""

from __future__ import annotations

import json
from pathlib import Path

ZK = Path(__file__).resolve().parent.parent
SOURCE = ZK / "node_modules" / "circomlibjs" / "src" / "poseidon_constants.json"
MAX_INPUTS = 7


def main() -> None:
    data = json.loads(SOURCE.read_text())
    out = {
        "source": "circomlibjs@0.1.7 src/poseidon_constants.json",
        "C": data["C"][:MAX_INPUTS],
        "M": data["M"][:MAX_INPUTS],
    }
    (ZK / "poseidon_constants.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
