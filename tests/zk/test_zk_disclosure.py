"""Selective disclosure: revealed fields open to the registered root; any change fails; hidden
fields (values, salts) never appear in what the firm sends."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zk_fixtures import make_report

from zk.poseidon import FIELD
from zk.report import CreditReport, Disclosure, tree_levels
from zk.schema import DECOY_SLOTS, FIELDS, SLOTS

SUBJECT = "0x" + "ab" * 20
REVEALED = ("credit_score", "tax_grade", "report_day")


@pytest.fixture
def report() -> CreditReport:
    return make_report(SUBJECT, 20_000)


def test_every_revealed_field_verifies(report):
    disclosure = report.disclose(REVEALED)
    assert disclosure.verify(report.root) == {n: report.values[n] for n in REVEALED}
    everything = report.disclose([f.name for f in FIELDS])
    assert everything.verify(report.root) == report.values


def test_json_round_trip(report):
    disclosure = report.disclose(REVEALED)
    again = Disclosure.from_json(json.loads(json.dumps(disclosure.to_json())))
    assert again.verify(report.root) == disclosure.verify(report.root)
    assert CreditReport.from_json(json.loads(json.dumps(report.to_json()))).root == report.root


def _mutations(disclosure: Disclosure):
    item = disclosure.fields[0]
    yield "value", replace(item, value=item.value + 1)
    yield "salt", replace(item, salt=item.salt ^ 1)
    yield "name", replace(item, name="patents")
    for i in range(len(item.siblings)):
        siblings = list(item.siblings)
        siblings[i] ^= 1
        yield f"sibling {i}", replace(item, siblings=tuple(siblings))
    yield "short path", replace(item, siblings=item.siblings[:-1])


def test_any_change_fails(report):
    disclosure = report.disclose(REVEALED)
    for label, changed in _mutations(disclosure):
        tampered = replace(disclosure, fields=(changed, *disclosure.fields[1:]))
        with pytest.raises(ValueError):
            tampered.verify(report.root)
            pytest.fail(f"{label} change verified")


def test_another_root_or_duplicate_field_fails(report):
    other = make_report(SUBJECT, 20_000)
    with pytest.raises(ValueError):
        report.disclose(REVEALED).verify(other.root)
    with pytest.raises(ValueError):
        replace(report.disclose(REVEALED), root=other.root).verify(other.root)
    dup = report.disclose(["credit_score", "credit_score"])
    with pytest.raises(ValueError):
        dup.verify(report.root)


def test_hidden_fields_stay_hidden(report):
    sent = json.dumps(report.disclose(["credit_score"]).to_json())
    for f in FIELDS:
        if f.name == "credit_score":
            continue
        assert hex(report.salts[f.name]) not in sent
        assert f.name not in sent
    # the score's siblings are hashes: its three sibling leaves, then three inner nodes
    levels = tree_levels(report.leaves())
    assert report.disclose(["credit_score"]).fields[0].siblings == (*levels[0][1:4], *levels[1][1:4])


def test_salts_and_decoys_are_fresh_and_wide():
    a, b = make_report(SUBJECT, 20_000), make_report(SUBJECT, 20_000)
    assert a.values == b.values and a.root != b.root  # same facts, unlinkable commitments
    assert len(a.decoys) == len(DECOY_SLOTS) == SLOTS - len(FIELDS)
    assert all(s.bit_length() > 200 for s in a.salts.values())
    assert len(set(a.salts.values())) == len(FIELDS)


def test_issue_validates_values():
    with pytest.raises(ValueError):
        make_report(SUBJECT, 20_000, credit_score=1001)
    with pytest.raises(ValueError):
        make_report(SUBJECT, 20_000, court_judgments=-1)


@given(
    revealed=st.sets(st.sampled_from([f.name for f in FIELDS]), min_size=1),
    score=st.integers(0, 1000),
    revenue=st.integers(0, 2**64 - 1),
    flip=st.integers(0, 5),
)
@settings(max_examples=15, deadline=None)
def test_any_subset_discloses_exactly_itself(revealed, score, revenue, flip):
    report = make_report(SUBJECT, 20_000, credit_score=score, annual_revenue_cents=revenue)
    disclosure = report.disclose(sorted(revealed))
    assert disclosure.verify(report.root) == {n: report.values[n] for n in revealed}
    item = disclosure.fields[0]
    siblings = list(item.siblings)
    siblings[flip] = (siblings[flip] + 1) % FIELD
    forged = replace(disclosure, fields=(replace(item, siblings=tuple(siblings)), *disclosure.fields[1:]))
    with pytest.raises(ValueError):
        forged.verify(report.root)
