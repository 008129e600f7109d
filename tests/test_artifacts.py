"""The committed ABI/bytecode in ledger/artifacts match what the pinned solc-js compiles from contracts/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "ledger" / "artifacts"


def _snapshot() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(ARTIFACTS.glob("*.json"))}


def test_committed_artifacts_are_fresh() -> None:
    node = shutil.which("node")
    assert node, "node not found on PATH (the compile check needs node 20 and `npm ci`)"
    before = _snapshot()
    proc = subprocess.run(
        [node, "scripts/compile.js", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = f"{proc.stdout}\n{proc.stderr}".strip()
    assert proc.returncode == 0, (
        f"`node scripts/compile.js --check` exited {proc.returncode}; recompile with "
        f"`make compile` (or `npm run compile`) and commit ledger/artifacts.\n{output}"
    )
    assert _snapshot() == before, "the --check run must not rewrite ledger/artifacts"
