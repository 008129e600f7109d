"""The zk toolchain from ``zk/node_modules`` (``npm ci --prefix zk``): circom2 (wasm) and snarkjs."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from zk import ZK_DIR

NODE_MODULES = ZK_DIR / "node_modules"
CIRCOM = NODE_MODULES / "circom2" / "cli.js"
SNARKJS = NODE_MODULES / "snarkjs" / "build" / "cli.cjs"
CIRCOMLIB = NODE_MODULES / "circomlib" / "circuits"


class ToolchainError(RuntimeError):
    """A circom or snarkjs step failed or the toolchain is not installed."""


def node() -> str:
    exe = shutil.which("node")
    if exe is None:
        raise ToolchainError("node is not on PATH")
    return exe


def require_installed() -> None:
    for path in (CIRCOM, SNARKJS, CIRCOMLIB):
        if not path.exists():
            raise ToolchainError(f"{path} missing: run `npm ci --prefix zk`")


def run(args: list[str], *, cwd: Path = ZK_DIR, timeout: float = 1800) -> str:
    """Run a node CLI; returns its stdout, raises ToolchainError with its output on failure."""
    proc = subprocess.run([node(), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    # snarkjs exits 0 on some failures and prints "[ERROR]": treat both as failure.
    if proc.returncode != 0 or "[ERROR]" in proc.stdout or "[ERROR]" in proc.stderr:
        what = " ".join(args[:3])
        raise ToolchainError(f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def snarkjs(*args: str | Path, timeout: float = 1800) -> str:
    require_installed()
    return run([str(SNARKJS), *(str(a.resolve()) if isinstance(a, Path) else a for a in args)], timeout=timeout)


def compile_circuit(source: Path, out_dir: Path) -> Path:
    """circom --O2 --r1cs --wasm --sym; returns the r1cs path. Includes resolve from circomlib."""
    require_installed()
    out_dir.mkdir(parents=True, exist_ok=True)
    flags = ["--O2", "--r1cs", "--wasm", "--sym", "-l", str(CIRCOMLIB), "-o", str(out_dir.resolve())]
    run([str(CIRCOM), str(source.resolve()), *flags])
    return out_dir / (source.stem + ".r1cs")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
