"""Which role may open which portal page: one table drives the navigation, the page guard and the tests.

A page missing from the table cannot be declared (``web.page`` raises at import) and fails the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.roles import Role

ANY_MEMBER: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class PageRule:
    name: str  # the route name, e.g. "supplier.holdings"
    path: str
    roles: frozenset[Role] = ANY_MEMBER  # the caller needs one of these (empty: any current member)
    nav: str | None = None  # message key of its navigation link (None: not in the menu)


PAGES: tuple[PageRule, ...] = (
    PageRule("home", "/portal/", nav="nav.home"),
    PageRule("supplier.holdings", "/portal/supplier/holdings", frozenset({Role.SUPPLIER}), nav="nav.holdings"),
    PageRule("supplier.invoices", "/portal/supplier/invoices", frozenset({Role.SUPPLIER}), nav="nav.invoices"),
    PageRule("core.payables", "/portal/core/payables", frozenset({Role.CORE_ENTERPRISE}), nav="nav.payables"),
    PageRule("core.payable", "/portal/core/payables/{slot}",
             frozenset({Role.CORE_ENTERPRISE, Role.AUDITOR, Role.REGULATOR})),
    PageRule("lender.financings", "/portal/lender/financings", frozenset({Role.LENDER}), nav="lender.nav.financings"),
    PageRule("lender.exposure", "/portal/lender/exposure", frozenset({Role.LENDER}), nav="lender.nav.exposure"),
    PageRule("lender.alerts", "/portal/lender/alerts", frozenset({Role.LENDER}), nav="lender.nav.alerts"),
    PageRule("lender.proofs", "/portal/lender/proofs", frozenset({Role.LENDER}), nav="lender.nav.proofs"),
    PageRule("regulator.warnings", "/portal/regulator/warnings", frozenset({Role.REGULATOR}),
             nav="regulator.nav.warnings"),
    PageRule("regulator.alerts", "/portal/regulator/alerts", frozenset({Role.REGULATOR}), nav="regulator.nav.alerts"),
    PageRule("audit.evidence", "/portal/auditor/evidence", frozenset({Role.AUDITOR}), nav="auditor.nav.evidence"),
    PageRule("audit.batches", "/portal/auditor/batches", frozenset({Role.AUDITOR}), nav="auditor.nav.batches"),
    PageRule("audit.payables", "/portal/auditor/payables", frozenset({Role.AUDITOR}), nav="auditor.nav.payables"),
    PageRule("audit.history", "/portal/auditor/payables/{slot}/history", frozenset({Role.AUDITOR, Role.REGULATOR})),
    PageRule("offers.holder", "/portal/supplier/offers", frozenset({Role.SUPPLIER}), nav="offers.nav.mine"),
    PageRule("offers.lender", "/portal/lender/offers", frozenset({Role.LENDER}), nav="offers.nav.lender"),
)

BY_NAME = {rule.name: rule for rule in PAGES}


def allowed(rule: PageRule, roles: frozenset[Role]) -> bool:
    return not rule.roles or bool(rule.roles & roles)


def navigation(roles: frozenset[Role]) -> list[PageRule]:
    """The menu of a caller with ``roles``, in table order."""
    return [rule for rule in PAGES if rule.nav and allowed(rule, roles)]
