"""Alembic environment of the API's own tables (the audit log, the offer book): their own version table,
``api_alembic_version``, so they migrate independently of the indexer's mirror and the risk tables, in
whichever database the audit log lives (the mirror's by default, or ``SCF_AUDIT_DB_URL``). Applied by
:func:`api.audit.upgrade` when the app starts.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import api.routes.offers  # noqa: F401 - puts api_offer on the API's metadata
from api.audit import metadata

config = context.config
target_metadata = metadata
VERSION_TABLE = "api_alembic_version"
_OURS = set(metadata.tables)


def _include(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in _OURS


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      version_table=VERSION_TABLE, include_object=_include)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
