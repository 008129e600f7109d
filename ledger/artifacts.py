"""Compiled contract artifacts (ABI and bytecode) shipped with the package.

The JSON files under ``ledger/artifacts/`` are written by ``scripts/compile.js`` from
``contracts/`` with the pinned solc-js; a test fails when they are stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    compiler: str
    error_docs: dict[str, str]

    def abi_entries(self, kind: str) -> list[dict[str, Any]]:
        return [entry for entry in self.abi if entry["type"] == kind]


@cache
def load_artifact(name: str) -> Artifact:
    """Return the artifact of contract ``name``; raises FileNotFoundError for unknown names."""
    data = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
    return Artifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        compiler=data["compiler"]["version"],
        error_docs=data.get("errorDocs", {}),
    )


@cache
def all_artifacts() -> tuple[Artifact, ...]:
    """Every compiled contract, sorted by name."""
    return tuple(load_artifact(p.stem) for p in sorted(ARTIFACTS_DIR.glob("*.json")))
