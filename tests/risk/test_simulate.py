"""The digital twin: seeded, tiered, power-law, labelled; bulk mode fills the mirror's tables."""

from __future__ import annotations

import numpy as np
from risk_fixtures import *  # noqa: F403  (fixtures)
from sqlalchemy import func, select

from indexer.models import Invoice, Payable, TokenTransfer, ValueMove
from risk.catalogue import CATALOGUE, RULES
from risk.simulate import simulate


def test_same_seed_same_economy_other_seed_other_economy() -> None:
    a, b, c = simulate(7, 200), simulate(7, 200), simulate(8, 200)
    assert a.rows == b.rows and a.profiles == b.profiles and a.truth.fraud == b.truth.fraud
    assert a.rows["invoice"] != c.rows["invoice"]


def test_tiers_power_law_and_flows() -> None:
    economy = simulate(3, 600)
    tiers = {f.tier for f in economy.firms.values()}
    assert tiers == {0, 1, 2, 3}
    sizes = np.sort([f.size for f in economy.firms.values() if f.tier > 0])[::-1]
    assert sizes[: len(sizes) // 10].sum() > 0.25 * sizes.sum()  # a heavy tail
    kinds = {r["kind"] for r in economy.rows["value_move"]}
    assert {0, 2} <= kinds  # issues and splits down the tiers
    assert any(r["kind"] == 1 for r in economy.rows["financing"])  # pledges
    assert any(r["kind"] == 0 for r in economy.rows["financing"])  # discounts
    assert {r["status"] for r in economy.rows["financing"] if r["kind"] == 1} >= {2, 3}  # repaid and seized
    assert {r["mark"] for r in economy.rows["slot_mark"]} == {"overdue", "defaulted"}
    assert economy.rows["deposit"]
    assert economy.truth.defaulted_core is not None
    assert 0.02 < np.mean(list(economy.truth.default.values())) < 0.4


def test_every_catalogue_pattern_and_variant_is_injected() -> None:
    economy = simulate(1, 800)
    for rule in RULES:
        assert economy.truth.fraud[rule], rule
        variants = {v for (r, _), v in economy.truth.variants.items() if r == rule}
        assert variants == set(CATALOGUE[rule].variants), (rule, variants)


def test_bulk_mode_writes_the_mirror(bulk_factory) -> None:  # type: ignore[no-untyped-def]
    built = bulk_factory(1)
    rows = built.economy.rows
    with built.engine.connect() as conn:
        for model, key in ((Invoice, "invoice"), (Payable, "payable"), (ValueMove, "value_move"),
                           (TokenTransfer, "token_transfer")):
            assert conn.execute(select(func.count()).select_from(model)).scalar() == len(rows[key])
    mirror = built.mirror()
    assert len(mirror.profiles) == len(built.economy.firms)
    assert set(mirror.profiles["source"]) == {"simulator"}
    # history rows carry their block's time (12-second blocks from T0), and time_of agrees with them
    blocks = mirror.moves["block_number"].to_numpy()
    assert (mirror.moves["block_timestamp"].to_numpy() == 1_767_225_600 + (blocks - 1) * 12).all()
    assert np.array_equal(mirror.time_of(blocks), mirror.moves["block_timestamp"].to_numpy(dtype=float))


def test_honest_near_misses_on_the_safe_side_of_every_threshold() -> None:
    economy = simulate(2, 600)
    assert set(economy.truth.near_misses) == {"split_chain", "late_financing", "circular_trading", "amount_anomaly",
                                              "duplicate_financing"}
    assert all(v >= 1 for v in economy.truth.near_misses.values())


def test_short_economies_end_when_they_say() -> None:
    economy = simulate(1, 80, days=180)
    rows = economy.rows
    assert max(r["registered_at"] for r in rows["invoice"]) <= economy.end_time
    assert max(r["block_timestamp"] for key in ("value_move", "deposit", "slot_mark") for r in rows[key]) \
        <= economy.end_time
