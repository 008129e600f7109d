"""Core-enterprise pages: payables issued, their maturity calendar and deposits due, and the tier
penetration of each payable (how its value was split down the supply chain and to lenders)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from anyio import from_thread
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from api.portal.web import EVERY_ROW, PortalRoute, View, page
from api.routes import holdings as claims
from api.routes import records
from api.routes.pages import Paging
from ledger.roles import Role

pages = APIRouter(route_class=PortalRoute)
PAID = 3  # SettlementVault.Status.Paid


@dataclass
class Month:
    month: str  # YYYY-MM
    count: int = 0
    face: int = 0
    outstanding: int = 0


@dataclass
class Due:
    payable: records.PayablePublic
    outstanding: int
    days: int  # until maturity (negative: overdue)


@pages.get("/portal/core/payables", name="core.payables")
def payables(current: Annotated[View, Depends(page("core.payables"))], session: SessionDep, paging: Paging,
             status: Annotated[int | None, Query(ge=0, le=3)] = None) -> HTMLResponse:
    listed = records.payables(current.member, session, paging, debtor=current.member.address, status=status)
    every = records.payables(current.member, session, EVERY_ROW, debtor=current.member.address, status=None)
    months: dict[str, Month] = {}
    due: list[Due] = []
    now = int(time.time())
    for p in every.items:
        outstanding = max(0, int(p.face_value) - int(p.cumulative_paid))
        key = datetime.fromtimestamp(p.maturity, UTC).strftime("%Y-%m")
        month = months.setdefault(key, Month(key))
        month.count += 1
        month.face += int(p.face_value)
        month.outstanding += outstanding
        if p.status != PAID and outstanding:
            due.append(Due(p, outstanding, (p.maturity - now) // 86400))
    return current.render("core/payables.html", title=current.t("payables.title"), page=listed, status=status,
                          months=sorted(months.values(), key=lambda m: m.month),
                          due=sorted(due, key=lambda d: d.payable.maturity))


@dataclass
class Node:
    token: claims.TreeNode
    lender: bool
    children: list[Node] = field(default_factory=list)


@dataclass
class Tier:
    tier: int
    holders: set[str] = field(default_factory=set)
    received: int = 0  # value that reached this tier: how far the core enterprise's credit penetrated
    held: int = 0  # value its holders still hold


@pages.get("/portal/core/payables/{slot}", name="core.payable")
def payable(current: Annotated[View, Depends(page("core.payable"))], session: SessionDep,
            slot: Annotated[int, Path(ge=0, le=2**63 - 1)]) -> HTMLResponse:
    """The payable's split tree from the holding-tree endpoint, its tiers, lenders and deposits."""
    tree = from_thread.run(claims.payable_tree, current.member, session, slot)  # an async route function
    lenders = {o.address.lower() for o in records.organizations(current.member, session, EVERY_ROW,
                                                                 role=records.RoleName[Role.LENDER.name]).items}
    nodes = {t.token_id: Node(t, t.owner.lower() in lenders) for t in tree.tokens}
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.token.parent_token_id) if node.token.parent_token_id else None
        (parent.children if parent else roots).append(node)
    tiers: dict[int, Tier] = defaultdict(lambda: Tier(0))
    lent = Tier(0)
    for node in nodes.values():
        bucket = lent if node.lender else tiers[node.token.tier]
        bucket.tier = node.token.tier
        bucket.holders.add(node.token.owner)
        bucket.received += int(node.token.received)
        bucket.held += 0 if node.token.burned else int(node.token.value)
    settled = records.settlement(current.member, session, slot)
    return current.render("core/payable.html", title=current.t("payable.title", slot=slot), tree=tree, roots=roots,
                          tiers=[tiers[k] for k in sorted(tiers)], lent=lent, settlement=settled)
