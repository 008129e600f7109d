"""``scf audit-purge`` (api.cli.audit_purge): deletes only rows past the retention; a clear one-line error
and exit code otherwise."""

from __future__ import annotations

import json
import time

import typer
from sqlalchemy import insert, select
from typer.testing import CliRunner

from api.audit import api_audit, upgrade
from api.cli import audit_purge
from indexer.db import make_engine

DAY = 86400


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("audit-purge")(audit_purge)
    app.command("other")(lambda: None)  # two commands: the app keeps its sub-command names
    return app


def test_purges_rows_older_than_the_given_days(tmp_path):
    url = f"sqlite:///{tmp_path}/audit.db"
    engine = make_engine(url)
    upgrade(engine)
    now = time.time()
    with engine.begin() as conn:
        conn.execute(insert(api_audit), [
            {"at": now - age * DAY, "method": "GET", "path": f"/{age}", "route": None, "status": 200, "caller": None,
             "duration_ms": 1.0} for age in (400, 200, 31, 29, 1)])
    result = CliRunner().invoke(_app(), ["audit-purge", "--days", "30", "--db", url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"deleted": 3, "older_than_days": 30.0}
    with engine.connect() as conn:
        assert sorted(conn.execute(select(api_audit.c.path)).scalars()) == ["/1", "/29"]


def test_bad_days_and_an_unusable_database_exit_with_one_line(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(_app(), ["audit-purge", "--days", "0", "--db", f"sqlite:///{tmp_path}/a.db"])
    assert bad.exit_code == 2 and "days must be a positive number" in bad.output
    (tmp_path / "not-a-db").write_bytes(b"this is not a SQLite file" * 100)
    broken = runner.invoke(_app(), ["audit-purge", "--db", f"sqlite:///{tmp_path}/not-a-db"])
    assert broken.exit_code == 1
    lines = broken.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the audit log at ") and "file is not a database" in lines[0]
