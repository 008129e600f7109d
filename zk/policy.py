"""A lender's credit policy: the operands of the predicate circuit and their Poseidon hash.

One circuit covers every policy: an operand that should not restrict sets its neutral value
(``min_score=0``, ``max_judgments=2**64-1``, ``tax_mask=0xff``, ``revenue 0..2**64-1``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from zk.poseidon import poseidon
from zk.schema import U64, TaxGrade


@dataclass(frozen=True)
class CreditPolicy:
    min_score: int = 0
    max_judgments: int = U64
    tax_mask: int = 0xFF
    revenue_lo: int = 0
    revenue_hi: int = U64
    max_age_days: int = 365

    @staticmethod
    def mask(*grades: TaxGrade) -> int:
        return sum(1 << int(g) for g in grades)

    def operands(self) -> list[int]:
        return [self.min_score, self.max_judgments, self.tax_mask, self.revenue_lo, self.revenue_hi, self.max_age_days]

    @property
    def hash(self) -> int:
        return poseidon(self.operands())

    def allows(self, values: dict[str, int], today: int) -> bool:
        """What the circuit checks, in plain Python (for the prover's early refusal)."""
        return (
            values["credit_score"] >= self.min_score
            and values["court_judgments"] <= self.max_judgments
            and (self.tax_mask >> values["tax_grade"]) & 1 == 1
            and self.revenue_lo <= values["annual_revenue_cents"] <= self.revenue_hi
            and values["report_day"] <= today <= values["report_day"] + self.max_age_days
        )

    def to_json(self) -> dict:
        return asdict(self)
