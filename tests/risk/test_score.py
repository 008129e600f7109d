"""The scorecard: discrimination beside the oracle, calibration, points, range, determinism, repair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from risk_fixtures import *  # noqa: F403  (fixtures)
from sqlalchemy import select

from risk import detect, score
from risk.models import CreditScore

DAY = 86400


@pytest.fixture(scope="module")
def fitted(bulk_factory):  # type: ignore[no-untyped-def]
    built = bulk_factory(11, 1500)
    mirror = built.mirror()
    x = score.features(mirror)
    y = pd.Series([built.economy.truth.default.get(a, 0) for a in x.index], index=x.index)
    test = score.train_split(x.index)
    model = score.fit(x[~test], y[~test])
    return built, mirror, x, y, test, model


def test_auc_and_ks_beside_the_oracle(fitted) -> None:  # type: ignore[no-untyped-def]
    built, mirror, x, y, test, model = fitted
    scored = score.score_firms(model, mirror, x)
    auc, ks = score.auc_ks(y[test].to_numpy(), -scored.frame["base"][test].to_numpy())
    oracle = np.array([built.economy.truth.pd[a] for a in x.index[test]])
    oracle_auc, _ = score.auc_ks(y[test].to_numpy(), oracle)
    assert auc > 0.7 and ks > 0.3, (auc, ks)
    assert auc <= oracle_auc + 0.05, (auc, oracle_auc)


def test_calibration_by_band(fitted) -> None:  # type: ignore[no-untyped-def]
    _, mirror, x, y, test, model = fitted
    base = score.score_firms(model, mirror, x).frame["base"]
    bands = score.calibration(y[test].to_numpy(), base[test].to_numpy())
    rates = [b["default_rate"] for b in bands]
    assert rates[0] > rates[-1] and rates[0] == max(rates)
    for band in bands:
        assert abs(band["default_rate"] - band["implied_pd"]) < 0.15, band


def test_points_sum_and_range(fitted) -> None:  # type: ignore[no-untyped-def]
    _, mirror, x, _, _, model = fitted
    scored = score.score_firms(model, mirror, x)
    assert np.allclose(scored.points.sum(axis=1), scored.frame["base"])
    assert np.allclose(scored.points.sum(axis=1), model.scorecard.score(x[list(score.FEATURES)]))
    assert scored.frame["score"].between(0, 1000).all()
    assert all(len(r) <= 4 for r in scored.reasons.values())
    assert set(scored.frame["warning"]) <= {"none", "blue", "yellow", "red"}
    assert (scored.frame["credit_line"] >= 0).all()
    assert (scored.frame.loc[scored.frame["score"] < 450, "credit_line"] == 0).all()


def test_same_seed_same_scorecard(fitted) -> None:  # type: ignore[no-untyped-def]
    _, _, x, y, test, model = fitted
    again = score.fit(x[~test], y[~test])
    pd.testing.assert_frame_equal(model.table, again.table)


def test_scores_are_stored_with_version_inputs_points_and_reasons(fitted) -> None:  # type: ignore[no-untyped-def]
    built, mirror, x, _, _, model = fitted
    alerts = detect.run_rules(mirror)
    detect.store_alerts(built.engine, alerts)
    scored = score.score_firms(model, mirror, x, alerts=score.active_alerts(built.engine),
                               previous=score.previous_scores(built.engine))
    assert score.store_scores(built.engine, model, scored, mirror.as_of_block) == len(x)
    with built.engine.connect() as conn:
        row = conn.execute(select(CreditScore.__table__).limit(1)).mappings().one()
    assert row["model_version"] == model.version and model.version.startswith(score.MODEL_VERSION + "+")
    assert set(row["feature_points"]) == set(score.FEATURES)
    assert set(row["dimension_points"]) == set(score.DIMENSIONS)
    assert abs(sum(row["dimension_points"].values()) - row["base_score"]) <= 1
    assert row["score"] == max(0, min(1000, round(row["base_score"] + sum(row["addons"].values())))) or \
        abs(row["score"] - (row["base_score"] + sum(row["addons"].values()))) <= 1
    # a firm named in a high-severity alert gets a red warning
    flagged = {f for a in alerts if a.severity == "high" for f in a.firms} & set(x.index)
    assert flagged and (scored.frame.loc[sorted(flagged), "warning"] == "red").all()


def test_credit_repair_after_a_cure(fitted) -> None:  # type: ignore[no-untyped-def]
    _, mirror, _, _, _, model = fitted
    now = float(mirror.time_of(np.array([mirror.as_of_block]))[0])
    episodes = score.delinquencies(mirror, now)
    only_cured = episodes.groupby("firm")["cured_at"].apply(lambda c: c.notna().all())
    cured = episodes[episodes["firm"].isin(only_cured[only_cured].index)].sort_values(["cured_at", "firm"])
    firm, cured_at = cured.iloc[-1]["firm"], float(cured.iloc[-1]["cured_at"])
    weights, points = [], []
    for later in (0, 90, 400):
        x = score.features(mirror, int(cured_at + later * DAY))
        weights.append(x.loc[firm, "delinquency_weight"])
        points.append(model.points(x.loc[[firm]])[list(score.DIMENSIONS["behavioral"])].sum(axis=1).iloc[0])
    assert weights[0] >= 1 and weights[1] < weights[0] and weights[2] == 0  # half-life 90 days, gone after a year
    assert points[0] <= points[1] <= points[2] and points[0] < points[2]
