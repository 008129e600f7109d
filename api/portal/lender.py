"""Lender pages: the financings it gave, its exposure to each core enterprise's default by supplier tier (a
server-rendered SVG chart beside its table), alerts on the firms it financed, and the check of a credit proof
a firm handed over (the file is read in the browser and verified on the server against the chain)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import HTMLResponse
from web3 import Web3

from api.deps import SessionDep
from api.portal.regulator import with_evidence
from api.portal.web import EVERY_ROW, PortalRoute, View, format_date, page
from api.routes import lending, records, risk
from api.routes.pages import Paging
from api.types import Address
from risk.catalogue import RULES
from zk.schema import TaxGrade

pages = APIRouter(route_class=PortalRoute)
TIER_CLASSES = {1: "tier-1", 2: "tier-2", 3: "tier-3"}  # deeper or unknown tiers share "tier-other"
CHART_WIDTH = 420  # px of the longest bar (a 100 px label column before it, its amount after it)


@pages.get("/portal/lender/financings", name="lender.financings")
def financings(current: Annotated[View, Depends(page("lender.financings"))], session: SessionDep, paging: Paging,
               kind: Annotated[int | None, Query(ge=0, le=1)] = None,
               status: Annotated[int | None, Query(ge=0, le=3)] = None) -> HTMLResponse:
    """Discounts and pledge loans the lender gave, newest first."""
    found = records.financings(current.member, session, paging, party=None, kind=kind, status=status)
    return current.render("lender/financings.html", title=current.t("lender.financings"), page=found,
                          kind=kind, status=status)


@dataclass
class Segment:
    tier: int
    value: int
    x: float = 0.0
    width: float = 0.0

    @property
    def css(self) -> str:
        return TIER_CLASSES.get(self.tier, "tier-other")


@dataclass
class Bar:
    core: str
    total: int = 0
    segments: list[Segment] = field(default_factory=list)

    @property
    def width(self) -> float:
        return sum(s.width for s in self.segments)


def _tier_order(item: tuple[int, int]) -> tuple[bool, int]:
    return item[0] < 1, item[0]  # tier 1, 2, 3, ..., then the unknown tier (-1)


def chart(rows: list[lending.ExposureRow]) -> list[Bar]:
    """One bar per core enterprise, one segment per supplier tier, scaled so the largest bar is CHART_WIDTH."""
    by_core: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        by_core[row.core][row.tier] += int(row.exposure)
    bars = [Bar(core, sum(tiers.values()), [Segment(t, v) for t, v in sorted(tiers.items(), key=_tier_order)])
            for core, tiers in by_core.items()]
    largest = max((b.total for b in bars), default=0)
    for bar in bars:
        x = 0.0
        for segment in bar.segments:
            segment.x, segment.width = x, CHART_WIDTH * segment.value / largest if largest else 0.0
            x += segment.width
    return sorted(bars, key=lambda b: -b.total)


@pages.get("/portal/lender/exposure", name="lender.exposure")
def exposure(current: Annotated[View, Depends(page("lender.exposure"))], session: SessionDep, paging: Paging,
             core: Annotated[Address | None, Query()] = None) -> HTMLResponse:
    """What the lender loses if each core enterprise defaults, by supplier tier: a chart and its table."""
    every = lending.exposure(current.member, session, EVERY_ROW, lender=None, core=core)  # one read of the mirror
    listed = every.model_copy(update={"items": every.items[paging.offset:paging.offset + paging.limit],
                                      "limit": paging.limit, "offset": paging.offset})
    bars = chart(every.items)
    tiers = sorted({s.tier for b in bars for s in b.segments}, key=lambda t: _tier_order((t, 0)))
    return current.render("lender/exposure.html", title=current.t("lender.exposure"), page=listed,
                          bars=bars, tiers=tiers, core=core, chart_width=CHART_WIDTH,
                          total=sum(b.total for b in bars), tier_class=lambda t: TIER_CLASSES.get(t, "tier-other"))


@pages.get("/portal/lender/alerts", name="lender.alerts")
def alerts(current: Annotated[View, Depends(page("lender.alerts"))], session: SessionDep, paging: Paging,
           rule: Annotated[str | None, Query(max_length=64)] = None,
           status: Annotated[str | None, Query(pattern="^(active|withdrawn|)$")] = "active") -> HTMLResponse:
    """Fraud alerts naming the lender or a firm it financed, with the rows they were raised on."""
    found = risk.alerts(current.member, session, paging, rule=rule or None, firm=None, status=status or None)
    return current.render("lender/alerts.html", title=current.t("lender.alerts"), page=found,
                          shown=with_evidence(current, session, found.items),
                          rule_filter=rule or None, status=status or None,
                          rule_options=[(r, f"regulator.rule.{r}") for r in RULES])


@pages.get("/portal/lender/proofs", name="lender.proofs")
def proofs(current: Annotated[View, Depends(page("lender.proofs"))]) -> HTMLResponse:
    return current.render("lender/proofs.html", title=current.t("lender.proofs"))


@dataclass(frozen=True)
class Line:
    """One translated line of a result: message key and its values."""

    key: str
    values: dict[str, Any]


def _field_value(current: View, name: str, value: int) -> str:
    """A report field's integer encoding as a person reads it."""
    if name == "tax_grade":
        return TaxGrade(value).name if value in TaxGrade._value2member_map_ else str(value)
    if name == "report_day":
        return _day(value)
    if name == "subject_address":
        return Web3.to_checksum_address(f"0x{value:040x}")
    if name.endswith("_cents"):
        return f"{value / 100:,.2f}"
    return f"{value:,}"


def _day(day: int) -> str:
    return format_date(day * 86400)


def _predicate(current: View, p: lending.PredicateOut, today: int | None) -> Line:
    label = current.t(f"lender.proofs.field.{p.field}")
    if p.op == "in":
        return Line("lender.proofs.op.in", {"field": label, "a": ", ".join(p.operands)})
    if p.op == "age_le":
        return Line("lender.proofs.op.age_le", {"a": p.operands[0], "date": _day(today or 0)})
    shown = [_field_value(current, p.field, int(o)) for o in p.operands]
    return Line(f"lender.proofs.op.{p.op}", {"field": label, "a": shown[0], "b": shown[-1]})


@pages.post("/portal/lender/proofs", name="lender.proofs")
def check_proof(current: Annotated[View, Depends(page("lender.proofs"))],
                upload: Annotated[dict[str, Any], Body()]) -> HTMLResponse:
    """The verdict on an uploaded proof or disclosure, as a fragment the page script shows (JSON in, as the
    portal's other POSTs; a refusal is the usual translated error page, whose notice the script shows)."""
    found = lending.verify_proof(current.member, current.ledger, upload)
    predicates = [_predicate(current, p, found.today) for p in found.predicates]
    fields = [(current.t(f"lender.proofs.field.{name}"), _field_value(current, name, int(value)))
              for name, value in found.fields.items()]
    return current.render("lender/proof_result.html", result=found, predicates=predicates, fields=fields,
                          day=_day(found.today) if found.today is not None else None)
