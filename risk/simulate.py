"""The digital twin: a seeded supply-chain economy with labelled fraud (see risk/catalogue.py).

:func:`simulate` builds the economy as mirror rows (the indexer's tables, as the indexer would write
them) plus profiles and the ground truth; :func:`write_bulk` writes it straight into a mirror
database ("bulk mode"). The truth (fraud labels, the true default probability and the future
default outcome) is returned to the caller and never written to the database, so the detectors and
the scorecard cannot read it.

Model: core enterprises (tier 0) buy from tier-1 suppliers, tier 1 from tier 2, tier 2 from tier 3;
firm sizes are Pareto (power-law); each firm has a latent quality ``q ~ N(0, 1)`` that drives its
profile (age, capital, tax grade, judgments, headcount, patents, R&D), its payment behaviour and its
true probability of default ``pd = sigmoid(a + b q + c tier)``. Cores confirm monthly payables to
tier-1 suppliers (one token per payable), tier-1 pays its tier-2 suppliers by splitting its claims,
tier 2 pays tier 3 the same way; holders discount claims with lenders or pledge them; at maturity
good cores pay on time, weak cores late (overdue marks), one core may default (scenario).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from risk.catalogue import CATALOGUE, DAY, subject

T0 = 1_767_225_600  # 2026-01-01 UTC
BLOCK_SECONDS = 12
SLOT_BASE = 10**9
UNIT = 10**6
ZERO = "0x" + "0" * 40
KEY = b"simulator-consortium-key-0123456"
GRACE, DEFAULT_PERIOD = 7 * DAY, 90 * DAY


@dataclass
class Firm:
    address: str
    tier: int
    size: float
    q: float
    kind: str = "firm"  # firm | shell | lender | bureau
    late: float = 0.0  # probability of paying late
    buyers: list[str] = field(default_factory=list)


@dataclass
class Truth:
    """Ground truth, for scoring the detectors and the scorecard (never stored in the mirror)."""

    fraud: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # rule -> subjects
    variants: dict[tuple[str, str], str] = field(default_factory=dict)  # (rule, subject) -> variant
    pd: dict[str, float] = field(default_factory=dict)  # true 12-month default probability
    default: dict[str, int] = field(default_factory=dict)  # realized default in the next period
    tier: dict[str, int] = field(default_factory=dict)
    defaulted_core: str | None = None
    near_misses: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # benign cases by kind


@dataclass
class Economy:
    seed: int
    rows: dict[str, list[dict[str, Any]]]
    profiles: list[dict[str, Any]]
    truth: Truth
    firms: dict[str, Firm]
    lenders: list[str]
    bureau: str
    end_time: int
    invoice_terms: dict[str, tuple[str, str]] = field(default_factory=dict)  # fingerprint -> (number, currency)

    @property
    def transfers(self) -> int:
        return len(self.rows["value_move"]) + len(self.rows["token_transfer"])


def _address(seed: int, label: str) -> str:
    return "0x" + hashlib.sha256(f"{seed}|{label}".encode()).hexdigest()[:40]


def _fp(label: str, *parts: object) -> str:
    message = "\x1f".join((label, *map(str, parts))).encode()
    return "0x" + hashlib.blake2b(message, key=KEY, digest_size=32).hexdigest()


def prints(seller: str, buyer: str, number: str, amount: int, currency: str, day: int) -> tuple[str, str, str, str]:
    """Full and partial fingerprints, in the manner of ledger.fingerprint (simplified normalisation)."""
    return (_fp("full", seller, buyer, number, amount, currency, day), _fp("sbad", seller, buyer, amount, day),
            _fp("sn", seller, number), _fp("bna", buyer, number, amount))


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.logs: dict[int, int] = defaultdict(int)
        self.slot = 0
        self.serial: dict[int, int] = defaultdict(int)
        self.holdings: dict[int, dict[str, Any]] = {}
        self.financing_id = 0
        self.invoice_no: dict[str, int] = defaultdict(int)
        self.tx = 0
        self.seed = seed

    def pos(self, t: int) -> dict[str, Any]:
        block = 1 + (int(t) - T0) // BLOCK_SECONDS
        index = self.logs[block]
        self.logs[block] += 1
        self.tx += 1
        return {"block_number": block, "log_index": index, "tx_hash": f"0x{self.tx:064x}",
                "block_timestamp": T0 + (block - 1) * BLOCK_SECONDS}

    @staticmethod
    def block(t: int) -> int:
        return 1 + (int(t) - T0) // BLOCK_SECONDS

    def invoice(self, seller: str, buyer: str, amount: int, t: int, *, slot: int = 0, number: str | None = None,
                currency: str = "CNY", day: int | None = None) -> dict[str, Any]:
        if number is None:
            self.invoice_no[seller] += 1
            number = f"INV{self.invoice_no[seller]:07d}"
        day = int(t // DAY) if day is None else day
        full, p1, p2, p3 = prints(seller, buyer, number, amount, currency, day)
        row = {"fingerprint": full, "seller": seller, "buyer": buyer, "asset": "0xasset", "amount": amount,
               "issue_date": day * DAY, "document_hash": _fp("doc", full), "partial_fingerprint_1": p1,
               "partial_fingerprint_2": p2, "partial_fingerprint_3": p3, "status": 3 if slot else 2,
               "registered_at": int(t), "slot": slot, "voided_by": None, "void_reason": None,
               "block_number": self.block(t), "final": True}
        self.rows["invoice"].append(row)
        row["_number"], row["_currency"] = number, currency
        return row

    def issue(self, debtor: str, holder: str, face: int, t: int, maturity: int) -> tuple[int, int]:
        self.slot += 1
        slot = self.slot
        token = self.mint(slot, holder, t, face, kind=0, source=0)
        self.rows["payable"].append({
            "slot": slot, "debtor": debtor, "first_holder": holder, "first_token_id": token, "asset": "0xasset",
            "face_value": face, "maturity": maturity, "grace_period": GRACE, "default_period": DEFAULT_PERIOD,
            "issued_at": int(t), "redeemed_value": 0, "accepted": True, "status": 0, "marked": 0,
            "cumulative_paid": 0, "paid_out": 0, "written_off": 0, "block_number": self.block(t), "final": True})
        return slot, token

    def mint(self, slot: int, owner: str, t: int, value: int, *, kind: int, source: int) -> int:
        self.serial[slot] += 1
        token = slot * SLOT_BASE + self.serial[slot]
        self.rows["token_transfer"].append({**self.pos(t), "token_id": token, "from_address": ZERO, "to_address": owner,
                                            "final": True})
        self.rows["value_move"].append({**self.pos(t), "slot": slot, "from_token_id": source, "to_token_id": token,
                                        "value": value, "kind": kind, "final": True})
        self.holdings[token] = {"token_id": token, "slot": slot, "owner": owner, "value": value, "frozen": 0,
                                "encumbered": 0, "paid": 0, "approved": None, "burned": False,
                                "block_number": self.block(t), "final": True}
        if source:
            self.holdings[source]["value"] -= value
            self.holdings[source]["block_number"] = self.block(t)
        return token

    def split(self, token: int, to: str, value: int, t: int) -> int:
        return self.mint(token // SLOT_BASE, to, t, value, kind=2, source=token)

    def finance(self, lender: str, holder: str, token: int, value: int, t: int, *, kind: int = 0,
                settlement: int = 0, status: int | None = None) -> int:
        self.financing_id += 1
        lender_token = 0
        if kind == 0:
            lender_token = self.split(token, lender, value, t)
        price = int(value * 0.97)
        self.rows["financing"].append({
            "financing_id": self.financing_id, "lender": lender, "holder": holder, "token_id": token,
            "lender_token_id": lender_token, "value": value, "price": price, "fee": 0, "kind": kind,
            "settlement": settlement, "recourse": False, "bank_reference": "0x" + "0" * 64,
            "status": (1 if kind == 1 else 0) if status is None else status, "start": int(t) if kind == 1 else 0,
            "repaid_by": None, "repaid_principal": None, "repaid_interest": None, "seized_token_id": None,
            "recourse_slot": None, "recourse_token_id": None, "recourse_unpaid": None,
            "block_number": self.block(t), "final": True})
        return self.financing_id


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def simulate(seed: int = 1, n_firms: int = 300, *, n_lenders: int = 4, days: int = 360,
             fraud_scale: float = 1.0, core_default: bool = True) -> Economy:
    """A seeded economy of about ``n_firms`` firms over ``days`` days, with labelled fraud."""
    rng = np.random.default_rng(seed)
    b = _Builder(seed)
    truth = Truth()
    end = T0 + days * DAY
    n_cores = max(2, n_firms // 40)
    rest = n_firms - n_cores
    counts = [n_cores, max(2, rest * 2 // 10), max(2, rest * 3 // 10)]
    counts.append(max(2, rest - counts[1] - counts[2]))
    firms: dict[str, Firm] = {}
    by_tier: list[list[str]] = [[] for _ in range(4)]
    for tier, count in enumerate(counts):
        for i in range(count):
            address = _address(seed, f"firm-{tier}-{i}")
            size = float((rng.pareto(1.6) + 1.0) * (8.0 if tier == 0 else 1.0 / (1 + 0.5 * tier)))
            q = float(rng.normal())
            firms[address] = Firm(address, tier, size, q, late=float(_sigmoid(-2.2 - 1.5 * q)))
            by_tier[tier].append(address)
    lenders = [_address(seed, f"lender-{i}") for i in range(n_lenders)]
    bureau = _address(seed, "bureau")

    # Supply links: each supplier sells to 1-2 buyers one tier up, preferring large ones.
    for tier in (1, 2, 3):
        ups = by_tier[tier - 1]
        weights = np.array([firms[a].size for a in ups])
        weights = weights / weights.sum()
        for address in by_tier[tier]:
            k = 1 if rng.random() < 0.6 or len(ups) == 1 else 2
            firms[address].buyers = [ups[int(i)] for i in rng.choice(len(ups), size=k, replace=False, p=weights)]

    # True default model (the oracle) and the realized outcome of the next period.
    for address, firm in firms.items():
        pd = _sigmoid(-3.2 - 1.4 * firm.q + 0.25 * firm.tier - 0.15 * math.log(firm.size))
        truth.pd[address] = pd
        truth.default[address] = int(rng.random() < pd)
        truth.tier[address] = firm.tier

    # Who defaults now: the weakest core (scenario), at a date after which its payables are unpaid.
    cores = by_tier[0]
    defaulted_core = min(cores, key=lambda a: firms[a].q) if core_default else None
    truth.defaulted_core = defaulted_core
    default_from = T0 + int(days * 0.6) * DAY

    # ---------------------------------------------------------------- trade
    # Tier-1 invoices to cores, monthly payables per (supplier, core); lower tiers get paid by splits.
    payables: list[dict[str, Any]] = []  # slot, token, debtor, holder, face, issued, maturity
    supplier_invoices: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for address in by_tier[1]:
        firm = firms[address]
        base = max(5_000.0, 40_000.0 * firm.size * float(rng.lognormal(0, 0.5)))
        for buyer in firm.buyers:
            typical = base * float(rng.lognormal(0, 0.15))
            for month in range(int(days // 30) - 3):
                if rng.random() > min(0.95, 0.5 + 0.1 * firm.size):
                    continue
                t = T0 + month * 30 * DAY + int(rng.integers(0, 20 * DAY))
                n_inv = 1 + int(rng.poisson(1.5))
                amounts = [int(typical * float(rng.lognormal(0, 0.3))) * UNIT for _ in range(n_inv)]
                face = sum(amounts)
                maturity = t + int(rng.integers(60, 121)) * DAY
                slot, token = b.issue(buyer, address, face, t + DAY, maturity)
                for amount in amounts:
                    inv = b.invoice(address, buyer, amount, t, slot=slot)
                    supplier_invoices[address].append(inv)
                payables.append({"slot": slot, "token": token, "debtor": buyer, "holder": address, "face": face,
                                 "issued": t + DAY, "maturity": maturity})

    # Splits down the tiers: a holder pays each of its suppliers part of one of its claims.
    held: dict[str, list[int]] = defaultdict(list)  # firm -> tokens (in order of creation)
    token_time: dict[int, int] = {}
    token_maturity: dict[int, int] = {}
    for p in payables:
        held[p["holder"]].append(p["token"])
        token_time[p["token"]] = p["issued"]
        token_maturity[p["token"]] = p["maturity"]
    for tier in (2, 3):
        for address in by_tier[tier]:
            firm = firms[address]
            base = max(1_000.0, 15_000.0 * firm.size * float(rng.lognormal(0, 0.5)))
            for buyer in firm.buyers:
                typical = base * float(rng.lognormal(0, 0.15))
                tokens = list(held[buyer])
                if not tokens:
                    continue
                for token in tokens[:: 1 + int(rng.integers(0, 2))]:
                    value = b.holdings[token]["value"]
                    amount = int(typical * float(rng.lognormal(0, 0.3))) * UNIT
                    if amount >= value * 0.5:
                        continue
                    t = token_time[token] + int(rng.integers(3, 15)) * DAY
                    if t > token_maturity[token] - 20 * DAY:
                        continue
                    b.invoice(address, buyer, amount, t - DAY)
                    new = b.split(token, address, amount, t)
                    held[address].append(new)
                    token_time[new] = t
                    token_maturity[new] = token_maturity[token]

    # ------------------------------------------------------------ settlement
    # Delinquency intervals per debtor (an honest lender does not finance a debtor while delinquent).
    delinquent: dict[str, list[tuple[int, int]]] = defaultdict(list)
    settle_plan: dict[int, tuple[int | None, bool]] = {}  # slot -> (pay time or None, marked overdue)
    for p in payables:
        debtor = firms[p["debtor"]]
        due = p["maturity"]
        if p["debtor"] == defaulted_core and due >= default_from:
            settle_plan[p["slot"]] = (None, True)
            delinquent[p["debtor"]].append((due + GRACE, 2**62))
        elif rng.random() < debtor.late:
            paid = due + GRACE + int(rng.integers(2, 30)) * DAY
            settle_plan[p["slot"]] = (paid, True)
            delinquent[p["debtor"]].append((due + GRACE, paid))
        else:
            settle_plan[p["slot"]] = (due - int(rng.integers(0, 3)) * DAY, False)

    spans = {debtor: _Spans(intervals) for debtor, intervals in delinquent.items()}

    def is_delinquent(debtor: str, t: int) -> bool:
        return debtor in spans and spans[debtor].overlaps(t, t + 1)

    # ------------------------------------------------------------- financing
    # Holders discount or pledge some claims, at least 15 days before maturity, with debtors in good standing.
    loans: list[tuple[int, str, int]] = []
    for address, tokens in sorted(held.items()):
        firm = firms[address]
        need = _sigmoid(-0.5 - 0.6 * firm.q)
        for token in tokens:
            if rng.random() > need * 0.6:
                continue
            slot = token // SLOT_BASE
            debtor = next(p["debtor"] for p in (payables[slot - 1],))
            t = token_time[token] + int(rng.integers(1, 6)) * DAY
            if t > token_maturity[token] - 15 * DAY or is_delinquent(debtor, t) or t > end:
                continue
            lender = lenders[int(rng.integers(0, len(lenders)))]
            value = b.holdings[token]["value"]
            if rng.random() < 0.6:
                b.finance(lender, address, token, int(value * float(rng.uniform(0.3, 0.9))), t)
            else:
                fid = b.finance(lender, address, token, int(value * 0.8), t, kind=1)
                b.holdings[token]["encumbered"] = int(value * 0.8)
                loans.append((fid, address, token_maturity[token]))

    # Loan repayments: good borrowers repay by maturity, weak ones late, some never (seized).
    for fid, borrower, due in loans:
        row = b.rows["financing"][fid - 1]
        q = firms[borrower].q
        r = rng.random()
        if r < _sigmoid(-3.5 - 1.5 * q):
            when = due + 30 * DAY
            if when < end:
                row.update(status=3, block_number=b.block(when))
        else:
            late = rng.random() < _sigmoid(-1.8 - 1.5 * q)
            when = due - 5 * DAY + (int(rng.integers(8, 40)) * DAY if late else 0)
            if when < end:
                row.update(status=2, repaid_by=borrower, repaid_principal=row["value"], repaid_interest=0,
                           block_number=b.block(when))
    _settle(b, payables, settle_plan, end)

    # ----------------------------------------------------------------- fraud
    rings = _inject_fraud(b, rng, truth, firms, by_tier, lenders, payables, supplier_invoices, delinquent, end,
                          fraud_scale, seed)

    # -------------------------------------------------------------- profiles
    profiles = _profiles(rng, firms, bureau, seed)
    _relate(rng, truth, firms, b.rows["invoice"], profiles, rings, fraud_scale)

    # Organisations and roles.
    for address, firm in firms.items():
        b.rows["organization"].append({"address": address, "name_hash": _fp("name", address),
                                       "valid_until": end + 3650 * DAY, "admitted_at": T0 - DAY,
                                       "block_number": 1, "final": True})
        role = "CORE_ENTERPRISE" if firm.tier == 0 else "SUPPLIER"
        b.rows["role_member"].append({"role": role, "account": address, "role_name": role, "block_number": 1,
                                      "final": True})
    for address in lenders:
        b.rows["organization"].append({"address": address, "name_hash": _fp("name", address),
                                       "valid_until": end + 3650 * DAY, "admitted_at": T0 - DAY, "block_number": 1,
                                       "final": True})
        b.rows["role_member"].append({"role": "LENDER", "account": address, "role_name": "LENDER", "block_number": 1,
                                      "final": True})
    b.rows["role_member"].append({"role": "CREDIT_BUREAU", "account": bureau, "role_name": "CREDIT_BUREAU",
                                  "block_number": 1, "final": True})
    b.rows["holding"] = list(b.holdings.values())
    terms = {row["fingerprint"]: (row.pop("_number"), row.pop("_currency")) for row in b.rows["invoice"]}
    return Economy(seed, dict(b.rows), profiles, truth, firms, lenders, bureau, end, terms)


def _settle(b: _Builder, payables: list[dict], plan: dict[int, tuple[int | None, bool]], end: int) -> None:
    rows = b.rows["payable"]
    for p in payables:
        row = rows[p["slot"] - 1]
        paid_at, marked = plan[p["slot"]]
        if marked and p["maturity"] + GRACE < end:
            b.rows["slot_mark"].append({**b.pos(p["maturity"] + GRACE), "slot": p["slot"], "mark": "overdue",
                                        "outstanding": p["face"], "final": True})
            row.update(status=1, marked=1, block_number=b.block(p["maturity"] + GRACE))
            if paid_at is None and p["maturity"] + GRACE + DEFAULT_PERIOD < end:
                at = p["maturity"] + GRACE + DEFAULT_PERIOD
                b.rows["slot_mark"].append({**b.pos(at), "slot": p["slot"], "mark": "defaulted",
                                            "outstanding": p["face"], "final": True})
                row.update(status=2, marked=2, block_number=b.block(at))
        if paid_at is not None and paid_at < end:
            b.rows["deposit"].append({**b.pos(paid_at), "slot": p["slot"], "payer": p["debtor"], "amount": p["face"],
                                      "cumulative_paid": p["face"], "final": True})
            row.update(status=3, cumulative_paid=p["face"], block_number=b.block(paid_at))


class _Spans:
    """Half-open intervals [a, z), asked whether any overlaps [lo, hi) in O(log n)."""

    def __init__(self, intervals: list[tuple[int, int]]) -> None:
        ordered = sorted(intervals)
        self.starts = [a for a, _ in ordered]
        self.reach = list(itertools.accumulate((z for _, z in ordered), max))

    def overlaps(self, lo: int, hi: int) -> bool:
        i = bisect.bisect_left(self.starts, hi)  # the intervals starting before hi
        return i > 0 and self.reach[i - 1] > lo


def _pick(rng: np.random.Generator, items: list, k: int = 1) -> list:
    if not items:
        return []
    idx = rng.choice(len(items), size=min(k, len(items)), replace=False)
    return [items[int(i)] for i in idx]


def _label(truth: Truth, rule: str, subj: str, variant: str) -> None:
    assert variant in CATALOGUE[rule].variants, (rule, variant)
    truth.fraud[rule].add(subj)
    truth.variants[(rule, subj)] = variant


def _inject_fraud(b: _Builder, rng: np.random.Generator, truth: Truth, firms: dict[str, Firm],
                  by_tier: list[list[str]], lenders: list[str], payables: list[dict],
                  supplier_invoices: dict[str, list[dict]], delinquent: dict[str, list[tuple[int, int]]],
                  end: int, scale: float, seed: int) -> list[list[str]]:
    rings: list[list[str]] = []
    n = max(2, round(len(firms) / 100 * scale))
    by_slot: dict[int, list[dict]] = defaultdict(list)
    by_seller: dict[str, list[int]] = defaultdict(list)
    for row in b.rows["invoice"]:
        by_slot[row["slot"]].append(row)
        by_seller[row["seller"]].append(row["amount"])
    financed_slots = {r["token_id"] // SLOT_BASE for r in b.rows["financing"]}
    fresh = [p for p in payables if p["slot"] not in financed_slots and p["maturity"] - 40 * DAY > p["issued"]
             and p["issued"] + 20 * DAY < end]
    rng.shuffle(fresh)  # type: ignore[arg-type]
    # Each fraud gets its own payable, of a debtor in good standing throughout (so the patterns don't overlap).
    spans = {debtor: _Spans(intervals) for debtor, intervals in delinquent.items()}
    clean = [p for p in fresh if not (p["debtor"] in spans and spans[p["debtor"]].overlaps(p["issued"], p["maturity"]))]
    cursor = iter(clean)

    # Duplicate financing, exact: one payable pledged to two lenders off-token (bank-attested), 1.6x its face.
    for _ in range(n):
        p = next(cursor, None)
        if p is None:
            break
        l1, l2 = _pick(rng, lenders, 2)
        t = p["issued"] + 5 * DAY
        b.finance(l1, p["holder"], p["token"], int(p["face"] * 0.8), t, kind=1, settlement=1)
        b.finance(l2, p["holder"], p["token"], int(p["face"] * 0.8), t + DAY, kind=1, settlement=1)
        _label(truth, "duplicate_financing", subject("token", [p["token"]]), "exact_overfinanced_slot")

    # Duplicate financing, altered copies: the copy backs a second payable; original and copy financed by
    # different lenders.
    variants = ("copy_other_currency", "copy_altered_amount", "copy_altered_number", "copy_altered_date")
    for i in range(n * 2):
        p = next(cursor, None)
        if p is None:
            break
        original = by_slot[p["slot"]][0]
        variant = variants[i % len(variants)]
        number, amount, day, currency = original["_number"], original["amount"], original["issue_date"] // DAY, "CNY"
        if variant == "copy_other_currency":
            currency = "USD"
        elif variant == "copy_altered_amount":
            amount = amount + 1000 * UNIT
        elif variant == "copy_altered_number":
            number = number + "A"
        else:
            day += 1
        t = p["issued"] + 2 * DAY
        slot2, token2 = b.issue(p["debtor"], p["holder"], amount, t, p["maturity"])
        copy = b.invoice(original["seller"], original["buyer"], amount, t, slot=slot2, number=number,
                         currency=currency, day=day)
        l1, l2 = _pick(rng, lenders, 2)
        b.finance(l1, p["holder"], p["token"], int(b.holdings[p["token"]]["value"] * 0.7), t + DAY)
        b.finance(l2, p["holder"], token2, int(amount * 0.7), t + DAY)
        _label(truth, "duplicate_financing", subject("invoices", [original["fingerprint"], copy["fingerprint"]]),
               variant)

    # Circular trading: rings of one real supplier and shell firms, invoices around the ring within the window.
    window = int(CATALOGUE["circular_trading"].thresholds["window_seconds"])
    taken: set[str] = set()
    for i in range(max(n, 4)):
        length = 2 + i % 4
        anchor = next(a for a in _pick(rng, by_tier[2] + by_tier[3], 10 + i) if a not in taken)
        taken.add(anchor)
        ring = [anchor] + [_address(seed, f"shell-{i}-{j}") for j in range(length - 1)]
        for j, address in enumerate(ring[1:]):
            firms[address] = Firm(address, 3, 0.3, float(rng.normal(-1.0, 0.5)), kind="shell")
            truth.pd[address] = _sigmoid(-2.6 - 1.4 * firms[address].q + 0.75)
            truth.default[address] = int(rng.random() < truth.pd[address])
            truth.tier[address] = 3
            firms[address].buyers = [ring[(j + 2) % length]]
        start = T0 + int(rng.integers(30, min(300, (end - T0) // DAY - 60))) * DAY  # the ring closes before the end
        spread = window - DAY if length == 5 else int(rng.integers(2, 20)) * DAY
        own = sorted(by_seller[anchor])
        typical = own[len(own) // 2] if own else 20_000 * UNIT
        amount = int(typical * float(rng.uniform(0.8, 1.3))) // UNIT * UNIT  # mimics the anchor's usual amounts
        for j in range(length):
            t = start + (spread * j) // max(length - 1, 1)
            b.invoice(ring[j], ring[(j + 1) % length], amount + j * UNIT, t)
        _label(truth, "circular_trading", subject("firms", ring), f"cycle_{length}" if length < 5
               else "cycle_5_at_window_edge")
        rings.append(ring)

    # Inflated amounts: one invoice at 8-20x the seller's typical amount.
    sellers = [s for s, invs in supplier_invoices.items() if len(invs) >= 6]
    for i, seller in enumerate(_pick(rng, sellers, n)):
        invs = supplier_invoices[seller]
        median = sorted(r["amount"] for r in invs)[len(invs) // 2]
        factor = 8 if i % 2 == 0 else 20
        inv = b.invoice(seller, invs[0]["buyer"], int(median * factor), invs[-1]["registered_at"] + DAY)
        _label(truth, "amount_anomaly", subject("invoice", [inv["fingerprint"]]), f"inflated_x{factor}")

    # Rapid split-and-transfer chains: 4 or 6 hops through unrelated firms within the window.
    pool = by_tier[1] + by_tier[2] + by_tier[3]
    window = int(CATALOGUE["split_chain"].thresholds["window_seconds"])
    for i in range(n):
        p = next(cursor, None)
        if p is None:
            break
        hops = 4 if i % 2 == 0 else 6
        t = p["issued"] + 3 * DAY
        token = p["token"]
        value = b.holdings[token]["value"] // 2
        chain = _pick(rng, pool, hops)
        for j, to in enumerate(chain):
            value = int(value * 0.95)
            token = b.split(token, to, value, t + (window - 3600) * j // hops)
        _label(truth, "split_chain", subject("token", [p["token"]]), f"hops_{hops}")

    # Late financing: just before maturity, or of a debtor currently delinquent.
    limit = int(CATALOGUE["late_financing"].thresholds["days_before_maturity"])
    for i in range(n):
        p = next(cursor, None)
        if p is None:
            break
        lender = _pick(rng, lenders)[0]
        t = p["maturity"] - (limit - 3600 if i % 2 == 0 else int(rng.integers(1, 4)) * DAY)
        if t >= end:
            continue
        fid = b.finance(lender, p["holder"], p["token"], b.holdings[p["token"]]["value"] // 2, t)
        _label(truth, "late_financing", subject("financing", [fid]), "near_maturity")
    fresh_by_debtor: dict[str, list[dict]] = defaultdict(list)
    for p in fresh:
        fresh_by_debtor[p["debtor"]].append(p)
    for _debtor, spans in sorted(delinquent.items()):
        for start, stop in spans[:1]:
            t = start + 2 * DAY
            if t >= min(stop, end):
                continue
            candidates = [p for p in fresh_by_debtor[_debtor] if p["issued"] < t < p["maturity"] - 20 * DAY
                          and b.holdings[p["token"]]["value"] > 0]
            if not candidates:
                continue
            p = candidates[0]
            fid = b.finance(_pick(rng, lenders)[0], p["holder"], p["token"], b.holdings[p["token"]]["value"] // 3, t)
            _label(truth, "late_financing", subject("financing", [fid]), "after_debtor_overdue")
    _near_misses(b, rng, truth, firms, by_tier, lenders, cursor, by_seller, by_slot, end, n, seed)
    return rings


def _near_misses(b: _Builder, rng: np.random.Generator, truth: Truth, firms: dict[str, Firm],
                 by_tier: list[list[str]],
                 lenders: list[str], cursor, by_seller: dict[str, list[int]],  # type: ignore[no-untyped-def]
                 by_slot: dict[int, list[dict]], end: int, n: int, seed: int) -> None:
    """Honest behaviour just on the safe side of every threshold (not labelled as fraud)."""
    pool = by_tier[1] + by_tier[2] + by_tier[3]
    split_window = CATALOGUE["split_chain"].thresholds["window_seconds"]
    for i in range(n):
        p = next(cursor, None)
        if p is None:
            return
        token, t = p["token"], p["issued"] + 3 * DAY
        value = b.holdings[token]["value"] // 2
        # even: one hop short of the threshold, within the window; odd: enough hops, spread past the window
        times = [t, t + 3600, t + 7200] if i % 2 == 0 else [t + int(k * 0.45 * split_window) for k in range(4)]
        for when, to in zip(times, _pick(rng, pool, len(times)), strict=False):
            value = int(value * 0.95)
            token = b.split(token, to, value, when)
        truth.near_misses["split_chain"] += 1
    limit = int(CATALOGUE["late_financing"].thresholds["days_before_maturity"])
    for _ in range(n):
        p = next(cursor, None)
        if p is None:
            return
        t = p["maturity"] - limit - DAY
        if t < end:
            b.finance(_pick(rng, lenders)[0], p["holder"], p["token"], b.holdings[p["token"]]["value"] // 2, t)
            truth.near_misses["late_financing"] += 1
    window = int(CATALOGUE["circular_trading"].thresholds["window_seconds"])
    for i in range(max(1, n // 2)):
        ring = [_address(seed, f"slow-ring-{i}-{j}") for j in range(3)]
        for j, address in enumerate(ring):
            firms[address] = Firm(address, 3, 0.5, float(rng.normal()), buyers=[ring[(j + 1) % 3]])
            truth.pd[address] = _sigmoid(-3.2 - 1.4 * firms[address].q + 0.75)
            truth.default[address] = int(rng.random() < truth.pd[address])
            truth.tier[address] = 3
        start = T0 + int(rng.integers(10, min(200, (end - T0) // DAY - 60))) * DAY
        for j in range(3):  # legs spread over 1.4 windows: no 30-day window holds all three
            b.invoice(ring[j], ring[(j + 1) % 3], 80_000 * UNIT + j * UNIT, start + j * int(0.7 * window))
        truth.near_misses["circular_trading"] += 1
    sellers = sorted(s for s, amounts in by_seller.items() if len(amounts) >= 6)
    for seller in _pick(rng, sellers, n):
        median = sorted(by_seller[seller])[len(by_seller[seller]) // 2]
        b.invoice(seller, firms[seller].buyers[0], int(median * 2.5), end - 10 * DAY)
        truth.near_misses["amount_anomaly"] += 1
    for _ in range(n):  # a repeat order: same seller, buyer and amount, another number and date, two lenders
        p = next(cursor, None)
        if p is None:
            return
        t = p["issued"] + 2 * DAY
        amount = by_slot[p["slot"]][0]["amount"]
        slot2, token2 = b.issue(p["debtor"], p["holder"], amount, t, p["maturity"])
        b.invoice(p["holder"], p["debtor"], amount, t, slot=slot2)
        l1, l2 = _pick(rng, lenders, 2)
        b.finance(l1, p["holder"], p["token"], b.holdings[p["token"]]["value"] // 3, t + DAY)
        b.finance(l2, p["holder"], token2, amount // 3, t + DAY)
        truth.near_misses["duplicate_financing"] += 1


def _profiles(rng: np.random.Generator, firms: dict[str, Firm], bureau: str, seed: int) -> list[dict[str, Any]]:
    out = []
    people = max(10_000, 500 * len(firms))
    for address, firm in firms.items():
        q = firm.q
        age_years = float(np.clip(math.exp(1.6 + 0.45 * q + rng.normal(0, 0.4)), 0.3, 40))
        if firm.kind == "shell":
            age_years = float(rng.uniform(0.2, 1.2))
        grade_score = q + rng.normal(0, 0.7)
        grade = "A" if grade_score > 1.0 else "B" if grade_score > 0 else "C" if grade_score > -1.0 else "D"
        if grade_score < -2.2:
            grade = "M"
        shareholders = [f"P{int(rng.integers(0, people))}" for _ in range(1 + int(rng.integers(0, 3)))]
        facts = {
            "address": address,
            "registered_on": int(T0 - age_years * 365 * DAY),
            "registered_capital": int(1_000_000 * firm.size * math.exp(0.3 * q + rng.normal(0, 0.5))),
            "shareholders": shareholders,
            "legal_representative": f"P{int(rng.integers(0, people))}",
            "funding_address": _address(seed, f"funder-{int(rng.integers(0, people))}"),
            "tax_grade": grade,
            "court_judgments": int(rng.poisson(math.exp(-0.6 - 0.9 * q))),
            "social_insurance_headcount": int(max(1, 30 * firm.size * math.exp(0.2 * q + rng.normal(0, 0.4)))),
            "patents": int(rng.poisson(math.exp(0.2 + 0.5 * q - 0.4 * firm.tier) * min(firm.size, 20))),
            "rd_spend": int(max(0.0, 200_000 * firm.size * math.exp(0.4 * q + rng.normal(0, 0.6)))),
        }
        out.append({"facts": facts, "submitted_by": bureau, "submitted_at": T0, "source": "simulator"})
    return out


def _relate(rng: np.random.Generator, truth: Truth, firms: dict[str, Firm], invoices: list[dict[str, Any]],
            profiles: list[dict[str, Any]], rings: list[list[str]], scale: float) -> None:
    """Related parties: ring members share a shareholder, legal representative or funding address; a few
    honest trading pairs are related too (a group's subsidiaries)."""
    facts = {p["facts"]["address"]: p["facts"] for p in profiles}
    links = ("shared_shareholder", "shared_legal_rep", "shared_funding_address")
    groups = [list(r) for r in rings]
    n = max(2, round(len(firms) / 100 * scale))
    in_rings = {a for r in rings for a in r}
    pairs = sorted({(r["seller"], r["buyer"]) for r in invoices if firms[r["seller"]].tier >= 2
                    and firms[r["seller"]].kind == "firm" and r["seller"] not in in_rings
                    and r["buyer"] not in in_rings})
    used: set[str] = set()
    for seller, buyer in _pick(rng, pairs, 3 * n):
        if len(groups) >= len(rings) + n:
            break
        if seller in used or buyer in used:
            continue
        used.update((seller, buyer))
        groups.append([seller, buyer])
    for i, group in enumerate(groups):
        how = links[i % 3]
        person = f"R{i}"
        for address in group:
            if how == "shared_shareholder":
                facts[address]["shareholders"] = [*facts[address]["shareholders"], person]
            elif how == "shared_legal_rep":
                facts[address]["legal_representative"] = person
            else:
                facts[address]["funding_address"] = "0x" + hashlib.sha256(person.encode()).hexdigest()[:40]
        _label(truth, "related_parties", subject("firms", group), how)


_TABLES = {
    "organization": "Organization", "role_member": "RoleMember", "invoice": "Invoice", "payable": "Payable",
    "holding": "Holding", "value_move": "ValueMove", "token_transfer": "TokenTransfer", "financing": "Financing",
    "deposit": "Deposit", "slot_mark": "SlotMark",
}


def write_bulk(economy: Economy, engine: Any, *, chunk: int = 20_000) -> dict[str, int]:
    """Write the economy into the mirror's tables (the schema brought up by the indexer's migrations)
    and the simulator's firm profiles; returns rows written per table."""
    from sqlalchemy import insert

    from indexer import models
    from indexer.db import upgrade
    from risk.models import FirmProfile
    from risk.models import upgrade as upgrade_risk_tables
    from risk.profiles import document_hash

    upgrade(engine)
    upgrade_risk_tables(engine)
    written = {}
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # random-key index inserts: keep the B-trees in memory (1 GiB)
            conn.exec_driver_sql("PRAGMA cache_size=-1048576")
        for key, name in _TABLES.items():
            rows = economy.rows.get(key, [])
            table = getattr(models, name).__table__
            for i in range(0, len(rows), chunk):
                conn.execute(insert(table), rows[i:i + chunk])
            written[key] = len(rows)
        profile_rows = [{**p["facts"], "source": p["source"], "submitted_by": p["submitted_by"],
                         "submitted_at": p["submitted_at"], "document_hash": document_hash(p["facts"])}
                        for p in economy.profiles]
        for i in range(0, len(profile_rows), chunk):
            conn.execute(insert(FirmProfile.__table__), profile_rows[i:i + chunk])  # type: ignore[attr-defined]
        written["risk_firm_profile"] = len(profile_rows)
    return written
