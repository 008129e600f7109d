"""Alembic environment: runs on the connection indexer.db.upgrade passes, or on -x url=... / alembic.ini."""

from __future__ import annotations

from sqlmodel import SQLModel

import indexer.models  # noqa: F401  (registers the tables)
from indexer.alembic_env import run

run(SQLModel.metadata)
