"""The audit log's schema (its own Alembic chain) and retention (old rows deleted in batches, never a
row still queued)."""

from __future__ import annotations

import threading
import time

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, func, insert, inspect, select

from api.audit import AuditRow, AuditWriter, api_audit, metadata, purge, upgrade
from indexer.db import make_engine
from indexer.db import upgrade as upgrade_mirror
from risk.models import upgrade as upgrade_risk

DAY = 86400


def _row(at: float, path: str = "/x") -> dict:
    return {"at": at, "method": "GET", "path": path, "route": None, "status": 200, "caller": None,
            "duration_ms": 1.0}


def _paths(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(api_audit.c.path).order_by(api_audit.c.id)).scalars())


def test_migrations_match_the_table_and_live_beside_the_mirror_and_risk_chains(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    upgrade_mirror(engine)
    upgrade_risk(engine)
    upgrade(engine)
    upgrade(engine)  # idempotent
    names = set(inspect(engine).get_table_names())
    assert {"api_audit", "api_alembic_version", "risk_alembic_version", "alembic_version"} <= names
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM api_alembic_version").scalar_one() == "0003"
        context = MigrationContext.configure(conn, opts={"include_object": lambda obj, name, type_, *_: (
            name == "api_audit" if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
            == "api_audit")})
        assert compare_metadata(context, metadata) == []
    assert {i["name"] for i in inspect(engine).get_indexes("api_audit")} == {"ix_api_audit_at", "ix_api_audit_caller"}


def test_a_table_made_before_the_chain_is_adopted_with_its_rows(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/old.sqlite")
    metadata.create_all(engine, tables=[api_audit])  # how the API made the table before it had migrations
    with engine.begin() as conn:
        conn.execute(insert(api_audit), [_row(1.0, "/old")])
    AuditWriter(engine).close()  # a writer brings the schema up to date
    assert _paths(engine) == ["/old"]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM api_alembic_version").scalar_one() == "0003"


def test_purge_deletes_only_rows_older_than_the_cutoff_in_batches(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/audit.sqlite")
    upgrade(engine)
    now = time.time()
    rows = [_row(now - 100 * DAY + i, f"/old/{i}") for i in range(11)] + [_row(now - i, f"/new/{i}") for i in range(5)]
    rows.insert(3, _row(now - 30 * DAY + 1, "/edge"))  # just inside a 30-day retention
    with engine.begin() as conn:
        conn.execute(insert(api_audit), rows)
    statements = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.startswith("DELETE"):
            statements.append(statement)

    assert purge(engine, now - 30 * DAY, batch_rows=4) == 11
    assert len(statements) == 3  # 4 + 4 + 3 rows
    assert _paths(engine) == ["/edge", *(f"/new/{i}" for i in range(5))]
    assert purge(engine, now - 30 * DAY, batch_rows=4) == 0


def test_the_writer_applies_retention_and_never_loses_a_queued_row(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/audit.sqlite")
    upgrade(engine)
    now = time.time()
    with engine.begin() as conn:
        conn.execute(insert(api_audit), [_row(now - 10 * DAY + i, f"/expired/{i}") for i in range(50)])
    writer = AuditWriter(engine, batch_size=5, flush_seconds=0.01, retention_seconds=DAY, purge_seconds=0)

    def produce(k: int) -> None:  # recent rows arrive while the writer purges after every flush
        for i in range(100):
            writer.submit(AuditRow(at=time.time(), method="GET", path=f"/{k}/{i}", route=None, status=200, caller=None,
                                   duration_ms=0.0))

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    paths = _paths(engine)
    assert not [p for p in paths if p.startswith("/expired/")]
    assert sorted(paths) == sorted(f"/{k}/{i}" for k in range(3) for i in range(100))
    assert (writer.written, writer.purged) == (300, 50)


def test_without_retention_nothing_is_deleted(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/audit.sqlite")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(api_audit), [_row(1.0, "/ancient")])
    writer = AuditWriter(engine, flush_seconds=0.01, purge_seconds=0)
    writer.submit(AuditRow(at=time.time(), method="GET", path="/now", route=None, status=200, caller=None,
                           duration_ms=0.0))
    writer.close()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(api_audit)).scalar_one() == 2


def _upgrade_in_a_process(url: str, start) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    start.wait()  # all at once, as uvicorn's workers start
    upgrade(engine)


def test_workers_starting_together_on_a_fresh_database_all_come_up(tmp_path):
    """`scf serve --workers N`: every worker upgrades the API's tables at start; the losers of the race retry
    instead of dying (one did, and the service ran on fewer workers)."""
    import multiprocessing

    url = f"sqlite:///{tmp_path}/fresh.sqlite"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(6)
    workers = [context.Process(target=_upgrade_in_a_process, args=(url, start)) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * 6
    with make_engine(url).connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM api_alembic_version").scalar_one() == "0003"
