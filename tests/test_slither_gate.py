"""The Slither gate (scripts/slither_gate.py) on synthetic reports: no Slither run needed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("slither_gate", ROOT / "scripts" / "slither_gate.py")
assert _spec and _spec.loader
slither_gate = importlib.util.module_from_spec(_spec)
sys.modules["slither_gate"] = slither_gate
_spec.loader.exec_module(slither_gate)


def _contract(name: str, path: str) -> dict[str, Any]:
    return {
        "type": "contract",
        "name": name,
        "source_mapping": {"filename_relative": path, "lines": [10, 11]},
        "type_specific_fields": {},
    }


def _function(contract: str, signature: str, path: str, line: int = 20) -> dict[str, Any]:
    return {
        "type": "function",
        "name": signature.split("(")[0],
        "source_mapping": {"filename_relative": path, "lines": [line, line + 1]},
        "type_specific_fields": {"parent": _contract(contract, path), "signature": signature},
    }


def _result(check: str, element: dict[str, Any], description: str = "something") -> dict[str, Any]:
    node = {"type": "node", "name": "x = y", "source_mapping": {"filename_relative": "", "lines": [1]}}
    return {
        "check": check,
        "impact": "Low",
        "confidence": "Medium",
        "description": description + "\n",
        "elements": [element, node],
    }


def _report(*results: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "error": None, "results": {"detectors": list(results)}}


TIMESTAMP = _result(
    "timestamp",
    _function("Participants", "renew(address,uint64)", "contracts/Participants.sol"),
    "Participants.renew(address,uint64) uses timestamp for comparisons",
)
TRIAGE = [{"check": "timestamp", "target": "Participants.renew(address,uint64)", "justification": "day-scale"}]


def test_triaged_findings_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert slither_gate.gate(_report(TIMESTAMP), TRIAGE) == 0
    assert "0 untriaged" in capsys.readouterr().out


def test_new_untriaged_finding_fails_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    new = _result(
        "reentrancy-no-eth",
        _function("ReceivableToken", "merge(uint256,uint256)", "contracts/ReceivableToken.sol", 351),
        "Reentrancy in ReceivableToken.merge(uint256,uint256):\n\tExternal calls: ...",
    )
    assert slither_gate.gate(_report(TIMESTAMP, new), TRIAGE) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("UNTRIAGED")]
    assert lines == [
        "UNTRIAGED reentrancy-no-eth:ReceivableToken.merge(uint256,uint256) [Low/Medium] "
        "contracts/ReceivableToken.sol#351: Reentrancy in ReceivableToken.merge(uint256,uint256): "
        "External calls: ..."
    ]


def test_same_check_in_another_function_is_not_covered() -> None:
    other = _result("timestamp", _function("Participants", "isMember(address)", "contracts/Participants.sol"))
    assert slither_gate.gate(_report(TIMESTAMP, other), TRIAGE) == 1


def test_line_moves_do_not_invalidate_triage() -> None:
    moved = _result("timestamp", _function("Participants", "renew(address,uint64)", "contracts/Participants.sol", 99))
    assert slither_gate.gate(_report(moved), TRIAGE) == 0


def test_contract_and_parameter_targets() -> None:
    locked = _result("locked-ether", _contract("ReceivableToken", "contracts/ReceivableToken.sol"))
    param = {
        "type": "variable",
        "name": "to",
        "source_mapping": {"filename_relative": "contracts/X.sol", "lines": [5]},
        "type_specific_fields": {"parent": _function("X", "f(address)", "contracts/X.sol")},
    }
    findings = slither_gate.load_findings(_report(locked, _result("missing-zero-check", param)))
    assert [f.id for f in findings] == ["locked-ether:ReceivableToken", "missing-zero-check:X.f(address).to"]


def test_mocks_and_bench_are_not_gated() -> None:
    mock = _result("low-level-calls", _function("ReentrantReceiver", "execute(address,bytes)", "contracts/mocks/R.sol"))
    bench = _result("assembly", _function("RefToken", "f()", "bench/contracts/RefToken.sol"))
    assert slither_gate.gate(_report(TIMESTAMP, mock, bench), TRIAGE) == 0


def test_failed_analysis_or_bad_triage_is_an_error() -> None:
    assert slither_gate.gate({"success": False, "error": "compilation failed", "results": {}}, TRIAGE) == 2
    assert slither_gate.gate(_report(TIMESTAMP), [{"check": "timestamp", "target": "X.f()"}]) == 2
    assert slither_gate.gate(_report(TIMESTAMP), TRIAGE + TRIAGE) == 2


def test_cli_exit_status(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    triage = tmp_path / "triage.json"
    report.write_text(json.dumps(_report(TIMESTAMP)))
    triage.write_text(json.dumps(TRIAGE))
    assert slither_gate.main([str(report), "--triage", str(triage)]) == 0
    triage.write_text("[]")
    assert slither_gate.main([str(report), "--triage", str(triage)]) == 1


def test_committed_triage_file_is_valid() -> None:
    entries = json.loads((ROOT / "slither-triage.json").read_text())
    triage = slither_gate.load_triage(entries)
    assert triage, "slither-triage.json is empty"
    for (check, target), justification in triage.items():
        assert len(justification) >= 20, f"{check}:{target} needs a real justification"
