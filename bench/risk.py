"""Risk benchmark: detector precision/recall per rule against the simulator's ground truth, the
scorecard's AUC/KS beside the oracle's (the simulator's true default model), the time to score
100,000 firms and to run every rule over about 1,000,000 transfers (bulk mode: one economy of
``--big-firms`` firms, whose every firm is scored), and peak memory. Prints one JSON line.

Run: `.venv/bin/python bench/risk.py [--seed 1] [--firms 3000] [--big-firms 100000]`
(`--big-firms 0` skips the large run).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # risk/ is not in the editable install yet

from indexer.db import make_engine
from risk import data, detect, evaluation, score
from risk.simulate import simulate, write_bulk


def _mirror(economy, directory: str, name: str) -> tuple[data.Mirror, dict]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{directory}/{name}.db")
    t = time.perf_counter()
    write_bulk(economy, engine)
    written = time.perf_counter() - t
    t = time.perf_counter()
    mirror = data.load(engine)
    return mirror, {"write_s": round(written, 2), "load_s": round(time.perf_counter() - t, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-seeds", default="1,2,3,4,5", help="Seeds whose rule precision/recall are pooled.")
    parser.add_argument("--firms", type=int, default=3000)
    parser.add_argument("--big-firms", type=int, default=100_000)
    args = parser.parse_args()
    out: dict = {"bench": "risk", "seed": args.seed, "firms": args.firms}
    with tempfile.TemporaryDirectory() as directory:
        economy = simulate(args.seed, args.firms)
        mirror, _ = _mirror(economy, directory, "eval")
        out["transfers"] = economy.transfers
        alerts = detect.run_rules(mirror)
        out["rules"] = {r: {k: round(v, 4) if isinstance(v, float) else v for k, v in f.items()}
                        for r, f in evaluation.evaluate(alerts, economy.truth.fraud).items()}
        pooled: dict[str, list[int]] = {r: [0, 0, 0] for r in detect.RULES}  # true positives, alerts, labels
        seeds = [int(v) for v in args.eval_seeds.split(",") if v]
        for seed in seeds:
            other = economy if seed == args.seed else simulate(seed, args.firms)
            found = alerts if seed == args.seed else detect.run_rules(_mirror(other, directory, f"s{seed}")[0])
            for rule in detect.RULES:
                subjects = {a.subject for a in found if a.rule == rule}
                labels = set(other.truth.fraud.get(rule, set()))
                pooled[rule][0] += len(subjects & labels)
                pooled[rule][1] += len(subjects)
                pooled[rule][2] += len(labels)
        out["rules_pooled"] = {"seeds": seeds, **{
            r: {"precision": round(tp / max(a, 1), 4), "recall": round(tp / max(lab, 1), 4), "alerts": a,
                "labels": lab} for r, (tp, a, lab) in pooled.items()}}
        x = score.features(mirror)
        y = pd.Series([economy.truth.default.get(a, 0) for a in x.index], index=x.index)
        test = score.train_split(x.index)
        t = time.perf_counter()
        model = score.fit(x[~test], y[~test])
        out["scorecard_fit_s"] = round(time.perf_counter() - t, 2)
        base = score.score_firms(model, mirror, x).frame["base"]
        auc, ks = score.auc_ks(y[test].to_numpy(), -base[test].to_numpy())
        oracle = np.array([economy.truth.pd[a] for a in x.index[test]])
        oauc, oks = score.auc_ks(y[test].to_numpy(), oracle)
        out["scorecard"] = {"auc": round(auc, 4), "ks": round(ks, 4), "test_firms": int(test.sum()),
                            "test_defaults": int(y[test].sum())}
        out["oracle"] = {"auc": round(oauc, 4), "ks": round(oks, 4)}
        out["calibration"] = score.calibration(y[test].to_numpy(), base[test].to_numpy())
        del economy, mirror

        if args.big_firms:
            t = time.perf_counter()
            big = simulate(args.seed, args.big_firms)
            out["big"] = {"firms": len(big.firms), "transfers": big.transfers, "invoices": len(big.rows["invoice"]),
                          "simulate_s": round(time.perf_counter() - t, 2)}
            mirror, io = _mirror(big, directory, "big")
            out["big"].update(io)
            labels = big.truth.fraud
            del big
            per_rule: dict[str, float] = {}
            big_alerts: list[detect.Alert] = []
            for name, rule in detect.RULES.items():
                t = time.perf_counter()
                big_alerts += rule(mirror)
                per_rule[name] = round(time.perf_counter() - t, 2)
            out["big"]["all_rules_s"] = round(sum(per_rule.values()), 2)
            out["big"]["rule_s"] = per_rule
            out["big"]["alerts"] = len(big_alerts)
            out["big"]["rules"] = {r: {"precision": round(f["precision"], 4), "recall": round(f["recall"], 4)}
                                   for r, f in evaluation.evaluate(big_alerts, labels).items()}
            # every firm of the big economy scored directly (features from the mirror, points, add-ons,
            # warnings, credit lines, reason codes), nothing extrapolated
            t = time.perf_counter()
            features = score.features(mirror)
            feature_s = time.perf_counter() - t
            t = time.perf_counter()
            scored = score.score_firms(model, mirror, features)
            score_s = time.perf_counter() - t
            out["score"] = {"firms": len(scored.frame), "features_s": round(feature_s, 2),
                            "score_s": round(score_s, 2), "total_s": round(feature_s + score_s, 2)}
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
