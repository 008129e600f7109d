"""Runs the Foundry property tests in tests/forge (ReceivableToken invariants and pinned
regressions) with the forge binary from node_modules, compiling through scripts/solc-shim
(solc-js 0.8.28 behind a native-solc command line: no compiler download, no network).

The run uses the `ci` profile of foundry.toml (pinned fuzz seed) unless FOUNDRY_PROFILE is set.
It takes about a minute (compiling ~20 s of it); forge's output is shown when it fails.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORGE = ROOT / "node_modules" / "@foundry-rs" / "forge-linux-amd64" / "bin" / "forge"
SHIM = ROOT / "scripts" / "solc-shim"
TIMEOUT_S = 600

pytestmark = pytest.mark.slow


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def test_forge_property_suite() -> None:
    if not FORGE.is_file():
        pytest.skip(f"forge binary missing: {FORGE.relative_to(ROOT)} (install it with `npm ci`)")
    assert os.access(SHIM, os.X_OK), f"{SHIM.relative_to(ROOT)} must be executable (chmod +x)"

    env = dict(os.environ)
    env.setdefault("FOUNDRY_PROFILE", "ci")
    env["NO_COLOR"] = "1"
    cmd = [str(FORGE), "test", "--offline", "--use", str(SHIM.relative_to(ROOT))]
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`{' '.join(cmd)}` timed out after {TIMEOUT_S} s; output so far:\n{_text(exc.stdout)}")
    elapsed = time.monotonic() - started
    output = _text(proc.stdout)
    print(f"forge test ({env['FOUNDRY_PROFILE']} profile): exit {proc.returncode} in {elapsed:.1f} s")
    assert proc.returncode == 0, f"`{' '.join(cmd)}` exited with {proc.returncode}:\n{output}"
    assert "0 failed" in output and "passed" in output, f"unexpected forge output:\n{output}"
