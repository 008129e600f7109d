"""On-chain mode of the simulator: a small economy driven through the real contracts (ledger/'s
actors, the FinancingDesk and the SettlementVault) on anvil, then indexed into the SQL mirror by the
indexer as a library. Same model as bulk mode (tiers, splits down the tiers, discounts with several
lenders, deposits, a late core), at a size a test can afford, with the catalogue's fraud patterns
injected and labelled.
"""

from __future__ import annotations

import hashlib
import random
import time
from datetime import date
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger import settlement
from ledger.client import InvoiceRegistration, IssueRequest, Ledger
from ledger.financing import FinancingDesk, Offer
from ledger.fingerprint import InvoiceFields
from ledger.roles import Role
from risk.catalogue import subject
from risk.simulate import Economy, Firm, Truth

DAY = 86400
UNIT = 10**6
KEY = b"onchain-simulator-consortium-key"


class _Driver:
    def __init__(self, ledger: Ledger, registrar: LocalAccount, seed: int) -> None:
        self.ledger = ledger
        self.registrar = ledger.as_registrar(registrar)
        self.rng = random.Random(seed)
        self.seed = seed
        self.desk = FinancingDesk(ledger, ledger.address("FinancingDesk"))
        self.vault = ledger.address("SettlementVault")
        self.tx = 0
        self.numbers: dict[str, int] = {}
        self.nonce = 0
        self.approved: set[str] = set()
        self.accounts: dict[str, LocalAccount] = {}

    def w3(self):  # type: ignore[no-untyped-def]
        return self.ledger.chain.w3

    def now(self) -> int:
        return int(self.w3().eth.get_block("latest")["timestamp"])

    def warp(self, seconds: int) -> None:
        self.w3().provider.make_request("evm_increaseTime", [seconds])
        self.w3().provider.make_request("evm_mine", [])

    def account(self, label: str, roles: list[Role]) -> LocalAccount:
        key = hashlib.sha256(f"risk-onchain|{self.seed}|{label}".encode()).digest()
        account = Account.from_key(key)
        self.w3().provider.make_request("anvil_setBalance", [account.address, hex(10**21)])
        self.registrar.admit(account.address, label, roles, self.now() + 3650 * DAY)
        self.tx += 1
        self.accounts[label] = account
        return account

    def invoices(self, seller: LocalAccount, buyer: LocalAccount, amounts: list[int], *,
                 fields: list[InvoiceFields] | None = None) -> list[bytes]:
        regs = []
        for i, amount in enumerate(amounts):
            if fields:
                f = fields[i]
            else:
                n = self.numbers[seller.address] = self.numbers.get(seller.address, 0) + 1
                f = InvoiceFields(seller.address, buyer.address, f"INV-{n:05d}", amount, "CNY",
                                  date.fromtimestamp(self.now()))
            regs.append(InvoiceRegistration(f, document_hash=hashlib.sha256(repr(f).encode()).digest()))
        prints, _ = self.ledger.as_supplier(seller).register_invoices(regs, KEY)
        self.ledger.as_member(buyer).confirm_invoices(prints)
        self.tx += 2
        return prints

    def issue(self, core: LocalAccount, holder: LocalAccount, prints: list[bytes], face: int, maturity: int) -> int:
        _, token, _ = self.ledger.as_core(core).issue(IssueRequest(holder=holder.address, face_value=face,
                                                                   maturity=maturity, invoices=prints))
        self.ledger.as_member(holder).accept(token)
        self.tx += 2
        return token

    def discount(self, lender: LocalAccount, holder: LocalAccount, token: int, value: int) -> int:
        if holder.address not in self.approved:
            self.ledger.as_member(holder).set_approval_for_all(self.desk.contract.address, True)
            self.approved.add(holder.address)
            self.tx += 1
        self.nonce += 1
        offer = Offer(lender=lender.address, token_id=token, value=value, rate_bps=500, fee=0,
                      expiry=self.now() + DAY, nonce=self.nonce)
        result = self.desk.take_offer(holder, offer, token, self.desk.sign(lender, offer))
        self.tx += 1
        return int(result.event("Financed")["financingId"])

    def split(self, owner: LocalAccount, token: int, to: LocalAccount, value: int) -> int:
        new, _ = self.ledger.as_member(owner).split(token, to.address, value)
        self.tx += 1
        return int(new)


def _hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def drive(ledger: Ledger, registrar: LocalAccount, seed: int = 1, n_suppliers: int = 4) -> Economy:
    """Drive a small economy through ``ledger`` (``registrar`` holds KYC_REGISTRAR_ROLE). Returns the
    economy's truth and firms; the chain holds the rest (index it to get the mirror)."""
    d = _Driver(ledger, registrar, seed)
    rng = d.rng
    truth = Truth()
    cores = [d.account(f"core-{i}", [Role.CORE_ENTERPRISE]) for i in range(2)]
    tier1 = [d.account(f"t1-{i}", [Role.SUPPLIER]) for i in range(n_suppliers)]
    tier2 = [d.account(f"t2-{i}", [Role.SUPPLIER]) for i in range(n_suppliers)]
    shells = [d.account(f"shell-{i}", [Role.SUPPLIER]) for i in range(2)]
    lenders = [d.account(f"lender-{i}", [Role.LENDER]) for i in range(3)]
    bureau = d.account("bureau", [Role.CREDIT_BUREAU])
    for lender in lenders:
        ledger.execute(lender, ledger.asset.functions.mint(lender.address, 10**9 * UNIT))
        ledger.execute(lender, ledger.asset.functions.approve(d.desk.contract.address, 2**256 - 1))
    firms: dict[str, Firm] = {}
    for tier, group in ((0, cores), (1, tier1), (2, tier2), (3, shells)):
        for a in group:
            firms[a.address] = Firm(a.address, tier, 1.0, rng.gauss(0, 1), kind="shell" if tier == 3 else "firm")
    maturity = d.now() + 90 * DAY

    def anchor() -> None:
        """A small payable: its issue is a time anchor for the block-time interpolation."""
        n = d.numbers["anchor"] = d.numbers.get("anchor", 0) + 1
        fields = InvoiceFields(tier1[0].address, cores[0].address, f"ANCHOR-{n}", 100 * UNIT, "CNY",
                               date.fromtimestamp(d.now()))
        d.issue(cores[0], tier1[0], d.invoices(tier1[0], cores[0], [fields.amount], fields=[fields]),
                fields.amount, d.now() + 120 * DAY)
    payables: list[tuple[LocalAccount, LocalAccount, int, list[bytes], list[InvoiceFields], int]] = []

    # Honest trade: each tier-1 supplier invoices its core for 3 months; tier 2 is paid by splits.
    for i, s in enumerate(tier1):
        core = cores[i % 2]
        typical = rng.randint(50_000, 200_000)
        for _month in range(3):
            amounts = [int(typical * rng.uniform(0.8, 1.25)) * UNIT for _ in range(2)]
            fields = [InvoiceFields(s.address, core.address, f"INV-{_month}-{j}-{i}", a, "CNY",
                                    date.fromtimestamp(d.now())) for j, a in enumerate(amounts)]
            prints = d.invoices(s, core, amounts, fields=fields)
            token = d.issue(core, s, prints, sum(amounts), maturity)
            payables.append((core, s, token, prints, fields, sum(amounts)))
            supplier = tier2[i]
            part = sum(amounts) // 5
            d.invoices(supplier, s, [part])
            d.warp(3 * DAY)
            d.split(s, token, supplier, part)
            d.warp(3 * DAY)
    # Honest discounts with several lenders.
    for k, (_core, holder, token, _p, _f, face) in enumerate(payables[: len(payables) // 2]):
        if k % 2 == 0:
            d.discount(lenders[k % 2], holder, token, face // 4)

    # Fraud: an altered copy of an invoice backs a second payable; original and copy go to two lenders.
    core, holder, token, _prints, fields, face = payables[-1]
    original = fields[0]
    copy = InvoiceFields(original.seller, original.buyer, original.number, original.amount + 1000 * UNIT, "CNY",
                         original.issue_date)
    copy_prints = d.invoices(holder, core, [copy.amount], fields=[copy])
    copy_token = d.issue(core, holder, copy_prints, copy.amount, maturity)
    d.discount(lenders[0], holder, token, face // 3)
    d.discount(lenders[1], holder, copy_token, copy.amount // 3)
    from ledger.fingerprint import fingerprint

    truth.fraud["duplicate_financing"].add(subject("invoices", [_hex(fingerprint(original, KEY).full),
                                                                _hex(copy_prints[0])]))
    # Fraud: circular trading among a tier-2 supplier and two shells (related by a shareholder).
    ring = [tier2[0], *shells]
    amount = 60_000 * UNIT
    for j, seller in enumerate(ring):
        d.invoices(seller, ring[(j + 1) % len(ring)], [amount + j * UNIT])
        d.warp(DAY)
    truth.fraud["circular_trading"].add(subject("firms", [a.address for a in ring]))
    truth.fraud["related_parties"].add(subject("firms", [a.address for a in ring]))
    # Fraud: a rapid split-and-transfer chain of 4 hops within hours (between two time anchors: the mirror
    # has no block timestamps yet, risk.data interpolates them between payable issues).
    anchor()
    _, start_holder, start_token, _, _, start_face = payables[1]
    hop_token, owner = start_token, start_holder
    for to in (tier2[1], shells[0], tier2[2], shells[1]):
        hop_token = d.split(owner, hop_token, to, start_face // 10)
        owner = to
        d.warp(3600)
    anchor()
    truth.fraud["split_chain"].add(subject("token", [start_token]))
    # Fraud: an inflated invoice among a seller's regular ones.
    s = tier1[-1]
    d.invoices(s, cores[(len(tier1) - 1) % 2], [300_000 * 20 * UNIT])
    # Late financing: just before maturity.
    d.warp(maturity - d.now() - 3 * DAY)
    _core, late_holder, late_token, _, _, late_face = payables[2]
    anchor()
    fid = d.discount(lenders[2], late_holder, late_token, late_face // 10)
    anchor()
    truth.fraud["late_financing"].add(subject("financing", [fid]))
    # Settlement: core 0 pays; core 1 is late (overdue marks, then pays).
    d.warp(4 * DAY)
    for core_, _h, token_, _p, _f, face_ in payables[:-1]:
        slot = token_ // 10**9
        if core_ is cores[0]:
            ledger.execute(core_, ledger.asset.functions.mint(core_.address, face_))
            settlement.deposit(ledger, d.vault, core_, slot, face_)
            d.tx += 2
    d.warp(8 * DAY)
    for core_, _h, token_, _p, _f, _face in payables:
        if core_ is cores[1]:
            settlement.mark_overdue(ledger, d.vault, core_, token_ // 10**9)
            d.tx += 1
    economy = Economy(seed, {}, [], truth, firms, [a.address for a in lenders], bureau.address, d.now())
    economy.rows["tx_count"] = [{"n": d.tx}]
    economy.rows["accounts"] = [{"label": k, "account": v} for k, v in d.accounts.items()]  # simulated firms' keys
    economy.rows["ring"] = [{"address": a.address} for a in ring]
    economy.rows["inflated_seller"] = [{"address": s.address}]
    return economy


def profiles_for(economy: Economy, engine: Any, rng_seed: int = 1) -> int:
    """Submit a profile per firm through the library call, as the bureau (ring members share a shareholder)."""
    from risk.profiles import submit_profile

    rng = random.Random(rng_seed)
    ring = {r["address"] for r in economy.rows.get("ring", [])}
    n = 0
    for address, firm in sorted(economy.firms.items()):
        holders = [f"P{rng.randrange(10**6)}"] + (["R-ring"] if address in ring else [])
        submit_profile(engine, submitted_by=economy.bureau, submitted_at=economy.end_time, source="simulator",
                       document={"firm": address, "seed": economy.seed}, address=address,
                       registered_on=economy.end_time - int((5 + 3 * firm.q) * 365 * DAY) if firm.q > -1.5
                       else economy.end_time - 300 * DAY,
                       registered_capital=5_000_000, shareholders=holders, legal_representative=f"L{n}",
                       tax_grade="B", court_judgments=0, social_insurance_headcount=50, patents=1, rd_spend=10_000)
        n += 1
    return n


def label_inflated(economy: Economy, mirror: Any) -> None:
    """The inflated invoice's fingerprint, identified by its seller and amount (the driver knows both)."""
    seller = economy.rows["inflated_seller"][0]["address"]
    inv = mirror.invoices
    hit = inv[(inv["seller"] == seller) & (inv["amount"] == 300_000 * 20 * UNIT)]
    for fp in hit["fingerprint"]:
        economy.truth.fraud["amount_anomaly"].add(subject("invoice", [fp]))


def simulate_on_chain(seed: int, n_firms: int, *, db_url: str, rpc_url: str | None = None) -> tuple[Economy, dict]:
    """Deploy on a fresh anvil (or ``rpc_url``), drive the economy, index it into ``db_url``."""
    from indexer import Indexer
    from ledger.anvil import Anvil, dev_accounts
    from ledger.chain import Chain
    from ledger.deployment import deploy_system

    def run(url: str) -> tuple[Economy, dict]:
        admin, registrar = dev_accounts(2)
        chain = Chain(url)
        deployment = deploy_system(chain, admin, kyc_registrars=(registrar.address,))
        ledger = Ledger(chain, deployment)
        t = time.perf_counter()
        economy = drive(ledger, registrar, seed, n_suppliers=max(3, n_firms // 4))
        indexer = Indexer(url, db_url, deployment, confirmations=0)
        indexer.sync()
        profiles_for(economy, indexer.engine, seed)
        from risk import data

        label_inflated(economy, data.load(indexer.engine))
        indexer.close()
        return economy, {"transactions": economy.rows["tx_count"][0]["n"], "seconds": round(time.perf_counter() - t, 1)}

    if rpc_url:
        return run(rpc_url)
    with Anvil(accounts=4) as node:
        return run(node.url)

