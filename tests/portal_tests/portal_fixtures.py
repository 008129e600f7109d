"""Fixtures of the portal suites (imported with ``from portal_fixtures import *``; a conftest.py here would
clash with tests/conftest.py): an app over the session deployment with a mirror, portal sign-in as any
key, and (in portal_browser.py) the browser stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ONE, issue_claim
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from indexer import Indexer

__all__ = ["portal_client", "portal_sign_in", "world"]


@pytest.fixture
def portal_client(ledger, anvil, tmp_path) -> TestClient:  # type: ignore[no-untyped-def]
    settings = Settings(rpc_url=anvil.url, manifest=Path("unused.json"), secret=b"portal-test-secret-0123456789abc",
                        db_url=f"sqlite:///{tmp_path}/mirror.db")
    return TestClient(create_app(settings, ledger=ledger), follow_redirects=False)


def portal_sign_in(client: TestClient, account) -> None:  # type: ignore[no-untyped-def]
    """Sign in the way the page script does: portal message, wallet signature, /auth/login, session cookie."""
    client.cookies.clear()
    message = client.post("/portal/signin/message", json={"address": account.address}).json()["message"]
    signature = account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
    login = client.post("/auth/login", json={"message": message, "signature": signature})
    assert login.status_code == 200, login.text
    opened = client.post("/portal/session", json={"token": login.json()["token"]})
    assert opened.status_code == 200, opened.text


@pytest.fixture
def world(portal_client, ledger, actors) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A payable of core to supplier split on to supplier3, one of core2 to supplier2; indexed."""
    slot, token = issue_claim(ledger, actors, 1000 * ONE)
    slot2, token2 = issue_claim(ledger, actors, 300 * ONE, holder=actors.supplier2, core=actors.core2)
    t2, _ = ledger.as_member(actors.supplier).split(token, actors.supplier3.address, 100 * ONE)
    settings = portal_client.app.state.settings
    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0,
            engine=portal_client.app.state.engine).sync()
    return {"slot": slot, "token": token, "slot2": slot2, "token2": token2, "t2": t2}
