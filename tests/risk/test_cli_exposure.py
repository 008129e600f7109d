"""`simulate` / `detect` commands and the core-default exposure scenario."""

from __future__ import annotations

import json

from risk_fixtures import *  # noqa: F403  (fixtures)
from typer.testing import CliRunner

from risk.cli import app
from risk.exposure import core_default_exposure


def test_simulate_and_detect_commands(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path}/cli.db"
    truth = tmp_path / "truth.json"
    result = CliRunner().invoke(app, ["simulate", "--seed", "4", "--firms", "150", "--db", db, "--truth", str(truth)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["seed"] == 4 and summary["transfers"] > 0 and summary["fraud_labels"]["circular_trading"] >= 1
    assert json.loads(truth.read_text())["defaulted_core"]
    result = CliRunner().invoke(app, ["detect", "--db", db])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["new"] > 0


def test_core_default_exposure_through_every_tier(bulk_factory) -> None:  # type: ignore[no-untyped-def]
    built = bulk_factory(1)
    mirror = built.mirror()
    core = built.economy.truth.defaulted_core
    frame = core_default_exposure(mirror, core)
    pay = mirror.payables[mirror.payables["debtor"] == core]
    outstanding = ((pay["face_value"] - pay["cumulative_paid"]).clip(lower=0)).sum()
    held = frame[frame["channel"].isin(["held", "discounted"])]["exposure"].sum()
    assert abs(held - outstanding) / outstanding < 1e-6  # every unpaid unit is held by someone
    assert set(frame.loc[frame["lender"] == "(suppliers)", "tier"]) >= {1, 2}
    assert (frame["lender"] != "(suppliers)").any()
