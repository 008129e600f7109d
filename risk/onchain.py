"""On-chain mode of the simulator: the *same* economy as bulk mode (:func:`risk.simulate.simulate` for a
seed and size) driven through the real contracts on anvil, then indexed into the SQL mirror by the
indexer as a library.

:func:`drive` turns the economy's mirror rows back into the business actions that produce them, in
time order on a chain clock shifted by whole days (``offset``): members admitted with their roles;
invoices registered by their seller and confirmed by their buyer (one batch per seller, buyer and
time); payables issued by their core over their invoices and accepted; splits down the tiers;
discounts (the lender's signed offer taken by the holder, settled in tokens) and bank-attested
pledges (the holder's signed request executed by the lender); loans repaid (attested by the lender)
or seized after maturity; the cores' deposits; overdue and default marks. Every firm gets a key of
its own; :class:`Replay` maps the economy's addresses, fingerprints, token and financing ids to the
chain's, and translates the ground truth and the firm profiles.

What the chain cannot express (the contracts refuse it, so it is not replayed and its label is
dropped; :attr:`Replay.refused` counts it by action and error, :attr:`Replay.refused_slots` names
the payables):

- the "exact" duplicate financing (``exact_overfinanced_slot``): bulk mode pledges one token to two
  lenders for 1.6x its face value, off-token; the ReceivableToken encumbers pledged value, so the
  pledge past the token's free value is refused (``ReceivableValueLocked``): on-chain, that fraud is
  prevented, not detected. The first pledge does encumber 0.8x the face value, so the honest splits
  of that token later in the economy may be refused too (and the moves of what they would have
  created: ``DependsOnRefused``).
- Timestamps are the chain's (one block per transaction, a second apart within a bulk instant), so
  times may drift by seconds from the economy's; no threshold of the catalogue is that tight.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger import settlement
from ledger.client import InvoiceRegistration, IssueRequest, Ledger
from ledger.errors import LedgerError
from ledger.financing import FinancingDesk, Kind, Offer, Settlement
from ledger.fingerprint import InvoiceFields, fingerprint
from ledger.roles import Role
from risk.catalogue import subject
from risk.simulate import DAY, SLOT_BASE, T0, Economy, Truth

KEY = b"onchain-simulator-consortium-key"
BLOCK_SECONDS = 12  # the bulk economy's block time (its history rows' blocks)
_ORDER = {"invoices": 0, "issue": 1, "split": 2, "finance": 3, "repay": 4, "seize": 4, "deposit": 5,
          "overdue": 6, "defaulted": 7}


@dataclass
class Replay:
    """The economy on the chain: id maps (economy -> chain), the translated truth and counts."""

    economy: Economy
    offset: int  # chain time = economy time + offset (whole days)
    accounts: dict[str, LocalAccount] = field(default_factory=dict)  # economy address -> key
    fingerprints: dict[str, str] = field(default_factory=dict)
    slots: dict[int, int] = field(default_factory=dict)
    tokens: dict[int, int] = field(default_factory=dict)
    financings: dict[int, int] = field(default_factory=dict)
    transactions: int = 0
    refused: Counter = field(default_factory=Counter)  # (action, error) -> count
    refused_financings: set[int] = field(default_factory=set)  # economy ids
    refused_tokens: set[int] = field(default_factory=set)  # economy ids of tokens whose financing was refused
    refused_slots: set[int] = field(default_factory=set)  # economy slots with any refused action

    def address(self, economy_address: str) -> str:
        return self.accounts[economy_address].address

    def truth(self) -> Truth:
        """The economy's ground truth in the chain's ids; labels whose events were refused are dropped."""
        src = self.economy.truth
        out = Truth(pd={self.address(a): v for a, v in src.pd.items()},
                    default={self.address(a): v for a, v in src.default.items()},
                    tier={self.address(a): v for a, v in src.tier.items()}, near_misses=src.near_misses)
        out.defaulted_core = None if src.defaulted_core is None else self.address(src.defaulted_core)
        for rule, subjects in src.fraud.items():
            for subj in subjects:
                kind, items = subj.split(":", 1)
                if rule == "duplicate_financing" and kind == "token" and int(items) in self.refused_tokens:
                    continue  # the chain refused the over-financing: prevented, not committed
                mapped = [self._map(kind, item) for item in items.split(",")]
                if None not in mapped:
                    out.fraud[rule].add(subject(kind, mapped))
        return out

    def profiles(self) -> list[dict[str, Any]]:
        """The economy's profile facts with chain addresses and chain times."""
        out = []
        for p in self.economy.profiles:
            facts = dict(p["facts"])
            facts["address"] = self.address(facts["address"])
            facts["registered_on"] += self.offset
            out.append({**p, "facts": facts, "submitted_at": p["submitted_at"] + self.offset})
        return out

    def _map(self, kind: str, item: str) -> str | None:
        if kind == "firms":
            return self.address(item)
        if kind in ("invoice", "invoices"):
            return self.fingerprints.get(item)
        if kind == "token":
            token = self.tokens.get(int(item))
            return None if token is None else str(token)
        if kind == "financing":
            fid = int(item)
            return None if fid in self.refused_financings or fid not in self.financings else str(self.financings[fid])
        raise ValueError(f"unknown subject kind {kind}")


def _actions(economy: Economy) -> list[tuple[int, int, int, str, Any]]:
    """(economy time, order, sequence, action, payload) for every replayed row, in time order. Rows
    known only by their block (history rows, a loan's last write) are replayed at their block's end
    (the economy's blocks are 12 s: its overdue mark may fall late in one)."""
    rows = economy.rows
    out: list[tuple[int, int, int, str, Any]] = []

    def add(t: int, action: str, payload: Any, *, in_block: bool = False) -> None:
        out.append((int(t) + (BLOCK_SECONDS - 1 if in_block else 0), _ORDER[action], len(out), action, payload))

    batches: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
    for inv in rows["invoice"]:
        batches[(inv["seller"], inv["buyer"], inv["registered_at"])].append(inv)
    for (_, _, t), invs in batches.items():
        add(t, "invoices", invs)
    linked: dict[int, list[str]] = defaultdict(list)
    for inv in rows["invoice"]:
        if inv["slot"]:
            linked[inv["slot"]].append(inv["fingerprint"])
    for p in rows["payable"]:
        add(p["issued_at"], "issue", (p, linked[p["slot"]]))
    owner = {t["token_id"]: t["to_address"] for t in rows["token_transfer"] if t["from_address"] == "0x" + "0" * 40}
    lender_tokens = {f["lender_token_id"]: f for f in rows["financing"] if f["kind"] == 0}
    for move in rows["value_move"]:
        if move["kind"] == 2 and move["to_token_id"] not in lender_tokens:
            add(move["block_timestamp"], "split", (move, owner[move["from_token_id"]], owner[move["to_token_id"]]),
                in_block=True)
    created = {m["to_token_id"]: m["block_timestamp"] for m in rows["value_move"]}
    for f in rows["financing"]:
        add(created[f["lender_token_id"]] if f["kind"] == 0 else f["start"], "finance", f, in_block=f["kind"] == 0)
        if f["kind"] == 1 and f["status"] in (2, 3):
            add(T0 + (f["block_number"] - 1) * BLOCK_SECONDS, "repay" if f["status"] == 2 else "seize", f,
                in_block=True)
    for d in rows.get("deposit", []):
        add(d["block_timestamp"], "deposit", d, in_block=True)
    for mark in rows.get("slot_mark", []):
        add(mark["block_timestamp"], mark["mark"], mark, in_block=True)
    return sorted(out)


class _Driver:
    def __init__(self, ledger: Ledger, registrar: LocalAccount, replay: Replay) -> None:
        self.ledger = ledger
        self.registrar = ledger.as_registrar(registrar)
        self.marker = registrar  # sends the overdue/default marks (anyone may)
        self.replay = replay
        self.desk = FinancingDesk(ledger, ledger.address("FinancingDesk"))
        self.vault = ledger.address("SettlementVault")
        self.w3 = ledger.chain.w3
        self.nonce = 0
        self.approved: set[str] = set()
        self.key = replay.economy.seed

    def rpc(self, method: str, params: list) -> Any:
        return self.w3.provider.make_request(method, params)  # type: ignore[arg-type]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def at(self, t: int) -> None:
        """Move the chain clock to economy time ``t`` (an empty block), unless it is already past it."""
        target = t + self.replay.offset
        if target > self.now():
            self.rpc("evm_setNextBlockTimestamp", [target])
            self.rpc("evm_mine", [])

    def send(self, fn: Any, *args: Any) -> Any:
        self.replay.transactions += 1
        return fn(*args)

    def account(self, address: str, roles: list[Role], valid_until: int) -> None:
        key = hashlib.sha256(f"risk-onchain|{self.key}|{address}".encode()).digest()
        account = Account.from_key(key)
        self.rpc("anvil_setBalance", [account.address, hex(10**21)])
        self.send(self.registrar.admit, account.address, address[:12], roles, valid_until)
        self.replay.accounts[address] = account

    def acct(self, address: str) -> LocalAccount:
        return self.replay.accounts[address]

    def token(self, economy_token: int) -> int:
        if economy_token not in self.replay.tokens:
            raise _UnavailableError(economy_token)
        return self.replay.tokens[economy_token]

    # ---------------------------------------------------------------- actions

    def invoices(self, invs: list[dict]) -> None:
        seller, buyer = self.acct(invs[0]["seller"]), self.acct(invs[0]["buyer"])
        regs = []
        for inv in invs:
            number, currency = self.replay.economy.invoice_terms[inv["fingerprint"]]
            day = datetime.fromtimestamp(inv["issue_date"] + self.replay.offset, UTC).date()
            fields = InvoiceFields(seller.address, buyer.address, number, int(inv["amount"]), currency, day)
            regs.append(InvoiceRegistration(fields, hashlib.sha256(inv["document_hash"].encode()).digest()))
        prints, _ = self.send(self.ledger.as_supplier(seller).register_invoices, regs, KEY)
        self.send(self.ledger.as_member(buyer).confirm_invoices, prints)
        for inv, reg in zip(invs, regs, strict=True):
            self.replay.fingerprints[inv["fingerprint"]] = "0x" + fingerprint(reg.fields, KEY).full.hex()

    def issue(self, payable: dict, linked: list[str]) -> None:
        core, holder = self.acct(payable["debtor"]), self.acct(payable["first_holder"])
        prints = [bytes.fromhex(self.replay.fingerprints[fp][2:]) for fp in linked]
        request = IssueRequest(holder=holder.address, face_value=int(payable["face_value"]),
                               maturity=int(payable["maturity"]) + self.replay.offset, invoices=prints,
                               grace_period=int(payable["grace_period"]), default_period=int(payable["default_period"]))
        slot, token, _ = self.send(self.ledger.as_core(core).issue, request)
        self.send(self.ledger.as_member(holder).accept, token)
        self.replay.slots[payable["slot"]] = int(slot)
        self.replay.tokens[payable["first_token_id"]] = int(token)

    def split(self, move: dict, owner: str, to: str) -> None:
        new, _ = self.send(self.ledger.as_member(self.acct(owner)).split, self.token(move["from_token_id"]),
                           self.acct(to).address, int(move["value"]))
        self.replay.tokens[move["to_token_id"]] = int(new)

    def finance(self, f: dict) -> None:
        lender, holder = self.acct(f["lender"]), self.acct(f["holder"])
        token = self.token(f["token_id"])
        self.nonce += 1
        expiry = self.now() + DAY
        if f["kind"] == 0:
            if holder.address not in self.approved:
                self.send(self.ledger.as_member(holder).set_approval_for_all, self.desk.contract.address, True)
                self.approved.add(holder.address)
            offer = Offer(lender=lender.address, token_id=token, value=int(f["value"]), rate_bps=500,
                          expiry=expiry, nonce=self.nonce)
            result = self.send(self.desk.take_offer, holder, offer, token, self.desk.sign(lender, offer))
        else:
            offer = Offer(lender=lender.address, holder=holder.address, token_id=token, value=int(f["value"]),
                          kind=Kind.PLEDGE, settlement=Settlement.BANK_ATTESTED, fixed_price=int(f["price"]),
                          expiry=expiry, nonce=self.nonce)
            bank_reference = hashlib.sha256(f"bank|{f['financing_id']}".encode()).digest()
            result = self.send(self.desk.execute_request, lender, offer, token, self.desk.sign(holder, offer),
                               bank_reference)
        event = result.event("Financed")
        self.replay.financings[f["financing_id"]] = int(event["financingId"])
        if f["kind"] == 0:
            self.replay.tokens[f["lender_token_id"]] = int(event["lenderTokenId"])

    def loan_outcome(self, action: str, f: dict) -> None:
        loan = self.replay.financings.get(f["financing_id"])
        if loan is None:
            return  # the pledge itself was refused
        fn = self.desk.attest_repayment if action == "repay" else self.desk.seize
        self.send(fn, self.acct(f["lender"]), loan)

    def deposit(self, d: dict) -> None:
        self.send(settlement.deposit, self.ledger, self.vault, self.acct(d["payer"]), self.replay.slots[d["slot"]],
                  int(d["amount"]))

    def mark(self, action: str, mark: dict) -> None:
        fn = settlement.mark_overdue if action == "overdue" else settlement.mark_defaulted
        self.send(fn, self.ledger, self.vault, self.marker, self.replay.slots[mark["slot"]])


def drive(ledger: Ledger, registrar: LocalAccount, economy: Economy) -> Replay:
    """Replay ``economy`` through ``ledger``'s contracts (``registrar`` holds KYC_REGISTRAR_ROLE)."""
    now = int(ledger.chain.w3.eth.get_block("latest")["timestamp"])
    offset = ((now - T0) // DAY + 2) * DAY  # the economy's day boundaries stay day boundaries
    replay = Replay(economy, offset)
    d = _Driver(ledger, registrar, replay)
    until = economy.end_time + offset + 3650 * DAY
    for address, firm in sorted(economy.firms.items()):
        d.account(address, [Role.CORE_ENTERPRISE] if firm.tier == 0 else [Role.SUPPLIER], until)
    for address in economy.lenders:
        d.account(address, [Role.LENDER], until)
    d.account(economy.bureau, [Role.CREDIT_BUREAU], until)
    total = 10**15 * 10**6
    for address in economy.lenders:
        lender = d.acct(address)
        d.send(ledger.execute, lender, ledger.asset.functions.mint(lender.address, total))
        d.send(ledger.execute, lender, ledger.asset.functions.approve(d.desk.contract.address, 2**256 - 1))
    for core in sorted({row["payer"] for row in economy.rows.get("deposit", [])}):
        account = d.acct(core)
        d.send(ledger.execute, account, ledger.asset.functions.mint(account.address, total))
        d.send(ledger.execute, account, ledger.asset.functions.approve(d.vault, 2**256 - 1))
    for t, _, _, action, payload in _actions(economy):
        d.at(t)
        try:
            if action == "invoices":
                d.invoices(payload)
            elif action == "issue":
                d.issue(*payload)
            elif action == "split":
                d.split(*payload)
            elif action == "finance":
                d.finance(payload)
            elif action in ("repay", "seize"):
                d.loan_outcome(action, payload)
            elif action == "deposit":
                d.deposit(payload)
            else:
                d.mark(action, payload)
        except (LedgerError, _UnavailableError) as exc:
            replay.refused[(action, getattr(exc, "name", type(exc).__name__))] += 1
            replay.refused_slots.add(_slot_of(action, payload))
            if action == "finance":
                replay.refused_financings.add(payload["financing_id"])
                replay.refused_tokens.add(payload["token_id"])
    return replay


class _UnavailableError(KeyError):
    """The action needs a token that an earlier refused action did not create."""

    name = "DependsOnRefused"


def _slot_of(action: str, payload: Any) -> int:
    if action == "split":
        return payload[0]["slot"]
    if action in ("finance", "repay", "seize"):
        return payload["token_id"] // SLOT_BASE
    if action == "issue":
        return payload[0]["slot"]
    return payload["slot"] if isinstance(payload, dict) else 0


def submit_profiles(replay: Replay, engine: Any) -> int:
    """Submit the economy's firm profiles through the library call, as the bureau."""
    from risk.profiles import submit_profile

    n = 0
    bureau = replay.address(replay.economy.bureau)
    for p in replay.profiles():
        submit_profile(engine, submitted_by=bureau, submitted_at=p["submitted_at"], source=p["source"],
                       document=p["facts"], **p["facts"])
        n += 1
    return n


def simulate_on_chain(seed: int, n_firms: int, *, db_url: str, rpc_url: str | None = None,
                      days: int = 180) -> tuple[Replay, dict]:
    """Generate the economy of ``seed`` and ``n_firms`` (bulk mode's model), deploy on a fresh anvil (or
    ``rpc_url``), replay it, index it into ``db_url`` and submit the profiles."""
    from indexer import Indexer
    from ledger.anvil import Anvil, dev_accounts
    from ledger.chain import Chain
    from ledger.deployment import deploy_system
    from risk.simulate import simulate

    economy = simulate(seed, n_firms, days=days)

    def run(url: str) -> tuple[Replay, dict]:
        admin, registrar = dev_accounts(2)
        chain = Chain(url)
        ledger = Ledger(chain, deploy_system(chain, admin, kyc_registrars=(registrar.address,)))
        started = time.perf_counter()
        replay = drive(ledger, registrar, economy)
        indexer = Indexer(url, db_url, ledger.deployment, confirmations=0)
        try:
            indexer.sync()
            submit_profiles(replay, indexer.engine)
        finally:
            indexer.close()
        return replay, {"transactions": replay.transactions, "seconds": round(time.perf_counter() - started, 1),
                        "refused": {f"{a}:{e}": n for (a, e), n in sorted(replay.refused.items())}}

    if rpc_url:
        return run(rpc_url)
    with Anvil(accounts=4) as node:
        return run(node.url)
