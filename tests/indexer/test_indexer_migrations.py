"""The mirror's Alembic chain builds exactly the models' schema (SQLite and PostgreSQL), and 0002 adds
the block timestamp to history rows already mirrored."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from ix_fixtures import *  # noqa: F403  (fixtures)
from sqlalchemy import insert, select
from sqlmodel import SQLModel

from indexer.db import make_engine, upgrade
from indexer.models import MIRRORED, BlockRecord, ChangeLog, Checkpoint, RawLog, ValueMove

_OURS = {m.__table__.name for m in (*MIRRORED, RawLog, Checkpoint, BlockRecord, ChangeLog)}


def _ours(obj, name, type_, *_) -> bool:  # type: ignore[no-untyped-def]
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in _OURS


def test_migrations_match_the_models(db_url) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _ours, "compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()


def test_0002_gives_kept_history_rows_their_block_timestamp(db_url) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    moves, blocks = ValueMove.__table__, BlockRecord.__table__
    old = {"final": True, "tx_hash": "0x01", "slot": 1, "from_token_id": 0, "to_token_id": 10**9 + 1, "value": 5,
           "kind": 0}
    with engine.begin() as conn:
        conn.execute(insert(blocks), [{"number": 7, "hash": "0x07", "parent_hash": "0x06", "timestamp": 1_700_000_070}])
        conn.execute(insert(moves), [{**old, "block_number": 7, "log_index": 0},
                                     {**old, "block_number": 3, "log_index": 0}])
    upgrade(engine)
    with engine.connect() as conn:
        stamps = dict(conn.execute(select(moves.c.block_number, moves.c.block_timestamp)).all())
    assert stamps == {7: 1_700_000_070, 3: 0}  # block 3 is no longer kept: unknown (0)
    engine.dispose()

