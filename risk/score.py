"""Credit scoring over the SQL mirror and the firm profiles (model documented in docs/risk-model.md).

Four dimensions of features; a scorecard of monotonic WOE bins and a logistic regression
(optbinning ``BinningProcess`` + ``Scorecard(scaling_method="pdo_odds")``: 600 points at odds 20:1,
50 points to double the odds), clipped onto 0-1000; scenario add-ons; the four largest reason codes;
red/yellow/blue warnings; a recommended credit line; credit repair by decay of cured delinquencies.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, select

from risk import data
from risk.models import CreditScore, RiskAlert
from risk.models import upgrade as upgrade_risk_tables

MODEL_VERSION = "scf-score-1.0"
DAY = 86400
PDO, ODDS, BASE_POINTS = 50.0, 20.0, 600.0
SCORE_MIN, SCORE_MAX = 0, 1000
REPAIR_HALF_LIFE = 90 * DAY  # a cured delinquency's weight halves every 90 days ...
REPAIR_HORIZON = 365 * DAY  # ... and is forgotten a year after the cure
TAX = {"A": 4, "B": 3, "C": 2, "D": 1, "M": 0}

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "basic": ("registered_years", "log_capital", "tax_grade", "court_judgments", "log_headcount"),
    "dynamic": ("log_sales", "counterparties", "tenure_days", "buyer_concentration", "log_receivables_in"),
    "behavioral": ("delinquency_weight", "max_days_past_due", "seized_loans", "late_share"),
    "innovation": ("patents", "log_rd_spend", "rd_intensity"),
}
FEATURES: tuple[str, ...] = tuple(f for fs in DIMENSIONS.values() for f in fs)
DIMENSION_OF = {f: d for d, fs in DIMENSIONS.items() for f in fs}
POSITION_ADDON = {0: 40, 1: 25, 2: 10}  # supply-chain position: distance to a core enterprise
ALERT_ADDON = {"high": -120, "medium": -40}  # per active alert naming the firm, capped below
ALERT_ADDON_FLOOR = -240


# --------------------------------------------------------------- features


def features(m: data.Mirror, as_of: int | None = None) -> pd.DataFrame:
    """One row per firm (index: address) with the model's features as of ``as_of`` (unix time;
    default the mirror's newest block's time). Only facts visible by ``as_of`` are used."""
    now = float(as_of if as_of is not None else m.time_of(np.array([m.as_of_block]))[0])
    firms = data.firms(m)
    out = pd.DataFrame(index=pd.Index(firms, name="address"))
    prof = m.profiles.set_index("address") if len(m.profiles) else pd.DataFrame()

    def pcol(name: str, default: float = 0.0) -> pd.Series:
        if name not in prof:
            return pd.Series(default, index=out.index)
        return prof[name].reindex(out.index)

    # basic
    out["registered_years"] = ((now - pcol("registered_on", now)) / (365 * DAY)).fillna(0).clip(lower=0)
    out["log_capital"] = np.log1p(pcol("registered_capital").fillna(0).astype(float))
    out["tax_grade"] = pcol("tax_grade", np.nan).map(TAX).fillna(2).astype(float)
    out["court_judgments"] = pcol("court_judgments").fillna(0).astype(float)
    out["log_headcount"] = np.log1p(pcol("social_insurance_headcount").fillna(0).astype(float))
    # innovation
    out["patents"] = pcol("patents").fillna(0).astype(float)
    rd = pcol("rd_spend").fillna(0).astype(float)
    out["log_rd_spend"] = np.log1p(rd)
    out["rd_intensity"] = (rd / pcol("registered_capital").fillna(0).astype(float).clip(lower=1)).clip(upper=5)

    # dynamic
    inv = m.invoices[m.invoices["registered_at"] <= now]
    sales = inv.groupby("seller")["amount"].sum()
    out["log_sales"] = np.log1p(sales.reindex(out.index).fillna(0) / 1e6)
    pairs = pd.concat([inv[["seller", "buyer"]].rename(columns={"seller": "a", "buyer": "b"}),
                       inv[["buyer", "seller"]].rename(columns={"buyer": "a", "seller": "b"})])
    out["counterparties"] = pairs.drop_duplicates().groupby("a").size().reindex(out.index).fillna(0).astype(float)
    first = pairs.assign(t=np.concatenate([inv["registered_at"].to_numpy()] * 2)).groupby("a")["t"].min()
    out["tenure_days"] = ((now - first.reindex(out.index)) / DAY).fillna(0).clip(lower=0)
    by_buyer = inv.groupby(["seller", "buyer"])["amount"].sum()
    share = by_buyer / by_buyer.groupby(level=0).transform("sum")
    out["buyer_concentration"] = (share**2).groupby(level=0).sum().reindex(out.index).fillna(1.0)
    received = _receivables_in(m, now)
    out["log_receivables_in"] = np.log1p(received.reindex(out.index).fillna(0) / 1e6)

    # behavioral (with credit repair: cured delinquencies decay)
    episodes = delinquencies(m, now)
    if len(episodes):
        cured_for = (now - episodes["cured_at"]).where(episodes["cured_at"].notna(), other=-1.0)
        weight = np.where(cured_for < 0, 1.0,
                          np.where(cured_for > REPAIR_HORIZON, 0.0, 0.5 ** (cured_for / REPAIR_HALF_LIFE)))
        episodes = episodes.assign(weight=weight)
        live = episodes[episodes["weight"] > 0]
        out["delinquency_weight"] = episodes.groupby("firm")["weight"].sum().reindex(out.index).fillna(0)
        out["max_days_past_due"] = (live["days_past_due"] * live["weight"]).groupby(live["firm"]).max() \
            .reindex(out.index).fillna(0)
        out["seized_loans"] = episodes[episodes["kind"] == "seized"].groupby("firm").size() \
            .reindex(out.index).fillna(0).astype(float)
    else:
        out["delinquency_weight"] = 0.0
        out["max_days_past_due"] = 0.0
        out["seized_loans"] = 0.0
    obligations = _obligations(m, now)
    late = episodes.groupby("firm")["weight"].sum() if len(episodes) else pd.Series(dtype=float)
    out["late_share"] = (late.reindex(out.index).fillna(0) / obligations.reindex(out.index).fillna(0).clip(lower=1))
    out["late_share"] = out["late_share"].clip(upper=1.0)
    return out[list(FEATURES)].astype(float).sort_index()


def _receivables_in(m: data.Mirror, now: float, since: float | None = None) -> pd.Series:
    """Value of claims received by each firm (issues and splits to it) up to ``now``."""
    moves = m.moves
    if moves.empty:
        return pd.Series(dtype=float)
    moves = moves[moves["kind"].isin([data.MOVE_ISSUE, data.MOVE_SPLIT])]
    times = moves["block_timestamp"].to_numpy(dtype=float)
    keep = (times <= now) & (times >= (since if since is not None else -np.inf))
    mints = m.transfers[m.transfers["from_address"] == data.ZERO].drop_duplicates("token_id").set_index("token_id")
    owners = moves["to_token_id"].map(mints["to_address"])
    return moves.loc[keep, "value"].groupby(owners[keep]).sum()


def delinquencies(m: data.Mirror, now: float) -> pd.DataFrame:
    """Delinquency episodes known at ``now``: firm, kind, days past due, cured_at (NaN: not cured)."""
    rows = []
    pay = m.payables.set_index("slot")
    if len(m.marks):
        marks = m.marks.assign(t=m.marks["block_timestamp"].astype(float))
        marks = marks[marks["t"] <= now]
        paid: dict[int, float] = {}
        if len(m.deposits):
            deps = m.deposits.assign(t=m.deposits["block_timestamp"].astype(float)).sort_values("t")
            deps = deps[deps["t"] <= now].merge(m.payables[["slot", "face_value"]], on="slot")
            full = deps[deps["amount"].groupby(deps["slot"]).cumsum() >= deps["face_value"]]
            paid = full.groupby("slot")["t"].min().to_dict()
        for slot in sorted(set(marks["slot"])):
            due = float(pay.at[slot, "maturity"])
            cured = paid.get(slot)
            rows.append((str(pay.at[slot, "debtor"]), "payable", ((cured or now) - due) / DAY, cured))
    fin = m.financings[m.financings["kind"] == data.PLEDGE]
    if len(fin):
        closed = m.time_of(fin["block_number"].to_numpy())
        for row, t in zip(fin.itertuples(), closed, strict=True):
            slot = int(row.token_id) // 10**9
            if slot not in pay.index or row.start > now:
                continue
            due = float(pay.at[slot, "maturity"])
            if row.status == data.LOAN_REPAID and t <= now:
                if t > due + DAY:
                    rows.append((row.holder, "loan", (t - due) / DAY, float(t)))
            elif row.status == 3 and t <= now:
                rows.append((row.holder, "seized", (now - due) / DAY, None))
            elif now > due + DAY:
                rows.append((row.holder, "loan", (now - due) / DAY, None))
    frame = pd.DataFrame(rows, columns=["firm", "kind", "days_past_due", "cured_at"])
    frame["cured_at"] = frame["cured_at"].astype(float)
    return frame


def _obligations(m: data.Mirror, now: float) -> pd.Series:
    pay = m.payables[m.payables["maturity"] <= now].groupby("debtor").size()
    fin = m.financings[(m.financings["kind"] == data.PLEDGE) & (m.financings["start"] <= now)].groupby("holder").size()
    return pay.add(fin, fill_value=0)


def positions(m: data.Mirror) -> pd.Series:
    """Supply-chain position: 0 for debtors of payables (cores), else hops to one along seller->buyer."""
    cores = set(m.payables["debtor"])
    buyers = m.invoices.groupby("seller")["buyer"].agg(lambda s: sorted(set(s)))
    level = dict.fromkeys(cores, 0)
    frontier = set(cores)
    by_buyer: dict[str, list[str]] = {}
    for seller, bs in buyers.items():
        for b in bs:
            by_buyer.setdefault(b, []).append(seller)
    depth = 0
    while frontier:
        depth += 1
        nxt = {s for b in frontier for s in by_buyer.get(b, []) if s not in level}
        for s in nxt:
            level[s] = depth
        frontier = nxt
    return pd.Series(level, dtype=float)


# --------------------------------------------------------------- the model


class ModelError(ValueError):
    """A saved scorecard that cannot be used."""


@dataclass
class Model:
    """A fitted scorecard as plain numbers: per feature, the bin edges (bins ``(-inf, s0), [s0, s1), ...,
    [sn, inf)``, as optbinning cuts them) and the points of each bin and of a missing value. ``version``
    names the model (its family and a digest of its bins); every stored score carries it. ``scorecard`` is
    optbinning's fitted object when the model was just fitted (None when loaded from a file)."""

    bins: dict[str, tuple[np.ndarray, np.ndarray, float]]  # feature -> (splits, points per bin, missing points)
    version: str
    scorecard: object | None = None

    @property
    def table(self) -> pd.DataFrame:
        """Variable, bin id, bin and points, one row per bin (the missing bin last)."""
        rows = []
        for feature, (splits, pts, missing) in self.bins.items():
            edges = [-np.inf, *splits, np.inf]
            for i, p in enumerate(pts):
                rows.append((feature, i, f"[{edges[i]:.4g}, {edges[i + 1]:.4g})", float(p)))
            rows.append((feature, len(pts), "Missing", float(missing)))
        return pd.DataFrame(rows, columns=["Variable", "Bin id", "Bin", "Points"])

    def points(self, x: pd.DataFrame) -> pd.DataFrame:
        """Per-feature points for each row of ``x`` (sums to the base score)."""
        out = {}
        for feature in FEATURES:
            splits, pts, missing = self.bins[feature]
            values = x[feature].to_numpy(dtype=float)
            out[feature] = np.where(np.isnan(values), missing, pts[np.digitize(values, splits)])
        return pd.DataFrame(out, index=x.index)

    def max_points(self) -> pd.Series:
        return pd.Series({f: float(pts.max()) for f, (_, pts, _) in self.bins.items()})

    def to_json(self) -> dict:
        return {"version": self.version, "features": {
            f: {"splits": splits.tolist(), "points": pts.tolist(), "missing": missing}
            for f, (splits, pts, missing) in self.bins.items()}}

    @classmethod
    def from_json(cls, doc: dict) -> Model:
        try:
            bins = {f: (np.array(b["splits"], dtype=float), np.array(b["points"], dtype=float), float(b["missing"]))
                    for f, b in doc["features"].items()}
            version = str(doc["version"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"not a saved scorecard: {exc!r}") from exc
        if set(bins) != set(FEATURES):
            raise ModelError(f"the model's features {sorted(bins)} are not this scorecard's {sorted(FEATURES)}")
        if any(len(pts) != len(splits) + 1 for splits, pts, _ in bins.values()):
            raise ModelError("each feature needs one more bin's points than it has splits")
        return cls(bins, version)


def save_model(model: Model, path: str | Path) -> Path:
    """Write ``model`` as JSON to ``path`` (folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(), indent=1))
    return path


def load_model(path: str | Path) -> Model:
    """A model saved by :func:`save_model`; raises :class:`ModelError` for a missing or malformed file."""
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ModelError(f"no model file at {path}") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the model file {path}: {exc}") from exc
    return Model.from_json(doc)


def train_split(index: pd.Index, share: float = 0.3) -> np.ndarray:
    """A deterministic test mask: firms whose address hash falls in the first ``share``."""
    return np.array([int(hashlib.sha256(a.encode()).hexdigest()[:8], 16) / 2**32 < share for a in index])


def fit(x: pd.DataFrame, y: pd.Series) -> Model:
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    params = {f: {"monotonic_trend": "auto_asc_desc", "max_n_bins": 6} for f in FEATURES}
    process = BinningProcess(list(FEATURES), binning_fit_params=params, min_prebin_size=0.05)
    card = Scorecard(binning_process=process, estimator=LogisticRegression(max_iter=1000),
                     scaling_method="pdo_odds",
                     scaling_method_params={"pdo": PDO, "odds": ODDS, "scorecard_points": BASE_POINTS})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        card.fit(x[list(FEATURES)], y.astype(int).to_numpy())
    table = card.table(style="detailed")
    bins = {}
    for feature in FEATURES:
        splits = np.asarray(card.binning_process_.get_binned_variable(feature).splits, dtype=float)
        rows = table[table["Variable"] == feature].sort_values("Bin id")
        regular = rows[~rows["Bin"].astype(str).isin(["Special", "Missing"])]["Points"].to_numpy(dtype=float)
        missing = float(rows.loc[rows["Bin"].astype(str) == "Missing", "Points"].iloc[0])
        bins[feature] = (splits, regular, missing)
    digest = hashlib.sha256(json.dumps(Model(bins, "").to_json()["features"], sort_keys=True).encode()).hexdigest()
    return Model(bins, f"{MODEL_VERSION}+{digest[:12]}", card)


def auc_ks(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """AUC and KS of ``score`` as a predictor of ``y`` (higher score = more risk)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    if len(set(y)) < 2:
        return float("nan"), float("nan")
    fpr, tpr, _ = roc_curve(y, score)
    return float(roc_auc_score(y, score)), float(np.max(tpr - fpr))


# --------------------------------------------------------------- scoring


@dataclass
class Scored:
    frame: pd.DataFrame  # per firm: base, addons, score, warning, credit line
    points: pd.DataFrame  # per firm per feature
    inputs: pd.DataFrame
    reasons: dict[str, list[str]]


def score_firms(model: Model, m: data.Mirror, x: pd.DataFrame | None = None, *,
                alerts: pd.DataFrame | None = None, previous: pd.Series | None = None,
                as_of: int | None = None) -> Scored:
    x = features(m, as_of) if x is None else x
    pts = model.points(x)
    base = pts.sum(axis=1)
    pos = positions(m).reindex(x.index)
    position_addon = pos.map(POSITION_ADDON).fillna(0.0)
    alert_addon = pd.Series(0.0, index=x.index)
    if alerts is not None and len(alerts):
        for severity, firms in zip(alerts["severity"], alerts["firms"], strict=True):
            for firm in firms:
                if firm in alert_addon.index:
                    alert_addon[firm] += ALERT_ADDON.get(severity, 0)
        alert_addon = alert_addon.clip(lower=ALERT_ADDON_FLOOR)
    total = (base + position_addon + alert_addon).clip(SCORE_MIN, SCORE_MAX).round()
    frame = pd.DataFrame({"base": base, "position_addon": position_addon, "alert_addon": alert_addon,
                          "score": total.astype(int)})
    frame["warning"] = warnings_for(frame["score"], previous, alert_addon)
    frame["credit_line"] = credit_lines(frame["score"], m, as_of)
    top = model.max_points()
    reasons = {}
    shortfall = (top.reindex(pts.columns).to_numpy() - pts.to_numpy())
    order = np.argsort(-shortfall, axis=1, kind="stable")[:, :4]
    cols = np.array(pts.columns)
    for i, firm in enumerate(x.index):
        reasons[firm] = [f"{cols[j]}={x.iat[i, list(x.columns).index(cols[j])]:.3g} "
                         f"(-{shortfall[i, j]:.0f} pts)" for j in order[i] if shortfall[i, j] > 0.5]
    return Scored(frame, pts, x, reasons)


def warnings_for(score: pd.Series, previous: pd.Series | None, alert_addon: pd.Series) -> pd.Series:
    """red: a drop of 100+ points or a high-severity alert; yellow: a drop of 50+, any alert, or a score
    under 450; blue: a drop of 20+ or a score under 550; else none."""
    drop = (previous.reindex(score.index) - score).fillna(0) if previous is not None else score * 0
    red = (drop >= 100) | (alert_addon <= ALERT_ADDON["high"])
    yellow = (drop >= 50) | (alert_addon < 0) | (score < 450)
    blue = (drop >= 20) | (score < 550)
    return pd.Series(np.select([red, yellow, blue], ["red", "yellow", "blue"], "none"), index=score.index)


def credit_lines(score: pd.Series, m: data.Mirror, as_of: int | None = None) -> pd.Series:
    """line = multiple(score) x average monthly receivable inflow over the last 180 days, where the
    multiple is 0 under 450 points, rising linearly to 3 at 850 and above."""
    now = float(as_of if as_of is not None else m.time_of(np.array([m.as_of_block]))[0])
    inflow = _receivables_in(m, now, since=now - 180 * DAY).reindex(score.index).fillna(0) / 6
    multiple = ((score - 450) / 400 * 3).clip(0, 3)
    return (multiple * inflow).round().astype("int64")


def store_scores(engine: Engine, model: Model, scored: Scored, as_of_block: int) -> int:
    upgrade_risk_tables(engine)
    rows = []
    for firm, r in scored.frame.iterrows():
        pts = scored.points.loc[firm]
        dims = {d: round(float(pts[list(fs)].sum()), 3) for d, fs in DIMENSIONS.items()}
        rows.append({"address": firm, "model_version": model.version, "as_of_block": as_of_block,
                     "score": int(r["score"]), "base_score": round(float(r["base"])),
                     "addons": {"supply_chain_position": float(r["position_addon"]),
                                "fraud_alerts": float(r["alert_addon"])},
                     "dimension_points": dims, "feature_points": {k: round(float(v), 3) for k, v in pts.items()},
                     "inputs": {k: float(v) for k, v in scored.inputs.loc[firm].items()},
                     "reason_codes": scored.reasons[firm], "warning": r["warning"],
                     "credit_line": int(r["credit_line"]), "note": ""})
    with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(insert(CreditScore.__table__), rows[i:i + 5000])  # type: ignore[attr-defined]
    return len(rows)


def active_alerts(engine: Engine) -> pd.DataFrame:
    table = RiskAlert.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.severity, table.c.firms).where(table.c.status == "active")).all()
    return pd.DataFrame(rows, columns=["severity", "firms"])


def previous_scores(engine: Engine) -> pd.Series:
    table = CreditScore.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.address, table.c.score).order_by(table.c.score_id)).all()
    return pd.DataFrame(rows, columns=["address", "score"]).drop_duplicates("address", keep="last") \
        .set_index("address")["score"] if rows else pd.Series(dtype=float)


def calibration(y: np.ndarray, score: np.ndarray, bands: int = 5) -> list[dict]:
    """Observed default rate by score band (quantile bands, low scores first)."""
    frame = pd.DataFrame({"y": y, "s": score})
    frame["band"] = pd.qcut(frame["s"].rank(method="first"), bands, labels=False)
    out = []
    for band, g in frame.groupby("band"):
        odds_pd = 1 / (1 + ODDS * 2 ** ((g["s"].mean() - BASE_POINTS) / PDO))
        out.append({"band": int(band), "min": float(g["s"].min()), "max": float(g["s"].max()), "n": len(g),
                    "default_rate": float(g["y"].mean()), "implied_pd": round(odds_pd, 4)})
    return out


def implied_pd(score: float) -> float:
    return 1 / (1 + ODDS * math.pow(2, (score - BASE_POINTS) / PDO))
