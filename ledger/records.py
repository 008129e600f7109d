"""Typed views of on-chain state, as read through the contracts' view functions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ledger.roles import Role


class InvoiceStatus(IntEnum):
    NONE = 0
    REGISTERED = 1
    CONFIRMED = 2
    LINKED = 3
    SETTLED = 4
    VOIDED = 5


class MoveKind(IntEnum):
    """Why value moved, as carried by ``ValueMoved``."""

    ISSUE = 0
    TRANSFER = 1
    SPLIT = 2
    MERGE = 3
    REDEEM = 4
    SEIZE = 5


@dataclass(frozen=True)
class MemberRecord:
    address: str
    name_hash: bytes
    valid_until: int
    admitted_at: int
    roles: frozenset[Role]
    is_member: bool


@dataclass(frozen=True)
class InvoiceRecord:
    fingerprint: bytes
    seller: str
    status: InvoiceStatus
    registered_at: int
    buyer: str
    slot: int
    asset: str
    amount: int
    document_hash: bytes


@dataclass(frozen=True)
class PayableRecord:
    """A slot: one payable confirmed by its debtor."""

    slot: int
    debtor: str
    maturity: int
    grace_period: int
    default_period: int
    asset: str
    issued_at: int
    face_value: int
    redeemed_value: int


@dataclass(frozen=True)
class HoldingRecord:
    """A token: part of a payable held by its owner."""

    token_id: int
    owner: str
    slot: int
    value: int
    frozen: int
    encumbered: int
    accepted: bool

    @property
    def free_value(self) -> int:
        return self.value - self.frozen - self.encumbered
