"""The main job: a supply chain on a local anvil (a core enterprise, three tiers of suppliers, two
lenders) driven through every contract, mirrored into SQLite, scored and screened for fraud, then
served over the API on localhost until Ctrl-C."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table
from web3 import Web3

from ledger import settlement
from ledger.anvil import Anvil, dev_accounts, free_port
from ledger.chain import Chain
from ledger.client import InvoiceRegistration, IssueRequest, Ledger
from ledger.deployment import deploy_system, save_manifest
from ledger.errors import ContractRevertError
from ledger.evidence import anchor_batch, verify_on_chain
from ledger.financing import FinancingDesk, Kind, Offer
from ledger.fingerprint import InvoiceFields
from ledger.merkle import StandardMerkleTree
from ledger.roles import Role

DAY = 86400
UNIT = 10**6  # the test stablecoin has 6 decimals


@dataclass
class DemoRun:
    """What the scenario left behind: the ledger, who is who, and the payables it issued."""

    ledger: Ledger
    data_dir: Path
    accounts: dict[str, LocalAccount]  # display name -> account
    slots: list[int] = field(default_factory=list)

    @cached_property
    def names(self) -> dict[str, str]:
        """Address -> display name."""
        return {account.address: name for name, account in self.accounts.items()}

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'index.db'}"


def run_demo(data_dir: Path, console: Console | None = None, rpc_url: str | None = None, *,
             serve: bool = False, host: str = "127.0.0.1", port: int = 8000) -> DemoRun:
    """Run the scenario on ``rpc_url`` (or a fresh local anvil), index, score and screen it, print the
    summary and, with ``serve``, serve the API until Ctrl-C; then stop everything it started."""
    console = console or Console()
    if rpc_url:
        return _main_job(Chain(rpc_url), rpc_url, data_dir, console, serve, host, port)
    with Anvil(accounts=12) as node:
        console.print(f"[bold]anvil[/] listening on {node.url}")
        return _main_job(Chain(node.url), node.url, data_dir, console, serve, host, port)


def _main_job(chain: Chain, rpc_url: str, data_dir: Path, console: Console, serve: bool, host: str,
              port: int) -> DemoRun:
    run = _scenario(chain, data_dir, console)
    _index(run, rpc_url, console)
    _summary(run, console)
    _risk(run, console)
    if serve:
        _serve(run, rpc_url, console, host, port)
    return run


def _index(run: DemoRun, rpc_url: str, console: Console) -> None:
    """Mirror the demo chain into a fresh SQLite file and show what landed there."""
    from sqlalchemy import func, select

    from indexer import Indexer
    from indexer.models import Deposit, EvidenceBatch, Financing, Holding, Invoice, Organization, Payable, Redemption

    database = run.data_dir / "index.db"
    for stale in run.data_dir.glob("index.db*"):
        stale.unlink()
    indexer = Indexer(rpc_url, run.db_url, run.ledger.deployment, confirmations=0)
    state = indexer.sync()
    table = Table(title=f"SQL mirror in {database} (block {state.block_number}, {indexer.events_applied} events)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    with indexer.engine.connect() as conn:
        for model in (Organization, Invoice, Payable, Holding, Financing, Deposit, Redemption, EvidenceBatch):
            count = conn.execute(select(func.count()).select_from(model)).scalar_one()
            table.add_row(model.__tablename__, str(count))
    indexer.close()
    console.print(table)


def _scenario(chain: Chain, data_dir: Path, console: Console) -> DemoRun:
    keys = dev_accounts(10)
    admin, registrar, core, tier1, tier2, tier3, lender, regulator, lender2, bureau = keys
    consortium_key = _consortium_key()
    step = _stepper(console)

    deployment = step("deploy the system (9 contracts and a test stablecoin)", lambda: deploy_system(
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
             lender: "Harbor Bank", lender2: "River Bank", regulator: "Supervisor", bureau: "Credit Bureau"}
    roles = {core: [Role.CORE_ENTERPRISE], tier1: [Role.SUPPLIER], tier2: [Role.SUPPLIER], tier3: [Role.SUPPLIER],
             lender: [Role.LENDER], lender2: [Role.LENDER], regulator: [Role.REGULATOR],
             bureau: [Role.CREDIT_BUREAU]}
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
    step("Regulator lifts the freeze", lambda: ledger.as_regulator(regulator).set_frozen(t3_token, 0, "released"))

    # Financing: Harbor Bank discounts part of Tier-1's claim; River Bank lends against Tier-2's.
    desk = FinancingDesk(ledger, ledger.address("FinancingDesk"))
    for bank in (lender, lender2):
        ledger.execute(bank, ledger.asset.functions.mint(bank.address, 2_000_000 * UNIT))
        ledger.execute(bank, ledger.asset.functions.approve(desk.contract.address, 2**256 - 1))
    expiry = int(chain.w3.eth.get_block("latest")["timestamp"]) + DAY
    offer = Offer(lender=lender.address, token_id=token, value=400_000 * UNIT, rate_bps=600, fee=500 * UNIT,
                  expiry=expiry, nonce=1)
    step("Tier-1 approves the financing desk on its claims",
         lambda: supplier.set_approval_for_all(desk.contract.address, True))
    _credit_gate(ledger, chain, desk, console, step, bureau=bureau, lender=lender, firm=tier1,
                 offer=offer, token=token)
    financed = step("Tier-1 takes Harbor Bank's signed offer: discount 400,000 at 6% a year (DvP)",
                    lambda: desk.take_offer(tier1, offer, token, desk.sign(lender, offer)))
    discount = financed.event("Financed")
    bank_token = discount["lenderTokenId"]
    console.print(f"    price {discount['terms']['price'] / UNIT:,.2f}, fee {discount['terms']['fee'] / UNIT:,.2f}; "
                  f"Harbor Bank now holds token {bank_token}")
    pledge = Offer(lender=lender2.address, token_id=t2_token, value=150_000 * UNIT, kind=Kind.PLEDGE,
                   fixed_price=120_000 * UNIT, rate_bps=800, penalty_bps=1200, expiry=expiry, nonce=1)
    loan = step("Tier-2 pledges its 150,000 claim to River Bank for a 120,000 loan at 8%",
                lambda: desk.take_offer(tier2, pledge, t2_token, desk.sign(lender2, pledge)))
    loan_id = loan.event("Financed")["financingId"]

    # A near-duplicate: INV-2026-0002 again with its date moved a day. Its full fingerprint is new, so the
    # registry takes it; its partial fingerprints (seller+number, buyer+number+amount) match the original,
    # which the risk engine reads as one invoice financed twice, by Harbor Bank and by River Bank.
    twin = InvoiceRegistration(InvoiceFields(tier1.address, core.address, "INV-2026-0002", 400_000 * UNIT, "CNY",
                                             date(2026, 11, 3)), document_hash=os.urandom(32))
    twin_print, _ = step("Tier-1 registers INV-2026-0002 again, dated a day later (a new full fingerprint)",
                         lambda: supplier.register_invoice(twin, consortium_key))
    step("Core Motors confirms it", lambda: ledger.as_member(core).confirm_invoices([twin_print]))
    slot_b, token_b, _ = step("Core Motors issues a 400,000 payable on it to Tier-1, due in 120 days",
                              lambda: ledger.as_core(core).issue(IssueRequest(
                                  holder=tier1.address, face_value=400_000 * UNIT, maturity=maturity + 30 * DAY,
                                  invoices=[twin_print])))
    step(f"Tier-1 accepts token {token_b}", lambda: supplier.accept(token_b))
    step("Tier-1 splits 150,000 of it to Tier-2", lambda: supplier.split(token_b, tier2.address, 150_000 * UNIT))
    resale = Offer(lender=lender2.address, token_id=token_b, value=200_000 * UNIT, rate_bps=700, fee=300 * UNIT,
                   expiry=expiry, nonce=2)
    step("Tier-1 discounts 200,000 of it with River Bank (DvP)",
         lambda: desk.take_offer(tier1, resale, token_b, desk.sign(lender2, resale)))

    # Evidence: the invoices' documents, anchored as one Merkle batch.
    leaves = [[i.document_hash, Web3.keccak(text=i.fields.number), int(i.fields.issue_timestamp)] for i in invoices]
    tree = StandardMerkleTree.of(leaves, ["bytes32", "bytes32", "uint256"])
    batch_id, _ = step(f"Tier-1 anchors its {len(leaves)} invoice documents as Merkle batch",
                       lambda: anchor_batch(ledger, ledger.address("EvidenceLedger"), tier1, tree, "local://demo"))
    proof = tree.get_proof(0)
    anchored = verify_on_chain(ledger, ledger.address("EvidenceLedger"), tree.root, proof, tree.leaf_hash(leaves[0]))
    console.print(f"    batch {batch_id}, root 0x{tree.root.hex()[:16]}..., INV-2026-0001 proven on-chain: {anchored}")
    _balances(console, ledger, names, [tier1, tier2, tier3, lender, lender2], "before maturity")

    # Settlement: time passes to maturity; Core Motors pays in two halves; holders redeem.
    vault = ledger.address("SettlementVault")
    chain.w3.provider.make_request("evm_increaseTime", [30 * DAY])
    chain.w3.provider.make_request("evm_mine", [])
    console.print("    [dim]... 30 days later[/]")
    step("Tier-2 repays River Bank's loan with interest, releasing its pledge", lambda: _repay(
        ledger, desk, tier2, loan_id))
    chain.w3.provider.make_request("evm_increaseTime", [maturity - _now(chain) + 1])
    chain.w3.provider.make_request("evm_mine", [])
    console.print("    [dim]... the payable has matured[/]")
    ledger.execute(core, ledger.asset.functions.mint(core.address, 1_000_000 * UNIT))
    step("Core Motors deposits 500,000 (half)", lambda: settlement.deposit(ledger, vault, core, slot, 500_000 * UNIT))
    holders = {token: tier1, t2_token: tier2, t3_token: tier3, bank_token: lender}
    for token_id, holder in holders.items():
        step(f"{names[holder]} redeems token {token_id}",
             lambda t=token_id, h=holder: settlement.redeem(ledger, vault, h, t))
    _balances(console, ledger, names, [tier1, tier2, tier3, lender, lender2], "after the first half")
    step("Core Motors deposits the other 500,000", lambda: settlement.deposit(ledger, vault, core, slot,
                                                                              500_000 * UNIT))
    for token_id, holder in holders.items():
        step(f"{names[holder]} redeems token {token_id} (final: the token burns)",
             lambda t=token_id, h=holder: settlement.redeem(ledger, vault, h, t))
    step("anyone marks the payable's invoices settled", lambda: settlement.settle_invoices(
        ledger, vault, core, slot, prints))
    _balances(console, ledger, names, [tier1, tier2, tier3, lender, lender2], "after full payment")
    payable = ledger.payable(slot)
    statuses = [ledger.invoice(p).status.name for p in prints]
    console.print(f"payable {slot}: face {payable.face_value / UNIT:,.2f}, "
                  f"redeemed {payable.redeemed_value / UNIT:,.2f}, invoices {statuses}")
    return DemoRun(ledger, data_dir, {n: a for a, n in names.items()}, [slot, slot_b])


def _credit_gate(ledger: Ledger, chain: Chain, desk: FinancingDesk, console: Console, step: Callable, *,
                 bureau, lender, firm, offer: Offer, token: int) -> None:
    """Harbor Bank finances only firms that prove, from a bureau's registered credit report and without
    revealing it, that their score is at least 700 with no court judgments (Groth16 through CreditGate)."""
    from zk.onchain import CreditContracts
    from zk.policy import CreditPolicy
    from zk.prover import ZkWorker, day_number, prove_credit
    from zk.report import CreditReport
    from zk.schema import FIELDS, TaxGrade

    credit = CreditContracts.of(ledger)  # deployed with the system: registry, gate, Groth16 verifier
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    day = day_number(now)
    fields = {f.name: 1 for f in FIELDS}
    fields.update(credit_score=780, court_judgments=0, tax_grade=int(TaxGrade.A),
                  annual_revenue_cents=12_500_000_00, report_day=day - 3, subject_address=int(firm.address, 16))
    report = CreditReport.issue(fields)
    step("Credit Bureau registers Tier-1's report (only its Poseidon root goes on-chain)", lambda: credit.register(
        bureau, report.root, firm.address, report.document_hash(), now + 180 * DAY))
    policy = CreditPolicy(min_score=700, max_judgments=0, tax_mask=CreditPolicy.mask(TaxGrade.A, TaxGrade.B),
                          revenue_lo=1_000_000_00, revenue_hi=100_000_000_00, max_age_days=90)
    step("Harbor Bank registers its policy and makes the desk ask CreditGate first", lambda: (
        credit.set_policy(lender, policy.hash), desk.set_policy(lender, credit.gate.address)))
    refused = _refused(lambda: desk.take_offer(firm, offer, token, desk.sign(lender, offer)))
    console.print(f"    Tier-1 tries to take the offer without a proof: refused: {refused}")
    nonce = credit.issue_nonce(lender)
    with ZkWorker() as worker:
        started = time.perf_counter()
        proof = prove_credit(worker, report, policy, today=day, lender=lender.address, nonce=nonce)
        seconds = time.perf_counter() - started
    console.print(f"    Tier-1 proves score >= 700, no judgments, tax grade A/B, revenue in range, report <= 90 days "
                  f"old, revealing none of it (Groth16, {seconds:.1f} s)")
    step("Harbor Bank submits the proof: CreditGate verifies it on-chain and records a single-use pass",
         lambda: credit.submit_proof(lender, firm.address, proof))


def _repay(ledger: Ledger, desk: FinancingDesk, borrower, loan_id: int):
    _, interest = desk.amount_due(loan_id)
    # the interest money, plus 1.00 for the seconds that pass before the repayment's block
    ledger.execute(borrower, ledger.asset.functions.mint(borrower.address, interest + UNIT))
    ledger.execute(borrower, ledger.asset.functions.approve(desk.contract.address, 2**256 - 1))
    return desk.repay(borrower, loan_id)


def _now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def _balances(console: Console, ledger: Ledger, names: dict, accounts: list, when: str) -> None:
    table = Table(title=f"Settlement-token balances {when}")
    table.add_column("member")
    table.add_column("balance", justify="right")
    for account in accounts:
        table.add_row(names[account], f"{ledger.asset_balance(account.address) / UNIT:,.2f}")
    console.print(table)


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


def _summary(run: DemoRun, console: Console) -> None:
    """What a person wants to see: how far each payable's value reached down the chain and who financed what."""
    from sqlmodel import Session, select

    from indexer.db import make_engine
    from indexer.models import Financing, Payable
    from indexer.queries import payable_tree

    def name(address: str) -> str:
        return run.names.get(Web3.to_checksum_address(address), address)

    engine = make_engine(run.db_url)
    with Session(engine) as session:
        for slot in run.slots:
            payable = session.get(Payable, slot)
            nodes = payable_tree(session, slot)
            table = Table(title=f"Tier penetration of payable {slot}: {name(payable.debtor)} owes "
                                f"{payable.face_value / UNIT:,.0f}, paid {payable.cumulative_paid / UNIT:,.0f}")
            for column in ("tier", "token", "holder", "received", "holds now"):
                table.add_column(column, justify="right" if column in ("received", "holds now") else "left")
            for node in sorted(nodes, key=lambda n: (n.tier, n.token_id)):
                table.add_row(str(node.tier), str(node.token_id), name(node.owner), f"{node.received / UNIT:,.0f}",
                              "redeemed" if node.burned else f"{node.value / UNIT:,.0f}")
            console.print(table)
        financings = session.exec(select(Financing).order_by(Financing.financing_id)).all()
    engine.dispose()
    table = Table(title="Financings")
    for column in ("lender", "supplier", "kind", "claim value", "paid to supplier", "status"):
        table.add_column(column, justify="right" if column in ("claim value", "paid to supplier") else "left")
    for f in financings:
        kind = Kind(f.kind).name.lower()
        status = "repaid" if f.repaid_by else ("active" if f.kind == Kind.PLEDGE else "bought")
        table.add_row(name(f.lender), name(f.holder), kind, f"{f.value / UNIT:,.0f}", f"{f.price / UNIT:,.2f}", status)
    console.print(table)


# Off-chain facts the Credit Bureau submits (with provenance) for the firms it scores.
_PROFILES = {
    "Core Motors": dict(registered_capital=2_000_000_000, shareholders=["Core Holdings"], legal_representative="Li Wei",
                        tax_grade="A", social_insurance_headcount=8_200, patents=410, rd_spend=900_000_000),
    "Tier-1 Parts": dict(registered_capital=80_000_000, shareholders=["Zhang Min", "Chen Jie"],
                         legal_representative="Zhang Min", tax_grade="A", social_insurance_headcount=640,
                         patents=35, rd_spend=12_000_000),
    "Tier-2 Castings": dict(registered_capital=12_000_000, shareholders=["Wang Fang"], legal_representative="Wang Fang",
                            tax_grade="B", social_insurance_headcount=120, patents=4, rd_spend=900_000),
    "Tier-3 Metals": dict(registered_capital=3_000_000, shareholders=["Zhao Lei"], legal_representative="Zhao Lei",
                          tax_grade="B", court_judgments=1, social_insurance_headcount=35),
}


def _risk(run: DemoRun, console: Console) -> None:
    """The bureau submits the firms' profiles; the fraud rules and the scorecard (fitted on a simulated
    economy, saved beside the mirror) run over the mirror; scores, warnings and alerts are stored."""
    from indexer.db import make_engine
    from risk.profiles import submit_profile
    from risk.score import save_model
    from risk.service import fit_simulated, score_mirror

    bureau = run.accounts["Credit Bureau"].address
    engine = make_engine(run.db_url)
    submitted = _now(run.ledger.chain)
    for name, facts in _PROFILES.items():
        address = run.accounts[name].address
        facts = {"registered_on": submitted - 8 * 365 * DAY, **facts}
        submit_profile(engine, submitted_by=bureau, submitted_at=submitted, source="demo: SAMR registry extract",
                       document={"firm": name, **facts}, address=address, **facts)
    engine.dispose()
    started = time.perf_counter()
    model = fit_simulated()
    save_model(model, run.data_dir / "risk-model.json")
    summary = score_mirror(run.db_url, model=model, top=len(run.accounts))
    console.print(f"[green]  .[/] Credit Bureau submits {len(_PROFILES)} firm profiles; scorecard {model.version} "
                  f"fitted on a simulated economy and run with the fraud rules ({time.perf_counter() - started:.1f} s)")

    table = Table(title=f"Credit scores (0-1000) at block {summary.as_of_block}")
    for column in ("firm", "score", "warning", "credit line", "main reasons"):
        table.add_column(column, justify="right" if column in ("score", "credit line") else "left")
    for row in reversed(summary.lowest):  # highest score first
        table.add_row(run.names.get(row["firm"], row["firm"]), str(row["score"]), row["warning"],
                      f"{row['credit_line'] / UNIT:,.0f}", "; ".join(row["reasons"][:2]))
    console.print(table)
    _alerts(run, console)


def _alerts(run: DemoRun, console: Console) -> None:
    from sqlmodel import Session, select

    from indexer.db import make_engine
    from risk.models import RiskAlert

    engine = make_engine(run.db_url)
    with Session(engine) as session:
        alerts = session.exec(select(RiskAlert).where(RiskAlert.status == "active").order_by(RiskAlert.rule)).all()
    engine.dispose()
    table = Table(title=f"Fraud alerts ({len(alerts)} active)")
    for column in ("rule", "severity", "firms", "why"):
        table.add_column(column)
    for alert in alerts:
        why = "; ".join(alert.reasons)
        for address, name in run.names.items():
            why = why.replace(address, name)
        table.add_row(alert.rule, alert.severity, ", ".join(run.names.get(f, f) for f in alert.firms), why)
    console.print(table)


def _serve(run: DemoRun, rpc_url: str, console: Console, host: str, port: int) -> None:
    """Serve the API on ``host:port`` (a free port if it is taken) while an indexer follows the chain;
    Ctrl-C (or SIGTERM) stops both."""
    import uvicorn

    from api.config import Settings
    from api.main import create_app
    from indexer import Indexer

    port = port if _port_free(host, port) else free_port()
    settings = Settings(rpc_url=rpc_url, manifest=run.data_dir / "deployments.json", secret=secrets.token_bytes(32),
                        db_url=run.db_url, domain=f"{host}:{port}", consortium_key=_consortium_key())
    indexer = Indexer(rpc_url, run.db_url, run.ledger.deployment, confirmations=0)
    follower = threading.Thread(target=indexer.run, name="indexer", daemon=True)
    follower.start()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, run.ledger), host=host, port=port,
                                           log_level="warning"))
    base = f"http://{host}:{port}"
    console.print(f"\n[bold]API[/] on {base}: docs {base}/docs, health {base}/health, metrics {base}/metrics")
    console.print(f"[bold]Portal[/] {base}/portal/ (English / 简体中文): sign in with a wallet holding one of the "
                  "members' keys below (anvil's public test mnemonic, for local use only)")
    for name, account in run.accounts.items():  # whole lines: a table would cut keys on a narrow terminal
        console.print(f"    {name:16} {account.address}  key 0x{bytes(account.key).hex()}", soft_wrap=True,
                      highlight=False)
    console.print(f"  chain {rpc_url} (chain id {run.ledger.chain.chain_id}), mirror {run.db_url}, "
                  "the indexer follows new blocks")
    console.print("  [dim]Ctrl-C stops the API, the indexer and anvil.[/]")
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops it the way Ctrl-C does
    try:
        server.run()  # shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal
    except KeyboardInterrupt:
        pass
    finally:
        indexer.stop()
        follower.join(timeout=10)
        indexer.close()
    console.print("stopped the API and the indexer")


def _consortium_key() -> bytes:
    """The invoice fingerprints' key: $SCF_CONSORTIUM_KEY, or a fixed one for the local demo."""
    return os.environ.get("SCF_CONSORTIUM_KEY", "local-demo-consortium-key!").encode()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) != 0
