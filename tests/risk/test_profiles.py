"""Firm profiles with provenance, submitted by a CREDIT_BUREAU or REGULATOR."""

from __future__ import annotations

import pytest
from risk_fixtures import *  # noqa: F403  (fixtures)

from risk import data
from risk.profiles import ProfileError, document_hash, submit_profile


def test_submit_profile_checks_role_and_keeps_provenance(fresh_bulk) -> None:  # type: ignore[no-untyped-def]
    built = fresh_bulk(2, 120)
    firm = next(iter(built.economy.firms))
    facts = {"address": firm, "registered_on": 1_600_000_000, "registered_capital": 5_000_000,
             "shareholders": ["Alice", "Bob"], "legal_representative": "Alice", "tax_grade": "A",
             "court_judgments": 0, "social_insurance_headcount": 80, "patents": 3, "rd_spend": 200_000}
    document = {"registry": "SAMR", "record": facts}
    with pytest.raises(ProfileError):
        submit_profile(built.engine, submitted_by=firm, submitted_at=1, source="self", document=document, **facts)
    with pytest.raises(ProfileError):
        submit_profile(built.engine, submitted_by=built.economy.bureau, submitted_at=1, source="x", document=b"",
                       **{**facts, "tax_grade": "Z"})
    stored = submit_profile(built.engine, submitted_by=built.economy.bureau, submitted_at=1_800_000_000,
                            source="SAMR registry", document=document, **facts)
    assert stored.document_hash == document_hash(document)
    current = data.load(built.engine).profiles.set_index("address").loc[firm]
    assert current["source"] == "SAMR registry" and current["tax_grade"] == "A"
    assert current["submitted_by"] == built.economy.bureau and current["shareholders"] == ["Alice", "Bob"]
