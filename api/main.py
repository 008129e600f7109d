"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors, portal
from api.audit import AuditWriter
from api.auth import NonceStore
from api.config import Settings
from api.members import Members
from api.observe import Metrics, ObserveMiddleware
from api.routes import (
    auth,
    evidence,
    health,
    history,
    holdings,
    lending,
    metrics,
    offers,
    oversight,
    profiles,
    receipts,
    records,
    risk,
    tx,
)
from indexer.db import make_engine
from ledger.chain import Chain
from ledger.client import Ledger
from ledger.deployment import load_manifest


def create_app(settings: Settings | None = None, ledger: Ledger | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment) and the deployment of the
    manifest on its chain (or an already connected ``ledger``)."""
    settings = settings or Settings.from_env()
    if ledger is None:
        chain = Chain(settings.rpc_url)
        ledger = Ledger(chain, load_manifest(settings.manifest, chain.chain_id))
    engine = make_engine(settings.db_url)
    audit_engine = make_engine(settings.audit_db_url) if settings.audit_db_url else engine
    retention = settings.audit_retention_days * 86400 if settings.audit_retention_days else None
    audit = AuditWriter(audit_engine, batch_size=settings.audit_batch_rows, flush_seconds=settings.audit_flush_seconds,
                        max_queue=settings.audit_queue_rows, retention_seconds=retention)
    members = Members(ledger, settings.member_refresh_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.freeze_heap:  # what exists now lives as long as the app: a full collection scanning it took
            gc.collect()  # 130-200 ms, a latency spike (bench/api.py); frozen, the collector skips it
            gc.freeze()
        yield
        members.close()
        audit.close()  # flush every queued audit row before the process ends

    app = FastAPI(
        lifespan=lifespan,
        title="scf-ledger API",
        version="0.1.0",
        description="Supply-chain finance on a consortium chain: relay of members' own signed transactions, "
        "sign-in with Ethereum, reads of the ledger's SQL mirror and risk tables, an audit log and metrics.",
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.nonces = NonceStore(settings.nonce_ttl, settings.secret, audit_engine)  # its table: with the audit log
    app.state.members = members
    app.state.engine = engine
    app.state.audit = audit
    app.state.metrics = Metrics()
    errors.install(app)
    errors.install_mirror_errors(app)
    errors.limit_body_size(app, settings.max_body_bytes)
    app.add_middleware(ObserveMiddleware, audit=audit, metrics=app.state.metrics)  # outermost: sees every response
    for router in (health.router, metrics.router, auth.router, tx.router, holdings.router, records.router,
                   risk.router, evidence.router, lending.router, oversight.router, history.router,
                   receipts.router, offers.router, profiles.router):
        app.include_router(router)
    app.include_router(portal.router)
    app.mount("/portal/static", portal.static, name="portal-static")
    return app
