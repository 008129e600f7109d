#!/usr/bin/env python3
"""Fail on Slither findings that nobody triaged.

Reads a Slither ``--json`` report and the committed triage file (``slither-triage.json``) and
exits 1 if any gated finding has no triage entry, printing one line per untriaged finding
(then its Slither description). Exit 2 means the report or the triage file is unusable.

A finding is identified by ``<check>:<target>``, where the target is the first element Slither
reports, by name rather than by line so that unrelated edits do not invalidate the triage:

* a function or event: ``Contract.signature``, e.g. ``Participants.renew(address,uint64)``;
* a contract: ``Contract``;
* a variable: ``Contract.name`` (state variable) or ``Contract.signature.name`` (parameter/local);
* anything else: the element's name.

One triage entry therefore covers every finding of that check in that function: a new finding
in another function, or of another check, needs its own entry.

Findings whose first element lies under an excluded path (test mocks, gas-bench reference
contracts, dependencies) are not gated.

Triage file: a JSON list of ``{"check": ..., "target": ..., "justification": ...}``.
Usage: ``python scripts/slither_gate.py REPORT.json [--triage slither-triage.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXCLUDED_PREFIXES = ("contracts/mocks/", "contracts/zk/", "bench/contracts/", "node_modules/")  # zk/: snarkjs-generated
DEFAULT_TRIAGE = Path(__file__).resolve().parents[1] / "slither-triage.json"


class GateError(Exception):
    """The report or the triage file cannot be used."""


@dataclass(frozen=True)
class Finding:
    check: str
    target: str
    impact: str
    confidence: str
    location: str  # file#line of the first element
    description: str

    @property
    def id(self) -> str:
        return f"{self.check}:{self.target}"

    def line(self) -> str:
        lines = [s.strip() for s in self.description.strip().splitlines() if s.strip()]
        first = " ".join(lines[:2]) if lines and lines[0].endswith(":") else (lines[0] if lines else "")
        return f"UNTRIAGED {self.id} [{self.impact}/{self.confidence}] {self.location}: {first}"


def _parent_name(element: dict[str, Any]) -> str:
    parent = element.get("type_specific_fields", {}).get("parent") or {}
    if not parent:
        return ""
    if parent.get("type") == "contract":
        return parent.get("name", "")
    # a function or modifier: qualify it with its own contract
    grandparent = _parent_name(parent)
    signature = parent.get("type_specific_fields", {}).get("signature") or parent.get("name", "")
    return f"{grandparent}.{signature}" if grandparent else signature


def target_of(element: dict[str, Any]) -> str:
    """A line-independent name for a Slither result element."""
    kind = element.get("type")
    name = element.get("name", "")
    if kind == "contract":
        return name
    fields = element.get("type_specific_fields", {})
    own = fields.get("signature") if kind in ("function", "event") and fields.get("signature") else name
    parent = _parent_name(element)
    return f"{parent}.{own}" if parent else own


def _path_of(element: dict[str, Any]) -> str:
    mapping = element.get("source_mapping") or {}
    return mapping.get("filename_relative") or mapping.get("filename_short") or ""


def load_findings(report: dict[str, Any]) -> list[Finding]:
    if not isinstance(report, dict) or not report.get("success"):
        error = report.get("error") if isinstance(report, dict) else None
        raise GateError(f"Slither did not succeed: {error or 'no success flag in the report'}")
    findings = []
    for result in (report.get("results") or {}).get("detectors", []):
        elements = result.get("elements") or []
        first = elements[0] if elements else {}
        path = _path_of(first)
        lines = (first.get("source_mapping") or {}).get("lines") or []
        findings.append(
            Finding(
                check=result["check"],
                target=target_of(first) if first else "<global>",
                impact=result.get("impact", "?"),
                confidence=result.get("confidence", "?"),
                location=f"{path}#{lines[0]}" if path and lines else path or "?",
                description=result.get("description", ""),
            )
        )
    return findings


def load_triage(entries: Any) -> dict[tuple[str, str], str]:
    if not isinstance(entries, list):
        raise GateError("triage file must be a JSON list of {check, target, justification}")
    triage: dict[tuple[str, str], str] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise GateError(f"triage entry {i} is not an object")
        missing = [k for k in ("check", "target", "justification") if not str(entry.get(k, "")).strip()]
        if missing:
            raise GateError(f"triage entry {i} lacks {', '.join(missing)}: {entry}")
        key = (entry["check"], entry["target"])
        if key in triage:
            raise GateError(f"duplicate triage entry {key[0]}:{key[1]}")
        triage[key] = entry["justification"]
    return triage


def excluded(finding: Finding, prefixes: tuple[str, ...]) -> bool:
    path = finding.location.split("#", 1)[0]
    return any(path.startswith(p) for p in prefixes)


def gate(report: dict[str, Any], triage_entries: Any, prefixes: tuple[str, ...] = EXCLUDED_PREFIXES) -> int:
    """Print the verdict and return the exit status (0 pass, 1 untriaged findings, 2 bad input)."""
    try:
        findings = load_findings(report)
        triage = load_triage(triage_entries)
    except (GateError, KeyError, TypeError) as exc:
        print(f"slither gate: {exc}", file=sys.stderr)
        return 2
    gated = [f for f in findings if not excluded(f, prefixes)]
    untriaged = [f for f in gated if (f.check, f.target) not in triage]
    used = {(f.check, f.target) for f in gated}
    for check, target in sorted(set(triage) - used):
        print(f"note: stale triage entry (no such finding any more): {check}:{target}")
    for f in untriaged:
        print(f.line())
    print(
        f"slither gate: {len(findings)} findings, {len(findings) - len(gated)} in excluded paths, "
        f"{len(gated) - len(untriaged)} triaged, {len(untriaged)} untriaged"
    )
    if untriaged:
        print("\nAdd a fix, or an entry {check, target, justification} to slither-triage.json. Details:")
        for f in untriaged:
            print(f"\n{f.id}\n{f.description.rstrip()}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="Slither --json output")
    parser.add_argument("--triage", type=Path, default=DEFAULT_TRIAGE, help="triage file (JSON list)")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf8"))
        triage_entries = json.loads(args.triage.read_text(encoding="utf8"))
    except (OSError, ValueError) as exc:
        print(f"slither gate: cannot read input: {exc}", file=sys.stderr)
        return 2
    return gate(report, triage_entries)


if __name__ == "__main__":
    sys.exit(main())
