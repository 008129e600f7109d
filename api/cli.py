"""``scf audit-purge``: apply the audit log's retention now (a running API's writer also does it, hourly).
Register on ``scf`` with ``app.command("audit-purge")(api.cli.audit_purge)``."""

from __future__ import annotations

import json
import os
import time
from typing import Annotated

import typer


def audit_purge(
    days: Annotated[float, typer.Option(help="Delete audit rows of requests older than this many days.")] = 90.0,
    db: Annotated[str | None, typer.Option(help="Database URL of the audit log (default: SCF_AUDIT_DB_URL, "
                                                "else SCF_DB_URL, else the default mirror).")] = None,
) -> None:
    """Delete old rows of the API's audit log (in batches), after bringing its schema up to date."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.audit import purge, upgrade
    from indexer.db import make_engine

    if not days > 0:
        raise typer.BadParameter("days must be a positive number", param_hint="--days")
    url = db or os.environ.get("SCF_AUDIT_DB_URL") or os.environ.get("SCF_DB_URL") or "sqlite:///.data/index.db"
    try:
        engine = make_engine(url)
        upgrade(engine)
        deleted = purge(engine, time.time() - days * 86400)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        typer.echo(f"error: the audit log at {url} cannot be purged: {reason}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"deleted": deleted, "older_than_days": days}))
