"""Risk over an indexed mirror in one call (:func:`score_mirror`: the fraud rules, then the scorecard;
alerts, scores, warnings and credit lines stored), and the scorecard fitted on a simulated economy
(:func:`fit_simulated`) for mirrors with no default history of their own to learn from."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from indexer.db import make_engine
from risk import data, detect, score
from risk.models import upgrade as upgrade_risk_tables

DEFAULT_FIT_SEED, DEFAULT_FIT_FIRMS = 1, 1500


@dataclass
class Summary:
    """What one :func:`score_mirror` run did."""

    model_version: str
    as_of_block: int
    firms: int
    alerts: dict[str, int]  # active alerts by rule
    alert_changes: dict[str, int]  # new / changed / unchanged / withdrawn
    scores_stored: int
    warnings: dict[str, int]  # firms by warning level
    mean_score: float | None
    total_credit_line: int
    lowest: list[dict]  # the lowest scores: firm, score, warning, credit_line, reasons


    def as_dict(self) -> dict:
        return asdict(self)


def fit_simulated(seed: int = DEFAULT_FIT_SEED, n_firms: int = DEFAULT_FIT_FIRMS) -> score.Model:
    """The scorecard fitted on a bulk-mode economy of ``n_firms`` (labels: its realized defaults)."""
    from risk.simulate import simulate, write_bulk

    economy = simulate(seed, n_firms)
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{directory}/fit.db")
        write_bulk(economy, engine)
        x = score.features(data.load(engine))
        engine.dispose()
    y = pd.Series([economy.truth.default.get(a, 0) for a in x.index], index=x.index)
    return score.fit(x, y)


def score_mirror(db_url: str, *, model: score.Model | str | Path | None = None, store: bool = True, top: int = 20,
                 fit_seed: int = DEFAULT_FIT_SEED, fit_firms: int = DEFAULT_FIT_FIRMS) -> Summary:
    """Run every fraud rule over the mirror at ``db_url``, then score its firms with ``model`` (a
    :class:`~risk.score.Model`, or the path of a saved one; None: fitted with :func:`fit_simulated`).
    With ``store``, alerts (withdrawing those whose rows are gone) and scores are written to the risk
    tables. Returns a summary with the ``top`` lowest scores."""
    if not isinstance(model, score.Model):
        model = score.load_model(model) if model is not None else fit_simulated(fit_seed, fit_firms)
    engine = make_engine(db_url)
    try:
        upgrade_risk_tables(engine)
        mirror = data.load(engine)
        alerts = detect.run_rules(mirror)
        changes = detect.store_alerts(engine, alerts) if store else {}
        active = score.active_alerts(engine) if store else pd.DataFrame(
            {"severity": [a.severity for a in alerts], "firms": [a.firms for a in alerts]})
        x = score.features(mirror)
        scored = score.score_firms(model, mirror, x, alerts=active, previous=score.previous_scores(engine))
        stored = score.store_scores(engine, model, scored, mirror.as_of_block) if store and len(x) else 0
    finally:
        engine.dispose()
    by_rule: dict[str, int] = {}
    for alert in alerts:
        by_rule[alert.rule] = by_rule.get(alert.rule, 0) + 1
    frame = scored.frame
    lowest = [{"firm": str(firm), "score": int(r["score"]), "warning": str(r["warning"]),
               "credit_line": int(r["credit_line"]), "reasons": scored.reasons[firm]}
              for firm, r in frame.sort_values("score", kind="stable").head(top).iterrows()]
    return Summary(model.version, mirror.as_of_block, len(frame), by_rule, changes, stored,
                   {k: int(v) for k, v in frame["warning"].value_counts().sort_index().items()},
                   round(float(frame["score"].mean()), 1) if len(frame) else None,
                   int(frame["credit_line"].sum()) if len(frame) else 0, lowest)
