"""Reads of the mirror that several readers share (the API, the portal, the demo's summary)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from indexer.models import Holding, ValueMove
from ledger.records import MoveKind

_INFLOWS = (MoveKind.ISSUE, MoveKind.TRANSFER, MoveKind.SPLIT, MoveKind.SEIZE)


@dataclass(frozen=True)
class TokenNode:
    """A token of a payable in its split tree: ``tier`` 1 is the first holder's token, each split or seize
    one further down; ``received`` is all value that ever flowed into it (issue, splits, transfers)."""

    token_id: int
    owner: str
    value: int
    parent_token_id: int | None
    tier: int
    received: int
    burned: bool


def payable_tree(session: Session, slot: int) -> list[TokenNode]:
    """Every token of payable ``slot``, in token order, with the token it split from."""
    tokens = session.exec(select(Holding).where(Holding.slot == slot).order_by(col(Holding.token_id))).all()
    moves = session.exec(select(ValueMove).where(ValueMove.slot == slot)).all()
    parent = {m.to_token_id: m.from_token_id for m in moves if m.kind in (MoveKind.SPLIT, MoveKind.SEIZE)}
    received: dict[int, int] = {}
    for move in moves:
        if move.kind in _INFLOWS:
            received[move.to_token_id] = received.get(move.to_token_id, 0) + move.value

    def tier(token_id: int) -> int:
        depth = 1
        while token_id in parent:
            token_id, depth = parent[token_id], depth + 1
        return depth

    return [TokenNode(t.token_id, t.owner, t.value, parent.get(t.token_id), tier(t.token_id),
                      received.get(t.token_id, 0), t.burned) for t in tokens]
