"""The fraud catalogue: every fraud pattern the simulator injects and the detectors look for, with
its thresholds. Written before the detectors (docs/risk-model.md explains each entry); the
detectors read their thresholds from here and never read the simulator's labels.

Each pattern lists the variants the simulator injects: the plain case, cases just inside every
threshold (which a detector must catch), and the altered copies (which the partial fingerprints
must catch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY = 86400


@dataclass(frozen=True)
class Pattern:
    rule: str
    title: str
    description: str
    thresholds: dict[str, float] = field(default_factory=dict)
    variants: tuple[str, ...] = ()


DUPLICATE_FINANCING = Pattern(
    rule="duplicate_financing",
    title="The same invoice financed with more than one lender",
    description=(
        "full: one payable (so the same full invoice fingerprints) financed by two or more lenders for more than "
        "its face value in total (bank-attested pledges keep the token with the holder). partial: two distinct "
        "invoices that share at least `min_shared_partials` partial fingerprint (an altered copy: other amount, "
        "number, date or currency) and back payables financed by different lenders."
    ),
    thresholds={"min_shared_partials": 1, "min_lenders": 2, "overfinance_ratio": 1.0},
    variants=("exact_overfinanced_slot", "copy_other_currency", "copy_altered_amount", "copy_altered_number",
              "copy_altered_date"),
)

CIRCULAR_TRADING = Pattern(
    rule="circular_trading",
    title="Circular trading among firms",
    description=(
        "A cycle of at most `max_cycle_length` firms in the seller->buyer invoice graph whose invoices all fall "
        "within `window_seconds` of each other."
    ),
    thresholds={"max_cycle_length": 5, "window_seconds": 30 * DAY, "min_cycle_length": 2},
    variants=("cycle_2", "cycle_3", "cycle_4", "cycle_5_at_window_edge"),
)

RELATED_PARTIES = Pattern(
    rule="related_parties",
    title="Related parties trading with each other",
    description=(
        "Firms linked by a shared shareholder, legal representative or funding address (union-find over the "
        "firm profiles) that trade with each other (an invoice between two members of the group)."
    ),
    thresholds={"min_group_size": 2, "min_internal_invoices": 1},
    variants=("shared_shareholder", "shared_legal_rep", "shared_funding_address"),
)

AMOUNT_ANOMALY = Pattern(
    rule="amount_anomaly",
    title="Inflated invoice amount",
    description=(
        "An invoice whose log amount has a robust z-score (median and MAD of the seller's invoices, "
        "0.6745 * (x - median) / MAD) above `z_threshold`, for sellers with at least `min_invoices` invoices. "
        "The MAD is floored at `mad_floor` (log units) so that a seller with very regular amounts is not flagged "
        "for a small deviation (the floor was added after the first evaluation; see docs/risk-model.md)."
    ),
    thresholds={"z_threshold": 3.5, "min_invoices": 5, "mad_floor": 0.25},
    variants=("inflated_x8", "inflated_x20"),
)

SPLIT_CHAIN = Pattern(
    rule="split_chain",
    title="Rapid split-and-transfer chain",
    description=(
        "A chain of at least `min_hops` value moves (splits or transfers to a new holder) of one payable, each "
        "starting from the token the previous one created, within `window_seconds` from first to last."
    ),
    thresholds={"min_hops": 4, "window_seconds": 2 * DAY},
    variants=("hops_4", "hops_6"),
)

LATE_FINANCING = Pattern(
    rule="late_financing",
    title="Financing just before maturity or after the debtor is delinquent",
    description=(
        "A financing within `days_before_maturity` days of its payable's maturity, or after the debtor had an "
        "overdue or default mark on any of its payables."
    ),
    thresholds={"days_before_maturity": 5 * DAY},
    variants=("near_maturity", "after_debtor_overdue"),
)

CATALOGUE: dict[str, Pattern] = {p.rule: p for p in (
    DUPLICATE_FINANCING, CIRCULAR_TRADING, RELATED_PARTIES, AMOUNT_ANOMALY, SPLIT_CHAIN, LATE_FINANCING)}
RULES: tuple[str, ...] = tuple(CATALOGUE)


def subject(kind: str, items: list | tuple | set) -> str:
    """The canonical subject of an alert: its kind and its sorted items (so the same facts always
    give the same subject, whoever computes it)."""
    return f"{kind}:" + ",".join(sorted(str(i) for i in items))
