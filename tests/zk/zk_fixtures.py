"""Fixtures and helpers for the zk suites, imported by each module.

No conftest.py here: a second module named ``conftest`` shadows the root one that
``from conftest import ...`` relies on. For the same reason the root conftest's helpers are loaded
here by file path (under a private module name), not with ``from conftest import``.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import _zk_path  # noqa: F401 - first: the repository's zk package, not this folder
import pytest
from eth_account.signers.local import LocalAccount

from ledger.anvil import dev_accounts
from ledger.financing import FinancingDesk
from ledger.roles import Role
from zk.onchain import CreditContracts
from zk.prover import ZkWorker, day_number
from zk.report import CreditReport
from zk.schema import TaxGrade

__all__ = ["ZkActors", "credit", "make_report", "today", "zk_actors", "zk_worker"]


def _root_conftest():
    name = "_scf_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_root = _root_conftest()
DAY: int = _root.DAY
ONE: int = _root.ONE
expect_revert = _root.expect_revert
issue_claim = _root.issue_claim
now = _root.now
warp = _root.warp

BASE_VALUES = {
    "credit_score": 780,
    "court_judgments": 0,
    "tax_grade": int(TaxGrade.A),
    "annual_revenue_cents": 12_500_000_00,
    "overdue_count": 1,
    "registered_capital_cents": 50_000_000_00,
    "social_insurance_headcount": 85,
    "patents": 4,
    "report_day": 0,  # set per report
    "subject_address": 0,  # set per report
    "report_serial": 20261124001,
}


def make_report(subject: str, day: int, **changes: int) -> CreditReport:
    values = {**BASE_VALUES, "report_day": day, "subject_address": int(subject, 16), **changes}
    return CreditReport.issue(values)


@pytest.fixture(scope="session")
def zk_worker() -> Iterator[ZkWorker]:
    with ZkWorker() as worker:
        yield worker


@pytest.fixture
def today() -> int:
    return day_number(time.time())


@dataclass
class ZkActors:
    bureau: LocalAccount
    bureau2: LocalAccount
    lender2: LocalAccount


@pytest.fixture
def zk_actors(ledger, actors) -> ZkActors:
    """Two credit bureaus and a second lender, admitted inside the test's snapshot."""
    extra = dev_accounts(15)[12:]
    registrar = ledger.as_registrar(actors.registrar)
    until = now(ledger.chain) + 3650 * DAY
    registrar.admit(extra[0].address, "bureau-1", [Role.CREDIT_BUREAU], until)
    registrar.admit(extra[1].address, "bureau-2", [Role.CREDIT_BUREAU], until)
    registrar.admit(extra[2].address, "lender-2", [Role.LENDER], until)
    return ZkActors(*extra)


@pytest.fixture
def credit(ledger, actors) -> CreditContracts:
    return CreditContracts.of(ledger)  # deploy_system deploys them with the rest


def gated_desk(ledger, actors, credit: CreditContracts) -> tuple[FinancingDesk, int]:  # type: ignore[no-untyped-def]
    """The lender's financing gated by CreditGate, a fresh 1,000 claim of the supplier's (due in 60 days) it may
    finance, the desk approved on the supplier's claims and the lender funded."""
    desk = _root.funded_desk(ledger, actors.lender, amount=10**6 * ONE)
    desk.set_policy(actors.lender, credit.gate.address)
    _, token = issue_claim(ledger, actors, 1000 * ONE, maturity_in=60 * DAY)
    ledger.as_member(actors.supplier).set_approval_for_all(desk.contract.address, True)
    return desk, token
