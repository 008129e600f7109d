"""A saved scorecard, `score_mirror` over a mirror, and `scf risk fit` / `scf risk score`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from risk_fixtures import *  # noqa: F403  (fixtures)
from sqlalchemy import func, select
from typer.testing import CliRunner

from risk import score
from risk.cli import app
from risk.models import CreditScore, RiskAlert
from risk.service import score_mirror


@pytest.fixture(scope="module")
def model_and_mirror(bulk_factory):  # type: ignore[no-untyped-def]
    built = bulk_factory(11, 1500)
    x = score.features(built.mirror())
    y = pd.Series([built.economy.truth.default.get(a, 0) for a in x.index], index=x.index)
    return score.fit(x, y), x


def test_saved_model_scores_like_the_fitted_one(model_and_mirror, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, x = model_and_mirror
    loaded = score.load_model(score.save_model(model, tmp_path / "models" / "m.json"))
    assert loaded.version == model.version and loaded.scorecard is None
    assert np.allclose(loaded.points(x).sum(axis=1), model.scorecard.score(x[list(score.FEATURES)]))
    pd.testing.assert_frame_equal(loaded.table, model.table)


def test_bad_model_files_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(score.ModelError, match="no model file"):
        score.load_model(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text(json.dumps({"version": "x", "features": {"patents": {}}}))
    with pytest.raises(score.ModelError, match="not a saved scorecard"):
        score.load_model(tmp_path / "bad.json")
    result = CliRunner().invoke(app, ["score", "--db", f"sqlite:///{tmp_path}/m.db", "--model",
                                      str(tmp_path / "absent.json")])
    assert result.exit_code == 2 and "no model file" in result.output


def test_score_mirror_stores_alerts_and_versioned_scores(model_and_mirror, fresh_bulk) -> None:  # type: ignore[no-untyped-def]
    model, _ = model_and_mirror
    built = fresh_bulk(6, 300)
    summary = score_mirror(built.url, model=model, top=5)
    assert summary.firms > 250 and summary.scores_stored == summary.firms
    scores = [r["score"] for r in summary.lowest]
    assert len(scores) == 5 and scores == sorted(scores) and all(len(r["reasons"]) <= 4 for r in summary.lowest)
    assert summary.model_version == model.version and sum(summary.alerts.values()) > 0
    assert summary.alert_changes["new"] == sum(summary.alerts.values())
    assert sum(summary.warnings.values()) == summary.firms
    with built.engine.connect() as conn:
        versions = set(conn.execute(select(CreditScore.__table__.c.model_version)).scalars())
        stored_alerts = conn.execute(select(RiskAlert.__table__.c.alert_id)).all()
        lowest = conn.execute(select(func.min(CreditScore.__table__.c.score))).scalar()
    assert versions == {model.version} and len(stored_alerts) == sum(summary.alerts.values())
    assert lowest == scores[0]
    again = score_mirror(built.url, model=model)
    assert again.alert_changes["new"] == 0 and again.alert_changes["unchanged"] == sum(summary.alerts.values())
    assert again.scores_stored == summary.firms


def test_fit_and_score_commands(fresh_bulk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    built = fresh_bulk(7, 200)
    path = tmp_path / "model.json"
    result = CliRunner().invoke(app, ["fit", "--out", str(path), "--seed", "3", "--firms", "600"])
    assert result.exit_code == 0, result.output
    version = json.loads(result.output)["model_version"]
    assert score.load_model(path).version == version
    result = CliRunner().invoke(app, ["score", "--db", built.url, "--model", str(path), "--top", "5"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["model_version"] == version and summary["scores_stored"] == summary["firms"] > 0
    assert "firms scored with" in result.output and "warning" in result.output
    result = CliRunner().invoke(app, ["fit", "--out", str(path), "--firms", "10"])
    assert result.exit_code != 0 and "200 firms" in result.output
