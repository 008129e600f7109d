"""All of risk's access to the SQL mirror, in one place: the indexer's tables read into pandas
frames. If the indexer's models change, this is the one module to adapt.

History rows carry their block's timestamp (``block_timestamp``, since the mirror's migration 0002);
the rules read it directly. :meth:`Mirror.time_of` gives the time of any block from the blocks whose
time is known exactly (every block with a history row, and the kept block records, among them the
checkpoint's); only a block with neither (e.g. the last write of a financing whose repayment moved no
value) is placed between its known neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from indexer.models import (
    BlockRecord,
    Checkpoint,
    Deposit,
    Financing,
    Holding,
    Invoice,
    Organization,
    Payable,
    RoleMember,
    SlotMark,
    TokenTransfer,
    ValueMove,
    WriteOff,
)
from risk.models import FirmProfile

ZERO = "0x" + "0" * 40
MOVE_ISSUE, MOVE_TRANSFER, MOVE_SPLIT, MOVE_MERGE, MOVE_REDEEM, MOVE_SEIZE = range(6)
PLEDGE = 1
LOAN_ACTIVE, LOAN_REPAID = 1, 2

_COLUMNS: dict[str, tuple[type, tuple[str, ...]]] = {
    "orgs": (Organization, ("address", "admitted_at", "block_number")),
    "roles": (RoleMember, ("account", "role_name")),
    "invoices": (Invoice, ("fingerprint", "seller", "buyer", "amount", "issue_date", "registered_at", "slot", "status",
                           "partial_fingerprint_1", "partial_fingerprint_2", "partial_fingerprint_3",
                           "block_number")),
    "payables": (Payable, ("slot", "debtor", "first_holder", "first_token_id", "face_value", "maturity", "issued_at",
                           "status", "cumulative_paid", "written_off", "block_number")),
    "holdings": (Holding, ("token_id", "slot", "owner", "value", "encumbered", "burned")),
    "moves": (ValueMove, ("block_number", "log_index", "block_timestamp", "tx_hash", "slot", "from_token_id",
                          "to_token_id", "value", "kind")),
    "transfers": (TokenTransfer, ("block_number", "log_index", "block_timestamp", "token_id", "from_address",
                                  "to_address")),
    "financings": (Financing, ("financing_id", "lender", "holder", "token_id", "lender_token_id", "value", "price",
                               "kind", "settlement", "status", "start", "block_number")),
    "deposits": (Deposit, ("block_number", "log_index", "block_timestamp", "slot", "payer", "amount")),
    "marks": (SlotMark, ("block_number", "log_index", "block_timestamp", "slot", "mark", "outstanding")),
    "write_offs": (WriteOff, ("block_number", "log_index", "block_timestamp", "token_id", "slot", "holder",
                              "unpaid_value")),
}
NON_FIRM_ROLES = ("REGULATOR", "AUDITOR", "SYSTEM", "CREDIT_BUREAU", "KYC_REGISTRAR", "DEFAULT_ADMIN")
_AMOUNTS = {"amount", "face_value", "cumulative_paid", "written_off", "value", "price", "outstanding", "unpaid_value"}


class MirrorError(ValueError):
    """The mirror cannot be read as risk needs it."""


@dataclass
class Mirror:
    """The mirror's business tables as frames, plus the known block times."""

    frames: dict[str, pd.DataFrame]
    as_of_block: int
    known_times: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0), np.zeros(0)))

    def __getattr__(self, name: str) -> pd.DataFrame:
        try:
            return self.__dict__["frames"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def time_of(self, blocks: pd.Series | np.ndarray) -> np.ndarray:
        """Unix time of each block number: exact for a block with a history row or a kept block record;
        otherwise linear between the nearest known blocks (extrapolated at the mean slope)."""
        xs, ts = self.known_times
        values = np.asarray(blocks, dtype=float)
        if len(xs) == 0:
            return values
        if len(xs) == 1:
            return ts[0] + (values - xs[0])
        slope = max((ts[-1] - ts[0]) / max(xs[-1] - xs[0], 1.0), 1.0)
        out = np.interp(values, xs, ts)
        out = np.where(values < xs[0], ts[0] - (xs[0] - values) * slope, out)
        return np.where(values > xs[-1], ts[-1] + (values - xs[-1]) * slope, out)


def _read(engine: Engine, model: type, columns: tuple[str, ...]) -> pd.DataFrame:
    table = model.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(*(table.c[c] for c in columns)))]  # plain tuples: pandas
    frame = pd.DataFrame.from_records(rows, columns=list(columns))  # probes Row attributes slowly
    for name in columns:
        if name in _AMOUNTS:
            frame[name] = frame[name].astype("float64")
    return frame


def load(engine: Engine, *, with_history: bool = True) -> Mirror:
    frames = {name: _read(engine, model, cols) for name, (model, cols) in _COLUMNS.items()
              if with_history or name not in ("moves", "transfers")}
    frames["profiles"] = load_profiles(engine)
    with engine.connect() as conn:
        checkpoint = conn.execute(select(Checkpoint.__table__.c.block_number)).scalar()  # type: ignore[attr-defined]
        kept = conn.execute(select(BlockRecord.__table__.c.number,  # type: ignore[attr-defined]
                                   BlockRecord.__table__.c.timestamp)).all()  # type: ignore[attr-defined]
    as_of = int(checkpoint) if checkpoint is not None else int(max(
        [int(f["block_number"].max()) for f in frames.values() if "block_number" in f and len(f)] or [0]))
    mirror = Mirror(frames, as_of)
    mirror.known_times = _known_times(frames, kept)
    return mirror


def _known_times(frames: dict[str, pd.DataFrame], kept: list) -> tuple[np.ndarray, np.ndarray]:
    """(block numbers, timestamps) of every block whose time the mirror records."""
    history = [f[["block_number", "block_timestamp"]] for f in frames.values() if "block_timestamp" in f and len(f)]
    history.append(pd.DataFrame(kept, columns=["block_number", "block_timestamp"]))
    known = pd.concat(history).astype("int64").drop_duplicates("block_number").sort_values("block_number")
    unknown = known[known["block_timestamp"] <= 0]
    if len(unknown):
        raise MirrorError(f"{len(unknown)} block(s) of history rows have no timestamp (mirrored before the "
                          "indexer's migration 0002): re-index the mirror")
    xs = known["block_number"].to_numpy(dtype=float)
    return xs, np.maximum.accumulate(known["block_timestamp"].to_numpy(dtype=float))


def lenders(mirror: Mirror) -> list[str]:
    return sorted(set(mirror.roles.loc[mirror.roles["role_name"] == "LENDER", "account"]))


def has_role(engine: Engine, account: str, role_names: tuple[str, ...]) -> bool:
    table = RoleMember.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        found = conn.execute(select(table.c.role_name).where(table.c.account == account,
                                                             table.c.role_name.in_(role_names))).first()
    return found is not None


def load_profiles(engine: Engine) -> pd.DataFrame:
    """The current profile of each firm (its newest submission)."""
    table = FirmProfile.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.profile_id)).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows])
    if frame.empty:
        return pd.DataFrame(columns=[c.name for c in table.c])
    return frame.drop_duplicates("address", keep="last").reset_index(drop=True)


def firms(mirror: Mirror) -> list[str]:
    """Every trading firm (an invoice party, a payable debtor or a holder)."""
    names: set[str] = set(mirror.invoices["seller"]) | set(mirror.invoices["buyer"]) | set(mirror.payables["debtor"])
    names |= set(mirror.orgs["address"])
    roles = mirror.roles
    lenders = set(roles.loc[roles["role_name"] == "LENDER", "account"])
    others = set(roles.loc[roles["role_name"].isin(NON_FIRM_ROLES), "account"])
    return sorted(names - lenders - others)
