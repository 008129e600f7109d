"""The main job until the platform service lands: a scripted supply-chain scenario on a local
anvil that exercises every contract and prints each step."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ledger.anvil import Anvil, dev_accounts
from ledger.chain import Chain
from ledger.client import InvoiceRegistration, IssueRequest, Ledger
from ledger.deployment import deploy_system, save_manifest
from ledger.errors import ContractRevertError
from ledger.fingerprint import InvoiceFields
from ledger.roles import Role

DAY = 86400
UNIT = 10**6  # the test stablecoin has 6 decimals


def run_demo(data_dir: Path, console: Console | None = None, rpc_url: str | None = None) -> Ledger:
    """Run the scenario on ``rpc_url`` (or a fresh local anvil) and return the ledger it used."""
    console = console or Console()
    if rpc_url:
        return _scenario(Chain(rpc_url), data_dir, console)
    with Anvil(accounts=10) as node:
        console.print(f"[bold]anvil[/] listening on {node.url}")
        return _scenario(Chain(node.url), data_dir, console)


def _scenario(chain: Chain, data_dir: Path, console: Console) -> Ledger:
    keys = dev_accounts(10)
    admin, registrar, core, tier1, tier2, tier3, lender, regulator = keys[:8]
    consortium_key = os.environ.get("SCF_CONSORTIUM_KEY", "local-demo-consortium-key!").encode()
    step = _stepper(console)

    deployment = step("deploy Participants, InvoiceRegistry, ReceivableToken, test stablecoin", lambda: deploy_system(
        chain, admin, kyc_registrars=(registrar.address,)
    ))
    data_dir.mkdir(parents=True, exist_ok=True)
    save_manifest(data_dir / "deployments.json", deployment)
    for name, record in deployment.contracts.items():
        console.print(f"    {name:16} {record.address}  block {record.block_number}")
    ledger = Ledger(chain, deployment)

    kyc = ledger.as_registrar(registrar)
    until = int(time.time()) + 365 * DAY
    names = {core: "Core Motors", tier1: "Tier-1 Parts", tier2: "Tier-2 Castings", tier3: "Tier-3 Metals",
             lender: "Harbor Bank", regulator: "Supervisor"}
    roles = {core: [Role.CORE_ENTERPRISE], tier1: [Role.SUPPLIER], tier2: [Role.SUPPLIER], tier3: [Role.SUPPLIER],
             lender: [Role.LENDER], regulator: [Role.REGULATOR]}
    for account, name in names.items():
        step(f"admit {name} as {', '.join(r.name for r in roles[account])}",
             lambda a=account, n=name: kyc.admit(a.address, n, roles[a], until))

    supplier = ledger.as_supplier(tier1)
    invoices = [
        InvoiceRegistration(
            InvoiceFields(tier1.address, core.address, f"INV-2026-{n:04d}", amount * UNIT, "CNY", date(2026, 11, 2)),
            document_hash=os.urandom(32),
        )
        for n, amount in ((1, 600_000), (2, 400_000))
    ]
    prints, _ = step("Tier-1 registers two invoices (one batch)", lambda: supplier.register_invoices(invoices,
                                                                                                    consortium_key))
    duplicate = step("Tier-1 tries to register INV-2026-0001 again", lambda: _refused(
        lambda: supplier.register_invoice(invoices[0], consortium_key)))
    console.print(f"    refused: {duplicate}")
    step("Core Motors confirms both invoices", lambda: ledger.as_member(core).confirm_invoices(prints))

    maturity = int(chain.w3.eth.get_block("latest")["timestamp"]) + 90 * DAY
    slot, token, _ = step("Core Motors issues a 1,000,000 payable to Tier-1, due in 90 days", lambda: ledger.as_core(
        core).issue(IssueRequest(holder=tier1.address, face_value=1_000_000 * UNIT, maturity=maturity,
                                 invoices=prints)))
    deadline = maturity
    signature = supplier.sign_acceptance(token, deadline)
    step(f"Tier-1 accepts token {token} by EIP-712 signature (relayed)",
         lambda: ledger.as_member(lender).accept_with_signature(token, deadline, signature))
    t2_token, _ = step("Tier-1 splits 300,000 to Tier-2", lambda: supplier.split(token, tier2.address, 300_000 * UNIT))
    t3_token, _ = step("Tier-2 splits 120,000 to Tier-3", lambda: ledger.as_member(tier2).split(
        t2_token, tier3.address, 120_000 * UNIT))
    step("Tier-2 moves 30,000 more to Tier-3's token", lambda: ledger.as_member(tier2).transfer_value(
        t2_token, t3_token, 30_000 * UNIT))
    extra, _ = step("Tier-1 splits 50,000 to itself", lambda: supplier.split(token, tier1.address, 50_000 * UNIT))
    step("Tier-1 merges it back", lambda: supplier.merge(extra, token))
    step("Regulator freezes 100,000 of Tier-3's token",
         lambda: ledger.as_regulator(regulator).set_frozen(t3_token, 100_000 * UNIT, "court order"))
    frozen = step("Tier-3 tries to move 100,000", lambda: _refused(
        lambda: ledger.as_member(tier3).split(t3_token, tier2.address, 100_000 * UNIT)))
    console.print(f"    refused: {frozen}")

    table = Table(title=f"Payable slot {slot}: tier penetration")
    for column in ("token", "holder", "value", "frozen"):
        table.add_column(column)
    for token_id in (token, t2_token, t3_token):
        h = ledger.holding(token_id)
        table.add_row(str(token_id), names.get(_by_address(keys, h.owner), h.owner), f"{h.value / UNIT:,.2f}",
                      f"{h.frozen / UNIT:,.2f}")
    console.print(table)
    payable = ledger.payable(slot)
    console.print(f"face value {payable.face_value / UNIT:,.2f}, maturity {payable.maturity}, debtor {payable.debtor}")
    return ledger


def _stepper(console: Console) -> Callable:
    counter = iter(range(1, 1000))

    def step(title: str, action: Callable):
        n = next(counter)
        result = action()
        gas = ""
        tx = result[-1] if isinstance(result, tuple) else result
        if hasattr(tx, "gas_used"):
            gas = f"  [dim](gas {tx.gas_used:,})[/]"
        console.print(f"[green]{n:>2}.[/] {title}{gas}")
        return result

    return step


def _refused(action: Callable) -> str:
    try:
        action()
    except ContractRevertError as exc:
        return exc.name
    raise AssertionError("the contract accepted an action it must refuse")


def _by_address(keys: list, address: str):
    return next((k for k in keys if k.address == address), None)
