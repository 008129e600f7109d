"""Fraud detection over the SQL mirror: one function per rule of the catalogue, each returning
alerts with their reasons and the evidence rows they used.

Alerts are deterministic (inputs sorted, no clocks), unique per (rule, subject), and stored by
:func:`store_alerts`, which withdraws the stored alerts that a new run no longer produces (their
source rows were reorged out of the mirror) and leaves identical alerts untouched on a replay.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
from sqlalchemy import Engine, select, update

from risk import data
from risk.catalogue import CATALOGUE, subject
from risk.models import RiskAlert
from risk.models import upgrade as upgrade_risk_tables

SLOT_BASE = 10**9


@dataclass
class Alert:
    rule: str
    subject: str
    severity: str
    firms: list[str]
    reasons: list[str]
    evidence: list[dict] = field(default_factory=list)  # {"table": ..., "pk": ...}
    source_block: int = 0

    @property
    def alert_id(self) -> str:
        return hashlib.sha256(f"{self.rule}|{self.subject}".encode()).hexdigest()

    @property
    def content_hash(self) -> str:
        body = json.dumps([self.rule, self.subject, self.severity, self.firms, self.reasons, self.evidence,
                           self.source_block], sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


def _t(name: str) -> dict[str, float]:
    return CATALOGUE[name].thresholds


def _financed_time(m: data.Mirror) -> pd.Series:
    """When each financing happened: a pledge's start, else the block that created the lender's token."""
    fin = m.financings
    if fin.empty:
        return pd.Series(dtype=float)
    created = m.moves.groupby("to_token_id")["block_timestamp"].min() if len(m.moves) else pd.Series(dtype=float)
    times = fin["lender_token_id"].map(created).to_numpy(dtype=float)
    times = np.where(np.isnan(times), m.time_of(fin["block_number"].to_numpy(dtype=float)), times)
    times = np.where(fin["start"].to_numpy(dtype=float) > 0, fin["start"].to_numpy(dtype=float), times)
    return pd.Series(times, index=fin["financing_id"].to_numpy())


# ----------------------------------------------------------------- rules


def duplicate_financing(m: data.Mirror) -> list[Alert]:
    th = _t("duplicate_financing")
    fin, out = m.financings, []
    if fin.empty:
        return out
    minted = m.moves.groupby("to_token_id")["value"].max() if len(m.moves) else pd.Series(dtype=float)
    owner = m.transfers[m.transfers["from_address"] == data.ZERO].groupby("token_id")["to_address"].first() \
        if len(m.transfers) else pd.Series(dtype=object)
    # full: one token financed by several lenders for more than it was worth.
    multi = fin.groupby("token_id")["lender"].transform("nunique") >= th["min_lenders"]
    for token, group in fin[multi].sort_values("financing_id").groupby("token_id", sort=True):
        lenders = sorted(set(group["lender"]))
        worth = float(minted.get(token, 0.0))
        total = float(group["value"].sum())
        if len(lenders) >= th["min_lenders"] and worth and total > th["overfinance_ratio"] * worth:
            out.append(Alert("duplicate_financing", subject("token", [int(token)]), "high",
                             sorted({*group["holder"], str(owner.get(token, group["holder"].iloc[0]))}),
                             [f"token {int(token)} (worth {worth:.0f}) financed {total:.0f} in total by "
                              f"{len(lenders)} lenders: {', '.join(lenders)}"],
                             [{"table": "financing", "pk": int(f)} for f in group["financing_id"]],
                             int(group["block_number"].max())))
    # partial: distinct invoices sharing a partial fingerprint, backing payables financed by different lenders.
    pairs = fin.assign(slot=fin["token_id"] // SLOT_BASE)[["slot", "lender"]].drop_duplicates()
    slot_lenders: dict[int, list[str]] = defaultdict(list)
    for slot, lender in zip(pairs["slot"], pairs["lender"], strict=True):
        slot_lenders[int(slot)].append(lender)
    inv = m.invoices[m.invoices["slot"].isin(set(slot_lenders))]
    # only partial fingerprints shared by two or more financed invoices can link anything
    shared_any = np.zeros(len(inv), dtype=bool)
    for column in ("partial_fingerprint_1", "partial_fingerprint_2", "partial_fingerprint_3"):
        shared_any |= inv[column].duplicated(keep=False).to_numpy()
    inv = inv[shared_any]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for column in ("partial_fingerprint_1", "partial_fingerprint_2", "partial_fingerprint_3"):
        for _, group in inv.groupby(column, sort=True):
            if len(group) > 1:
                prints = sorted(group["fingerprint"])
                for other in prints[1:]:
                    a, b = find(prints[0]), find(other)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
    clusters: dict[str, list[str]] = defaultdict(list)
    for fp in sorted(parent):
        clusters[find(fp)].append(fp)
    by_fp = inv.set_index("fingerprint")
    for members in clusters.values():
        rows = by_fp.loc[members]
        slots = sorted(set(rows["slot"].astype(int)))
        lenders = sorted({x for s in slots for x in slot_lenders[s]})
        if len(slots) < 2 or len(lenders) < th["min_lenders"]:
            continue
        shared = [c[-1] for c in ("partial_fingerprint_1", "partial_fingerprint_2", "partial_fingerprint_3")
                  if rows[c].nunique() == 1]
        fins = fin[(fin["token_id"] // SLOT_BASE).isin(slots)]
        out.append(Alert("duplicate_financing", subject("invoices", members), "high",
                         sorted(set(rows["seller"]) | set(rows["buyer"])),
                         [f"{len(members)} invoices share partial fingerprint(s) {shared} and back payables "
                          f"{slots} financed by {len(lenders)} lenders: {', '.join(lenders)}"],
                         [{"table": "invoice", "pk": fp} for fp in members]
                         + [{"table": "financing", "pk": int(f)} for f in sorted(fins["financing_id"])],
                         int(max(rows["block_number"].max(), fins["block_number"].max()))))
    return out


def circular_trading(m: data.Mirror) -> list[Alert]:
    th = _t("circular_trading")
    window, bound = th["window_seconds"], int(th["max_cycle_length"])
    inv = m.invoices.sort_values(["registered_at", "fingerprint"])
    inv = inv[inv["seller"] != inv["buyer"]]
    edges: dict[tuple[str, str], list[tuple[int, str, int]]] = defaultdict(list)
    for seller, buyer, t, fp, block in zip(inv["seller"], inv["buyer"], inv["registered_at"], inv["fingerprint"],
                                           inv["block_number"], strict=True):
        edges[(seller, buyer)].append((int(t), fp, int(block)))
    graph = nx.DiGraph()
    graph.add_edges_from(sorted(edges))
    out, seen = [], set()
    for cycle in nx.simple_cycles(graph, length_bound=bound):
        if len(cycle) < th["min_cycle_length"]:
            continue
        ring = [*cycle, cycle[0]]
        legs = [edges[(a, b)] for a, b in itertools.pairwise(ring)]
        found = _within_window(legs, window)
        key = subject("firms", cycle)
        if found is None or key in seen:
            continue
        seen.add(key)
        start = min(t for t, _, _ in found)
        stop = max(t for t, _, _ in found)
        out.append(Alert("circular_trading", key, "high", sorted(cycle),
                         [f"{len(cycle)} firms trade in a cycle within {(stop - start) / 86400:.1f} days "
                          f"(window {window / 86400:.0f} days)"],
                         [{"table": "invoice", "pk": fp} for _, fp, _ in found], max(b for _, _, b in found)))
    return out


def _within_window(legs: list[list[tuple[int, str, int]]], window: float) -> list | None:
    """One invoice per leg, all within ``window`` of each other (the earliest such set), or None."""
    times = [[t for t, _, _ in leg] for leg in legs]
    for start in sorted({t for leg in times for t in leg}):
        picked = []
        for leg, ts in zip(legs, times, strict=True):
            i = bisect.bisect_left(ts, start)
            if i == len(ts) or ts[i] > start + window:
                break
            picked.append(leg[i])
        else:
            return picked
    return None


def related_parties(m: data.Mirror) -> list[Alert]:
    th = _t("related_parties")
    prof = m.profiles
    if prof.empty:
        return []
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links: dict[str, list[str]] = defaultdict(list)
    keys_of: dict[str, list[str]] = defaultdict(list)
    for address, holders, rep, funder in zip(prof["address"], prof["shareholders"], prof["legal_representative"],
                                             prof["funding_address"], strict=True):
        keys = [f"shareholder {h}" for h in holders or []]
        if rep:
            keys.append(f"legal representative {rep}")
        if funder:
            keys.append(f"funding address {funder}")
        for key in keys:
            links[key].append(address)
            keys_of[address].append(key)
    for key in sorted(links):
        members = sorted(set(links[key]))
        for other in members[1:]:
            a, b = find(members[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    group_of = {a: find(a) for a in parent}
    inv = m.invoices
    internal = inv[inv["seller"].map(group_of).notna() & (inv["seller"].map(group_of) == inv["buyer"].map(group_of))
                   & (inv["seller"] != inv["buyer"])]
    out = []
    for _, rows in internal.sort_values("fingerprint").groupby(internal["seller"].map(group_of), sort=True):
        if len(rows) < th["min_internal_invoices"]:
            continue
        # the trading firms of the group and how they are linked
        graph = nx.Graph()
        graph.add_edges_from(zip(rows["seller"], rows["buyer"], strict=True))
        for comp in sorted(nx.connected_components(graph), key=lambda c: sorted(c)):
            members = sorted(comp)
            if len(members) < th["min_group_size"]:
                continue
            comp_rows = rows[rows["seller"].isin(comp)]
            counts: dict[str, int] = defaultdict(int)
            for firm in members:
                for key in set(keys_of[firm]):
                    counts[key] += 1
            reasons = sorted(k for k, c in counts.items() if c >= 2)
            out.append(Alert("related_parties", subject("firms", members), "medium", members,
                             [f"linked by {', '.join(reasons) or 'a chain of shared parties'}; "
                              f"{len(comp_rows)} invoices between them"],
                             [{"table": "risk_firm_profile", "pk": a} for a in members]
                             + [{"table": "invoice", "pk": fp} for fp in comp_rows["fingerprint"]],
                             int(comp_rows["block_number"].max())))
    return out


def amount_anomaly(m: data.Mirror) -> list[Alert]:
    th = _t("amount_anomaly")
    inv = m.invoices[m.invoices["amount"] > 0].copy()
    if inv.empty:
        return []
    inv["log"] = np.log(inv["amount"].astype(float))
    grouped = inv.groupby("seller")["log"]
    inv["n"] = grouped.transform("size")
    inv["median"] = grouped.transform("median")
    inv["mad"] = (inv["log"] - inv["median"]).abs().groupby(inv["seller"]).transform("median")
    inv["z"] = 0.6745 * (inv["log"] - inv["median"]) / inv["mad"].clip(lower=th["mad_floor"])
    hits = inv[(inv["n"] >= th["min_invoices"]) & (inv["z"] > th["z_threshold"])].sort_values("fingerprint")
    return [Alert("amount_anomaly", subject("invoice", [r.fingerprint]), "medium", sorted({r.seller, r.buyer}),
                  [f"amount {r.amount:.0f} is {np.exp(r.log - r.median):.1f}x the seller's median "
                   f"(robust z {r.z:.1f} > {th['z_threshold']}, {int(r.n)} invoices)"],
                  [{"table": "invoice", "pk": r.fingerprint}], int(r.block_number))
            for r in hits.itertuples()]


def split_chain(m: data.Mirror) -> list[Alert]:
    th = _t("split_chain")
    window, min_hops = th["window_seconds"], th["min_hops"]
    moves = m.moves[m.moves["kind"] == data.MOVE_SPLIT]
    transfers = m.transfers
    mints = transfers[transfers["from_address"] == data.ZERO].groupby("token_id")["to_address"].first()
    whole = transfers[(transfers["from_address"] != data.ZERO) & (transfers["to_address"] != data.ZERO)]
    events = pd.concat([
        pd.DataFrame({"block": moves["block_number"], "log": moves["log_index"], "src": moves["from_token_id"],
                      "dst": moves["to_token_id"], "t": moves["block_timestamp"]}),
        pd.DataFrame({"block": whole["block_number"], "log": whole["log_index"], "src": whole["token_id"],
                      "dst": whole["token_id"], "t": whole["block_timestamp"]}),
    ]).sort_values(["block", "log"], kind="stable")
    times = events.pop("t").to_numpy(dtype=float)
    state: dict[int, tuple[int, float, int, list]] = {}  # token -> (root, start, hops, evidence)
    owner: dict[int, str] = mints.to_dict()
    best: dict[int, tuple[int, list, int, float]] = {}
    for (block, log, src, dst), t in zip(events.itertuples(index=False, name=None), times, strict=True):
        src, dst = int(src), int(dst)
        if src != dst and owner.get(dst) == owner.get(src):
            continue  # a split to oneself moves no value to anyone
        prior = state.get(src)
        ev = {"table": "value_move" if src != dst else "token_transfer", "pk": [int(block), int(log)]}
        if prior is not None and t - prior[1] <= window:
            root, start, hops, evidence = prior[0], prior[1], prior[2] + 1, [*prior[3], ev]
        else:
            root, start, hops, evidence = src, t, 1, [ev]
        state[dst] = (root, start, hops, evidence)
        if hops >= min_hops and hops > best.get(root, (0,))[0]:
            best[root] = (hops, evidence, int(block), t - start)
    out = []
    for root in sorted(best):
        hops, evidence, block, span = best[root]
        out.append(Alert("split_chain", subject("token", [root]), "medium", [str(owner.get(root, ""))],
                         [f"{hops} hops from token {root} within {span / 3600:.1f} hours "
                          f"(threshold {min_hops} hops in {window / 3600:.0f} hours)"], evidence, block))
    return out


def late_financing(m: data.Mirror) -> list[Alert]:
    th = _t("late_financing")
    fin = m.financings
    if fin.empty:
        return []
    pay = m.payables.set_index("slot")
    when = _financed_time(m)
    # delinquency intervals per debtor: first mark -> full payment (or open)
    spans: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    if len(m.marks):
        first = m.marks.sort_values(["block_number", "log_index"]).groupby("slot")["block_timestamp"].first()
        paid = pd.Series(dtype=float)
        if len(m.deposits):
            deps = m.deposits.sort_values(["block_number", "log_index"]).merge(
                m.payables[["slot", "face_value"]], on="slot")
            full = deps[deps["amount"].groupby(deps["slot"]).cumsum() >= deps["face_value"]]
            paid = full.groupby("slot")["block_timestamp"].min()
        for slot, start in first.items():
            stop = float(paid[slot]) if slot in paid.index else float("inf")
            spans[str(pay.at[slot, "debtor"])].append((float(start), stop, int(slot)))
    out = []
    for row in fin.sort_values("financing_id").itertuples():
        slot = int(row.token_id) // SLOT_BASE
        if slot not in pay.index:
            continue
        t = float(when[row.financing_id])
        maturity, debtor = float(pay.at[slot, "maturity"]), str(pay.at[slot, "debtor"])
        reasons = []
        if maturity - t <= th["days_before_maturity"]:
            reasons.append(f"financed {(maturity - t) / 86400:.1f} days before maturity "
                           f"(threshold {th['days_before_maturity'] / 86400:.0f})")
        bad = [s for a, z, s in spans.get(debtor, []) if a <= t < z]
        if bad:
            reasons.append(f"debtor {debtor} was delinquent on payable(s) {sorted(bad)} when financed")
        if reasons:
            out.append(Alert("late_financing", subject("financing", [int(row.financing_id)]), "medium",
                             sorted({row.holder, debtor}), reasons,
                             [{"table": "financing", "pk": int(row.financing_id)}, {"table": "payable", "pk": slot}]
                             + [{"table": "payable", "pk": s} for s in sorted(bad)], int(row.block_number)))
    return out


RULES: dict[str, Callable[[data.Mirror], list[Alert]]] = {
    "duplicate_financing": duplicate_financing,
    "circular_trading": circular_trading,
    "related_parties": related_parties,
    "amount_anomaly": amount_anomaly,
    "split_chain": split_chain,
    "late_financing": late_financing,
}


def run_rules(mirror: data.Mirror, rules: tuple[str, ...] | None = None) -> list[Alert]:
    alerts: dict[tuple[str, str], Alert] = {}
    for name in rules or tuple(RULES):
        for alert in RULES[name](mirror):
            alerts.setdefault((alert.rule, alert.subject), alert)
    return [alerts[k] for k in sorted(alerts)]


def store_alerts(engine: Engine, alerts: list[Alert]) -> dict[str, int]:
    """Upsert ``alerts``; withdraw the active stored alerts not among them. Returns counts."""
    upgrade_risk_tables(engine)
    table = RiskAlert.__table__  # type: ignore[attr-defined]
    counts = {"new": 0, "changed": 0, "unchanged": 0, "withdrawn": 0}
    with engine.begin() as conn:
        stored = {r.alert_id: r for r in conn.execute(select(table.c.alert_id, table.c.content_hash,
                                                             table.c.status))}
        current = set()
        for alert in alerts:
            current.add(alert.alert_id)
            values = {"rule": alert.rule, "subject": alert.subject, "severity": alert.severity, "firms": alert.firms,
                      "reasons": alert.reasons, "evidence": alert.evidence, "source_block": alert.source_block,
                      "status": "active", "content_hash": alert.content_hash}
            old = stored.get(alert.alert_id)
            if old is None:
                conn.execute(table.insert().values(alert_id=alert.alert_id, **values))
                counts["new"] += 1
            elif old.content_hash != alert.content_hash or old.status != "active":
                conn.execute(update(table).where(table.c.alert_id == alert.alert_id).values(**values))
                counts["changed"] += 1
            else:
                counts["unchanged"] += 1
        gone = [a for a, r in stored.items() if a not in current and r.status == "active"]
        if gone:
            conn.execute(update(table).where(table.c.alert_id.in_(gone)).values(status="withdrawn"))
        counts["withdrawn"] = len(gone)
    return counts

