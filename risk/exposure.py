"""Scenario: a core enterprise defaults. Every lender's exposure to it, through every tier of the
chain of suppliers its payables were split down (read from the mirror)."""

from __future__ import annotations

import pandas as pd

from risk import data
from risk.score import positions

SLOT_BASE = 10**9


def core_default_exposure(m: data.Mirror, core: str) -> pd.DataFrame:
    """Rows (lender, tier, channel, exposure): ``channel`` "discounted" (the lender holds part of the
    core's payable, bought from a supplier at ``tier``) or "pledged" (an active loan to a supplier at
    ``tier`` secured by the core's payable, capped at the collateral's value); plus rows with lender
    "(suppliers)" for the claims the suppliers of each tier still hold themselves."""
    pay = m.payables[(m.payables["debtor"] == core)].set_index("slot")
    unpaid = (1 - pay["cumulative_paid"] / pay["face_value"]).clip(0, 1)
    lenders = set(data.lenders(m))
    tier = positions(m)
    hold = m.holdings[m.holdings["slot"].isin(pay.index) & ~m.holdings["burned"].astype(bool)]
    hold = hold.assign(outstanding=hold["value"] * hold["slot"].map(unpaid))
    fin = m.financings
    seller_of = fin.set_index("lender_token_id")["holder"] if len(fin) else pd.Series(dtype=object)
    rows = []
    for r in hold.itertuples():
        if r.outstanding <= 0:
            continue
        if r.owner in lenders:
            origin = seller_of.get(r.token_id, r.owner)
            rows.append((r.owner, int(tier.get(origin, -1)), "discounted", float(r.outstanding)))
        else:
            rows.append(("(suppliers)", int(tier.get(r.owner, -1)), "held", float(r.outstanding)))
    if len(fin):
        value = hold.set_index("token_id")["outstanding"]
        active = fin[(fin["kind"] == data.PLEDGE) & (fin["status"] == data.LOAN_ACTIVE)
                     & (fin["token_id"] // SLOT_BASE).isin(pay.index)]
        for r in active.itertuples():
            rows.append((r.lender, int(tier.get(r.holder, -1)), "pledged",
                         float(min(r.value, value.get(r.token_id, 0.0)))))
    frame = pd.DataFrame(rows, columns=["lender", "tier", "channel", "exposure"])
    return frame.groupby(["lender", "tier", "channel"], as_index=False)["exposure"].sum() \
        .sort_values(["lender", "tier", "channel"]).reset_index(drop=True)
