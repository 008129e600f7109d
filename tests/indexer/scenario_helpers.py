"""Random sequences of business actions over a deployment, for the indexer's tests."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import date

from ledger import evidence, settlement
from ledger.chain import TxResult
from ledger.client import InvoiceRegistration, IssueRequest, Ledger
from ledger.errors import ContractRevertError, InvalidInputError
from ledger.financing import FinancingDesk, Kind, Offer
from ledger.fingerprint import InvoiceFields
from ledger.merkle import StandardMerkleTree

KEY = b"indexer-test-consortium-key-0123"
DAY = 86400
ONE = 10**6
ZERO = "0x" + "0" * 40
_numbers = iter(range(1, 10**9))


def chain_now(ledger: Ledger) -> int:
    return int(ledger.chain.w3.eth.get_block("latest")["timestamp"])


def warp(ledger: Ledger, seconds: int) -> None:
    ledger.chain.w3.provider.make_request("evm_increaseTime", [seconds])
    ledger.chain.w3.provider.make_request("evm_mine", [])


def rpc(ledger: Ledger, method: str, *params: object) -> object:
    return ledger.chain.w3.provider.make_request(method, list(params)).get("result")


class Scenario:
    """Random business actions; refused actions (a decoded revert) are skipped and counted."""

    def __init__(self, ledger: Ledger, actors, seed: int) -> None:  # type: ignore[no-untyped-def]
        self.ledger = ledger
        self.actors = actors
        self.rng = random.Random(seed)
        self.desk = FinancingDesk(ledger, ledger.address("FinancingDesk"))
        self.vault = ledger.address("SettlementVault")
        self.evidence = ledger.address("EvidenceLedger")
        self.suppliers = [actors.supplier, actors.supplier2, actors.supplier3]
        self.cores = [actors.core, actors.core2]
        self.members = [*self.suppliers, *self.cores, actors.lender, actors.regulator, actors.auditor]
        self.tokens: set[int] = set()
        self.slots: dict[int, list[bytes]] = {}
        self.loans: list[int] = []
        self.registered: list[bytes] = []
        self.done: list[str] = []
        self.refused = 0
        self.refusals: list[str] = []
        self._funded = False
        self._financed: list = []
        self.maturity: dict[int, int] = {}
        self.trees: list = []

    # ----------------------------------------------------------- driver

    def run(self, steps: int) -> Scenario:
        actions: list[tuple[Callable[[], object], int]] = [
            (self.issue, 6), (self.split, 6), (self.transfer_value, 3), (self.merge, 2), (self.transfer_token, 2),
            (self.freeze, 2), (self.approve, 2), (self.register_and_void, 1), (self.delegate, 1),
            (self.discount, 3), (self.pledge, 2), (self.repay, 1), (self.seize, 1), (self.recourse, 1),
            (self.anchor, 2), (self.countersign, 2),
            (self.deposit, 3), (self.redeem, 3), (self.mark, 2), (self.write_off, 1), (self.warp, 2),
            (self.renew, 1), (self.cancel_nonce, 1), (self.pause_cycle, 1), (self.policy_cycle, 1),
        ]
        weighted = [a for a, w in actions for _ in range(w)]
        if not self.tokens:
            self.issue()
        for _ in range(steps):
            self.one(self.rng.choice(weighted))
        return self

    def one(self, action: Callable[[], object]) -> None:
        try:
            action()
            self.done.append(action.__name__)
        except (ContractRevertError, InvalidInputError) as exc:
            self.refused += 1
            self.refusals.append(f"{action.__name__}:{exc.name}")
        except (LookupError, IndexError, ValueError, StopIteration):
            self.refused += 1
            self.refusals.append(f"{action.__name__}:none")

    def _track(self, result: TxResult) -> TxResult:
        for event in result.events:
            if event.contract == "ReceivableToken" and event.name == "Transfer":
                if event["from"] == ZERO:
                    self.tokens.add(event["tokenId"])
                elif event["to"] == ZERO:
                    self.tokens.discard(event["tokenId"])
            if event.contract == "FinancingDesk" and event.name == "Financed":
                self._financed.append(event)
                if event["terms"]["kind"] == 1:
                    self.loans.append(event["financingId"])
        return result

    def resync(self) -> Scenario:
        """Rebuild what the scenario tracks from the chain (after a revert to a snapshot)."""
        self.tokens.clear()
        self.slots.clear()
        self.loans.clear()
        self._financed.clear()
        self.maturity.clear()
        ledger = self.ledger
        contracts = {c.address: name for name, c in ledger.deployment.contracts.items()}
        logs = ledger.chain.w3.eth.get_logs({"fromBlock": ledger.deployment.start_block, "toBlock": "latest",
                                             "address": list(contracts)})
        events = ledger.decoder.decode_all(logs)
        self._track(TxResult({}, events))  # type: ignore[arg-type]
        for event in events:
            if event.name == "SlotIssued":
                self.slots[event["slot"]] = [bytes.fromhex(f[2:]) for f in event["invoices"]]
                self.maturity[event["slot"]] = event["maturity"]
        return self

    def _owner_of(self, token: int):  # type: ignore[no-untyped-def]
        owner = self.ledger.holding(token).owner
        return next(a for a in [*self.members, self.actors.admin] if a.address == owner)

    def _token(self, movable: bool = False) -> int:
        tokens = sorted(self.tokens)
        if movable:
            now = chain_now(self.ledger)
            tokens = [t for t in tokens if self.maturity.get(t // 10**9, 0) > now + 60] or tokens
        return self.rng.choice(tokens)

    def _fund(self) -> None:
        if self._funded:
            return
        self._funded = True
        ledger = self.ledger
        for account in [self.actors.lender, *self.suppliers, *self.cores]:
            ledger.execute(account, ledger.asset.functions.mint(account.address, 10**9 * ONE))
            ledger.execute(account, ledger.asset.functions.approve(self.desk.contract.address, 2**256 - 1))
            ledger.execute(account, ledger.asset.functions.approve(self.vault, 2**256 - 1))
        for supplier in self.suppliers:
            ledger.as_member(supplier).set_approval_for_all(self.desk.contract.address, True)

    # ----------------------------------------------------------- actions

    def _register(self, seller, buyer, amounts: list[int]) -> list[bytes]:  # type: ignore[no-untyped-def]
        regs = [InvoiceRegistration(InvoiceFields(seller.address, buyer.address, f"IX-{next(_numbers):07d}", a, "CNY",
                                                  date(2026, 11, 1)), document_hash=os.urandom(32)) for a in amounts]
        prints, _ = self.ledger.as_supplier(seller).register_invoices(regs, KEY)
        self.registered.extend(prints)
        return prints

    def issue(self) -> None:
        supplier, core = self.rng.choice(self.suppliers), self.rng.choice(self.cores)
        face = self.rng.randint(100, 10_000) * ONE
        prints = self._register(supplier, core, [face // 2, face - face // 2])
        self.ledger.as_member(core).confirm_invoices(prints)
        maturity = chain_now(self.ledger) + self.rng.randint(5, 60) * DAY
        slot, token, result = self.ledger.as_core(core).issue(IssueRequest(
            holder=supplier.address, face_value=face, maturity=maturity, invoices=prints,
            grace_period=self.rng.randint(1, 5) * DAY, default_period=self.rng.randint(6, 20) * DAY))
        self._track(result)
        self.slots[slot] = prints
        self.maturity[slot] = maturity
        if self.rng.random() < 0.85:
            self.ledger.as_member(supplier).accept(token)

    def split(self) -> None:
        token = self._token(movable=True)
        owner = self._owner_of(token)
        value = self.ledger.holding(token).value
        to = owner if self.rng.random() < 0.3 else self.rng.choice(self.members)
        _, result = self.ledger.as_member(owner).split(token, to.address, self.rng.randint(1, max(1, value // 2)))
        self._track(result)

    def transfer_value(self) -> None:
        source = self._token(movable=True)
        siblings = [t for t in self.tokens if t // 10**9 == source // 10**9 and t != source]
        target = self.rng.choice(sorted(siblings))
        value = self.ledger.holding(source).value
        self.ledger.as_member(self._owner_of(source)).transfer_value(source, target, self.rng.randint(1, value))

    def merge(self) -> None:
        source = self._token(movable=True)
        owner = self.ledger.holding(source).owner
        siblings = [t for t in self.tokens if t // 10**9 == source // 10**9 and t != source
                    and self.ledger.holding(t).owner == owner]
        self._track(self.ledger.as_member(self._owner_of(source)).merge(source, self.rng.choice(sorted(siblings))))

    def transfer_token(self) -> None:
        token = self._token(movable=True)
        self.ledger.as_member(self._owner_of(token)).transfer_token(token, self.rng.choice(self.members).address)

    def freeze(self) -> None:
        token = self._token()
        holding = self.ledger.holding(token)
        frozen = 0 if holding.frozen else self.rng.randint(0, max(0, holding.value - holding.encumbered))
        self.ledger.as_regulator(self.actors.regulator).set_frozen(token, frozen, "case-1")

    def approve(self) -> None:
        token = self._token()
        owner = self._owner_of(token)
        if self.rng.random() < 0.5:
            self.ledger.as_member(owner).approve_token(self.rng.choice(self.members).address, token)
        else:
            self.ledger.as_member(owner).set_approval_for_all(self.rng.choice(self.members).address,
                                                             self.rng.random() < 0.7)

    def register_and_void(self) -> None:
        supplier, core = self.rng.choice(self.suppliers), self.rng.choice(self.cores)
        prints = self._register(supplier, core, [self.rng.randint(1, 100) * ONE])
        if self.rng.random() < 0.6:
            self.ledger.as_member(core).void_invoice(prints[0], "disputed")

    def delegate(self) -> None:
        supplier = self.rng.choice(self.suppliers)
        self.ledger.as_supplier(supplier).set_delegate(self.rng.choice(self.suppliers).address,
                                                       self.rng.random() < 0.6)

    def _offer(self, token: int, kind: Kind) -> Offer:
        value = self.ledger.holding(token).value
        share = self.rng.randint(1, max(1, value // 2))
        expiry = chain_now(self.ledger) + DAY
        if kind == Kind.PLEDGE:
            return Offer(lender=self.actors.lender.address, token_id=token, value=share, kind=Kind.PLEDGE,
                         fixed_price=share * 8 // 10, rate_bps=800, penalty_bps=1200, expiry=expiry,
                         nonce=self.rng.randrange(2**64))
        return Offer(lender=self.actors.lender.address, token_id=token, value=share, rate_bps=600,
                     fee=share // 1000, expiry=expiry, nonce=self.rng.randrange(2**64),
                     recourse=self.rng.random() < 0.5)

    def discount(self) -> None:
        self._fund()
        token = self._token(movable=True)
        offer = self._offer(token, Kind.DISCOUNT)
        signature = self.desk.sign(self.actors.lender, offer)
        self._track(self.desk.take_offer(self._owner_of(token), offer, token, signature))

    def pledge(self) -> None:
        self._fund()
        token = self._token(movable=True)
        offer = self._offer(token, Kind.PLEDGE)
        signature = self.desk.sign(self.actors.lender, offer)
        self._track(self.desk.take_offer(self._owner_of(token), offer, token, signature))

    def repay(self) -> None:
        self._fund()
        loan = self.rng.choice(self.loans)
        borrower = next(a for a in self.members if a.address == self.desk.loan(loan)["borrower"])
        if self.rng.random() < 0.5:
            self.desk.repay(borrower, loan)
        else:
            self.desk.attest_repayment(self.actors.lender, loan)

    def seize(self) -> None:
        self._track(self.desk.seize(self.actors.lender, self.rng.choice(self.loans)))

    def recourse(self) -> None:
        financings = [e for e in self._financed if e["terms"]["recourse"] and e["terms"]["kind"] == 0]
        chosen = self.rng.choice(financings)
        slot = chosen["lenderTokenId"] // 10**9
        if settlement.status(self.ledger, self.vault, slot) != settlement.SlotStatus.DEFAULTED:
            warp(self.ledger, 30 * DAY)
            settlement.mark_defaulted(self.ledger, self.vault, self.actors.outsider, slot)
        _, _, result = self.desk.exercise_recourse(self.actors.lender, chosen["financingId"])
        self._track(result)

    def anchor(self) -> None:
        leaves = [[os.urandom(32), self.rng.randrange(2**64)] for _ in range(self.rng.randint(1, 4))]
        tree = StandardMerkleTree.of(leaves, ["bytes32", "uint256"])
        submitter = self.rng.choice(self.members)
        evidence.anchor_batch(self.ledger, self.evidence, submitter, tree, f"s3://bucket/{tree.root.hex()[:8]}")
        self.trees.append((tree, leaves, submitter))

    def countersign(self) -> None:
        tree, leaves, submitter = self.rng.choice(self.trees)
        value = self.rng.choice(leaves)
        leaf = tree.leaf_hash(value)
        proof = tree.get_proof(leaves.index(value))
        if self.rng.random() < 0.7:
            evidence.countersign(self.ledger, self.evidence, self.rng.choice(self.members), tree.root, leaf, proof)
        else:
            evidence.revoke(self.ledger, self.evidence, submitter, tree.root, leaf, proof, "superseded")

    def deposit(self) -> None:
        self._fund()
        slot = self.rng.choice(sorted(self.slots))
        payable = self.ledger.payable(slot)
        debtor = next(a for a in self.cores if a.address == payable.debtor)
        outstanding = payable.face_value - settlement.settlement(self.ledger, self.vault, slot).cumulative_paid
        amount = outstanding if self.rng.random() < 0.4 else self.rng.randint(1, max(1, outstanding))
        self._track(settlement.deposit(self.ledger, self.vault, debtor, slot, amount))

    def redeem(self) -> None:
        token = self._token()
        _, result = settlement.redeem(self.ledger, self.vault, self.actors.outsider, token)
        self._track(result)

    def mark(self) -> None:
        slot = self.rng.choice(sorted(self.slots))
        if self.rng.random() < 0.5:
            settlement.mark_overdue(self.ledger, self.vault, self.actors.outsider, slot)
        else:
            settlement.mark_defaulted(self.ledger, self.vault, self.actors.outsider, slot)

    def write_off(self) -> None:
        token = self._token()
        _, result = settlement.write_off(self.ledger, self.vault, self._owner_of(token), token)
        self._track(result)

    def warp(self) -> None:
        warp(self.ledger, self.rng.randint(1, 25) * DAY)

    def renew(self) -> None:
        member = self.rng.choice(self.members)
        until = int(time.time()) + self.rng.randint(400, 4000) * DAY
        self.ledger.as_registrar(self.actors.registrar).renew(member.address, until)

    def cancel_nonce(self) -> None:
        self.desk.cancel_nonce(self.rng.choice([self.actors.lender, *self.suppliers]), self.rng.randrange(2**64))

    def pause_cycle(self) -> None:
        regulator = self.ledger.as_regulator(self.actors.regulator)
        regulator.pause()
        if self.rng.random() < 0.8:
            regulator.unpause()

    def policy_cycle(self) -> None:
        self.desk.set_policy(self.actors.lender, self.actors.auditor.address)
        if self.rng.random() < 0.8:
            self.desk.set_policy(self.actors.lender, ZERO)

