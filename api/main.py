"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.auth import NonceStore
from api.config import Settings
from api.routes import auth, health, holdings, tx
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
    app = FastAPI(
        title="scf-ledger API",
        version="0.1.0",
        description="Supply-chain finance on a consortium chain: relay of members' own signed transactions, "
        "sign-in with Ethereum, and reads of the ledger.",
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.nonces = NonceStore(settings.nonce_ttl)
    app.state.engine = make_engine(settings.db_url)
    errors.install(app)
    errors.limit_body_size(app, settings.max_body_bytes)
    for router in (health.router, auth.router, tx.router, holdings.router):
        app.include_router(router)
    return app
