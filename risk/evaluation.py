"""Scoring the detectors and the scorecard against the simulator's ground truth (tests and the
benchmark only: nothing in detect/score/data reads the labels)."""

from __future__ import annotations

from risk.detect import RULES, Alert


def evaluate(alerts: list[Alert], labels: dict[str, set[str]]) -> dict[str, dict[str, float]]:
    """Precision and recall per rule against the simulator's labels (for tests and the benchmark only)."""
    out = {}
    for rule in RULES:
        found = {a.subject for a in alerts if a.rule == rule}
        true = set(labels.get(rule, set()))
        tp = len(found & true)
        out[rule] = {"precision": tp / len(found) if found else 1.0, "recall": tp / len(true) if true else 1.0,
                     "alerts": len(found), "labels": len(true)}
    return out
