"""The credit report schema: a fixed list of integer-encoded fields, each at a fixed slot of a
16-leaf, 4-ary, depth-2 Poseidon tree. Slots without a field hold random decoys (indistinguishable from leaves).

The circuit (``zk/circuits/credit.circom``) hard-codes the keys and slots of the five fields it
proves predicates about (score, judgments, tax grade, revenue, report day); keep both in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

ARITY = 4  # every inner node is Poseidon of 4 children
TREE_DEPTH = 2
SLOTS = ARITY**TREE_DEPTH
U64 = (1 << 64) - 1


class TaxGrade(IntEnum):
    """Tax credit grade (the tax authority's A/B/M/C/D scale) as the circuit's 0..7 enum."""

    A = 0
    B = 1
    M = 2
    C = 3
    D = 4


def key_of(name: str) -> int:
    """A field's key in the tree: its name as a big-endian ASCII integer (< 2^248)."""
    raw = name.encode("ascii")
    if len(raw) > 31:
        raise ValueError(f"field name too long: {name}")
    return int.from_bytes(raw, "big")


@dataclass(frozen=True)
class Field:
    name: str
    slot: int
    max_value: int  # inclusive upper bound of the integer encoding
    doc: str

    @property
    def key(self) -> int:
        return key_of(self.name)


FIELDS: tuple[Field, ...] = (
    Field("credit_score", 0, 1000, "bureau credit score 0..1000"),
    Field("court_judgments", 1, U64, "count of adverse court judgments"),
    Field("tax_grade", 2, 7, "TaxGrade enum"),
    Field("annual_revenue_cents", 3, U64, "annual revenue, in cents"),
    Field("overdue_count", 4, U64, "count of overdue credit facilities"),
    Field("registered_capital_cents", 5, U64, "registered capital, in cents"),
    Field("social_insurance_headcount", 6, U64, "employees with social insurance"),
    Field("patents", 7, U64, "granted patents"),
    Field("report_day", 8, (1 << 32) - 1, "report date as days since 1970-01-01 (UTC)"),
    Field("subject_address", 9, (1 << 160) - 1, "the firm's account address"),
    Field("report_serial", 10, U64, "the bureau's report number"),
)
BY_NAME = {f.name: f for f in FIELDS}
DECOY_SLOTS = tuple(sorted(set(range(SLOTS)) - {f.slot for f in FIELDS}))
# The fields the predicate circuit reads, in its order.
CIRCUIT_FIELDS = ("credit_score", "court_judgments", "tax_grade", "annual_revenue_cents", "report_day")
