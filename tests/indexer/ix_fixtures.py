"""Fixtures of the indexer suite (imported by its test modules with ``from ix_fixtures import *``: a
conftest.py here would take the module name ``conftest`` from tests/conftest.py, whose helpers other test
modules import by that name): database URLs (SQLite files, and PostgreSQL databases created per
test when SCF_TEST_POSTGRES_URL names a server) and an indexer factory over the session chain."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

from indexer import Indexer
from indexer.engine import iter_rows
from indexer.models import MIRRORED, RawLog
from ledger.client import Ledger

__all__ = ["db_url", "make_indexer", "new_db"]
POSTGRES_ENV = "SCF_TEST_POSTGRES_URL"
ALL_TABLES = [*MIRRORED, RawLog]


def _postgres_server() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def new_db(request, tmp_path) -> Iterator[Callable[[], str]]:  # type: ignore[no-untyped-def]
    """A factory of fresh, empty databases of the parametrized kind."""
    created: list[str] = []
    server = _postgres_server()
    if request.param == "postgres" and not server:
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV}=postgresql+psycopg://user:pass@host/db")
    admin = create_engine(server, isolation_level="AUTOCOMMIT") if request.param == "postgres" else None

    def make() -> str:
        if admin is None:
            created.append(f"sqlite:///{tmp_path}/mirror-{len(created)}.db")
            return created[-1]
        name = f"scf_ix_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return admin.url.set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in created:  # database names
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db_url(new_db) -> str:  # type: ignore[no-untyped-def]
    return new_db()


@pytest.fixture
def make_indexer(ledger: Ledger, anvil) -> Iterator[Callable[..., Indexer]]:  # type: ignore[no-untyped-def]
    made: list[Indexer] = []

    def make(db_url: str, **options) -> Indexer:  # type: ignore[no-untyped-def]
        options.setdefault("confirmations", 6)
        options.setdefault("poll_interval", 0.05)
        indexer = Indexer(options.pop("rpc_url", anvil.url), db_url, ledger.deployment, **options)
        made.append(indexer)
        return indexer

    yield make
    for indexer in made:
        indexer.stop()
        indexer.close()


def fresh_deployment(url: str, actors) -> Ledger:  # type: ignore[no-untyped-def]
    """The system deployed on another chain with the roles and members of tests/conftest.py's deployment."""
    import time

    from ledger.chain import Chain
    from ledger.deployment import deploy_system
    from ledger.roles import Role

    chain = Chain(url)
    ledger = Ledger(chain, deploy_system(chain, actors.admin, kyc_registrars=(actors.registrar.address,)))
    ledger.as_admin(actors.admin).grant(Role.SYSTEM, actors.system.address)
    registrar = ledger.as_registrar(actors.registrar)
    until = int(time.time()) + 3650 * 86400
    for account, role in ((actors.core, Role.CORE_ENTERPRISE), (actors.core2, Role.CORE_ENTERPRISE),
                          (actors.supplier, Role.SUPPLIER), (actors.supplier2, Role.SUPPLIER),
                          (actors.supplier3, Role.SUPPLIER), (actors.lender, Role.LENDER),
                          (actors.regulator, Role.REGULATOR), (actors.auditor, Role.AUDITOR)):
        registrar.admit(account.address, f"org-{account.address[-6:]}", [role], until)
    return ledger


def mine(ledger: Ledger, blocks: int, step: int = 200) -> None:
    """Mine empty blocks in small steps (anvil mines a few hundred a second; one call must not time out)."""
    while blocks > 0:
        ledger.chain.w3.provider.make_request("anvil_mine", [hex(min(step, blocks))])
        blocks -= step


def rows_of(indexer: Indexer) -> dict[str, list[dict]]:
    return iter_rows(indexer.engine, ALL_TABLES)
