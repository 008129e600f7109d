"""Alembic environment of the risk tables: their own version table in the mirror's database, so the
indexer's schema and the risk schema migrate independently (data flows one way: mirror -> risk)."""

from __future__ import annotations

from sqlmodel import SQLModel

from indexer.alembic_env import run
from risk.models import RISK_TABLES

run(SQLModel.metadata, version_table="risk_alembic_version", tables={model.__tablename__ for model in RISK_TABLES})
