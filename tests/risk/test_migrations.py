"""The risk tables come from their own Alembic chain, which matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from indexer.db import upgrade as upgrade_mirror
from risk.models import RISK_TABLES
from risk.models import upgrade as upgrade_risk


def test_risk_migrations_match_models_and_leave_the_mirror_alone(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite")
    upgrade_mirror(engine)
    upgrade_risk(engine)
    upgrade_risk(engine)  # idempotent
    names = set(inspect(engine).get_table_names())
    assert {m.__tablename__ for m in RISK_TABLES} <= names
    assert {"alembic_version", "risk_alembic_version"} <= names
    ours = {m.__tablename__ for m in RISK_TABLES}
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": lambda obj, name, type_, *_: (
            name in ours if type_ == "table" else getattr(getattr(obj, "table", None), "name", None) in ours)})
        assert compare_metadata(context, SQLModel.metadata) == []
