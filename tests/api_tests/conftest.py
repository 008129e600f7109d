"""An API app over the session deployment, and a helper to sign in as any key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from api.auth import SiweMessage
from api.config import Settings
from api.main import create_app


@pytest.fixture
def settings(anvil, tmp_path) -> Settings:
    return Settings(rpc_url=anvil.url, manifest=Path("unused.json"), secret=b"test-secret-0123456789abcdef0123",
                    max_body_bytes=64 * 1024, db_url=f"sqlite:///{tmp_path}/mirror.db")


@pytest.fixture
def client(ledger, settings) -> TestClient:
    return TestClient(create_app(settings, ledger=ledger))


def siwe_text(client: TestClient, address: str, *, nonce: str | None = None, domain: str = "localhost",
              chain_id: int = 31337) -> str:
    nonce = nonce or client.get("/auth/nonce").json()["nonce"]
    message = SiweMessage(
        domain=domain, address=address, uri=f"http://{domain}/login", version="1", chain_id=chain_id,
        nonce=nonce, issued_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        statement="Sign in to scf-ledger",
    )
    return message.prepare_message()


def sign_in(client: TestClient, account, *, address: str | None = None) -> dict[str, str]:
    """Sign in with ``account``'s key (for ``address``, a wallet it signs for); returns auth headers."""
    text = siwe_text(client, address or account.address)
    signature = account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
    response = client.post("/auth/login", json={"message": text, "signature": signature})
    assert response.status_code == 200, response.json()
    return {"Authorization": f"Bearer {response.json()['token']}"}
