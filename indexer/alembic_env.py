"""The Alembic environment of all three migration chains (the mirror's, risk's, the API's): each chain's
``env.py`` calls :func:`run` with its metadata, its own version table and the tables it owns, so the chains
share a database and migrate independently. Runs on the connection ``config.attributes["connection"]``
(how the packages upgrade themselves) or on ``-x url=...`` / ``sqlalchemy.url`` (the ``alembic`` CLI)."""

from __future__ import annotations

from collections.abc import Collection

from alembic import context
from sqlalchemy import MetaData, create_engine


def run(metadata: MetaData, *, version_table: str = "alembic_version", tables: Collection[str] | None = None) -> None:
    """Run the chain's migrations for ``metadata``; with ``tables``, autogenerate sees only those."""

    def include(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
        if tables is None:
            return True
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in tables

    def run_on(connection) -> None:  # type: ignore[no-untyped-def]
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                          version_table=version_table, include_object=include)
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as conn:
        run_on(conn)
        conn.commit()
