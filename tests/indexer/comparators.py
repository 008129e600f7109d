"""One comparator per mirrored table: the mirror's rows against the chain, read through the
contracts' views (state tables) or the chain's own logs (history tables)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from ledger import evidence, settlement
from ledger.client import Ledger
from ledger.events import DecodedEvent
from ledger.financing import FinancingDesk
from ledger.roles import Role

ZERO = "0x" + "0" * 40
SLOT_BASE = 10**9


class Truth:
    """Everything the comparators read from the chain."""

    def __init__(self, ledger: Ledger, accounts: list[str]) -> None:
        self.ledger = ledger
        self.vault = settlement.vault_contract(ledger, ledger.address("SettlementVault")).functions
        self.desk = FinancingDesk(ledger, ledger.address("FinancingDesk"))
        self.evidence = ledger.address("EvidenceLedger")
        contracts = {c.address: name for name, c in ledger.deployment.contracts.items()}
        from ledger.events import EventDecoder

        decoder = EventDecoder(contracts)
        raw = ledger.chain.w3.eth.get_logs({"fromBlock": ledger.deployment.start_block, "toBlock": "latest",
                                            "address": list(contracts)})
        self.events: list[DecodedEvent] = decoder.decode_all(raw)
        self.accounts = sorted({*accounts, *contracts})

        self._timestamps: dict[int, int] = {}

    def named(self, contract: str, name: str) -> list[DecodedEvent]:
        return [e for e in self.events if e.contract == contract and e.name == name]

    def timestamp(self, block: int) -> int:
        """The chain's timestamp of ``block`` (read once per block)."""
        if block not in self._timestamps:
            self._timestamps[block] = int(self.ledger.chain.w3.eth.get_block(block)["timestamp"])
        return self._timestamps[block]


Comparator = Callable[[Truth, list[dict]], None]
COMPARATORS: dict[str, Comparator] = {}


def comparator(table: str) -> Callable[[Comparator], Comparator]:
    def register(fn: Comparator) -> Comparator:
        COMPARATORS[table] = fn
        return fn

    return register


def _by(rows: list[dict], *keys: str) -> dict:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


@comparator("organization")
def organizations(t: Truth, rows: list[dict]) -> None:
    mirrored = _by(rows, "address")
    for account in sorted({*t.accounts, *mirrored}):
        record = t.ledger.member(account)
        if record.admitted_at == 0:
            assert account not in mirrored, account
            continue
        row = mirrored[account]
        assert (row["name_hash"], row["valid_until"], row["admitted_at"]) == (
            _hex(record.name_hash), record.valid_until, record.admitted_at), account


@comparator("role_member")
def role_members(t: Truth, rows: list[dict]) -> None:
    mirrored = _by(rows, "role", "account")
    for role in Role:
        for account in t.accounts:
            key = (_hex(role.id), account)
            assert t.ledger.has_role(role, account) == (key in mirrored), key
            if key in mirrored:
                assert mirrored[key]["role_name"] == role.name
    for role, account in mirrored:
        assert t.ledger.participants.functions.hasRole(bytes.fromhex(role[2:]), account).call()


@comparator("invoice")
def invoices(t: Truth, rows: list[dict]) -> None:
    mirrored = _by(rows, "fingerprint")
    registered = {e["fingerprint"]: e for e in t.named("InvoiceRegistry", "InvoiceRegistered")}
    voided = {e["fingerprint"]: e for e in t.named("InvoiceRegistry", "InvoiceVoided")}
    assert set(mirrored) == set(registered)
    for fingerprint, row in mirrored.items():
        record = t.ledger.invoice(bytes.fromhex(fingerprint[2:]))
        assert (row["seller"], row["status"], row["registered_at"], row["buyer"], row["slot"], row["asset"],
                row["amount"], row["document_hash"]) == (
            record.seller, int(record.status), record.registered_at, record.buyer, record.slot, record.asset,
            record.amount, _hex(record.document_hash)), fingerprint
        event = registered[fingerprint]
        assert [row["partial_fingerprint_1"], row["partial_fingerprint_2"], row["partial_fingerprint_3"]] == list(
            event["partialFingerprints"])
        assert row["issue_date"] == event["issueDate"]
        void = voided.get(fingerprint)
        assert (row["voided_by"], row["void_reason"]) == ((void["by"], void["reason"]) if void else (None, None))


@comparator("seller_delegate")
def delegates(t: Truth, rows: list[dict]) -> None:
    mirrored = _by(rows, "seller", "delegate")
    pairs = {(e["seller"], e["delegate"]) for e in t.named("InvoiceRegistry", "DelegateSet")} | set(mirrored)
    for seller, delegate in pairs:
        assert t.ledger.invoices.functions.isDelegate(seller, delegate).call() == ((seller, delegate) in mirrored)


def _live_tokens(t: Truth) -> set[int]:
    alive: set[int] = set()
    for e in t.named("ReceivableToken", "Transfer"):
        if e["from"] == ZERO:
            alive.add(e["tokenId"])
        if e["to"] == ZERO:
            alive.discard(e["tokenId"])
    return alive


@comparator("payable")
def payables(t: Truth, rows: list[dict]) -> None:
    mirrored = _by(rows, "slot")
    issued = {e["slot"]: e for e in t.named("ReceivableToken", "SlotIssued")}
    assert set(mirrored) == set(issued)
    live = _live_tokens(t)
    for slot, row in mirrored.items():
        p = t.ledger.payable(slot)
        assert (row["debtor"], row["maturity"], row["grace_period"], row["default_period"], row["asset"],
                row["issued_at"], row["face_value"], row["redeemed_value"]) == (
            p.debtor, p.maturity, p.grace_period, p.default_period, p.asset, p.issued_at, p.face_value,
            p.redeemed_value), slot
        assert (row["first_holder"], row["first_token_id"]) == (issued[slot]["holder"], issued[slot]["tokenId"])
        v = t.vault
        assert (row["status"], row["cumulative_paid"], row["paid_out"], row["written_off"]) == (
            v.statusOf(slot).call(), v.cumulativePaid(slot).call(), v.paidOut(slot).call(),
            v.writtenOff(slot).call()), slot
        assert row["status"] == (3 if row["cumulative_paid"] == row["face_value"] else row["marked"])
        tokens = [tok for tok in live if tok // SLOT_BASE == slot]
        if tokens:
            assert row["accepted"] == t.ledger.receivables.functions.isAccepted(tokens[0]).call(), slot
        else:
            assert row["accepted"] == any(e["tokenId"] // SLOT_BASE == slot
                                          for e in t.named("ReceivableToken", "ReceivableAccepted"))


@comparator("holding")
def holdings(t: Truth, rows: list[dict]) -> None:
    mirrored = _by(rows, "token_id")
    minted = {e["tokenId"] for e in t.named("ReceivableToken", "Transfer") if e["from"] == ZERO}
    assert set(mirrored) == minted
    fn = t.ledger.receivables.functions
    for token, row in mirrored.items():
        exists = t.ledger.token_exists(token)
        assert row["burned"] == (not exists), token
        assert row["paid"] == t.vault.paidToToken(token).call(), token
        if not exists:
            assert row["approved"] is None
            continue
        h = t.ledger.holding(token)
        approved = fn.getApproved(token).call()
        assert (row["owner"], row["slot"], row["value"], row["frozen"], row["encumbered"], row["approved"]) == (
            h.owner, h.slot, h.value, h.frozen, h.encumbered, None if approved == ZERO else approved), token


@comparator("operator_approval")
def operator_approvals(t: Truth, rows: list[dict]) -> None:
    mirrored = _by(rows, "owner", "operator")
    pairs = {(e["owner"], e["operator"]) for e in t.named("ReceivableToken", "ApprovalForAll")} | set(mirrored)
    for owner, operator in pairs:
        approved = t.ledger.receivables.functions.isApprovedForAll(owner, operator).call()
        assert approved == ((owner, operator) in mirrored), (owner, operator)


@comparator("contract_flag")
def contract_flags(t: Truth, rows: list[dict]) -> None:
    flags = _by(rows, "contract", "name")
    paused = flags.get(("ReceivableToken", "paused"), {"value": False})["value"]
    assert paused == t.ledger.receivables.functions.paused().call()
    assert set(flags) <= {("ReceivableToken", "paused")}


def _history(t: Truth, rows: list[dict], contract: str, name: str, fields: dict[str, str]) -> None:
    """History rows equal the chain's logs of that event, field by field, in chain order, with their
    block's timestamp."""
    expected = [{"block_number": e.block_number, "log_index": e.log_index, "tx_hash": e.tx_hash,
                 "block_timestamp": t.timestamp(e.block_number), **{column: e[arg] for column, arg in fields.items()}}
                for e in t.named(contract, name)]
    got = [{k: r[k] for k in ("block_number", "log_index", "tx_hash", "block_timestamp", *fields)} for r in rows]
    assert got == sorted(expected, key=lambda r: (r["block_number"], r["log_index"]))


@comparator("value_move")
def value_moves(t: Truth, rows: list[dict]) -> None:
    _history(t, rows, "ReceivableToken", "ValueMoved", {"slot": "slot", "from_token_id": "fromTokenId",
                                                        "to_token_id": "toTokenId", "value": "value",
                                                        "kind": "kind"})
    balance: dict[int, int] = defaultdict(int)
    for r in rows:
        balance[r["from_token_id"]] -= r["value"]
        balance[r["to_token_id"]] += r["value"]
    for token in _live_tokens(t):
        assert balance[token] == t.ledger.holding(token).value, token


@comparator("token_transfer")
def token_transfers(t: Truth, rows: list[dict]) -> None:
    _history(t, rows, "ReceivableToken", "Transfer", {"token_id": "tokenId", "from_address": "from",
                                                      "to_address": "to"})
    last = {r["token_id"]: r["to_address"] for r in rows}
    for token in _live_tokens(t):
        assert last[token] == t.ledger.holding(token).owner


@comparator("financing")
def financings(t: Truth, rows: list[dict]) -> None:
    events = {e["financingId"]: e for e in t.named("FinancingDesk", "Financed")}
    assert [r["financing_id"] for r in rows] == sorted(events)
    for row in rows:
        loan = t.desk.loan(row["financing_id"])
        terms = events[row["financing_id"]]["terms"]
        assert (row["value"], row["price"], row["fee"], row["kind"], row["settlement"], row["recourse"],
                row["bank_reference"]) == (terms["value"], terms["price"], terms["fee"], terms["kind"],
                                           terms["settlement"], terms["recourse"], terms["bankReference"])
        assert row["status"] == loan["status"]
        if row["kind"] == 1:
            assert (row["lender"], row["holder"], row["token_id"], row["value"], row["price"], row["recourse"],
                    row["start"]) == (loan["lender"], loan["borrower"], loan["tokenId"], loan["value"],
                                      loan["principal"], loan["recourse"], loan["start"])
            assert (row["seized_token_id"] is not None) == (loan["status"] == 3)
            assert (row["repaid_by"] is not None) == (loan["status"] == 2)
        else:
            assert loan["lender"] == ZERO and row["lender_token_id"] != 0
        right = t.desk.contract.functions.recourseOf(row["financing_id"]).call()
        open_right = row["kind"] == 0 and row["recourse"] and row["recourse_slot"] is None
        assert (right[0] != ZERO) == open_right, row["financing_id"]
        if open_right:  # (lender, seller, lenderTokenId[, value sold with recourse])
            expected = (row["lender"], row["holder"], row["lender_token_id"], row["value"])
            assert tuple(right) == expected[: len(right)]
    exercised = {e["financingId"]: e for e in t.named("FinancingDesk", "RecourseExercised")}
    assert {r["financing_id"] for r in rows if r["recourse_slot"] is not None} == set(exercised)
    for fid, e in exercised.items():
        row = next(r for r in rows if r["financing_id"] == fid)
        assert (row["recourse_slot"], row["recourse_token_id"], row["recourse_unpaid"]) == (
            e["recourseSlot"], e["recourseTokenId"], e["unpaid"])


@comparator("lender_policy")
def lender_policies(t: Truth, rows: list[dict]) -> None:
    mirrored = _by(rows, "lender")
    for lender in {*t.accounts, *mirrored}:
        policy = t.desk.contract.functions.policyOf(lender).call()
        assert mirrored.get(lender, {"policy": ZERO})["policy"] == policy


@comparator("cancelled_nonce")
def cancelled_nonces(t: Truth, rows: list[dict]) -> None:
    events = sorted((e["signer"], e["nonce"]) for e in t.named("FinancingDesk", "NonceCancelled"))
    assert sorted((r["signer"], r["nonce"]) for r in rows) == sorted(set(events))
    for r in rows:
        assert t.desk.contract.functions.isNonceUsed(r["signer"], r["nonce"]).call()


@comparator("deposit")
def deposits(t: Truth, rows: list[dict]) -> None:
    _history(t, rows, "SettlementVault", "Deposited", {"slot": "slot", "payer": "payer", "amount": "amount",
                                                        "cumulative_paid": "cumulativePaid"})
    total: dict[int, int] = defaultdict(int)
    for r in rows:
        total[r["slot"]] += r["amount"]
    for slot, amount in total.items():
        assert amount == t.vault.cumulativePaid(slot).call()


@comparator("redemption")
def redemptions(t: Truth, rows: list[dict]) -> None:
    _history(t, rows, "SettlementVault", "Redeemed", {"token_id": "tokenId", "slot": "slot", "holder": "holder",
                                                       "paid": "paid", "total_paid_to_token": "totalPaidToToken"})
    total: dict[int, int] = defaultdict(int)
    for r in rows:
        total[r["slot"]] += r["paid"]
    for slot, paid in total.items():
        assert paid == t.vault.paidOut(slot).call()


@comparator("write_off")
def write_offs(t: Truth, rows: list[dict]) -> None:
    _history(t, rows, "SettlementVault", "WrittenOff", {"token_id": "tokenId", "slot": "slot", "holder": "holder",
                                                         "unpaid_value": "unpaidValue"})
    total: dict[int, int] = defaultdict(int)
    for r in rows:
        total[r["slot"]] += r["unpaid_value"]
    for slot, value in total.items():
        assert value == t.vault.writtenOff(slot).call()


@comparator("slot_mark")
def slot_marks(t: Truth, rows: list[dict]) -> None:
    overdue = {(e.block_number, e.log_index) for e in t.named("SettlementVault", "SlotOverdue")}
    defaulted = {(e.block_number, e.log_index) for e in t.named("SettlementVault", "SlotDefaulted")}
    assert {(r["block_number"], r["log_index"]) for r in rows if r["mark"] == "overdue"} == overdue
    assert {(r["block_number"], r["log_index"]) for r in rows if r["mark"] == "defaulted"} == defaulted
    assert all(r["block_timestamp"] == t.timestamp(r["block_number"]) for r in rows)
    last = {r["slot"]: r["mark"] for r in rows}
    for slot, mark in last.items():
        status = t.vault.statusOf(slot).call()
        assert status == 3 or status == {"overdue": 1, "defaulted": 2}[mark], slot


@comparator("evidence_batch")
def evidence_batches(t: Truth, rows: list[dict]) -> None:
    count = evidence.batch_count(t.ledger, t.evidence)
    assert [r["batch_id"] for r in rows] == list(range(1, count + 1))
    uris = {e["batchId"]: e["uri"] for e in t.named("EvidenceLedger", "BatchAnchored")}
    for row in rows:
        record = evidence.batch(t.ledger, t.evidence, row["batch_id"])
        assert record is not None
        assert (row["root"], row["submitter"], row["leaf_count"], row["anchored_at"], row["uri"]) == (
            _hex(record.root), record.submitter, record.leaf_count, record.anchored_at, uris[row["batch_id"]])


@comparator("evidence_countersignature")
def evidence_countersignatures(t: Truth, rows: list[dict]) -> None:
    events = t.named("EvidenceLedger", "Countersigned")
    assert sorted((r["leaf"], r["signer"]) for r in rows) == sorted((e["leaf"], e["signer"]) for e in events)
    fn = evidence.evidence_contract(t.ledger, t.evidence).functions
    for row in rows:
        assert row["signed_at"] == fn.countersignedAt(bytes.fromhex(row["leaf"][2:]), row["signer"]).call()


@comparator("evidence_revocation")
def evidence_revocations(t: Truth, rows: list[dict]) -> None:
    assert sorted(r["leaf"] for r in rows) == sorted(e["leaf"] for e in t.named("EvidenceLedger", "Revoked"))
    fn = evidence.evidence_contract(t.ledger, t.evidence).functions
    for row in rows:
        by, at, reason = fn.revocationOf(bytes.fromhex(row["leaf"][2:])).call()
        assert (row["revoked_by"], row["revoked_at"], row["reason"]) == (by, at, reason)


@comparator("evidence_head")
def evidence_heads(t: Truth, rows: list[dict]) -> None:
    fn = evidence.evidence_contract(t.ledger, t.evidence).functions
    size, root = fn.head().call()
    assert [r["size"] for r in rows] == list(range(1, size + 1))
    for row in rows:
        assert row["root"] == _hex(fn.headAt(row["size"]).call())
    if rows:
        assert rows[-1]["root"] == _hex(root)


def _credit(t: Truth, name: str):
    return t.ledger.chain.contract(name, t.ledger.address(name)).functions


@comparator("credit_report")
def credit_reports(t: Truth, rows: list[dict]) -> None:
    events = t.named("CreditRegistry", "ReportRegistered")
    assert sorted(r["root"] for r in rows) == sorted(e["root"] for e in events)
    fn = _credit(t, "CreditRegistry")
    for row in rows:
        c = fn.commitmentOf(row["root"]).call()  # (bureau, expiry, registeredAt, revoked, subject, id, documentHash)
        assert (row["bureau"], row["expiry"], row["registered_at"], row["revoked"], row["subject"], row["report_id"],
                row["document_hash"]) == (c[0], c[1], c[2], c[3], c[4], c[5], _hex(c[6]))


@comparator("credit_policy")
def credit_policies(t: Truth, rows: list[dict]) -> None:
    assert sorted(r["lender"] for r in rows) == sorted({e["lender"] for e in t.named("CreditGate", "CreditPolicySet")})
    fn = _credit(t, "CreditGate")
    for row in rows:
        assert row["policy_hash"] == fn.policyOf(row["lender"]).call()


@comparator("credit_pass")
def credit_passes(t: Truth, rows: list[dict]) -> None:
    latest: dict[tuple[str, str], tuple[int | None, int | None]] = {}  # the last grant, and its use if any
    for e in t.events:
        if e.contract == "CreditGate" and e.name == "PassGranted":
            latest[(e["lender"], e["holder"])] = (None, None)
        elif e.contract == "CreditGate" and e.name == "PassConsumed":
            latest[(e["lender"], e["holder"])] = (e["tokenId"], e["value"])
    assert sorted((r["lender"], r["holder"]) for r in rows) == sorted(latest)
    fn = _credit(t, "CreditGate")
    for row in rows:
        assert (row["consumed_token_id"], row["consumed_value"]) == latest[(row["lender"], row["holder"])]
        _, valid_until = fn.passOf(row["lender"], row["holder"]).call()  # a used pass is deleted
        assert valid_until == (0 if row["consumed_token_id"] is not None else row["valid_until"])


@comparator("raw_log")
def raw_logs(t: Truth, rows: list[dict]) -> None:
    expected = sorted((e.block_number, e.log_index, e.tx_hash, e.block_hash, e.contract, e.name) for e in t.events)
    assert sorted((r["block_number"], r["log_index"], r["tx_hash"], r["block_hash"], r["contract"], r["event"])
                  for r in rows) == expected


def compare_all(truth: Truth, tables: dict[str, list[dict]]) -> None:
    missing = sorted(set(tables) - set(COMPARATORS))
    assert not missing, f"mirrored tables without a comparator: {missing}"
    for name, rows in tables.items():
        COMPARATORS[name](truth, rows)
