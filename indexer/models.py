"""The SQL mirror: SQLModel tables of the business state and its history, and the engine's own tables.

Every mirrored row is keyed deterministically (by on-chain ids, or by ``(block_number, log_index)``
for history rows) and carries ``block_number`` (the block of its last write) and ``final`` (whether
that block is at or below the safe block, head - confirmations). History rows also carry
``block_timestamp`` (unix seconds of their block). Integers that may exceed 64 bits
use :class:`indexer.types.Uint`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from indexer.types import Uint


def _uint(*, primary_key: bool = False, nullable: bool = False) -> Field:
    return Field(sa_column=Column(Uint(), primary_key=primary_key, nullable=nullable), default=None)


def _big(*, primary_key: bool = False, nullable: bool = False) -> Field:
    return Field(sa_column=Column(BigInteger, primary_key=primary_key, nullable=nullable, autoincrement=False),
                 default=None)


class Mirrored(SQLModel):
    """Columns every mirrored row has."""

    block_number: int = Field(default=0, index=True)
    final: bool = Field(default=False, index=True)


# ------------------------------------------------------------------ Participants


class Organization(Mirrored, table=True):
    """A consortium member (``Participants.memberOf``); removed members have no row."""

    address: str = Field(primary_key=True)
    name_hash: str
    valid_until: int = _big()
    admitted_at: int = _big()


class RoleMember(Mirrored, table=True):
    """``account`` holds ``role`` (AccessControl ``hasRole``); revoked roles have no row."""

    __tablename__ = "role_member"
    role: str = Field(primary_key=True)
    account: str = Field(primary_key=True)
    role_name: str


# --------------------------------------------------------------- InvoiceRegistry


class Invoice(Mirrored, table=True):
    """An invoice by fingerprint (``InvoiceRegistry.invoiceOf``) with its partial fingerprints."""

    fingerprint: str = Field(primary_key=True)
    seller: str = Field(index=True)
    buyer: str = Field(index=True)
    asset: str
    amount: int = _uint()
    issue_date: int = _big()
    document_hash: str
    partial_fingerprint_1: str = Field(index=True)
    partial_fingerprint_2: str = Field(index=True)
    partial_fingerprint_3: str = Field(index=True)
    status: int
    registered_at: int = _big()
    slot: int = _big()
    voided_by: str | None = None
    void_reason: str | None = None


class SellerDelegate(Mirrored, table=True):
    """``delegate`` may register invoices for ``seller`` (``InvoiceRegistry.isDelegate``)."""

    __tablename__ = "seller_delegate"
    seller: str = Field(primary_key=True)
    delegate: str = Field(primary_key=True)


# --------------------------------------------------------------- ReceivableToken


class Payable(Mirrored, table=True):
    """A slot: one payable (``slotData``), its acceptance and its settlement (vault views)."""

    slot: int = _big(primary_key=True)
    debtor: str = Field(index=True)
    first_holder: str
    first_token_id: int = _big()
    asset: str
    face_value: int = _uint()
    maturity: int = _big()
    grace_period: int = _big()
    default_period: int = _big()
    issued_at: int = _big()
    redeemed_value: int = _uint()
    accepted: bool = False
    status: int = 0  # SettlementVault.Status: Current, Overdue, Defaulted, Paid
    marked: int = 0  # the last overdue/default mark
    cumulative_paid: int = _uint()
    paid_out: int = _uint()
    written_off: int = _uint()


class Holding(Mirrored, table=True):
    """A token: part of a payable held by its owner. Burned tokens keep their row (``burned``)."""

    token_id: int = _big(primary_key=True)
    slot: int = Field(sa_column=Column(BigInteger, nullable=False, index=True), default=None)
    owner: str = Field(index=True)
    value: int = _uint()
    frozen: int = _uint()
    encumbered: int = _uint()
    paid: int = _uint()  # SettlementVault.paidToToken
    approved: str | None = None  # ERC-721 getApproved
    burned: bool = False


class OperatorApproval(Mirrored, table=True):
    """``operator`` may move all of ``owner``'s tokens (``isApprovedForAll``)."""

    __tablename__ = "operator_approval"
    owner: str = Field(primary_key=True)
    operator: str = Field(primary_key=True)


class ContractFlag(Mirrored, table=True):
    """Per-contract switches (``paused``)."""

    __tablename__ = "contract_flag"
    contract: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    value: bool


class History(Mirrored):
    """An append-only row per event, keyed by its position in the chain, with its block's timestamp."""

    block_number: int = Field(primary_key=True)
    log_index: int = Field(primary_key=True)
    tx_hash: str
    block_timestamp: int = Field(sa_type=BigInteger)


class ValueMove(History, table=True):
    """The transfer/split/merge/issue/redeem/seize history (``ValueMoved``)."""

    __tablename__ = "value_move"
    slot: int = _big()
    from_token_id: int = _big()
    to_token_id: int = _big()
    value: int = _uint()
    kind: int
    __table_args__ = (Index("ix_value_move_from", "from_token_id"), Index("ix_value_move_to", "to_token_id"))


class TokenTransfer(History, table=True):
    """Whole-token ownership changes, mints and burns (ERC-721 ``Transfer``)."""

    __tablename__ = "token_transfer"
    token_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True), default=None)
    from_address: str
    to_address: str


# ----------------------------------------------------------------- FinancingDesk


class Financing(Mirrored, table=True):
    """A discount or a pledge loan (``Financed``), with the loan's fate."""

    financing_id: int = _big(primary_key=True)
    lender: str = Field(index=True)
    holder: str = Field(index=True)
    token_id: int = _big()
    lender_token_id: int = _big()
    value: int = _uint()
    price: int = _uint()
    fee: int = _uint()
    kind: int
    settlement: int
    recourse: bool
    bank_reference: str
    status: int  # IFinancingDesk.LoanStatus; None (0) for discounts
    start: int = _big()
    repaid_by: str | None = None
    repaid_principal: int | None = _uint(nullable=True)
    repaid_interest: int | None = _uint(nullable=True)
    seized_token_id: int | None = _big(nullable=True)
    recourse_slot: int | None = _big(nullable=True)  # RecourseExercised: the recourse payable on the seller
    recourse_token_id: int | None = _big(nullable=True)
    recourse_unpaid: int | None = _uint(nullable=True)


class LenderPolicy(Mirrored, table=True):
    __tablename__ = "lender_policy"
    lender: str = Field(primary_key=True)
    policy: str


class CancelledNonce(Mirrored, table=True):
    __tablename__ = "cancelled_nonce"
    signer: str = Field(primary_key=True)
    nonce: int = _uint(primary_key=True)


# --------------------------------------------------------------- SettlementVault


class Deposit(History, table=True):
    slot: int = Field(sa_column=Column(BigInteger, nullable=False, index=True), default=None)
    payer: str
    amount: int = _uint()
    cumulative_paid: int = _uint()


class Redemption(History, table=True):
    token_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True), default=None)
    slot: int = _big()
    holder: str
    paid: int = _uint()
    total_paid_to_token: int = _uint()


class WriteOff(History, table=True):
    __tablename__ = "write_off"
    token_id: int = _big()
    slot: int = _big()
    holder: str
    unpaid_value: int = _uint()


class SlotMark(History, table=True):
    """Overdue and default marks."""

    __tablename__ = "slot_mark"
    slot: int = _big()
    mark: str  # "overdue" | "defaulted"
    outstanding: int = _uint()


# ---------------------------------------------------------------- EvidenceLedger


class EvidenceBatch(Mirrored, table=True):
    __tablename__ = "evidence_batch"
    batch_id: int = _big(primary_key=True)
    root: str = Field(unique=True)
    submitter: str = Field(index=True)
    leaf_count: int = _big()
    anchored_at: int = _big()
    uri: str = Field(sa_column=Column(Text, nullable=False), default="")


class EvidenceCountersignature(Mirrored, table=True):
    """``signer`` counter-signed ``leaf`` of batch ``root`` (``countersignedAt``)."""

    __tablename__ = "evidence_countersignature"
    leaf: str = Field(primary_key=True)
    signer: str = Field(primary_key=True)
    root: str = Field(index=True)
    signed_at: int = _big()
    relayed: bool


class EvidenceRevocation(Mirrored, table=True):
    """A revoked leaf (``revocationOf``); the anchor stays."""

    __tablename__ = "evidence_revocation"
    leaf: str = Field(primary_key=True)
    root: str = Field(index=True)
    revoked_by: str
    revoked_at: int = _big()
    reason: str = Field(sa_column=Column(Text, nullable=False), default="")


class EvidenceHead(Mirrored, table=True):
    """The log's head after ``size`` batches (``headAt``)."""

    __tablename__ = "evidence_head"
    size: int = _big(primary_key=True)
    root: str


# ---------------------------------------------------------------- CreditRegistry, CreditGate


class CreditReport(Mirrored, table=True):
    """A bureau's credit-report commitment (its Poseidon root) for ``subject`` (``commitmentOf``)."""

    __tablename__ = "credit_report"
    root: int = _uint(primary_key=True)
    report_id: int = _big()
    bureau: str = Field(index=True)
    subject: str = Field(index=True)
    document_hash: str
    expiry: int = _big()
    registered_at: int = _big()
    revoked: bool = False


class CreditPolicy(Mirrored, table=True):
    """The credit policy a lender requires of the firms it finances (``policyOf``)."""

    __tablename__ = "credit_policy"
    lender: str = Field(primary_key=True)
    policy_hash: int = _uint()


class CreditPass(Mirrored, table=True):
    """The latest pass a verified proof gave ``holder`` with ``lender`` (``passOf``), and its use."""

    __tablename__ = "credit_pass"
    lender: str = Field(primary_key=True)
    holder: str = Field(primary_key=True)
    root: int = _uint()
    nonce: int = _uint()
    valid_until: int = _big()
    consumed_token_id: int | None = _big(nullable=True)
    consumed_value: int | None = _uint(nullable=True)


# ---------------------------------------------------------------- engine tables


class RawLog(SQLModel, table=True):
    """Every log of every followed contract, applied exactly once."""

    __tablename__ = "raw_log"
    chain_id: int = _big(primary_key=True)
    tx_hash: str = Field(primary_key=True)
    log_index: int = Field(primary_key=True)
    block_number: int = Field(index=True)
    block_hash: str
    address: str
    contract: str
    event: str
    topics: str = Field(sa_column=Column(Text, nullable=False), default="")
    data: str = Field(sa_column=Column(Text, nullable=False), default="")


class Checkpoint(SQLModel, table=True):
    """Where the mirror stands: written in the same transaction as the rows it covers."""

    id: int = Field(default=1, primary_key=True)
    chain_id: int = _big()
    start_block: int
    block_number: int
    block_hash: str
    safe_block: int
    head_block: int


class BlockRecord(SQLModel, table=True):
    """Hashes of the kept (unconfirmed) blocks, to detect reorgs by parent hash."""

    __tablename__ = "block_record"
    number: int = Field(primary_key=True)
    hash: str
    parent_hash: str
    timestamp: int = _big()


class ChangeLog(SQLModel, table=True):
    """Before-images of rows written in unconfirmed blocks, undone newest-first on a reorg."""

    __tablename__ = "change_log"
    id: int | None = Field(default=None, primary_key=True)
    block_number: int = Field(index=True)
    table_name: str
    pk: str
    before: str | None = Field(sa_column=Column(Text, nullable=True), default=None)


MIRRORED: tuple[type[Mirrored], ...] = (
    Organization, RoleMember, Invoice, SellerDelegate, Payable, Holding, OperatorApproval, ContractFlag,
    ValueMove, TokenTransfer, Financing, LenderPolicy, CancelledNonce, Deposit, Redemption, WriteOff, SlotMark,
    EvidenceBatch, EvidenceCountersignature, EvidenceRevocation, EvidenceHead, CreditReport, CreditPolicy, CreditPass,
)
HISTORY: tuple[type[History], ...] = tuple(m for m in MIRRORED if issubclass(m, History))
