"""Shared fixtures: one anvil per test session (per xdist worker), the system deployed once,
and every test isolated by ``evm_snapshot``/``evm_revert`` (a new snapshot after each revert)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings

from ledger import actions
from ledger.anvil import Anvil, dev_accounts
from ledger.chain import Chain
from ledger.client import InvoiceRegistration, IssueRequest, Ledger
from ledger.deployment import deploy_system
from ledger.financing import FinancingDesk
from ledger.fingerprint import InvoiceFields
from ledger.roles import Role

settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

CONSORTIUM_KEY = b"test-consortium-key-0123456789abcdef"
DAY = 86400
ONE = 10**6  # one unit of the 6-decimal test stablecoin


@dataclass
class Actors:
    """Named dev accounts with fixed roles (admitted in the session deployment)."""

    admin: LocalAccount
    registrar: LocalAccount
    core: LocalAccount
    core2: LocalAccount
    supplier: LocalAccount
    supplier2: LocalAccount
    supplier3: LocalAccount
    lender: LocalAccount
    regulator: LocalAccount
    auditor: LocalAccount
    outsider: LocalAccount
    system: LocalAccount  # holds SYSTEM_ROLE, standing in for the vault and the financing desk


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    with Anvil(accounts=20) as node:
        yield node


@pytest.fixture(scope="session")
def chain(anvil: Anvil) -> Chain:
    return Chain(anvil.url)


@pytest.fixture(scope="session")
def actors() -> Actors:
    keys = dev_accounts(12)
    return Actors(*keys)


@pytest.fixture(scope="session")
def deployed(chain: Chain, actors: Actors) -> Ledger:
    deployment = deploy_system(chain, actors.admin, kyc_registrars=(actors.registrar.address,))
    ledger = Ledger(chain, deployment)
    admin = ledger.as_admin(actors.admin)
    admin.grant(Role.SYSTEM, actors.system.address)
    registrar = ledger.as_registrar(actors.registrar)
    until = int(time.time()) + 3650 * DAY
    admissions = [
        (actors.core, [Role.CORE_ENTERPRISE]),
        (actors.core2, [Role.CORE_ENTERPRISE]),
        (actors.supplier, [Role.SUPPLIER]),
        (actors.supplier2, [Role.SUPPLIER]),
        (actors.supplier3, [Role.SUPPLIER]),
        (actors.lender, [Role.LENDER]),
        (actors.regulator, [Role.REGULATOR]),
        (actors.auditor, [Role.AUDITOR]),
    ]
    for account, roles in admissions:
        registrar.admit(account.address, f"org-{account.address[-6:]}", roles, until)
    return ledger


@pytest.fixture
def ledger(deployed: Ledger, chain: Chain) -> Iterator[Ledger]:
    """The session deployment, rolled back after the test."""
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    yield deployed
    assert chain.w3.provider.make_request("evm_revert", [snapshot])["result"] is True


def now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def warp(chain: Chain, seconds: int) -> None:
    chain.w3.provider.make_request("evm_increaseTime", [seconds])
    chain.w3.provider.make_request("evm_mine", [])


_invoice_counter = iter(range(1, 10**9))


def make_invoice(seller: str, buyer: str, amount: int, *, number: str | None = None) -> InvoiceFields:
    return InvoiceFields(
        seller=seller,
        buyer=buyer,
        number=number or f"INV-{next(_invoice_counter):06d}",
        amount=amount,
        currency="CNY",
        issue_date=date(2026, 11, 1),
    )


def confirmed_invoices(ledger: Ledger, actors: Actors, amounts: list[int], *, seller=None, buyer=None) -> list[bytes]:
    """Register invoices from ``seller`` (supplier) to ``buyer`` (core) and confirm them."""
    seller = seller or actors.supplier
    buyer = buyer or actors.core
    regs = [
        InvoiceRegistration(make_invoice(seller.address, buyer.address, a), document_hash=os.urandom(32))
        for a in amounts
    ]
    prints, _ = ledger.as_supplier(seller).register_invoices(regs, CONSORTIUM_KEY)
    ledger.as_member(buyer).confirm_invoices(prints)
    return prints


def issue_claim(
    ledger: Ledger, actors: Actors, face: int = 1000 * ONE, *, accept: bool = True, maturity_in: int = 90 * DAY,
    holder=None, core=None,
) -> tuple[int, int]:
    """Issue a payable of ``face`` to ``holder`` (supplier) and accept it; returns (slot, token id)."""
    holder = holder or actors.supplier
    core = core or actors.core
    prints = confirmed_invoices(ledger, actors, [face], seller=holder, buyer=core)
    slot, token, _ = ledger.as_core(core).issue(
        IssueRequest(holder=holder.address, face_value=face, maturity=now(ledger.chain) + maturity_in, invoices=prints)
    )
    if accept:
        ledger.as_member(holder).accept(token)
    return slot, token


class expect_revert:  # noqa: N801 - used like pytest.raises
    """``with expect_revert("Name", arg=value, ...)``: the block raises exactly that custom error
    with exactly those arguments (all of them, when any are given)."""

    def __init__(self, name: str, **fields: object) -> None:
        self.name = name
        self.fields = fields

    def __enter__(self) -> expect_revert:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        from ledger.errors import ContractRevertError

        if exc is None:
            raise AssertionError(f"expected revert {self.name}, but the call succeeded")
        if not isinstance(exc, ContractRevertError):
            return False
        assert exc.name == self.name, f"expected {self.name}, got {exc}"
        if self.fields:
            assert exc.fields == self.fields, f"{self.name} arguments: expected {self.fields}, got {exc.fields}"
        return True


def funded_desk(ledger: Ledger, *lenders: LocalAccount, amount: int) -> FinancingDesk:
    """The FinancingDesk, each of ``lenders`` minted ``amount`` of the test stablecoin and the desk approved to
    spend all of it (what a lender needs before an offer can be taken)."""
    desk = FinancingDesk(ledger, ledger.address("FinancingDesk"))
    for lender in lenders:
        ledger.execute(lender, ledger.asset.functions.mint(lender.address, amount))
        ledger.execute(lender, actions.approve_asset(ledger, desk.contract.address, 2**256 - 1))
    return desk


@pytest.fixture
def cli(ledger, anvil, tmp_path, monkeypatch):
    """Run `scf` as a given dev account, against the session deployment (``cli.fail``: expect a one-line
    error and exit code 1)."""
    from eth_account import Account
    from typer.testing import CliRunner

    from ledger.cli import app
    from ledger.deployment import save_manifest

    runner = CliRunner()
    save_manifest(tmp_path / "deployments.json", ledger.deployment)
    monkeypatch.setenv("SCF_RPC_URL", anvil.url)
    monkeypatch.setenv("SCF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SCF_KEY_PASSWORD", "pw")
    monkeypatch.setenv("SCF_CONSORTIUM_KEY", CONSORTIUM_KEY.decode())

    def run(account, *args: str) -> str:
        """Run as ``account`` (None: a read-only command that takes no key)."""
        extra: list[str] = []
        if account is not None:
            keystore = tmp_path / f"{account.address}.json"
            if not keystore.exists():
                keystore.write_text(json.dumps(Account.encrypt(account.key, "pw", kdf="pbkdf2", iterations=2)))
            extra = ["--keystore", str(keystore)]
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
        return result.output

    def fail(account, *args: str) -> str:
        extra: list[str] = []
        if account is not None:
            keystore = tmp_path / f"{account.address}.json"
            keystore.write_text(json.dumps(Account.encrypt(account.key, "pw", kdf="pbkdf2", iterations=2)))
            extra = ["--keystore", str(keystore)]
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        return lines[0]

    run.fail = fail  # type: ignore[attr-defined]
    return run
